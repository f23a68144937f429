/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64 register transfers and the injection site of the mechanism family
 * (contract: bench/arch/arch.h). */
#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/user.h>

#include "arch/arch.h"

__asm__(".pushsection .text\n"
	".p2align 4\n"
	".globl bench_arch_inject_site\n"
	".hidden bench_arch_inject_site\n"
	".type bench_arch_inject_site, @function\n"
	"bench_arch_inject_site:\n"
	"\tsyscall\n"
	"\tint3\n"
	".size bench_arch_inject_site, . - bench_arch_inject_site\n"
	".popsection\n");

int bench_arch_get_gprs(pid_t pid, bench_gprs *r)
{
	return (int)ptrace(PTRACE_GETREGS, pid, NULL, r);
}

int bench_arch_set_gprs(pid_t pid, const bench_gprs *r)
{
	return (int)ptrace(PTRACE_SETREGS, pid, NULL, r);
}

int bench_arch_set_result_at_exit(pid_t pid, long v)
{
	return (int)ptrace(PTRACE_POKEUSER, pid,
			   (void *)offsetof(struct user, regs.rax), (void *)v);
}

int bench_arch_skip_with_result(pid_t pid, long v)
{
	if (ptrace(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, regs.orig_rax),
		   (void *)-1L) < 0)
		return -1;
	return (int)ptrace(PTRACE_POKEUSER, pid, (void *)offsetof(struct user, regs.rax),
			   (void *)v);
}

/* NT_PRSTATUS + NT_X86_XSTATE (size from CPUID leaf 0xD subleaf 0 EBX),
 * NT_PRFPREG where XSAVE is absent. */
int bench_arch_faithful_regsets(struct bench_regset rs[BENCH_MAX_REGSETS])
{
	unsigned a, b, c, d;
	size_t xs = 0;

	if (__get_cpuid_max(0, NULL) >= 0xD && __get_cpuid(1, &a, &b, &c, &d) &&
	    (c & bit_OSXSAVE)) {
		__cpuid_count(0xD, 0, a, b, c, d);
		xs = b;
	}
	rs[0] = (struct bench_regset){ NT_PRSTATUS, "NT_PRSTATUS", sizeof(struct user_regs_struct) };
	if (xs)
		rs[1] = (struct bench_regset){ NT_X86_XSTATE, "NT_X86_XSTATE", xs };
	else
		rs[1] = (struct bench_regset){ NT_PRFPREG, "NT_PRFPREG",
					       sizeof(struct user_fpregs_struct) };
	return 2;
}
