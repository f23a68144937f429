/* SPDX-License-Identifier: Apache-2.0 */
/* The GPR transfer is the same on every arch: NT_PRSTATUS into the arch's
 * struct arch_regs.gpr. */
#include <elf.h>

#include "arch.h"
#include "regset.h"

int arch_get_gprs(pid_t tid, struct arch_regs *r)
{
	return regset(PTRACE_GETREGSET, tid, NT_PRSTATUS, &r->gpr, sizeof(r->gpr));
}

int arch_set_gprs(pid_t tid, const struct arch_regs *r)
{
	return regset(PTRACE_SETREGSET, tid, NT_PRSTATUS, (void *)&r->gpr,
		      sizeof(r->gpr));
}
