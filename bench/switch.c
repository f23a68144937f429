/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The switch family: the core's round trip as a sandbox uses it. The app is
 * PAYLOAD_SYSCALL_LOOP (getpid forever, arg5 counting completed syscalls);
 * every iteration switches, checks that a syscall was intercepted, reads the
 * number and the six arguments and writes a result. arg5 must grow by exactly
 * one per switch: a syscall the kernel ran natively would make it jump.
 *
 * The mode comes from the name (switch/faithful, switch/lean), not from
 * --ptbench_mode. With pinning on, the tracer thread is pinned to the CPU it
 * is on and the core pins the traced thread beside it.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#include "bench.h"
#include "payloads.h"
#include "ptplat.h"

#define SW_CODE 0x10000000ul
#define SW_BATCH 16
/* Per-switch samples: ~10 s of 10 us switches. */
#define SW_SAMPLES (1u << 20)
#define SW_RESULT 4242

static void bm_switch(gb_state *st, void *arg)
{
	enum ptp_switch_mode mode = (enum ptp_switch_mode)(intptr_t)arg;
	const char *name = mode == PTP_MODE_LEAN ? "switch/lean" : "switch/faithful";
	struct bench_samples s = { 0 };
	uint64_t t_start = 0, t_prev = 0, n = 0, prev, sink = 0;
	char label[64], err[320];
	const struct bench_core_env_spec spec = {
		.mode = ptp_mode_name(mode),
		.reuse_pool = true,
		.payload = payload_get(PAYLOAD_SYSCALL_LOOP),
		.code = SW_CODE,
	};
	struct bench_pinning ps;
	struct bench_core_env e;
	struct ptp_event ev;
	int rc;

	bench_core_label(label, sizeof(label), spec.mode);
	bench_pin_self_if_enabled(&ps, -1);
	if (bench_core_env_open(&e, &spec, err, sizeof(err)) < 0) {
		gb_skip_with_error(st, err);
		goto out;
	}
	ptp_ctx_set_arg(e.ctx, 5, 0); /* the payload's count of completed syscalls */
	/* Warm-up outside the loop: creates this thread's traced thread. */
	rc = ptp_switch(e.ctx, e.as, &ev);
	if (rc < 0 || ev.kind != PTP_EV_SYSCALL) {
		snprintf(err, sizeof(err), "warm-up switch: %s (event %d)",
			 rc < 0 ? strerror(-rc) : "not a syscall", (int)ev.kind);
		gb_skip_with_error(st, err);
		goto out_env;
	}
	prev = ptp_ctx_arg(e.ctx, 5);
	ptp_ctx_set_result(e.ctx, SW_RESULT);
	if (bench_samples_init(&s, SW_SAMPLES) < 0) {
		gb_skip_with_error(st, "samples: out of memory");
		goto out_env;
	}

	while (gb_keep_running_batch(st, SW_BATCH)) {
		if (!t_start)
			t_start = t_prev = bench_now_ns();
		for (int i = 0; i < SW_BATCH; i++) {
			uint64_t args[6], t;
			long nr;

			rc = ptp_switch(e.ctx, e.as, &ev);
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_switch: %s", strerror(-rc));
				gb_skip_with_error(st, err);
				break;
			}
			if (ev.kind != PTP_EV_SYSCALL) {
				snprintf(err, sizeof(err),
					 "switch returned event %d, not a syscall "
					 "(signal %d)", (int)ev.kind, ev.info.si_signo);
				gb_skip_with_error(st, err);
				break;
			}
			nr = ptp_ctx_syscall_nr(e.ctx);
			for (unsigned int a = 0; a < 6; a++)
				args[a] = ptp_ctx_arg(e.ctx, a);
			if (nr != SYS_getpid || args[5] != prev + 1) {
				snprintf(err, sizeof(err),
					 "not intercepted: nr %ld, completed syscalls "
					 "%llu after %llu (expected +1)", nr,
					 (unsigned long long)args[5],
					 (unsigned long long)prev);
				gb_skip_with_error(st, err);
				break;
			}
			prev = args[5];
			sink += args[0] ^ args[1] ^ args[2] ^ args[3] ^ args[4];
			ptp_ctx_set_result(e.ctx, SW_RESULT);
			t = bench_now_ns();
			bench_samples_add(&s, t - t_prev);
			t_prev = t;
			n++;
		}
	}
	if (!gb_error_occurred(st)) {
		/* Keeps the argument reads. */
		__asm__ volatile("" : : "r"(sink));
		bench_finish(st, t_prev - t_start, n, label);
		gb_counter(st, "fpstate_bytes", (double)ptp_caps(e.p)->fpstate_size,
			   GB_COUNTER_DEFAULT);
		bench_samples_report(st, &s, name);
	}
	bench_samples_free(&s);
out_env:
	bench_core_env_close(&e);
out:
	bench_unpin_self(&ps);
}

void bench_register_switch(void)
{
	gb_use_real_time(gb_register("switch/faithful", bm_switch,
				     (void *)(intptr_t)PTP_MODE_FAITHFUL));
	gb_use_real_time(gb_register("switch/lean", bm_switch,
				     (void *)(intptr_t)PTP_MODE_LEAN));
}
