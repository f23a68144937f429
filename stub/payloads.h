/* SPDX-License-Identifier: Apache-2.0 */
/*
 * App code the conformance suite and the benchmarks run inside address
 * spaces: position-independent blobs, one per behaviour, written per arch in
 * stub/arch/<arch>/payloads.S. Parameters travel in the syscall argument
 * registers (ptp_ctx_set_arg); results come back as syscalls. A payload an
 * arch cannot express has size 0.
 */
#ifndef PAYLOADS_H
#define PAYLOADS_H

#include <stddef.h>

#include "payload-abi.h"

enum payload_id {
	/* getpid forever; arg5 counts completed syscalls. */
	PAYLOAD_SYSCALL_LOOP,
	/* The syscall instruction forever, with whatever nr and args the
	 * registers hold: the next nr is the previous result. */
	PAYLOAD_SYSCALL_RAW,
	/* A loop without syscalls. */
	PAYLOAD_SPIN,
	/* Loads *arg0 into arg1, then getpid forever. */
	PAYLOAD_READ,
	/* Stores arg1 to *arg0, then getpid forever. */
	PAYLOAD_WRITE,
	/* Jumps to arg0. */
	PAYLOAD_EXEC,
	/* Loads from a non-canonical address (a general-protection fault
	 * where the arch has one; a plain fault elsewhere). */
	PAYLOAD_BAD_ADDRESS,
	/* cpuid leaf arg0, subleaf arg1: reports eax, ebx, ecx, edx as
	 * args 0-3 of PAYLOAD_NR_OK. x86_64 only. */
	PAYLOAD_CPUID,
	/* Checks every GPR == PAYLOAD_GPR_IN(i) and vector register ==
	 * PAYLOAD_V*_IN(i) (else PAYLOAD_NR_FAIL with the index as arg0),
	 * then loads the _OUT patterns and makes PAYLOAD_NR_OK. */
	PAYLOAD_REGS_CHECK,
	/* Reports the word at the thread pointer as arg0 of PAYLOAD_NR_OK. */
	PAYLOAD_TLS_READ,
	/* The arch's breakpoint (int3, brk) and undefined (ud2, udf). */
	PAYLOAD_BREAKPOINT,
	PAYLOAD_UNDEFINED,
	/* Pushes until the stack runs out. */
	PAYLOAD_STACK_OVERFLOW,
	/* Calls the vsyscall time() entry (needs a stack), then reports its
	 * result as arg0 of PAYLOAD_NR_OK. x86_64 only. */
	PAYLOAD_VSYSCALL,
	/* Sets the trap flag (needs a stack), runs three nops, then makes
	 * PAYLOAD_NR_OK forever. x86_64 only. */
	PAYLOAD_SINGLE_STEP,
	/* The i386 syscall PAYLOAD_IA32_NR by int 0x80 with whatever
	 * ebx, ecx, edx, esi, edi, ebp hold; then moves the result to ebx and
	 * does it again, forever. x86_64 only. */
	PAYLOAD_INT80,
	/* The same by sysenter (Intel CPUs only); ebp must point at readable
	 * memory: the kernel takes it as the stack pointer and reads the sixth
	 * argument there. x86_64 only. */
	PAYLOAD_SYSENTER,
	/* Far-jumps into 32-bit mode (CS 0x23; needs a stack and an address
	 * below 4 GiB), then loops like PAYLOAD_INT80 there; the int 0x80 is
	 * the payload's last 6 bytes but for the mov and jmp (4 bytes).
	 * x86_64 only. */
	PAYLOAD_COMPAT_INT80,
	/* Counts arg1 down to zero, makes PAYLOAD_NR_OK, and again, forever:
	 * the app computes between syscalls. */
	PAYLOAD_COMPUTE,
	/* Writes the registers it starts with to PAYLOAD_DUMP_ADDR (layout
	 * in payload-abi.h; needs PAYLOAD_DUMP_BYTES(fp size) of read-write
	 * memory there and no other register set up), flips the carry flag,
	 * and makes PAYLOAD_NR_OK. x86_64 then stores fs_base and gs_base
	 * with rdfsbase/rdgsbase (SIGILL unless the kernel enabled
	 * FSGSBASE) and makes PAYLOAD_NR_OK again. arm64 reports a non-zero
	 * x0 instead of storing: PAYLOAD_NR_FAIL with x0 = 0, x1 = its
	 * value. */
	PAYLOAD_STATE_DUMP,
	/* Stores arg1 to *arg0, then loops without syscalls: a write that no
	 * trap of the app's own follows. */
	PAYLOAD_WRITE_SPIN,
	/* Flushes arg0's cache line (arm64 dc civac, x86_64 clflush), then
	 * loops making getpid: the CPU's access is a read. */
	PAYLOAD_CACHE_FLUSH,
	PAYLOAD_COUNT
};

struct payload {
	const char *name;
	const unsigned char *start;
	size_t size;
};

const struct payload *payload_get(enum payload_id id);

#endif /* PAYLOADS_H */
