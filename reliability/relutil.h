/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the reliability programs: payload loading, option parsing and
 * atomic JSON output. */
#ifndef RELUTIL_H
#define RELUTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "harness.h"

/* Where the programs put the payload in every address space. */
#define REL_CODE H_CODE

/* Maps the getpid loop read+exec at REL_CODE: 0 or -errno. */
#define rel_load_loop(as) h_try_load_at((as), REL_CODE, PAYLOAD_SYSCALL_LOOP)

/* A context at REL_CODE with the loop counter (arg5) at 0. */
int rel_loop_ctx(struct ptp_platform *p, struct ptp_ctx **out);

/* Parses a whole non-negative decimal number; false if it is not one or
 * exceeds max. */
bool rel_parse_ulong(const char *s, unsigned long max, unsigned long *out);

/* Writes the JSON to path through a temporary file and a rename (or to
 * stdout for "-"); 0 or -1 with a message on stderr. */
int rel_write_json(json_t *root, const char *path, const char *prog);

/* True if a file could be written at path (its folder is a writable
 * folder; "-" always), else false with a message naming path: a bad --json
 * fails before the run, not after it. */
bool rel_json_path_ok(const char *path, const char *prog);

/* A small deterministic generator (splitmix64): runs replay from a seed. */
uint64_t rel_rand(uint64_t *state);

#endif /* RELUTIL_H */
