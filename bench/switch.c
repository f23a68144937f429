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
 *
 * switch/systrap_spin and switch/systrap_futex run the same loop on the
 * systrap backend, whose placement decides the hand-off: systrap_spin opens
 * the platform with two CPUs allowed (the core pins the stub thread on the
 * other one and both sides spin up to 20 us before they sleep; it skips
 * with fewer CPUs or with pinning off), systrap_futex with this thread
 * pinned to one CPU, which the platform's processes inherit (both threads
 * there, futex only). Both report spin_share (the hand-offs, both sides,
 * that ended within the spin) and ptrace_calls per switch, which must be 0.
 * Every variant reports tracer_cpu_ns and stub_cpu_ns (time on CPU per
 * round trip, schedstat), so that the ladder compares the backends by CPU
 * as well as by latency.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "payloads.h"
#include "ptplat.h"

#define SW_CODE 0x10000000ul
#define SW_BATCH 16
/* Per-switch samples: ~10 s of 10 us switches. */
#define SW_SAMPLES (1u << 20)
#define SW_RESULT 4242

enum sw_placement {
	SW_CORE,         /* as --ptbench_pin says: pinned beside the tracer */
	SW_SYSTRAP_SPIN, /* two CPUs allowed, the core places */
	SW_SYSTRAP_FUTEX /* this thread, and so the platform, on one CPU */
};

struct sw_variant {
	const char *name;
	enum ptp_switch_mode mode;
	const char *backend; /* NULL: --ptbench_backend */
	enum sw_placement placement;
};

/* Where a systrap variant runs, before the platform opens: 0, or -1 with
 * the reason in err (a skip). */
static int sw_place(const struct sw_variant *v, struct bench_pinning *ps, char *label,
		    size_t labellen, char *err, size_t errlen)
{
	int cpus[2], n = bench_allowed_cpus(cpus, 2);

	if (n < 1) {
		snprintf(err, errlen, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	if (v->placement == SW_SYSTRAP_SPIN) {
		if (n < 2) {
			snprintf(err, errlen, "only one CPU allowed: a spinning hand-off needs "
					      "two (switch/systrap_futex is the one-CPU figure)");
			return -1;
		}
		if (!bench_config.pin) {
			snprintf(err, errlen, "--ptbench_pin=off: the systrap backend places "
					      "its threads only when it may pin them");
			return -1;
		}
		snprintf(label, labellen, "systrap spin, 2 CPUs allowed");
		return 0;
	}
	snprintf(label, labellen, "systrap futex, pinned cpu%d", cpus[0]);
	return bench_pin_self_saving(ps, cpus[0], err, errlen);
}

static void bm_switch(gb_state *st, void *arg)
{
	const struct sw_variant *v = arg;
	const char *name = v->name;
	struct bench_samples s = { 0 };
	uint64_t t_start = 0, t_prev = 0, n = 0, prev, sink = 0, cpu0[2] = { 0 }, cpu1[2];
	char label[64], err[320];
	const struct bench_core_env_spec spec = {
		.mode = ptp_mode_name(v->mode),
		.backend = v->backend,
		.reuse_pool = true,
		.payload = payload_get(PAYLOAD_SYSCALL_LOOP),
		.code = SW_CODE,
	};
	struct bench_pinning ps = { 0 };
	struct bench_core_env e;
	struct ptp_stats st0, st1;
	struct ptp_event ev;
	pid_t self = (pid_t)syscall(SYS_gettid);
	int rc;

	if (v->placement == SW_CORE) {
		bench_core_label(label, sizeof(label), spec.mode);
		bench_pin_self_if_enabled(&ps, -1);
	} else if (sw_place(v, &ps, label, sizeof(label), err, sizeof(err)) < 0) {
		gb_skip_with_error(st, err);
		goto out;
	}
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

	ptp_stats(e.p, &st0);
	while (gb_keep_running_batch(st, SW_BATCH)) {
		if (!t_start) {
			t_start = t_prev = bench_now_ns();
			cpu0[0] = bench_thread_cpu_ns(getpid(), self);
			cpu0[1] = bench_thread_cpu_ns(ptp_as_pid(e.as), ptp_ctx_tid(e.ctx));
		}
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
	cpu1[0] = bench_thread_cpu_ns(getpid(), self);
	cpu1[1] = bench_thread_cpu_ns(ptp_as_pid(e.as), ptp_ctx_tid(e.ctx));
	ptp_stats(e.p, &st1);
	if (!gb_error_occurred(st)) {
		/* Keeps the argument reads. */
		__asm__ volatile("" : : "r"(sink));
		bench_finish(st, t_prev - t_start, n, label);
		gb_counter(st, "fpstate_bytes", (double)ptp_caps(e.p)->fpstate_size,
			   GB_COUNTER_DEFAULT);
		if (v->placement != SW_CORE && n) {
			bench_spin_share_counter(st, &st0, &st1);
			gb_counter(st, "ptrace_calls",
				   (double)(st1.ptrace_calls - st0.ptrace_calls) / (double)n,
				   GB_COUNTER_DEFAULT);
		}
		bench_cpu_counters(st, cpu0, cpu1, n);
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
	static const struct sw_variant variants[] = {
		{ "switch/faithful", PTP_MODE_FAITHFUL, NULL, SW_CORE },
		{ "switch/lean", PTP_MODE_LEAN, NULL, SW_CORE },
		{ "switch/systrap_spin", PTP_MODE_FAITHFUL, "systrap", SW_SYSTRAP_SPIN },
		{ "switch/systrap_futex", PTP_MODE_FAITHFUL, "systrap", SW_SYSTRAP_FUTEX },
	};

	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++)
		gb_use_real_time(gb_register(variants[i].name, bm_switch,
					     (void *)(uintptr_t)&variants[i]));
}
