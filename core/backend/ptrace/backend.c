/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ptrace backend: the app runs in a traced stub thread that stops in
 * its tracer thread at every syscall (PTRACE_SYSEMU), fault and signal. One
 * path for both switch modes, which differ only in what state moves
 * (load_state/save_state): faithful moves everything every time, as gVisor
 * does; lean leaves what did not change in the thread, and the FP state in
 * the thread until someone needs it (under ptp_registry_lock, as a context's
 * FP state may live in a thread another tracer thread traces).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "internal.h"

/* Unlinks a traced thread's lazily held context (registry lock held);
 * fetch: save its FP state first (the caller traces t). */
static void drop_lazy(struct ptp_traced *t, bool fetch)
{
	struct ptp_ctx *ctx = t->fp_lazy;

	if (!ctx)
		return;
	/* Without a fetch the state died with the thread: keep the last
	 * copy rather than garbage. */
	if (fetch)
		ptp_arch_get_fp(t->tid, ctx->fp, ctx->fp_len);
	ctx->fp_valid = true;
	ctx->fp_holder = NULL;
	t->fp_lazy = NULL;
}

/* Lean mode: bring ctx's FP state home from the traced thread holding it,
 * which only that thread's tracer can read. */
static int fetch_lazy(struct ptp_ctx *ctx)
{
	struct ptp_traced *t;
	int rc = 0;

	pthread_mutex_lock(&ptp_registry_lock);
	t = ctx->fp_holder;
	if (t && t->tracer_tid != ptp_gettid()) {
		rc = -EXDEV;
	} else if (t) {
		rc = ptp_arch_get_fp(t->tid, ctx->fp, ctx->fp_len);
		if (rc == 0) {
			ctx->fp_valid = true;
			ctx->fp_holder = NULL;
			t->fp_lazy = NULL;
		}
	}
	pthread_mutex_unlock(&ptp_registry_lock);
	return rc;
}

static int load_state(struct ptp_ctx *ctx, struct ptp_traced *t, bool lean)
{
	int rc;

	if (!lean || ctx->gpr_dirty || t->gpr_resident != ctx->id) {
		rc = ptp_arch_set_gprs(t->tid, &ctx->regs);
		if (rc < 0)
			return rc;
		ctx->gpr_dirty = false;
		t->gpr_resident = ctx->id;
	}
	if (lean && t->fp_lazy && t->fp_lazy != ctx) {
		/* Another context's FP state lives only here: save it. */
		pthread_mutex_lock(&ptp_registry_lock);
		drop_lazy(t, true);
		pthread_mutex_unlock(&ptp_registry_lock);
	}
	if (!ctx->fp_valid) {
		if (ctx->fp_holder != t) {
			rc = fetch_lazy(ctx);
			if (rc < 0)
				return rc;
		}
	}
	if (ctx->fp_valid &&
	    (!lean || ctx->fp_dirty || t->fp_resident != ctx->id)) {
		rc = ptp_arch_set_fp(t->tid, ctx->fp, ctx->fp_len);
		if (rc < 0)
			return rc;
		ctx->fp_dirty = false;
		t->fp_resident = ctx->id;
	}
	if (!ARCH_TLS_IN_GPR) {
		rc = ptp_arch_set_tls(t->tid, ctx->tls);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int save_state(struct ptp_ctx *ctx, struct ptp_traced *t, bool lean)
{
	int rc = ptp_arch_get_gprs(t->tid, &ctx->regs);

	if (rc < 0)
		return rc;
	t->gpr_resident = ctx->id;
	if (!ARCH_TLS_IN_GPR) {
		rc = ptp_arch_get_tls(t->tid, &ctx->tls);
		if (rc < 0)
			return rc;
	}
	t->fp_resident = ctx->id;
	if (!lean)
		return ptp_arch_get_fp(t->tid, ctx->fp, ctx->fp_len);
	if (ctx->fp_holder != t) {
		pthread_mutex_lock(&ptp_registry_lock);
		ctx->fp_valid = false;
		ctx->fp_holder = t;
		t->fp_lazy = ctx;
		pthread_mutex_unlock(&ptp_registry_lock);
	}
	ctx->fp_valid = false;
	return 0;
}

/* Keeps the traced thread on its tracer thread's CPU, which the registry
 * chose once and pinned the tracer thread to: a cross-CPU wake-up costs
 * several times a same-CPU one, and a tracer that merely follows where the
 * scheduler put it drags the app along after every sleep. */
static void pin(const struct ptp_platform *p, struct ptp_traced *t)
{
	int cpu = ptp_tracer_pin_cpu(p);
	cpu_set_t set;

	if (cpu < 0 || cpu == t->cpu)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(t->tid, sizeof(set), &set) == 0)
		t->cpu = cpu;
}

/*
 * The kernel's AUDIT_ARCH_* for a syscall stop: only the kernel knows which
 * table the number belongs to (peeking at the instruction before IP races
 * with other threads of the app rewriting it). Asked before
 * ptp_arch_syscall_stop, which may leave the syscall stop (arm64's kick).
 */
static int syscall_audit_arch(struct ptp_ctx *ctx, pid_t tid, uint32_t *audit_arch)
{
	struct __ptrace_syscall_info info;

	*audit_arch = 0;
	if (ARCH_ONE_SYSCALL_ABI) {
		*audit_arch = ARCH_AUDIT_NATIVE;
		return 0;
	}
	if (!ctx->p->caps.syscall_info)
		return 0;
	if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, (void *)sizeof(info), &info) < 0)
		return -errno;
	/* A SYSEMU stop reports as a syscall entry. */
	if (info.op == PTRACE_SYSCALL_INFO_ENTRY)
		*audit_arch = info.arch;
	return 0;
}

/*
 * The fuzzer's positive control (fuzz/): a core compiled with
 * PTP_UNSAFE_RESUME_CONT=1, which only fuzz/meson.build does, can be told to
 * resume with PTRACE_CONT, so the app's syscalls run on the host. Every other
 * build refuses.
 */
#if PTP_UNSAFE_RESUME_CONT
static atomic_bool unsafe_resume_cont;
#endif

PTP_EXPORT int ptp_test_unsafe_resume_cont(bool on)
{
#if PTP_UNSAFE_RESUME_CONT
	atomic_store(&unsafe_resume_cont, on);
	return 0;
#else
	(void)on;
	return -ENOTSUP;
#endif
}

/* Resumes the app until a stop worth reporting. */
static int run(struct ptp_ctx *ctx, struct ptp_traced *t, bool lean,
	       struct ptp_event *ev)
{
	pid_t self = ctx->p->self;
	siginfo_t si;
	int status, rc;

	for (;;) {
		int req = ptp_arch_single_step(&ctx->regs) ? PTRACE_SYSEMU_SINGLESTEP
						       : PTRACE_SYSEMU;

#if PTP_UNSAFE_RESUME_CONT
		if (atomic_load(&unsafe_resume_cont))
			req = PTRACE_CONT;
#endif
		if (ptrace(req, t->tid, 0, 0) < 0)
			return -errno;
		rc = ptp_wait(t->tid, &status, __WNOTHREAD);
		if (rc < 0)
			return rc == -ECHILD ? -ESRCH : rc;
		if (ptp_status_gone(status))
			return -ESRCH;
		if (status >> 16 == PTRACE_EVENT_STOP)
			continue; /* group-stop: not the app's doing */
		if (WSTOPSIG(status) == (SIGTRAP | 0x80)) {
			rc = save_state(ctx, t, lean);
			if (rc == 0)
				rc = syscall_audit_arch(ctx, t->tid, &ev->audit_arch);
			if (rc == 0)
				rc = ptp_arch_syscall_stop(t->tid, &ctx->regs);
			ctx->gpr_dirty = true;
			ev->kind = PTP_EV_SYSCALL;
			ev->nr = ptp_arch_syscall_nr(&ctx->regs);
			ev->abi = ptp_syscall_abi_of(ev->audit_arch, ev->nr);
			ptp_syscall_args_of(&ctx->regs, ev->abi, ev->args);
			return rc;
		}
		if (ptrace(PTRACE_GETSIGINFO, t->tid, 0, &si) < 0)
			return -errno;
		if (si.si_code <= 0) {
			/* Sent by a process: ours is an interrupt, anyone
			 * else's is dropped. */
			if (si.si_signo != SIGCHLD || si.si_pid != self)
				continue;
			ev->kind = PTP_EV_INTERRUPTED;
			return save_state(ctx, t, lean);
		}
		rc = save_state(ctx, t, lean);
		if (rc < 0)
			return rc;
		if (ptp_arch_vsyscall_fault(&ctx->regs, &si))
			ctx->gpr_dirty = true;
		ev->info = si;
		ev->kind = si.si_signo == SIGSEGV ? PTP_EV_FAULT : PTP_EV_SIGNAL;
		return 0;
	}
}

static int ptrace_check_options(const struct ptp_options *opts)
{
	(void)opts; /* both modes are this backend's own */
	return 0;
}

static int ptrace_resume(struct ptp_ctx *ctx, struct ptp_traced *t,
			 struct ptp_event *ev)
{
	const struct ptp_options *opts = &ctx->p->opts;
	bool lean = opts->mode == PTP_MODE_LEAN;
	int rc;

	if (opts->pin)
		pin(ctx->p, t);
	rc = load_state(ctx, t, lean);
	if (rc == 0)
		rc = run(ctx, t, lean, ev);
	return rc;
}

static void ptrace_ctx_release(struct ptp_ctx *ctx)
{
	pthread_mutex_lock(&ptp_registry_lock);
	if (ctx->fp_holder)
		ctx->fp_holder->fp_lazy = NULL;
	ctx->fp_holder = NULL;
	ctx->fp_valid = true;
	pthread_mutex_unlock(&ptp_registry_lock);
}

static int ptrace_retire(struct ptp_traced *t)
{
	return ptp_retire_thread(t->as->p, t->tid);
}

const struct ptp_backend_ops ptp_backend_ptrace = {
	.check_options = ptrace_check_options,
	.resume = ptrace_resume,
	.ctx_pull = fetch_lazy,
	.ctx_release = ptrace_ctx_release,
	.thread_leaving = drop_lazy,
	.retire = ptrace_retire,
	.app_traced = true,
	.syscall_nr_whole_register = true,
};
