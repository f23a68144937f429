/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A C face for Google Benchmark (libbenchmark-dev). Benchmarks are C
 * functions registered by name; the loop is batched so that no C++ call is
 * paid per iteration:
 *
 *	static void bm(gb_state *st, void *arg)
 *	{
 *		while (gb_keep_running_batch(st, 64))
 *			for (int i = 0; i < 64; i++)
 *				one_round_trip();
 *	}
 *	gb_use_real_time(gb_register("family/name", bm, NULL));
 *
 * Every standard --benchmark_* flag works: argv goes to
 * benchmark::Initialize. Minimum time and repetitions are set only there.
 */
#ifndef GBENCH_H
#define GBENCH_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state;
typedef struct gb_bench gb_bench;
typedef void (*gb_fn)(gb_state *st, void *arg);

/* Registration: each returns its gb_bench for chaining. */
gb_bench *gb_register(const char *name, gb_fn fn, void *arg);
gb_bench *gb_arg(gb_bench *b, int64_t x);
gb_bench *gb_arg_name(gb_bench *b, const char *name);
/* lo, lo*mult, ..., hi (Google Benchmark's RangeMultiplier + Range). */
gb_bench *gb_range(gb_bench *b, int64_t lo, int64_t hi, int mult);
gb_bench *gb_threads(gb_bench *b, int n);
gb_bench *gb_use_real_time(gb_bench *b);
gb_bench *gb_use_manual_time(gb_bench *b);
/* Time unit: 'n' ns, 'u' us, 'm' ms. */
gb_bench *gb_unit(gb_bench *b, char unit);

/* The loop: true while n more iterations should run. */
bool gb_keep_running_batch(gb_state *st, uint64_t n);
int64_t gb_range_x(gb_state *st, int i);
int gb_thread_index(gb_state *st);
int gb_thread_count(gb_state *st);
uint64_t gb_iterations(gb_state *st);

enum gb_counter_flags {
	GB_COUNTER_DEFAULT = 0,
	GB_COUNTER_RATE = 1,        /* value / time */
	GB_COUNTER_AVG_THREADS = 2, /* averaged over threads */
	GB_COUNTER_AVG_ITERATIONS = 8,
};
void gb_counter(gb_state *st, const char *name, double value, int flags);
void gb_label(gb_state *st, const char *label);
/* Manual time: seconds taken by the iterations of the last batch. */
void gb_set_iteration_time(gb_state *st, double seconds);
void gb_pause_timing(gb_state *st);
void gb_resume_timing(gb_state *st);
/* Ends the benchmark as an error (the JSON keeps it, with the message). */
void gb_skip_with_error(gb_state *st, const char *msg);
bool gb_error_occurred(gb_state *st);

/* A hook run outside the timing, on thread 0 only: with end false just
 * before the first batch of a benchmark's timed loop, with end true just
 * after the last one (when gb_keep_running_batch returns false). What it
 * measures in between describes the loop alone (the set-up and the
 * teardown stay out); counters it adds at the end go to the JSON. NULL:
 * none (the default). */
typedef void (*gb_loop_hook)(gb_state *st, bool end);
void gb_set_loop_hook(gb_loop_hook hook);

/* A key/value for the JSON "context". */
void gb_context(const char *key, const char *value);

/* benchmark::Initialize(argv), reports unknown flags (exit 2), runs what
 * was registered. Returns the process exit code. --help prints Google
 * Benchmark's flags, then calls own_help (if not NULL) for the program's
 * own, and exits 0. */
int gb_main(int argc, char **argv, void (*own_help)(void));

#ifdef __cplusplus
}
#endif

#endif /* GBENCH_H */
