/* SPDX-License-Identifier: Apache-2.0 */
/*
 * vm-selftest: the smallest check that ptrace works in a VM guest, used by
 * scripts/vm/selftest.sh to test the VM chain (fetch, initramfs, boot, TAP
 * back over the serial console) without the project's build.
 *
 * A child stops itself (PTRACE_TRACEME, then kill(SIGSTOP) as a raw
 * syscall); the parent resumes it with PTRACE_SYSEMU, sees the stop at its
 * getpid (status SIGTRAP|0x80, the syscall number in x8 / orig_rax),
 * writes 4242 as the return value and lets it go on; the child exits 0 iff
 * getpid returned 4242. Prints TAP: 1..1, ok 1 / not ok 1.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PTRACE_SYSEMU
#define PTRACE_SYSEMU 31
#endif

#define FAKE_PID 4242

static int fail(const char *what)
{
	printf("not ok 1 - sysemu getpid # %s: %s\n", what, strerror(errno));
	return 1;
}

static void child(void)
{
	long r;

	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(3);
	syscall(SYS_kill, syscall(SYS_getpid), SIGSTOP);
	r = syscall(SYS_getpid);
	_exit(r == FAKE_PID ? 0 : 2);
}

/* At a SYSEMU stop: the syscall number, and set the return value. */
static long emulate(pid_t pid, long ret)
{
#if defined(__aarch64__)
	struct user_regs_struct regs;
	struct iovec io = { &regs, sizeof(regs) };
	long nr;

	if (ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &io) < 0)
		return -1;
	nr = (long)regs.regs[8];
	regs.regs[0] = (unsigned long long)ret;
	if (ptrace(PTRACE_SETREGSET, pid, NT_PRSTATUS, &io) < 0)
		return -1;
	return nr;
#elif defined(__x86_64__)
	struct user_regs_struct regs;
	long nr;

	if (ptrace(PTRACE_GETREGS, pid, 0, &regs) < 0)
		return -1;
	nr = (long)regs.orig_rax;
	regs.rax = (unsigned long long)ret;
	if (ptrace(PTRACE_SETREGS, pid, 0, &regs) < 0)
		return -1;
	return nr;
#else
#error "vm-selftest: unknown architecture"
#endif
}

int main(void)
{
	int status;
	long nr;
	pid_t pid;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..1\n");
	pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0)
		child();
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
		printf("not ok 1 - sysemu getpid # first stop: status 0x%x\n", status);
		return 1;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
		return fail("PTRACE_SETOPTIONS");
	if (ptrace(PTRACE_SYSEMU, pid, 0, 0) < 0)
		return fail("PTRACE_SYSEMU");
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	if (!WIFSTOPPED(status) || WSTOPSIG(status) != (SIGTRAP | 0x80)) {
		printf("not ok 1 - sysemu getpid # syscall stop: status 0x%x\n", status);
		return 1;
	}
	nr = emulate(pid, FAKE_PID);
	if (nr < 0)
		return fail("get/set registers");
	if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
		return fail("PTRACE_CONT");
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	if (nr != SYS_getpid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("not ok 1 - sysemu getpid # nr %ld (want %d), child status 0x%x\n",
		       nr, SYS_getpid, status);
		return 1;
	}
	printf("ok 1 - sysemu getpid (nr %ld, the child saw %d)\n", nr, FAKE_PID);
	return 0;
}
