/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64 facts of the conformance contract (conformance/arch/arch.h). */
#ifndef CONFORMANCE_ARCH_FACTS_H
#define CONFORMANCE_ARCH_FACTS_H

#include <linux/audit.h>

#include "ptplat.h"

/* rax, which is also the number. */
#define AF_GPR_RESULT 0u
/* PAYLOAD_BAD_ADDRESS loads from a non-canonical address: a general-
 * protection fault, no page fault at all: SIGSEGV, SI_KERNEL, si_addr 0,
 * at the load after the 10-byte movabs. */
#define AF_BAD_ADDRESS_IS_GP 1
#define AF_BAD_ADDRESS_LOAD_OFFSET 10u
#define AF_BAD_ADDRESS_SI_CODE SI_KERNEL
#define AF_BAD_ADDRESS_SI_ADDR 0ul
/* int 0x80 and sysenter look like syscall in the registers; the x32 bit
 * selects the x32 table. */
#define AF_AUDIT_ARCH_NATIVE AUDIT_ARCH_X86_64
#define AF_ABI_NEEDS_SYSCALL_INFO 1
#define AF_X32_BIT_ABI PTP_ABI_X32
/* eflags.CF */
#define AF_CARRY_FLAG 0x1ull
/* Flags a case may set without side effects: CF PF AF ZF SF DF OF (not TF:
 * single-stepping; not AC: alignment checks; not RF: pushf clears it). */
#define AF_FLAGS_TEST 0xcd5ull

/* The in-tree core builds its systrap backend for this arch. */
#define AF_SYSTRAP_BUILT 1
/* A forged rt_sigreturn frame (internals/forged_sigreturn_*): the
 * instruction bytes of the handler's rt_sigreturn (mov $15, %eax; syscall),
 * where the ucontext lies from the stack pointer rt_sigreturn is made with
 * (at it: the return address slot is below), and the offsets in a ucontext
 * the kernel reads: uc_stack, the sigcontext's rsp, rip, eflags, uc_sigmask,
 * and one more word the kernel needs, with its value: the cs/gs/fs/ss
 * selectors. */
#define AF_SIGRETURN_INSN "\xb8\x0f\x00\x00\x00\x0f\x05"
#define AF_SIGFRAME_UC 0
#define AF_UC_STACK 16
#define AF_UC_SP (40 + 15 * 8)
#define AF_UC_IP (40 + 16 * 8)
#define AF_UC_FLAGS (40 + 17 * 8)
#define AF_UC_SIGMASK 296
#define AF_USER_FLAGS 0x202ull
#define AF_UC_ARCH_WORD (40 + 18 * 8)
#define AF_USER_ARCH_WORD (0x33ull | 0x2bull << 48)

#endif /* CONFORMANCE_ARCH_FACTS_H */
