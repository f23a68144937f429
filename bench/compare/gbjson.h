/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reader for Google Benchmark (1.7.x) JSON output, as ptbench-compare
 * needs it: the per-repetition real_time of each benchmark, in ns.
 *
 * Rows are grouped by run_name (name for files that predate run_name).
 * Rows with run_type "aggregate" give no samples; their median and
 * repetitions only cross-check the iteration rows, so that a file whose
 * aggregates disagree with its own samples (concatenated runs, hand
 * edits) is refused rather than compared.  cpu_time is never read: a
 * tracer's cost is mostly in the other process and in the kernel, where
 * cpu_time of the benchmark thread does not see it.
 *
 * Problems with the file itself (not JSON, no benchmarks array, a row
 * without a name, real_time or a known time_unit, a non-positive time,
 * a repeated repetition_index, aggregates that disagree) fail the whole
 * load.  Problems of one benchmark's run (it reported an error, it has
 * too few repetitions) are recorded on it: only the caller knows
 * whether that benchmark matters.
 */
#ifndef PTBENCH_COMPARE_GBJSON_H
#define PTBENCH_COMPARE_GBJSON_H

#include <stdbool.h>
#include <stddef.h>

struct gb_bench {
	char *run_name;
	double *ns;		/* real_time of each iteration row, in ns */
	size_t n;
	size_t cap;
	bool errored;
	char *error_message;	/* from the first errored row, or NULL */
	bool has_agg;		/* any aggregate row for this run_name */
	bool has_agg_median;
	double agg_median_ns;
	long agg_repetitions;	/* -1: not stated */
};

struct gb_file {
	struct gb_bench *b;	/* in order of first appearance */
	size_t n;
	size_t cap;
};

/* Nanoseconds per unit for Google Benchmark's time_unit strings. */
int gb_unit_to_ns(const char *unit, double *factor);

/*
 * Load path into f.  On failure returns a negative errno (-ENOENT and
 * friends for I/O, -EINVAL for content) and puts one line, without the
 * path and without a newline, into err.
 */
int gb_load(const char *path, struct gb_file *f, char *err, size_t errlen);
void gb_free(struct gb_file *f);
const struct gb_bench *gb_find(const struct gb_file *f, const char *run_name);

#endif
