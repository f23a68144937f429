/* SPDX-License-Identifier: Apache-2.0 */
/*
 * For the .S files of code kept as data (stub payloads, fuzz seeds), after
 * "#define BLOB_PREFIX prefix": BEGIN/END name mark prefix_<name>_start and
 * _end; NONE name is one this arch cannot express (size 0).
 */
.macro BEGIN name
	.globl BLOB_PREFIX\()_\name\()_start, BLOB_PREFIX\()_\name\()_end
	.p2align 4
BLOB_PREFIX\()_\name\()_start:
.endm
.macro END name
BLOB_PREFIX\()_\name\()_end:
.endm
.macro NONE name
	BEGIN \name
	END \name
.endm
