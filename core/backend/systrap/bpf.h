/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systrap backend's seccomp filters, built as raw classic BPF. App code
 * and the stub share one address space and run untraced, so only the
 * instruction pointer tells the stub's own syscalls from the app's, and
 * libseccomp cannot match it.
 *
 * A filter built here says, for a syscall of the native ABI:
 *   from the stub's code, matching a rule   -> SECCOMP_RET_ALLOW
 *   from the stub's code, matching no rule  -> in_range_miss (KILL_PROCESS
 *                                              for a thread's own filter)
 *   from anywhere else                      -> SECCOMP_RET_TRAP (the app's
 *                                              syscall, for the handler)
 * A syscall of any other ABI (IA32 by int 0x80 or sysenter, x32) matches no
 * rule: its numbers index another table (i386's 15 is chmod, x86_64's
 * rt_sigreturn).
 */
#ifndef PTP_SYSTRAP_BPF_H
#define PTP_SYSTRAP_BPF_H

#include <stddef.h>
#include <stdint.h>
#include <linux/filter.h>

/* Every argument a syscall can have. */
#define PTP_BPF_MAX_ARGS 6u

/* How a rule compares one argument, always as the full 64-bit value: a
 * check of the low half alone would let an app pass a number the kernel
 * reads differently (a pointer or length with high bits set). */
enum ptp_bpf_cmp {
	PTP_BPF_EQ, /* arg == val */
	PTP_BPF_LE, /* arg <= val, unsigned */
	PTP_BPF_GE, /* arg >= val, unsigned */
};

/* One allowed syscall: nr, with every listed argument check holding (the
 * shape of filter.c's struct ptp_syscall_rule, plus the comparison). Two
 * rules with the same nr allow either. */
struct ptp_bpf_rule {
	long nr;
	unsigned int nargs;
	struct {
		unsigned int idx; /* 0..5 */
		enum ptp_bpf_cmp cmp;
		uint64_t val;
	} arg[PTP_BPF_MAX_ARGS];
};

struct ptp_bpf_spec {
	/* The stub's code whose syscalls the rules may allow: the first and
	 * the last byte (inclusive). A syscall comes from it when its whole
	 * instruction lies inside, i.e. seccomp's instruction pointer (the
	 * address after it) is in [code_lo + ARCH_SYSCALL_INSN_LEN,
	 * code_hi + 1]. */
	uint64_t code_lo, code_hi;
	const struct ptp_bpf_rule *rules;
	size_t nrules;
	/* What a syscall from the stub's code that no rule allows gets:
	 * SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD or
	 * SECCOMP_RET_TRAP. Never ALLOW: app code can jump to the stub's
	 * syscall instructions with registers of its choosing. */
	uint32_t in_range_miss;
};

/*
 * Builds the program for spec into out (out->filter malloc'd; release it with
 * ptp_filter_free). 0, -EINVAL (a bad spec: empty or wrapping range, a rule
 * number outside the native table's, an argument index past 5, an unknown
 * comparison or action), -E2BIG (more than BPF_MAXINSNS instructions) or
 * -ENOMEM.
 */
int ptp_bpf_build(const struct ptp_bpf_spec *spec, struct sock_fprog *out);

#endif /* PTP_SYSTRAP_BPF_H */
