/* SPDX-License-Identifier: Apache-2.0 */
/* PTRACE_GETREGSET / SETREGSET, which every arch port uses the same way. */
#ifndef PTP_ARCH_REGSET_H
#define PTP_ARCH_REGSET_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/uio.h>

/* req: PTRACE_GETREGSET or PTRACE_SETREGSET; type: an NT_* note. */
static inline int regset(int req, pid_t tid, int type, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	if (ptrace(req, tid, (void *)(uintptr_t)type, &iov) < 0)
		return -errno;
	return 0;
}

#endif /* PTP_ARCH_REGSET_H */
