/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 facts of the conformance contract (conformance/arch/arch.h). */
#ifndef CONFORMANCE_ARCH_FACTS_H
#define CONFORMANCE_ARCH_FACTS_H

#include <linux/audit.h>

#include "ptplat.h"

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
/* PSTATE.C */
#define AF_CARRY_FLAG (1ull << 29)
/* Flags a case may set without side effects: NZCV. */
#define AF_FLAGS_TEST 0xf0000000ull

/* The in-tree core builds its systrap backend for this arch. */
#define AF_SYSTRAP_BUILT 1
/* A forged rt_sigreturn frame (internals/forged_sigreturn_*): the
 * instruction bytes of the handler's rt_sigreturn (mov x8, #139; svc #0),
 * where the ucontext lies from the stack pointer rt_sigreturn is made with
 * (after the siginfo), and the offsets in a ucontext the kernel reads:
 * uc_stack, the sigcontext's sp, pc, pstate, uc_sigmask, and one more word
 * the kernel needs, with its value: the header of the fpsimd_context record
 * (magic, size), first in __reserved, without which rt_sigreturn fails
 * (after it a zero header ends the records). */
#define AF_SIGRETURN_INSN "\x68\x11\x80\xd2\x01\x00\x00\xd4"
#define AF_SIGFRAME_UC 128
#define AF_UC_STACK 16
#define AF_UC_SP (176 + 32 * 8)
#define AF_UC_IP (176 + 33 * 8)
#define AF_UC_FLAGS (176 + 34 * 8)
#define AF_UC_SIGMASK 40
#define AF_USER_FLAGS 0ull
#define AF_UC_ARCH_WORD (176 + 288)
#define AF_USER_ARCH_WORD (0x46508001ull | 528ull << 32)

#endif /* CONFORMANCE_ARCH_FACTS_H */
