/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct bench_config bench_config = { .mode = "faithful", .pin = true };
double bench_native_ns;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) < 0 ? -errno : 0;
}

int bench_current_cpu(void)
{
	return sched_getcpu();
}

int bench_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of 5 runs of 200000 raw getpid syscalls. */
double bench_measure_native_ns(void)
{
	uint64_t runs[5];

	for (int r = 0; r < 5; r++) {
		uint64_t t0 = bench_now_ns();

		for (int i = 0; i < 200000; i++)
			syscall(SYS_getpid);
		runs[r] = bench_now_ns() - t0;
	}
	qsort(runs, 5, sizeof(runs[0]), cmp_u64);
	return (double)runs[2] / 200000.0;
}

void bench_finish(gb_state *st, uint64_t total_ns, uint64_t iterations,
		  const char *label)
{
	double per;

	if (gb_error_occurred(st) || iterations == 0)
		return;
	per = (double)total_ns / (double)iterations;
	if (bench_native_ns > 0) {
		gb_counter(st, "over_native_x", per / bench_native_ns, GB_COUNTER_DEFAULT);
		gb_counter(st, "over_native_ns", per - bench_native_ns, GB_COUNTER_DEFAULT);
	}
	if (label)
		gb_label(st, label);
}

int bench_samples_init(struct bench_samples *s, size_t cap)
{
	s->v = malloc(cap * sizeof(*s->v));
	s->n = 0;
	s->cap = s->v ? cap : 0;
	return s->v ? 0 : -ENOMEM;
}

void bench_samples_add(struct bench_samples *s, uint64_t ns)
{
	if (s->n < s->cap)
		s->v[s->n++] = ns;
}

static double percentile(const struct bench_samples *s, double q)
{
	size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);

	return (double)s->v[i < s->n ? i : s->n - 1];
}

void bench_samples_report(gb_state *st, struct bench_samples *s, const char *name)
{
	const char *dir = getenv("PTBENCH_SAMPLES_DIR");

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_u64);
	gb_counter(st, "p50_ns", percentile(s, 0.50), GB_COUNTER_DEFAULT);
	gb_counter(st, "p99_ns", percentile(s, 0.99), GB_COUNTER_DEFAULT);
	gb_counter(st, "p999_ns", percentile(s, 0.999), GB_COUNTER_DEFAULT);
	if (dir) {
		char path[512], tmp[520], file[256];
		FILE *f;

		snprintf(file, sizeof(file), "%s", name);
		for (char *c = file; *c; c++)
			if (*c == '/' || *c == ':')
				*c = '_';
		snprintf(path, sizeof(path), "%s/%s.txt", dir, file);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "we");
		if (!f)
			return;
		for (size_t i = 0; i < s->n; i++)
			fprintf(f, "%llu\n", (unsigned long long)s->v[i]);
		if (fclose(f) == 0)
			rename(tmp, path);
		else
			unlink(tmp);
	}
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}
