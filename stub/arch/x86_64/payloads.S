/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64 payloads: see stub/payloads.h for what each one does. */
#include <asm/unistd.h>
#include "payload-abi.h"

#define VSYSCALL_TIME 0xffffffffff600400
#define X86_EFLAGS_TF 0x100

#define BLOB_PREFIX payload
#include "blob-asm.h"

	.section .rodata.ptp_payloads, "a"

BEGIN syscall_loop
1:	mov	$__NR_getpid, %eax
	syscall
	inc	%r9
	jmp	1b
END syscall_loop

BEGIN syscall_raw
1:	syscall
	jmp	1b
END syscall_raw

BEGIN spin
1:	pause
	jmp	1b
END spin

BEGIN read
	mov	(%rdi), %rsi
1:	mov	$__NR_getpid, %eax
	syscall
	jmp	1b
END read

BEGIN write
	mov	%rsi, (%rdi)
1:	mov	$__NR_getpid, %eax
	syscall
	jmp	1b
END write

/* Flush rdi's cache line: clflush needs read access only, and faults as a
 * read. */
BEGIN cache_flush
	clflush	(%rdi)
1:	mov	$__NR_getpid, %eax
	syscall
	jmp	1b
END cache_flush

BEGIN write_spin
	mov	%rsi, (%rdi)
1:	pause
	jmp	1b
END write_spin

BEGIN exec
	jmp	*%rdi
END exec

BEGIN bad_address
	movabs	$0x8000000000000000, %rax
	mov	(%rax), %rax
	ud2
END bad_address

BEGIN cpuid
	mov	%rdi, %rax
	mov	%rsi, %rcx
	cpuid
	mov	%eax, %edi
	mov	%ebx, %esi
	mov	%edx, %r10d
	mov	%ecx, %edx
1:	mov	$PAYLOAD_NR_OK, %eax
	syscall
	jmp	1b
END cpuid

/* GPR index order is the core's (ptp_gpr_name): rax rbx rcx rdx rsi rdi rbp
 * rsp r8-r15. Patterns are read RIP-relative, as no register is free. */
.macro CHECK_GPR reg, idx
	cmp	.Lgin_\idx(%rip), %\reg
	jne	.Lfail_\idx
.endm
.macro CHECK_VREG idx
	movq	%xmm\idx, %rax
	cmp	.Lvlo_in_\idx(%rip), %rax
	jne	.Lvfail_\idx
	pextrq	$1, %xmm\idx, %rax
	cmp	.Lvhi_in_\idx(%rip), %rax
	jne	.Lvfail_\idx
.endm
.macro LOAD_VREG idx
	movq	.Lvlo_out_\idx(%rip), %xmm\idx
	pinsrq	$1, .Lvhi_out_\idx(%rip), %xmm\idx
.endm
.macro LOAD_GPR reg, idx
	mov	.Lgout_\idx(%rip), %\reg
.endm

BEGIN regs_check
	CHECK_GPR rax, 0
	CHECK_GPR rbx, 1
	CHECK_GPR rcx, 2
	CHECK_GPR rdx, 3
	CHECK_GPR rsi, 4
	CHECK_GPR rdi, 5
	CHECK_GPR rbp, 6
	CHECK_GPR rsp, 7
	CHECK_GPR r8, 8
	CHECK_GPR r9, 9
	CHECK_GPR r10, 10
	CHECK_GPR r11, 11
	CHECK_GPR r12, 12
	CHECK_GPR r13, 13
	CHECK_GPR r14, 14
	CHECK_GPR r15, 15
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	CHECK_VREG \i
	.endr
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	LOAD_VREG \i
	.endr
	/* rcx and r11 are the syscall instruction's own. */
	LOAD_GPR rbx, 1
	LOAD_GPR rdx, 3
	LOAD_GPR rsi, 4
	LOAD_GPR rdi, 5
	LOAD_GPR rbp, 6
	LOAD_GPR rsp, 7
	LOAD_GPR r8, 8
	LOAD_GPR r9, 9
	LOAD_GPR r10, 10
	LOAD_GPR r12, 12
	LOAD_GPR r13, 13
	LOAD_GPR r14, 14
	LOAD_GPR r15, 15
	mov	$PAYLOAD_NR_OK, %eax
	syscall
	ud2
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
.Lfail_\i:
	mov	$\i, %edi
	jmp	.Lreport_fail
.Lvfail_\i:
	mov	$(PAYLOAD_FAIL_VREG + \i), %edi
	jmp	.Lreport_fail
	.endr
.Lreport_fail:
	mov	$PAYLOAD_NR_FAIL, %eax
	syscall
	ud2
	.p2align 3
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
.Lgin_\i:	.quad PAYLOAD_GPR_IN(\i)
.Lgout_\i:	.quad PAYLOAD_GPR_OUT(\i)
.Lvlo_in_\i:	.quad PAYLOAD_VLO_IN(\i)
.Lvhi_in_\i:	.quad PAYLOAD_VHI_IN(\i)
.Lvlo_out_\i:	.quad PAYLOAD_VLO_OUT(\i)
.Lvhi_out_\i:	.quad PAYLOAD_VHI_OUT(\i)
	.endr
END regs_check

BEGIN tls_read
	mov	%fs:0, %rdi
1:	mov	$PAYLOAD_NR_OK, %eax
	syscall
	jmp	1b
END tls_read

BEGIN breakpoint
	int3
1:	mov	$PAYLOAD_NR_OK, %eax
	syscall
	jmp	1b
END breakpoint

BEGIN undefined
	ud2
END undefined

BEGIN stack_overflow
1:	push	%rax
	jmp	1b
END stack_overflow

BEGIN vsyscall
	movabs	$VSYSCALL_TIME, %rax
	xor	%edi, %edi
	call	*%rax
	mov	%rax, %rdi
1:	mov	$PAYLOAD_NR_OK, %eax
	syscall
	jmp	1b
END vsyscall

BEGIN single_step
	pushf
	orq	$X86_EFLAGS_TF, (%rsp)
	popf
	nop
	nop
	nop
1:	mov	$PAYLOAD_NR_OK, %eax
	syscall
	jmp	1b
END single_step

BEGIN int80
1:	mov	$PAYLOAD_IA32_NR, %eax
	int	$0x80
	mov	%eax, %ebx
	jmp	1b
END int80

BEGIN sysenter
1:	mov	$PAYLOAD_IA32_NR, %eax
	sysenter
	mov	%eax, %ebx
	jmp	1b
END sysenter

#define USER32_CS 0x23

/* A far jump through memory, not lretq: qemu's TCG (7.2) pops lretq's
 * operands as supervisor reads, which SMAP turns into a kernel oops. */
BEGIN compat_int80
	lea	1f(%rip), %rax
	sub	$8, %rsp
	mov	%eax, (%rsp)
	movw	$USER32_CS, 4(%rsp)
	ljmpl	*(%rsp)
	.code32
1:	mov	$PAYLOAD_IA32_NR, %eax
	int	$0x80
	mov	%eax, %ebx
	jmp	1b
	.code64
END compat_int80

BEGIN compute
1:	mov	%rsi, %rcx
2:	dec	%rcx
	jnz	2b
	mov	$PAYLOAD_NR_OK, %eax
	syscall
	jmp	1b
END compute

#define DUMP(off) (PAYLOAD_DUMP_ADDR + (off))

/* Nothing is read before it is stored: every register as the context
 * started. pushfq needs a stack: the record's first page above the GPRs. */
BEGIN state_dump
	mov	%rax, DUMP(0)
	mov	%rbx, DUMP(8)
	mov	%rcx, DUMP(16)
	mov	%rdx, DUMP(24)
	mov	%rsi, DUMP(32)
	mov	%rdi, DUMP(40)
	mov	%rbp, DUMP(48)
	mov	%rsp, DUMP(56)
	mov	%r8, DUMP(64)
	mov	%r9, DUMP(72)
	mov	%r10, DUMP(80)
	mov	%r11, DUMP(88)
	mov	%r12, DUMP(96)
	mov	%r13, DUMP(104)
	mov	%r14, DUMP(112)
	mov	%r15, DUMP(120)
	mov	$DUMP(PAYLOAD_DUMP_FP), %esp
	pushfq
	pop	%rax
	mov	%rax, DUMP(PAYLOAD_DUMP_FLAGS)
	mov	$-1, %eax
	mov	$-1, %edx
	xsave	DUMP(PAYLOAD_DUMP_FP)
	cmc
	mov	$PAYLOAD_NR_OK, %eax
	syscall
	rdfsbase %rax
	mov	%rax, DUMP(PAYLOAD_DUMP_FLAGS + 8)
	rdgsbase %rax
	mov	%rax, DUMP(PAYLOAD_DUMP_FLAGS + 16)
	mov	$PAYLOAD_NR_OK, %eax
	syscall
	ud2
END state_dump

	.section .note.GNU-stack, "", @progbits
