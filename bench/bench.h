/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the benchmark families: registration hooks, pinning, timing,
 * latency samples and the overhead-over-native counters. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shim/gbench.h"

/* One per family file; main.c calls them all. */
void bench_register_native(void);
void bench_register_mechanism(void);
void bench_register_floor(void);
void bench_register_mem(void);
void bench_register_switch(void);
void bench_register_map(void);
void bench_register_pool(void);
void bench_register_interrupt(void);

/* Run-wide settings (from --ptbench_mode=, --ptbench_pin=). */
struct bench_config {
	const char *mode; /* "faithful" or "lean": core benchmarks that are
			   * not per-mode use it */
	bool pin;         /* pin traced threads (core option) and the
			   * benchmark's own processes as each family says */
};
extern struct bench_config bench_config;

uint64_t bench_now_ns(void);
/* Pins the calling thread (or pid, 0 = self) to one CPU; 0 or -errno. */
int bench_pin(pid_t tid, int cpu);
int bench_current_cpu(void);
int bench_ncpus(void);

/* Native getpid cost in ns, measured once at start-up (the yardstick for
 * the overhead counters). */
extern double bench_native_ns;
double bench_measure_native_ns(void);

/*
 * Ends a benchmark whose loop the caller timed: total_ns over iterations.
 * Adds the counters over_native_x and over_native_ns, and the label (the
 * pinning, and the mode where given).
 */
void bench_finish(gb_state *st, uint64_t total_ns, uint64_t iterations,
		  const char *label);

/* Latency samples for percentiles: ns values, fixed capacity. */
struct bench_samples {
	uint64_t *v;
	size_t n, cap;
};
int bench_samples_init(struct bench_samples *s, size_t cap);
void bench_samples_add(struct bench_samples *s, uint64_t ns);
/* Adds p50_ns, p99_ns, p999_ns counters and, when PTBENCH_SAMPLES_DIR is
 * set, writes the samples to DIR/<name with / as _>.txt (one per line). */
void bench_samples_report(gb_state *st, struct bench_samples *s, const char *name);
void bench_samples_free(struct bench_samples *s);

#endif /* BENCH_H */
