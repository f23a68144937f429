/* SPDX-License-Identifier: Apache-2.0 */
/* The GPR transfer of arches whose NT_PRSTATUS layout cannot change under
 * a running stub (ARCH_GPRS_BY_REGSET): into the arch's arch_regs.gpr. */
#include <elf.h>

#include "arch.h"
#include "regset.h"

#if ARCH_GPRS_BY_REGSET
int arch_get_gprs(pid_t tid, struct arch_regs *r)
{
	struct iovec iov = { .iov_base = &r->gpr, .iov_len = sizeof(r->gpr) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(uintptr_t)NT_PRSTATUS, &iov) < 0)
		return -errno;
	/* The kernel picks NT_PRSTATUS's layout by the thread's current mode
	 * (the fuzzer's compat_mode seed made an x86_64 app show the i386 one,
	 * which is why x86_64 no longer comes here): a set of another size
	 * can be neither read nor written as ours. */
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
#endif
