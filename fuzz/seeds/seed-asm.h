/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Included by arch/<arch>/seeds.S: BEGIN/END name define
 * fz_seed_<name>_start and _end (seeds/seed-list.h names them); NONE name is
 * a seed this arch cannot express (empty). Seeds are data, never linked as
 * code: .rodata.
 */
#include <asm/unistd.h>
#include "fuzz-abi.h"

#define BLOB_PREFIX fz_seed
#include "blob-asm.h"

	.section .rodata.fz_seeds, "a"
