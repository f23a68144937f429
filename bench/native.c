/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The native family: the yardstick every interception figure is compared
 * with. One raw syscall instruction (getpid), untraced, in this process,
 * without glibc's wrapper. Independent of the platform core.
 */
#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/arch.h"
#include "bench.h"

enum { NATIVE_BATCH = 256 };

static void bm_getpid(gb_state *st, void *arg)
{
	struct bench_pinning pin;
	char label[64], msg[256];
	long want = (long)syscall(SYS_getpid);
	uint64_t total = 0, t0, t1;

	(void)arg;
	/* The first allowed CPU, as the other independent families pin to. */
	if (bench_pin_self_first_cpu(&pin, label, sizeof(label), msg, sizeof(msg)) < 0) {
		gb_skip_with_error(st, msg);
		return;
	}

	t0 = bench_now_ns();
	while (gb_keep_running_batch(st, NATIVE_BATCH)) {
		long bad = 0;

		for (int i = 0; i < NATIVE_BATCH; i++)
			bad |= bench_arch_syscall0(SYS_getpid) ^ want;
		total += NATIVE_BATCH;
		if (bad) {
			gb_skip_with_error(st, "raw getpid returned something else than the pid");
			break;
		}
	}
	t1 = bench_now_ns();

	bench_unpin_self(&pin);
	bench_finish(st, t1 - t0, total, label);
}

void bench_register_native(void)
{
	gb_use_real_time(gb_unit(gb_register("native/getpid", bm_getpid, NULL), 'n'));
}
