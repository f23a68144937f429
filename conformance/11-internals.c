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
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The lines of /proc/PID/maps other than the stub and [vsyscall]. */
static int foreign_mappings(pid_t pid, uintptr_t stub_start, uintptr_t stub_end)
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
		if (strstr(line, "[vsyscall]"))
			continue;
		h_note("pid %d maps: %s", pid, line);
		n++;
	}
	fclose(f);
	return n;
}

static void stub_at_the_top(void)
{
	struct ptp_platform *p = h_open();
	uintptr_t start = ptp_max_user_address(p), end = ptp_stub_end(p);
	char line[512];
	bool seen = false;
	FILE *f;

	assert_true(start > 0 && end > start);
	assert_int_equal(start % h_page(), 0);
	assert_int_equal(end % h_page(), 0);
	assert_true(ptp_min_user_address(p) < start);
	assert_true(ptp_min_user_address(p) >= h_page());
	/* Nothing of the tracer may sit above the stub. */
	f = fopen("/proc/self/maps", "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		sscanf(line, "%lx-%lx", &lo, &hi);
		if (lo == start && hi == end)
			seen = strstr(line, " r-xp ") != NULL;
		else if (!strstr(line, "[vsyscall]"))
			assert_true(hi <= start);
	}
	fclose(f);
	assert_true(seen);
	ptp_close(p);
}

static void fresh_as_maps_only_stub(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);

	assert_int_equal(foreign_mappings(ptp_as_pid(as), ptp_max_user_address(p),
					  ptp_stub_end(p)), 0);
	assert_int_equal(foreign_mappings(ptp_master_pid(p), ptp_max_user_address(p),
					  ptp_stub_end(p)), 0);
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

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	assert_int_equal(as_created(p), 2);
	assert_counts(p, (struct counts){ .live = 2 });
	for (int a = 0; a < 2; a++) {
		/* The map is injected through this thread's traced thread. */
		h_load(as[a], mine, PAYLOAD_SYSCALL_LOOP);
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

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	h_load(as, mine, PAYLOAD_SYSCALL_LOOP);
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

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	for (int a = 0; a < 3; a++) {
		v.as[a] = h_as(p);
		pids[a] = ptp_as_pid(v.as[a]);
		h_load(v.as[a], mine, PAYLOAD_SYSCALL_LOOP);
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
	};

	return harness_main(argc, argv, "internals", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
