/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The x86_64 stub: the only code mapped in a fresh address space. Copied as
 * bytes to the stub page, so everything here is position independent.
 *
 * Entry (from the C child of the tracer, or as the child of an injected
 * clone): r12 = the pid our parent must have. We arm PDEATHSIG, check that the
 * parent did not die before that, and stop ourselves so the tracer can seize
 * us. Injection sets rip to stub_syscall: the syscall runs, then int3 traps
 * back to the tracer. With r13 != 0 the child of a clone (rax == 0) restarts
 * the stub instead of trapping.
 */
#include <asm/unistd.h>

#define PR_SET_PDEATHSIG 1
#define SIGKILL 9
#define SIGSTOP 19

	.section .rodata.ptp_stub, "a"
	.p2align 4
	.globl ptp_stub_blob_start, ptp_stub_blob_end, ptp_stub_entry
	.globl ptp_stub_syscall, ptp_stub_trap_ip, ptp_stub_park
	/* Global for the core's C, never exported by libptplat.so. */
	.hidden ptp_stub_blob_start, ptp_stub_blob_end, ptp_stub_entry
	.hidden ptp_stub_syscall, ptp_stub_trap_ip, ptp_stub_park

ptp_stub_blob_start:
ptp_stub_entry:
	mov	$__NR_prctl, %eax
	mov	$PR_SET_PDEATHSIG, %edi
	mov	$SIGKILL, %esi
	syscall
	mov	$__NR_getppid, %eax
	syscall
	cmp	%r12, %rax
	jne	stub_orphan
	mov	$__NR_getpid, %eax
	syscall
	mov	%rax, %rdi
	mov	$SIGSTOP, %esi
	mov	$__NR_kill, %eax
	syscall
1:	int3
	jmp	1b

ptp_stub_syscall:
	syscall
	test	%r13, %r13
	jz	stub_trap
	test	%rax, %rax
	jz	ptp_stub_entry
stub_trap:
	int3
ptp_stub_trap_ip:
	jmp	stub_trap

stub_orphan:
	/* Our parent died before PDEATHSIG was armed: nobody traces us. */
	mov	$__NR_exit, %eax
	mov	$1, %edi
	syscall

	/* A new traced thread waits here, untraced and doing no syscall,
	 * between the platform's detach and its tracer's seize. */
ptp_stub_park:
	pause
	jmp	ptp_stub_park
ptp_stub_blob_end:

	.section .note.GNU-stack, "", @progbits
