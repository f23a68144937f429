/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64 register state as the core keeps it. */
#ifndef PTP_ARCH_DEFS_H
#define PTP_ARCH_DEFS_H

#include <linux/audit.h>
#include <sys/user.h>

struct arch_regs {
	/* NT_PRSTATUS: also carries fs_base/gs_base (the TLS). */
	struct user_regs_struct gpr;
};

#define ARCH_GPR_COUNT 16u
#define ARCH_VREG_COUNT 16u
/* ptp_arch_syscall_stop sends no signal. */
#define ARCH_SYSCALL_KICK 0
#define ARCH_TLS_IN_GPR 1
#define ARCH_AUDIT_NATIVE AUDIT_ARCH_X86_64
/* int 0x80 and sysenter make IA32 syscalls from 64-bit code. */
#define ARCH_ONE_SYSCALL_ABI 0
/* Bytes of the syscall instruction (0f 05). seccomp_data.instruction_pointer
 * and si_call_addr are the address after it. */
#define ARCH_SYSCALL_INSN_LEN 2u
/* The kernel reads the number as a 32-bit int: with bit 30 set and bit 31
 * clear it indexes the x32 table (arch/x86/entry/syscall_64.c). x32 calls
 * report AUDIT_ARCH_X86_64: only this bit tells them apart. */
#define ARCH_X32_SYSCALL_BIT 0x40000000u
/* The systrap backend is built for this arch (core/arch/x86_64/systrap.c). */
#define ARCH_SYSTRAP 1

/* A spin-wait's pause. */
static inline void ptp_arch_cpu_relax(void)
{
	__builtin_ia32_pause();
}

#endif /* PTP_ARCH_DEFS_H */
