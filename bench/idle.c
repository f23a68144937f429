/* SPDX-License-Identifier: Apache-2.0 */
/* --ptbench_idle=1: how long each benchmark's timed loop left the CPU idle,
 * and how many timer interrupts it saw. Under qemu's -icount sleep=off an
 * idle guest's clock jumps to its next timer, so a loop that waits for a
 * tick counts the wait as if it were instructions; these counters let a
 * report take the idle time out (real_time - idle_ns) and say how many
 * ticks a round trip waited. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

/* The sum over CPUs of tick_sched's idle_sleeptime (ns), from
 * /proc/timer_list: ns resolution, unlike /proc/stat's 10 ms; the cpuidle
 * files may not exist in a guest. The value of a CPU that is idle right now
 * lags (it is brought up to date when the CPU leaves idle): the CPU that
 * reads it is busy, so on one CPU the figure is exact. */
static int read_idle(uint64_t *idle_ns, uint64_t *sleeps)
{
	char line[256];
	unsigned long long v;
	int found = 0;
	FILE *f = fopen("/proc/timer_list", "re");

	if (!f)
		return -1;
	*idle_ns = *sleeps = 0;
	/* "  .%-15s: %Lu" (the name is padded: a blank in the format matches
	 * any run of them). */
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " .idle_sleeptime :%llu", &v) == 1) {
			*idle_ns += v;
			found = 1;
		} else if (sscanf(line, " .idle_sleeps :%llu", &v) == 1) {
			*sleeps += v;
		}
	}
	fclose(f);
	return found ? 0 : -1;
}

/* The local timer interrupts of every CPU from /proc/interrupts: the "LOC:"
 * line on x86, the arch_timer line on arm64. */
static int read_ticks(uint64_t *ticks)
{
	char line[4096];
	int found = 0;
	FILE *f = fopen("/proc/interrupts", "re");

	if (!f)
		return -1;
	*ticks = 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		while (*p == ' ')
			p++;
		if (strncmp(p, "LOC:", 4) && !strstr(p, "arch_timer"))
			continue;
		p = strchr(p, ':') + 1;
		for (;;) {
			unsigned long long v = strtoull(p, &end, 10);

			if (end == p)
				break;
			*ticks += v;
			p = end;
		}
		found = 1;
	}
	fclose(f);
	return found ? 0 : -1;
}

static struct {
	uint64_t idle_ns, sleeps, ticks;
	int idle_ok, ticks_ok;
} at_start;

static void idle_hook(gb_state *st, bool end)
{
	uint64_t idle_ns = 0, sleeps = 0, ticks = 0, n;
	int idle_ok = read_idle(&idle_ns, &sleeps) == 0;
	int ticks_ok = read_ticks(&ticks) == 0;

	if (!end) {
		at_start.idle_ns = idle_ns;
		at_start.sleeps = sleeps;
		at_start.ticks = ticks;
		at_start.idle_ok = idle_ok;
		at_start.ticks_ok = ticks_ok;
		return;
	}
	n = gb_iterations(st);
	if (!n)
		return;
	/* Per iteration: the counters divide by the iteration count. */
	if (idle_ok && at_start.idle_ok) {
		gb_counter(st, "idle_ns", (double)(idle_ns - at_start.idle_ns),
			   GB_COUNTER_AVG_ITERATIONS);
		gb_counter(st, "idle_sleeps", (double)(sleeps - at_start.sleeps),
			   GB_COUNTER_AVG_ITERATIONS);
	}
	if (ticks_ok && at_start.ticks_ok)
		gb_counter(st, "timer_ticks", (double)(ticks - at_start.ticks),
			   GB_COUNTER_AVG_ITERATIONS);
}

void bench_idle_counters_enable(void)
{
	gb_set_loop_hook(idle_hook);
}
