/* SPDX-License-Identifier: Apache-2.0 */
/* The GPR transfer of arches whose NT_PRSTATUS layout cannot change under
 * a running stub (ARCH_GPRS_BY_REGSET): into the arch's arch_regs.gpr. */
#include <elf.h>

#include "arch.h"
#include "regset.h"

#if ARCH_GPRS_BY_REGSET
int arch_get_gprs(pid_t tid, struct arch_regs *r)
{
	return regset(PTRACE_GETREGSET, tid, NT_PRSTATUS, &r->gpr, sizeof(r->gpr));
}

int arch_set_gprs(pid_t tid, const struct arch_regs *r)
{
	return regset(PTRACE_SETREGSET, tid, NT_PRSTATUS, (void *)&r->gpr,
		      sizeof(r->gpr));
}
#endif
