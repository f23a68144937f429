/* SPDX-License-Identifier: Apache-2.0 */
/* threadpool: every tracer thread gets one traced thread per address space,
 * reused on every later switch, and retired (not leaked, not killing the
 * address space) when the tracer thread exits. With pinning on, a tracer
 * thread and its traced thread stay on one CPU whatever the caller's own
 * affinity, and ptp_close gives the caller its affinity back.
 * ptplat.h promises all of it ("Threads"), so the group checks it through
 * the behaviour API and /proc alone: the traced threads are ptp_ctx_tid's
 * tasks of ptp_as_pid's process, counted against the tasks that process had
 * before any switch (whatever a platform keeps there itself). The design's
 * own counters (ptp_stats, ptp_as_thread_count) and ptp_trim are the
 * internals group's. */
#define _GNU_SOURCE
#include <dirent.h>
#include <sched.h>
#include <semaphore.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define NT 3 /* tracer threads */
#define NA 3 /* address spaces */
#define ROUNDS 50

static struct ptp_ctx *loop_ctx(struct ptp_platform *p)
{
	struct ptp_ctx *ctx = h_ctx(p);

	ptp_ctx_set_ip(ctx, H_CODE);
	ptp_ctx_set_arg(ctx, 5, 0);
	return ctx;
}

/* One switch of the loop: 0, or -1 with msg set. n is the number of
 * syscalls ctx has completed before (the loop's counter). */
static int loop_step(struct ptp_ctx *ctx, struct ptp_as *as, uint64_t n,
		     char *msg, size_t len)
{
	struct ptp_event ev;
	int rc = ptp_switch(ctx, as, &ev);

	if (rc < 0) {
		snprintf(msg, len, "ptp_switch: %s", strerror(-rc));
		return -1;
	}
	if (ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid) {
		snprintf(msg, len, "switch returned %s nr %ld, expected getpid",
			 h_event_name(ev.kind), ev.nr);
		return -1;
	}
	if (ptp_ctx_arg(ctx, 5) != n) {
		snprintf(msg, len, "loop counter %lu, expected %lu",
			 (unsigned long)ptp_ctx_arg(ctx, 5), (unsigned long)n);
		return -1;
	}
	return 0;
}

/* A tracer thread: loads the address spaces in load[], waits at loaded,
 * then switches its own context in every address space, rounds times (and
 * on while !stop when stop is given), checking that its traced thread there
 * stays the same; waits at done and go, then exits. */
struct worker {
	pthread_t th;
	int nas;
	struct ptp_as *as[NA];
	struct ptp_ctx *ctx[NA];
	bool load[NA];
	int rounds;
	atomic_bool *stop;
	pthread_barrier_t *loaded, *done, *go;
	/* Out. */
	pid_t self;
	pid_t tid[NA];
	atomic_int progress;
	char msg[256];
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	int rc;

	w->self = (pid_t)syscall(SYS_gettid);
	for (int a = 0; a < w->nas && !w->msg[0]; a++) {
		if (w->load[a] && (rc = h_try_load_at(w->as[a], H_CODE, PAYLOAD_SYSCALL_LOOP)) < 0)
			snprintf(w->msg, sizeof(w->msg), "load as %d: %s", a, strerror(-rc));
	}
	if (w->loaded)
		pthread_barrier_wait(w->loaded);
	for (int r = 0; !w->msg[0] && (r < w->rounds || (w->stop && !atomic_load(w->stop)));
	     r++) {
		for (int a = 0; a < w->nas && !w->msg[0]; a++) {
			if (loop_step(w->ctx[a], w->as[a], (uint64_t)r, w->msg,
				      sizeof(w->msg)) < 0)
				break;
			if (r == 0)
				w->tid[a] = ptp_ctx_tid(w->ctx[a]);
			else if (ptp_ctx_tid(w->ctx[a]) != w->tid[a])
				snprintf(w->msg, sizeof(w->msg),
					 "as %d round %d: traced thread %d, was %d", a, r,
					 ptp_ctx_tid(w->ctx[a]), w->tid[a]);
		}
		atomic_fetch_add(&w->progress, 1);
	}
	if (w->done)
		pthread_barrier_wait(w->done);
	if (w->go)
		pthread_barrier_wait(w->go);
	return NULL;
}

static void worker_start(struct worker *w)
{
	assert_int_equal(pthread_create(&w->th, NULL, worker_main, w), 0);
}

static void worker_check(const struct worker *w, int i)
{
	if (w->msg[0])
		fail_msg("worker %d: %s", i, w->msg);
}

static void worker_join(struct worker *w)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	/* A hang in the exiting thread's retirement fails here, not at the
	 * harness's timeout. */
	assert_int_equal(pthread_timedjoin_np(w->th, NULL, &ts), 0);
}

/* The tasks of a fresh address space's process, before any switch: what
 * the platform keeps there besides the traced threads. */
static int fresh_tasks(struct ptp_as *as)
{
	int n = h_task_count(ptp_as_pid(as));

	assert_true(n >= 1);
	return n;
}

/* No two of the n pids are equal. */
static void assert_distinct(const pid_t *pids, int n)
{
	for (int i = 0; i < n; i++)
		for (int k = 0; k < i; k++)
			assert_int_not_equal(pids[i], pids[k]);
}

/*
 * NT tracer threads x NA address spaces: one traced thread per pair, all
 * distinct, each the same over every switch of its pair; each address space
 * has exactly NT traced threads (and its leader); exiting retires them all.
 */
static void threads_by_spaces(void)
{
	struct ptp_platform *p = h_open();
	struct worker w[NT];
	pthread_barrier_t loaded, done, go;
	struct ptp_as *as[NA];
	pid_t all[NT * NA], pids[NA];
	int base[NA];

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	for (int a = 0; a < NA; a++) {
		as[a] = h_as(p);
		pids[a] = ptp_as_pid(as[a]);
		base[a] = fresh_tasks(as[a]);
	}
	assert_distinct(pids, NA);
	pthread_barrier_init(&loaded, NULL, NT);
	pthread_barrier_init(&done, NULL, NT + 1);
	pthread_barrier_init(&go, NULL, NT + 1);
	memset(w, 0, sizeof(w));
	for (int i = 0; i < NT; i++) {
		w[i].nas = NA;
		w[i].rounds = ROUNDS;
		w[i].loaded = &loaded;
		w[i].done = &done;
		w[i].go = &go;
		for (int a = 0; a < NA; a++) {
			w[i].as[a] = as[a];
			w[i].ctx[a] = loop_ctx(p);
			/* Each address space is loaded by one of the threads. */
			w[i].load[a] = a % NT == i;
		}
		worker_start(&w[i]);
	}
	pthread_barrier_wait(&done);
	for (int i = 0; i < NT; i++)
		worker_check(&w[i], i);

	for (int a = 0; a < NA; a++) {
		assert_int_equal(ptp_as_status(as[a]), 0);
		/* One thread per tracer thread, no more. */
		assert_int_equal(h_task_count(pids[a]), base[a] + NT);
	}
	for (int i = 0; i < NT; i++) {
		for (int a = 0; a < NA; a++) {
			pid_t tid = w[i].tid[a];

			assert_true(tid > 0);
			assert_int_not_equal(tid, pids[a]);
			assert_true(h_task_exists(pids[a], tid));
			all[i * NA + a] = tid;
		}
	}
	assert_distinct(all, NT * NA);

	pthread_barrier_wait(&go);
	for (int i = 0; i < NT; i++)
		worker_join(&w[i]);
	for (int a = 0; a < NA; a++) {
		assert_int_equal(ptp_as_status(as[a]), 0);
		assert_int_equal(h_task_count(pids[a]), base[a]);
	}
	for (int k = 0; k < NT * NA; k++)
		assert_false(h_proc_exists(all[k]));

	for (int i = 0; i < NT; i++)
		for (int a = 0; a < NA; a++)
			ptp_ctx_free(w[i].ctx[a]);
	for (int a = 0; a < NA; a++)
		ptp_as_release(as[a]);
	ptp_close(p);
	pthread_barrier_destroy(&loaded);
	pthread_barrier_destroy(&done);
	pthread_barrier_destroy(&go);
	assert_int_equal(h_children_of(0), 0);
}

/*
 * One thread, switching again and again, with several contexts, in a pooled
 * and reused address space: one traced thread per address space, created
 * once.
 */
static void same_thread_reuses_its_thread(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *a1 = h_as(p), *a2 = h_as(p), *again;
	struct ptp_ctx *c1 = h_ctx(p), *c2 = h_ctx(p), *c3 = h_ctx(p);
	struct ptp_event ev;
	pid_t t1, t2, pid1 = ptp_as_pid(a1), pid2 = ptp_as_pid(a2);
	int base1 = fresh_tasks(a1), base2 = fresh_tasks(a2);

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	assert_int_equal(ptp_ctx_tid(c1), 0);
	/* The map may be injected through this thread's traced thread: at
	 * most that one. */
	h_load(a1, c1, PAYLOAD_SYSCALL_LOOP);
	assert_true(h_task_count(pid1) <= base1 + 1);
	assert_int_equal(h_task_count(pid2), base2);

	ptp_ctx_set_arg(c1, 5, 0);
	h_switch(c1, a1, &ev, PTP_EV_SYSCALL);
	t1 = ptp_ctx_tid(c1);
	assert_true(t1 > 0);
	assert_true(h_task_exists(pid1, t1));
	for (int i = 1; i < 200; i++) {
		h_switch(c1, a1, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ptp_ctx_arg(c1, 5), i);
		assert_int_equal(ptp_ctx_tid(c1), t1);
	}
	/* Another context of the same thread: the same traced thread. */
	ptp_ctx_set_ip(c2, H_CODE);
	h_switch(c2, a1, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_ctx_tid(c2), t1);
	assert_int_equal(h_task_count(pid1), base1 + 1);
	assert_int_equal(h_task_count(pid2), base2);

	/* Another address space: one more, a different thread. */
	h_load(a2, c3, PAYLOAD_SYSCALL_LOOP);
	h_switch(c3, a2, &ev, PTP_EV_SYSCALL);
	t2 = ptp_ctx_tid(c3);
	assert_true(t2 > 0);
	assert_int_not_equal(t2, t1);
	assert_true(h_task_exists(pid2, t2));
	assert_int_equal(h_task_count(pid2), base2 + 1);
	assert_int_equal(h_task_count(pid1), base1 + 1);
	/* And back: still the first one. */
	h_switch(c1, a1, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_ctx_tid(c1), t1);
	assert_int_equal(ptp_ctx_arg(c1, 5), 200);

	/* Released to the pool and handed out again: the address space keeps
	 * this thread's traced thread. */
	ptp_as_release(a1);
	assert_true(h_task_exists(pid1, t1));
	again = h_as(p);
	assert_int_equal(ptp_as_pid(again), pid1);
	h_load(again, c1, PAYLOAD_SYSCALL_LOOP);
	ptp_ctx_set_arg(c1, 5, 0);
	h_switch(c1, again, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_ctx_tid(c1), t1);
	assert_int_equal(h_task_count(pid1), base1 + 1);
	assert_true(h_task_exists(pid2, t2));

	ptp_ctx_free(c1);
	ptp_ctx_free(c2);
	ptp_ctx_free(c3);
	ptp_as_release(again);
	ptp_as_release(a2);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
	assert_false(h_proc_exists(t1));
	assert_false(h_proc_exists(t2));
}

/*
 * Four tracer threads (main and three workers) switching at once in one
 * address space, each with its own context: four distinct traced threads,
 * no context sees another's state.
 */
static void concurrent_threads_in_one_space(void)
{
	enum { NW = 3, N = 400 };
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *mine = h_ctx(p);
	pthread_barrier_t done, go;
	struct worker w[NW];
	pid_t tid, pid = ptp_as_pid(as);
	int base = fresh_tasks(as);

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	h_load(as, mine, PAYLOAD_SYSCALL_LOOP);
	ptp_ctx_set_arg(mine, 5, 0);
	pthread_barrier_init(&done, NULL, NW + 1);
	pthread_barrier_init(&go, NULL, NW + 1);
	memset(w, 0, sizeof(w));
	for (int i = 0; i < NW; i++) {
		w[i].nas = 1;
		w[i].as[0] = as;
		w[i].ctx[0] = loop_ctx(p);
		w[i].rounds = N;
		w[i].done = &done;
		w[i].go = &go;
		worker_start(&w[i]);
	}
	for (int r = 0; r < N; r++) {
		struct ptp_event ev;

		h_switch(mine, as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ptp_ctx_arg(mine, 5), r);
	}
	tid = ptp_ctx_tid(mine);
	pthread_barrier_wait(&done);
	for (int i = 0; i < NW; i++) {
		worker_check(&w[i], i);
		assert_int_equal(ptp_ctx_arg(w[i].ctx[0], 5), N - 1);
		assert_int_not_equal(w[i].tid[0], tid);
		assert_int_not_equal(w[i].tid[0], w[i].self);
		for (int k = 0; k < i; k++)
			assert_int_not_equal(w[i].tid[0], w[k].tid[0]);
		assert_true(h_task_exists(pid, w[i].tid[0]));
	}
	assert_int_equal(h_task_count(pid), base + NW + 1);
	pthread_barrier_wait(&go);
	for (int i = 0; i < NW; i++)
		worker_join(&w[i]);
	assert_int_equal(h_task_count(pid), base + 1);
	assert_true(h_task_exists(pid, tid));

	for (int i = 0; i < NW; i++)
		ptp_ctx_free(w[i].ctx[0]);
	ptp_ctx_free(mine);
	ptp_as_release(as);
	ptp_close(p);
	pthread_barrier_destroy(&done);
	pthread_barrier_destroy(&go);
	assert_int_equal(h_children_of(0), 0);
}

/*
 * A tracer thread that exits retires its traced threads: counts drop, the
 * threads are gone from the address spaces, which live on; its contexts
 * (their lazily held state fetched on the way out) run on elsewhere.
 */
static void exiting_thread_retires(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as[2] = { h_as(p), h_as(p) };
	struct ptp_ctx *mine[2] = { h_ctx(p), h_ctx(p) };
	struct ptp_event ev;
	struct worker w;
	pid_t main_tid[2];
	int base[2] = { fresh_tasks(as[0]), fresh_tasks(as[1]) };

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	for (int a = 0; a < 2; a++) {
		h_load(as[a], mine[a], PAYLOAD_SYSCALL_LOOP);
		ptp_ctx_set_arg(mine[a], 5, 0);
		h_switch(mine[a], as[a], &ev, PTP_EV_SYSCALL);
		main_tid[a] = ptp_ctx_tid(mine[a]);
	}
	memset(&w, 0, sizeof(w));
	w.nas = 2;
	w.rounds = 10;
	for (int a = 0; a < 2; a++) {
		w.as[a] = as[a];
		w.ctx[a] = loop_ctx(p);
	}
	for (int a = 0; a < 2; a++)
		assert_int_equal(h_task_count(ptp_as_pid(as[a])), base[a] + 1);
	worker_start(&w);
	worker_join(&w);
	worker_check(&w, 0);

	for (int a = 0; a < 2; a++) {
		pid_t pid = ptp_as_pid(as[a]);

		assert_int_equal(ptp_as_status(as[a]), 0);
		/* Gone, while the address space is alive. */
		assert_true(h_proc_exists(pid));
		assert_true(w.tid[a] > 0);
		assert_int_not_equal(w.tid[a], main_tid[a]);
		assert_false(h_task_exists(pid, w.tid[a]));
		assert_false(h_proc_exists(w.tid[a]));
		assert_true(h_task_exists(pid, main_tid[a]));
		assert_int_equal(h_task_count(pid), base[a] + 1);

		/* The exited thread's context runs on in this thread. */
		assert_int_equal(ptp_ctx_pull(w.ctx[a]), 0);
		h_switch(w.ctx[a], as[a], &ev, PTP_EV_SYSCALL);
		assert_int_equal(ptp_ctx_arg(w.ctx[a], 5), 10);
		assert_int_equal(ptp_ctx_tid(w.ctx[a]), main_tid[a]);
		h_switch(mine[a], as[a], &ev, PTP_EV_SYSCALL);
		assert_int_equal(ptp_ctx_arg(mine[a], 5), 1);
		/* Both contexts on this thread's one traced thread. */
		assert_int_equal(h_task_count(pid), base[a] + 1);
	}

	for (int a = 0; a < 2; a++) {
		ptp_ctx_free(w.ctx[a]);
		ptp_ctx_free(mine[a]);
		ptp_as_release(as[a]);
	}
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/*
 * One tracer thread exits (and retires its traced thread) while others keep
 * switching in the same address space: they are not disturbed.
 */
static void exit_while_others_switch(void)
{
	enum { NW = 3 };
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct worker w[NW];
	atomic_bool stop = false;
	pid_t pid = ptp_as_pid(as), tids[NW];
	int base = fresh_tasks(as);
	long deadline;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	memset(w, 0, sizeof(w));
	for (int i = 0; i < NW; i++) {
		w[i].nas = 1;
		w[i].as[0] = as;
		w[i].ctx[0] = loop_ctx(p);
		w[i].load[0] = i == 0;
		w[i].rounds = i == 0 ? 100 : 200;
		w[i].stop = i == 0 ? NULL : &stop;
	}
	/* Worker 0 maps the code before the others start. */
	worker_start(&w[0]);
	while (atomic_load(&w[0].progress) == 0 && !w[0].msg[0])
		usleep(1000);
	for (int i = 1; i < NW; i++)
		worker_start(&w[i]);
	worker_join(&w[0]);
	worker_check(&w[0], 0);
	assert_false(h_task_exists(pid, w[0].tid[0]));
	/* The others go on: a few hundred more switches each. */
	for (int i = 1; i < NW; i++) {
		int from = atomic_load(&w[i].progress);

		deadline = h_now_ms() + 10000;
		while (atomic_load(&w[i].progress) < from + 300 && !w[i].msg[0] &&
		       h_now_ms() < deadline)
			usleep(1000);
		worker_check(&w[i], i);
		assert_true(atomic_load(&w[i].progress) >= from + 300);
	}
	assert_int_equal(h_task_count(pid), base + NW - 1);
	atomic_store(&stop, true);
	for (int i = 1; i < NW; i++) {
		worker_join(&w[i]);
		worker_check(&w[i], i);
		assert_false(h_task_exists(pid, w[i].tid[0]));
	}
	for (int i = 0; i < NW; i++)
		tids[i] = w[i].tid[0];
	assert_distinct(tids, NW);
	assert_int_equal(ptp_as_status(as), 0);
	assert_int_equal(h_task_count(pid), base);

	for (int i = 0; i < NW; i++)
		ptp_ctx_free(w[i].ctx[0]);
	ptp_as_release(as);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/* NT x NA workers as in threads_by_spaces, then a teardown. */
struct grid {
	struct ptp_platform *p;
	struct ptp_as *as[NA];
	struct worker w[NT];
	pthread_barrier_t loaded, done, go;
	pid_t pids[NA], tids[NT * NA];
	int base[NA];
};

static void grid_start(struct grid *g)
{
	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	memset(g, 0, sizeof(*g));
	g->p = h_open();
	pthread_barrier_init(&g->loaded, NULL, NT);
	pthread_barrier_init(&g->done, NULL, NT + 1);
	pthread_barrier_init(&g->go, NULL, NT + 1);
	for (int a = 0; a < NA; a++) {
		g->as[a] = h_as(g->p);
		g->pids[a] = ptp_as_pid(g->as[a]);
		g->base[a] = fresh_tasks(g->as[a]);
	}
	for (int i = 0; i < NT; i++) {
		struct worker *w = &g->w[i];

		w->nas = NA;
		w->rounds = 20;
		w->loaded = &g->loaded;
		w->done = &g->done;
		w->go = &g->go;
		for (int a = 0; a < NA; a++) {
			w->as[a] = g->as[a];
			w->ctx[a] = loop_ctx(g->p);
			w->load[a] = a % NT == i;
		}
		worker_start(w);
	}
	pthread_barrier_wait(&g->done);
	for (int i = 0; i < NT; i++) {
		worker_check(&g->w[i], i);
		for (int a = 0; a < NA; a++)
			g->tids[i * NA + a] = g->w[i].tid[a];
	}
	assert_distinct(g->tids, NT * NA);
	for (int a = 0; a < NA; a++)
		assert_int_equal(h_task_count(g->pids[a]), g->base[a] + NT);
}

static void grid_let_go(struct grid *g)
{
	pthread_barrier_wait(&g->go);
	for (int i = 0; i < NT; i++)
		worker_join(&g->w[i]);
}

static void grid_release_close(struct grid *g)
{
	for (int i = 0; i < NT; i++)
		for (int a = 0; a < NA; a++)
			ptp_ctx_free(g->w[i].ctx[a]);
	for (int a = 0; a < NA; a++)
		ptp_as_release(g->as[a]);
	ptp_close(g->p);
}

static void grid_nothing_left(struct grid *g)
{
	assert_int_equal(h_children_of(0), 0);
	for (int a = 0; a < NA; a++)
		assert_false(h_proc_exists(g->pids[a]));
	for (int k = 0; k < NT * NA; k++)
		assert_false(h_proc_exists(g->tids[k]));
	pthread_barrier_destroy(&g->loaded);
	pthread_barrier_destroy(&g->done);
	pthread_barrier_destroy(&g->go);
}

/* The tracer threads exit, then release and close: nothing is left. */
static void nothing_left_after_exit_and_close(void)
{
	struct grid g;

	grid_start(&g);
	grid_let_go(&g);
	for (int a = 0; a < NA; a++)
		assert_int_equal(h_task_count(g.pids[a]), g.base[a]);
	for (int k = 0; k < NT * NA; k++)
		assert_false(h_proc_exists(g.tids[k]));
	grid_release_close(&g);
	grid_nothing_left(&g);
}

/* Release and close while the tracer threads still live; they exit after
 * (their traced threads died with the address spaces): nothing is left and
 * nothing hangs or crashes. */
static void close_before_threads_exit(void)
{
	struct grid g;

	grid_start(&g);
	grid_release_close(&g);
	assert_int_equal(h_children_of(0), 0);
	grid_let_go(&g);
	grid_nothing_left(&g);
}

/* A tracer thread that exits while its address spaces are pooled (the
 * default pool holds NA) retires its traced threads there, and close then
 * leaves nothing. */
static void exit_while_pooled(void)
{
	struct grid g;

	grid_start(&g);
	for (int a = 0; a < NA; a++)
		ptp_as_release(g.as[a]);
	/* Whether a pooled address space keeps them is the design's choice
	 * (internals/trim_after_exit_while_pooled): no more than before. */
	for (int a = 0; a < NA; a++)
		assert_true(h_task_count(g.pids[a]) <= g.base[a] + NT);
	grid_let_go(&g);
	for (int a = 0; a < NA; a++) {
		assert_true(h_proc_exists(g.pids[a]));
		assert_int_equal(h_task_count(g.pids[a]), g.base[a]);
	}
	for (int k = 0; k < NT * NA; k++)
		assert_false(h_proc_exists(g.tids[k]));
	for (int i = 0; i < NT; i++)
		for (int a = 0; a < NA; a++)
			ptp_ctx_free(g.w[i].ctx[a]);
	ptp_close(g.p);
	grid_nothing_left(&g);
}

/* Pinning ------------------------------------------------------------- */

/* Switches of the pinning case, each after a sleep that a partner thread
 * on another CPU ends (struct waker), into an app that computes before its
 * syscall: the tracer thread sleeps twice per switch (waiting for its
 * partner and for the app) and wakes wherever the scheduler likes unless
 * it is pinned. Without the partner, a loaded host kept even a pair
 * under the old rule (the traced thread follows the caller's current CPU)
 * together, and the case could not tell the rules apart. */
#define PIN_SWITCHES 400
#define PIN_SLEEP_NS 1000000L
/* Iterations of the app's count-down per switch (a few hundred us). */
#define PIN_APP_WORK (1u << 19)
/* The bar: migrations of both threads of the pair per switch. */
#define PIN_MAX_MIGRATIONS_PER_SWITCH 0.01

/*
 * The caller's partner: wakes it after each sleep from another CPU than
 * the one the caller last ran on, as the other end of a pipe or a futex
 * does in a real program (the sentry's gzip, facts.md). The kernel's
 * wake-affine logic likes to pull the woken thread to its waker's CPU: a
 * caller that is not pinned follows, and so would a traced thread that
 * only follows its caller.
 */
struct waker {
	pid_t target;
	sem_t sem;
	atomic_bool stop;
};

/* The CPU task tid of this process last ran on (field 39 of its stat), or
 * -1. */
static int task_cpu(pid_t tid)
{
	char path[64], buf[1024];
	const char *q;
	int cpu = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (q = strrchr(buf, ')'))) {
		/* The comm ends field 2; the CPU is field 39. */
		for (int field = 2; field < 39 && q; field++)
			q = strchr(q + 1, ' ');
		if (q)
			cpu = atoi(q + 1);
	}
	fclose(f);
	return cpu;
}

static void *waker_main(void *arg)
{
	struct waker *w = arg;
	struct timespec nap = { 0, PIN_SLEEP_NS };
	cpu_set_t allowed;

	sched_getaffinity(0, sizeof(allowed), &allowed);
	while (!atomic_load(&w->stop)) {
		int there = task_cpu(w->target);

		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
			if (cpu != there && CPU_ISSET(cpu, &allowed)) {
				cpu_set_t one;

				CPU_ZERO(&one);
				CPU_SET(cpu, &one);
				sched_setaffinity(0, sizeof(one), &one);
				break;
			}
		}
		nanosleep(&nap, NULL);
		sem_post(&w->sem);
	}
	return NULL;
}

/* nr_migrations of task tid of process pid (CONFIG_SCHED_DEBUG's
 * /proc/<pid>/task/<tid>/sched), or -1. */
static long task_migrations(pid_t pid, pid_t tid)
{
	char path[64], line[256];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/sched", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (n < 0 && fgets(line, sizeof(line), f)) {
		const char *v = strstr(line, "nr_migrations");

		if (v && (v = strchr(v, ':')))
			n = strtol(v + 1, NULL, 10);
	}
	fclose(f);
	return n;
}

/* Lets the calling thread run on every online CPU and asserts it can;
 * skips where that cannot mean anything. Returns the mask. */
static cpu_set_t allow_every_cpu(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t all, got;

	if (online < 2)
		h_skip("%ld online CPU: a thread has nowhere to migrate to", online);
	CPU_ZERO(&all);
	for (long c = 0; c < online && c < CPU_SETSIZE; c++)
		CPU_SET((int)c, &all);
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	assert_int_equal(sched_getaffinity(0, sizeof(got), &got), 0);
	if (CPU_COUNT(&got) != online)
		h_skip("this process may use %d of the %ld online CPUs (cpuset)",
		       CPU_COUNT(&got), online);
	assert_true(CPU_EQUAL(&got, &all));
	return got;
}

/*
 * A caller that never pinned itself, whose affinity covers every CPU, and
 * that sleeps between switches (woken from another CPU): both threads of
 * the pair stay put. Counted
 * from before the first switch for the tracer thread and from its creation
 * for the traced thread (its first placement included).
 */
static void pair_stays_on_one_cpu(void)
{
	struct ptp_platform *p;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	pid_t self = (pid_t)syscall(SYS_gettid);
	struct waker wk = { .target = self };
	pthread_t wth;
	long tracer0, tracer1, traced1;
	struct ptp_event ev;
	double per_switch;

	allow_every_cpu();
	assert_int_equal(sem_init(&wk.sem, 0, 0), 0);
	assert_int_equal(pthread_create(&wth, NULL, waker_main, &wk), 0);
	tracer0 = task_migrations(getpid(), self);
	if (tracer0 < 0)
		h_skip("no nr_migrations in /proc/<pid>/task/<tid>/sched "
		       "(kernel without CONFIG_SCHED_DEBUG?)");
	p = h_open();
	assert_true(ptp_options(p)->pin);
	as = h_as(p);
	ctx = h_ctx(p);
	h_load(as, ctx, PAYLOAD_COMPUTE);
	ptp_ctx_set_arg(ctx, 1, PIN_APP_WORK);
	/* Not before: until its first switch the tracer thread is not pinned,
	 * and it may move while it waits for the platform's own threads in
	 * ptp_open and the map. On a loaded host (load 3-5) a run counted 4
	 * tracer migrations (0.0125 per switch, a failure); in 30 others every
	 * tracer migration came before the first switch. */
	tracer0 = task_migrations(getpid(), self);
	for (int i = 0; i < PIN_SWITCHES; i++) {
		if (i > 0)
			sem_wait(&wk.sem);
		h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, PAYLOAD_NR_OK);
	}
	tracer1 = task_migrations(getpid(), self);
	traced1 = task_migrations(ptp_as_pid(as), ptp_ctx_tid(ctx));
	atomic_store(&wk.stop, true);
	pthread_join(wth, NULL);
	sem_destroy(&wk.sem);
	assert_true(tracer1 >= 0 && traced1 >= 0);
	per_switch = (double)(tracer1 - tracer0 + traced1) / PIN_SWITCHES;
	h_note("%d switches: tracer thread %ld migrations, traced thread %ld: "
	       "%.4f per switch (bar %.2f)", PIN_SWITCHES, tracer1 - tracer0,
	       traced1, per_switch, PIN_MAX_MIGRATIONS_PER_SWITCH);
	if (per_switch > PIN_MAX_MIGRATIONS_PER_SWITCH)
		fail_msg("%.4f migrations per switch, bar %.2f", per_switch,
			 PIN_MAX_MIGRATIONS_PER_SWITCH);
	ptp_ctx_free(ctx);
	ptp_as_release(as);
	ptp_close(p);
}

/* New tracer threads (so new traced threads) in new_thread_is_born_on_its_cpu. */
#define BIRTH_ROUNDS 8

struct birth {
	struct ptp_platform *p;
	struct ptp_as *as;
	int pin_to;        /* the tracer thread pins itself there; -1: not */
	bool inject_first; /* a map creates its traced thread, not a switch */
	long migrations;
	int tracer_cpu;
	char msg[256];
};

static void *birth_main(void *arg)
{
	struct birth *b = arg;
	struct ptp_ctx *ctx = loop_ctx(b->p);
	int rc;

	if (b->pin_to >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(b->pin_to, &one);
		if (sched_setaffinity(0, sizeof(one), &one) < 0) {
			snprintf(b->msg, sizeof(b->msg), "pinning to cpu%d: %s", b->pin_to,
				 strerror(errno));
			goto out;
		}
	}
	if (b->inject_first) {
		int fd = h_memfd(4096, NULL, 0);

		rc = ptp_as_map(b->as, H_DATA, 4096, PROT_READ | PROT_WRITE, fd, 0, 0);
		close(fd);
		if (rc < 0) {
			snprintf(b->msg, sizeof(b->msg), "ptp_as_map: %s", strerror(-rc));
			goto out;
		}
	}
	if (loop_step(ctx, b->as, 0, b->msg, sizeof(b->msg)) == 0) {
		b->migrations = task_migrations(ptp_as_pid(b->as), ptp_ctx_tid(ctx));
		b->tracer_cpu = sched_getcpu();
	}
out:
	ptp_ctx_free(ctx);
	return NULL;
}

/*
 * A new traced thread is created on the CPU it runs on: from its creation
 * through its first switch it never migrates. Each round starts a new
 * tracer thread, so a new traced thread; the tracer thread pins itself to
 * one CPU in half of the rounds and lets the core choose in the others,
 * and its traced thread is created by its first switch or, before it, by
 * a map. Before each round the stub's leader, which the core clones the
 * thread from, is put on a CPU other than the one the pinned tracer thread
 * takes (rotating for the others), as the scheduler may have put it: on an
 * idle machine it is often on the caller's CPU already, and the case would
 * pass by chance. Bound: 0 migrations in all.
 */
static void new_thread_is_born_on_its_cpu(void)
{
	cpu_set_t all = allow_every_cpu();
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	int cpus[CPU_SETSIZE], ncpu = 0;
	long total = 0;

	assert_true(ptp_options(p)->pin);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all))
			cpus[ncpu++] = c;
	h_load(as, ctx, PAYLOAD_SYSCALL_LOOP);
	if (task_migrations(getpid(), (pid_t)syscall(SYS_gettid)) < 0)
		h_skip("no nr_migrations in /proc/<pid>/task/<tid>/sched "
		       "(kernel without CONFIG_SCHED_DEBUG?)");
	for (int r = 0; r < BIRTH_ROUNDS; r++) {
		struct birth b = {
			.p = p, .as = as, .migrations = -1,
			.pin_to = r % 2 ? cpus[(r / 2) % ncpu] : -1,
			.inject_first = (r / 2) % 2,
		};
		int leader_cpu = cpus[(r / 2 + 1) % ncpu];
		cpu_set_t one;
		pthread_t th;

		CPU_ZERO(&one);
		CPU_SET(leader_cpu, &one);
		assert_int_equal(sched_setaffinity(ptp_as_pid(as), sizeof(one), &one), 0);
		assert_int_equal(pthread_create(&th, NULL, birth_main, &b), 0);
		assert_int_equal(pthread_join(th, NULL), 0);
		if (b.msg[0])
			fail_msg("round %d: %s", r, b.msg);
		assert_true(b.migrations >= 0);
		if (b.migrations)
			h_note("round %d (tracer thread on cpu%d, pinned by %s; leader on "
			       "cpu%d; %s first): traced thread migrated %ld times", r,
			       b.tracer_cpu, b.pin_to >= 0 ? "itself" : "the core", leader_cpu,
			       b.inject_first ? "map" : "switch", b.migrations);
		total += b.migrations;
	}
	h_note("%d new traced threads: %ld migrations before their first switch returned",
	       BIRTH_ROUNDS, total);
	if (total)
		fail_msg("%ld migrations of %d new traced threads up to their first switch "
			 "(bound 0)", total, BIRTH_ROUNDS);
	ptp_ctx_free(ctx);
	ptp_as_release(as);
	ptp_close(p);
}

/* ptp_close gives back the affinity the caller had; without pinning the
 * core never touches it. */
static void close_restores_affinity(void)
{
	cpu_set_t before = allow_every_cpu(), during, after;

	for (int pin = 1; pin >= 0; pin--) {
		struct ptp_options o;
		struct ptp_platform *p = NULL;
		struct ptp_as *as;
		struct ptp_ctx *ctx;
		char msg[256];
		int rc;

		ptp_options_default(&o);
		o.mode = h_mode;
		o.pin = pin;
		rc = ptp_open(&o, &p);
		if (rc < 0)
			fail_msg("ptp_open: %s: %s", strerror(-rc), ptp_open_error());
		as = h_as(p);
		h_load(as, ctx = loop_ctx(p), PAYLOAD_SYSCALL_LOOP);
		if (loop_step(ctx, as, 0, msg, sizeof(msg)) < 0)
			fail_msg("switch: %s", msg);
		assert_int_equal(sched_getaffinity(0, sizeof(during), &during), 0);
		assert_int_equal(CPU_COUNT(&during), pin ? 1 : CPU_COUNT(&before));
		ptp_ctx_free(ctx);
		ptp_as_release(as);
		ptp_close(p);
		assert_int_equal(sched_getaffinity(0, sizeof(after), &after), 0);
		if (!CPU_EQUAL(&after, &before))
			fail_msg("pin=%d: %d CPUs allowed after ptp_close, %d before",
				 pin, CPU_COUNT(&after), CPU_COUNT(&before));
	}
}

/* A caller that sets its own affinity after the core pinned it keeps that
 * one at ptp_close. */
static void close_keeps_an_affinity_the_caller_set(void)
{
	cpu_set_t all = allow_every_cpu(), mine, after;
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx;
	int pinned, other = -1;
	char msg[256];

	h_load(as, ctx = loop_ctx(p), PAYLOAD_SYSCALL_LOOP);
	if (loop_step(ctx, as, 0, msg, sizeof(msg)) < 0)
		fail_msg("switch: %s", msg);
	pinned = sched_getcpu();
	for (int c = 0; c < CPU_SETSIZE && other < 0; c++)
		if (c != pinned && CPU_ISSET(c, &all))
			other = c;
	assert_true(other >= 0);
	CPU_ZERO(&mine);
	CPU_SET(other, &mine);
	assert_int_equal(sched_setaffinity(0, sizeof(mine), &mine), 0);
	ptp_ctx_free(ctx);
	ptp_as_release(as);
	ptp_close(p);
	assert_int_equal(sched_getaffinity(0, sizeof(after), &after), 0);
	if (!CPU_EQUAL(&after, &mine))
		fail_msg("ptp_close changed an affinity the caller set itself (%d CPUs "
			 "allowed, want cpu%d only)", CPU_COUNT(&after), other);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(threads_by_spaces),
		HCASE(same_thread_reuses_its_thread),
		HCASE(concurrent_threads_in_one_space),
		HCASE(exiting_thread_retires),
		HCASE(exit_while_others_switch),
		HCASE(nothing_left_after_exit_and_close),
		HCASE(close_before_threads_exit),
		HCASE(exit_while_pooled),
		HCASE(pair_stays_on_one_cpu),
		HCASE(new_thread_is_born_on_its_cpu),
		HCASE(close_restores_affinity),
		HCASE(close_keeps_an_affinity_the_caller_set),
	};

	return harness_main(argc, argv, "threadpool", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
