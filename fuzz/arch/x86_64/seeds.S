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

	.section .note.GNU-stack, "", @progbits
