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
	mov	$__NR_close_range, %eax
	mov	$1, %edi
	mov	$~0, %esi
	xor	%edx, %edx
	syscall
.endm

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
	 * The syscall thread runs the same loop over its own request page
	 * (batch_start), with another continuation.
	 *   rbx count, r12 records done, r13 nr, r14 stub_start,
	 *   r15 the record, rbp where to go with rax = result, rsi = done
	 */
ptp_stub_batch:
	lea	ptp_stub_batch_list(%rip), %r15
	mov	%rdi, %rbx
	lea	stub_trap(%rip), %rbp
batch_start:
	lea	ptp_stub_blob_start(%rip), %r14
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
	mov	%r13, %rax
	syscall
	cmp	$-4095, %rax
	jae	batch_stop
	/* mmap MAP_FIXED returns its address (rdi survives the syscall),
	 * the others 0: anything else is no success. */
	cmp	$__NR_mmap, %r13
	jne	1f
	cmp	%rdi, %rax
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
	jmp	*%rbp

	/*
	 * The syscall thread (systrap-abi.h): untraced, every signal blocked,
	 * its own filter allowing only this code's syscalls. It has no stack
	 * and keeps its state in registers: rsp = the sequence number it last
	 * answered (the tracer sets it, 0), its region found PC-relative
	 * into r14 again after each batch (which reuses r14).
	 */
#define SC_REGION_BELOW ((PTP_SYSTRAP_SLOTS + 1) * PTP_SYSTRAP_REGION)
ptp_stub_syscall_thread:
	lea	ptp_stub_blob_start(%rip), %r14
	and	$~(PTP_SYSTRAP_REGION - 1), %r14
	sub	$SC_REGION_BELOW, %r14
	mov	PTP_SYSCALL_REQ + PTP_SYSCALL_SEQ(%r14), %eax
	cmp	%eax, %esp
	jne	sc_request
	mov	%esp, %edx
	mov	$__NR_futex, %eax
	lea	PTP_SYSCALL_REQ + PTP_SYSCALL_SEQ(%r14), %rdi
	mov	$FUTEX_WAIT, %esi
	xor	%r10d, %r10d
	syscall
	jmp	ptp_stub_syscall_thread
sc_request:
	mov	%eax, %esp
	call_close_fds
	mov	$PTP_SYSCALL_NO_FDS, %r12
	cmpq	$0, PTP_SYSCALL_REQ + PTP_SYSCALL_NFDS(%r14)
	je	1f
	mov	$__NR_recvmsg, %eax
	xor	%edi, %edi
	lea	PTP_SYSCALL_RES + PTP_SYSCALL_MSG(%r14), %rsi
	xor	%edx, %edx
	syscall
	test	%rax, %rax
	js	sc_answer_r12
1:	mov	PTP_SYSCALL_REQ + PTP_SYSCALL_COUNT(%r14), %rbx
	lea	PTP_SYSCALL_REQ + PTP_SYSCALL_RECORDS(%r14), %r15
	lea	sc_answer(%rip), %rbp
	jmp	batch_start
sc_answer:
	mov	%rsi, %r12
sc_answer_r12:
	/* rax = the result, r12 = the records done */
	mov	%rax, %r13
	lea	ptp_stub_blob_start(%rip), %r14
	and	$~(PTP_SYSTRAP_REGION - 1), %r14
	sub	$SC_REGION_BELOW, %r14
	call_close_fds
	mov	%r13, PTP_SYSCALL_RES + PTP_SYSCALL_RESULT(%r14)
	mov	%r12, PTP_SYSCALL_RES + PTP_SYSCALL_NDONE(%r14)
	/* Stores are not reordered with stores: the answer before its number. */
	mov	%esp, PTP_SYSCALL_RES + PTP_SYSCALL_DONE(%r14)
	mov	$__NR_futex, %eax
	lea	PTP_SYSCALL_RES + PTP_SYSCALL_DONE(%r14), %rdi
	mov	$FUTEX_WAKE, %esi
	mov	$1, %edx
	syscall
	jmp	ptp_stub_syscall_thread
ptp_stub_syscall_thread_end:

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


	/*
	 * The systrap backend's signal handler (stub/systrap-abi.h), for
	 * SIGSYS, the fault signals and the interrupt, on the thread's
	 * altstack with every signal blocked: rsi = siginfo, rdx = ucontext.
	 * It keeps everything in registers (the app can write any writable
	 * page, this altstack included), and its syscalls (futex on its own
	 * state word, rt_sigreturn, exit) are the only ones the thread's
	 * filter allows, and only from [handler, end).
	 *   rbx the region, r12 the ucontext, r13 the stack pointer at entry,
	 *   r14 the FP record (0: none), r15 its size
	 */
#define UC_STACK 16
#define UC_MCONTEXT 40
#define UC_FPSTATE 224
#define UC_SIGMASK 296
#define FP_SW_MAGIC1 464
#define FP_SW_XSTATE_SIZE 480
#define FP_XSTATE_MAGIC1 0x46505853
#define GREGS_OUT 184	/* r8..cr2: what the tracer reads */
#define GREGS_IN 152	/* r8..the selectors: what it may set */
ptp_stub_systrap_handler:
	mov	%rsp, %r13
	mov	%rsp, %rbx
	and	$~(PTP_SYSTRAP_REGION - 1), %rbx
	mov	%rdx, %r12
	cld
	lea	PTP_SYSTRAP_SIGINFO(%rbx), %rdi
	mov	$PTP_SYSTRAP_SIGINFO_SIZE, %ecx
	rep movsb
	lea	PTP_SYSTRAP_GREGS(%rbx), %rdi
	lea	UC_MCONTEXT(%r12), %rsi
	mov	$GREGS_OUT, %ecx
	rep movsb
	rdfsbase %rax
	mov	%rax, PTP_SYSTRAP_FS_BASE(%rbx)
	rdgsbase %rax
	mov	%rax, PTP_SYSTRAP_GS_BASE(%rbx)
	call	systrap_fp_record
	mov	%r15, PTP_SYSTRAP_FP_SIZE(%rbx)
	mov	%r14, %rsi
	lea	PTP_SYSTRAP_FP(%rbx), %rdi
	mov	%r15, %rcx
	rep movsb
	/* Publish (xchg: a full barrier before the sleeper flag is read). */
	mov	$PTP_SYSTRAP_EVENT, %eax
	xchg	%eax, PTP_SYSTRAP_STATE(%rbx)
	cmpl	$0, PTP_SYSTRAP_TRACER_SLEEPS(%rbx)
	je	systrap_spin
	mov	$FUTEX_WAKE, %esi
	mov	$1, %edx
	call	systrap_futex
systrap_spin:
	movl	$1, PTP_SYSTRAP_STUB_SPUN(%rbx)
	mov	PTP_SYSTRAP_SPIN_CYCLES(%rbx), %r8
	mov	$PTP_SYSTRAP_SPIN_MAX, %eax
	cmp	%rax, %r8
	cmova	%rax, %r8
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	add	%rax, %r8
1:	cmpl	$PTP_SYSTRAP_EVENT, PTP_SYSTRAP_STATE(%rbx)
	jne	systrap_answer
	pause
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	cmp	%r8, %rax
	jb	1b
	movl	$0, PTP_SYSTRAP_STUB_SPUN(%rbx)
	mov	$1, %eax
	xchg	%eax, PTP_SYSTRAP_STUB_SLEEPS(%rbx)
2:	cmpl	$PTP_SYSTRAP_EVENT, PTP_SYSTRAP_STATE(%rbx)
	jne	3f
	mov	$FUTEX_WAIT, %esi
	mov	$PTP_SYSTRAP_EVENT, %edx
	call	systrap_futex
	jmp	2b
3:	movl	$0, PTP_SYSTRAP_STUB_SLEEPS(%rbx)
systrap_answer:
	mov	PTP_SYSTRAP_STATE(%rbx), %eax
	cmp	$PTP_SYSTRAP_RUN, %eax
	jne	systrap_exit
	lea	UC_MCONTEXT(%r12), %rdi
	lea	PTP_SYSTRAP_GREGS(%rbx), %rsi
	mov	$GREGS_IN, %ecx
	rep movsb
	/* The FP record where and as large as the frame says (not the page). */
	call	systrap_fp_record
	mov	%r14, %rdi
	lea	PTP_SYSTRAP_FP(%rbx), %rsi
	mov	%r15, %rcx
	rep movsb
	/* A non-canonical base faults here with every signal blocked: the
	 * kernel then kills the address space, as it should. */
	mov	PTP_SYSTRAP_FS_BASE(%rbx), %rax
	wrfsbase %rax
	mov	PTP_SYSTRAP_GS_BASE(%rbx), %rax
	wrgsbase %rax
	/* Whatever the frame says now: nothing blocked, this altstack. */
	movq	$0, UC_SIGMASK(%r12)
	lea	PTP_SYSTRAP_SHARED(%rbx), %rax
	mov	%rax, UC_STACK(%r12)
	movl	$0, UC_STACK+8(%r12)
	movq	$PTP_SYSTRAP_ALTSTACK, UC_STACK+16(%r12)
	lea	8(%r13), %rsp
ptp_stub_systrap_restorer:
	mov	$__NR_rt_sigreturn, %eax
	syscall
systrap_exit:
	mov	$__NR_exit, %eax
	xor	%edi, %edi
	syscall
	jmp	systrap_exit

	/* r14 = the frame's FP record, r15 = its size: the XSAVE area's if
	 * the software bytes say so, else the legacy 512, clamped to what the
	 * page holds. Uses the altstack for the return address only. */
systrap_fp_record:
	mov	UC_FPSTATE(%r12), %r14
	xor	%r15d, %r15d
	test	%r14, %r14
	jz	2f
	mov	$512, %r15d
	cmpl	$FP_XSTATE_MAGIC1, FP_SW_MAGIC1(%r14)
	jne	2f
	mov	FP_SW_XSTATE_SIZE(%r14), %r15d
	cmp	$PTP_SYSTRAP_FP_MAX, %r15
	jbe	2f
	mov	$PTP_SYSTRAP_FP_MAX, %r15d
2:	ret

	/* futex(state word, esi, edx, no timeout). */
systrap_futex:
	mov	$__NR_futex, %eax
	lea	PTP_SYSTRAP_STATE(%rbx), %rdi
	xor	%r10d, %r10d
	syscall
	ret
ptp_stub_systrap_end:

	/* A new systrap thread starts here, untraced: its first syscall traps
	 * into the handler, which reports it and waits for its first context. */
ptp_stub_systrap_boot:
	mov	$__NR_getpid, %eax
	syscall
ptp_stub_systrap_boot_ip:
	jmp	ptp_stub_systrap_boot

	.p2align 3
ptp_stub_batch_list:
	.skip	PTP_STUB_BATCH_BYTES
ptp_stub_blob_end:

	.section .note.GNU-stack, "", @progbits
