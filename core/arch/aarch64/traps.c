/* SPDX-License-Identifier: Apache-2.0 */
/* arm64: no stub filter extras, no vsyscall page, no CPUID faulting. */
#define _GNU_SOURCE
#include <errno.h>

#include "arch.h"

/* Only the core's own rules: count 0, and a pointer that is still valid. */
static const struct ptp_syscall_rule no_rules[1];

const struct ptp_syscall_rule *ptp_arch_stub_rules(size_t *count)
{
	*count = 0;
	return no_rules;
}

/* Every app syscall stops under SYSEMU: nothing bypasses it. */
int ptp_arch_filter_traps(scmp_filter_ctx f)
{
	(void)f;
	return 0;
}

bool ptp_arch_vsyscall_fault(struct arch_regs *r, siginfo_t *info)
{
	(void)r;
	(void)info;
	return false;
}

/* ID registers are read with mrs, which the kernel emulates itself; there
 * is nothing like x86's CPUID faulting to turn on. */
__attribute__((no_sanitize("address", "undefined")))
int ptp_arch_cpuid_faulting_enable(void)
{
	return -ENOSYS;
}

__attribute__((no_sanitize("address", "undefined")))
void ptp_arch_stub_child_setup(void)
{
}

bool ptp_arch_cpuid_emulate(pid_t tid, struct arch_regs *r)
{
	(void)tid;
	(void)r;
	return false;
}

int ptp_arch_ia32_syscall_probe(void)
{
	return -ENOSYS;
}
