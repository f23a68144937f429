/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The arm64 stub: the only code mapped in a fresh address space. Copied as
 * bytes to the stub page, so everything here is position independent.
 *
 * Entry (from the C child of the tracer, or as the child of an injected
 * clone): x19 = the pid our parent must have. We arm PDEATHSIG, check that
 * the parent did not die before that, and stop ourselves so the tracer can
 * seize us. Injection sets pc to stub_syscall: the syscall runs, then brk
 * traps back to the tracer. With x20 != 0 the child of a clone (x0 == 0)
 * restarts the stub instead of trapping. Every register but x0 survives an
 * svc, so x19 and x20 need no saving.
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
	mov	x8, #__NR_prctl
	mov	x0, #PR_SET_PDEATHSIG
	mov	x1, #SIGKILL
	svc	#0
	mov	x8, #__NR_getppid
	svc	#0
	cmp	x0, x19
	b.ne	stub_orphan
	mov	x8, #__NR_getpid
	svc	#0
	mov	x1, #SIGSTOP
	mov	x8, #__NR_kill
	svc	#0
1:	brk	#0
	b	1b

ptp_stub_syscall:
	svc	#0
	cbz	x20, ptp_stub_trap_ip
	cbz	x0, ptp_stub_entry
	/* brk leaves the pc on itself (int3 moves past it): the trap stop
	 * reports this very instruction. */
ptp_stub_trap_ip:
	brk	#0
	b	ptp_stub_trap_ip

stub_orphan:
	/* Our parent died before PDEATHSIG was armed: nobody traces us. */
	mov	x8, #__NR_exit
	mov	x0, #1
	svc	#0

	/* A new traced thread waits here, untraced and doing no syscall,
	 * between the platform's detach and its tracer's seize. */
ptp_stub_park:
	yield
	b	ptp_stub_park
ptp_stub_blob_end:

	.section .note.GNU-stack, "", @progbits
