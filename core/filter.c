/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stub's seccomp filter, built from the table of syscalls the core itself
 * injects or the stub makes: the filter and ptp_as_inject's check read the
 * same table, so they cannot drift apart. mprotect is the one rule the table
 * cannot hold: it depends on the stub's address and needs addr + len, which
 * libseccomp cannot compute, so it is a raw-BPF part in front of libseccomp's
 * program, mirrored by protect_allowed() for ptp_as_inject.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "stub-abi.h"

static const struct ptp_syscall_rule core_rules[] = {
	/* Injected by the core. */
	{ SYS_clone, 1, { { 0, PTP_CLONE_AS_FLAGS } } },
	{ SYS_clone, 1, { { 0, PTP_CLONE_THREAD_FLAGS } } },
	{ SYS_wait4, 0, { { 0, 0 } } },
	{ SYS_exit, 0, { { 0, 0 } } },
	{ SYS_mmap, 0, { { 0, 0 } } },
	{ SYS_munmap, 0, { { 0, 0 } } },
	/* Made by the stub's bootstrap. */
	{ SYS_getppid, 0, { { 0, 0 } } },
	{ SYS_getpid, 0, { { 0, 0 } } },
	{ SYS_prctl, 2, { { 0, PR_SET_PDEATHSIG }, { 1, SIGKILL } } },
	{ SYS_kill, 1, { { 1, SIGSTOP } } },
};

static bool rule_matches(const struct ptp_syscall_rule *r, long nr,
			 const uint64_t args[6])
{
	if (r->nr != nr)
		return false;
	for (unsigned int i = 0; i < r->nargs; i++)
		if (args && args[r->arg[i].idx] != r->arg[i].val)
			return false;
	return true;
}

/*
 * mprotect of [addr, addr + len) that ends at or below the stub, without
 * wrapping, with protections within PTP_STUB_PROT_MASK: PROT_GROWSDOWN and
 * PROT_GROWSUP would reach beyond the range. The same as protect_prefix() below, in C.
 */
static bool protect_allowed(uintptr_t stub_start, const uint64_t args[6])
{
	return (args[2] & ~(uint64_t)PTP_STUB_PROT_MASK) == 0 && args[1] <= stub_start &&
	       args[0] <= stub_start - args[1];
}

/* args == NULL: whether any rule allows nr at all. */
bool ptp_filter_allows(uintptr_t stub_start, long nr, const uint64_t args[6])
{
	const struct ptp_syscall_rule *extra;
	size_t nextra;

	if (nr == SYS_mprotect)
		return !args || protect_allowed(stub_start, args);

	for (size_t i = 0; i < sizeof(core_rules) / sizeof(core_rules[0]); i++)
		if (rule_matches(&core_rules[i], nr, args))
			return true;
	extra = ptp_arch_stub_rules(&nextra);
	for (size_t i = 0; i < nextra; i++)
		if (rule_matches(&extra[i], nr, args))
			return true;
	return false;
}

PTP_EXPORT bool ptp_syscall_injectable(long nr)
{
	return ptp_filter_allows(0, nr, NULL);
}

static int add_rule(scmp_filter_ctx f, const struct ptp_syscall_rule *r)
{
	struct scmp_arg_cmp cmp[2];

	for (unsigned int i = 0; i < r->nargs; i++)
		cmp[i] = (struct scmp_arg_cmp){ .arg = r->arg[i].idx,
						.op = SCMP_CMP_EQ,
						.datum_a = r->arg[i].val };
	return seccomp_rule_add_array(f, SCMP_ACT_ALLOW, (int)r->nr, r->nargs, cmp);
}

/* libseccomp 2.5 can only export to a file descriptor. */
static int export_bpf(scmp_filter_ctx f, struct sock_fprog *out)
{
	int fd = memfd_create("ptp-filter", MFD_CLOEXEC);
	off_t len;
	int rc;

	if (fd < 0)
		return -errno;
	rc = seccomp_export_bpf(f, fd);
	if (rc < 0)
		goto out;
	len = lseek(fd, 0, SEEK_END);
	if (len <= 0 || len % sizeof(struct sock_filter)) {
		rc = -EINVAL;
		goto out;
	}
	out->filter = malloc((size_t)len);
	if (!out->filter) {
		rc = -ENOMEM;
		goto out;
	}
	if (pread(fd, out->filter, (size_t)len, 0) != len) {
		rc = -EIO;
		free(out->filter);
		out->filter = NULL;
		goto out;
	}
	out->len = (unsigned short)(len / sizeof(struct sock_filter));
	rc = 0;
out:
	close(fd);
	return rc;
}

/*
 * The mprotect rule in classic BPF, which has 32-bit loads and arithmetic
 * only: the 64-bit arguments are read as halves (both arches are little
 * endian: the low half first). It allows or kills a native mprotect and lets
 * every other call fall through to libseccomp's program after it (BPF jumps
 * are relative, so the two concatenate). With S = stub_start:
 *   prot's bits within PTP_STUB_PROT_MASK;  len <= S;  addr <= S - len,
 * which is addr + len <= S without the addition that could wrap. S - len is
 * computed in halves with a borrow into M[1]:M[0].
 */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "the mprotect rule reads an argument's low half first");
#define ARG_LO(i) ((uint32_t)(offsetof(struct seccomp_data, args) + 8 * (i)))
#define ARG_HI(i) (ARG_LO(i) + 4)
#define LD_ABS(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))

enum { PROTECT_ALLOW = 35, PROTECT_KILL = 36, PROTECT_LEN = 37 };

/* A jump from the instruction at index at to index target of the prefix;
 * PROTECT_LEN is the first instruction after it. */
#define TO(at, target) ((uint8_t)((target) - (at) - 1))

static void protect_prefix(uintptr_t stub_start, uint32_t refuse,
			   struct sock_filter out[PROTECT_LEN])
{
	const uint32_t s_lo = (uint32_t)stub_start;
	const uint32_t s_hi = (uint32_t)((uint64_t)stub_start >> 32);
	const struct sock_filter prog[PROTECT_LEN] = {
		/* 0 */ LD_ABS(offsetof(struct seccomp_data, arch)),
		/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_AUDIT_NATIVE, 0, TO(1, PROTECT_LEN)),
		/* 2 */ LD_ABS(offsetof(struct seccomp_data, nr)),
		/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, TO(3, PROTECT_LEN)),
		/* prot within PTP_STUB_PROT_MASK */
		/* 4 */ LD_ABS(ARG_HI(2)),
		/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, TO(5, PROTECT_KILL)),
		/* 6 */ LD_ABS(ARG_LO(2)),
		/* 7 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, ~(uint32_t)PTP_STUB_PROT_MASK,
				 TO(7, PROTECT_KILL), 0),
		/* len <= S */
		/* 8 */ LD_ABS(ARG_HI(1)),
		/* 9 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, s_hi, TO(9, PROTECT_KILL), 0),
		/* 10 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, s_hi, 0, TO(10, 13)),
		/* 11 */ LD_ABS(ARG_LO(1)),
		/* 12 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, s_lo, TO(12, PROTECT_KILL), 0),
		/* X = len_hi + borrow, the borrow being len_lo > S_lo */
		/* 13 */ LD_ABS(ARG_HI(1)),
		/* 14 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* 15 */ LD_ABS(ARG_LO(1)),
		/* 16 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_K, s_lo, 0, TO(16, 20)),
		/* 17 */ BPF_STMT(BPF_MISC | BPF_TXA, 0),
		/* 18 */ BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 1),
		/* 19 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* M[1] = S_hi - X, M[0] = S_lo - len_lo: M[1]:M[0] = S - len */
		/* 20 */ BPF_STMT(BPF_LD | BPF_IMM, s_hi),
		/* 21 */ BPF_STMT(BPF_ALU | BPF_SUB | BPF_X, 0),
		/* 22 */ BPF_STMT(BPF_ST, 1),
		/* 23 */ LD_ABS(ARG_LO(1)),
		/* 24 */ BPF_STMT(BPF_MISC | BPF_TAX, 0),
		/* 25 */ BPF_STMT(BPF_LD | BPF_IMM, s_lo),
		/* 26 */ BPF_STMT(BPF_ALU | BPF_SUB | BPF_X, 0),
		/* 27 */ BPF_STMT(BPF_ST, 0),
		/* addr <= M[1]:M[0] */
		/* 28 */ LD_ABS(ARG_HI(0)),
		/* 29 */ BPF_STMT(BPF_LDX | BPF_MEM, 1),
		/* 30 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, TO(30, PROTECT_KILL), 0),
		/* 31 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, TO(31, PROTECT_ALLOW)),
		/* 32 */ LD_ABS(ARG_LO(0)),
		/* 33 */ BPF_STMT(BPF_LDX | BPF_MEM, 0),
		/* 34 */ BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, TO(34, PROTECT_KILL),
				  TO(34, PROTECT_ALLOW)),
		/* 35 */ BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		/* 36 */ BPF_STMT(BPF_RET | BPF_K, refuse),
	};

	memcpy(out, prog, sizeof(prog));
}

/* out = the mprotect prefix, then libseccomp's program. */
static int prepend_protect(uintptr_t stub_start, uint32_t refuse,
			   struct sock_fprog *out)
{
	size_t n = (size_t)out->len + PROTECT_LEN;
	struct sock_filter *f;

	if (n > BPF_MAXINSNS)
		return -E2BIG;
	f = malloc(n * sizeof(*f));
	if (!f)
		return -ENOMEM;
	protect_prefix(stub_start, refuse, f);
	memcpy(f + PROTECT_LEN, out->filter, out->len * sizeof(*f));
	free(out->filter);
	out->filter = f;
	out->len = (unsigned short)n;
	return 0;
}

/*
 * probe: the throw-away filter of the ordering probe, whose default is
 * RET_ERRNO(0) so that a syscall it sees returns 0. default_allow: a kernel
 * older than 4.8 runs seccomp before ptrace, so the app's own syscalls would
 * hit the filter: there the default must be Allow (as gVisor does).
 */
int ptp_filter_build(uintptr_t stub_start, bool default_allow, bool probe,
		     const struct ptp_backend_ops *ops, struct sock_fprog *out)
{
	bool trap = ops && ops->filter_trap_default;
	uint32_t def = probe ? SCMP_ACT_ERRNO(0)
		       : default_allow ? SCMP_ACT_ALLOW
		       : trap ? SCMP_ACT_TRAP : SCMP_ACT_KILL_THREAD;
	const struct ptp_syscall_rule *extra;
	scmp_filter_ctx f;
	size_t nextra;
	int rc = 0;

	f = seccomp_init(def);
	if (!f)
		return -ENOMEM;
	/* The stub installs the filter itself, after NO_NEW_PRIVS. */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	/* An app's IA32 or x32 call reaches this filter untraced: it traps
	 * like any other (libseccomp would kill it). */
	if (rc == 0 && trap)
		rc = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRAP);
	/* Allow rules on an Allow default are refused by libseccomp (and
	 * would change nothing). */
	if (!default_allow) {
		for (size_t i = 0; rc == 0 && i < sizeof(core_rules) / sizeof(core_rules[0]); i++)
			rc = add_rule(f, &core_rules[i]);
		extra = ptp_arch_stub_rules(&nextra);
		for (size_t i = 0; rc == 0 && i < nextra; i++)
			rc = add_rule(f, &extra[i]);
		for (size_t i = 0; rc == 0 && ops && i < ops->nfilter_rules; i++)
			rc = add_rule(f, &ops->filter_rules[i]);
	}
	/* A TRAP default traps them already (libseccomp refuses a rule of
	 * the default's action). */
	if (rc == 0 && !probe && !default_allow && !trap)
		rc = ptp_arch_filter_traps(f);
	if (rc == 0)
		rc = export_bpf(f, out);
	seccomp_release(f);
	/* The probe refuses nothing; an Allow default allows mprotect too. */
	if (rc == 0 && !probe && !default_allow) {
		rc = prepend_protect(stub_start,
				     trap ? SECCOMP_RET_TRAP : SECCOMP_RET_KILL_THREAD, out);
		if (rc < 0)
			ptp_filter_free(out);
	}
	return rc;
}

void ptp_filter_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}
