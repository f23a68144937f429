/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Included by seeds/<arch>.S: BEGIN/END name define fz_seed_<name>_start and
 * _end (seeds/seed-list.h names them); NONE name is a seed this arch cannot
 * express (empty). Seeds are data, never linked as code: .rodata.
 */
#include <asm/unistd.h>
#include "fuzz-abi.h"

.macro BEGIN name
	.globl fz_seed_\name\()_start, fz_seed_\name\()_end
	.p2align 4
fz_seed_\name\()_start:
.endm
.macro END name
fz_seed_\name\()_end:
.endm
.macro NONE name
	BEGIN \name
	END \name
.endm

	.section .rodata.fz_seeds, "a"
