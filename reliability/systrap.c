/* SPDX-License-Identifier: Apache-2.0 */
/*
 * systrap-faults: what can end a systrap stub thread while the core is not
 * looking, each answered by -ESRCH for that address space alone within the
 * bound (or absorbed), with another address space switching on through it
 * and nothing left behind. The hostile app code is the fuzzer's seeds
 * (fuzz/seeds/seed-list.h), run in the fuzzer's layout (fuzz/fuzz-abi.h).
 * Run as: H_BACKEND=systrap rel-systrap faithful [CASE]; on another backend
 * the group skips.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine.h"
#include "fuzz-abi.h"
#include "harness.h"
#include "relutil.h"
#include "systrap-abi.h"

/* The bound for a stub killed from outside. */
#define DEATH_BOUND_MS 100
/* An interrupt the app's mask blocks: the core's 500 ms, plus slack for a
 * busy machine. */
#define BLOCKED_INTERRUPT_BOUND_MS 2000

static const struct fz_seed *seed(const char *name)
{
	for (size_t i = 0; i < fz_seed_count(); i++) {
		const struct fz_seed *s = fz_seed_get(i);

		if (s && strcmp(s->name, name) == 0) {
			if (!s->size)
				h_skip("seed %s is empty on this arch", name);
			return s;
		}
	}
	fail_msg("no seed named %s", name);
	return NULL;
}

static void map_bytes(struct ptp_as *as, uintptr_t addr, size_t len, int prot,
		      const void *bytes, size_t n)
{
	int fd = h_memfd(len, bytes, n);

	assert_true(fd >= 0);
	assert_int_equal(ptp_as_map(as, addr, len, prot, fd, 0, 0), 0);
	close(fd);
}

/*
 * An address space laid out as the fuzzer's (code, hints, stack) running
 * the named seed; ctx starts at its first instruction. The hints name the
 * first thread's page: a fresh address space's first switching thread gets
 * slot 0 (stub/systrap-abi.h).
 */
static struct ptp_as *seed_as(struct ptp_platform *p, const char *name, struct ptp_ctx *ctx)
{
	const struct fz_seed *s = seed(name);
	struct ptp_as *as = h_as(p);
	uintptr_t stub = ptp_stub_start(p);
	uint64_t hints[5] = { stub, ptp_stub_end(p), (uint64_t)getpid(),
			      (uint64_t)ptp_master_pid(p),
			      (stub & ~(uintptr_t)(PTP_SYSTRAP_REGION - 1)) - PTP_SYSTRAP_REGION };

	map_bytes(as, FZ_CODE, FZ_CODE_SIZE, PROT_READ | PROT_EXEC, s->code, s->size);
	map_bytes(as, FZ_DATA, FZ_DATA_SIZE, PROT_READ | PROT_WRITE, hints, sizeof(hints));
	map_bytes(as, FZ_STACK, FZ_STACK_SIZE, PROT_READ | PROT_WRITE, NULL, 0);
	ptp_ctx_set_ip(ctx, FZ_CODE);
	ptp_ctx_set_sp(ctx, FZ_STACK + FZ_STACK_SIZE);
	return as;
}

/* A thread that switches the getpid loop in its own address space until
 * stopped; every switch must be the loop's syscall. */
struct bystander {
	pthread_t th;
	struct ptp_platform *p;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	atomic_bool stop;
	atomic_ulong done;
	int rc;
};

static void *bystander_main(void *arg)
{
	struct bystander *b = arg;
	struct ptp_event ev;

	while (!atomic_load(&b->stop)) {
		b->rc = ptp_switch(b->ctx, b->as, &ev);
		if (b->rc < 0 || ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid) {
			if (!b->rc)
				b->rc = -EPROTO;
			break;
		}
		atomic_fetch_add(&b->done, 1);
	}
	return NULL;
}

static void bystander_start(struct bystander *b, struct ptp_platform *p)
{
	memset(b, 0, sizeof(*b));
	b->p = p;
	b->as = h_as(p);
	h_load_at(b->as, REL_CODE, PAYLOAD_SYSCALL_LOOP);
	assert_int_equal(rel_loop_ctx(p, &b->ctx), 0);
	assert_int_equal(pthread_create(&b->th, NULL, bystander_main, b), 0);
	while (atomic_load(&b->done) < 10 && !b->rc)
		usleep(1000);
}

/* It switched on through whatever happened, and stops cleanly. */
static void bystander_check_and_stop(struct bystander *b)
{
	unsigned long before = atomic_load(&b->done);
	long deadline = h_now_ms() + 5000;

	while (atomic_load(&b->done) < before + 50 && !b->rc && h_now_ms() < deadline)
		usleep(1000);
	atomic_store(&b->stop, true);
	assert_int_equal(pthread_join(b->th, NULL), 0);
	if (b->rc)
		fail_msg("the other address space: %s", strerror(-b->rc));
	assert_true(atomic_load(&b->done) >= before + 50);
	assert_int_equal(ptp_as_status(b->as), 0);
	ptp_ctx_free(b->ctx);
	ptp_as_release(b->as);
}

/* What /proc says the thread is doing: its syscall number, or -1 while it
 * runs in user space ("running"), -2 when it cannot be read. */
static long proc_syscall(pid_t pid, pid_t tid)
{
	char path[96], buf[64];
	FILE *f;
	long nr = -2;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -2;
	if (fgets(buf, sizeof(buf), f))
		nr = strncmp(buf, "running", 7) == 0 ? -1 : strtol(buf, NULL, 10);
	fclose(f);
	return nr;
}

/* Kills the thread that last ran ctx and times the next switch: -ESRCH
 * within the bound, every entry point says so, and it leaves nothing. */
static void kill_and_expect_esrch(struct ptp_ctx *ctx, struct ptp_as *as)
{
	pid_t pid = ptp_as_pid(as), tid = ptp_ctx_tid(ctx);
	struct ptp_event ev;
	long t0;
	int rc;

	assert_true(tid > 0);
	assert_int_equal(syscall(SYS_tgkill, pid, tid, SIGKILL), 0);
	t0 = h_now_ms();
	rc = ptp_switch(ctx, as, &ev);
	h_note("switch after the kill: %d after %ld ms", rc, h_now_ms() - t0);
	assert_int_equal(rc, -ESRCH);
	assert_true(h_now_ms() - t0 <= DEATH_BOUND_MS);
	assert_int_equal(ptp_as_status(as), -ESRCH);
	ptp_as_release(as);
	assert_false(h_proc_exists(pid));
}

static const char *not_systrap(void)
{
	return h_backend == PTP_BACKEND_SYSTRAP
		       ? NULL
		       : "systrap's own faults (H_BACKEND=systrap runs them)";
}

/* Killed while its handler spins for the answer: the app set its page's
 * spin bound to the most the handler accepts (PTP_SYSTRAP_SPIN_MAX ticks,
 * tens of ms) before its syscall, so the handler is still spinning when
 * the switch has returned. */
static void thread_killed_during_spin(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_ctx *ctx = h_ctx(p);
	struct ptp_as *as = seed_as(p, "page_spin_bound", ctx);
	struct bystander b;
	struct ptp_event ev;
	long nr;

	bystander_start(&b, p);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	nr = proc_syscall(ptp_as_pid(as), ptp_ctx_tid(ctx));
	h_note("the handler before the kill: %s", nr == -1 ? "running (its spin)" : "in a syscall");
	assert_int_equal(nr, -1);
	kill_and_expect_esrch(ctx, as);
	bystander_check_and_stop(&b);
	assert_int_equal(ptp_platform_status(p), 0);
	ptp_ctx_free(ctx);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/* Killed in the handler's FUTEX_WAIT for the answer (after its spin). */
static void thread_killed_during_futex_wait(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx;
	struct bystander b;
	struct ptp_event ev;
	long nr = -2, deadline;

	h_load_at(as, REL_CODE, PAYLOAD_SYSCALL_LOOP);
	assert_int_equal(rel_loop_ctx(p, &ctx), 0);
	bystander_start(&b, p);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	for (deadline = h_now_ms() + 1000; h_now_ms() < deadline; usleep(100))
		if ((nr = proc_syscall(ptp_as_pid(as), ptp_ctx_tid(ctx))) == SYS_futex)
			break;
	assert_int_equal(nr, SYS_futex);
	kill_and_expect_esrch(ctx, as);
	bystander_check_and_stop(&b);
	ptp_ctx_free(ctx);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/* Interrupts the context every 20 ms until told to stop: one sent before
 * the app reached its forged rt_sigreturn is answered (the signal is not
 * blocked yet) and ends that switch early, so one alone could leave the
 * blocked spin uninterrupted. */
struct interrupter {
	struct ptp_ctx *ctx;
	atomic_bool stop;
	atomic_ulong sent;
};

static void *interrupter_main(void *arg)
{
	struct interrupter *i = arg;

	while (!atomic_load(&i->stop)) {
		usleep(20000);
		ptp_interrupt(i->ctx);
		atomic_fetch_add(&i->sent, 1);
	}
	return NULL;
}

/* Switches that may come back interrupted before the forged frame blocks
 * the signal; each one resumes the app where it was. */
#define EARLY_INTERRUPTS_ALLOWED 10

/* A forged frame through the handler's rt_sigreturn blocks every signal,
 * the interrupt included, and the app spins: the unanswered interrupt ends
 * that address space (a self-kill) within the core's bound, and only it. */
static void forged_sigreturn_blocking_interrupt_then_spin(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_ctx *ctx = h_ctx(p);
	struct ptp_as *as = seed_as(p, "sigreturn_block_all_spin", ctx);
	struct interrupter irq = { .ctx = ctx };
	struct bystander b;
	struct ptp_event ev;
	pthread_t th;
	pid_t pid = ptp_as_pid(as);
	int early = 0, rc;
	long t0;

	bystander_start(&b, p);
	assert_int_equal(pthread_create(&th, NULL, interrupter_main, &irq), 0);
	for (;;) {
		t0 = h_now_ms();
		rc = ptp_switch(ctx, as, &ev);
		if (rc != 0 || ev.kind != PTP_EV_INTERRUPTED ||
		    early == EARLY_INTERRUPTS_ALLOWED)
			break;
		early++;
	}
	atomic_store(&irq.stop, true);
	assert_int_equal(pthread_join(th, NULL), 0);
	h_note("the last switch: %d (%s) after %ld ms; %d early interrupted switches, %lu interrupts sent",
	       rc, rc == 0 ? h_event_name(ev.kind) : "-", h_now_ms() - t0, early,
	       (unsigned long)atomic_load(&irq.sent));
	assert_int_equal(rc, -ESRCH);
	assert_true(h_now_ms() - t0 <= BLOCKED_INTERRUPT_BOUND_MS);
	ptp_as_release(as);
	assert_false(h_proc_exists(pid));
	bystander_check_and_stop(&b);
	assert_int_equal(ptp_platform_status(p), 0);
	ptp_ctx_free(ctx);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

struct leaver {
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	enum ptp_event_kind kind;
	int rc;
	pid_t tid;
};

/* Switches once and exits: the core's thread-exit hook must retire the
 * detached stub thread this tracer thread leaves. */
static void *leaver_main(void *arg)
{
	struct leaver *l = arg;
	struct ptp_event ev;

	l->rc = ptp_switch(l->ctx, l->as, &ev);
	l->kind = ev.kind;
	l->tid = ptp_ctx_tid(l->ctx);
	return NULL;
}

static void leave_once(struct leaver *l)
{
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, leaver_main, l), 0);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(l->rc, 0);
	assert_true(l->tid > 0);
}

/* Its tracer thread exits between switches: the stub thread (detached,
 * waiting in the handler) is retired through the page's EXIT: it is gone,
 * the address space lives on with its leader alone. */
static void detached_thread_retired_after_tracer_exit(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_stats before, after;
	struct leaver l = { .as = as };
	struct ptp_ctx *ctx;
	struct ptp_event ev;
	long deadline;

	h_load_at(as, REL_CODE, PAYLOAD_SYSCALL_LOOP);
	assert_int_equal(rel_loop_ctx(p, &l.ctx), 0);
	ptp_stats(p, &before);
	leave_once(&l);
	assert_int_equal(l.kind, PTP_EV_SYSCALL);
	for (deadline = h_now_ms() + 1000; h_now_ms() < deadline; usleep(1000))
		if (!h_task_exists(ptp_as_pid(as), l.tid))
			break;
	assert_false(h_task_exists(ptp_as_pid(as), l.tid));
	/* The leader and the syscall thread, which still maps. */
	assert_int_equal(h_task_count(ptp_as_pid(as)), 2);
	assert_int_equal(ptp_as_thread_count(as), 0);
	h_load_at(as, H_DATA, PAYLOAD_SYSCALL_LOOP);
	ptp_stats(p, &after);
	assert_int_equal(after.threads_retired, before.threads_retired + 1);
	assert_int_equal(ptp_as_status(as), 0);
	/* And the address space takes a new thread. */
	assert_int_equal(rel_loop_ctx(p, &ctx), 0);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	ptp_ctx_free(ctx);
	ptp_ctx_free(l.ctx);
	ptp_as_release(as);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

/* The same, but its last switch returned an event the app forged in its
 * page while it goes on running app code: the handler never sees the EXIT.
 * The retirement's bound then kills that address space, and only it. */
static void detached_thread_stuck_after_tracer_exit(void)
{
	struct ptp_platform *p = h_open();
	struct leaver l = { 0 };
	struct bystander b;
	pid_t pid;
	long deadline, t0;

	l.ctx = h_ctx(p);
	l.as = seed_as(p, "page_forged_sigsys", l.ctx);
	pid = ptp_as_pid(l.as);
	bystander_start(&b, p);
	t0 = h_now_ms();
	leave_once(&l);
	h_note("the forged event: %s", h_event_name(l.kind));
	assert_int_equal(l.kind, PTP_EV_SYSCALL);
	for (deadline = h_now_ms() + 2000; h_now_ms() < deadline; usleep(1000))
		if (ptp_as_status(l.as) != 0)
			break;
	h_note("address space status %d, %ld ms after the switch", ptp_as_status(l.as),
	       h_now_ms() - t0);
	assert_int_equal(ptp_as_status(l.as), -ESRCH);
	ptp_as_release(l.as);
	assert_false(h_proc_exists(pid));
	bystander_check_and_stop(&b);
	assert_int_equal(ptp_platform_status(p), 0);
	ptp_ctx_free(l.ctx);
	ptp_close(p);
	assert_int_equal(h_children_of(0), 0);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(thread_killed_during_spin),
		HCASE(thread_killed_during_futex_wait),
		HCASE(forged_sigreturn_blocking_interrupt_then_spin),
		HCASE(detached_thread_retired_after_tracer_exit),
		HCASE(detached_thread_stuck_after_tracer_exit),
	};

	return harness_main(argc, argv, "systrap-faults", cases,
			    sizeof(cases) / sizeof(cases[0]), not_systrap);
}
