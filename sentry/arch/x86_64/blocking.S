/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sn_arch_blocking_syscall(kicked, nr, a1..a6): a host syscall that may
 * block, which a kick can never miss (sentry/arch/arch.h). The kick
 * handler sets *kicked; one that lands after the test below but before the
 * syscall instruction runs finds the interrupted ip inside
 * [begin, end) and moves it to cancel (sn_arch_blocking_cancel_point).
 */
	.text
	.globl	sn_arch_blocking_syscall
	.globl	sn_arch_blocking_begin
	.globl	sn_arch_blocking_end
	.globl	sn_arch_blocking_cancel
	.type	sn_arch_blocking_syscall, @function
sn_arch_blocking_syscall:
	mov	%rdi, %r11
	mov	%rsi, %rax
	mov	%rdx, %rdi
	mov	%rcx, %rsi
	mov	%r8, %rdx
	mov	%r9, %r10
	mov	8(%rsp), %r8
	mov	16(%rsp), %r9
sn_arch_blocking_begin:
	cmpl	$0, (%r11)
	jne	sn_arch_blocking_cancel
	syscall
sn_arch_blocking_end:
	ret
sn_arch_blocking_cancel:
	mov	$-4, %rax	/* -EINTR */
	ret
	.size	sn_arch_blocking_syscall, . - sn_arch_blocking_syscall

	.section .note.GNU-stack, "", @progbits
