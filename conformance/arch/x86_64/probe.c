/* SPDX-License-Identifier: Apache-2.0 */
/* The x86_64 part of ptbench-probe (contract: conformance/arch/arch.h). */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <jansson.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/arch.h"

/* Newer than the headers of Debian 12: the value is the kernel's ABI. */
#ifndef ARCH_GET_CPUID
#define ARCH_GET_CPUID 0x1011
#endif

void af_probe_arch(json_t *out, bool ia32_syscalls)
{
	long x32 = syscall(0x40000000L | SYS_getpid);

	json_object_set_new(out, "ia32_int80", json_boolean(ia32_syscalls));
	json_object_set_new(out, "x32_syscall_bit", json_boolean(x32 == syscall(SYS_getpid)));
	/* ARCH_GET_CPUID is there since 4.12; ARCH_SET_CPUID's answer is
	 * ptp_caps' cpuid_faulting. */
	json_object_set_new(out, "arch_get_cpuid",
			    json_boolean(syscall(SYS_arch_prctl, ARCH_GET_CPUID, 0) >= 0));
}
