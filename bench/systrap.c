/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systrap rungs of the mechanism family: one syscall round trip the way
 * gVisor's systrap platform makes it, bare, without the core (the yardstick
 * a systrap backend is judged against, issue #12):
 *
 *   mechanism/systrap_futex  a forked stub traps its getpid with
 *       SECCOMP_RET_TRAP; its SIGSYS handler, on a sigaltstack, copies the
 *       frame's general registers and its whole FP/SIMD record (x86_64: the
 *       XSAVE area of the size the frame gives; arm64: fpsimd_context) into
 *       a memfd page it shares with this process, sets the state word and
 *       wakes it with FUTEX_WAKE, then waits with FUTEX_WAIT. This process
 *       copies the state out, checks the syscall number, sets the result,
 *       copies it all back and wakes the stub, which copies it into the
 *       frame and returns through rt_sigreturn. Both on one CPU (the
 *       facts: cross-CPU futex varies by 26%).
 *   mechanism/systrap_spin   the same on two CPUs, each side spinning on the
 *       state word up to 20 us (gVisor's bound) before it sleeps in a futex.
 *   mechanism/patched_call   the app calls the handler's hand-off directly,
 *       with no trap and no signal, as gVisor's syscall patching does: it
 *       copies as many bytes as the signal path does (from a register
 *       block, not from a frame the kernel built), then the same spin
 *       hand-off on two CPUs. The rung below systrap_spin.
 *
 * Proof of interception: the stub's getpid must return MECH_SENTINEL,
 * which no real getpid returns; the stub counts completed calls and
 * mismatches on the shared page, and this process checks, after every
 * batch, that the count equals the round trips it served and that no
 * mismatch or stray signal happened.
 *
 * Every figure also reports spin_share (the hand-offs that ended within
 * the spin, both sides) and the CPU time per round trip of each side
 * (tracer_cpu_ns, stub_cpu_ns, from /proc/.../schedstat): a spinning
 * hand-off burns a second CPU, which latency alone would hide. With fewer
 * than two CPUs allowed the spin and patched figures skip with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "bench.h"

#define ST_SENTINEL 0x5e475e47L /* as mechanism.c: above PID_MAX_LIMIT */
#define ST_SPIN_NS 20000ULL     /* gVisor's spin bound */

enum st_kind { SK_FUTEX, SK_SPIN, SK_PATCHED };
enum st_state { ST_IDLE, ST_REQUEST, ST_REPLY };
enum { ST_BATCH = 32, ST_GREGS_MAX = 512, ST_FP_MAX = 16384 };

/* The page the stub and this process share (a memfd mapped in both). */
struct st_shared {
	uint32_t state;    /* futex word: enum st_state */
	uint32_t sleepers; /* waiters in FUTEX_WAIT on state */
	uint32_t ready;
	int err_step, err_errno;
	uint64_t done, bad, stray;  /* the stub's counts */
	uint64_t stub_spun, stub_slept; /* the stub's hand-offs */
	uint64_t gregs_size, fp_size;
	unsigned char gregs[ST_GREGS_MAX] __attribute__((aligned(64)));
	unsigned char fp[ST_FP_MAX] __attribute__((aligned(64)));
};

static struct st_shared *stub_sh; /* the stub's view, for its handler */
static bool stub_spin;

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Wait until the state word is want: spin up to ST_SPIN_NS if spin, then
 * sleep. true if the spin saw it. A timeout (each sleep is bounded) is
 * reported through *timed_out, for the caller's death check. */
static bool wait_state(struct st_shared *sh, uint32_t want, bool spin, bool *timed_out)
{
	static const struct timespec bound = { .tv_sec = 1 };
	uint32_t cur;

	if (spin) {
		uint64_t end = mono_ns() + ST_SPIN_NS;

		for (unsigned int i = 0;; i++) {
			if (__atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) == want)
				return true;
			if ((i & 63) == 63 && mono_ns() > end)
				break;
			bench_arch_cpu_relax();
		}
	}
	__atomic_fetch_add(&sh->sleepers, 1, __ATOMIC_SEQ_CST);
	while ((cur = __atomic_load_n(&sh->state, __ATOMIC_SEQ_CST)) != want) {
		if (futex(&sh->state, FUTEX_WAIT, cur, &bound) < 0 && errno == ETIMEDOUT &&
		    timed_out) {
			*timed_out = true;
			break;
		}
	}
	__atomic_fetch_sub(&sh->sleepers, 1, __ATOMIC_SEQ_CST);
	return false;
}

/* Publish a state; wake the other side if it sleeps (always in futex mode,
 * where it does not spin). */
static void set_state(struct st_shared *sh, uint32_t s, bool spin)
{
	__atomic_store_n(&sh->state, s, __ATOMIC_SEQ_CST);
	if (!spin || __atomic_load_n(&sh->sleepers, __ATOMIC_SEQ_CST))
		futex(&sh->state, FUTEX_WAKE, 1, NULL);
}

/* ---- the stub ------------------------------------------------------------ */

/* The stub's side of one hand-off: state out, wait, state back in. */
static void stub_hand_off(void *gregs, size_t gregs_size, void *fp, size_t fp_size)
{
	struct st_shared *sh = stub_sh;

	memcpy(sh->gregs, gregs, gregs_size);
	memcpy(sh->fp, fp, fp_size);
	sh->gregs_size = gregs_size;
	sh->fp_size = fp_size;
	set_state(sh, ST_REQUEST, stub_spin);
	if (wait_state(sh, ST_REPLY, stub_spin, NULL))
		sh->stub_spun++;
	else
		sh->stub_slept++;
	memcpy(gregs, sh->gregs, gregs_size);
	memcpy(fp, sh->fp, fp_size);
}

static void stub_sigsys(int sig, siginfo_t *si, void *ucv)
{
	struct bench_uc_state s;

	(void)sig;
	if (si->si_code != 1 /* SYS_SECCOMP */ || si->si_syscall != SYS_getpid ||
	    bench_arch_uc_state(ucv, &s) < 0 || s.gregs_size > ST_GREGS_MAX ||
	    s.fp_size > ST_FP_MAX) {
		stub_sh->stray++;
		return;
	}
	stub_hand_off(s.gregs, s.gregs_size, s.fp, s.fp_size);
}

static void __attribute__((noreturn)) stub_fail(struct st_shared *sh, int step)
{
	sh->err_errno = errno;
	sh->err_step = step;
	__atomic_store_n(&sh->ready, 1, __ATOMIC_SEQ_CST);
	futex(&sh->ready, FUTEX_WAKE, 1, NULL);
	_exit(112);
}

/* getpid -> SECCOMP_RET_TRAP; all else (the handler's futex calls and its
 * rt_sigreturn) allowed. */
static int trap_getpid(void)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return (int)bench_filter_getpid(SECCOMP_RET_TRAP, 0);
}

static void __attribute__((noreturn))
stub_main(enum st_kind kind, struct st_shared *sh, pid_t parent, int cpu)
{
	/* The patched call copies what the signal path copies: the sizes of a
	 * frame's registers and FP record, from blocks of its own. */
	static unsigned char patched_gregs[ST_GREGS_MAX], patched_fp[ST_FP_MAX];
	size_t gregs_size = 0, fp_size = 0;
	struct sigaction sa;
	stack_t ss;

	bench_child_prologue(parent);
	stub_sh = sh;
	stub_spin = kind != SK_FUTEX;
	if (bench_pin(0, cpu) < 0)
		stub_fail(sh, 1);
	if (kind == SK_PATCHED) {
		gregs_size = sh->gregs_size;
		fp_size = sh->fp_size;
	} else {
		ss.ss_sp = mmap(NULL, 1 << 16, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ss.ss_size = 1 << 16;
		ss.ss_flags = 0;
		if (ss.ss_sp == MAP_FAILED || sigaltstack(&ss, NULL) < 0)
			stub_fail(sh, 2);
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = stub_sigsys;
		sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGSYS, &sa, NULL) < 0)
			stub_fail(sh, 3);
		if (trap_getpid() < 0)
			stub_fail(sh, 4);
	}
	__atomic_store_n(&sh->ready, 1, __ATOMIC_SEQ_CST);
	futex(&sh->ready, FUTEX_WAKE, 1, NULL);

	for (;;) {
		long r;

		if (kind == SK_PATCHED) {
			long *nr = (long *)(void *)patched_gregs;

			*nr = SYS_getpid;
			stub_hand_off(patched_gregs, gregs_size, patched_fp, fp_size);
			r = *nr;
		} else {
			r = bench_arch_syscall3(SYS_getpid, 0, 0, 0);
		}
		if (r != ST_SENTINEL)
			__atomic_store_n(&sh->bad, sh->bad + 1, __ATOMIC_RELEASE);
		__atomic_store_n(&sh->done, sh->done + 1, __ATOMIC_RELEASE);
	}
}

/* ---- this process: the tracer's side ------------------------------------- */

struct st_run {
	enum st_kind kind;
	struct st_shared *sh;
	pid_t pid;
	uint64_t spun, slept;
	unsigned char gregs[ST_GREGS_MAX], fp[ST_FP_MAX]; /* private copies */
	char msg[256];
};

static bool stub_gone(struct st_run *r)
{
	int status;
	pid_t w = waitpid(r->pid, &status, WNOHANG);

	if (w == 0)
		return false;
	if (w > 0 && WIFEXITED(status) && r->sh->err_step)
		snprintf(r->msg, sizeof(r->msg), "stub set-up step %d failed: %s",
			 r->sh->err_step, strerror(r->sh->err_errno));
	else if (w > 0)
		snprintf(r->msg, sizeof(r->msg), "stub ended (status 0x%x)", status);
	else
		snprintf(r->msg, sizeof(r->msg), "waitpid: %s", strerror(errno));
	r->pid = -1;
	return true;
}

/* One round trip from this side. The shared page is the stub's to write
 * (in a sandbox, the app's): sizes are copied, then checked, before use. */
static int serve(struct st_run *r)
{
	struct st_shared *sh = r->sh;
	bool spin = r->kind != SK_FUTEX;
	uint64_t gsz, fsz;

	for (;;) {
		bool timed_out = false;

		if (wait_state(sh, ST_REQUEST, spin, &timed_out)) {
			r->spun++;
			break;
		}
		if (__atomic_load_n(&sh->state, __ATOMIC_ACQUIRE) == ST_REQUEST) {
			r->slept++;
			break;
		}
		if (timed_out && stub_gone(r))
			return -1;
	}
	gsz = __atomic_load_n(&sh->gregs_size, __ATOMIC_RELAXED);
	fsz = __atomic_load_n(&sh->fp_size, __ATOMIC_RELAXED);
	if (gsz < sizeof(long) || gsz > ST_GREGS_MAX || fsz > ST_FP_MAX) {
		snprintf(r->msg, sizeof(r->msg), "bad sizes on the shared page: %llu, %llu",
			 (unsigned long long)gsz, (unsigned long long)fsz);
		return -1;
	}
	memcpy(r->gregs, sh->gregs, gsz);
	memcpy(r->fp, sh->fp, fsz);
	if (r->kind != SK_PATCHED && bench_arch_gregs_nr(r->gregs) != SYS_getpid) {
		snprintf(r->msg, sizeof(r->msg), "trapped syscall %ld, not getpid",
			 bench_arch_gregs_nr(r->gregs));
		return -1;
	}
	if (r->kind == SK_PATCHED)
		*(long *)(void *)r->gregs = ST_SENTINEL;
	else
		bench_arch_gregs_set_result(r->gregs, ST_SENTINEL);
	memcpy(sh->gregs, r->gregs, gsz);
	memcpy(sh->fp, r->fp, fsz);
	set_state(sh, ST_REPLY, spin);
	return 0;
}

/* The sizes a SIGSYS frame of this process has: what the patched call
 * copies. */
static volatile size_t probe_gregs, probe_fp;
static void probe_handler(int sig, siginfo_t *si, void *ucv)
{
	struct bench_uc_state s;

	(void)sig;
	(void)si;
	if (bench_arch_uc_state(ucv, &s) == 0) {
		probe_gregs = s.gregs_size;
		probe_fp = s.fp_size;
	}
}

static int frame_sizes(size_t *gregs, size_t *fp)
{
	struct sigaction sa, old;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = probe_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR2, &sa, &old) < 0)
		return -1;
	probe_gregs = probe_fp = 0;
	raise(SIGUSR2);
	sigaction(SIGUSR2, &old, NULL);
	*gregs = probe_gregs;
	*fp = probe_fp;
	return *gregs && *gregs <= ST_GREGS_MAX && *fp <= ST_FP_MAX ? 0 : -1;
}

static void bm_systrap(gb_state *st, void *arg)
{
	const enum st_kind kind = (enum st_kind)(uintptr_t)arg;
	static const struct timespec second = { .tv_sec = 1 };
	struct bench_pinning pin = { 0 };
	struct st_run *r;
	char label[64], err[128];
	int cpus[2], ncpus, fd = -1;
	uint64_t total = 0, t0 = 0, t1 = 0, c0[2] = { 0 }, c1[2] = { 0 };
	pid_t parent = getpid(), self = (pid_t)syscall(SYS_gettid);
	bool ok = false;

	r = calloc(1, sizeof(*r));
	if (!r) {
		gb_skip_with_error(st, "calloc failed");
		return;
	}
	r->kind = kind;
	r->pid = -1;
	r->sh = MAP_FAILED;
	ncpus = bench_allowed_cpus(cpus, 2);
	if (ncpus < 1) {
		snprintf(r->msg, sizeof(r->msg), "sched_getaffinity: %s", strerror(errno));
		goto out;
	}
	if (kind != SK_FUTEX && ncpus < 2) {
		snprintf(r->msg, sizeof(r->msg),
			 "only one CPU allowed: a spinning hand-off needs two (systrap_futex is the one-CPU figure)");
		goto out;
	}
	if (kind == SK_FUTEX)
		snprintf(label, sizeof(label), "pinned cpu%d", cpus[0]);
	else
		snprintf(label, sizeof(label), "pinned cpu%d,cpu%d", cpus[0], cpus[1]);
	if (bench_pin_self_saving(&pin, cpus[0], r->msg, sizeof(r->msg)) < 0)
		goto out;
	fd = bench_memfd("ptbench-systrap", sizeof(*r->sh), NULL, 0, err, sizeof(err));
	if (fd < 0) {
		snprintf(r->msg, sizeof(r->msg), "%s", err);
		goto out;
	}
	r->sh = mmap(NULL, sizeof(*r->sh), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->sh == MAP_FAILED) {
		snprintf(r->msg, sizeof(r->msg), "mmap the memfd: %s", strerror(errno));
		goto out;
	}
	if (kind == SK_PATCHED) {
		size_t g, f;

		if (frame_sizes(&g, &f) < 0) {
			snprintf(r->msg, sizeof(r->msg), "cannot read a signal frame's sizes");
			goto out;
		}
		r->sh->gregs_size = g;
		r->sh->fp_size = f;
	}
	r->pid = fork();
	if (r->pid < 0) {
		snprintf(r->msg, sizeof(r->msg), "fork: %s", strerror(errno));
		goto out;
	}
	if (r->pid == 0)
		stub_main(kind, r->sh, parent, kind == SK_FUTEX ? cpus[0] : cpus[1]);
	while (!__atomic_load_n(&r->sh->ready, __ATOMIC_SEQ_CST)) {
		futex(&r->sh->ready, FUTEX_WAIT, 0, &second);
		if (stub_gone(r))
			goto out;
	}
	if (r->sh->err_step) {
		stub_gone(r);
		if (!r->msg[0])
			snprintf(r->msg, sizeof(r->msg), "stub set-up step %d failed: %s",
				 r->sh->err_step, strerror(r->sh->err_errno));
		goto out;
	}

	c0[0] = bench_thread_cpu_ns(parent, self);
	c0[1] = bench_thread_cpu_ns(r->pid, r->pid);
	t0 = bench_now_ns();
	while (gb_keep_running_batch(st, ST_BATCH)) {
		for (int i = 0; i < ST_BATCH; i++)
			if (serve(r) < 0)
				goto out_loop;
		total += ST_BATCH;
		/* The stub counts a call once its result is back: it may be
		 * one behind. */
		uint64_t done = __atomic_load_n(&r->sh->done, __ATOMIC_ACQUIRE);

		if (r->sh->bad || r->sh->stray || done + 1 < total || done > total) {
			snprintf(r->msg, sizeof(r->msg),
				 "not intercepted: %llu calls without the sentinel, %llu stray SIGSYS, %llu calls done for %llu served",
				 (unsigned long long)r->sh->bad, (unsigned long long)r->sh->stray,
				 (unsigned long long)done, (unsigned long long)total);
			goto out_loop;
		}
	}
	ok = true;
out_loop:
	t1 = bench_now_ns();
	c1[0] = bench_thread_cpu_ns(parent, self);
	c1[1] = r->pid > 0 ? bench_thread_cpu_ns(r->pid, r->pid) : 0;
out:
	bench_reap(r->pid);
	bench_unpin_self(&pin);
	if (ok && total) {
		uint64_t handoffs = r->spun + r->slept + r->sh->stub_spun + r->sh->stub_slept;

		gb_counter(st, "spin_share",
			   handoffs ? (double)(r->spun + r->sh->stub_spun) / (double)handoffs : 0,
			   GB_COUNTER_DEFAULT);
		bench_cpu_counters(st, c0, c1, total);
		if (kind != SK_PATCHED)
			gb_counter(st, "fp_bytes", (double)r->sh->fp_size, GB_COUNTER_DEFAULT);
	}
	if (r->sh != MAP_FAILED)
		munmap(r->sh, sizeof(*r->sh));
	if (fd >= 0)
		close(fd);
	if (!ok)
		gb_skip_with_error(st, r->msg[0] ? r->msg : "failed");
	else
		bench_finish(st, t1 - t0, total, label);
	free(r);
}

void bench_register_systrap(void)
{
	static const struct {
		const char *name;
		enum st_kind kind;
	} kinds[] = {
		{ "mechanism/systrap_futex", SK_FUTEX },
		{ "mechanism/systrap_spin", SK_SPIN },
		{ "mechanism/patched_call", SK_PATCHED },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		gb_unit(gb_use_real_time(gb_register(kinds[i].name, bm_systrap,
						     (void *)(uintptr_t)kinds[i].kind)), 'u');
}
