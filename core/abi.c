/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall ABI of a syscall stop, and its arguments: a lookup in the
 * arch's table (ptp_arch_syscall_abis), the same code on every arch.
 */
#include <string.h>

#include "internal.h"

static const struct ptp_arch_syscall_abi *abi_row(uint32_t audit_arch, long nr)
{
	size_t n;
	const struct ptp_arch_syscall_abi *rows = ptp_arch_syscall_abis(&n);

	for (size_t i = 0; i < n; i++)
		if (rows[i].audit_arch == audit_arch &&
		    ((uint32_t)nr & rows[i].nr_mask) == rows[i].nr_match)
			return &rows[i];
	return NULL;
}

enum ptp_syscall_abi ptp_syscall_abi_of(uint32_t audit_arch, long nr)
{
	const struct ptp_arch_syscall_abi *row = abi_row(audit_arch, nr);

	return row ? row->abi : PTP_ABI_UNKNOWN;
}

void ptp_syscall_args_of(const struct arch_regs *r, enum ptp_syscall_abi abi,
			 uint64_t args[6])
{
	size_t n;
	const struct ptp_arch_syscall_abi *rows = ptp_arch_syscall_abis(&n);
	const struct ptp_arch_syscall_abi *row = NULL;

	/* An ABI the kernel could not name reads as the first row of the
	 * native one: the registers a native syscall takes its arguments from. */
	if (abi == PTP_ABI_UNKNOWN)
		abi = PTP_ABI_NATIVE;
	for (size_t i = 0; i < n && !row; i++)
		if (rows[i].abi == abi)
			row = &rows[i];
	for (unsigned int i = 0; i < 6; i++) {
		uint64_t v = 0;

		if (row) {
			memcpy(&v, (const char *)r + row->arg_off[i], sizeof(v));
			if (row->arg_bits == 32)
				v = (uint32_t)v;
		}
		args[i] = v;
	}
}
