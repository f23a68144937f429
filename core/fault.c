/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fault record: what the heuristic needs of a context's last outcome,
 * and, per address space, the contexts whose record lies in it, so that an
 * unmap or a destroy can invalidate them. Lock order: address space, then
 * context.
 */
#include <stdlib.h>

#include "internal.h"

static void fault_ctxs_remove(struct ptp_as *as, struct ptp_ctx *ctx)
{
	for (size_t i = 0; i < as->nfault_ctxs; i++) {
		if (as->fault_ctxs[i] == ctx) {
			as->fault_ctxs[i] = as->fault_ctxs[--as->nfault_ctxs];
			return;
		}
	}
}

static void fault_ctxs_add(struct ptp_as *as, struct ptp_ctx *ctx)
{
	if (as->nfault_ctxs == as->cap_fault_ctxs) {
		size_t cap = as->cap_fault_ctxs ? 2 * as->cap_fault_ctxs : 8;
		struct ptp_ctx **v = realloc(as->fault_ctxs, cap * sizeof(*v));

		/* Without room the record is simply not invalidated by unmap;
		 * drop it instead so no false Write can follow. */
		if (!v) {
			pthread_mutex_lock(&ctx->lock);
			if (ctx->fault_as == as)
				ctx->fault_as = NULL;
			pthread_mutex_unlock(&ctx->lock);
			return;
		}
		as->fault_ctxs = v;
		as->cap_fault_ctxs = cap;
	}
	as->fault_ctxs[as->nfault_ctxs++] = ctx;
}

/*
 * gVisor's heuristic: only SIGSEGV outcomes leave a record; the access is a
 * Read, plus Execute iff the address is the IP, plus Write iff the previous
 * outcome of this context was a SIGSEGV in the same address space at the same
 * address and IP.
 */
void ptp_fault_classify(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_event *ev)
{
	struct ptp_as *fault_as = NULL, *last_as;
	uintptr_t addr = 0, ip = 0, last_addr, last_ip;

#if PTP_BROKEN_FOR_TEST
	/* -Dbroken_for_test: a platform that never clears the record, which
	 * "ptbench test --platform" must catch (the fault group's signal_clears_record). */
	if (ev->kind != PTP_EV_FAULT)
		return;
#endif
	if (ev->kind == PTP_EV_FAULT) {
		fault_as = as;
		addr = (uintptr_t)ev->info.si_addr;
		ip = ptp_arch_ip(&ctx->regs);
	}
	pthread_mutex_lock(&ctx->lock);
	last_as = ctx->fault_as;
	last_addr = ctx->fault_addr;
	last_ip = ctx->fault_ip;
	ctx->fault_as = fault_as;
	ctx->fault_addr = addr;
	ctx->fault_ip = ip;
	pthread_mutex_unlock(&ctx->lock);

	if (last_as != fault_as) {
		if (last_as) {
			pthread_mutex_lock(&last_as->lock);
			fault_ctxs_remove(last_as, ctx);
			pthread_mutex_unlock(&last_as->lock);
		}
		if (fault_as) {
			pthread_mutex_lock(&fault_as->lock);
			fault_ctxs_add(fault_as, ctx);
			pthread_mutex_unlock(&fault_as->lock);
		}
	}
	if (!fault_as)
		return;
	ev->addr = addr;
	ev->access = PTP_ACCESS_READ;
	if (addr == ip)
		ev->access |= PTP_ACCESS_EXEC;
	if (last_as == fault_as && last_addr == addr && last_ip == ip)
		ev->access |= PTP_ACCESS_WRITE;
}

void ptp_as_forget_faults(struct ptp_as *as, uintptr_t start, uintptr_t end)
{
	pthread_mutex_lock(&as->lock);
	for (size_t i = 0; i < as->nfault_ctxs;) {
		struct ptp_ctx *ctx = as->fault_ctxs[i];
		bool drop;

		pthread_mutex_lock(&ctx->lock);
		drop = ctx->fault_as != as ||
		       (ctx->fault_addr >= start && ctx->fault_addr < end);
		if (drop && ctx->fault_as == as)
			ctx->fault_as = NULL;
		pthread_mutex_unlock(&ctx->lock);
		if (drop)
			as->fault_ctxs[i] = as->fault_ctxs[--as->nfault_ctxs];
		else
			i++;
	}
	pthread_mutex_unlock(&as->lock);
}

void ptp_fault_forget_ctx(struct ptp_ctx *ctx)
{
	struct ptp_as *as;

	pthread_mutex_lock(&ctx->lock);
	as = ctx->fault_as;
	pthread_mutex_unlock(&ctx->lock);
	if (as) {
		pthread_mutex_lock(&as->lock);
		fault_ctxs_remove(as, ctx);
		pthread_mutex_unlock(&as->lock);
	}
}

void ptp_fault_as_init(struct ptp_as *as)
{
	pthread_mutex_init(&as->lock, NULL);
}

void ptp_fault_as_fini(struct ptp_as *as)
{
	ptp_as_forget_faults(as, 0, UINTPTR_MAX);
	pthread_mutex_destroy(&as->lock);
	free(as->fault_ctxs);
	as->fault_ctxs = NULL;
}
