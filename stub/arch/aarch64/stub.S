/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 stub: the only code mapped in a fresh address space. Copied as
 * bytes to the stub page, so everything here is position independent.
 *
 * Entry (from the C child of the tracer, or as the child of an injected
 * clone): x19 = the pid our parent must have. We arm PDEATHSIG, check that
 * the parent did not die before that, and stop ourselves so the tracer can
 * seize us. Injection sets pc to stub_syscall: the syscall runs, then brk
 * traps back to the tracer. With x20 != 0 the child of a clone (x0 == 0)
 * restarts the stub instead of trapping. Every register but x0 survives an
 * svc, so x19 and x20 need no saving.
 */
#include <asm/unistd.h>

#include "stub-abi.h"
#include "stub-symbols.h"
#include "systrap-abi.h"

#define PR_SET_PDEATHSIG 1
#define SIGKILL 9
#define SIGSTOP 19
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1

	.section .rodata.ptp_stub, "a"
	.p2align 4
	STUB_SYMBOLS

	/* Every fd but the syscall thread's socket (fd 0). */
.macro call_close_fds
	mov	x8, #__NR_close_range
	mov	x0, #1
	mov	w1, #-1
	mov	x2, #0
	svc	#0
.endm

ptp_stub_blob_start:
ptp_stub_entry:
	mov	x8, #__NR_prctl
	mov	x0, #PR_SET_PDEATHSIG
	mov	x1, #SIGKILL
	svc	#0
	mov	x8, #__NR_getppid
	svc	#0
	cmp	x0, x19
	b.ne	stub_orphan
	mov	x8, #__NR_getpid
	svc	#0
	mov	x1, #SIGSTOP
	mov	x8, #__NR_kill
	svc	#0
1:	brk	#0
	b	1b

ptp_stub_syscall:
	svc	#0
	cbz	x20, ptp_stub_trap_ip
	cbz	x0, ptp_stub_entry
	/* brk leaves the pc on itself (int3 moves past it): the trap stop
	 * reports this very instruction. */
ptp_stub_trap_ip:
	brk	#0
	b	ptp_stub_trap_ip

	/*
	 * A batch (stub-abi.h): x0 = the record count. Each record is
	 * checked here against the rules of a single injection before it
	 * runs: mmap, munmap or mprotect only; a non-empty range that does
	 * not wrap and ends at or below the stub (found PC-relative, not
	 * told); mmap flags as ptp_as_map makes them and mmap/mprotect
	 * protections within PTP_STUB_PROT_MASK. Every field is loaded into a register
	 * once, checked there and used from there. The list is in this
	 * read-only mapping anyway; the checks hold even if it were not.
	 * The syscall thread runs the same loop over its own request page
	 * (batch_start), with another continuation.
	 *   x21 count, x22 records done, x23 nr, x24 stub_start,
	 *   x25 the record, x26 its address argument (what mmap must return),
	 *   x27 where to go with x0 = result, x1 = done
	 */
ptp_stub_batch:
	adr	x25, ptp_stub_batch_list
	mov	x21, x0
	adr	x27, ptp_stub_trap_ip
batch_start:
	adr	x24, ptp_stub_blob_start
	mov	x22, #0
	cmp	x21, #PTP_STUB_BATCH_MAX
	b.hi	batch_refuse
batch_next:
	cmp	x22, x21
	b.eq	batch_done
	ldp	x23, x0, [x25]
	ldp	x1, x2, [x25, #16]
	ldp	x3, x4, [x25, #32]
	ldr	x5, [x25, #48]
	cbz	x1, batch_refuse
	adds	x9, x0, x1
	b.cs	batch_refuse
	cmp	x9, x24
	b.hi	batch_refuse
	cmp	x23, #__NR_munmap
	b.eq	batch_run
	tst	x2, #~PTP_STUB_PROT_MASK
	b.ne	batch_refuse
	cmp	x23, #__NR_mprotect
	b.eq	batch_run
	cmp	x23, #__NR_mmap
	b.ne	batch_refuse
	and	x9, x3, #~PTP_STUB_MAP_POPULATE
	cmp	x9, #PTP_STUB_MAP_FLAGS
	b.ne	batch_refuse
batch_run:
	mov	x26, x0
	mov	x8, x23
	svc	#0
	cmn	x0, #4095
	b.hs	batch_stop
	/* mmap MAP_FIXED returns its address, the others 0: anything
	 * else is no success. */
	cmp	x23, #__NR_mmap
	b.ne	1f
	cmp	x0, x26
	b.ne	batch_refuse
	b	2f
1:	cbnz	x0, batch_refuse
2:	add	x22, x22, #1
	add	x25, x25, #(PTP_STUB_BATCH_WORDS * 8)
	b	batch_next
batch_refuse:
	mov	x0, #-1		/* -EPERM */
	b	batch_stop
batch_done:
	mov	x0, #0
batch_stop:
	mov	x1, x22
	br	x27

	/*
	 * The syscall thread (systrap-abi.h): untraced, every signal blocked,
	 * its own filter allowing only this code's syscalls. It has no stack
	 * and keeps its state in registers: sp = the sequence number it last
	 * answered (the tracer sets it, 0; nothing here loads or stores
	 * through sp, and no signal frame is ever pushed), x28 its region,
	 * found PC-relative. Every register but x0 survives an svc.
	 */
#define SC_REGION_BELOW ((PTP_SYSTRAP_SLOTS + 1) * PTP_SYSTRAP_REGION)
ptp_stub_syscall_thread:
	adr	x28, ptp_stub_blob_start
	and	x28, x28, #~(PTP_SYSTRAP_REGION - 1)
	sub	x28, x28, #SC_REGION_BELOW
	/* Acquire: the records are read after their number. */
	add	x9, x28, #(PTP_SYSCALL_REQ + PTP_SYSCALL_SEQ)
	ldar	w0, [x9]
	mov	x10, sp
	cmp	w0, w10
	b.ne	sc_request
	mov	x0, x9
	mov	x1, #FUTEX_WAIT
	mov	w2, w10
	mov	x3, #0
	mov	x8, #__NR_futex
	svc	#0
	b	ptp_stub_syscall_thread
sc_request:
	mov	sp, x0
	call_close_fds
	mov	x22, #PTP_SYSCALL_NO_FDS
	ldr	x9, [x28, #(PTP_SYSCALL_REQ + PTP_SYSCALL_NFDS)]
	cbz	x9, 1f
	mov	x9, #(PTP_SYSCALL_RES + PTP_SYSCALL_MSG)
	add	x1, x28, x9
	mov	x0, #0
	mov	x2, #0
	mov	x8, #__NR_recvmsg
	svc	#0
	tbnz	x0, #63, sc_answer_x22
1:	ldr	x21, [x28, #(PTP_SYSCALL_REQ + PTP_SYSCALL_COUNT)]
	add	x25, x28, #(PTP_SYSCALL_REQ + PTP_SYSCALL_RECORDS)
	adr	x27, sc_answer
	b	batch_start
sc_answer:
	mov	x22, x1
sc_answer_x22:
	/* x0 = the result, x22 = the records done */
	mov	x23, x0
	call_close_fds
	str	x23, [x28, #(PTP_SYSCALL_RES + PTP_SYSCALL_RESULT)]
	str	x22, [x28, #(PTP_SYSCALL_RES + PTP_SYSCALL_NDONE)]
	/* Release: the answer before its number. */
	add	x0, x28, #(PTP_SYSCALL_RES + PTP_SYSCALL_DONE)
	mov	x10, sp
	stlr	w10, [x0]
	mov	x1, #FUTEX_WAKE
	mov	x2, #1
	mov	x8, #__NR_futex
	svc	#0
	b	ptp_stub_syscall_thread
ptp_stub_syscall_thread_end:

stub_orphan:
	/* Our parent died before PDEATHSIG was armed: nobody traces us. */
	mov	x8, #__NR_exit
	mov	x0, #1
	svc	#0

	/* A new traced thread waits here, untraced and doing no syscall,
	 * between the platform's detach and its tracer's seize. */
ptp_stub_park:
	yield
	b	ptp_stub_park


	/*
	 * The systrap backend's signal handler (stub/systrap-abi.h), for
	 * SIGSYS, the fault signals and the interrupt, on the thread's
	 * altstack with every signal blocked: x1 = siginfo, x2 = ucontext,
	 * sp = the frame (rt_sigreturn finds it there again). It keeps
	 * everything in registers (the app can write any writable page, this
	 * altstack included; the frame's registers are restored from the
	 * frame, so it may use them all), and its syscalls (futex on its own
	 * state word, rt_sigreturn, exit) are the only ones the thread's
	 * filter allows, and only from [handler, end). Offsets: checked
	 * against the kernel's structs in core/arch/aarch64/systrap.c.
	 *   x19 the frame, x20 the region, x21 the ucontext,
	 *   x22 the frame's fpsimd_context (0: none), x23 its ESR (0: none)
	 */
#define UC_STACK 16
#define UC_SIGMASK 40
#define UC_MCONTEXT 176
#define UC_RESERVED (UC_MCONTEXT + 288)
#define RESERVED_SIZE 4096
#define FPSIMD_MAGIC 0x46508001
#define FPSIMD_SIZE 528
#define ESR_MAGIC 0x45535201
#define ESR_SIZE 16
#define GREGS_OUT 280	/* fault_address, x0-x30, sp, pc, pstate */
#define GREGS_IN 272	/* x0-x30, sp, pc, pstate: what the tracer may set */
ptp_stub_systrap_handler:
	mov	x19, sp
	mov	x20, sp
	and	x20, x20, #~(PTP_SYSTRAP_REGION - 1)
	mov	x21, x2
	add	x0, x20, #PTP_SYSTRAP_SIGINFO
	mov	x3, #PTP_SYSTRAP_SIGINFO_SIZE
	bl	systrap_copy
	add	x0, x20, #PTP_SYSTRAP_GREGS
	add	x1, x21, #UC_MCONTEXT
	mov	x3, #GREGS_OUT
	bl	systrap_copy
	bl	systrap_records
	str	x23, [x20, #(PTP_SYSTRAP_GREGS + GREGS_OUT)]
	mrs	x9, tpidr_el0
	str	x9, [x20, #PTP_SYSTRAP_FS_BASE]
	mov	x24, #0
	cbz	x22, 1f
	mov	x24, #FPSIMD_SIZE
	add	x0, x20, #PTP_SYSTRAP_FP
	mov	x1, x22
	mov	x3, x24
	bl	systrap_copy
1:	str	x24, [x20, #PTP_SYSTRAP_FP_SIZE]
	/* Publish (release), then a full barrier before the sleeper flag is
	 * read: a store may otherwise pass a later load. */
	mov	w9, #PTP_SYSTRAP_EVENT
	stlr	w9, [x20]
	dmb	ish
	ldr	w9, [x20, #PTP_SYSTRAP_TRACER_SLEEPS]
	cbz	w9, systrap_spin
	mov	x1, #FUTEX_WAKE
	mov	x2, #1
	bl	systrap_futex
systrap_spin:
	mov	w9, #1
	str	w9, [x20, #PTP_SYSTRAP_STUB_SPUN]
	ldr	x11, [x20, #PTP_SYSTRAP_SPIN_CYCLES]
	mov	x12, #PTP_SYSTRAP_SPIN_MAX
	cmp	x11, x12
	csel	x11, x12, x11, hi
	isb
	mrs	x12, cntvct_el0
	add	x11, x11, x12
1:	ldar	w9, [x20]
	cmp	w9, #PTP_SYSTRAP_EVENT
	b.ne	systrap_answer
	yield
	mrs	x12, cntvct_el0
	cmp	x12, x11
	b.lo	1b
	str	wzr, [x20, #PTP_SYSTRAP_STUB_SPUN]
	mov	w9, #1
	str	w9, [x20, #PTP_SYSTRAP_STUB_SLEEPS]
	dmb	ish
2:	ldar	w9, [x20]
	cmp	w9, #PTP_SYSTRAP_EVENT
	b.ne	3f
	mov	x1, #FUTEX_WAIT
	mov	x2, #PTP_SYSTRAP_EVENT
	bl	systrap_futex
	b	2b
3:	str	wzr, [x20, #PTP_SYSTRAP_STUB_SLEEPS]
systrap_answer:
	/* w9: the state, read with acquire: the page's answer after it. */
	cmp	w9, #PTP_SYSTRAP_RUN
	b.ne	systrap_exit
	add	x0, x21, #(UC_MCONTEXT + 8)
	add	x1, x20, #(PTP_SYSTRAP_GREGS + 8)
	mov	x3, #GREGS_IN
	bl	systrap_copy
	/* The FP registers into the record found at entry (a register, not
	 * the page's word), after the frame's own header. */
	cbz	x22, 4f
	add	x0, x22, #8
	add	x1, x20, #(PTP_SYSTRAP_FP + 8)
	mov	x3, #(FPSIMD_SIZE - 8)
	bl	systrap_copy
4:	ldr	x9, [x20, #PTP_SYSTRAP_FS_BASE]
	msr	tpidr_el0, x9
	/* Whatever the frame says now: nothing blocked, this altstack. */
	str	xzr, [x21, #UC_SIGMASK]
	add	x9, x20, #PTP_SYSTRAP_SHARED
	str	x9, [x21, #UC_STACK]
	str	wzr, [x21, #(UC_STACK + 8)]
	mov	x9, #PTP_SYSTRAP_ALTSTACK
	str	x9, [x21, #(UC_STACK + 16)]
	mov	sp, x19
ptp_stub_systrap_restorer:
	mov	x8, #__NR_rt_sigreturn
	svc	#0
systrap_exit:
	mov	x8, #__NR_exit
	mov	x0, #0
	svc	#0
	b	systrap_exit

	/* x3 bytes (a multiple of 8, not 0) from x1 to x0; moves both,
	 * clobbers x9. */
systrap_copy:
	ldr	x9, [x1], #8
	str	x9, [x0], #8
	subs	x3, x3, #8
	b.hi	systrap_copy
	ret

	/*
	 * x22 = the frame's fpsimd_context, x23 = its esr_context's ESR (0
	 * where missing): a walk over the records in __reserved, each header
	 * loaded once, bounded by __reserved whatever the sizes say (the app
	 * can write the frame). extra_context is not followed: neither record
	 * is ever put there.
	 *   x10 the record, x11 the end of __reserved, w12 magic, w13 size
	 */
systrap_records:
	mov	x22, #0
	mov	x23, #0
	add	x10, x21, #UC_RESERVED
	add	x11, x10, #RESERVED_SIZE
1:	add	x9, x10, #8
	cmp	x9, x11
	b.hi	3f
	ldp	w12, w13, [x10]
	cbz	w12, 3f
	/* A record is at least its header and 16-byte aligned. */
	cmp	w13, #16
	b.lo	3f
	tst	w13, #15
	b.ne	3f
	add	x9, x10, x13
	cmp	x9, x11
	b.hi	3f
	mov	w14, #(FPSIMD_MAGIC & 0xffff)
	movk	w14, #(FPSIMD_MAGIC >> 16), lsl #16
	cmp	w12, w14
	b.ne	2f
	cmp	w13, #FPSIMD_SIZE
	b.ne	2f
	cbnz	x22, 2f
	mov	x22, x10
2:	mov	w14, #(ESR_MAGIC & 0xffff)
	movk	w14, #(ESR_MAGIC >> 16), lsl #16
	cmp	w12, w14
	b.ne	4f
	cmp	w13, #ESR_SIZE
	b.ne	4f
	ldr	x23, [x10, #8]
4:	mov	x10, x9
	b	1b
3:	ret

	/* futex(state word, x1, x2, no timeout). */
systrap_futex:
	mov	x0, x20
	mov	x3, #0
	mov	x8, #__NR_futex
	svc	#0
	ret
ptp_stub_systrap_end:

	/* A new systrap thread starts here, untraced: its first syscall traps
	 * into the handler, which reports it and waits for its first context. */
ptp_stub_systrap_boot:
	mov	x8, #__NR_getpid
	svc	#0
ptp_stub_systrap_boot_ip:
	b	ptp_stub_systrap_boot

	.p2align 3
ptp_stub_batch_list:
	.skip	PTP_STUB_BATCH_BYTES
ptp_stub_blob_end:

	.section .note.GNU-stack, "", @progbits
