/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systrap filter builder (core/backend/systrap/bpf.c): its programs run
 * over a table of syscalls in a test-only interpreter (cbpf.c), its bad specs
 * are refused, and one filter is installed for real in forked children to
 * see the kernel agree. Writes TAP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/audit.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "backend/systrap/bpf.h"
#include "cbpf.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* asm-generic/siginfo.h; glibc does not export it */
#endif

/* raw-syscall.S: two copies of a raw syscall; filters allow the first. */
long unit_syscall_in(long nr, long a0, long a1);
long unit_syscall_out(long nr, long a0, long a1);
extern const char unit_syscall_in_ret[], unit_syscall_in_end[];
extern const char unit_syscall_out_ret[];

static unsigned int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %u - ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	tap_failed += !ok;
}

__attribute__((format(printf, 1, 2))) static void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %u # SKIP ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *action_name(uint32_t action)
{
	switch (action) {
	case SECCOMP_RET_ALLOW: return "ALLOW";
	case SECCOMP_RET_TRAP: return "TRAP";
	case SECCOMP_RET_KILL_PROCESS: return "KILL_PROCESS";
	case SECCOMP_RET_KILL_THREAD: return "KILL_THREAD";
	default: return "another action";
	}
}

/* The table's thread filter: the stub's code in one page whose high half is
 * not 0, so that an address with the right low half alone is outside. */
#define CODE_LO 0x00007fffe0001000ull
#define CODE_HI (CODE_LO + 0xfffull)
/* What seccomp reports for the first and the last syscall instruction that
 * fit in it: the address after each. */
#define IP_FIRST (CODE_LO + ARCH_SYSCALL_INSN_LEN)
#define IP_LAST (CODE_HI + 1)
#define IP_APP 0x0000000000401000ull
/* A futex word of the thread, with bits set in both halves. */
#define WORD 0x00007fffe0002040ull
#define HIGH_BIT (1ull << 32)
#define EXIT_MAX 255u
/* A lower bound with bits in both halves. */
#define GROUP_MIN 0x0000000200000010ull

/* Mirrors the issue's handler rules, and filter.c's two-argument shape. */
static const struct ptp_bpf_rule thread_rules[] = {
	{ SYS_rt_sigreturn, 0, { { 0, PTP_BPF_EQ, 0 } } },
	{ SYS_futex, 2, { { 0, PTP_BPF_EQ, WORD }, { 1, PTP_BPF_EQ, FUTEX_WAKE } } },
	{ SYS_futex, 2, { { 0, PTP_BPF_EQ, WORD }, { 1, PTP_BPF_EQ, FUTEX_WAIT } } },
	{ SYS_exit, 1, { { 0, PTP_BPF_LE, EXIT_MAX } } },
	{ SYS_exit_group, 1, { { 0, PTP_BPF_GE, GROUP_MIN } } },
	{ SYS_prctl, 2, { { 0, PTP_BPF_EQ, PR_SET_PDEATHSIG }, { 1, PTP_BPF_EQ, SIGKILL } } },
};

static const struct ptp_bpf_spec thread_spec = {
	.code_lo = CODE_LO, .code_hi = CODE_HI,
	.rules = thread_rules, .nrules = sizeof(thread_rules) / sizeof(thread_rules[0]),
	.in_range_miss = SECCOMP_RET_KILL_PROCESS,
};

static struct seccomp_data call(uint32_t audit_arch, uint32_t nr, uint64_t ip,
				uint64_t a0, uint64_t a1)
{
	struct seccomp_data d = { .nr = (int)nr, .arch = audit_arch,
				  .instruction_pointer = ip };

	d.args[0] = a0;
	d.args[1] = a1;
	return d;
}

static void expect(const struct sock_fprog *prog, const char *name,
		   struct seccomp_data d, uint32_t want)
{
	uint32_t got = 0;
	int rc = cbpf_run(prog, &d, &got);

	if (rc < 0)
		tap(false, "%s: the interpreter refused the program (%s)", name, strerror(-rc));
	else if (got != want)
		tap(false, "%s: %s, want %s (nr %d, arch %#x, ip %#" PRIx64 ")", name,
		    action_name(got), action_name(want), d.nr, d.arch,
		    (uint64_t)d.instruction_pointer);
	else
		tap(true, "%s: %s", name, action_name(got));
}

static void table_ip(const struct sock_fprog *f)
{
	const uint32_t A = ARCH_AUDIT_NATIVE, R = SYS_rt_sigreturn, T = SECCOMP_RET_TRAP;

	expect(f, "ip: the first syscall in the stub's code", call(A, R, IP_FIRST, 0, 0),
	       SECCOMP_RET_ALLOW);
	expect(f, "ip: the last syscall in the stub's code", call(A, R, IP_LAST, 0, 0),
	       SECCOMP_RET_ALLOW);
	expect(f, "ip: one before the first (its instruction starts before the code)",
	       call(A, R, IP_FIRST - 1, 0, 0), T);
	expect(f, "ip: one past the last", call(A, R, IP_LAST + 1, 0, 0), T);
	expect(f, "ip: the code's first byte", call(A, R, CODE_LO, 0, 0), T);
	expect(f, "ip: the right low half, high half + 1",
	       call(A, R, IP_FIRST + HIGH_BIT, 0, 0), T);
	expect(f, "ip: the right low half, high half 0",
	       call(A, R, (uint32_t)IP_LAST, 0, 0), T);
	expect(f, "ip: the right low half, high half all ones",
	       call(A, R, IP_LAST | 0xffffffff00000000ull, 0, 0), T);
	expect(f, "ip: the app's code", call(A, R, IP_APP, 0, 0), T);
}

static void table_args(const struct sock_fprog *f)
{
	const uint32_t A = ARCH_AUDIT_NATIVE, F = SYS_futex, E = SYS_exit, P = SYS_prctl;
	const uint32_t G = SYS_exit_group;
	const uint32_t K = SECCOMP_RET_KILL_PROCESS, OK = SECCOMP_RET_ALLOW;
	const uint64_t ip = IP_FIRST + 0x100;

	expect(f, "futex WAKE on the thread's word", call(A, F, ip, WORD, FUTEX_WAKE), OK);
	expect(f, "futex WAIT on the thread's word", call(A, F, ip, WORD, FUTEX_WAIT), OK);
	expect(f, "futex REQUEUE (no rule)", call(A, F, ip, WORD, FUTEX_REQUEUE), K);
	expect(f, "futex word: the right low half, high bit 40 flipped",
	       call(A, F, ip, WORD ^ (1ull << 40), FUTEX_WAKE), K);
	expect(f, "futex word: the low half alone", call(A, F, ip, (uint32_t)WORD, FUTEX_WAKE), K);
	expect(f, "futex op WAKE with its high bits set",
	       call(A, F, ip, WORD, FUTEX_WAKE | HIGH_BIT), K);
	expect(f, "futex WAKE, right arguments, from the app",
	       call(A, F, IP_APP, WORD, FUTEX_WAKE), SECCOMP_RET_TRAP);
	expect(f, "exit(0) under the bound", call(A, E, ip, 0, 0), OK);
	expect(f, "exit at the bound", call(A, E, ip, EXIT_MAX, 0), OK);
	expect(f, "exit one past the bound", call(A, E, ip, EXIT_MAX + 1, 0), K);
	expect(f, "exit: low half under the bound, high bits set",
	       call(A, E, ip, HIGH_BIT | 1, 0), K);
	expect(f, "exit: the high half alone at the bound's",
	       call(A, E, ip, 0xffffffff00000000ull, 0), K);
	expect(f, "exit_group at the lower bound", call(A, G, ip, GROUP_MIN, 0), OK);
	expect(f, "exit_group one under the lower bound", call(A, G, ip, GROUP_MIN - 1, 0), K);
	expect(f, "exit_group: the bound's high half, low half 0",
	       call(A, G, ip, GROUP_MIN & ~0xffffffffull, 0), K);
	expect(f, "exit_group: a higher high half, low half 0",
	       call(A, G, ip, GROUP_MIN + HIGH_BIT - 0x10, 0), OK);
	expect(f, "exit_group: a lower high half, low half all ones",
	       call(A, G, ip, GROUP_MIN - HIGH_BIT + 0xffffffef, 0), K);
	expect(f, "prctl(PR_SET_PDEATHSIG, SIGKILL)", call(A, P, ip, PR_SET_PDEATHSIG, SIGKILL), OK);
	expect(f, "prctl(PR_SET_PDEATHSIG, SIGSTOP)", call(A, P, ip, PR_SET_PDEATHSIG, SIGSTOP), K);
	expect(f, "prctl: second argument with its high bits set",
	       call(A, P, ip, PR_SET_PDEATHSIG, SIGKILL | HIGH_BIT), K);
	expect(f, "getpid from the stub's code (no rule)", call(A, SYS_getpid, ip, 0, 0), K);
	expect(f, "getpid from the app", call(A, SYS_getpid, IP_APP, 0, 0), SECCOMP_RET_TRAP);
}

/* Calls of another ABI: the number of an allowed native call (rt_sigreturn,
 * no argument checks) means another syscall there, so none is allowed. */
static void table_abis(const struct sock_fprog *f)
{
	const uint32_t R = SYS_rt_sigreturn, K = SECCOMP_RET_KILL_PROCESS;
	const uint32_t T = SECCOMP_RET_TRAP;
	/* The native machine without __AUDIT_ARCH_64BIT: an arch no stub call
	 * reports; the filter must refuse it all the same. */
	const uint32_t narrow = ARCH_AUDIT_NATIVE & ~(uint32_t)__AUDIT_ARCH_64BIT;
	const struct ptp_arch_syscall_abi *rows;
	size_t nrows, nforeign = 0;
	char name[128];

	rows = ptp_arch_syscall_abis(&nrows);
	for (size_t i = 0; i < nrows; i++) {
		if (rows[i].audit_arch == ARCH_AUDIT_NATIVE)
			continue;
		nforeign++;
		snprintf(name, sizeof(name), "arch %#x: rt_sigreturn's number from the stub's code",
			 rows[i].audit_arch);
		expect(f, name, call(rows[i].audit_arch, R, IP_FIRST, 0, 0), K);
		snprintf(name, sizeof(name), "arch %#x: rt_sigreturn's number from the app",
			 rows[i].audit_arch);
		expect(f, name, call(rows[i].audit_arch, R, IP_APP, 0, 0), T);
	}
	if (nforeign == 0)
		tap_skip("no second syscall ABI on this arch (its ABI table has one audit arch)");
	snprintf(name, sizeof(name), "arch %#x (native without 64BIT) from the stub's code", narrow);
	expect(f, name, call(narrow, R, IP_FIRST, 0, 0), K);

	if (ARCH_X32_SYSCALL_BIT == 0) {
		tap_skip("no x32 table on this arch (ARCH_X32_SYSCALL_BIT is 0)");
		return;
	}
	expect(f, "x32 rt_sigreturn from the stub's code",
	       call(ARCH_AUDIT_NATIVE, R | ARCH_X32_SYSCALL_BIT, IP_FIRST, 0, 0), K);
	expect(f, "x32 rt_sigreturn from the app",
	       call(ARCH_AUDIT_NATIVE, R | ARCH_X32_SYSCALL_BIT, IP_APP, 0, 0), T);
	expect(f, "x32 bit and bit 31 from the stub's code",
	       call(ARCH_AUDIT_NATIVE, R | ARCH_X32_SYSCALL_BIT | 0x80000000u, IP_FIRST, 0, 0), K);
}

/* The process filter's shape: code across a 4 GiB line, TRAP for a miss. */
static void table_straddle(void)
{
	static const struct ptp_bpf_rule rules[] = { { SYS_getppid, 0, { { 0, PTP_BPF_EQ, 0 } } } };
	const struct ptp_bpf_spec spec = {
		.code_lo = 0x1ffffff00ull, .code_hi = 0x2000000ffull,
		.rules = rules, .nrules = 1, .in_range_miss = SECCOMP_RET_TRAP,
	};
	const uint32_t A = ARCH_AUDIT_NATIVE, G = SYS_getppid;
	struct sock_fprog f = { 0 };
	int rc = ptp_bpf_build(&spec, &f);

	tap(rc == 0, "a filter across a 4 GiB line builds (%d)", rc);
	if (rc < 0)
		return;
	expect(&f, "across 4 GiB: below the line", call(A, G, 0x1ffffff80ull, 0, 0), SECCOMP_RET_ALLOW);
	expect(&f, "across 4 GiB: above the line", call(A, G, 0x200000010ull, 0, 0), SECCOMP_RET_ALLOW);
	expect(&f, "across 4 GiB: low half of below, high half of above",
	       call(A, G, 0x2ffffff80ull, 0, 0), SECCOMP_RET_TRAP);
	expect(&f, "across 4 GiB: low half of above, high half of below",
	       call(A, G, 0x100000010ull, 0, 0), SECCOMP_RET_TRAP);
	expect(&f, "across 4 GiB: no rule, in_range_miss TRAP",
	       call(A, SYS_getpid, 0x200000010ull, 0, 0), SECCOMP_RET_TRAP);
	ptp_filter_free(&f);
}

static void build_fails(const char *name, const struct ptp_bpf_spec *spec, int want)
{
	struct sock_fprog f = { 0 };
	int rc = ptp_bpf_build(spec, &f);

	tap(rc == want, "refused: %s (%s, want %s)", name, rc ? strerror(-rc) : "built",
	    strerror(-want));
	if (rc == 0)
		ptp_filter_free(&f);
}

static void bad_specs(void)
{
	struct ptp_bpf_rule r = { SYS_getpid, 0, { { 0, PTP_BPF_EQ, 0 } } };
	struct ptp_bpf_spec s = { CODE_LO, CODE_HI, &r, 1, SECCOMP_RET_KILL_PROCESS };
	struct ptp_bpf_spec bad;
	struct ptp_bpf_rule *many;
	const size_t nmany = BPF_MAXINSNS; /* each rule is more than one instruction */

	bad = s;
	bad.code_lo = CODE_HI + 1;
	build_fails("code_lo above code_hi", &bad, -EINVAL);
	bad = s;
	bad.code_hi = CODE_LO + ARCH_SYSCALL_INSN_LEN - 2;
	build_fails("a range shorter than one syscall instruction", &bad, -EINVAL);
	bad = s;
	bad.code_hi = UINT64_MAX;
	build_fails("a range up to the last address", &bad, -EINVAL);
	bad = s;
	bad.in_range_miss = SECCOMP_RET_ALLOW;
	build_fails("in_range_miss ALLOW", &bad, -EINVAL);
	bad.in_range_miss = SECCOMP_RET_LOG;
	build_fails("in_range_miss LOG", &bad, -EINVAL);
	bad = s;
	bad.rules = NULL;
	build_fails("rules NULL with nrules 1", &bad, -EINVAL);

	r.nr = -1;
	build_fails("a negative number", &s, -EINVAL);
	if (ARCH_X32_SYSCALL_BIT != 0) {
		r.nr = SYS_getpid | ARCH_X32_SYSCALL_BIT;
		build_fails("a number with the x32 bit", &s, -EINVAL);
	} else {
		tap_skip("no x32 table on this arch: no x32 rule to refuse");
	}
	r.nr = SYS_getpid;
	r.nargs = PTP_BPF_MAX_ARGS + 1;
	build_fails("seven argument checks", &s, -EINVAL);
	r.nargs = 1;
	r.arg[0].idx = PTP_BPF_MAX_ARGS;
	build_fails("argument index 6", &s, -EINVAL);
	r.arg[0].idx = 0;
	r.arg[0].cmp = (enum ptp_bpf_cmp)7;
	build_fails("an unknown comparison", &s, -EINVAL);
	build_fails("spec NULL", NULL, -EINVAL);

	many = calloc(nmany, sizeof(*many));
	if (!many) {
		tap(false, "refused: more rules than BPF_MAXINSNS: out of memory");
		return;
	}
	for (size_t i = 0; i < nmany; i++)
		many[i] = (struct ptp_bpf_rule){ SYS_getpid, 0, { { 0, PTP_BPF_EQ, 0 } } };
	s.rules = many;
	s.nrules = nmany;
	build_fails("more rules than BPF_MAXINSNS", &s, -E2BIG);
	free(many);
}

/* Many rules, each with every argument checked: the last rule is far from
 * the first instruction, yet every jump stays short. */
static void big_filter(void)
{
	enum { NRULES = 100 };
	struct ptp_bpf_rule rules[NRULES];
	struct ptp_bpf_spec s = { CODE_LO, CODE_HI, rules, NRULES, SECCOMP_RET_KILL_PROCESS };
	struct sock_fprog f = { 0 };
	struct seccomp_data d;
	int rc;

	for (unsigned int i = 0; i < NRULES; i++) {
		rules[i] = (struct ptp_bpf_rule){ .nr = SYS_futex, .nargs = PTP_BPF_MAX_ARGS };
		for (unsigned int j = 0; j < PTP_BPF_MAX_ARGS; j++) {
			rules[i].arg[j].idx = j;
			rules[i].arg[j].cmp = PTP_BPF_EQ;
			rules[i].arg[j].val = ((uint64_t)i << 32) | j;
		}
	}
	rc = ptp_bpf_build(&s, &f);
	tap(rc == 0, "%u rules of six 64-bit checks build (%d, %u instructions)", NRULES, rc,
	    (unsigned int)f.len);
	if (rc < 0)
		return;
	d = call(ARCH_AUDIT_NATIVE, SYS_futex, IP_FIRST, 0, 0);
	for (unsigned int j = 0; j < PTP_BPF_MAX_ARGS; j++)
		d.args[j] = ((uint64_t)(NRULES - 1) << 32) | j;
	expect(&f, "the last of 100 rules matches", d, SECCOMP_RET_ALLOW);
	d.args[5] ^= HIGH_BIT;
	expect(&f, "the last of 100 rules with arg 5's high half wrong", d, SECCOMP_RET_KILL_PROCESS);
	ptp_filter_free(&f);
}

/*
 * The kernel runs the program: a forked child installs a filter whose stub
 * code is unit_syscall_in and which allows getppid with a 64-bit argument
 * and exit_group from there. Its exit code says what it saw.
 */
#define MAGIC 0x5a5a5a5a00000007ull
enum child_exit {
	CHILD_OK = 0,
	CHILD_ALLOWED_FAILED = 2,
	CHILD_WRONG_CODE,
	CHILD_WRONG_NR,
	CHILD_WRONG_ARCH,
	CHILD_WRONG_ADDR,
	CHILD_NOT_TRAPPED,
	CHILD_NOT_KILLED,
	CHILD_SETUP = 100,
	/* PR_SET_SECCOMP failed: this plus its errno. */
	CHILD_NO_SECCOMP = 128,
};

static void leave(int code)
{
	unit_syscall_in(SYS_exit_group, code, 0);
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	if (si->si_code != SYS_SECCOMP)
		leave(CHILD_WRONG_CODE);
	if (si->si_syscall != SYS_getppid)
		leave(CHILD_WRONG_NR);
	if (si->si_arch != ARCH_AUDIT_NATIVE)
		leave(CHILD_WRONG_ARCH);
	if (si->si_call_addr != (void *)unit_syscall_out_ret)
		leave(CHILD_WRONG_ADDR);
	leave(CHILD_OK);
}

static void child(bool kill_case)
{
	static const struct ptp_bpf_rule rules[] = {
		{ SYS_getppid, 1, { { 0, PTP_BPF_EQ, MAGIC } } },
		{ SYS_exit_group, 0, { { 0, PTP_BPF_EQ, 0 } } },
	};
	struct ptp_bpf_spec spec = {
		.code_lo = (uintptr_t)unit_syscall_in,
		.code_hi = (uintptr_t)unit_syscall_in_end - 1,
		.rules = rules, .nrules = 2, .in_range_miss = SECCOMP_RET_KILL_PROCESS,
	};
	struct sigaction sa = { .sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO };
	const struct rlimit no_core = { 0, 0 };
	struct sock_fprog prog;
	long ppid = getppid();

	if (ptp_bpf_build(&spec, &prog) < 0 || sigaction(SIGSYS, &sa, NULL) < 0 ||
	    setrlimit(RLIMIT_CORE, &no_core) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		_exit(CHILD_SETUP);
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		_exit(CHILD_NO_SECCOMP + (errno < 127 ? errno : 0));
	/* From here only unit_syscall_in's allowed calls return. */
	if (kill_case) {
		unit_syscall_in(SYS_getppid, (long)(MAGIC ^ HIGH_BIT), 0);
		leave(CHILD_NOT_KILLED);
	}
	if (unit_syscall_in(SYS_getppid, (long)MAGIC, 0) != ppid)
		leave(CHILD_ALLOWED_FAILED);
	unit_syscall_out(SYS_getppid, (long)MAGIC, 0);
	leave(CHILD_NOT_TRAPPED);
}

static const char *child_said(int code)
{
	switch (code) {
	case CHILD_ALLOWED_FAILED: return "the allowed getppid from the stub's code did not return the parent";
	case CHILD_WRONG_CODE: return "SIGSYS si_code is not SYS_SECCOMP";
	case CHILD_WRONG_NR: return "SIGSYS si_syscall is not getppid";
	case CHILD_WRONG_ARCH: return "SIGSYS si_arch is not the native audit arch";
	case CHILD_WRONG_ADDR: return "SIGSYS si_call_addr is not the address after the syscall";
	case CHILD_NOT_TRAPPED: return "getppid from outside the stub's code returned";
	case CHILD_NOT_KILLED: return "getppid with a wrong high half returned";
	case CHILD_SETUP: return "setting up the child failed";
	default: return "unexpected exit code";
	}
}

static void installed(bool kill_case)
{
	const char *name = kill_case
		? "installed: an argument with a wrong high half from the stub's code kills"
		: "installed: allowed from the stub's code, SIGSYS with si_syscall from elsewhere";
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		tap(false, "%s: fork: %s", name, strerror(errno));
		return;
	}
	if (pid == 0)
		child(kill_case);
	if (waitpid(pid, &status, 0) != pid) {
		tap(false, "%s: waitpid: %s", name, strerror(errno));
		return;
	}
	/* qemu-user refuses every filter (it would filter the emulator). */
	if (WIFEXITED(status) && WEXITSTATUS(status) >= CHILD_NO_SECCOMP) {
		tap_skip("%s: PR_SET_SECCOMP refused here (%s): no seccomp filters, or an emulator",
			 name, strerror(WEXITSTATUS(status) - CHILD_NO_SECCOMP));
		return;
	}
	if (kill_case)
		tap(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS, "%s (%s %d%s%s)", name,
		    WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status),
		    WIFEXITED(status) ? ": " : "",
		    WIFEXITED(status) ? child_said(WEXITSTATUS(status)) : "");
	else if (WIFEXITED(status))
		tap(WEXITSTATUS(status) == CHILD_OK, "%s%s%s", name,
		    WEXITSTATUS(status) ? ": " : "",
		    WEXITSTATUS(status) ? child_said(WEXITSTATUS(status)) : "");
	else
		tap(false, "%s: killed by signal %d", name, WTERMSIG(status));
}

int main(int argc, char **argv)
{
	struct sock_fprog f = { 0 };
	int rc;

	if (argc > 1) {
		fprintf(stderr, "test-systrap-bpf: unexpected argument '%s' (it takes none)\n",
			argv[1]);
		return 2;
	}
	rc = ptp_bpf_build(&thread_spec, &f);
	tap(rc == 0, "the thread filter builds (%d, %u instructions)", rc, (unsigned int)f.len);
	if (rc == 0) {
		tap(f.filter[0].code == (BPF_LD | BPF_W | BPF_ABS) &&
			    f.filter[0].k == offsetof(struct seccomp_data, arch),
		    "the first instruction loads seccomp_data.arch");
		table_ip(&f);
		table_args(&f);
		table_abis(&f);
		ptp_filter_free(&f);
	}
	table_straddle();
	big_filter();
	bad_specs();
	installed(false);
	installed(true);
	printf("1..%u\n", tap_n);
	return tap_failed ? 1 : 0;
}
