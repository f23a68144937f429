/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 register state as the core keeps it. */
#ifndef PTP_ARCH_DEFS_H
#define PTP_ARCH_DEFS_H

/* struct user_pt_regs and struct user_fpsimd_state: the layouts of
 * NT_PRSTATUS and NT_PRFPREG (glibc's <sys/user.h> names differ). */
#include <asm/ptrace.h>
#include <linux/audit.h>

struct arch_regs {
	/* NT_PRSTATUS: x0-x30, sp, pc, pstate. TLS (tpidr_el0) is not in it:
	 * it travels as NT_ARM_TLS. */
	struct user_pt_regs gpr;
};

/* x0-x30, then sp. */
#define ARCH_GPR_COUNT 32u
#define ARCH_VREG_COUNT 32u
/* ptp_arch_syscall_stop kicks the thread with SIGCHLD (the x7 clobber). */
#define ARCH_SYSCALL_KICK 1
#define ARCH_TLS_IN_GPR 0
#define ARCH_AUDIT_NATIVE AUDIT_ARCH_AARCH64
/* An AArch64 task can enter AArch32 only through an exec, which a stub
 * never makes (SYSEMU swallows it): every svc is native. */
#define ARCH_ONE_SYSCALL_ABI 1
/* Bytes of svc #0. seccomp_data.instruction_pointer and si_call_addr are
 * the address after it (the pc has moved on when the kernel is entered). */
#define ARCH_SYSCALL_INSN_LEN 4u
/* No second syscall table behind AUDIT_ARCH_AARCH64 (x86_64's x32): no
 * number bit to reject. */
#define ARCH_X32_SYSCALL_BIT 0u
/* The systrap backend is built for this arch (core/arch/aarch64/systrap.c). */
#define ARCH_SYSTRAP 1

/* A spin-wait's pause. */
static inline void ptp_arch_cpu_relax(void)
{
	__asm__ volatile("yield");
}

#endif /* PTP_ARCH_DEFS_H */
