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
#define AF_SYSTRAP_BUILT 0

#endif /* CONFORMANCE_ARCH_FACTS_H */
