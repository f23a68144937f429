/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sn_arch_blocking_syscall(kicked, nr, a1..a6): a host syscall that may
 * block, which a kick can never miss (sentry/arch/arch.h). The kick
 * handler sets *kicked; one that lands after the test below but before the
 * svc runs finds the interrupted pc inside [begin, end) and moves it to
 * cancel (sn_arch_blocking_cancel_point).
 */
	.text
	.globl	sn_arch_blocking_syscall
	.globl	sn_arch_blocking_begin
	.globl	sn_arch_blocking_end
	.globl	sn_arch_blocking_cancel
	.type	sn_arch_blocking_syscall, %function
sn_arch_blocking_syscall:
	mov	x9, x0
	mov	x8, x1
	mov	x0, x2
	mov	x1, x3
	mov	x2, x4
	mov	x3, x5
	mov	x4, x6
	mov	x5, x7
sn_arch_blocking_begin:
	ldr	w10, [x9]
	cbnz	w10, sn_arch_blocking_cancel
	svc	#0
sn_arch_blocking_end:
	ret
sn_arch_blocking_cancel:
	mov	x0, #-4		/* -EINTR */
	ret
	.size	sn_arch_blocking_syscall, . - sn_arch_blocking_syscall

	.section .note.GNU-stack, "", %progbits
