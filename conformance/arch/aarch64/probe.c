/* SPDX-License-Identifier: Apache-2.0 */
/* The arm64 part of ptbench-probe (contract: conformance/arch/arch.h). */
#include <jansson.h>

#include "arch/arch.h"

void af_probe_arch(json_t *out, bool ia32_syscalls)
{
	/* No compat syscall entry or x32 bit is tried from an arm64 probe: an
	 * AArch32 binary would be needed. Said, not guessed. */
	(void)ia32_syscalls;
	json_object_set_new(out, "ia32_int80", json_null());
	json_object_set_new(out, "x32_syscall_bit", json_null());
	json_object_set_new(out, "arch_get_cpuid", json_null());
}
