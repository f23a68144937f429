/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signals: the app's handlers run on real signal frames (arch/<arch>/
 * signal.c builds them and reads them back at rt_sigreturn); what the app
 * does not handle takes the default action, which for most signals ends
 * the process with the wait status the kernel gives (main.c re-raises it
 * for the first process, wait4 reports it for the others).
 *
 * Sources: faults and kernel signals (delivered at once), the app's own
 * kill/tgkill/raise and the ITIMER_REAL timer (queued, delivered at the
 * thread's next return to the app). A signal for a thread in a blocking
 * host call kicks it out (EINTR); the call is then restarted or returns
 * EINTR as the kernel's -ERESTART* codes say (sn_signal_deliver_syscall).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "sentry.h"

#define BIT(sig) (1ull << ((sig) - 1))
#define UNBLOCKABLE (BIT(SIGKILL) | BIT(SIGSTOP))

bool sn_signal_default_kills(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		/* Ignore or stop; a sentry-run app cannot be stopped, so
		 * those are ignored too. */
		return false;
	default:
		return true;
	}
}

static bool has_handler(const struct sn_sigaction *act)
{
	return act->handler != (uint64_t)(uintptr_t)SIG_DFL &&
	       act->handler != (uint64_t)(uintptr_t)SIG_IGN;
}

void sn_signal_queue(struct sn_thread *t, const siginfo_t *info)
{
	int sig = info->si_signo;

	if (sig < 1 || sig >= SN_NSIG)
		return;
	pthread_mutex_lock(&t->proc->sig_lock);
	if (!(atomic_load(&t->sig_pending) & BIT(sig)))
		t->sig_info[sig] = *info;
	atomic_fetch_or(&t->sig_pending, BIT(sig));
	pthread_mutex_unlock(&t->proc->sig_lock);
}

bool sn_is_restart(long r)
{
	return r == SN_ERESTARTSYS || r == SN_ERESTARTNOHAND;
}

/* Puts back the registers of syscall ev so that the app runs it again
 * (the kernel's restart: ip back over the instruction, the number and
 * the arguments as they were; arm64's result overwrote x0). */
static void restart_syscall(struct sn_thread *t, const struct ptp_event *ev)
{
	ptp_ctx_set_ip(t->ctx, ptp_ctx_ip(t->ctx) - sn_arch_syscall_insn_len);
	for (unsigned int i = 0; i < 6; i++)
		ptp_ctx_set_arg(t->ctx, i, ev->args[i]);
	/* Last: on x86_64 the number and the result share rax. */
	ptp_ctx_set_syscall_nr(t->ctx, ev->nr);
}

bool sn_signal_interrupts(struct sn_thread *t)
{
	bool found;

	/* A kick after this look makes the next blocking call return. */
	sn_kick_consume();
	found = atomic_load(&t->proc->exiting);

	pthread_mutex_lock(&t->proc->sig_lock);
	for (uint64_t ready = atomic_load(&t->sig_pending) & ~t->sigmask; ready && !found;) {
		int sig = __builtin_ctzll(ready) + 1;
		const struct sn_sigaction *act = &t->proc->sig[sig];

		ready &= ~BIT(sig);
		if (has_handler(act) ||
		    (act->handler == (uint64_t)(uintptr_t)SIG_DFL && sn_signal_default_kills(sig)))
			found = true;
		else
			atomic_fetch_and(&t->sig_pending, ~BIT(sig));
	}
	pthread_mutex_unlock(&t->proc->sig_lock);
	return found;
}

/* Runs act's handler for info on t: false when the frame could not be
 * built and the process died of SIGSEGV. restart: the interrupted
 * syscall ev's code (0: none), restarted or left to return EINTR (set
 * already) by the handler's SA_RESTART. */
static bool run_handler(struct sn_thread *t, int sig, const siginfo_t *info, long restart,
			const struct ptp_event *ev)
{
	struct sn_sigaction act;
	/* After rt_sigsuspend the frame keeps the mask from before it. */
	uint64_t old = t->has_saved_mask ? t->saved_mask : t->sigmask;
	int err;

	t->has_saved_mask = false;
	pthread_mutex_lock(&t->proc->sig_lock);
	act = t->proc->sig[sig];
	if (act.flags & SA_RESETHAND)
		t->proc->sig[sig] = (struct sn_sigaction){ 0 };
	pthread_mutex_unlock(&t->proc->sig_lock);
	/* Before the frame: it saves the registers the handler returns to. */
	if (restart == SN_ERESTARTSYS && (act.flags & SA_RESTART))
		restart_syscall(t, ev);
	err = sn_arch_signal_frame(t, &act, info, old);
	if (err == -ENOSYS) {
		sn_log("pid %d tid %d: signal %d has a handler, but this arch builds no signal frames: default action",
		       t->proc->pid, t->tid, sig);
		if (!sn_signal_default_kills(sig))
			return true;
		sn_proc_exit(t, sig);
		return false;
	}
	if (err < 0) {
		/* The kernel's answer to a frame it cannot write. */
		sn_log("pid %d tid %d: signal %d: no room for the signal frame (%s): SIGSEGV",
		       t->proc->pid, t->tid, sig, strerror(-err));
		sn_proc_exit(t, SIGSEGV);
		return false;
	}
	t->sigmask |= act.mask | (act.flags & SA_NODEFER ? 0 : BIT(sig));
	t->sigmask &= ~UNBLOCKABLE;
	/* The frame saved it (uc_stack); rt_sigreturn arms it again. */
	if (t->ss_flags & SS_AUTODISARM)
		sn_altstack_reset(t);
	return true;
}

/* rt_sigsuspend's mask ends with the call when no handler ran. */
static bool restore_saved_mask(struct sn_thread *t, bool go)
{
	if (t->has_saved_mask) {
		t->sigmask = t->saved_mask;
		t->has_saved_mask = false;
	}
	return go;
}

bool sn_signal_deliver(struct sn_thread *t)
{
	return sn_signal_deliver_syscall(t, 0, NULL);
}

bool sn_signal_deliver_syscall(struct sn_thread *t, long r, const struct ptp_event *ev)
{
	long restart = sn_is_restart(r) ? r : 0;

	for (;;) {
		uint64_t ready = atomic_load(&t->sig_pending) & ~t->sigmask;
		struct sn_sigaction act;
		siginfo_t info;
		int sig;

		if (atomic_load(&t->proc->exiting))
			return restore_saved_mask(t, false);
		if (!ready) {
			/* No handler ran (the signal that interrupted the call
			 * was ignored or is gone): the kernel restarts it. */
			if (restart)
				restart_syscall(t, ev);
			return restore_saved_mask(t, true);
		}
		sig = __builtin_ctzll(ready) + 1;
		pthread_mutex_lock(&t->proc->sig_lock);
		atomic_fetch_and(&t->sig_pending, ~BIT(sig));
		info = t->sig_info[sig];
		act = t->proc->sig[sig];
		pthread_mutex_unlock(&t->proc->sig_lock);
		if (act.handler == (uint64_t)(uintptr_t)SIG_IGN)
			continue;
		if (!has_handler(&act)) {
			if (!sn_signal_default_kills(sig))
				continue;
			sn_proc_exit(t, sig);
			return restore_saved_mask(t, false);
		}
		/* One frame per return to the app: the handler runs first,
		 * the next pending one comes at its next syscall. */
		return run_handler(t, sig, &info, restart, ev);
	}
}

bool sn_signal_fault(struct sn_thread *t, const siginfo_t *info)
{
	int sig = info->si_signo;
	struct sn_sigaction act;

	if (sig < 1 || sig >= SN_NSIG)
		sig = SIGSEGV;
	pthread_mutex_lock(&t->proc->sig_lock);
	act = t->proc->sig[sig];
	pthread_mutex_unlock(&t->proc->sig_lock);
	if (has_handler(&act) && !(t->sigmask & BIT(sig)))
		return run_handler(t, sig, info, 0, NULL);
	if (!sn_signal_default_kills(sig) && !(t->sigmask & BIT(sig)) &&
	    act.handler != (uint64_t)(uintptr_t)SIG_IGN)
		return true;
	/* Blocked, ignored or default: the kernel's force_sig unblocks the
	 * signal, resets it to the default action and the process dies. */
	sn_proc_exit(t, sig);
	return false;
}

/* sigaltstack ---------------------------------------------------------- */

/* The kernel's: SS_AUTODISARM is the one flag kept beside the mode. */
#define SS_FLAG_BITS SS_AUTODISARM

void sn_altstack_reset(struct sn_thread *t)
{
	t->ss_sp = 0;
	t->ss_size = 0;
	t->ss_flags = SS_DISABLE;
}

bool sn_in_altstack(const struct sn_thread *t, uint64_t sp)
{
	/* The stack grows down: its top (sp + size) is still on it. */
	return sp > t->ss_sp && sp - t->ss_sp <= t->ss_size;
}

bool sn_on_altstack(const struct sn_thread *t, uint64_t sp)
{
	/* A handler on an SS_AUTODISARM stack owns it: a nested signal
	 * starts it over rather than counting as on it. */
	return !(t->ss_flags & SS_AUTODISARM) && sn_in_altstack(t, sp);
}

int sn_altstack_state(const struct sn_thread *t, uint64_t sp)
{
	if (!t->ss_size)
		return SS_DISABLE;
	return sn_on_altstack(t, sp) ? SS_ONSTACK : 0;
}

/* The kernel's do_sigaltstack, setting half: 0 or -errno. */
static int altstack_set(struct sn_thread *t, const stack_t *ss, uint64_t sp)
{
	int mode = ss->ss_flags & ~SS_FLAG_BITS;
	uint64_t ss_sp = (uint64_t)(uintptr_t)ss->ss_sp, size = ss->ss_size;

	if (sn_on_altstack(t, sp))
		return -EPERM;
	if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
		return -EINVAL;
	if (mode == SS_DISABLE) {
		ss_sp = 0;
		size = 0;
	} else if (size < sn_arch_minsigstksz) {
		return -ENOMEM;
	}
	t->ss_sp = ss_sp;
	t->ss_size = size;
	t->ss_flags = ss->ss_flags;
	return 0;
}

void sn_altstack_save(const struct sn_thread *t, struct sn_frame_stack *uc_stack)
{
	*uc_stack = (struct sn_frame_stack){ .ss_sp = t->ss_sp, .ss_flags = t->ss_flags,
					     .ss_size = t->ss_size };
}

void sn_altstack_restore(struct sn_thread *t, const struct sn_frame_stack *uc_stack, uint64_t sp)
{
	stack_t ss = { .ss_sp = (void *)(uintptr_t)uc_stack->ss_sp, .ss_flags = uc_stack->ss_flags,
		       .ss_size = uc_stack->ss_size };

	(void)altstack_set(t, &ss, sp);
}

long sn_sys_sigaltstack(struct sn_thread *t, const uint64_t a[6])
{
	uint64_t sp = ptp_ctx_sp(t->ctx);
	stack_t ss, old = { .ss_sp = (void *)(uintptr_t)t->ss_sp,
			    .ss_size = t->ss_size,
			    .ss_flags = sn_altstack_state(t, sp) | (t->ss_flags & SS_FLAG_BITS) };
	int err;

	if (a[0]) {
		if (sn_copy_in(t->proc->mm, &ss, a[0], sizeof(ss)) < 0)
			return -EFAULT;
		if ((err = altstack_set(t, &ss, sp)) < 0)
			return err;
	}
	if (a[1] && sn_copy_out(t->proc->mm, a[1], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sn_sys_rt_sigreturn(struct sn_thread *t, const uint64_t a[6])
{
	uint64_t mask;
	int err;

	(void)a;
	err = sn_arch_sigreturn(t, &mask);
	if (err < 0) {
		sn_log("pid %d tid %d: rt_sigreturn with a bad frame at sp %#llx (%s): SIGSEGV",
		       t->proc->pid, t->tid, (unsigned long long)ptp_ctx_sp(t->ctx),
		       strerror(-err));
		sn_proc_exit(t, SIGSEGV);
		return SN_RET_EXIT;
	}
	t->sigmask = mask & ~UNBLOCKABLE;
	/* The restored rax is the app's, not a result. */
	return SN_RET_NONE;
}

long sn_sys_rt_sigsuspend(struct sn_thread *t, const uint64_t a[6])
{
	uint64_t mask;

	if (a[1] != sizeof(mask))
		return -EINVAL;
	if (sn_copy_in(t->proc->mm, &mask, a[0], sizeof(mask)) < 0)
		return -EFAULT;
	/* Restarted in place (an ignored signal woke it): the mask from
	 * before the first call is the one to give back. */
	if (!t->has_saved_mask)
		t->saved_mask = t->sigmask;
	t->has_saved_mask = true;
	t->sigmask = mask & ~UNBLOCKABLE;
	sn_proc_wait_signal(t);
	/* The handler runs at this return (on_syscall), with the frame
	 * holding saved_mask. */
	return -EINTR;
}

/* ITIMER_REAL ------------------------------------------------------------
 * One timer thread for the whole sentry sleeps until the earliest armed
 * process timer; at expiry it queues SIGALRM (si_code SI_KERNEL, as the
 * kernel's it_real_fn) on the process's first thread and kicks it. */

struct sn_timer {
	struct sn_proc *proc;
	uint64_t deadline_ns, interval_ns; /* CLOCK_MONOTONIC */
	struct sn_timer *next;
};

static pthread_mutex_t timer_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t timer_cond;
static struct sn_timer *timers;
static pthread_t timer_thread;
static bool timer_running, timer_stop;

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *timer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&timer_lock);
	while (!timer_stop) {
		uint64_t now = mono_ns(), next = UINT64_MAX;

		for (struct sn_timer **p = &timers; *p;) {
			struct sn_timer *tm = *p;
			struct sn_thread *target = tm->proc->main_thread;

			if (tm->deadline_ns > now) {
				next = tm->deadline_ns < next ? tm->deadline_ns : next;
				p = &tm->next;
				continue;
			}
			if (target) {
				siginfo_t info = { .si_signo = SIGALRM, .si_code = SI_KERNEL };

				sn_signal_queue(target, &info);
				sn_thread_kick(target);
				/* A kick does not end a wait4 or vfork wait. */
				sn_proc_wake_waiters();
			}
			if (tm->interval_ns) {
				tm->deadline_ns = now + tm->interval_ns;
				p = &tm->next;
			} else {
				*p = tm->next;
				free(tm);
			}
		}
		if (next == UINT64_MAX) {
			pthread_cond_wait(&timer_cond, &timer_lock);
		} else {
			struct timespec ts = { .tv_sec = (time_t)(next / 1000000000ull),
					       .tv_nsec = (long)(next % 1000000000ull) };

			pthread_cond_timedwait(&timer_cond, &timer_lock, &ts);
		}
	}
	pthread_mutex_unlock(&timer_lock);
	return NULL;
}

/* Under timer_lock. */
static struct sn_timer **find_timer(struct sn_proc *proc)
{
	struct sn_timer **p = &timers;

	while (*p && (*p)->proc != proc)
		p = &(*p)->next;
	return p;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull + (uint64_t)tv->tv_usec * 1000ull;
}

static struct timeval ns_tv(uint64_t ns)
{
	return (struct timeval){ .tv_sec = (time_t)(ns / 1000000000ull),
				 .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000) };
}

/* Under timer_lock: proc's timer as an itimerval (zeros when disarmed). */
static struct itimerval current(struct sn_proc *proc)
{
	struct sn_timer *tm = *find_timer(proc);
	struct itimerval v = { 0 };
	uint64_t now = mono_ns();

	if (tm) {
		/* A timer due but not yet fired reads as 1 us left. */
		v.it_value = ns_tv(tm->deadline_ns > now ? tm->deadline_ns - now : 1000);
		v.it_interval = ns_tv(tm->interval_ns);
	}
	return v;
}

/* Arms (value non-zero) or disarms proc's timer; the old value. */
static int arm(struct sn_proc *proc, const struct itimerval *nv, struct itimerval *old)
{
	struct sn_timer **p, *tm;
	int err = 0;

	pthread_mutex_lock(&timer_lock);
	*old = current(proc);
	p = find_timer(proc);
	if (*p) {
		tm = *p;
		*p = tm->next;
		free(tm);
	}
	if (nv->it_value.tv_sec || nv->it_value.tv_usec) {
		tm = calloc(1, sizeof(*tm));
		if (!tm) {
			err = -ENOMEM;
			goto out;
		}
		tm->proc = proc;
		tm->deadline_ns = mono_ns() + tv_ns(&nv->it_value);
		tm->interval_ns = tv_ns(&nv->it_interval);
		tm->next = timers;
		timers = tm;
		if (!timer_running) {
			pthread_condattr_t ca;

			pthread_condattr_init(&ca);
			pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
			pthread_cond_init(&timer_cond, &ca);
			pthread_condattr_destroy(&ca);
			err = -pthread_create(&timer_thread, NULL, timer_main, NULL);
			timer_running = !err;
		}
		pthread_cond_signal(&timer_cond);
	}
out:
	pthread_mutex_unlock(&timer_lock);
	return err;
}

static bool timeval_ok(const struct timeval *tv)
{
	return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

long sn_sys_setitimer(struct sn_thread *t, const uint64_t a[6])
{
	struct itimerval nv = { 0 }, old;
	int err;

	if ((int)a[0] != ITIMER_REAL) {
		/* Virtual and profiling time would need the app's CPU time
		 * counted per process: not built. */
		sn_log("pid %d: setitimer(%d) not implemented (ITIMER_REAL only): ENOSYS",
		       t->proc->pid, (int)a[0]);
		return (int)a[0] == ITIMER_VIRTUAL || (int)a[0] == ITIMER_PROF ? -ENOSYS : -EINVAL;
	}
	if (a[1] && sn_copy_in(t->proc->mm, &nv, a[1], sizeof(nv)) < 0)
		return -EFAULT;
	if (!timeval_ok(&nv.it_value) || !timeval_ok(&nv.it_interval))
		return -EINVAL;
	if ((err = arm(t->proc, &nv, &old)) < 0)
		return err;
	if (a[2] && sn_copy_out(t->proc->mm, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sn_sys_getitimer(struct sn_thread *t, const uint64_t a[6])
{
	struct itimerval v;

	if ((int)a[0] != ITIMER_REAL) {
		sn_log("pid %d: getitimer(%d) not implemented (ITIMER_REAL only): ENOSYS",
		       t->proc->pid, (int)a[0]);
		return (int)a[0] == ITIMER_VIRTUAL || (int)a[0] == ITIMER_PROF ? -ENOSYS : -EINVAL;
	}
	pthread_mutex_lock(&timer_lock);
	v = current(t->proc);
	pthread_mutex_unlock(&timer_lock);
	if (sn_copy_out(t->proc->mm, a[1], &v, sizeof(v)) < 0)
		return -EFAULT;
	return 0;
}

long sn_sys_alarm(struct sn_thread *t, const uint64_t a[6])
{
	struct itimerval nv = { .it_value = { .tv_sec = (time_t)(unsigned int)a[0] } }, old;
	int err = arm(t->proc, &nv, &old);

	if (err < 0)
		return err;
	/* The kernel's rounding of what was left (alarm_setitimer). */
	if ((!old.it_value.tv_sec && old.it_value.tv_usec) || old.it_value.tv_usec >= 500000)
		old.it_value.tv_sec++;
	return (long)old.it_value.tv_sec;
}

void sn_timer_cancel(struct sn_proc *proc)
{
	struct sn_timer **p, *tm;

	pthread_mutex_lock(&timer_lock);
	p = find_timer(proc);
	if (*p) {
		tm = *p;
		*p = tm->next;
		free(tm);
	}
	pthread_mutex_unlock(&timer_lock);
}

void sn_timer_shutdown(void)
{
	bool running;

	pthread_mutex_lock(&timer_lock);
	timer_stop = true;
	running = timer_running;
	if (running)
		pthread_cond_signal(&timer_cond);
	pthread_mutex_unlock(&timer_lock);
	if (running)
		pthread_join(timer_thread, NULL);
	while (timers) {
		struct sn_timer *next = timers->next;

		free(timers);
		timers = next;
	}
}
