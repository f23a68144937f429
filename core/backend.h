/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the generic core and a platform backend, chosen at
 * ptp_open. Generic code owns what means the same on every backend: dead
 * checks, the fault record, the CPUID loop, interrupts pending before a
 * switch, events. A backend owns how state moves, how the app is resumed
 * and where its threads run.
 *
 * The ops are the only calls from the generic layers up into a backend (nm
 * cannot see them; the README lists them). The switch path makes one
 * indirect call: resume.
 */
#ifndef PTP_BACKEND_H
#define PTP_BACKEND_H

#include <stdbool.h>

#include "ptplat.h"

struct ptp_ctx;
struct ptp_traced;

struct ptp_backend_ops {
	/* 0 if the backend can honour opts, else -EINVAL (with the open
	 * error set): for example a switch mode it has no meaning for. */
	int (*check_options)(const struct ptp_options *opts);
	/* Runs ctx on t, a thread of the calling tracer thread, until an
	 * event worth reporting: places t, moves ctx's state in, resumes the
	 * app, moves the state out and fills ev. 0 or -errno (-ESRCH: t's
	 * address space died; -ENOEXEC: it left the register layout). */
	int (*resume)(struct ptp_ctx *ctx, struct ptp_traced *t, struct ptp_event *ev);
	/* Brings ctx's state home where the backend left it elsewhere (with
	 * ctx->fp_valid false): 0, or -EXDEV if only another tracer thread can
	 * reach it. */
	int (*ctx_pull)(struct ptp_ctx *ctx);
	/* ctx is being freed, or its state overwritten whole: forget every
	 * place that refers to it (state held there is dropped), so that
	 * ctx's own copy is authoritative (ctx->fp_valid). */
	void (*ctx_release)(struct ptp_ctx *ctx);
	/* t leaves its address space, under ptp_registry_lock. fetch: t is
	 * retired alive by its own tracer thread, so state it alone holds can
	 * still be saved; else it died with its address space. */
	void (*thread_leaving)(struct ptp_traced *t, bool fetch);
};

/* core/backend/ptrace/: PTRACE_SYSEMU stops, faithful and lean modes. */
extern const struct ptp_backend_ops ptp_backend_ptrace;

#endif /* PTP_BACKEND_H */
