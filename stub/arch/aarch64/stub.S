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

	/*
	 * A batch (stub-abi.h): x0 = the record count. Each record is
	 * checked here against the rules of a single injection before it
	 * runs: mmap, munmap or mprotect only; a non-empty range that does
	 * not wrap and ends at or below the stub (found PC-relative, not
	 * told); mmap flags as ptp_as_map makes them and mmap/mprotect
	 * protections within PTP_STUB_PROT_MASK. Every field is loaded into a register
	 * once, checked there and used from there. The list is in this
	 * read-only mapping anyway; the checks hold even if it were not.
	 *   x21 count, x22 records done, x23 nr, x24 stub_start,
	 *   x25 the record, x26 its address argument (what mmap must return)
	 */
ptp_stub_batch:
	adr	x24, ptp_stub_blob_start
	adr	x25, ptp_stub_batch_list
	mov	x21, x0
	mov	x22, #0
	cmp	x21, #PTP_STUB_BATCH_MAX
	b.hi	batch_refuse
batch_next:
	cmp	x22, x21
	b.eq	batch_done
	ldp	x23, x0, [x25]
	ldp	x1, x2, [x25, #16]
	ldp	x3, x4, [x25, #32]
	ldr	x5, [x25, #48]
	cbz	x1, batch_refuse
	adds	x9, x0, x1
	b.cs	batch_refuse
	cmp	x9, x24
	b.hi	batch_refuse
	cmp	x23, #__NR_munmap
	b.eq	batch_run
	tst	x2, #~PTP_STUB_PROT_MASK
	b.ne	batch_refuse
	cmp	x23, #__NR_mprotect
	b.eq	batch_run
	cmp	x23, #__NR_mmap
	b.ne	batch_refuse
	and	x9, x3, #~PTP_STUB_MAP_POPULATE
	cmp	x9, #PTP_STUB_MAP_FLAGS
	b.ne	batch_refuse
batch_run:
	mov	x26, x0
	mov	x8, x23
	svc	#0
	cmn	x0, #4095
	b.hs	batch_stop
	/* mmap MAP_FIXED returns its address, the others 0: anything
	 * else is no success. */
	cmp	x23, #__NR_mmap
	b.ne	1f
	cmp	x0, x26
	b.ne	batch_refuse
	b	2f
1:	cbnz	x0, batch_refuse
2:	add	x22, x22, #1
	add	x25, x25, #(PTP_STUB_BATCH_WORDS * 8)
	b	batch_next
batch_refuse:
	mov	x0, #-1		/* -EPERM */
	b	batch_stop
batch_done:
	mov	x0, #0
batch_stop:
	mov	x1, x22
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

	.p2align 3
ptp_stub_batch_list:
	.skip	PTP_STUB_BATCH_BYTES
ptp_stub_blob_end:

	.section .note.GNU-stack, "", @progbits
