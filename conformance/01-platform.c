/* SPDX-License-Identifier: Apache-2.0 */
/* platform: the kernel probe, a clear error when ptrace is denied, what
 * close leaves, options and backends, and what a fork after ptp_open may
 * do. (Stub placement and the stub filter, which need this design's
 * introspection, are in 11-internals.c.) */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/arch.h"
#include "harness.h"

static bool kernel_at_least(int major, int minor)
{
	struct utsname u;
	int ma = 0, mi = 0;

	uname(&u);
	sscanf(u.release, "%d.%d", &ma, &mi);
	return ma > major || (ma == major && mi >= minor);
}

static bool cpuinfo_has(const char *flag)
{
	char line[8192];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *s = line;

		while (!found && (s = strstr(s, flag))) {
			size_t l = strlen(flag);

			found = (s == line || s[-1] == ' ') &&
				(s[l] == ' ' || s[l] == '\n');
			s += l;
		}
	}
	fclose(f);
	return found;
}

static bool self_has_vsyscall(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		found |= strstr(line, "[vsyscall]") != NULL;
	fclose(f);
	return found;
}

static void probe_results(void)
{
	struct ptp_platform *p = h_open();
	const struct ptp_caps *c = ptp_caps(p);

	h_note("sysemu %d seccomp_after_ptrace %d cpuid_faulting %d syscall_info %d "
	       "vsyscall %d fpstate %zu", c->sysemu, c->seccomp_after_ptrace,
	       c->cpuid_faulting, c->syscall_info, c->vsyscall, c->fpstate_size);
	assert_true(c->sysemu);
	assert_int_equal(c->seccomp_after_ptrace, kernel_at_least(4, 8));
	assert_int_equal(c->syscall_info, kernel_at_least(5, 3));
	assert_int_equal(c->vsyscall, self_has_vsyscall());
	assert_int_equal(c->cpuid_faulting, cpuinfo_has("cpuid_fault"));
	assert_true(c->fpstate_size >= 512);
	ptp_close(p);
}

static void ptrace_denied_is_a_clear_error(void)
{
	pid_t pid = fork();
	int status;

	assert_true(pid >= 0);
	if (pid == 0) {
		scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
		struct ptp_platform *p = NULL;
		int rc;

		if (!f || seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ptrace), 0) ||
		    seccomp_load(f))
			_exit(10);
		rc = ptp_open(NULL, &p);
		if (rc != -EPERM) {
			fprintf(stderr, "ptp_open returned %d (%s), not -EPERM\n", rc,
				ptp_open_error());
			_exit(11);
		}
		if (!strstr(ptp_open_error(), "ptrace is denied")) {
			fprintf(stderr, "unclear reason: %s\n", ptp_open_error());
			_exit(12);
		}
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void close_leaves_nothing(void)
{
	int fds = h_count_fds();
	struct ptp_platform *p = h_open();
	struct ptp_as *as[3];
	uintptr_t stub;

	for (int i = 0; i < 3; i++)
		as[i] = h_as(p);
	ptp_as_release(as[0]);
	assert_true(h_children_of(0) >= 1);
	stub = ptp_max_user_address(p);
	ptp_close(p); /* also destroys as[1] and as[2], never released */
	assert_int_equal(h_children_of(0), 0);
	assert_int_equal(h_count_fds(), fds);
	assert_int_equal(msync((void *)stub, h_page(), MS_ASYNC), -1);
	assert_int_equal(errno, ENOMEM);
}

static void options_are_checked(void)
{
	struct ptp_options o;
	struct ptp_platform *p = NULL;
	enum ptp_switch_mode m;

	ptp_options_default(&o);
	assert_int_equal(o.mode, PTP_MODE_FAITHFUL);
	assert_true(o.pin);
	assert_string_equal(ptp_mode_name(PTP_MODE_LEAN), "lean");
	assert_int_equal(ptp_mode_parse("lean", &m), 0);
	assert_int_equal(m, PTP_MODE_LEAN);
	assert_int_equal(ptp_mode_parse("fast", &m), -EINVAL);
	o.mode = (enum ptp_switch_mode)7;
	assert_int_equal(ptp_open(&o, &p), -EINVAL);
	assert_null(p);
}

static void backend_is_chosen(void)
{
	struct ptp_options o;
	struct ptp_platform *p = NULL;
	enum ptp_backend b;
	int fds = h_count_fds();

	ptp_options_default(&o);
	assert_int_equal(o.backend, PTP_BACKEND_PTRACE);
	assert_string_equal(ptp_backend_name(PTP_BACKEND_SYSTRAP), "systrap");
	assert_null(ptp_backend_name((enum ptp_backend)7));
	assert_int_equal(ptp_backend_parse("ptrace", &b), 0);
	assert_int_equal(b, PTP_BACKEND_PTRACE);
	assert_int_equal(ptp_backend_parse("kvm", &b), -EINVAL);

	o.mode = h_mode;
	assert_int_equal(ptp_open(&o, &p), 0);
	assert_int_equal(ptp_caps(p)->backend, PTP_BACKEND_PTRACE);
	assert_int_equal(ptp_options(p)->backend, PTP_BACKEND_PTRACE);
	ptp_close(p);
	p = NULL;

	/* Where the systrap backend is built it opens in the faithful mode
	 * only (it moves the whole state every switch); elsewhere it is
	 * refused, and says so. */
	o.backend = PTP_BACKEND_SYSTRAP;
	if (AF_SYSTRAP_BUILT && o.mode == PTP_MODE_FAITHFUL) {
		assert_int_equal(ptp_open(&o, &p), 0);
		assert_int_equal(ptp_caps(p)->backend, PTP_BACKEND_SYSTRAP);
		assert_false(ptp_caps(p)->app_traced);
		ptp_close(p);
		p = NULL;
	} else {
		assert_int_equal(ptp_open(&o, &p), AF_SYSTRAP_BUILT ? -EINVAL : -ENOSYS);
		assert_null(p);
		assert_non_null(strstr(ptp_open_error(), "systrap"));
	}
	o.backend = (enum ptp_backend)7;
	assert_int_equal(ptp_open(&o, &p), -EINVAL);
	assert_null(p);
	assert_int_equal(h_children_of(0), 0);
	assert_int_equal(h_count_fds(), fds);
}

/*
 * The caller forks after ptp_open (ptplat.h, "fork"). The child has only the
 * forking thread and the stubs are traced by the parent's threads: every call
 * on the parent's objects that can fail says -ECHILD, the releasing calls do
 * nothing (the parent's stubs live on), and the child may open a platform of
 * its own. The parent's platform keeps working, and the child leaves nothing.
 */
#define FORK_CHILD_EXPECT(cond, code)                                          \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "fork child: %s is false\n", #cond);   \
			_exit(code);                                           \
		}                                                              \
	} while (0)

/* ThreadSanitizer cannot start threads in the child of a multithreaded
 * process ("not supported", it dies), and a platform starts its service
 * thread: under TSan the child does not open a platform of its own. */
#if defined(__SANITIZE_THREAD__)
static const char *const fork_child_no_threads = "ThreadSanitizer cannot start "
	"threads after a multithreaded fork";
#else
static const char *const fork_child_no_threads = NULL;
#endif

__attribute__((noreturn)) static void fork_child_checks(struct hfix *f, int report_fd)
{
	struct ptp_as *as2 = NULL;
	struct ptp_ctx *ctx2 = NULL;
	struct ptp_event ev;
	uint64_t args[6] = { 0 };
	long res;
	uint64_t tls;
	struct ptp_platform *own = NULL;
	struct ptp_as *own_as = NULL;
	struct ptp_ctx *own_ctx = NULL;
	pid_t own_pids[2];

	FORK_CHILD_EXPECT(ptp_switch(f->ctx, f->as, &ev) == -ECHILD, 20);
	FORK_CHILD_EXPECT(ptp_as_new(f->p, &as2) == -ECHILD && !as2, 21);
	FORK_CHILD_EXPECT(ptp_ctx_new(f->p, &ctx2) == -ECHILD && !ctx2, 22);
	FORK_CHILD_EXPECT(ptp_as_map(f->as, H_DATA, h_page(), PROT_READ, 0, 0, 0) ==
				  -ECHILD, 23);
	FORK_CHILD_EXPECT(ptp_as_unmap(f->as, H_CODE, h_page()) == -ECHILD, 24);
	FORK_CHILD_EXPECT(ptp_as_inject(f->as, SYS_getpid, args, &res) == -ECHILD, 25);
	FORK_CHILD_EXPECT(ptp_as_status(f->as) == -ECHILD, 26);
	FORK_CHILD_EXPECT(ptp_platform_status(f->p) == -ECHILD, 27);
	FORK_CHILD_EXPECT(ptp_ctx_pull(f->ctx) == -ECHILD, 28);
	FORK_CHILD_EXPECT(ptp_ctx_tls(f->ctx, &tls) == -ECHILD, 29);
	/* These do nothing here; the parent checks that its stubs live. */
	ptp_interrupt(f->ctx);
	ptp_ctx_free(f->ctx);
	ptp_as_release(f->as);
	ptp_close(f->p);
	if (fork_child_no_threads) {
		own_pids[0] = own_pids[1] = 0;
		FORK_CHILD_EXPECT(write(report_fd, own_pids, sizeof(own_pids)) ==
					  (ssize_t)sizeof(own_pids), 46);
		_exit(0);
	}

	/* A platform of the child's own works as anywhere. */
	FORK_CHILD_EXPECT(ptp_open(ptp_options(f->p), &own) == 0, 40);
	FORK_CHILD_EXPECT(ptp_as_new(own, &own_as) == 0, 41);
	FORK_CHILD_EXPECT(ptp_ctx_new(own, &own_ctx) == 0, 42);
	FORK_CHILD_EXPECT(h_try_load_at(own_as, H_CODE, PAYLOAD_SYSCALL_LOOP) == 0, 43);
	ptp_ctx_set_ip(own_ctx, H_CODE);
	FORK_CHILD_EXPECT(ptp_switch(own_ctx, own_as, &ev) == 0, 44);
	FORK_CHILD_EXPECT(ev.kind == PTP_EV_SYSCALL, 45);
	/* Lean mode: the FP state is in the child's traced thread, which
	 * only this thread (with this tid) may read. */
	FORK_CHILD_EXPECT(ptp_ctx_pull(own_ctx) == 0, 47);
	own_pids[0] = ptp_as_pid(own_as);
	own_pids[1] = ptp_ctx_tid(own_ctx);
	FORK_CHILD_EXPECT(write(report_fd, own_pids, sizeof(own_pids)) ==
				  (ssize_t)sizeof(own_pids), 46);
	ptp_ctx_free(own_ctx);
	ptp_as_release(own_as);
	ptp_close(own);
	/* Like every child of the suite: no atexit handlers, no LeakSanitizer
	 * (the copies of the parent's objects stay allocated, as documented). */
	_exit(0);
}

static void fork_after_open(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	struct ptp_event ev;
	pid_t as_pid = ptp_as_pid(f.as), child, own_pids[2];
	int tasks, children, status, report[2];

	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	tasks = h_task_count(as_pid);
	children = h_children_of(0);
	assert_int_equal(pipe2(report, O_CLOEXEC), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		close(report[0]);
		fork_child_checks(&f, report[1]);
	}
	close(report[1]);
	assert_int_equal(waitpid(child, &status, 0), child);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the forked child failed check %d (status 0x%x)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1, status);
	assert_int_equal(read(report[0], own_pids, sizeof(own_pids)),
			 (ssize_t)sizeof(own_pids));
	close(report[0]);
	/* The child's own platform is gone with it; ours is untouched. */
	if (fork_child_no_threads) {
		h_note("the child's own platform is not tried: %s", fork_child_no_threads);
	} else {
		assert_false(h_proc_exists(own_pids[0]));
		assert_false(h_proc_exists(own_pids[1]));
	}
	assert_int_equal(h_children_of(0), children);
	assert_int_equal(ptp_platform_status(f.p), 0);
	assert_int_equal(ptp_as_status(f.as), 0);
	assert_int_equal(h_task_count(as_pid), tasks);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	h_teardown(&f);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(probe_results),
		HCASE(ptrace_denied_is_a_clear_error),
		HCASE(close_leaves_nothing),
		HCASE(options_are_checked),
		HCASE(backend_is_chosen),
		HCASE(fork_after_open),
	};

	return harness_main(argc, argv, "platform", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
