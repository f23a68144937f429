/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The pool family: many tracer threads switching at once, and the cost of a
 * traced thread's life.
 *
 *   pool/private/threads:N  N tracer threads, each switching a syscall loop
 *                           in its own address space with its own context
 *   pool/shared/threads:N   the same, all in one address space
 *   pool/thread_create      a pthread that switches once in an existing
 *                           address space (its traced thread is created) and
 *                           exits (its traced thread is retired)
 *
 * rt_per_s is the aggregate rate (round trips of all threads per second of
 * wall time); rt_per_s_per_thread the same over N. Scaling efficiency is
 * rt_per_s(N) / (N * rt_per_s(1)), which needs the threads:1 line and is left
 * to the report. over_native_* and the label come from thread 0: its own
 * round-trip time while the others run.
 *
 * With one CPU online, threads:N > 1 skips with the reason (nothing to scale
 * onto); threads:1 still runs.
 *
 * With pinning on, tracer thread i is pinned to CPU i % ncpus (the core pins
 * its traced threads beside it); Google Benchmark's thread 0 is the main
 * thread, whose affinity is restored afterwards.
 *
 * Setup and teardown run outside the timed loop and are fenced with a
 * barrier of our own: thread 0 opens the platform (and the shared address
 * space) before the others create theirs; after the loop every address
 * space is destroyed before any tracer thread returns, so that the core's
 * exit handler of Google Benchmark's worker threads finds nothing left to
 * retire when thread 0 closes the platform.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "payloads.h"
#include "ptplat.h"

#define POOL_CODE 0x10000000ul
#define POOL_BATCH 16

/* One switch of a syscall loop: a syscall, getpid, arg5 one more than
 * *count; writes a result. 0 or -1 with err set. */
static int pool_step(struct ptp_ctx *ctx, struct ptp_as *as, uint64_t *count,
		     char *err, size_t errlen)
{
	struct ptp_event ev;
	uint64_t c;
	int rc = ptp_switch(ctx, as, &ev);

	if (rc < 0) {
		snprintf(err, errlen, "ptp_switch: %s", strerror(-rc));
		return -1;
	}
	if (ev.kind != PTP_EV_SYSCALL || ptp_ctx_syscall_nr(ctx) != SYS_getpid) {
		snprintf(err, errlen, "switch returned event %d nr %ld, not getpid",
			 (int)ev.kind, ev.nr);
		return -1;
	}
	c = ptp_ctx_arg(ctx, 5);
	if (c != *count + 1) {
		snprintf(err, errlen,
			 "not intercepted: completed syscalls %llu after %llu",
			 (unsigned long long)c, (unsigned long long)*count);
		return -1;
	}
	*count = c;
	ptp_ctx_set_result(ctx, 0);
	return 0;
}

/* pool/private, pool/shared -------------------------------------------- */

/* One run at a time: Google Benchmark runs the threads of one run
 * together and the runs one after another. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int arrived;
	unsigned long gen;

	struct ptp_platform *p;
	struct ptp_as *shared_as;
	int fd;
	bool failed;
	char err[320];
} pool_run = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static void pool_barrier(unsigned int n)
{
	pthread_mutex_lock(&pool_run.lock);
	if (++pool_run.arrived == n) {
		pool_run.arrived = 0;
		pool_run.gen++;
		pthread_cond_broadcast(&pool_run.cond);
	} else {
		unsigned long gen = pool_run.gen;

		while (gen == pool_run.gen)
			pthread_cond_wait(&pool_run.cond, &pool_run.lock);
	}
	pthread_mutex_unlock(&pool_run.lock);
}

static void pool_fail(const char *err)
{
	pthread_mutex_lock(&pool_run.lock);
	if (!pool_run.failed) {
		pool_run.failed = true;
		snprintf(pool_run.err, sizeof(pool_run.err), "%s", err);
	}
	pthread_mutex_unlock(&pool_run.lock);
}

static bool pool_failed(void)
{
	bool f;

	pthread_mutex_lock(&pool_run.lock);
	f = pool_run.failed;
	pthread_mutex_unlock(&pool_run.lock);
	return f;
}

static void bm_pool(gb_state *st, void *arg)
{
	bool shared = arg != NULL;
	int ti = gb_thread_index(st);
	unsigned int nt = (unsigned int)gb_thread_count(st);
	uint64_t t_start = 0, t_end = 0, n = 0, count = 0;
	struct ptp_ctx *ctx = NULL;
	struct ptp_as *as = NULL;
	char label[64], err[320];
	struct bench_pinning ps;
	struct ptp_stats stats0 = { 0 }, stats1;
	int rc;

	/* Decided at run time, not by a VM flag: on one CPU, N tracer threads
	 * take turns on it and the figure says nothing about scaling. */
	if (nt > 1 && bench_ncpus() < 2) {
		snprintf(err, sizeof(err),
			 "one CPU online: %u tracer threads would share it, scaling needs two or more",
			 nt);
		gb_skip_with_error(st, err);
		return;
	}
	bench_pin_self_if_enabled(&ps, ti % bench_ncpus());
	if (ti == 0) {
		pool_run.p = NULL;
		pool_run.shared_as = NULL;
		pool_run.failed = false;
		pool_run.fd = bench_core_payload_fd(payload_get(PAYLOAD_SYSCALL_LOOP), err,
						    sizeof(err));
		if (pool_run.fd < 0 ||
		    /* reuse off: a release destroys at once (see above) */
		    bench_core_open(NULL, false, &pool_run.p, err, sizeof(err)) < 0) {
			pool_fail(err);
		} else if (shared) {
			rc = ptp_as_new(pool_run.p, &pool_run.shared_as);
			if (rc < 0) {
				pool_run.shared_as = NULL;
				snprintf(err, sizeof(err), "ptp_as_new: %s", strerror(-rc));
				pool_fail(err);
			} else if (bench_core_map_payload(pool_run.shared_as, POOL_CODE,
							  pool_run.fd, err, sizeof(err)) < 0) {
				pool_fail(err);
			}
		}
	}
	pool_barrier(nt);

	/* Per-thread setup, including this thread's first switch (which
	 * creates its traced thread). */
	if (!pool_failed()) {
		if (shared) {
			as = pool_run.shared_as;
		} else {
			rc = ptp_as_new(pool_run.p, &as);
			if (rc < 0) {
				as = NULL;
				snprintf(err, sizeof(err), "ptp_as_new: %s", strerror(-rc));
				pool_fail(err);
			} else if (bench_core_map_payload(as, POOL_CODE, pool_run.fd, err,
							  sizeof(err)) < 0) {
				pool_fail(err);
			}
		}
	}
	if (!pool_failed()) {
		rc = ptp_ctx_new(pool_run.p, &ctx);
		if (rc < 0) {
			ctx = NULL;
			snprintf(err, sizeof(err), "ptp_ctx_new: %s", strerror(-rc));
			pool_fail(err);
		} else {
			ptp_ctx_set_ip(ctx, POOL_CODE);
			ptp_ctx_set_arg(ctx, 5, 0);
			count = (uint64_t)-1; /* the first stop reports 0 */
			if (pool_step(ctx, as, &count, err, sizeof(err)) < 0)
				pool_fail(err);
		}
	}
	/* Everyone's setup is done or someone failed: all skip together. */
	pool_barrier(nt);
	if (pool_failed())
		gb_skip_with_error(st, pool_run.err);
	/* Before the start barrier in the first keep-running call: no
	 * thread has switched in the loop yet. */
	else if (ti == 0)
		ptp_stats(pool_run.p, &stats0);

	/* Every thread calls this until it returns false, errors included:
	 * Google Benchmark's start and stop barriers count on it. */
	while (gb_keep_running_batch(st, POOL_BATCH)) {
		if (!t_start)
			t_start = bench_now_ns();
		for (int i = 0; i < POOL_BATCH; i++) {
			if (pool_step(ctx, as, &count, err, sizeof(err)) < 0) {
				gb_skip_with_error(st, err);
				break;
			}
			n++;
		}
	}
	t_end = bench_now_ns();

	if (!gb_error_occurred(st)) {
		gb_counter(st, "rt_per_s", (double)n, GB_COUNTER_RATE);
		gb_counter(st, "rt_per_s_per_thread", (double)n,
			   GB_COUNTER_RATE | GB_COUNTER_AVG_THREADS);
		if (ti == 0) {
			bench_core_label(label, sizeof(label), NULL);
			bench_finish(st, t_end - t_start, n, label);
			/* systrap's hand-offs of all threads (after the stop
			 * barrier: every loop is over) */
			ptp_stats(pool_run.p, &stats1);
			bench_spin_share_counter(st, &stats0, &stats1);
		}
	}

	/* Prove the layout: one traced thread per tracer thread in each
	 * address space (all loops are over: Google Benchmark's stop barrier). */
	if (!gb_error_occurred(st) && as &&
	    ptp_as_thread_count(as) != (shared ? nt : 1u)) {
		snprintf(err, sizeof(err), "%u traced threads in the %s address space, "
			 "expected %u", ptp_as_thread_count(as),
			 shared ? "shared" : "private", shared ? nt : 1u);
		gb_skip_with_error(st, err);
	}

	/* Teardown. */
	ptp_ctx_free(ctx);
	if (!shared && as)
		ptp_as_release(as); /* destroyed: reuse is off */
	pool_barrier(nt);
	if (ti == 0 && pool_run.shared_as) {
		ptp_as_release(pool_run.shared_as);
		pool_run.shared_as = NULL;
	}
	/* No address space is left when any tracer thread returns. */
	pool_barrier(nt);
	if (ti == 0) {
		ptp_close(pool_run.p);
		pool_run.p = NULL;
		if (pool_run.fd >= 0)
			close(pool_run.fd);
		pool_run.fd = -1;
	}
	bench_unpin_self(&ps);
}

/* pool/thread_create ---------------------------------------------------- */

struct tc_env {
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	uint64_t count;
	uint64_t t_switch0, t_switch1; /* around the new thread's switch */
	int failed;
	char err[320];
};

static void *tc_thread(void *arg)
{
	struct tc_env *e = arg;

	e->t_switch0 = bench_now_ns();
	e->failed = pool_step(e->ctx, e->as, &e->count, e->err, sizeof(e->err));
	e->t_switch1 = bench_now_ns();
	return NULL;
}

static void bm_pool_thread_create(gb_state *st, void *arg)
{
	uint64_t t_start = 0, t_end = 0, n = 0, switch_ns = 0, exit_ns = 0;
	const struct bench_core_env_spec spec = {
		.reuse_pool = true,
		.payload = payload_get(PAYLOAD_SYSCALL_LOOP),
		.code = POOL_CODE,
	};
	struct bench_core_env core = { 0 };
	struct ptp_stats before, after;
	struct tc_env e = { 0 };
	char label[64], err[320];
	struct bench_pinning ps;
	int rc;

	(void)arg;
	bench_core_label(label, sizeof(label), NULL);
	/* New threads inherit this CPU with pinning on. */
	bench_pin_self_if_enabled(&ps, -1);
	if (bench_core_env_open(&core, &spec, err, sizeof(err)) < 0)
		goto fail;
	e.as = core.as;
	e.ctx = core.ctx;
	ptp_ctx_set_arg(e.ctx, 5, 0);
	e.count = (uint64_t)-1;
	ptp_stats(core.p, &before);

	while (gb_keep_running_batch(st, 1)) {
		pthread_t th;
		uint64_t t;

		if (!t_start)
			t_start = bench_now_ns();
		rc = pthread_create(&th, NULL, tc_thread, &e);
		if (rc != 0) {
			snprintf(err, sizeof(err), "pthread_create: %s", strerror(rc));
			gb_skip_with_error(st, err);
			continue;
		}
		pthread_join(th, NULL);
		t = bench_now_ns();
		if (e.failed) {
			gb_skip_with_error(st, e.err);
			continue;
		}
		switch_ns += e.t_switch1 - e.t_switch0;
		exit_ns += t - e.t_switch1;
		n++;
	}
	t_end = bench_now_ns();
	if (!gb_error_occurred(st)) {
		/* Prove the path taken: one traced thread made and retired per
		 * iteration. */
		ptp_stats(core.p, &after);
		if (after.threads_created - before.threads_created != n ||
		    after.threads_retired - before.threads_retired != n) {
			snprintf(err, sizeof(err),
				 "%llu iterations created %lu and retired %lu traced threads",
				 (unsigned long long)n,
				 after.threads_created - before.threads_created,
				 after.threads_retired - before.threads_retired);
			goto fail;
		}
		if (n) {
			/* The new thread's switch, which creates its traced
			 * thread; and from its end to pthread_join's return,
			 * which includes retiring it. */
			gb_counter(st, "first_switch_ns", (double)switch_ns / (double)n,
				   GB_COUNTER_DEFAULT);
			gb_counter(st, "exit_join_ns", (double)exit_ns / (double)n,
				   GB_COUNTER_DEFAULT);
		}
	}
	bench_finish(st, t_end - t_start, n, label);
	goto out;
fail:
	gb_skip_with_error(st, err);
out:
	bench_core_env_close(&core);
	bench_unpin_self(&ps);
}

void bench_register_pool(void)
{
	int max = 2 * bench_ncpus();
	gb_bench *priv, *shr;

	priv = gb_use_real_time(gb_register("pool/private", bm_pool, NULL));
	shr = gb_use_real_time(gb_register("pool/shared", bm_pool, (void *)1));
	for (int n = 1; n <= max; n++) {
		gb_threads(priv, n);
		gb_threads(shr, n);
	}
	gb_use_real_time(gb_register("pool/thread_create", bm_pool_thread_create, NULL));
}
