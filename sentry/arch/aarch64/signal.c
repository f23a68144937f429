/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arm64 signal frames are not built yet: the kernel's frame needs a
 * return trampoline (glibc's arm64 handlers return through the vDSO's
 * __kernel_rt_sigreturn, and the sentry maps no vDSO). Until then a
 * handled signal takes its default action and --log says so.
 */
#include <errno.h>

#include "arch/arch.h"
#include "sentry.h"

int sn_arch_signal_frame(struct sn_thread *t, const struct sn_sigaction *act,
			 const siginfo_t *info, uint64_t old_mask)
{
	(void)t, (void)act, (void)info, (void)old_mask;
	return -ENOSYS;
}

int sn_arch_sigreturn(struct sn_thread *t, uint64_t *mask)
{
	(void)t, (void)mask;
	return -ENOSYS;
}
