/* SPDX-License-Identifier: Apache-2.0 */
/* Figures of a fuzzing run: executions, outcomes, escapes; written as JSON. */
#ifndef FUZZ_STATS_H
#define FUZZ_STATS_H

#include <stdio.h>

#include "engine.h"

#define FZ_MAX_KEYS 256
#define FZ_MAX_NR 1024

struct fz_stats {
	unsigned long execs;
	unsigned long escapes;    /* outcome escapes plus oracle violations */
	unsigned long violations; /* oracle violations */
	unsigned long hangs;
	unsigned long per_class[FZ_CLASS_COUNT];
	struct {
		char key[48];
		unsigned long n;
	} keys[FZ_MAX_KEYS];
	unsigned int nkeys;
	unsigned long syscalls;   /* emulated syscall stops */
	unsigned char nr_seen[FZ_MAX_NR]; /* first syscall numbers seen */
	unsigned long nr_other;   /* numbers outside [0, FZ_MAX_NR) */
	char first_escape[256];
};

void fz_stats_add(struct fz_stats *s, const struct fz_outcome *o);
void fz_stats_violation(struct fz_stats *s, const char *why);
unsigned int fz_stats_distinct_nrs(const struct fz_stats *s);
/* Prints the summary lines (one per outcome key) to f. */
void fz_stats_print(const struct fz_stats *s, FILE *f);
/* Writes {"executions":..., ...} plus extra (a JSON fragment of members,
 * or NULL) to path through a temp file; 0 or -errno. */
int fz_stats_write_json(const struct fz_stats *s, const char *extra,
			const char *path);

#endif /* FUZZ_STATS_H */
