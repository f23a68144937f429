/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Threads and their run loop: each app thread is one context on its own
 * tracer thread; signals are signal.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "sentry.h"


uint64_t sn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Set by a kick, cleared by sn_kick_consume: the kick a blocking host call
 * must see even when it came before the call (sn_blocking_call). */
static _Thread_local volatile int kicked;

static void kick_handler(int sig, siginfo_t *info, void *ucontext)
{
	/* To make the tracer thread's blocking host call return EINTR. */
	(void)sig, (void)info;
	kicked = 1;
	sn_arch_blocking_cancel_point(ucontext);
}

long sn_blocking_call(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	if (sn.test_delay_blocking_ns) {
		struct timespec ts = { (time_t)(sn.test_delay_blocking_ns / 1000000000ull),
				       (long)(sn.test_delay_blocking_ns % 1000000000ull) };

		/* Ends early for a kick, which the call below must then see. */
		nanosleep(&ts, NULL);
	}
	uint64_t t0 = sn_now_ns();
	long r = sn_arch_blocking_syscall(&kicked, nr, a1, a2, a3, a4, a5, a6);

	atomic_fetch_add(&sn.st.ns_blocked, sn_now_ns() - t0);
	return r;
}

void sn_kick_consume(void)
{
	kicked = 0;
}

void sn_pin_self(unsigned int k)
{
	cpu_set_t allowed, one;
	int cpu = sched_getcpu(), n = 0, want;

	if (cpu < 0 || sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return;
	int count = CPU_COUNT(&allowed);

	if (!count)
		return;
	/* The k-th allowed CPU counting from the current one. */
	want = cpu;
	for (int c = cpu; n <= (int)(k % (unsigned int)count); c = (c + 1) % CPU_SETSIZE) {
		if (CPU_ISSET(c, &allowed)) {
			want = c;
			n++;
		}
	}
	CPU_ZERO(&one);
	CPU_SET(want, &one);
	sched_setaffinity(0, sizeof(one), &one);
}

void sn_thread_kick(struct sn_thread *t)
{
	ptp_interrupt(t->ctx);
	pthread_kill(t->pthread, SN_KICK_SIGNAL);
}

static void kick_others(struct sn_thread *self)
{
	pthread_mutex_lock(&self->proc->threads_lock);
	for (struct sn_thread *o = self->proc->threads; o; o = o->next)
		if (o != self && o->ctx)
			sn_thread_kick(o);
	pthread_mutex_unlock(&self->proc->threads_lock);
}

void sn_proc_exit(struct sn_thread *t, int wait_status)
{
	if (!atomic_exchange(&t->proc->exiting, true))
		t->proc->exit_status = wait_status;
	kick_others(t);
	/* Its threads blocked in wait4 or vfork must see it. */
	sn_proc_wake_waiters();
}

void sn_proc_kill(struct sn_proc *proc, int wait_status)
{
	if (!atomic_exchange(&proc->exiting, true))
		proc->exit_status = wait_status;
	pthread_mutex_lock(&proc->threads_lock);
	for (struct sn_thread *o = proc->threads; o; o = o->next)
		if (o->ctx)
			sn_thread_kick(o);
	pthread_mutex_unlock(&proc->threads_lock);
}

long sn_signal_self(struct sn_thread *t, int sig)
{
	siginfo_t info = { .si_signo = sig, .si_code = SI_USER };

	/* What kill(getpid(), sig) sends; taken at the syscall's return. */
	info.si_pid = t->proc->pid;
	info.si_uid = getuid();
	sn_signal_queue(t, &info);
	return 0;
}

/* A fault or kernel signal in the app (the kernel would deliver it). */
static bool fault_event(struct sn_thread *t, const struct ptp_event *ev)
{
	siginfo_t info = ev->info;

	if (ev->kind == PTP_EV_FAULT) {
		sn_log("pid %d tid %d: SIGSEGV at %#lx (ip %#llx, access %#x)", t->proc->pid, t->tid,
		       (unsigned long)ev->addr, (unsigned long long)ptp_ctx_ip(t->ctx), ev->access);
		info.si_signo = SIGSEGV;
		t->fault_access = ev->access;
	} else {
		sn_log("pid %d tid %d: signal %d (code %d) at ip %#llx", t->proc->pid, t->tid,
		       info.si_signo, info.si_code, (unsigned long long)ptp_ctx_ip(t->ctx));
	}
	return sn_signal_fault(t, &info);
}

static void count_syscall(long nr, bool enosys)
{
	size_t i = nr >= 0 && nr < 512 ? (size_t)nr : 511;

	atomic_fetch_add(&sn.st.syscalls[i], 1);
	if (enosys)
		atomic_fetch_add(&sn.st.enosys[i], 1);
}

/* One syscall event: false when the thread is done. */
static bool on_syscall(struct sn_thread *t, const struct ptp_event *ev)
{
	const struct sn_syscall *call;
	long r;

	if (ev->abi != PTP_ABI_NATIVE) {
		/* int 0x80, sysenter or x32: another syscall table. */
		sn_log("pid %d tid %d: %s syscall %ld refused with ENOSYS: only the native ABI runs",
		       t->proc->pid, t->tid, ptp_syscall_abi_name(ev->abi), ev->nr);
		count_syscall(511, true);
		ptp_ctx_set_result(t->ctx, -ENOSYS);
		return true;
	}
	call = sn_syscall_lookup(ev->nr);
	if (!call->fn) {
		sn_log("pid %d tid %d: syscall %s (%ld) not implemented: ENOSYS", t->proc->pid,
		       t->tid, call->name ? call->name : "?", ev->nr);
		count_syscall(ev->nr, true);
		ptp_ctx_set_result(t->ctx, -ENOSYS);
		return true;
	}
	count_syscall(ev->nr, false);
	for (;;) {
		r = call->fn(t, ev->args);
		if (r != -EINTR)
			break;
		/* A kick ended a blocking host call. */
		r = call->on_intr ? call->on_intr : SN_ERESTARTSYS;
		if (r == -EINTR || sn_signal_interrupts(t))
			break;
		/* Nothing comes of it (an ignored or blocked signal, a
		 * spurious kick): the kernel restarts such a call without
		 * the app seeing it, so the sentry runs it again here. */
		atomic_fetch_add(&sn.st.restarts, 1);
	}
	if (r == SN_RET_EXIT)
		return false;
	if (r != SN_RET_NONE)
		ptp_ctx_set_result(t->ctx, sn_is_restart(r) ? -EINTR : r);
	/* Signals the call raised or unblocked run before the app goes on;
	 * an interrupted call is restarted or returns EINTR by theirs. */
	return sn_signal_deliver_syscall(t, r, ev);
}

static unsigned long read_migrations(pid_t tid)
{
	char path[64], line[256];
	unsigned long n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/sched", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "se.nr_migrations : %lu", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void thread_loop(struct sn_thread *t)
{
	struct ptp_event ev;
	bool go = true, started = false;

	while (go && !atomic_load(&t->proc->exiting)) {
		uint64_t t0 = sn_now_ns(), t1;
		int rc;

		/* A kick from here on ends this switch or the blocking host
		 * call of the syscall it brings; one before was latched by
		 * ptp_interrupt and ends the switch at once. */
		sn_kick_consume();
		rc = ptp_switch(t->ctx, t->proc->mm->as, &ev);

		t1 = sn_now_ns();
		if (!started && rc >= 0 && ptp_ctx_tid(t->ctx)) {
			t->migrations_at_start = read_migrations(ptp_ctx_tid(t->ctx));
			started = true;
			t1 = sn_now_ns();
		}
		atomic_fetch_add(&sn.st.ns_switch, t1 - t0);
		atomic_fetch_add(&sn.st.switches, 1);
		if (rc < 0) {
			sn_err("pid %d tid %d: ptp_switch failed: %s", t->proc->pid, t->tid,
			       strerror(-rc));
			sn_proc_exit(t, W_EXITCODE(125, 0));
			break;
		}
		switch (ev.kind) {
		case PTP_EV_SYSCALL:
			go = on_syscall(t, &ev);
			break;
		case PTP_EV_FAULT:
			atomic_fetch_add(&sn.st.faults, 1);
			go = fault_event(t, &ev);
			break;
		case PTP_EV_SIGNAL:
			atomic_fetch_add(&sn.st.signals, 1);
			go = fault_event(t, &ev);
			break;
		case PTP_EV_INTERRUPTED:
			/* A timer or another thread queued a signal, or the
			 * process is ending. */
			atomic_fetch_add(&sn.st.interrupts, 1);
			go = sn_signal_deliver(t);
			break;
		}
		atomic_fetch_add(&sn.st.ns_sentry, sn_now_ns() - t1);
	}
	if (ptp_ctx_tid(t->ctx))
		t->migrations = read_migrations(ptp_ctx_tid(t->ctx));
	/* CLONE_CHILD_CLEARTID: what pthread_join waits for. */
	if (t->clear_tid && !atomic_load(&t->proc->exiting)) {
		uint32_t *word = sn_ptr(t->proc->mm, t->clear_tid, 4, PROT_WRITE);

		if (word) {
			__atomic_store_n(word, 0, __ATOMIC_SEQ_CST);
			syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
		}
	}
	atomic_fetch_sub(&t->proc->live_threads, 1);
}

static void *thread_main(void *arg)
{
	struct sn_thread *t = arg;
	struct sn_proc *proc = t->proc;
	/* Spread the threads over the CPUs in the order they were made. */
	sn_pin_self((unsigned int)(t->tid - proc->pid));
	thread_loop(t);
	/* The main tracer thread may sit in a blocking host call that one
	 * kick missed: kick until it has seen the exit. */
	while (atomic_load(&proc->exiting) && !atomic_load(&proc->main_done)) {
		sn_thread_kick(proc->main_thread);
		usleep(1000);
	}
	return NULL;
}

long sn_sys_clone(struct sn_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls)
{
	const uint64_t thread = CLONE_VM | CLONE_THREAD | CLONE_SIGHAND;
	struct sn_thread *n;
	int err;

	if ((flags & thread) != thread)
		return sn_proc_fork(t, flags, stack, ptid, ctid);
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	/* Every register of the parent thread: GPRs, flags, the whole FP
	 * state (x87, MXCSR, AVX upper halves) and TLS, as the kernel's
	 * clone; then what the clone arguments change. */
	err = ptp_ctx_new(sn.plat, &n->ctx);
	if (err >= 0 && (err = ptp_ctx_copy(n->ctx, t->ctx)) >= 0 && (flags & CLONE_SETTLS))
		err = ptp_ctx_set_tls(n->ctx, tls);
	if (err < 0) {
		if (n->ctx)
			ptp_ctx_free(n->ctx);
		free(n);
		return err;
	}
	if (stack)
		ptp_ctx_set_sp(n->ctx, stack);
	ptp_ctx_set_result(n->ctx, 0);
	n->proc = t->proc;
	n->tid = sn_new_id();
	n->sigmask = t->sigmask;
	/* A thread starts without the alternate stack (the kernel's clone
	 * with CLONE_VM and not CLONE_VFORK). */
	sn_altstack_reset(n);
	if (flags & CLONE_CHILD_CLEARTID)
		n->clear_tid = ctid;
	if (((flags & CLONE_PARENT_SETTID) &&
	     sn_copy_out(t->proc->mm, ptid, &n->tid, sizeof(n->tid)) < 0) ||
	    ((flags & CLONE_CHILD_SETTID) &&
	     sn_copy_out(t->proc->mm, ctid, &n->tid, sizeof(n->tid)) < 0)) {
		ptp_ctx_free(n->ctx);
		free(n);
		return -EFAULT;
	}
	atomic_fetch_add(&t->proc->live_threads, 1);
	pthread_mutex_lock(&t->proc->threads_lock);
	err = -pthread_create(&n->pthread, NULL, thread_main, n);
	if (!err) {
		n->next = t->proc->threads;
		t->proc->threads = n;
	}
	pthread_mutex_unlock(&t->proc->threads_lock);
	if (err) {
		atomic_fetch_sub(&t->proc->live_threads, 1);
		ptp_ctx_free(n->ctx);
		free(n);
		return err;
	}
	return n->tid;
}

int sn_proc_run(struct sn_proc *proc)
{
	struct sigaction sa = { .sa_sigaction = kick_handler, .sa_flags = SA_SIGINFO };
	struct sn_thread *t = proc->main_thread;

	/* No SA_RESTART: a kick must end a blocking host call. */
	sigemptyset(&sa.sa_mask);
	sigaction(SN_KICK_SIGNAL, &sa, NULL);
	t->pthread = pthread_self();
	sn_pin_self(0);
	thread_loop(t);
	/* The main thread exited alone: the others run on until the last
	 * one leaves or one of them ends the process. */
	while (!atomic_load(&proc->exiting) && atomic_load(&proc->live_threads) > 0)
		usleep(1000);
	atomic_store(&proc->main_done, true);
	while (atomic_load(&proc->live_threads) > 0) {
		kick_others(t);
		usleep(1000);
	}
	for (struct sn_thread *o = proc->threads; o; o = o->next)
		if (o != t)
			pthread_join(o->pthread, NULL);
	for (struct sn_thread *o = proc->threads; o; o = o->next) {
		atomic_fetch_add(&sn.st.migrations, o->migrations);
		atomic_fetch_add(&sn.st.migrations_at_start, o->migrations_at_start);
	}
	return proc->exit_status;
}
