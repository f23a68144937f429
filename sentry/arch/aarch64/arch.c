/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 has only the generic (*at) syscalls; clone puts tls before ctid. */
#include <elf.h>
#include <stdint.h>
#include <ucontext.h>

#include "arch/arch.h"

const uint16_t sn_arch_elf_machine = EM_AARCH64;
const char sn_arch_name[] = "aarch64";
/* svc #0 */
const unsigned int sn_arch_syscall_insn_len = 4;
const uint64_t sn_arch_minsigstksz = 5120;

long sn_arch_sys_clone(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_clone(t, a[0], a[1], a[2], a[4], a[3]);
}

const struct sn_arch_syscall sn_arch_syscalls[] = {
	{ -1, { NULL, NULL, 0 } },
};

extern const char sn_arch_blocking_begin[], sn_arch_blocking_end[], sn_arch_blocking_cancel[];

void sn_arch_blocking_cancel_point(void *ucontext)
{
	unsigned long long *pc = &((ucontext_t *)ucontext)->uc_mcontext.pc;

	if ((uintptr_t)*pc >= (uintptr_t)sn_arch_blocking_begin &&
	    (uintptr_t)*pc < (uintptr_t)sn_arch_blocking_end)
		*pc = (uintptr_t)sn_arch_blocking_cancel;
}
