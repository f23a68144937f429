/* SPDX-License-Identifier: Apache-2.0 */
/* internals: cases that look into this design through its introspection
 * functions (the ones ptplat.h marks PTP_INTROSPECTION): where the stub
 * sits, what the master stub maps and which filter it runs, what
 * ptp_stats and ptp_trim do after a fork, and how many round trips into the
 * stub the address-space calls cost (ptp_stats.injections), and that the
 * thread and address-space counters, ptp_as_thread_count and ptp_trim agree
 * with what the threadpool and lifecycle groups see through /proc. Another
 * platform need not have any of it, so "ptbench test --platform" skips this
 * group. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/arch.h"
#include "harness.h"
#include "systrap-abi.h"

/* The lines of /proc/PID/maps other than the stub and [vsyscall]. */
/* Mappings of pid but the stub and what the backend keeps in
 * [backend_lo, stub_start) (systrap: its syscall thread's pages). */
static int foreign_mappings(pid_t pid, uintptr_t backend_lo, uintptr_t stub_start,
			    uintptr_t stub_end)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		assert_int_equal(sscanf(line, "%lx-%lx", &lo, &hi), 2);
		if (lo == stub_start && hi == stub_end && strstr(line, " r-xp "))
			continue;
		if (strstr(line, "[vsyscall]") || (lo >= backend_lo && hi <= stub_start))
			continue;
		h_note("pid %d maps: %s", pid, line);
		n++;
	}
	fclose(f);
	return n;
}

/* The kernel keeps mmap this far below a stack (stack_guard_gap, 256
 * pages by default), and the stub's probe steps down a page at a time:
 * one page of slack. */
#define STACK_GUARD_GAP_PAGES 257

static void stub_at_the_top(void)
{
	struct ptp_platform *p = h_open();
	uintptr_t start = ptp_stub_start(p), end = ptp_stub_end(p);
	uintptr_t stack_lo, stack_hi;
	char line[512];
	bool seen = false, stack_on_top;
	FILE *f;

	assert_true(start > 0 && end > start);
	assert_int_equal(start % h_page(), 0);
	assert_int_equal(end % h_page(), 0);
	assert_true(ptp_min_user_address(p) < start);
	assert_true(ptp_min_user_address(p) >= h_page());
	/* Nothing of the tracer may sit above the stub, but for its own
	 * [stack] where address randomization is off: then the stack holds
	 * the top, and the stub must sit right below its guard gap. */
	stack_on_top = h_stack_on_top(&stack_lo, &stack_hi);
	f = fopen("/proc/self/maps", "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (lo == start && hi == end)
			seen = strstr(line, " r-xp ") != NULL;
		else if (!strstr(line, "[vsyscall]") &&
			 !(stack_on_top && lo == stack_lo && hi == stack_hi))
			assert_true(hi <= start);
	}
	fclose(f);
	assert_true(seen);
	if (stack_on_top && stack_hi > start) {
		h_note("the tracer's stack holds the top: stub ends %lu pages below it",
		       (unsigned long)((stack_lo - end) / h_page()));
		assert_true(stack_lo >= end);
		assert_true(stack_lo - end <= STACK_GUARD_GAP_PAGES * h_page());
	}
	ptp_close(p);
	/* close takes the tracer's copy of the stub too */
	assert_int_not_equal(msync((void *)start, h_page(), MS_ASYNC), 0);
}

static void fresh_as_maps_only_stub(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);

	assert_int_equal(foreign_mappings(ptp_as_pid(as), ptp_max_user_address(p),
					  ptp_stub_start(p), ptp_stub_end(p)), 0);
	assert_int_equal(foreign_mappings(ptp_master_pid(p), ptp_stub_start(p),
					  ptp_stub_start(p), ptp_stub_end(p)), 0);
	ptp_as_release(as);
	ptp_close(p);
}

static void status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	out[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			snprintf(out, len, "%s", line + strlen(key) + 1);
	fclose(f);
}

static void stub_filter_active(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	pid_t pids[2] = { ptp_master_pid(p), ptp_as_pid(as) };
	char v[64], task[64];

	for (int i = 0; i < 2; i++) {
		status_field(pids[i], "Seccomp", v, sizeof(v));
		assert_int_equal(atoi(v), 2); /* SECCOMP_MODE_FILTER */
		status_field(pids[i], "NoNewPrivs", v, sizeof(v));
		assert_int_equal(atoi(v), 1);
		/* Traced by a thread of ours (the platform's service thread). */
		status_field(pids[i], "TracerPid", v, sizeof(v));
		snprintf(task, sizeof(task), "/proc/self/task/%d", atoi(v));
		assert_int_equal(access(task, F_OK), 0);
	}
	ptp_close(p);
}

/* ptplat.h, "fork": in a child forked after ptp_open, ptp_stats reports
 * zeros and ptp_trim does nothing; the parent's pool and master live on.
 * (platform/fork_after_open checks the behaviour API's part.) */
static void fork_stats_and_trim(void)
{
	struct ptp_platform *p = h_open_pool(2);
	struct ptp_as *pooled = h_as(p), *live = h_as(p);
	struct ptp_stats st;
	pid_t master = ptp_master_pid(p), child;
	int status;

	ptp_as_release(pooled);
	ptp_stats(p, &st);
	assert_int_equal(st.as_live, 1);
	assert_int_equal(st.as_pooled, 1);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		ptp_stats(p, &st);
		if (st.as_live || st.as_pooled || st.traced_threads)
			_exit(1);
		ptp_trim(p);
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the forked child saw non-zero stats (status 0x%x)", status);
	ptp_stats(p, &st);
	assert_int_equal(st.as_live, 1);
	assert_int_equal(st.as_pooled, 1);
	assert_true(h_proc_exists(master));
	ptp_as_release(live);
	ptp_close(p);
}

static unsigned long injections(struct ptp_platform *p)
{
	struct ptp_stats st;

	ptp_stats(p, &st);
	return st.injections;
}

/* The round trips into the stub that ptp_as_map_batch and ptp_as_protect
 * cost (ptplat.h's ptp_stats.injections): none for what the core refuses,
 * one per PTP_AS_BATCH_MAX operations, up to the first that fails. What
 * the operations do, the inject group checks. */
static void batch_round_trips(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page(), n = 2 * PTP_AS_BATCH_MAX + 1, done = 0;
	uintptr_t max = ptp_max_user_address(f.p);
	struct ptp_as_op *ops = calloc(n, sizeof(*ops));
	int fd = h_memfd(pg, NULL, 0);
	unsigned long before;

	assert_non_null(ops);
	/* This thread's traced thread exists before counting. */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, pg), 0);
	before = injections(f.p);
	assert_int_equal(ptp_as_protect(f.as, H_DATA + 1, pg, PROT_READ), -EINVAL);
	assert_int_equal(ptp_as_protect(f.as, max - pg, 2 * pg, PROT_READ), -EFAULT);
	assert_int_equal(ptp_as_map_batch(f.as, ops, 0, &done), 0);
	assert_int_equal(injections(f.p), before);
	for (size_t i = 0; i < n; i++)
		ops[i] = (struct ptp_as_op){ .kind = i % 2 ? PTP_AS_OP_UNMAP : PTP_AS_OP_MAP,
					    .addr = H_DATA + (i / 2) * pg, .len = pg,
					    .prot = PROT_READ, .fd = fd };
	assert_int_equal(ptp_as_map_batch(f.as, ops, PTP_AS_BATCH_MAX, &done), 0);
	assert_int_equal(injections(f.p) - before, 1);
	before = injections(f.p);
	assert_int_equal(ptp_as_map_batch(f.as, ops, n, &done), 0);
	assert_int_equal(done, n);
	assert_int_equal(injections(f.p) - before, 3);
	/* Failed in the stub at the second: one round trip. */
	ops[1] = (struct ptp_as_op){ .kind = PTP_AS_OP_MAP, .addr = H_DATA + pg, .len = pg,
				    .prot = PROT_READ, .fd = -1 };
	before = injections(f.p);
	assert_int_equal(ptp_as_map_batch(f.as, ops, 3, &done), -EBADF);
	assert_int_equal(injections(f.p) - before, 1);
	/* Refused in the core at the second: the first still runs, once. */
	ops[1] = (struct ptp_as_op){ .kind = PTP_AS_OP_PROTECT, .addr = max - pg,
				    .len = 2 * pg, .prot = PROT_READ };
	before = injections(f.p);
	assert_int_equal(ptp_as_map_batch(f.as, ops, 3, &done), -EFAULT);
	assert_int_equal(done, 1);
	assert_int_equal(injections(f.p) - before, 1);
	/* Refused at the first: none. */
	before = injections(f.p);
	assert_int_equal(ptp_as_map_batch(f.as, &ops[1], 2, &done), -EFAULT);
	assert_int_equal(injections(f.p), before);
	free(ops);
	close(fd);
	h_teardown(&f);
}

/* A tracer thread that switches once in each of its n address spaces (the
 * code already mapped), waits at seen (if given) and exits at go, retiring
 * its traced threads. */
struct visitor {
	pthread_t th;
	struct ptp_as *as[3];
	struct ptp_ctx *ctx[3];
	int n;
	pthread_barrier_t *seen, *go;
	int rc; /* 0, or the first failure (-EPROTO: not the loop's getpid) */
};

static void *visitor_main(void *arg)
{
	struct visitor *v = arg;
	struct ptp_event ev;

	for (int a = 0; a < v->n && !v->rc; a++) {
		v->rc = ptp_switch(v->ctx[a], v->as[a], &ev);
		if (!v->rc && (ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid))
			v->rc = -EPROTO;
	}
	if (v->seen) {
		pthread_barrier_wait(v->seen);
		pthread_barrier_wait(v->go);
	}
	return NULL;
}

static void visitor_start(struct visitor *v, struct ptp_platform *p)
{
	for (int a = 0; a < v->n; a++) {
		v->ctx[a] = h_ctx(p);
		ptp_ctx_set_ip(v->ctx[a], H_CODE);
	}
	assert_int_equal(pthread_create(&v->th, NULL, visitor_main, v), 0);
}

static void visitor_free(struct visitor *v)
{
	for (int a = 0; a < v->n; a++)
		ptp_ctx_free(v->ctx[a]);
}

/* What ptp_stats should say about address spaces and traced threads. */
struct counts {
	unsigned int live, pooled, traced;
	unsigned long created, retired; /* traced threads */
};

/* ptp_stats says want, and the master's children are the live and pooled
 * address spaces (no zombie). */
static void assert_counts(struct ptp_platform *p, struct counts want)
{
	struct ptp_stats st;

	ptp_stats(p, &st);
	assert_int_equal(st.as_live, want.live);
	assert_int_equal(st.as_pooled, want.pooled);
	assert_int_equal(st.traced_threads, want.traced);
	assert_int_equal(st.threads_created, want.created);
	assert_int_equal(st.threads_retired, want.retired);
	assert_int_equal(h_children_of(ptp_master_pid(p)), (int)(want.live + want.pooled));
}

static unsigned long as_created(struct ptp_platform *p)
{
	struct ptp_stats st;

	ptp_stats(p, &st);
	return st.as_created;
}

/*
 * The thread and address-space counters of ptp_stats, ptp_as_thread_count
 * and the master's children follow what threadpool and lifecycle see
 * through /proc: one traced thread per tracer thread and address space,
 * made at its first map or switch there, kept while the address space is
 * pooled, retired when the tracer thread exits; a pooled address space is
 * handed out again, not forked anew.
 */
static void stats_follow_threads_and_spaces(void)
{
	struct ptp_platform *p = h_open_pool(2);
	struct ptp_as *as[2] = { h_as(p), h_as(p) }, *again;
	struct ptp_ctx *mine = h_ctx(p);
	struct visitor v = { .as = { as[0], as[1] }, .n = 2 };
	pthread_barrier_t seen, go;
	struct ptp_event ev;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	assert_int_equal(as_created(p), 2);
	assert_counts(p, (struct counts){ .live = 2 });
	for (int a = 0; a < 2; a++) {
		/* The map (where app threads stay traced) or else the first
		 * switch makes this thread's traced thread. */
		h_load(as[a], mine, PAYLOAD_SYSCALL_LOOP);
		h_switch(mine, as[a], &ev, PTP_EV_SYSCALL);
		assert_int_equal(ptp_as_thread_count(as[a]), 1);
	}
	assert_counts(p, (struct counts){ .live = 2, .traced = 2, .created = 2 });

	pthread_barrier_init(&seen, NULL, 2);
	pthread_barrier_init(&go, NULL, 2);
	v.seen = &seen;
	v.go = &go;
	visitor_start(&v, p);
	pthread_barrier_wait(&seen);
	assert_int_equal(v.rc, 0);
	for (int a = 0; a < 2; a++)
		assert_int_equal(ptp_as_thread_count(as[a]), 2);
	/* Pooled, the address space keeps both. */
	ptp_as_release(as[1]);
	assert_counts(p, (struct counts){ .live = 1, .pooled = 1, .traced = 4, .created = 4 });
	pthread_barrier_wait(&go);
	assert_int_equal(pthread_join(v.th, NULL), 0);
	assert_counts(p, (struct counts){ .live = 1, .pooled = 1, .traced = 2, .created = 4,
					  .retired = 2 });
	assert_int_equal(ptp_as_thread_count(as[0]), 1);

	again = h_as(p);
	assert_int_equal(ptp_as_thread_count(again), 1);
	assert_int_equal(as_created(p), 2);
	assert_counts(p, (struct counts){ .live = 2, .traced = 2, .created = 4, .retired = 2 });

	visitor_free(&v);
	ptp_ctx_free(mine);
	ptp_as_release(as[0]);
	ptp_as_release(again);
	ptp_close(p);
	pthread_barrier_destroy(&seen);
	pthread_barrier_destroy(&go);
	assert_int_equal(h_children_of(0), 0);
}

/* A tracer thread new to a dead address space gets no traced thread there,
 * and the dead one, released, is destroyed, not pooled. */
static void dead_as_no_thread_no_pool(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *mine = h_ctx(p);
	struct visitor v = { .as = { as }, .n = 1 };
	long deadline = h_now_ms() + 2000;
	struct ptp_event ev;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	h_load(as, mine, PAYLOAD_SYSCALL_LOOP);
	h_switch(mine, as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(kill(ptp_as_pid(as), SIGKILL), 0);
	while (ptp_as_status(as) == 0 && h_now_ms() < deadline)
		usleep(2000);
	assert_int_equal(ptp_as_status(as), -ESRCH);
	visitor_start(&v, p);
	assert_int_equal(pthread_join(v.th, NULL), 0);
	assert_int_equal(v.rc, -ESRCH);
	ptp_as_release(as);
	assert_counts(p, (struct counts){ .created = 1, .retired = 0 });
	visitor_free(&v);
	ptp_ctx_free(mine);
	ptp_close(p);
}

/* Pooled address spaces whose tracer threads exited: ptp_trim destroys
 * them and their traced threads, and leaves no process, zombie or fd. */
static void trim_leaves_nothing(void)
{
	struct ptp_platform *p = h_open();
	int fds = h_count_fds();
	struct ptp_ctx *mine = h_ctx(p);
	struct visitor v = { .n = 3 };
	pid_t pids[3], tids[3];
	struct ptp_event ev;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	for (int a = 0; a < 3; a++) {
		v.as[a] = h_as(p);
		pids[a] = ptp_as_pid(v.as[a]);
		h_load(v.as[a], mine, PAYLOAD_SYSCALL_LOOP);
		h_switch(mine, v.as[a], &ev, PTP_EV_SYSCALL);
	}
	visitor_start(&v, p);
	assert_int_equal(pthread_join(v.th, NULL), 0);
	assert_int_equal(v.rc, 0);
	for (int a = 0; a < 3; a++) {
		tids[a] = ptp_ctx_tid(v.ctx[a]);
		ptp_as_release(v.as[a]);
	}
	assert_counts(p, (struct counts){ .pooled = 3, .traced = 3, .created = 6, .retired = 3 });

	ptp_trim(p);
	assert_counts(p, (struct counts){ .created = 6, .retired = 3 });
	for (int a = 0; a < 3; a++) {
		assert_false(h_proc_exists(pids[a]));
		assert_false(h_proc_exists(tids[a]));
	}
	visitor_free(&v);
	ptp_ctx_free(mine);
	ptp_close(p);
	assert_int_equal(h_count_fds(), fds);
	assert_int_equal(h_children_of(0), 0);
}

/* Where an app without a tracer attached shares a page with it, a forged
 * write to that page (here: the state word says an event is ready, with
 * none copied) must cost that address space alone: -ESRCH, within the
 * 100 ms a death takes to be seen, and nothing else changes. */
static void forged_shared_page_kills_only_its_as(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	struct ptp_as *other = h_as(f.p);
	struct ptp_ctx *other_ctx = h_ctx(f.p);
	struct ptp_event ev;
	uintptr_t page, end;
	long t0;

	if (ptp_caps(f.p)->app_traced)
		h_skip("the %s backend keeps the app traced: it shares no page with it",
		       ptp_backend_name(ptp_caps(f.p)->backend));
	h_load(other, other_ctx, PAYLOAD_SYSCALL_LOOP);
	h_switch(other_ctx, other, &ev, PTP_EV_SYSCALL);
	/* The first switch made the thread and its page. */
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	/* The page is the memfd the backend names so. */
	assert_true(h_mapping(ptp_as_pid(f.as), 0, "ptp-systrap", &page, &end));
	h_load_at(f.as, H_CODE + 0x100000ul, PAYLOAD_WRITE_SPIN);
	ptp_ctx_set_ip(f.ctx, H_CODE + 0x100000ul);
	ptp_ctx_set_arg(f.ctx, 0, page);
	ptp_ctx_set_arg(f.ctx, 1, 1); /* the state word: "an event is ready" */
	t0 = h_now_ms();
	assert_int_equal(ptp_switch(f.ctx, f.as, &ev), -ESRCH);
	assert_true(h_now_ms() - t0 < 100);
	assert_int_equal(ptp_as_status(f.as), -ESRCH);
	assert_int_equal(ptp_platform_status(f.p), 0);
	assert_int_equal(ptp_as_status(other), 0);
	h_switch(other_ctx, other, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_getpid);
	ptp_ctx_free(other_ctx);
	ptp_as_release(other);
	h_teardown(&f);
}

/* TracerPid in /proc/PID/task/TID/status, or -1. */
static int tracer_pid_of(pid_t pid, pid_t tid)
{
	char path[96], line[256];
	int tracer = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "TracerPid: %d", &tracer) == 1)
			break;
	fclose(f);
	return tracer;
}

/*
 * The point of systrap (issue #12): while switches run, the app's thread has
 * no tracer, and a switch makes no ptrace request. Where the backend keeps
 * the app traced, the same count is the positive control: at least one
 * request per switch, and this process as the tracer.
 */
static void switches_and_ptrace_calls(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	bool traced = ptp_caps(f.p)->app_traced;
	struct ptp_stats before, after;
	struct ptp_event ev;
	int tracer = -2;

	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	ptp_stats(f.p, &before);
	for (int i = 0; i < 1000; i++) {
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		if (i == 500)
			tracer = tracer_pid_of(ptp_as_pid(f.as), ptp_ctx_tid(f.ctx));
	}
	ptp_stats(f.p, &after);
	h_note("%s: %lu ptrace calls in 1000 switches, TracerPid %d",
	       ptp_backend_name(ptp_caps(f.p)->backend),
	       after.ptrace_calls - before.ptrace_calls, tracer);
	if (traced) {
		assert_true(after.ptrace_calls - before.ptrace_calls >= 1000);
		assert_int_equal(tracer, getpid());
	} else {
		assert_int_equal(after.ptrace_calls - before.ptrace_calls, 0);
		assert_int_equal(tracer, 0);
		assert_true(after.handoffs_spun + after.handoffs_slept >=
			    before.handoffs_spun + before.handoffs_slept + 2000);
	}
	h_teardown(&f);
}

#if AF_SYSTRAP_BUILT
struct irq_sender {
	struct ptp_ctx *ctx;
	atomic_bool stop;
};

static void *send_interrupts(void *arg)
{
	struct irq_sender *snd = arg;

	while (!atomic_load(&snd->stop)) {
		usleep(20000);
		ptp_interrupt(snd->ctx);
	}
	return NULL;
}
#endif

/*
 * The app makes an rt_sigreturn of its own through the handler's (the one
 * syscall its filter lets through from there), with a forged frame that
 * blocks every signal, the interrupt's too, and then spins without
 * syscalls. No interrupt can reach it: the switch must still end, bounded
 * (the address space kills itself: -ESRCH), and nothing else is touched.
 */
static void forged_sigreturn_blocking_interrupts_ends(void)
{
#if AF_SYSTRAP_BUILT
	struct hfix f = h_setup(PAYLOAD_EXEC);
	struct ptp_as *other = h_as(f.p);
	struct ptp_ctx *other_ctx = h_ctx(f.p);
	struct irq_sender snd = { .ctx = f.ctx };
	size_t pg = h_page();
	unsigned char frame[4096] = { 0 };
	const uint64_t spin = H_CODE + 0x100000ul, uc = H_STACK + 0x100;
	uint64_t all = ~0ull, v, page, end;
	const unsigned char *restorer;
	struct ptp_event ev;
	pthread_t th;
	long t0;
	int fd, rc;

	if (ptp_caps(f.p)->app_traced)
		h_skip("the %s backend keeps the app traced: its rt_sigreturn is a "
		       "syscall event, never run",
		       ptp_backend_name(ptp_caps(f.p)->backend));
	restorer = memmem((const void *)ptp_stub_start(f.p),
			  ptp_stub_end(f.p) - ptp_stub_start(f.p), AF_SIGRETURN_INSN,
			  sizeof(AF_SIGRETURN_INSN) - 1);
	assert_non_null(restorer);
	h_load(other, other_ctx, PAYLOAD_SYSCALL_LOOP);
	/* The first switch makes the thread, its region and altstack. */
	ptp_ctx_set_arg(f.ctx, 0, H_CODE); /* a jump to itself: spins */
	snd.stop = false;
	assert_int_equal(pthread_create(&th, NULL, send_interrupts, &snd), 0);
	h_switch(f.ctx, f.as, &ev, PTP_EV_INTERRUPTED);
	assert_true(h_mapping(ptp_as_pid(f.as), 0, "ptp-systrap", &page, &end));
	/* The frame keeps the altstack as it is (the shared part is 0x6000
	 * bytes, the altstack the rest of the region, stub/systrap-abi.h). */
	v = page + 0x6000;
	memcpy(frame + 0x100 + AF_UC_STACK, &v, 8);
	v = 0xa000;
	memcpy(frame + 0x100 + AF_UC_STACK + 16, &v, 8);
	v = H_STACK + 0x800;
	memcpy(frame + 0x100 + AF_UC_SP, &v, 8);
	memcpy(frame + 0x100 + AF_UC_IP, &spin, 8);
	v = AF_USER_FLAGS;
	memcpy(frame + 0x100 + AF_UC_FLAGS, &v, 8);
	v = AF_USER_ARCH_WORD;
	memcpy(frame + 0x100 + AF_UC_ARCH_WORD, &v, 8);
	memcpy(frame + 0x100 + AF_UC_SIGMASK, &all, 8);
	fd = h_memfd(pg, frame, sizeof(frame) < pg ? sizeof(frame) : pg);
	assert_int_equal(ptp_as_map(f.as, H_STACK, pg, PROT_READ | PROT_WRITE, fd, 0, 0), 0);
	close(fd);
	h_load_at(f.as, spin, PAYLOAD_SPIN);
	ptp_ctx_set_arg(f.ctx, 0, (uintptr_t)restorer);
	ptp_ctx_set_sp(f.ctx, uc - AF_SIGFRAME_UC);
	t0 = h_now_ms();
	/* An interrupt sent before the forged frame took effect ends a
	 * switch early (spurious interrupts are allowed): the app then goes
	 * on from where it was, into its rt_sigreturn. */
	for (int early = 0; (rc = ptp_switch(f.ctx, f.as, &ev)) == 0; early++) {
		if (ev.kind != PTP_EV_INTERRUPTED || early == 10)
			fail_msg("switch %d after the forged frame: %s, want -ESRCH", early,
				 h_event_name(ev.kind));
	}
	assert_int_equal(rc, -ESRCH);
	h_note("-ESRCH after %ld ms", h_now_ms() - t0);
	assert_true(h_now_ms() - t0 < 2000);
	atomic_store(&snd.stop, true);
	pthread_join(th, NULL);
	assert_int_equal(ptp_as_status(f.as), -ESRCH);
	assert_int_equal(ptp_platform_status(f.p), 0);
	h_switch(other_ctx, other, &ev, PTP_EV_SYSCALL);
	ptp_ctx_free(other_ctx);
	ptp_as_release(other);
	h_teardown(&f);
#else
	h_skip("no systrap backend on this arch");
#endif
}

struct other_app {
	struct ptp_ctx *ctx;
	struct ptp_as *as;
	int rc;
	struct ptp_event ev;
};

static void *run_other_app(void *arg)
{
	struct other_app *o = arg;

	o->rc = ptp_switch(o->ctx, o->as, &o->ev);
	return NULL;
}

/*
 * App code of one thread writes another thread's shared page: it clears the
 * flag by which that thread's handler says it sleeps, so the tracer's
 * answer does not wake it. That may cost a bounded delay, never the switch
 * (with two CPUs, where the answer wakes only a sleeper).
 */
static void other_thread_clears_sleeper_flag(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	struct other_app o = { .ctx = h_ctx(f.p), .as = f.as };
	uintptr_t page, end;
	struct ptp_event ev;
	cpu_set_t cpus;
	pthread_t th;
	long t0;

	if (ptp_caps(f.p)->app_traced)
		h_skip("the %s backend keeps the app traced: it shares no page with it",
		       ptp_backend_name(ptp_caps(f.p)->backend));
	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2)
		h_skip("one CPU: the tracer then wakes the handler at every answer");
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_true(h_mapping(ptp_as_pid(f.as), 0, "ptp-systrap", &page, &end));
	usleep(5000); /* past the handler's 20 us spin: it sleeps */
	h_load_at(f.as, H_CODE + 0x100000ul, PAYLOAD_WRITE_SPIN);
	ptp_ctx_set_ip(o.ctx, H_CODE + 0x100000ul);
	ptp_ctx_set_arg(o.ctx, 0, page + 8); /* its sleeper and spun flags */
	ptp_ctx_set_arg(o.ctx, 1, 0);
	assert_int_equal(pthread_create(&th, NULL, run_other_app, &o), 0);
	usleep(50000);
	ptp_interrupt(o.ctx);
	pthread_join(th, NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.ev.kind, PTP_EV_INTERRUPTED);
	t0 = h_now_ms();
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	h_note("the switch after the write took %ld ms", h_now_ms() - t0);
	assert_true(h_now_ms() - t0 < 1000);
	ptp_ctx_free(o.ctx);
	h_teardown(&f);
}

/* Entries of /proc/PID/fd. */
static int fd_count_of(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	return h_count_numeric(path);
}

/* A field of /proc/PID/task/TID/status, as a number (base 10 or 16). */
static unsigned long long task_field(pid_t pid, pid_t tid, const char *key, int base)
{
	char path[96], line[256];
	unsigned long long v = ~0ull;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)pid, (int)tid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			v = strtoull(line + strlen(key) + 1, NULL, base);
	fclose(f);
	return v;
}

/* Before any app thread exists, the stub is its leader and the syscall
 * thread: untraced, every signal it can block blocked, and one seccomp
 * filter more than the leader (its own). */
static void syscall_thread_is_own(pid_t pid)
{
	char dir[64];
	DIR *d;
	struct dirent *e;
	int others = 0;

	assert_int_equal(h_task_count(pid), 2);
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)pid);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		pid_t tid = (pid_t)atoi(e->d_name);

		if (tid <= 0 || tid == pid)
			continue;
		others++;
		assert_int_equal(task_field(pid, tid, "TracerPid", 10), 0);
		assert_int_equal(task_field(pid, tid, "Seccomp_filters", 10),
				 task_field(pid, pid, "Seccomp_filters", 10) + 1);
		assert_int_equal(task_field(pid, tid, "SigBlk", 16) | (1ull << (SIGKILL - 1)) |
					 (1ull << (SIGSTOP - 1)),
				 ~0ull);
	}
	closedir(d);
	assert_int_equal(others, 1);
}

/*
 * ptp_as_map and the rest cost one injection each; on a backend whose app
 * runs untraced (systrap), they go through the address space's syscall
 * thread and make no ptrace call at all, and the stub holds no fd of the
 * tracer's (its table has the thread's socket alone, the mapped fds closed
 * after each map). Where the app stays traced, the count is the positive
 * control: the maps are ptrace injections.
 */
static void maps_make_no_ptrace_calls(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	bool traced = ptp_caps(f.p)->app_traced;
	size_t pg = h_page();
	struct ptp_as_op ops[16];
	struct ptp_stats before, after;
	int fd = h_memfd(16 * pg, NULL, 0);
	unsigned long calls;

	for (size_t i = 0; i < 16; i++)
		ops[i] = (struct ptp_as_op){ .kind = PTP_AS_OP_MAP, .addr = H_DATA + i * pg,
					    .len = pg, .prot = PROT_READ, .fd = fd,
					    .offset = (off_t)(i * pg) };
	/* The calling thread's traced thread, where maps need one, exists. */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, pg), 0);
	ptp_stats(f.p, &before);
	for (int i = 0; i < 50; i++) {
		assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, fd, 0, 0), 0);
		assert_int_equal(ptp_as_protect(f.as, H_DATA, pg, PROT_NONE), 0);
		assert_int_equal(ptp_as_unmap(f.as, H_DATA, pg), 0);
		assert_int_equal(ptp_as_map_batch(f.as, ops, 16, NULL), 0);
	}
	ptp_stats(f.p, &after);
	calls = after.ptrace_calls - before.ptrace_calls;
	h_note("%s: %lu ptrace calls in 200 maps, unmaps, protects and batches "
	       "(%lu injections); the stub has %d fds",
	       ptp_backend_name(ptp_caps(f.p)->backend), calls,
	       after.injections - before.injections, fd_count_of(ptp_as_pid(f.as)));
	assert_int_equal(after.injections - before.injections, 200);
	if (traced) {
		assert_true(calls >= 200);
	} else {
		assert_int_equal(calls, 0);
		assert_int_equal(fd_count_of(ptp_as_pid(f.as)), 1);
		syscall_thread_is_own(ptp_as_pid(f.as));
	}
	close(fd);
	h_teardown(&f);
}

/* The syscall thread's pages: the read-only request page, then the result
 * page, in the address space (the memfd the backend names so). */
static uintptr_t syscall_pages_of(struct hfix *f)
{
	uintptr_t page, end;

	if (ptp_caps(f->p)->app_traced)
		h_skip("the %s backend makes its maps by ptrace: no syscall thread",
		       ptp_backend_name(ptp_caps(f->p)->backend));
	assert_true(h_mapping(ptp_as_pid(f->as), 0, "ptp-syscall", &page, &end));
	return page;
}

/* Points ctx at write_spin in its address space: one 64-bit store of value
 * at addr, then a spin. */
static void write_once(struct hfix *f, struct ptp_ctx *ctx, uintptr_t addr, uint64_t value)
{
	h_load_at(f->as, H_CODE + 0x100000ul, PAYLOAD_WRITE_SPIN);
	ptp_ctx_set_ip(ctx, H_CODE + 0x100000ul);
	ptp_ctx_set_arg(ctx, 0, addr);
	ptp_ctx_set_arg(ctx, 1, value);
}

/* The app cannot forge a request: the page is read-only in the stub, and a
 * write there is the app's own fault. The address space maps on. */
static void syscall_request_page_read_only(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	struct ptp_event ev;
	uintptr_t req;
	int fd = h_memfd(h_page(), NULL, 0);

	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	req = syscall_pages_of(&f);
	write_once(&f, f.ctx, req, 0x4141414141414141ull);
	h_switch(f.ctx, f.as, &ev, PTP_EV_FAULT);
	assert_int_equal(ev.info.si_signo, SIGSEGV);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);
	assert_ptr_equal(ev.info.si_addr, (void *)req);
	assert_int_equal(ptp_as_map(f.as, H_DATA, h_page(), PROT_READ, fd, 0, 0), 0);
	assert_int_equal(ptp_as_status(f.as), 0);
	close(fd);
	h_teardown(&f);
}

/* A 32-bit word of the address space, read as the app could (through
 * /proc/PID/mem here): the sequence number of the syscall thread's last
 * request, or a word of its result page. */
static uint32_t word_at(pid_t pid, uintptr_t req)
{
	char path[64];
	uint32_t seq = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &seq, sizeof(seq), (off_t)req), (ssize_t)sizeof(seq));
	close(fd);
	return seq;
}

/* Whether the app thread's store has landed within 5 s (no assert: the
 * mapping thread calls it too). */
static bool wait_word(pid_t pid, uintptr_t addr, uint32_t value)
{
	long t0 = h_now_ms();

	while (word_at(pid, addr) != value) {
		if (h_now_ms() - t0 > 5000)
			return false;
		usleep(1000);
	}
	return true;
}

struct forged_map {
	struct ptp_as *as;
	int fd;
	uintptr_t res;
	uint32_t next;
	int rc;
	long ms;
};

/* Once the app's forged answer is there: a map, and how long it took. */
static void *map_after_forgery(void *arg)
{
	struct forged_map *m = arg;
	long t0;

	if (!wait_word(ptp_as_pid(m->as), m->res, m->next)) {
		m->rc = 1; /* never landed; the AS goes for the switch to end */
		kill(ptp_as_pid(m->as), SIGKILL);
		return NULL;
	}
	t0 = h_now_ms();
	m->rc = ptp_as_map(m->as, H_DATA, h_page(), PROT_READ, m->fd, 0, 0);
	m->ms = h_now_ms() - t0;
	return NULL;
}

/*
 * The result page is the app's to write. Written before a map, a number no
 * request has (the tracer must not wait for an answer that cannot come),
 * then a whole forged answer ahead of the thread's, with a result no map
 * gives: either kills that address space alone, at once (the tracer checks
 * the word before each request, and the answer it reads), and the tracer
 * never returns the forged result.
 */
static void forged_syscall_answer_kills_only_its_as(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	struct ptp_as *as2 = h_as(f.p);
	struct other_app o[2] = { { .ctx = f.ctx, .as = f.as },
				  { .ctx = h_ctx(f.p), .as = as2 } };
	int fd = h_memfd(h_page(), NULL, 0);
	struct ptp_as *other = h_as(f.p);
	struct ptp_event ev;
	pthread_t th[2];
	uintptr_t res;
	long t0;

	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	res = syscall_pages_of(&f) + 0x1000;
	write_once(&f, f.ctx, res, 0x4141414141414141ull);
	assert_int_equal(pthread_create(&th[0], NULL, run_other_app, &o[0]), 0);
	assert_true(wait_word(ptp_as_pid(f.as), res, 0x41414141));
	t0 = h_now_ms();
	assert_int_equal(ptp_as_map(f.as, H_DATA, h_page(), PROT_READ, fd, 0, 0), -ESRCH);
	h_note("a forged sequence number: -ESRCH after %ld ms", h_now_ms() - t0);
	assert_true(h_now_ms() - t0 < 1000);
	pthread_join(th[0], NULL);
	assert_int_equal(o[0].rc, -ESRCH);

	/* An answer to the next request, written before it: the app thread
	 * runs here, the map comes from another thread. */
	struct hfix f2 = { .p = f.p, .as = as2, .ctx = o[1].ctx };
	struct forged_map m = { .as = as2, .fd = fd };

	h_load(as2, o[1].ctx, PAYLOAD_SYSCALL_LOOP);
	h_switch(o[1].ctx, as2, &ev, PTP_EV_SYSCALL);
	m.res = syscall_pages_of(&f2) + 0x1000;
	write_once(&f2, o[1].ctx, m.res, 0);
	/* After write_once's own map. */
	m.next = word_at(ptp_as_pid(as2), m.res - 0x1000) + 1;
	ptp_ctx_set_arg(o[1].ctx, 1, m.next);
	assert_int_equal(pthread_create(&th[1], NULL, map_after_forgery, &m), 0);
	assert_int_equal(ptp_switch(o[1].ctx, as2, &ev), -ESRCH);
	pthread_join(th[1], NULL);
	assert_int_equal(m.rc, -ESRCH);
	assert_true(m.ms < 1000);

	assert_int_equal(ptp_platform_status(f.p), 0);
	assert_int_equal(ptp_as_map(other, H_DATA, h_page(), PROT_READ, fd, 0, 0), 0);
	ptp_ctx_free(o[1].ctx);
	ptp_as_release(other);
	ptp_as_release(as2);
	close(fd);
	h_teardown(&f);
}


/* One tracer thread more than an address space has room for (systrap's
 * slots) gets an error of its own, -EAGAIN, and costs nobody else: the
 * address space and every thread already in it go on. */
struct slot_user {
	pthread_t th;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	pthread_barrier_t *in, *out;
	int first, second;
};

static void *slot_user_main(void *arg)
{
	struct slot_user *u = arg;
	struct ptp_event ev;

	u->first = ptp_switch(u->ctx, u->as, &ev);
	if (u->first == 0 && (ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid))
		u->first = -EPROTO;
	pthread_barrier_wait(u->in);
	pthread_barrier_wait(u->out);
	u->second = u->first ? u->first : ptp_switch(u->ctx, u->as, &ev);
	return NULL;
}

static void thread_over_the_limit_costs_only_itself(void)
{
	enum { N = PTP_SYSTRAP_SLOTS + 1 };
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	static struct slot_user u[N];
	pthread_barrier_t in, out;
	int ok = 0, again = 0;

	if (ptp_caps(f.p)->app_traced)
		h_skip("the %s backend keeps no per-address-space thread slots",
		       ptp_backend_name(ptp_caps(f.p)->backend));
	pthread_barrier_init(&in, NULL, N + 1);
	pthread_barrier_init(&out, NULL, N + 1);
	for (int i = 0; i < N; i++) {
		u[i] = (struct slot_user){ .as = f.as, .ctx = h_ctx(f.p), .in = &in, .out = &out };
		ptp_ctx_set_ip(u[i].ctx, H_CODE);
		assert_int_equal(pthread_create(&u[i].th, NULL, slot_user_main, &u[i]), 0);
	}
	/* All N hold their threads here: none has retired one yet. */
	pthread_barrier_wait(&in);
	for (int i = 0; i < N; i++) {
		ok += u[i].first == 0;
		again += u[i].first == -EAGAIN;
	}
	assert_int_equal(ok, PTP_SYSTRAP_SLOTS);
	assert_int_equal(again, 1);
	assert_int_equal(ptp_as_status(f.as), 0);
	pthread_barrier_wait(&out);
	for (int i = 0; i < N; i++) {
		assert_int_equal(pthread_join(u[i].th, NULL), 0);
		assert_int_equal(u[i].second, u[i].first);
		ptp_ctx_free(u[i].ctx);
	}
	assert_int_equal(ptp_as_status(f.as), 0);
	pthread_barrier_destroy(&in);
	pthread_barrier_destroy(&out);
	h_teardown(&f);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(stub_at_the_top),
		HCASE(fresh_as_maps_only_stub),
		HCASE(stub_filter_active),
		HCASE(fork_stats_and_trim),
		HCASE(batch_round_trips),
		HCASE(stats_follow_threads_and_spaces),
		HCASE(dead_as_no_thread_no_pool),
		HCASE(trim_leaves_nothing),
		HCASE(forged_shared_page_kills_only_its_as),
		HCASE(switches_and_ptrace_calls),
		HCASE(forged_sigreturn_blocking_interrupts_ends),
		HCASE(other_thread_clears_sleeper_flag),
		HCASE(thread_over_the_limit_costs_only_itself),
		HCASE(maps_make_no_ptrace_calls),
		HCASE(syscall_request_page_read_only),
		HCASE(forged_syscall_answer_kills_only_its_as),
	};

	return harness_main(argc, argv, "internals", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
