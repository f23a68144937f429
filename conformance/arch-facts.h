/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few facts about the machine a conformance case must know and the
 * core's API does not tell: hardware behaviour of a payload (see
 * stub/arch/<arch>/payloads.S). One block per arch; a new arch must fill
 * them in.
 */
#ifndef ARCH_FACTS_H
#define ARCH_FACTS_H

#include <linux/audit.h>
#include <signal.h>

#include "ptplat.h"

#ifndef SI_KERNEL
#define SI_KERNEL 0x80
#endif

#if defined(__x86_64__)

/* ptp_gpr_name order index of the register a syscall's result is in
 * (rax, which is also the number). */
#define AF_GPR_RESULT 0u
/* PAYLOAD_BAD_ADDRESS loads from a non-canonical address: a general-
 * protection fault, no page fault at all: SIGSEGV, SI_KERNEL, si_addr 0,
 * at the load after the 10-byte movabs. */
#define AF_BAD_ADDRESS_IS_GP 1
#define AF_BAD_ADDRESS_LOAD_OFFSET 10u
#define AF_BAD_ADDRESS_SI_CODE SI_KERNEL
#define AF_BAD_ADDRESS_SI_ADDR 0ul
/* The kernel's AUDIT_ARCH_* for the stub's own syscalls; whether telling
 * the syscall tables apart needs PTRACE_GET_SYSCALL_INFO (int 0x80 and
 * sysenter look like syscall in the registers); what a syscall with the
 * x32 bit (0x40000000) set in the number is. */
#define AF_AUDIT_ARCH_NATIVE AUDIT_ARCH_X86_64
#define AF_ABI_NEEDS_SYSCALL_INFO 1
#define AF_X32_BIT_ABI PTP_ABI_X32

#elif defined(__aarch64__)

/* x0, which is also the first argument. */
#define AF_GPR_RESULT 0u
/* No general-protection fault: an address outside both translation
 * ranges (0x0080000000000000) takes a level 0 translation fault, an
 * ordinary SIGSEGV SEGV_MAPERR at the address, from the ldr after the
 * 4-byte mov. */
#define AF_BAD_ADDRESS_IS_GP 0
#define AF_BAD_ADDRESS_LOAD_OFFSET 4u
#define AF_BAD_ADDRESS_SI_CODE SEGV_MAPERR
#define AF_BAD_ADDRESS_SI_ADDR 0x0080000000000000ul
/* One syscall table for a 64-bit task (AArch32 needs an exec); the x32
 * bit makes just another (invalid) native number. */
#define AF_AUDIT_ARCH_NATIVE AUDIT_ARCH_AARCH64
#define AF_ABI_NEEDS_SYSCALL_INFO 0
#define AF_X32_BIT_ABI PTP_ABI_NATIVE

#else
#error "conformance/arch-facts.h: no facts for this arch"
#endif

#endif /* ARCH_FACTS_H */
