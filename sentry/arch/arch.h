/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the sentry needs to know per arch: the ELF machine it loads, the
 * syscalls only this arch has (the generic table uses <sys/syscall.h>
 * numbers, which follow the arch), and how clone passes its arguments.
 */
#ifndef SENTRY_ARCH_H
#define SENTRY_ARCH_H

#include <stdint.h>

#include "sentry.h"

/* e_machine of the programs this arch runs. */
extern const uint16_t sn_arch_elf_machine;
/* Name for messages ("x86_64"). */
extern const char sn_arch_name[];

/* The arch-only syscalls: nr -> handler, name; ends with nr -1. */
struct sn_arch_syscall {
	long nr;
	struct sn_syscall call;
};
extern const struct sn_arch_syscall sn_arch_syscalls[];

/* clone(2)'s raw arguments in this arch's order. */
long sn_arch_sys_clone(struct sn_thread *t, const uint64_t a[6]);

#endif /* SENTRY_ARCH_H */
