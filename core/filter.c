/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stub's seccomp filter, built from the table of syscalls the core itself
 * injects or the stub makes: the filter and ptp_as_inject's check read the
 * same table, so they cannot drift apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

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

/* args == NULL: whether any rule allows nr at all. */
bool ptp_filter_allows(long nr, const uint64_t args[6])
{
	const struct ptp_syscall_rule *extra;
	size_t nextra;

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
	return ptp_filter_allows(nr, NULL);
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
 * probe: the throw-away filter of the ordering probe, whose default is
 * RET_ERRNO(0) so that a syscall it sees returns 0. default_allow: a kernel
 * older than 4.8 runs seccomp before ptrace, so the app's own syscalls would
 * hit the filter: there the default must be Allow (as gVisor does).
 */
int ptp_filter_build(bool default_allow, bool probe, struct sock_fprog *out)
{
	uint32_t def = probe ? SCMP_ACT_ERRNO(0)
			     : default_allow ? SCMP_ACT_ALLOW : SCMP_ACT_KILL_THREAD;
	const struct ptp_syscall_rule *extra;
	scmp_filter_ctx f;
	size_t nextra;
	int rc = 0;

	f = seccomp_init(def);
	if (!f)
		return -ENOMEM;
	/* The stub installs the filter itself, after NO_NEW_PRIVS. */
	rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0);
	/* Allow rules on an Allow default are refused by libseccomp (and
	 * would change nothing). */
	if (!default_allow) {
		for (size_t i = 0; rc == 0 && i < sizeof(core_rules) / sizeof(core_rules[0]); i++)
			rc = add_rule(f, &core_rules[i]);
		extra = ptp_arch_stub_rules(&nextra);
		for (size_t i = 0; rc == 0 && i < nextra; i++)
			rc = add_rule(f, &extra[i]);
	}
	if (rc == 0 && !probe && !default_allow)
		rc = ptp_arch_filter_traps(f);
	if (rc == 0)
		rc = export_bpf(f, out);
	seccomp_release(f);
	return rc;
}

void ptp_filter_free(struct sock_fprog *prog)
{
	free(prog->filter);
	prog->filter = NULL;
	prog->len = 0;
}
