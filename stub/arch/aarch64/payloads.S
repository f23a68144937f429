/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 payloads: see stub/payloads.h for what each one does. */
#include <asm/unistd.h>
#include "payload-abi.h"

/* Outside both translation ranges: bit 55 set (the TTBR1 half under
 * TBI) with bits 54-48 clear. */
#define BAD_ADDRESS 0x0080000000000000

#define BLOB_PREFIX payload
#include "blob-asm.h"

	.section .rodata.ptp_payloads, "a"

BEGIN syscall_loop
1:	mov	x8, #__NR_getpid
	svc	#0
	add	x5, x5, #1
	b	1b
END syscall_loop

/* x86's rax is both number and result; here the result (x0) becomes the
 * next number explicitly. */
BEGIN syscall_raw
1:	svc	#0
	mov	x8, x0
	b	1b
END syscall_raw

BEGIN spin
1:	yield
	b	1b
END spin

BEGIN read
	ldr	x1, [x0]
1:	mov	x8, #__NR_getpid
	svc	#0
	b	1b
END read

BEGIN write
	str	x1, [x0]
1:	mov	x8, #__NR_getpid
	svc	#0
	b	1b
END write

/* Clean and invalidate x0's cache line to the point of coherence: the
 * fault's ESR has WnR set, and CM says it is no write. */
BEGIN cache_flush
	dc	civac, x0
1:	mov	x8, #__NR_getpid
	svc	#0
	b	1b
END cache_flush

BEGIN write_spin
	str	x1, [x0]
1:	yield
	b	1b
END write_spin

BEGIN exec
	br	x0
END exec

/* No general-protection fault on arm64: the load takes a level 0
 * translation fault, a plain SIGSEGV (SEGV_MAPERR) with si_addr the
 * address and the pc on the ldr (H_CODE + 4). */
BEGIN bad_address
	mov	x0, #BAD_ADDRESS
	ldr	x0, [x0]
	udf	#0
END bad_address

NONE cpuid

/*
 * GPR index order is the core's (ptp_gpr_name): x0-x30, sp. No register is
 * free to hold a pattern, so x0 is checked alone, destructively: its
 * pattern is subtracted 24, 24 and 16 bits at a time (ror brings the next
 * chunk down), each chunk tested for zero. Then x0 holds patterns for the
 * others, and x1 too for the vector registers. Patterns are read
 * PC-relative.
 */
.macro CHECK_X0 val
	sub	x0, x0, #((\val) & 0xfff)
	sub	x0, x0, #(((\val) >> 12) & 0xfff), lsl #12
	tst	x0, #0xffffff
	b.ne	.Lfail_0
	ror	x0, x0, #24
	sub	x0, x0, #(((\val) >> 24) & 0xfff)
	sub	x0, x0, #(((\val) >> 36) & 0xfff), lsl #12
	tst	x0, #0xffffff
	b.ne	.Lfail_0
	ror	x0, x0, #24
	sub	x0, x0, #(((\val) >> 48) & 0xfff)
	sub	x0, x0, #(((\val) >> 60) & 0xf), lsl #12
	cbnz	x0, .Lfail_0
.endm
.macro CHECK_GPR idx
	ldr	x0, .Lgin_\idx
	cmp	x\idx, x0
	b.ne	.Lfail_\idx
.endm
.macro CHECK_VREG idx
	fmov	x0, d\idx
	ldr	x1, .Lvin_\idx
	cmp	x0, x1
	b.ne	.Lvfail_\idx
	mov	x0, v\idx\().d[1]
	ldr	x1, .Lvin_\idx + 8
	cmp	x0, x1
	b.ne	.Lvfail_\idx
.endm

BEGIN regs_check
	CHECK_X0 PAYLOAD_GPR_IN(0)
	.irp i, 1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
	CHECK_GPR \i
	.endr
	ldr	x0, .Lgin_31
	cmp	sp, x0
	b.ne	.Lfail_31
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	CHECK_VREG \i
	.endr
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	ldr	q\i, .Lvout_\i
	.endr
	ldr	x0, .Lgout_31
	mov	sp, x0
	/* x8 is the number. */
	.irp i, 0,1,2,3,4,5,6,7,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30
	ldr	x\i, .Lgout_\i
	.endr
	mov	x8, #PAYLOAD_NR_OK
	svc	#0
	udf	#0
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
.Lfail_\i:
	mov	x0, #\i
	b	.Lreport_fail
.Lvfail_\i:
	mov	x0, #(PAYLOAD_FAIL_VREG + \i)
	b	.Lreport_fail
	.endr
.Lreport_fail:
	mov	x8, #PAYLOAD_NR_FAIL
	svc	#0
	udf	#0
	.p2align 4
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
.Lvin_\i:	.quad PAYLOAD_VLO_IN(\i), PAYLOAD_VHI_IN(\i)
.Lvout_\i:	.quad PAYLOAD_VLO_OUT(\i), PAYLOAD_VHI_OUT(\i)
.Lgin_\i:	.quad PAYLOAD_GPR_IN(\i)
.Lgout_\i:	.quad PAYLOAD_GPR_OUT(\i)
	.endr
END regs_check

BEGIN tls_read
	mrs	x0, tpidr_el0
	ldr	x0, [x0]
1:	mov	x8, #PAYLOAD_NR_OK
	svc	#0
	b	1b
END tls_read

/* brk leaves the pc on itself: resuming without moving it traps again. */
BEGIN breakpoint
	brk	#0
1:	mov	x8, #PAYLOAD_NR_OK
	svc	#0
	b	1b
END breakpoint

BEGIN undefined
	udf	#0
END undefined

/*
 * Pushes x0, 8 bytes at a time, with the fault at the payload's first
 * instruction and sp not yet moved, as x86's push: sp stays 16-byte
 * aligned (Linux sets SCTLR_EL1.SA0, so an sp-based access with a
 * misaligned sp would be an alignment fault), hence two stores per step.
 */
BEGIN stack_overflow
1:	stur	x0, [sp, #-8]
	stur	x0, [sp, #-16]
	sub	sp, sp, #16
	b	1b
END stack_overflow

NONE vsyscall
NONE single_step
NONE int80
NONE sysenter
NONE compat_int80

BEGIN compute
1:	mov	x9, x1
2:	subs	x9, x9, #1
	b.ne	2b
	mov	x8, #PAYLOAD_NR_OK
	svc	#0
	b	1b
END compute

/* A store needs a base register: x0 is tested for zero (and so known)
 * before it becomes the record's address; every other register is stored
 * as the context started. */
BEGIN state_dump
	cbnz	x0, 2f
	movz	x0, #(PAYLOAD_DUMP_ADDR >> 16), lsl #16
	str	xzr, [x0]
	str	x1, [x0, #8]
	stp	x2, x3, [x0, #16]
	stp	x4, x5, [x0, #32]
	stp	x6, x7, [x0, #48]
	stp	x8, x9, [x0, #64]
	stp	x10, x11, [x0, #80]
	stp	x12, x13, [x0, #96]
	stp	x14, x15, [x0, #112]
	stp	x16, x17, [x0, #128]
	stp	x18, x19, [x0, #144]
	stp	x20, x21, [x0, #160]
	stp	x22, x23, [x0, #176]
	stp	x24, x25, [x0, #192]
	stp	x26, x27, [x0, #208]
	stp	x28, x29, [x0, #224]
	str	x30, [x0, #240]
	mov	x1, sp
	str	x1, [x0, #248]
	mrs	x1, nzcv
	str	x1, [x0, #PAYLOAD_DUMP_FLAGS]
	mrs	x1, tpidr_el0
	str	x1, [x0, #(PAYLOAD_DUMP_FLAGS + 8)]
	add	x1, x0, #PAYLOAD_DUMP_FP
	stp	q0, q1, [x1, #0]
	stp	q2, q3, [x1, #32]
	stp	q4, q5, [x1, #64]
	stp	q6, q7, [x1, #96]
	stp	q8, q9, [x1, #128]
	stp	q10, q11, [x1, #160]
	stp	q12, q13, [x1, #192]
	stp	q14, q15, [x1, #224]
	stp	q16, q17, [x1, #256]
	stp	q18, q19, [x1, #288]
	stp	q20, q21, [x1, #320]
	stp	q22, q23, [x1, #352]
	stp	q24, q25, [x1, #384]
	stp	q26, q27, [x1, #416]
	stp	q28, q29, [x1, #448]
	stp	q30, q31, [x1, #480]
	/* FPSR and FPCR where struct user_fpsimd_state has them. */
	mrs	x2, fpsr
	str	w2, [x1, #512]
	mrs	x2, fpcr
	str	w2, [x1, #516]
	/* Flip the carry flag (bit 29) for the tracer to see. */
	mrs	x1, nzcv
	eor	x1, x1, #(1 << 29)
	msr	nzcv, x1
	mov	x8, #PAYLOAD_NR_OK
	svc	#0
	udf	#0
2:	mov	x1, x0
	mov	x0, #0
	mov	x8, #PAYLOAD_NR_FAIL
	svc	#0
	udf	#0
END state_dump

	.section .note.GNU-stack, "", @progbits
