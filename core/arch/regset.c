/* SPDX-License-Identifier: Apache-2.0 */
/* The GPR transfer is the same on every arch: NT_PRSTATUS into the arch's
 * struct arch_regs.gpr. */
#include <elf.h>

#include "arch.h"
#include "regset.h"

int arch_get_gprs(pid_t tid, struct arch_regs *r)
{
	struct iovec iov = { .iov_base = &r->gpr, .iov_len = sizeof(r->gpr) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(uintptr_t)NT_PRSTATUS, &iov) < 0)
		return -errno;
	/* The kernel picks the layout by the thread's current mode: a shorter
	 * set means an x86_64 app far-jumped to a 32-bit code segment. Its
	 * registers can be neither read nor written as ours (found by the
	 * fuzzer, fuzz/ seed compat_mode). */
	if (iov.iov_len != sizeof(r->gpr))
		return -ENOEXEC;
	arch_gprs_settable(r);
	return 0;
}

int arch_set_gprs(pid_t tid, const struct arch_regs *r)
{
	return regset(PTRACE_SETREGSET, tid, NT_PRSTATUS, (void *)&r->gpr,
		      sizeof(r->gpr));
}
