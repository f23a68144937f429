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

#include "stub-abi.h"

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
	.globl ptp_stub_batch, ptp_stub_batch_list
	.hidden ptp_stub_batch, ptp_stub_batch_list

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

	/*
	 * A batch (stub-abi.h): rdi = the record count. Each record is
	 * checked here against the rules of a single injection before it
	 * runs: mmap, munmap or mprotect only; a non-empty range that does
	 * not wrap and ends at or below the stub (found PC-relative, not
	 * told); mmap flags as ptp_as_map makes them and mmap/mprotect
	 * protections within PTP_STUB_PROT_MASK. Every field is loaded into a register
	 * once, checked there and used from there. The list is in this
	 * read-only mapping anyway; the checks hold even if it were not.
	 *   rbx count, r12 records done, r13 nr, r14 stub_start,
	 *   r15 the record, rbp its address argument (what mmap must return)
	 */
ptp_stub_batch:
	lea	ptp_stub_blob_start(%rip), %r14
	lea	ptp_stub_batch_list(%rip), %r15
	mov	%rdi, %rbx
	xor	%r12d, %r12d
	cmp	$PTP_STUB_BATCH_MAX, %rbx
	ja	batch_refuse
batch_next:
	cmp	%rbx, %r12
	je	batch_done
	mov	0(%r15), %r13
	mov	8(%r15), %rdi
	mov	16(%r15), %rsi
	mov	24(%r15), %rdx
	mov	32(%r15), %r10
	mov	40(%r15), %r8
	mov	48(%r15), %r9
	test	%rsi, %rsi
	jz	batch_refuse
	mov	%rdi, %rcx
	add	%rsi, %rcx
	jc	batch_refuse
	cmp	%r14, %rcx
	ja	batch_refuse
	cmp	$__NR_munmap, %r13
	je	batch_run
	test	$~PTP_STUB_PROT_MASK, %rdx
	jnz	batch_refuse
	cmp	$__NR_mprotect, %r13
	je	batch_run
	cmp	$__NR_mmap, %r13
	jne	batch_refuse
	mov	%r10, %rcx
	and	$~PTP_STUB_MAP_POPULATE, %rcx
	cmp	$PTP_STUB_MAP_FLAGS, %rcx
	jne	batch_refuse
batch_run:
	mov	%rdi, %rbp
	mov	%r13, %rax
	syscall
	cmp	$-4095, %rax
	jae	batch_stop
	/* mmap MAP_FIXED returns its address, the others 0: anything
	 * else is no success. */
	cmp	$__NR_mmap, %r13
	jne	1f
	cmp	%rbp, %rax
	jne	batch_refuse
	jmp	2f
1:	test	%rax, %rax
	jnz	batch_refuse
2:	inc	%r12
	add	$(PTP_STUB_BATCH_WORDS * 8), %r15
	jmp	batch_next
batch_refuse:
	mov	$-1, %rax	/* -EPERM */
	jmp	batch_stop
batch_done:
	xor	%eax, %eax
batch_stop:
	mov	%r12, %rsi
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

	.p2align 3
ptp_stub_batch_list:
	.skip	PTP_STUB_BATCH_BYTES
ptp_stub_blob_end:

	.section .note.GNU-stack, "", @progbits
