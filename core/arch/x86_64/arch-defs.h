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

#endif /* PTP_ARCH_DEFS_H */
