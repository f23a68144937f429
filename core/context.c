/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Contexts and the generic switch: dead checks, interrupts pending before a
 * switch, the fault record and the CPUID loop around the backend's resume.
 * Also the interrupt forwarder and the register views.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

static atomic_uint_fast64_t next_ctx_id = 1;

/* The state every new context starts with (ptp_arch_ctx_init). */
static void load_init_state(struct ptp_ctx *ctx)
{
	memcpy(ctx->fp, ctx->p->init_fp, ctx->fp_len);
	ctx->regs = ctx->p->ctx_init_regs;
	ctx->tls = 0;
	ctx->gpr_dirty = true;
	ctx->fp_valid = true;
	ctx->fp_dirty = true;
}

PTP_EXPORT int ptp_ctx_new(struct ptp_platform *p, struct ptp_ctx **out)
{
	struct ptp_ctx *ctx;

	if (ptp_forked_away(p->self))
		return -ECHILD;
	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->fp_len = p->caps.fpstate_size;
	ctx->fp = malloc(ctx->fp_len);
	if (!ctx->fp) {
		free(ctx);
		return -ENOMEM;
	}
	ctx->p = p;
	ctx->ops = p->ops;
	ctx->self = p->self;
	ctx->id = atomic_fetch_add(&next_ctx_id, 1);
	load_init_state(ctx);
	pthread_mutex_init(&ctx->lock, NULL);
	pthread_mutex_init(&ctx->irq_lock, NULL);
	*out = ctx;
	return 0;
}

PTP_EXPORT void ptp_ctx_free(struct ptp_ctx *ctx)
{
	if (!ctx || ptp_forked_away(ctx->self))
		return;
	ptp_fault_forget_ctx(ctx);
	ctx->ops->ctx_release(ctx);
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->irq_lock);
	free(ctx->fp);
	free(ctx);
}

PTP_EXPORT int ptp_ctx_pull(struct ptp_ctx *ctx)
{
	if (ptp_forked_away(ctx->self))
		return -ECHILD;
	return ctx->fp_valid ? 0 : ctx->ops->ctx_pull(ctx);
}

PTP_EXPORT void ptp_ctx_reset(struct ptp_ctx *ctx)
{
	if (ptp_forked_away(ctx->self))
		return;
	/* Whatever a traced thread holds of it is dropped, not fetched. */
	ctx->ops->ctx_release(ctx);
	ptp_fault_forget_ctx(ctx);
	load_init_state(ctx);
}

PTP_EXPORT int ptp_ctx_copy(struct ptp_ctx *dst, struct ptp_ctx *src)
{
	int rc;

	if (dst == src)
		return 0;
	if (dst->p != src->p)
		return -EINVAL;
	rc = ptp_ctx_pull(src);
	if (rc < 0)
		return rc;
	dst->ops->ctx_release(dst);
	/* The fault record belongs to dst's own history (and address space). */
	ptp_fault_forget_ctx(dst);
	dst->regs = src->regs;
	memcpy(dst->fp, src->fp, dst->fp_len);
	dst->tls = src->tls;
	dst->gpr_dirty = true;
	dst->fp_dirty = true;
	return 0;
}

PTP_EXPORT int ptp_ctx_fpstate(struct ptp_ctx *ctx, void *buf, size_t len)
{
	int rc;

	if (len != ctx->fp_len)
		return -EINVAL;
	rc = ptp_ctx_pull(ctx);
	if (rc == 0)
		memcpy(buf, ctx->fp, len);
	return rc;
}

PTP_EXPORT int ptp_ctx_set_fpstate(struct ptp_ctx *ctx, const void *buf, size_t len)
{
	if (ptp_forked_away(ctx->self))
		return -ECHILD;
	if (len != ctx->fp_len)
		return -EINVAL;
	/* Caller's data, maybe the app's own (a signal frame): what the
	 * kernel would refuse at the next switch is refused here. */
	if (ptp_arch_fp_check(buf, len, ctx->p->init_fp) < 0)
		return -EINVAL;
	ctx->ops->ctx_release(ctx);
	memcpy(ctx->fp, buf, len);
	ctx->fp_dirty = true;
	return 0;
}

PTP_EXPORT uint64_t ptp_ctx_flags(const struct ptp_ctx *ctx)
{
	return ptp_arch_flags(&ctx->regs);
}

PTP_EXPORT void ptp_ctx_set_flags(struct ptp_ctx *ctx, uint64_t flags)
{
	ptp_arch_set_flags(&ctx->regs, flags);
	ctx->gpr_dirty = true;
}

PTP_EXPORT uint64_t ptp_flags_writable(void)
{
	return ptp_arch_flags_writable();
}

/* The interrupt forwarder. */
static bool irq_enable(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_traced *t)
{
	bool ok;

	pthread_mutex_lock(&ctx->irq_lock);
	ok = !ctx->irq_pending;
	ctx->irq_pending = false;
	if (ok) {
		ctx->irq_tgid = as->pid;
		ctx->irq_tid = t->tid;
	}
	pthread_mutex_unlock(&ctx->irq_lock);
	return ok;
}

/*
 * Where the syscall stop kicks the thread with SIGCHLD (arm64's x7), an
 * interrupt sent during the switch may have merged with the kick and been
 * consumed by it: keep it pending for the next switch instead of losing it
 * (a spurious interrupt is allowed, a lost one is not).
 */
static void irq_disable(struct ptp_ctx *ctx, const struct ptp_event *ev)
{
	pthread_mutex_lock(&ctx->irq_lock);
	ctx->irq_tid = 0;
	if (ARCH_SYSCALL_KICK && ctx->irq_sent && ev->kind == PTP_EV_SYSCALL)
		ctx->irq_pending = true;
	ctx->irq_sent = false;
	pthread_mutex_unlock(&ctx->irq_lock);
}

PTP_EXPORT void ptp_interrupt(struct ptp_ctx *ctx)
{
	/* The tids are the parent's threads. */
	if (ptp_forked_away(ctx->self))
		return;
	pthread_mutex_lock(&ctx->irq_lock);
	if (ctx->irq_tid)
		ctx->irq_sent =
			syscall(SYS_tgkill, ctx->irq_tgid, ctx->irq_tid, SIGCHLD) == 0;
	else
		ctx->irq_pending = true;
	pthread_mutex_unlock(&ctx->irq_lock);
}

/* The gate's self-test builds a known delay into every switch
 * (-Dslowdown_ns=N); 0 compiles to nothing. */
static inline void slowdown(void)
{
#if PTP_SLOWDOWN_NS > 0
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do
		clock_gettime(CLOCK_MONOTONIC, &t);
	while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) <
	       PTP_SLOWDOWN_NS);
#endif
}

static int switch_error(struct ptp_as *as, int rc)
{
	/* -ENOEXEC: the app left the register layout we speak; nothing can
	 * switch there again, so it goes like a dead one. */
	if (rc == -ESRCH || rc == -ENOEXEC)
		ptp_as_mark_dead(as);
	if (rc == -ESRCH && ptp_platform_status(as->p) < 0)
		return -EOWNERDEAD;
	return rc;
}

PTP_EXPORT int ptp_switch(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_event *ev)
{
	struct ptp_platform *p = as->p;
	struct ptp_traced *t;
	int rc;

	memset(ev, 0, sizeof(*ev));
	if (ptp_forked_away(ctx->self) || ptp_forked_away(p->self))
		return -ECHILD;
	if (atomic_load(&p->dead))
		return -EOWNERDEAD;
	if (atomic_load(&as->dead))
		return -ESRCH;
	rc = ptp_tracer_thread(as, &t);
	if (rc < 0)
		return switch_error(as, rc);
	ctx->last_tid = t->tid;
	for (;;) {
		if (!irq_enable(ctx, as, t)) {
			ev->kind = PTP_EV_INTERRUPTED;
		} else {
			slowdown();
			rc = p->ops->resume(ctx, t, ev);
			irq_disable(ctx, ev);
			if (rc < 0)
				return switch_error(as, rc);
		}
		ptp_fault_classify(ctx, as, ev);
		/* cpuid under CPUID faulting: emulate and go on running. */
		if (ev->kind == PTP_EV_FAULT && p->caps.cpuid_faulting &&
		    ptp_arch_cpuid_emulate(t->tid, &ctx->regs)) {
			ctx->gpr_dirty = true;
			memset(ev, 0, sizeof(*ev));
			continue;
		}
		return 0;
	}
}

/* Register views. */

PTP_EXPORT unsigned int ptp_gpr_count(void) { return ARCH_GPR_COUNT; }
PTP_EXPORT const char *ptp_gpr_name(unsigned int i) { return ptp_arch_gpr_name(i); }
PTP_EXPORT unsigned int ptp_vreg_count(void) { return ARCH_VREG_COUNT; }

PTP_EXPORT bool ptp_gpr_syscall_scratch(unsigned int i)
{
	return i < ARCH_GPR_COUNT && ptp_arch_gpr_syscall_scratch(i);
}

PTP_EXPORT uint64_t ptp_ctx_gpr(const struct ptp_ctx *ctx, unsigned int i)
{
	return i < ARCH_GPR_COUNT ? ptp_arch_gpr(&ctx->regs, i) : 0;
}

PTP_EXPORT void ptp_ctx_set_gpr(struct ptp_ctx *ctx, unsigned int i, uint64_t v)
{
	if (i < ARCH_GPR_COUNT) {
		ptp_arch_set_gpr(&ctx->regs, i, v);
		ctx->gpr_dirty = true;
	}
}

PTP_EXPORT uint64_t ptp_ctx_ip(const struct ptp_ctx *ctx) { return ptp_arch_ip(&ctx->regs); }
PTP_EXPORT uint64_t ptp_ctx_sp(const struct ptp_ctx *ctx) { return ptp_arch_sp(&ctx->regs); }
PTP_EXPORT long ptp_ctx_syscall_nr(const struct ptp_ctx *ctx) { return ptp_arch_syscall_nr(&ctx->regs); }

PTP_EXPORT uint64_t ptp_ctx_arg(const struct ptp_ctx *ctx, unsigned int i)
{
	return i < 6 ? ptp_arch_arg(&ctx->regs, i) : 0;
}

PTP_EXPORT void ptp_ctx_set_ip(struct ptp_ctx *ctx, uint64_t ip)
{
	ptp_arch_set_ip(&ctx->regs, ip);
	ctx->gpr_dirty = true;
}

PTP_EXPORT void ptp_ctx_set_sp(struct ptp_ctx *ctx, uint64_t sp)
{
	ptp_arch_set_sp(&ctx->regs, sp);
	ctx->gpr_dirty = true;
}

PTP_EXPORT void ptp_ctx_set_syscall_nr(struct ptp_ctx *ctx, long nr)
{
	ptp_arch_set_syscall_nr(&ctx->regs, nr);
	ctx->gpr_dirty = true;
}

PTP_EXPORT void ptp_ctx_set_arg(struct ptp_ctx *ctx, unsigned int i, uint64_t v)
{
	if (i < 6) {
		ptp_arch_set_arg(&ctx->regs, i, v);
		ctx->gpr_dirty = true;
	}
}

PTP_EXPORT void ptp_ctx_set_result(struct ptp_ctx *ctx, long result)
{
	ptp_arch_set_result(&ctx->regs, result);
	ctx->gpr_dirty = true;
}

PTP_EXPORT int ptp_ctx_vreg(struct ptp_ctx *ctx, unsigned int i, uint8_t out[16])
{
	int rc = ptp_ctx_pull(ctx);

	if (i >= ARCH_VREG_COUNT)
		return -EINVAL;
	if (rc == 0)
		ptp_arch_fp_vreg(ctx->fp, i, out);
	return rc;
}

PTP_EXPORT int ptp_ctx_set_vreg(struct ptp_ctx *ctx, unsigned int i, const uint8_t in[16])
{
	int rc = ptp_ctx_pull(ctx);

	if (i >= ARCH_VREG_COUNT)
		return -EINVAL;
	if (rc == 0) {
		ptp_arch_fp_set_vreg(ctx->fp, ctx->fp_len, i, in);
		ctx->fp_dirty = true;
	}
	return rc;
}

PTP_EXPORT int ptp_ctx_tls(struct ptp_ctx *ctx, uint64_t *tls)
{
	if (ptp_forked_away(ctx->self))
		return -ECHILD;
	*tls = ARCH_TLS_IN_GPR ? ptp_arch_tls_of(&ctx->regs) : ctx->tls;
	return 0;
}

PTP_EXPORT int ptp_ctx_set_tls(struct ptp_ctx *ctx, uint64_t tls)
{
	if (ptp_forked_away(ctx->self))
		return -ECHILD;
	if (ARCH_TLS_IN_GPR) {
		ptp_arch_set_tls_of(&ctx->regs, tls);
		ctx->gpr_dirty = true;
	} else {
		ctx->tls = tls;
	}
	return 0;
}

PTP_EXPORT pid_t ptp_ctx_tid(const struct ptp_ctx *ctx)
{
	return ctx->last_tid;
}
