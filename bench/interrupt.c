/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The interrupt family: interrupt/latency, the time from ptp_interrupt() on
 * another thread to ptp_switch returning PTP_EV_INTERRUPTED on the switching
 * thread, the app spinning (PAYLOAD_SPIN) and so never stopping by itself.
 *
 * Per iteration: the switching thread wakes the interrupter with the time it
 * enters ptp_switch; the interrupter sleeps until IRQ_DELAY_NS after that (the
 * app is then running: entering a switch takes a few us), takes t0 and calls
 * ptp_interrupt; the switching thread takes t1 when ptp_switch returns. The
 * sample is t1 - t0 (the interrupter's own wake-up is before t0), reported
 * as manual time, with p50/p99/p99.9 and a samples file "interrupt/latency".
 *
 * With pinning on, the switching thread is pinned to its CPU (the core pins
 * the traced thread beside it) and the interrupter to another CPU when there
 * is one: the interrupt crosses CPUs, as from a sandbox's other threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include "arch/arch.h"
#include "bench.h"
#include "payloads.h"
#include "ptplat.h"

#define IRQ_CODE 0x10000000ul
#define IRQ_DELAY_NS 30000u
#define IRQ_BATCH 8
#define IRQ_SAMPLES (1u << 20)

struct irq_shared {
	struct ptp_ctx *ctx;
	int cpu; /* the interrupter's CPU, -1 unpinned */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint64_t go;   /* iteration to interrupt (under lock) */
	bool quit;     /* (under lock) */
	uint64_t s0;   /* when that switch was entered (under lock) */
	atomic_uint_fast64_t done; /* iteration interrupted */
	atomic_uint_fast64_t t0;   /* just before its ptp_interrupt */
};

/* Sleeps rather than spins, so that it takes no CPU from the app or the
 * tracer when they share one (pinning off); t0 is taken after the wake-up,
 * so its latency is not measured. */
static void *irq_thread(void *arg)
{
	struct irq_shared *sh = arg;
	uint64_t last = 0;

	if (sh->cpu >= 0)
		bench_pin(0, sh->cpu);
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	for (;;) {
		struct timespec due;
		uint64_t g, s0;

		pthread_mutex_lock(&sh->lock);
		while (sh->go == last && !sh->quit)
			pthread_cond_wait(&sh->cond, &sh->lock);
		g = sh->go;
		s0 = sh->s0;
		pthread_mutex_unlock(&sh->lock);
		if (g == last)
			break;
		last = g;
		s0 += IRQ_DELAY_NS;
		due.tv_sec = (time_t)(s0 / 1000000000u);
		due.tv_nsec = (long)(s0 % 1000000000u);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &due, NULL) == EINTR)
			;
		atomic_store(&sh->t0, bench_now_ns());
		ptp_interrupt(sh->ctx);
		atomic_store(&sh->done, g);
	}
	return NULL;
}

static void bm_interrupt_latency(gb_state *st, void *arg)
{
	struct bench_samples s = { 0 };
	struct irq_shared sh = { .cpu = -1, .lock = PTHREAD_MUTEX_INITIALIZER,
				 .cond = PTHREAD_COND_INITIALIZER };
	const struct bench_core_env_spec spec = {
		.reuse_pool = true,
		.payload = payload_get(PAYLOAD_SPIN),
		.code = IRQ_CODE,
	};
	struct bench_core_env e = { 0 };
	uint64_t total = 0, n = 0, seq = 0;
	char label[64], err[320];
	struct bench_pinning ps;
	bool thread = false;
	struct ptp_event ev;
	pthread_t th;
	int rc;

	(void)arg;
	bench_core_label(label, sizeof(label), NULL);
	bench_pin_self_if_enabled(&ps, -1);
	/* The interrupter on the next CPU: the interrupt crosses CPUs. */
	if (ps.restore && bench_ncpus() > 1)
		sh.cpu = (ps.cpu + 1) % bench_ncpus();
	if (bench_core_env_open(&e, &spec, err, sizeof(err)) < 0)
		goto fail;
	sh.ctx = e.ctx;
	if (bench_samples_init(&s, IRQ_SAMPLES) < 0) {
		snprintf(err, sizeof(err), "samples: out of memory");
		goto fail;
	}
	rc = pthread_create(&th, NULL, irq_thread, &sh);
	if (rc != 0) {
		snprintf(err, sizeof(err), "pthread_create: %s", strerror(rc));
		goto fail;
	}
	thread = true;

	/* Round 0 is a warm-up outside the timed loop: it creates this
	 * thread's traced thread. */
	for (bool warm = true;; warm = false) {
		int per = warm ? 1 : IRQ_BATCH;
		uint64_t batch = 0;

		if (!warm && !gb_keep_running_batch(st, (uint64_t)per))
			break;
		for (int i = 0; i < per; i++) {
			uint64_t t1;

			seq++;
			pthread_mutex_lock(&sh.lock);
			sh.go = seq;
			sh.s0 = bench_now_ns();
			pthread_cond_signal(&sh.cond);
			pthread_mutex_unlock(&sh.lock);
			rc = ptp_switch(sh.ctx, e.as, &ev);
			t1 = bench_now_ns();
			/* Never leave an interrupt for the next switch. */
			for (unsigned int w = 0; atomic_load(&sh.done) != seq; w++) {
				if (w < 1000)
					bench_arch_cpu_relax();
				else
					sched_yield();
			}
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_switch: %s", strerror(-rc));
				goto loop_fail;
			}
			if (ev.kind != PTP_EV_INTERRUPTED) {
				snprintf(err, sizeof(err),
					 "switch returned event %d (signal %d), not "
					 "interrupted", (int)ev.kind, ev.info.si_signo);
				goto loop_fail;
			}
			if (warm)
				continue;
			t1 -= atomic_load(&sh.t0);
			bench_samples_add(&s, t1);
			batch += t1;
			n++;
		}
		if (!warm) {
			gb_set_iteration_time(st, (double)batch * 1e-9);
			total += batch;
		}
		continue;
loop_fail:
		gb_skip_with_error(st, err);
		if (warm)
			goto out;
	}
	if (!gb_error_occurred(st)) {
		bench_finish(st, total, n, label);
		bench_samples_report(st, &s, "interrupt/latency");
	}
	goto out;
fail:
	gb_skip_with_error(st, err);
out:
	if (thread) {
		pthread_mutex_lock(&sh.lock);
		sh.quit = true;
		pthread_cond_signal(&sh.cond);
		pthread_mutex_unlock(&sh.lock);
		pthread_join(th, NULL);
	}
	bench_samples_free(&s);
	bench_core_env_close(&e);
	bench_unpin_self(&ps);
}

void bench_register_interrupt(void)
{
	gb_use_manual_time(gb_register("interrupt/latency", bm_interrupt_latency, NULL));
}
