/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 register transfers and the injection site of the mechanism family
 * (contract: bench/arch/arch.h). */
#define _GNU_SOURCE
#include <elf.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>

#include "arch/arch.h"

__asm__(".pushsection .text\n"
	".p2align 4\n"
	".globl bench_arch_inject_site\n"
	".hidden bench_arch_inject_site\n"
	".type bench_arch_inject_site, %function\n"
	"bench_arch_inject_site:\n"
	"\tsvc #0\n"
	"\tbrk #0\n"
	".size bench_arch_inject_site, . - bench_arch_inject_site\n"
	".popsection\n");

int bench_arch_get_gprs(pid_t pid, bench_gprs *r)
{
	struct iovec io = { r, sizeof(*r) };

	return (int)ptrace(PTRACE_GETREGSET, pid, (void *)NT_PRSTATUS, &io);
}

int bench_arch_set_gprs(pid_t pid, const bench_gprs *r)
{
	struct iovec io = { (void *)r, sizeof(*r) };

	return (int)ptrace(PTRACE_SETREGSET, pid, (void *)NT_PRSTATUS, &io);
}

int bench_arch_set_result_at_exit(pid_t pid, long v)
{
	bench_gprs r;

	if (bench_arch_get_gprs(pid, &r) < 0)
		return -1;
	r.regs[0] = (unsigned long long)v;
	return bench_arch_set_gprs(pid, &r);
}

/* NT_ARM_SYSTEM_CALL = -1 skips the syscall. */
int bench_arch_skip_with_result(pid_t pid, long v)
{
	int nr = -1;
	struct iovec io = { &nr, sizeof(nr) };

	if (ptrace(PTRACE_SETREGSET, pid, (void *)NT_ARM_SYSTEM_CALL, &io) < 0)
		return -1;
	return bench_arch_set_result_at_exit(pid, v);
}

/* NT_PRSTATUS + NT_PRFPREG + NT_ARM_TLS. */
int bench_arch_faithful_regsets(struct bench_regset rs[BENCH_MAX_REGSETS])
{
	rs[0] = (struct bench_regset){ NT_PRSTATUS, "NT_PRSTATUS", sizeof(struct user_regs_struct) };
	rs[1] = (struct bench_regset){ NT_PRFPREG, "NT_PRFPREG", sizeof(struct user_fpsimd_struct) };
	rs[2] = (struct bench_regset){ NT_ARM_TLS, "NT_ARM_TLS", sizeof(uint64_t) };
	return 3;
}
