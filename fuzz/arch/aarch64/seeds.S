/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hostile seeds for arm64 (see seeds/seed-list.h). Each makes its attempt,
 * then ends on udf (SIGILL). arm64 has no fork, no int 0x80 and no vsyscall
 * page: those seeds are empty here.
 */
#include "seeds/seed-asm.h"

#define SIGKILL 9
#define SIGSTOP 19
#define SIGCHLD 17
#define PROT_RW 3
#define MAP_SHARED 1
#define AT_FDCWD -100
#define O_CREAT_WRONLY 0101
#define PTRACE_TRACEME 0

/* A 32-bit constant in two moves: most of ours fit no single one. */
.macro MOV32 reg, imm
	movz	\reg, #((\imm) & 0xffff)
	movk	\reg, #(((\imm) >> 16) & 0xffff), lsl #16
.endm
/* x9 = the hint at offset off. */
.macro HINT reg, off
	mov	x9, #FZ_DATA
	ldr	\reg, [x9, #\off]
.endm

BEGIN fork
	mov	x8, #__NR_clone
	mov	x0, #SIGCHLD
	mov	x1, #0
	svc	#0
	cbnz	x0, 2f
1:	yield
	b	1b
2:	udf	#0
END fork

/* clone(flags, stack): a child that escaped spins where the oracle sees it. */
.macro CLONE_SEED name, flags, stack
BEGIN \name
	mov	x8, #__NR_clone
	MOV32	x0, \flags
	MOV32	x1, \stack
	mov	x2, #0
	mov	x3, #0
	mov	x4, #0
	svc	#0
	cbnz	x0, 2f
1:	yield
	b	1b
2:	udf	#0
END \name
.endm

CLONE_SEED clone_process, FZ_CLONE_AS_FLAGS, 0
CLONE_SEED clone_thread, FZ_CLONE_THREAD_FLAGS, (FZ_STACK + FZ_STACK_SIZE / 2)

BEGIN ptrace_traceme
	mov	x8, #__NR_ptrace
	mov	x0, #PTRACE_TRACEME
	mov	x1, #0
	svc	#0
	udf	#0
END ptrace_traceme

BEGIN kill_all_sigkill
	mov	x8, #__NR_kill
	mov	x0, #-1
	mov	x1, #SIGKILL
	svc	#0
	udf	#0
END kill_all_sigkill

BEGIN kill_all_sigstop
	mov	x8, #__NR_kill
	mov	x0, #-1
	mov	x1, #SIGSTOP
	svc	#0
	udf	#0
END kill_all_sigstop

BEGIN kill_tracer_sigstop
	HINT	x0, FZ_HINT_TRACER_PID
	mov	x8, #__NR_kill
	mov	x1, #SIGSTOP
	svc	#0
	udf	#0
END kill_tracer_sigstop

BEGIN mmap_canary_file
	mov	x8, #__NR_mmap
	mov	x0, #0
	mov	x1, #4096
	mov	x2, #PROT_RW
	mov	x3, #MAP_SHARED
	mov	x4, #FZ_FD_CANARY_FILE
	mov	x5, #0
	svc	#0
	cmn	x0, #4095
	b.hs	1f
	mov	w1, #0x21
	strb	w1, [x0]
1:	udf	#0
END mmap_canary_file

BEGIN write_canary_pipe
	mov	x8, #__NR_write
	mov	x0, #FZ_FD_CANARY_PIPE
	adr	x1, 1f
	mov	x2, #1
	svc	#0
	udf	#0
1:	.byte	0x21
END write_canary_pipe

BEGIN create_file
	mov	x8, #__NR_openat
	mov	x0, #AT_FDCWD
	adr	x1, 1f
	mov	x2, #O_CREAT_WRONLY
	mov	x3, #0644
	svc	#0
	udf	#0
1:	.asciz	"escaped"
END create_file

BEGIN munmap_stub
	HINT	x0, FZ_HINT_STUB_START
	HINT	x1, FZ_HINT_STUB_END
	sub	x1, x1, x0
	mov	x8, #__NR_munmap
	svc	#0
	udf	#0
END munmap_stub

BEGIN mprotect_stub
	HINT	x0, FZ_HINT_STUB_START
	HINT	x1, FZ_HINT_STUB_END
	sub	x1, x1, x0
	mov	x2, #PROT_RW
	mov	x8, #__NR_mprotect
	svc	#0
	udf	#0
END mprotect_stub

/* Starts below the stub and ends inside it: allowed by a rule on addr
 * alone, refused by the filter's addr + len <= stub_start. */
BEGIN mprotect_straddle
	HINT	x0, FZ_HINT_STUB_START
	sub	x0, x0, #4096
	mov	x1, #8192
	mov	x2, #PROT_RW
	mov	x8, #__NR_mprotect
	svc	#0
	udf	#0
END mprotect_straddle

/* Finds the stub's "svc #0" and enters it with kill(-1, SIGKILL). */
BEGIN stub_syscall_jump
	HINT	x10, FZ_HINT_STUB_START
	HINT	x11, FZ_HINT_STUB_END
	movz	w12, #0x0001
	movk	w12, #0xd400, lsl #16
1:	cmp	x10, x11
	b.hs	3f
	ldr	w13, [x10]
	cmp	w13, w12
	b.eq	4f
	add	x10, x10, #4
	b	1b
3:	udf	#0
4:	mov	x8, #__NR_kill
	mov	x0, #-1
	mov	x1, #SIGKILL
	mov	x13, #0
	br	x10
END stub_syscall_jump

BEGIN sigreturn_forged
	MOV32	x9, (FZ_STACK + FZ_STACK_SIZE - 2048)
	mov	sp, x9
	mov	x8, #__NR_rt_sigreturn
	svc	#0
	udf	#0
END sigreturn_forged

BEGIN exit_thread
	mov	x8, #__NR_exit
	mov	x0, #0
	svc	#0
	udf	#0
END exit_thread

BEGIN exit_group
	mov	x8, #__NR_exit_group
	mov	x0, #0
	svc	#0
	udf	#0
END exit_group

NONE int80_fork
NONE vsyscall_time
NONE vsyscall_gettimeofday

/* The kernel shows x7 as 0/1 at syscall stops and the core kicks the
 * thread with SIGCHLD to read it back: a syscall that itself sends SIGCHLD
 * to the tracer, with x7 crafted; brk if x7 did not survive. */
BEGIN x7_kick
	HINT	x0, FZ_HINT_TRACER_PID
	mov	x1, #SIGCHLD
	movz	x7, #0x7777
	mov	x8, #__NR_kill
	svc	#0
	movz	x9, #0x7777
	cmp	x7, x9
	b.ne	1f
	udf	#0
1:	brk	#0
END x7_kick

NONE null_selector
NONE compat_mode

/* systrap is x86_64 only so far (README "Backends"). */
NONE app_rt_sigaction
NONE app_rt_sigprocmask
NONE app_sigaltstack
NONE raise_sigsys
NONE app_clone_thread
NONE handler_mmap_canary_file
NONE handler_kill_all_sigstop
NONE handler_clone_process
NONE handler_create_file
NONE handler_clone_thread
NONE handler_rt_sigaction
NONE handler_rt_sigprocmask
NONE handler_raise_sigsys
NONE sigreturn_block_all_spin
NONE sigreturn_block_all_syscall
NONE sigreturn_altstack_disable
NONE sigreturn_altstack_unmapped
NONE sigreturn_altstack_data
NONE page_state_garbage
NONE page_state_exit
NONE page_forged_signo
NONE page_forged_fp_size
NONE page_forged_sigsys
NONE page_spin_bound
NONE page_random

	.section .note.GNU-stack, "", @progbits
