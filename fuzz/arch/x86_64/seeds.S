/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile seeds for x86_64 (see seeds/seed-list.h). Each makes its attempt,
 * then ends on ud2 (SIGILL), so under SYSEMU every seed ends as a signal
 * after its emulated syscalls. Hints and fixed fds: fuzz-abi.h.
 */
#include "seeds/seed-asm.h"

#define SIGKILL 9
#define SIGSTOP 19
#define SIGCHLD 17
#define PROT_RW 3
#define MAP_SHARED 1
#define O_CREAT_WRONLY 0101
#define PTRACE_TRACEME 0
#define I386_NR_FORK 2
#define VSYSCALL_GETTIMEOFDAY 0xffffffffff600000
#define VSYSCALL_TIME 0xffffffffff600400


BEGIN fork
	mov	$__NR_fork, %eax
	syscall
	test	%rax, %rax
	jz	1f
	mov	$__NR_clone, %eax
	mov	$SIGCHLD, %edi
	xor	%esi, %esi
	syscall
	test	%rax, %rax
	jnz	2f
1:	pause			/* a child that escaped: keep it visible */
	jmp	1b
2:	ud2
END fork

/* clone(flags, stack): a child that escaped spins where the oracle sees it. */
.macro CLONE_SEED name, flags, stack
BEGIN \name
	mov	$__NR_clone, %eax
	mov	$\flags, %edi
	mov	$\stack, %esi
	xor	%edx, %edx
	xor	%r10d, %r10d
	xor	%r8d, %r8d
	syscall
	test	%rax, %rax
	jnz	2f
1:	pause
	jmp	1b
2:	ud2
END \name
.endm

CLONE_SEED clone_process, FZ_CLONE_AS_FLAGS, 0
CLONE_SEED clone_thread, FZ_CLONE_THREAD_FLAGS, (FZ_STACK + FZ_STACK_SIZE / 2)

BEGIN ptrace_traceme
	mov	$__NR_ptrace, %eax
	mov	$PTRACE_TRACEME, %edi
	xor	%esi, %esi
	xor	%edx, %edx
	xor	%r10d, %r10d
	syscall
	ud2
END ptrace_traceme

BEGIN kill_all_sigkill
	mov	$__NR_kill, %eax
	mov	$-1, %rdi
	mov	$SIGKILL, %esi
	syscall
	ud2
END kill_all_sigkill

BEGIN kill_all_sigstop
	mov	$__NR_kill, %eax
	mov	$-1, %rdi
	mov	$SIGSTOP, %esi
	syscall
	ud2
END kill_all_sigstop

BEGIN kill_tracer_sigstop
	mov	$__NR_kill, %eax
	mov	FZ_DATA + FZ_HINT_TRACER_PID, %rdi
	mov	$SIGSTOP, %esi
	syscall
	ud2
END kill_tracer_sigstop

BEGIN mmap_canary_file
	mov	$__NR_mmap, %eax
	xor	%edi, %edi
	mov	$4096, %esi
	mov	$PROT_RW, %edx
	mov	$MAP_SHARED, %r10d
	mov	$FZ_FD_CANARY_FILE, %r8d
	xor	%r9d, %r9d
	syscall
	cmp	$-4096, %rax
	jae	1f
	movb	$0x21, (%rax)
1:	ud2
END mmap_canary_file

BEGIN write_canary_pipe
	mov	$__NR_write, %eax
	mov	$FZ_FD_CANARY_PIPE, %edi
	lea	1f(%rip), %rsi
	mov	$1, %edx
	syscall
	ud2
1:	.byte	0x21
END write_canary_pipe

BEGIN create_file
	mov	$__NR_open, %eax
	lea	1f(%rip), %rdi
	mov	$O_CREAT_WRONLY, %esi
	mov	$0644, %edx
	syscall
	ud2
1:	.asciz	"escaped"
END create_file

BEGIN munmap_stub
	mov	$__NR_munmap, %eax
	mov	FZ_DATA + FZ_HINT_STUB_START, %rdi
	mov	FZ_DATA + FZ_HINT_STUB_END, %rsi
	sub	%rdi, %rsi
	syscall
	ud2
END munmap_stub

BEGIN mprotect_stub
	mov	$__NR_mprotect, %eax
	mov	FZ_DATA + FZ_HINT_STUB_START, %rdi
	mov	FZ_DATA + FZ_HINT_STUB_END, %rsi
	sub	%rdi, %rsi
	mov	$PROT_RW, %edx
	syscall
	ud2
END mprotect_stub

/* Starts below the stub and ends inside it: allowed by a rule on addr
 * alone, refused by the filter's addr + len <= stub_start. */
BEGIN mprotect_straddle
	mov	$__NR_mprotect, %eax
	mov	FZ_DATA + FZ_HINT_STUB_START, %rdi
	sub	$4096, %rdi
	mov	$8192, %esi
	mov	$PROT_RW, %edx
	syscall
	ud2
END mprotect_straddle

/* Finds the stub's "syscall; test %r13,%r13" and enters it with
 * kill(-1, SIGKILL) loaded and r13 = 0 (so it traps right after). */
BEGIN stub_syscall_jump
	mov	FZ_DATA + FZ_HINT_STUB_START, %rbx
	mov	FZ_DATA + FZ_HINT_STUB_END, %rcx
1:	cmp	%rcx, %rbx
	jae	3f
	cmpw	$0x050f, (%rbx)
	jne	2f
	cmpw	$0x854d, 2(%rbx)
	je	4f
2:	inc	%rbx
	jmp	1b
3:	ud2
4:	mov	$__NR_kill, %eax
	mov	$-1, %rdi
	mov	$SIGKILL, %esi
	xor	%r13d, %r13d
	jmp	*%rbx
END stub_syscall_jump

/* A frame of zeros but for rip (back into the stub's syscall) and a
 * user code segment: the kernel would load it wholesale. */
BEGIN sigreturn_forged
	mov	$(FZ_STACK + FZ_STACK_SIZE - 2048), %rsp
	mov	FZ_DATA + FZ_HINT_STUB_START, %rax
	mov	%rax, 168(%rsp)		/* uc_mcontext.rip */
	movw	$0x33, 184(%rsp)	/* uc_mcontext.cs */
	movw	$0x2b, 190(%rsp)	/* uc_mcontext.ss */
	mov	$__NR_rt_sigreturn, %eax
	syscall
	ud2
END sigreturn_forged

BEGIN exit_thread
	mov	$__NR_exit, %eax
	xor	%edi, %edi
	syscall
	ud2
END exit_thread

BEGIN exit_group
	mov	$__NR_exit_group, %eax
	xor	%edi, %edi
	syscall
	ud2
END exit_group

BEGIN int80_fork
	mov	$I386_NR_FORK, %eax
	int	$0x80
	test	%eax, %eax
	jnz	2f
1:	pause
	jmp	1b
2:	ud2
END int80_fork

BEGIN vsyscall_time
	xor	%edi, %edi
	movabs	$VSYSCALL_TIME, %rax
	call	*%rax
	ud2
END vsyscall_time

BEGIN vsyscall_gettimeofday
	mov	$(FZ_DATA + 64), %edi
	xor	%esi, %esi
	movabs	$VSYSCALL_GETTIMEOFDAY, %rax
	call	*%rax
	ud2
END vsyscall_gettimeofday

NONE x7_kick

/* A null selector with RPL 1 in ds, then a syscall: the core read back a
 * selector that PTRACE_SETREGSET refuses, and every later switch failed. */
BEGIN null_selector
	mov	$1, %eax
	mov	%eax, %ds
	mov	$__NR_getpid, %eax
	syscall
	ud2
END null_selector

/* Into compat mode (cs 0x23): the kernel then shows the thread's registers
 * in the 32-bit layout, which the core took for its own. */
BEGIN compat_mode
	pushq	$0x23
	lea	1f(%rip), %rax
	pushq	%rax
	lretq
	.code32
1:	ud2
	.code64
END compat_mode

/* systrap ----------------------------------------------------------------
 * The app's own signal set-up from its code: every one traps (SIGSYS) and
 * is answered -ENOSYS, never run. */
#define SIGSYS_NR 31
#define SIG_IGN 1
#define SIG_BLOCK 0
#define SS_DISABLE 2
#define FUTEX_SITE 0x0fd23145	/* xor %r10d,%r10d; syscall (bytes 45 31 d2 0f) */
#define FUTEX_SITE_TAIL 0xc305	/* 05 c3: the syscall's end, ret */
#define SIGRETURN_SITE 0x00000fb8 /* mov $__NR_rt_sigreturn, %eax (b8 0f 00 00) */
#define SYSCALL_INSN 0x050f
#define AUDIT_ARCH_X86_64 0xc000003e

BEGIN app_rt_sigaction
	mov	$__NR_rt_sigaction, %eax
	mov	$SIGSYS_NR, %edi
	mov	$(FZ_DATA + 512), %esi
	movq	$SIG_IGN, (%rsi)
	xor	%edx, %edx
	mov	$8, %r10d
	syscall
	ud2
END app_rt_sigaction

BEGIN app_rt_sigprocmask
	mov	$__NR_rt_sigprocmask, %eax
	mov	$SIG_BLOCK, %edi
	mov	$(FZ_DATA + 512), %esi
	movq	$-1, (%rsi)
	xor	%edx, %edx
	mov	$8, %r10d
	syscall
	ud2
END app_rt_sigprocmask

BEGIN app_sigaltstack
	mov	$__NR_sigaltstack, %eax
	mov	$(FZ_DATA + 512), %edi
	movl	$SS_DISABLE, 8(%rdi)
	xor	%esi, %esi
	syscall
	ud2
END app_sigaltstack

BEGIN raise_sigsys
	mov	$__NR_kill, %eax
	xor	%edi, %edi
	mov	$SIGSYS_NR, %esi
	syscall
	ud2
END raise_sigsys

CLONE_SEED app_clone_thread, FZ_CLONE_THREAD_FLAGS, (FZ_STACK + FZ_STACK_SIZE / 2)

/* rbx := the first address in the stub range holding the dword head
 * and, tail_at bytes further, the word tail, plus skip; ud2 when none. */
.macro FIND_SITE head, tail_at, tail, skip
	mov	FZ_DATA + FZ_HINT_STUB_START, %rbx
	mov	FZ_DATA + FZ_HINT_STUB_END, %rcx
1:	cmp	%rcx, %rbx
	jae	3f
	cmpl	$\head, (%rbx)
	jne	2f
	cmpw	$\tail, \tail_at(%rbx)
	je	4f
2:	inc	%rbx
	jmp	1b
3:	ud2
4:	add	$\skip, %rbx
.endm

/* rbx := the handler's futex syscall instruction. */
.macro FIND_FUTEX_SYSCALL
	FIND_SITE FUTEX_SITE, 4, FUTEX_SITE_TAIL, 3
.endm

/* Enters the handler's futex syscall with the registers set so far; its
 * ret comes back to label 9 of the seed. */
.macro HANDLER_SYSCALL
	lea	9f(%rip), %rcx
	push	%rcx
	jmp	*%rbx
.endm

BEGIN handler_mmap_canary_file
	FIND_FUTEX_SYSCALL
	mov	$__NR_mmap, %eax
	xor	%edi, %edi
	mov	$4096, %esi
	mov	$PROT_RW, %edx
	mov	$MAP_SHARED, %r10d
	mov	$FZ_FD_CANARY_FILE, %r8d
	xor	%r9d, %r9d
	HANDLER_SYSCALL
9:	cmp	$-4096, %rax
	jae	5f
	movb	$0x21, (%rax)
5:	ud2
END handler_mmap_canary_file

BEGIN handler_kill_all_sigstop
	FIND_FUTEX_SYSCALL
	mov	$__NR_kill, %eax
	mov	$-1, %rdi
	mov	$SIGSTOP, %esi
	HANDLER_SYSCALL
9:	ud2
END handler_kill_all_sigstop

.macro HANDLER_CLONE_SEED name, flags, stack
BEGIN \name
	FIND_FUTEX_SYSCALL
	mov	$__NR_clone, %eax
	mov	$\flags, %edi
	mov	$\stack, %esi
	xor	%edx, %edx
	xor	%r10d, %r10d
	xor	%r8d, %r8d
	HANDLER_SYSCALL
9:	test	%rax, %rax
	jnz	6f
5:	pause			/* a child that escaped: keep it visible */
	jmp	5b
6:	ud2
END \name
.endm

/* The thread's stack holds the return address to label 9 at its top. */
HANDLER_CLONE_SEED handler_clone_process, FZ_CLONE_AS_FLAGS, 0
HANDLER_CLONE_SEED handler_clone_thread, FZ_CLONE_THREAD_FLAGS, (FZ_STACK + FZ_STACK_SIZE - 8)

BEGIN handler_create_file
	FIND_FUTEX_SYSCALL
	mov	$__NR_open, %eax
	lea	8f(%rip), %rdi
	mov	$O_CREAT_WRONLY, %esi
	mov	$0644, %edx
	HANDLER_SYSCALL
9:	ud2
8:	.asciz	"escaped"
END handler_create_file

BEGIN handler_rt_sigaction
	FIND_FUTEX_SYSCALL
	mov	$__NR_rt_sigaction, %eax
	mov	$SIGSYS_NR, %edi
	mov	$(FZ_DATA + 512), %esi
	movq	$SIG_IGN, (%rsi)
	xor	%edx, %edx
	mov	$8, %r10d
	HANDLER_SYSCALL
9:	mov	$__NR_getpid, %eax
	syscall
	ud2
END handler_rt_sigaction

BEGIN handler_rt_sigprocmask
	FIND_FUTEX_SYSCALL
	mov	$__NR_rt_sigprocmask, %eax
	mov	$SIG_BLOCK, %edi
	mov	$(FZ_DATA + 512), %esi
	movq	$-1, (%rsi)
	xor	%edx, %edx
	mov	$8, %r10d
	HANDLER_SYSCALL
9:	pause
	jmp	9b
END handler_rt_sigprocmask

BEGIN handler_raise_sigsys
	FIND_FUTEX_SYSCALL
	mov	$__NR_kill, %eax
	xor	%edi, %edi
	mov	$SIGSYS_NR, %esi
	HANDLER_SYSCALL
9:	ud2
END handler_raise_sigsys

/* A forged frame at the top of the stack, returned to through the
 * handler's own rt_sigreturn (allowed from there): rip is label 9 of the
 * seed, rsp below the frame, the user code and stack segments. The seed
 * then fills in what it forges. rbx := the handler's rt_sigreturn syscall. */
#define FRAME (FZ_STACK + FZ_STACK_SIZE - 2048)
#define UC_STACK_SP 16
#define UC_STACK_FLAGS 24
#define UC_STACK_SIZE 32
#define UC_RSP 160
#define UC_RIP 168
#define UC_CS 184
#define UC_SS 190
#define UC_SIGMASK 296
.macro FORGED_FRAME
	FIND_SITE SIGRETURN_SITE, 5, SYSCALL_INSN, 5
	mov	$FRAME, %rsp
	lea	9f(%rip), %rax
	mov	%rax, UC_RIP(%rsp)
	movq	$(FRAME - 256), UC_RSP(%rsp)
	movw	$0x33, UC_CS(%rsp)
	movw	$0x2b, UC_SS(%rsp)
.endm

.macro SIGRETURN
	mov	$__NR_rt_sigreturn, %eax
	jmp	*%rbx
.endm

BEGIN sigreturn_block_all_spin
	FORGED_FRAME
	movq	$-1, UC_SIGMASK(%rsp)
	SIGRETURN
9:	pause
	jmp	9b
END sigreturn_block_all_spin

BEGIN sigreturn_block_all_syscall
	FORGED_FRAME
	movq	$-1, UC_SIGMASK(%rsp)
	SIGRETURN
9:	mov	$__NR_getpid, %eax
	syscall
	ud2
END sigreturn_block_all_syscall

BEGIN sigreturn_altstack_disable
	FORGED_FRAME
	movl	$SS_DISABLE, UC_STACK_FLAGS(%rsp)
	SIGRETURN
9:	mov	$__NR_getpid, %eax
	syscall
	ud2
END sigreturn_altstack_disable

BEGIN sigreturn_altstack_unmapped
	FORGED_FRAME
	movq	$0x50000000, UC_STACK_SP(%rsp)
	movq	$65536, UC_STACK_SIZE(%rsp)
	SIGRETURN
9:	mov	$__NR_getpid, %eax
	syscall
	ud2
END sigreturn_altstack_unmapped

BEGIN sigreturn_altstack_data
	FORGED_FRAME
	movq	$FZ_DATA, UC_STACK_SP(%rsp)
	movq	$FZ_DATA_SIZE, UC_STACK_SIZE(%rsp)
	SIGRETURN
9:	mov	$__NR_getpid, %eax
	syscall
	ud2
END sigreturn_altstack_data

/* The page, written while the tracer waits for this switch's event (the
 * state word is RUN): rbx := the page, or ud2 without one (ptrace). */
#define PAGE_STATE 0
#define PAGE_TRACER_SLEEPS 4
#define PAGE_STUB_SLEEPS 8
#define PAGE_SPIN_CYCLES 16
#define PAGE_FP_SIZE 40
#define PAGE_SIGINFO 64
#define SI_CODE 8
#define SI_SYSCALL 24
#define SI_ARCH 28
#define PAGE_EVENT 1
#define PAGE_EXIT 3
#define PAGE_SIZE_SHARED 0x6000
.macro PAGE
	mov	FZ_DATA + FZ_HINT_SHARED, %rbx
	test	%rbx, %rbx
	jnz	1f
	ud2
1:
.endm

/* Wakes the tracer through the handler's own futex syscall (allowed: its
 * state word, FUTEX_WAKE), so that it reads the forged page at once rather
 * than at its next 10 ms look, when the watchdog's interrupt may already
 * have made the handler overwrite it; then spins (the watchdog ends it). */
.macro WAKE_TRACER_AND_SPIN
	mov	%rbx, %r12
	FIND_FUTEX_SYSCALL
	mov	%r12, %rdi
	mov	$__NR_futex, %eax
	mov	$1, %esi
	mov	$1, %edx
	HANDLER_SYSCALL
9:	pause
	jmp	9b
.endm

/* Publishes the forged event, wakes the tracer and spins. */
.macro PUBLISH_AND_SPIN
	movl	$PAGE_EVENT, PAGE_STATE(%rbx)
	WAKE_TRACER_AND_SPIN
.endm

BEGIN page_state_garbage
	PAGE
	movl	$0x7fffffff, PAGE_STATE(%rbx)
	WAKE_TRACER_AND_SPIN
END page_state_garbage

BEGIN page_state_exit
	PAGE
	movl	$PAGE_EXIT, PAGE_STATE(%rbx)
	WAKE_TRACER_AND_SPIN
END page_state_exit

BEGIN page_forged_signo
	PAGE
	movl	$200, PAGE_SIGINFO(%rbx)
	PUBLISH_AND_SPIN
END page_forged_signo

BEGIN page_forged_fp_size
	PAGE
	movq	$0x100000, PAGE_FP_SIZE(%rbx)
	movl	$SIGSYS_NR, PAGE_SIGINFO(%rbx)
	PUBLISH_AND_SPIN
END page_forged_fp_size

BEGIN page_forged_sigsys
	PAGE
	movl	$SIGSYS_NR, PAGE_SIGINFO(%rbx)
	movl	$1, PAGE_SIGINFO + SI_CODE(%rbx)
	movl	$__NR_kill, PAGE_SIGINFO + SI_SYSCALL(%rbx)
	movl	$AUDIT_ARCH_X86_64, PAGE_SIGINFO + SI_ARCH(%rbx)
	PUBLISH_AND_SPIN
END page_forged_sigsys

BEGIN page_spin_bound
	PAGE
	movq	$-1, PAGE_SPIN_CYCLES(%rbx)
	movl	$0, PAGE_TRACER_SLEEPS(%rbx)
	movl	$1, PAGE_STUB_SLEEPS(%rbx)
	mov	$__NR_getpid, %eax
	syscall
	ud2
END page_spin_bound

/* xorshift64 from the TSC over the whole shared part, then a syscall. */
BEGIN page_random
	PAGE
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	or	$1, %rax
	xor	%ecx, %ecx
5:	mov	%rax, %rdx
	shl	$13, %rdx
	xor	%rdx, %rax
	mov	%rax, %rdx
	shr	$7, %rdx
	xor	%rdx, %rax
	mov	%rax, %rdx
	shl	$17, %rdx
	xor	%rdx, %rax
	mov	%rax, (%rbx, %rcx)
	add	$8, %rcx
	cmp	$PAGE_SIZE_SHARED, %rcx
	jb	5b
	mov	$__NR_getpid, %eax
	syscall
	ud2
END page_random

	.section .note.GNU-stack, "", @progbits
