/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the systrap backend (core/backend/systrap/) and the stub's signal
 * handler (stub/arch/<arch>/stub.S, ptp_stub_systrap_*) agree on; included by
 * both, so only #defines.
 *
 * Every thread that runs app code owns one region of PTP_SYSTRAP_REGION
 * bytes, aligned to its size, in the slots right below the stub: first the
 * shared part (a memfd the tracer maps too), then the thread's sigaltstack.
 * The handler runs on that altstack, so it finds its region by masking its
 * stack pointer: it needs no TLS and no writable data of its own.
 *
 * The handler copies the siginfo, the frame's general registers and FP
 * record, and fs/gs base into the shared part, publishes PTP_SYSTRAP_EVENT
 * in the state word and waits for the tracer's answer: PTP_SYSTRAP_RUN (copy
 * the state back into the frame and return into the app) or PTP_SYSTRAP_EXIT
 * (end the thread). Any other value ends the thread as well. The app can
 * write all of this at any time: the tracer copies, then validates.
 */
#ifndef PTP_SYSTRAP_ABI_H
#define PTP_SYSTRAP_ABI_H

#define PTP_SYSTRAP_REGION 0x10000   /* one thread's region */
#define PTP_SYSTRAP_SHARED 0x6000    /* the shared part at its start */
#define PTP_SYSTRAP_ALTSTACK 0xa000  /* the altstack after it */
#define PTP_SYSTRAP_SLOTS 64         /* regions per address space */

/* The state word's values. */
#define PTP_SYSTRAP_EVENT 1
#define PTP_SYSTRAP_RUN 2
#define PTP_SYSTRAP_EXIT 3

/* Offsets in the shared part. */
#define PTP_SYSTRAP_STATE 0          /* u32, the futex word */
#define PTP_SYSTRAP_TRACER_SLEEPS 4  /* u32: the tracer waits in FUTEX_WAIT */
#define PTP_SYSTRAP_STUB_SLEEPS 8    /* u32: the handler waits in FUTEX_WAIT */
#define PTP_SYSTRAP_STUB_SPUN 12     /* u32: the handler's last wait ended in its spin */
#define PTP_SYSTRAP_SPIN_CYCLES 16   /* u64: the handler's spin bound, in TSC/counter ticks */
#define PTP_SYSTRAP_FS_BASE 24       /* u64 */
#define PTP_SYSTRAP_GS_BASE 32       /* u64 */
#define PTP_SYSTRAP_FP_SIZE 40       /* u64: bytes of FP record copied */
#define PTP_SYSTRAP_SIGINFO 64       /* the siginfo, whole */
#define PTP_SYSTRAP_SIGINFO_SIZE 128
#define PTP_SYSTRAP_GREGS 192        /* the frame's general registers */
#define PTP_SYSTRAP_GREGS_SIZE 256
#define PTP_SYSTRAP_FP 1024          /* the frame's FP record */
#define PTP_SYSTRAP_FP_MAX (PTP_SYSTRAP_SHARED - PTP_SYSTRAP_FP)
/* The handler never spins longer than this many ticks, whatever the page
 * says (about 60 ms at 2 GHz). */
#define PTP_SYSTRAP_SPIN_MAX 0x8000000

#endif /* PTP_SYSTRAP_ABI_H */
