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
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
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

struct sw_pin {
	bool saved;
	cpu_set_t set;
};

/* Pins the calling thread to its current CPU (pinning on); sw_unpin puts
 * the previous affinity back, as the same thread runs later benchmarks. */
static void sw_pin_self(struct sw_pin *ps)
{
	int cpu;

	ps->saved = false;
	if (!bench_config.pin || sched_getaffinity(0, sizeof(ps->set), &ps->set) < 0)
		return;
	cpu = bench_current_cpu();
	if (cpu >= 0 && bench_pin(0, cpu) == 0)
		ps->saved = true;
}

static void sw_unpin(struct sw_pin *ps)
{
	if (ps->saved)
		sched_setaffinity(0, sizeof(ps->set), &ps->set);
}

struct sw_env {
	struct ptp_platform *p;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
};

static void sw_env_close(struct sw_env *e)
{
	ptp_ctx_free(e->ctx);
	if (e->as)
		ptp_as_release(e->as);
	ptp_close(e->p);
	memset(e, 0, sizeof(*e));
}

/* Platform, address space, context, payload at SW_CODE; 0 or -errno with
 * the reason in err. */
static int sw_env_open(struct sw_env *e, enum ptp_switch_mode mode, char *err,
		       size_t errlen)
{
	const struct payload *pl = payload_get(PAYLOAD_SYSCALL_LOOP);
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	struct ptp_options o;
	int fd, rc;

	memset(e, 0, sizeof(*e));
	if (!pl || pl->size == 0) {
		snprintf(err, errlen, "no syscall-loop payload on this arch");
		return -ENOSYS;
	}
	ptp_options_default(&o);
	o.mode = mode;
	o.pin = bench_config.pin;
	rc = ptp_open(&o, &e->p);
	if (rc < 0) {
		snprintf(err, errlen, "ptp_open: %s: %s", strerror(-rc), ptp_open_error());
		e->p = NULL;
		return rc;
	}
	rc = ptp_as_new(e->p, &e->as);
	if (rc < 0) {
		snprintf(err, errlen, "ptp_as_new: %s", strerror(-rc));
		e->as = NULL;
		goto fail;
	}
	rc = ptp_ctx_new(e->p, &e->ctx);
	if (rc < 0) {
		snprintf(err, errlen, "ptp_ctx_new: %s", strerror(-rc));
		e->ctx = NULL;
		goto fail;
	}
	fd = memfd_create("ptbench-switch", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, (off_t)pg) < 0 ||
	    pwrite(fd, pl->start, pl->size, 0) != (ssize_t)pl->size) {
		rc = -errno;
		snprintf(err, errlen, "payload memfd: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	rc = ptp_as_map(e->as, SW_CODE, pg, PROT_READ | PROT_EXEC, fd, 0, 0);
	close(fd);
	if (rc < 0) {
		snprintf(err, errlen, "ptp_as_map payload: %s", strerror(-rc));
		goto fail;
	}
	ptp_ctx_set_ip(e->ctx, SW_CODE);
	ptp_ctx_set_arg(e->ctx, 5, 0);
	return 0;
fail:
	sw_env_close(e);
	return rc;
}

static void bm_switch(gb_state *st, void *arg)
{
	enum ptp_switch_mode mode = (enum ptp_switch_mode)(intptr_t)arg;
	const char *name = mode == PTP_MODE_LEAN ? "switch/lean" : "switch/faithful";
	struct bench_samples s = { 0 };
	uint64_t t_start = 0, t_prev = 0, n = 0, prev, sink = 0;
	char label[64], err[320];
	struct ptp_event ev;
	struct sw_env e;
	struct sw_pin ps;
	int rc;

	snprintf(label, sizeof(label), "mode=%s pin=%s", ptp_mode_name(mode),
		 bench_config.pin ? "on" : "off");
	sw_pin_self(&ps);
	if (sw_env_open(&e, mode, err, sizeof(err)) < 0) {
		gb_skip_with_error(st, err);
		goto out;
	}
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
	sw_env_close(&e);
out:
	sw_unpin(&ps);
}

void bench_register_switch(void)
{
	gb_use_real_time(gb_register("switch/faithful", bm_switch,
				     (void *)(intptr_t)PTP_MODE_FAITHFUL));
	gb_use_real_time(gb_register("switch/lean", bm_switch,
				     (void *)(intptr_t)PTP_MODE_LEAN));
}
