/* SPDX-License-Identifier: Apache-2.0 */
/* faults: stubs killed, stopped and continued from outside; ptrace denied;
 * a traced thread's clone failing at a process limit. Each is reported as a
 * clear error (or absorbed), never a crash or a hang, and the rest of the
 * platform keeps working. Run as: rel-faults faithful|lean [CASE]. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pthread.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "relutil.h"

/* A tracer thread that switches its own context in as until told to stop or
 * until it fails; the payload's counter must follow every switch. */
struct switcher {
	pthread_t th;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	atomic_bool stop;
	unsigned long limit; /* 0: until stopped */
	/* Out. */
	unsigned long done;
	int rc;
	char msg[200];
};

static void *switcher_main(void *arg)
{
	struct switcher *w = arg;
	struct ptp_event ev;

	while (!atomic_load(&w->stop) && (!w->limit || w->done < w->limit)) {
		w->rc = ptp_switch(w->ctx, w->as, &ev);
		if (w->rc < 0)
			break;
		if (ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid ||
		    ptp_ctx_arg(w->ctx, 5) != w->done) {
			snprintf(w->msg, sizeof(w->msg),
				 "switch %lu: %s nr %ld count %lu", w->done,
				 h_event_name(ev.kind), ev.nr,
				 (unsigned long)ptp_ctx_arg(w->ctx, 5));
			break;
		}
		w->done++;
	}
	return NULL;
}

static void switcher_start(struct switcher *w, struct ptp_platform *p,
			   struct ptp_as *as, unsigned long limit)
{
	memset(w, 0, sizeof(*w));
	w->as = as;
	w->limit = limit;
	assert_int_equal(rel_loop_ctx(p, &w->ctx), 0);
	assert_int_equal(pthread_create(&w->th, NULL, switcher_main, w), 0);
}

/* Joins within 20 s: a hang is a failure, not a stuck suite. */
static void switcher_join(struct switcher *w)
{
	struct timespec ts;

	if (!w->limit)
		atomic_store(&w->stop, true);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 20;
	if (pthread_timedjoin_np(w->th, NULL, &ts) != 0)
		fail_msg("a tracer thread hung (%lu switches done)", w->done);
}

static struct ptp_as *loaded_as(struct ptp_platform *p)
{
	struct ptp_as *as = h_as(p);

	h_load_at(as, H_CODE, PAYLOAD_SYSCALL_LOOP);
	return as;
}

static long wait_status(struct ptp_as *as, int want)
{
	long deadline = h_now_ms() + 2000;

	while (ptp_as_status(as) != want && h_now_ms() < deadline)
		usleep(1000);
	return ptp_as_status(as);
}

/* A stub killed from outside while other tracer threads switch in other
 * address spaces, by its leader's pid or by a traced thread's tid: every
 * operation on it says -ESRCH, the others never notice. */
static void killed(bool by_traced_tid)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *victim = loaded_as(p), *other[2] = { loaded_as(p), loaded_as(p) };
	struct switcher in_victim, others[2];
	struct ptp_ctx *ctx = h_ctx(p);
	struct ptp_event ev;
	uint64_t args[6] = { 0 };
	long res;
	pid_t target;

	/* No limit and no stop: it runs until the kill ends it. */
	switcher_start(&in_victim, p, victim, ULONG_MAX);
	for (int i = 0; i < 2; i++)
		switcher_start(&others[i], p, other[i], 0);
	while (in_victim.done < 50 && !in_victim.rc && !in_victim.msg[0])
		usleep(1000);
	target = by_traced_tid ? ptp_ctx_tid(in_victim.ctx) : ptp_as_pid(victim);
	assert_true(target > 0);
	/* Killed under a running switch. */
	assert_int_equal(kill(target, SIGKILL), 0);
	switcher_join(&in_victim);
	if (in_victim.msg[0])
		fail_msg("victim: %s", in_victim.msg);
	assert_int_equal(in_victim.rc, -ESRCH);
	assert_int_equal(wait_status(victim, -ESRCH), -ESRCH);

	/* Every entry point says so, from this thread (with no traced thread
	 * there yet) too. */
	ptp_ctx_set_ip(ctx, H_CODE);
	assert_int_equal(ptp_switch(ctx, victim, &ev), -ESRCH);
	assert_int_equal(ptp_switch(in_victim.ctx, victim, &ev), -ESRCH);
	assert_int_equal(ptp_as_inject(victim, SYS_getpid, args, &res), -ESRCH);
	assert_int_equal(ptp_as_unmap(victim, H_CODE, h_page()), -ESRCH);
	assert_int_equal(ptp_as_protect(victim, H_CODE, h_page(), PROT_READ), -ESRCH);
	const struct ptp_as_op op = { .kind = PTP_AS_OP_UNMAP, .addr = H_CODE, .len = h_page() };
	size_t done = 99;
	assert_int_equal(ptp_as_map_batch(victim, &op, 1, &done), -ESRCH);
	assert_int_equal(done, 0);
	assert_int_equal(h_try_load_at(victim, H_DATA, PAYLOAD_SYSCALL_LOOP), -ESRCH);

	/* The others ran on through it. */
	for (int i = 0; i < 2; i++) {
		unsigned long before = others[i].done;
		long deadline = h_now_ms() + 5000;

		while (others[i].done < before + 50 && !others[i].rc &&
		       !others[i].msg[0] && h_now_ms() < deadline)
			usleep(1000);
		switcher_join(&others[i]);
		if (others[i].msg[0] || others[i].rc)
			fail_msg("other %d: %s (%d)", i, others[i].msg, others[i].rc);
		assert_true(others[i].done >= before + 50);
		assert_int_equal(ptp_as_status(other[i]), 0);
	}
	assert_int_equal(ptp_platform_status(p), 0);
	ptp_as_release(victim);
	assert_false(h_proc_exists(target));
	/* And the platform makes new ones. */
	victim = loaded_as(p);
	h_switch(ctx, victim, &ev, PTP_EV_SYSCALL);

	ptp_ctx_free(ctx);
	ptp_ctx_free(in_victim.ctx);
	for (int i = 0; i < 2; i++) {
		ptp_ctx_free(others[i].ctx);
		ptp_as_release(other[i]);
	}
	ptp_as_release(victim);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

static void stub_killed_by_pid_others_work(void)
{
	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	killed(false);
}

static void stub_killed_by_traced_tid_others_work(void)
{
	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	killed(true);
}

/*
 * SIGSTOP and SIGCONT from outside, at random, to every stub task (master,
 * leaders, traced threads) while two tracer threads switch. The design
 * decision: a stub obeys only its tracer, so the core absorbs stop signals
 * (a stub stopped from outside would freeze the sandbox's thread). Every
 * switch must complete with the right result, and creation and injection
 * must go on working with a stop still pending.
 */
#define STORM_SWITCHES 3000

/* SIGSTOP in the process's shared pending set (/proc/PID/status ShdPnd). */
static bool stop_pending(pid_t pid)
{
	char path[64], line[256];
	unsigned long long mask = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "ShdPnd: %llx", &mask) == 1)
			break;
	fclose(f);
	return mask & (1ull << (SIGSTOP - 1));
}

/* Whether a thread of pid is stopped by a stop signal (T, not t: a ptrace
 * stop). */
static bool thread_in_group_stop(pid_t pid)
{
	char path[320], buf[512];
	struct dirent *de;
	bool stopped = false;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	assert_non_null(d);
	while (!stopped && (de = readdir(d))) {
		const char *paren;
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%s/stat", pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (paren = strrchr(buf, ')')))
			stopped = paren[1] == ' ' && paren[2] == 'T';
		fclose(f);
	}
	closedir(d);
	return stopped;
}

/* The stop reached the stub: still pending (every thread traced or in a
 * ptrace stop), or taken by a thread that runs detached (systrap's syscall
 * thread), which then group-stops. Between the two the taker runs: 1 s. */
static bool stop_reached(pid_t pid)
{
	for (long deadline = h_now_ms() + 1000; h_now_ms() < deadline; usleep(1000))
		if (stop_pending(pid) || thread_in_group_stop(pid))
			return true;
	return false;
}

static void stop_cont_storm(void)
{
	struct ptp_platform *p;
	struct ptp_as *as[2], *fresh;
	struct switcher w[2];
	struct ptp_ctx *ctx;
	struct ptp_event ev;
	uint64_t rng = (uint64_t)h_now_ms();
	unsigned long signals = 0;
	long res;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	p = h_open();
	for (int a = 0; a < 2; a++)
		as[a] = loaded_as(p);
	for (int a = 0; a < 2; a++)
		switcher_start(&w[a], p, as[a], STORM_SWITCHES);
	while ((w[0].done < STORM_SWITCHES || w[1].done < STORM_SWITCHES) &&
	       !w[0].rc && !w[1].rc && !w[0].msg[0] && !w[1].msg[0]) {
		pid_t targets[5] = { ptp_master_pid(p), ptp_as_pid(as[0]),
				     ptp_as_pid(as[1]), ptp_ctx_tid(w[0].ctx),
				     ptp_ctx_tid(w[1].ctx) };
		pid_t t = targets[rel_rand(&rng) % 5];
		int sig = rel_rand(&rng) % 2 ? SIGSTOP : SIGCONT;

		if (t > 0) {
			/* tgkill reaches a traced thread itself; kill the
			 * whole group. */
			if (rel_rand(&rng) % 2)
				syscall(SYS_tgkill, ptp_as_pid(t == targets[3] ? as[0] : as[1]),
					t, sig);
			else
				kill(t, sig);
			signals++;
		}
		usleep((useconds_t)(rel_rand(&rng) % 300));
	}
	for (int a = 0; a < 2; a++) {
		switcher_join(&w[a]);
		if (w[a].msg[0] || w[a].rc)
			fail_msg("as %d: %s (%s)", a, w[a].msg, strerror(-w[a].rc));
		assert_int_equal(w[a].done, STORM_SWITCHES);
		assert_int_equal(ptp_as_status(as[a]), 0);
	}
	h_note("%lu stop/continue signals over %d switches", signals, 2 * STORM_SWITCHES);

	/* Stopped and never continued: still served. The stop is seen at
	 * the stub first (the signals do reach it). */
	kill(ptp_master_pid(p), SIGSTOP);
	kill(ptp_as_pid(as[0]), SIGSTOP);
	assert_true(stop_reached(ptp_as_pid(as[0])));
	ctx = h_ctx(p);
	ptp_ctx_set_ip(ctx, H_CODE);
	h_switch(ctx, as[0], &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_as_inject(as[0], SYS_getpid, NULL, &res), 0);
	assert_int_equal(res, ptp_as_pid(as[0]));
	fresh = loaded_as(p);
	h_switch(ctx, fresh, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_platform_status(p), 0);

	ptp_ctx_free(ctx);
	for (int a = 0; a < 2; a++) {
		ptp_ctx_free(w[a].ctx);
		ptp_as_release(as[a]);
	}
	ptp_as_release(fresh);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/*
 * Asking whether an address space or the platform is alive while other
 * threads drive stubs: a tracer's wait sees its tracees' ptrace stops even
 * when it asks for exits only, so a stop not yet collected by the thread
 * that caused it once read as a death (found by rel-tracer-death: the
 * platform said -EOWNERDEAD with the master alive).
 */
#define STATUS_ROUNDS 300

static void status_while_others_drive_stubs(void)
{
	struct ptp_platform *p;
	struct ptp_as *as;
	struct switcher w;
	unsigned long asked = 0;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	p = h_open_pool(0);
	as = loaded_as(p);
	switcher_start(&w, p, as, 0);
	/* The service thread injects into the master for every creation. */
	for (int i = 0; i < STATUS_ROUNDS; i++) {
		ptp_as_release(h_as(p));
		for (int k = 0; k < 10; k++, asked++) {
			assert_int_equal(ptp_platform_status(p), 0);
			assert_int_equal(ptp_as_status(as), 0);
		}
	}
	switcher_join(&w);
	if (w.msg[0] || w.rc)
		fail_msg("switcher: %s (%s)", w.msg, strerror(-w.rc));
	h_note("%lu status queries during %d creations and %lu switches", asked,
	       STATUS_ROUNDS, w.done);
	ptp_ctx_free(w.ctx);
	ptp_as_release(as);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/* A seccomp filter that fails ptrace with EPERM, on every thread. */
static void deny_ptrace(void)
{
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);

	assert_non_null(f);
	assert_int_equal(seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 0), 0);
	assert_int_equal(seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1), 0);
	assert_int_equal(seccomp_load(f), 0);
	seccomp_release(f);
	/* LeakSanitizer stops the threads with ptrace, which is now denied. */
	h_no_leak_check("ptrace is denied to this process, and LeakSanitizer needs it");
}

/* ptrace denied from the start: ptp_open says -EPERM with a reason. */
static void ptrace_denied_open(void)
{
	struct ptp_platform *p = NULL;
	struct ptp_options o;
	int rc;

	deny_ptrace();
	ptp_options_default(&o);
	o.mode = h_mode;
	rc = ptp_open(&o, &p);
	h_note("ptp_open: %d: %s", rc, ptp_open_error());
	assert_int_equal(rc, -EPERM);
	assert_null(p);
	assert_non_null(strstr(ptp_open_error(), "ptrace"));
	assert_int_equal(h_children_of(0), 0);
}

/* ptrace denied under an open platform: every operation that needs it
 * says -EPERM, nothing crashes, close still takes every stub. */
static void ptrace_denied_after_open(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = loaded_as(p), *none = NULL;
	struct ptp_ctx *ctx = h_ctx(p);
	struct switcher w;
	struct ptp_event ev;
	long res;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	ptp_ctx_set_ip(ctx, H_CODE);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	deny_ptrace();
	/* A systrap switch makes no ptrace request (ptp_caps app_traced
	 * false): it goes on working; everything else needs ptrace. */
	assert_int_equal(ptp_switch(ctx, as, &ev), ptp_caps(p)->app_traced ? -EPERM : 0);
	assert_int_equal(ptp_as_inject(as, SYS_getpid, NULL, &res), -EPERM);
	assert_int_equal(ptp_as_new(p, &none), -EPERM);
	assert_null(none);
	/* A new tracer thread: its traced thread cannot be made. */
	switcher_start(&w, p, as, 1);
	switcher_join(&w);
	assert_int_equal(w.rc, -EPERM);
	ptp_ctx_free(w.ctx);
	ptp_ctx_free(ctx);
	ptp_as_release(as);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/* Yama's scope 3 forbids every attach: only a kernel with Yama, at scope 3,
 * can show it (raising the scope cannot be undone before a reboot, so this
 * only raises it when PTBENCH_YAMA_RAISE=1 says the machine is a throwaway
 * VM). */
static void yama_scope3_open(void)
{
	const char *path = "/proc/sys/kernel/yama/ptrace_scope";
	struct ptp_platform *p = NULL;
	struct ptp_options o;
	int scope = -1, rc;
	FILE *f = fopen(path, "re");

	if (!f)
		h_skip("no Yama in this kernel (%s absent)", path);
	if (fscanf(f, "%d", &scope) != 1)
		scope = -1;
	fclose(f);
	if (scope != 3 && getenv("PTBENCH_YAMA_RAISE") &&
	    strcmp(getenv("PTBENCH_YAMA_RAISE"), "1") == 0) {
		f = fopen(path, "we");
		if (f) {
			fputs("3\n", f);
			fclose(f);
		}
		f = fopen(path, "re");
		if (!f || fscanf(f, "%d", &scope) != 1)
			scope = -1;
		if (f)
			fclose(f);
	}
	if (scope != 3)
		h_skip("Yama ptrace_scope is %d, not 3 (set PTBENCH_YAMA_RAISE=1 in a "
		       "throwaway VM to raise it)", scope);
	ptp_options_default(&o);
	o.mode = h_mode;
	rc = ptp_open(&o, &p);
	h_note("ptp_open under Yama scope 3: %d: %s", rc, ptp_open_error());
	assert_int_equal(rc, -EPERM);
	assert_int_equal(h_children_of(0), 0);
}

/*
 * A process limit on the stub: the injected clone of a new traced thread
 * fails with EAGAIN (gVisor's issue #3942 hangs here). RLIMIT_NPROC binds
 * only a non-root user without CAP_SYS_RESOURCE, so the case drops to
 * nobody first (it runs in its own forked child) and sets the limit on the
 * stub process itself, whose clone it is.
 */
#define UNPRIVILEGED 65534

/* Sets the soft limit only: an unprivileged process cannot raise a hard
 * limit again. RLIM_INFINITY means the hard limit. */
static void set_nproc(pid_t pid, rlim_t soft)
{
	struct rlimit lim;

	assert_int_equal(prlimit(pid, RLIMIT_NPROC, NULL, &lim), 0);
	lim.rlim_cur = soft == RLIM_INFINITY ? lim.rlim_max : soft;
	if (prlimit(pid, RLIMIT_NPROC, &lim, NULL) < 0)
		fail_msg("prlimit of %d: %s", pid, strerror(errno));
}

static void thread_clone_at_pids_limit(void)
{
	struct ptp_platform *p;
	struct ptp_as *as, *none = NULL;
	struct ptp_stats before, after;
	struct switcher w;
	unsigned int threads;
	long t0;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	if (getuid() == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(UNPRIVILEGED, UNPRIVILEGED, UNPRIVILEGED) < 0 ||
		    setresuid(UNPRIVILEGED, UNPRIVILEGED, UNPRIVILEGED) < 0)
			h_skip("cannot drop to uid %d: %s", UNPRIVILEGED, strerror(errno));
		/* A changed uid makes the process non-dumpable, and its stubs
		 * would not be ours to trace. */
		assert_int_equal(prctl(PR_SET_DUMPABLE, 1), 0);
	}
	p = h_open();
	as = loaded_as(p);

	/* One thread exists besides the leader on ptrace (the loader's traced
	 * thread; systrap's loader injects through the leader): no new one
	 * may be made. */
	threads = ptp_as_thread_count(as);
	set_nproc(ptp_as_pid(as), 1);
	ptp_stats(p, &before);
	t0 = h_now_ms();
	switcher_start(&w, p, as, 1);
	switcher_join(&w);
	h_note("a traced thread's clone at the limit: %d (%s) after %ld ms", w.rc,
	       strerror(-w.rc), h_now_ms() - t0);
	assert_int_equal(w.rc, -EAGAIN);
	ptp_stats(p, &after);
	assert_int_equal(after.threads_created, before.threads_created);
	assert_int_equal(ptp_as_thread_count(as), threads);
	assert_int_equal(ptp_as_status(as), 0);
	ptp_ctx_free(w.ctx);

	/* A new address space at the master's limit. */
	set_nproc(ptp_master_pid(p), 1);
	assert_int_equal(ptp_as_new(p, &none), -EAGAIN);
	assert_null(none);
	assert_int_equal(ptp_platform_status(p), 0);

	/* Lifted: both work again. */
	set_nproc(ptp_as_pid(as), RLIM_INFINITY);
	set_nproc(ptp_master_pid(p), RLIM_INFINITY);
	switcher_start(&w, p, as, 20);
	switcher_join(&w);
	if (w.rc || w.msg[0])
		fail_msg("after the limit was lifted: %s (%s)", w.msg, strerror(-w.rc));
	assert_int_equal(w.done, 20);
	/* The switcher's thread was retired when it exited. */
	assert_int_equal(ptp_as_thread_count(as), threads);
	ptp_as_release(loaded_as(p));
	ptp_ctx_free(w.ctx);
	ptp_as_release(as);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/*
 * The same limit as gVisor meets it: a pids cgroup (v1 hierarchy) whose
 * pids.max the injected clone hits. The case moves its own process into a
 * fresh child cgroup (it runs in a forked child), and out again at the end.
 */
#define PIDS_V1 "/sys/fs/cgroup/pids"

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : write(fd, text, strlen(text));

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)strlen(text))
		fail_msg("write %s to %s: %s", text, path, strerror(errno));
}

static long read_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "re");

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static void thread_clone_at_cgroup_pids_max(void)
{
	char dir[128], path[192], num[32];
	struct ptp_platform *p;
	struct ptp_as *as;
	struct switcher w;

	h_need_payload(PAYLOAD_SYSCALL_LOOP);
	snprintf(dir, sizeof(dir), PIDS_V1 "/ptbench-rel-%d", (int)getpid());
	/* The reason names the privilege when it is what is missing: the
	 * hierarchy is there, but only root (or its owner) may write it. */
	if (access(PIDS_V1 "/cgroup.procs", F_OK) == 0 &&
	    access(PIDS_V1 "/cgroup.procs", W_OK) != 0)
		h_skip("uid %d may not write the cgroup v1 pids hierarchy at " PIDS_V1
		       " (%s: it needs root or a subtree delegated to this uid; the "
		       "RLIMIT_NPROC case covers the same EAGAIN)",
		       (int)geteuid(), strerror(errno));
	if (access(PIDS_V1 "/cgroup.procs", W_OK) != 0)
		h_skip("no writable cgroup v1 pids hierarchy at " PIDS_V1 " (a v2 "
		       "hierarchy needs a delegated subtree; the RLIMIT_NPROC case "
		       "covers the same EAGAIN)");
	if (mkdir(dir, 0755) != 0)
		h_skip("cannot create %s: %s", dir, strerror(errno));
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(num, sizeof(num), "%d", (int)getpid());
	write_file(path, num);

	p = h_open();
	as = loaded_as(p);
	/* Room for the switcher's own pthread, none for its traced thread. */
	snprintf(path, sizeof(path), "%s/pids.current", dir);
	snprintf(num, sizeof(num), "%ld", read_long(path) + 1);
	snprintf(path, sizeof(path), "%s/pids.max", dir);
	write_file(path, num);
	switcher_start(&w, p, as, 1);
	switcher_join(&w);
	h_note("a traced thread's clone at pids.max %s: %d (%s)", num, w.rc,
	       strerror(-w.rc));
	assert_int_equal(w.rc, -EAGAIN);
	assert_int_equal(ptp_as_status(as), 0);
	ptp_ctx_free(w.ctx);

	write_file(path, "max");
	switcher_start(&w, p, as, 20);
	switcher_join(&w);
	assert_int_equal(w.done, 20);
	ptp_ctx_free(w.ctx);
	ptp_as_release(as);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
	snprintf(num, sizeof(num), "%d", (int)getpid());
	write_file(PIDS_V1 "/cgroup.procs", num);
	assert_int_equal(rmdir(dir), 0);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(stub_killed_by_pid_others_work),
		HCASE(stub_killed_by_traced_tid_others_work),
		HCASE(stop_cont_storm),
		HCASE(status_while_others_drive_stubs),
		HCASE(ptrace_denied_open),
		HCASE(ptrace_denied_after_open),
		HCASE(thread_clone_at_pids_limit),
		HCASE(thread_clone_at_cgroup_pids_max),
		/* Last: a raised scope stays until reboot and denies every
		 * case after it. */
		HCASE(yama_scope3_open),
	};

	return harness_main(argc, argv, "faults", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
