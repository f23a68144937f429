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
#define PTP_SYSTRAP_FS_BASE 24       /* u64: x86_64 fs_base; arm64 tpidr_el0 */
#define PTP_SYSTRAP_GS_BASE 32       /* u64: x86_64 gs_base; unused on arm64 */
#define PTP_SYSTRAP_FP_SIZE 40       /* u64: bytes of FP record copied */
#define PTP_SYSTRAP_SIGINFO 64       /* the siginfo, whole */
#define PTP_SYSTRAP_SIGINFO_SIZE 128
#define PTP_SYSTRAP_GREGS 192        /* the frame's general registers */
#define PTP_SYSTRAP_GREGS_SIZE 512   /* arm64: 35 words of sigcontext, then the ESR */
#define PTP_SYSTRAP_FP 1024          /* the frame's FP record */
#define PTP_SYSTRAP_FP_MAX (PTP_SYSTRAP_SHARED - PTP_SYSTRAP_FP)
/* The handler never spins longer than this many ticks, whatever the page
 * says (about 60 ms at 2 GHz). */
#define PTP_SYSTRAP_SPIN_MAX 0x8000000

/*
 * The syscall thread: one per address space, a stub thread that runs no app
 * code and makes the address space's mmap, munmap and mprotect (ptp_as_map
 * and the rest) without a ptrace round trip. Its region is the slot below
 * the threads' (PTP_SYSTRAP_SLOTS), found PC-relative like the stub's own
 * start, so it keeps nothing but its loop in registers:
 *   the request page, read-only in the stub (the tracer writes it through
 *   its own mapping of the memfd): a sequence number (the futex word the
 *   thread sleeps on), the record count and list of stub-abi.h's batch, and
 *   how many fds came with it;
 *   the result page, the only page it writes: the answered sequence number
 *   (the futex word the tracer sleeps on), the batch's result and the
 *   records done, and the scratch recvmsg needs (the kernel writes back
 *   into the msghdr, so it cannot be read-only).
 * The fds of a request's maps arrive over the socket at fd 0 (SCM_RIGHTS),
 * numbered 1, 2, ... as the kernel installs them in a table that holds only
 * that socket; every fd above 0 is closed before and after each request.
 */
#define PTP_SYSCALL_REQ 0x0           /* the request page, in the region */
#define PTP_SYSCALL_RES 0x1000        /* the result page */
#define PTP_SYSCALL_PAGES 0x2000      /* both, one memfd */
#define PTP_SYSCALL_SEQ 0             /* u32 */
#define PTP_SYSCALL_COUNT 8           /* u64: records */
#define PTP_SYSCALL_NFDS 16           /* u64: fds sent with them */
#define PTP_SYSCALL_RECORDS 64        /* the batch list */
#define PTP_SYSCALL_DONE 0            /* u32, in the result page */
#define PTP_SYSCALL_RESULT 8          /* u64: 0 or -errno */
#define PTP_SYSCALL_NDONE 16          /* u64: records that took effect */
#define PTP_SYSCALL_MSG 64            /* recvmsg's msghdr, then iov and cmsg */
/* NDONE when the fds could not be received: no request gives that. */
#define PTP_SYSCALL_NO_FDS (-1)

#endif /* PTP_SYSTRAP_ABI_H */
