/* SPDX-License-Identifier: Apache-2.0 */
/*
 * long unit_syscall_in(long nr, long a0, long a1) and unit_syscall_out(...):
 * two copies of one raw syscall, so that a filter can allow syscalls from
 * the first one's code and trap them from the second's. The _ret labels are
 * the address after each svc (what seccomp reports), the _end labels the
 * first byte after each copy.
 */
	.text

	.globl unit_syscall_in, unit_syscall_in_ret, unit_syscall_in_end
	.type unit_syscall_in, %function
unit_syscall_in:
	mov x8, x0
	mov x0, x1
	mov x1, x2
	svc #0
unit_syscall_in_ret:
	ret
unit_syscall_in_end:
	.size unit_syscall_in, . - unit_syscall_in

	.globl unit_syscall_out, unit_syscall_out_ret
	.type unit_syscall_out, %function
unit_syscall_out:
	mov x8, x0
	mov x0, x1
	mov x1, x2
	svc #0
unit_syscall_out_ret:
	ret
	.size unit_syscall_out, . - unit_syscall_out

	.section .note.GNU-stack, "", %progbits
