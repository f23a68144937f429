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

/* Bytes of the syscall instruction (the syscall event's ip is past it):
 * a restarted call runs it again. */
extern const unsigned int sn_arch_syscall_insn_len;

/* The kernel's MINSIGSTKSZ (glibc's may be a sysconf call): the least
 * sigaltstack takes. */
extern const uint64_t sn_arch_minsigstksz;

/* The arch-only syscalls: nr -> handler, name; ends with nr -1. */
struct sn_arch_syscall {
	long nr;
	struct sn_syscall call;
};
extern const struct sn_arch_syscall sn_arch_syscalls[];

/* clone(2)'s raw arguments in this arch's order. */
long sn_arch_sys_clone(struct sn_thread *t, const uint64_t a[6]);

/*
 * Signal frames (arch/<arch>/signal.c). sn_arch_signal_frame saves t's
 * context (registers, the whole FP state, old_mask) in a frame on its
 * stack as the kernel lays it out and points the context at act's handler
 * with sig, info and the ucontext as arguments: 0, -EFAULT when the frame
 * cannot be written (the kernel's SIGSEGV), -ENOSYS where not built.
 * sn_arch_sigreturn reads the frame back at rt_sigreturn, treating it as
 * hostile (the app may have written anything there): 0 with the mask to
 * restore, or -EFAULT/-EINVAL for a frame the kernel would refuse
 * (SIGSEGV); the context is unchanged then.
 */
int sn_arch_signal_frame(struct sn_thread *t, const struct sn_sigaction *act,
			 const siginfo_t *info, uint64_t old_mask);
int sn_arch_sigreturn(struct sn_thread *t, uint64_t *mask);

/*
 * Blocking host calls (arch/<arch>/blocking.S). A kick (task.c) that comes
 * just before a blocking call would be lost and the call would wait on for
 * a signal already queued. sn_arch_blocking_syscall makes syscall nr with
 * a1..a6 unless *kicked is set, and returns the raw result (-errno); -EINTR
 * without making it when *kicked is set. The kick handler sets *kicked and
 * calls sn_arch_blocking_cancel_point with its ucontext: a kick that lands
 * between that test and the syscall instruction moves the ip to the
 * -EINTR return, so no instant is left where a kick is missed. During the
 * call itself the kick interrupts it (EINTR), as any signal without
 * SA_RESTART.
 */
long sn_arch_blocking_syscall(const volatile int *kicked, long nr, long a1, long a2, long a3,
			      long a4, long a5, long a6);
void sn_arch_blocking_cancel_point(void *ucontext);

#endif /* SENTRY_ARCH_H */
