/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process groups, kill and waitid, checked against the native run (the
 * exec suite compares the output and exit status; pids differ between
 * runs, so only their relations are printed):
 *   - setpgid/getpgid/getpgrp/getsid and setpgid's refusals (EINVAL,
 *     ESRCH, EPERM, and EACCES for a child that exec'd);
 *   - kill(-pgid) reaches the group's children only, kill(0) the caller's
 *     group, the caller included;
 *   - wait4(-pgid) and wait4(0) reap only those groups' children;
 *   - waitid: P_PID with WNOWAIT (the child stays a zombie), P_PGID,
 *     P_ALL with WNOHANG, CLD_EXITED and CLD_KILLED, ECHILD and EINVAL.
 * It moves itself into a group of its own first: natively, kill(0) would
 * otherwise reach the test runner's group.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Above any pid_max: no process has it. */
#define NO_SUCH_PID 0x3fffffff

static int ready[2];
static volatile sig_atomic_t child_code, parent_usr2;

static void child_on_signal(int sig)
{
	_exit(child_code + (sig == SIGUSR1 ? 1 : sig == SIGUSR2 ? 2 : 9));
}

static const char *err_name(long r)
{
	static char buf[32];

	if (r >= 0)
		return "ok";
	switch (errno) {
	case EINVAL: return "EINVAL";
	case ESRCH: return "ESRCH";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ECHILD: return "ECHILD";
	default:
		snprintf(buf, sizeof(buf), "errno %d", errno);
		return buf;
	}
}

/* A child that joins group pgid (0: stays in ours; -1: a new one of its
 * own) and waits for a signal; exits code + 1 on SIGUSR1, + 2 on SIGUSR2. */
static pid_t spawn(int code, pid_t pgid)
{
	pid_t pid = fork();

	if (pid == 0) {
		child_code = code;
		signal(SIGUSR1, child_on_signal);
		signal(SIGUSR2, child_on_signal);
		if (pgid)
			setpgid(0, pgid < 0 ? 0 : pgid);
		if (write(ready[1], "r", 1) != 1)
			_exit(99);
		for (;;)
			pause();
	}
	/* The parent sets it too: whichever runs first, the group holds. */
	if (pid > 0 && pgid)
		setpgid(pid, pgid < 0 ? pid : pgid);
	return pid;
}

static void await_ready(int n)
{
	char c;

	while (n-- > 0)
		if (read(ready[0], &c, 1) != 1)
			exit(98);
}

static void on_usr2(int sig)
{
	(void)sig;
	parent_usr2++;
}

static void reap_group(const char *what, pid_t who, int n)
{
	int codes[8] = { 0 }, status, k = 0;

	for (int i = 0; i < n; i++) {
		pid_t got = wait4(who, &status, 0, NULL);

		if (got > 0 && k < 8)
			codes[k++] = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
	}
	/* Exit order varies: sort. */
	for (int i = 0; i < k; i++)
		for (int j = i + 1; j < k; j++)
			if (codes[j] < codes[i]) {
				int c = codes[i];

				codes[i] = codes[j];
				codes[j] = c;
			}
	printf("%s: reaped %d:", what, k);
	for (int i = 0; i < k; i++)
		printf(" %d", codes[i]);
	printf("; again: %s\n", err_name(wait4(who, &status, WNOHANG, NULL)));
}

static void print_waitid(const char *what, int r, const siginfo_t *si, pid_t child)
{
	printf("%s: %s, signo %s, code %s, pid %s, status %d\n", what, err_name(r),
	       si->si_signo == SIGCHLD ? "SIGCHLD" : si->si_signo ? "?" : "0",
	       si->si_code == CLD_EXITED ? "CLD_EXITED" : si->si_code == CLD_KILLED ? "CLD_KILLED" :
	       si->si_code ? "?" : "0",
	       si->si_pid == child ? "the child" : si->si_pid ? "?" : "0", si->si_status);
}

int main(int argc, char **argv)
{
	pid_t me, g1, g1b, same, c, exe;
	siginfo_t si;
	int status, r;

	if (argc > 1 && !strcmp(argv[1], "--pause")) {
		for (;;)
			pause();
	}
	setvbuf(stdout, NULL, _IONBF, 0);
	if (pipe(ready) < 0)
		return 2;
	me = getpid();
	printf("getpgid(0) == getpgrp(): %d, getpgid(me) == getpgrp(): %d\n",
	       getpgid(0) == getpgrp(), getpgid(me) == getpgrp());
	printf("getsid(0) == getsid(me): %d\n", getsid(0) == getsid(me));
	r = setpgid(0, 0);
	printf("setpgid(0, 0): %s, leader now: %d\n", err_name(r), getpgrp() == me);
	printf("setpgid(0, -1): %s\n", err_name(setpgid(0, -1)));
	printf("setpgid(no such pid, 0): %s\n", err_name(setpgid(NO_SUCH_PID, 0)));
	printf("setpgid(0, no such group): %s\n", err_name(setpgid(0, NO_SUCH_PID)));
	printf("getpgid(no such pid): %s\n", err_name(getpgid(NO_SUCH_PID)));
	printf("kill(-no such group, 0): %s\n", err_name(kill(-NO_SUCH_PID, 0)));

	/* Two children in a new group, one in ours. */
	g1 = spawn(10, -1);
	g1b = spawn(20, g1);
	same = spawn(30, 0);
	await_ready(3);
	printf("child groups: first leads its own %d, second in it %d, third in ours %d\n",
	       getpgid(g1) == g1, getpgid(g1b) == g1, getpgid(same) == me);
	printf("kill(-g1, SIGUSR1): %s\n", err_name(kill(-g1, SIGUSR1)));
	reap_group("wait4(-g1)", -g1, 2);
	signal(SIGUSR2, on_usr2);
	r = kill(0, SIGUSR2);

	printf("kill(0, SIGUSR2): %s, the caller's handler ran %d\n", err_name(r), (int)parent_usr2);
	reap_group("wait4(0)", 0, 1);

	/* waitid. */
	c = spawn(40, 0);
	await_ready(1);
	memset(&si, 0x55, sizeof(si));
	print_waitid("waitid(P_ALL, WNOHANG) while it runs", waitid(P_ALL, 0, &si, WEXITED | WNOHANG), &si, c);
	kill(c, SIGUSR1);
	memset(&si, 0, sizeof(si));
	print_waitid("waitid(P_PID, WNOWAIT)", waitid(P_PID, (id_t)c, &si, WEXITED | WNOWAIT), &si, c);
	printf("still there for wait4: %d\n", waitpid(c, &status, 0) == c && WEXITSTATUS(status) == 41);

	c = spawn(50, -1);
	await_ready(1);
	kill(c, SIGTERM);
	memset(&si, 0, sizeof(si));
	print_waitid("waitid(P_PGID) of a killed child", waitid(P_PGID, (id_t)c, &si, WEXITED), &si, c);
	printf("waitid(P_ALL) without children: %s\n", err_name(waitid(P_ALL, 0, &si, WEXITED)));
	printf("waitid without WEXITED: %s\n", err_name(waitid(P_ALL, 0, &si, WNOHANG)));
	printf("waitid(P_PID, 0): %s\n", err_name(waitid(P_PID, 0, &si, WEXITED)));

	/* A child that exec'd: its group is its own business now. */
	exe = fork();
	if (exe == 0) {
		execl("/proc/self/exe", "pgroups", "--pause", (char *)NULL);
		_exit(97);
	}
	/* Until the exec is done, setpgid still works: retry until it stops. */
	while (setpgid(exe, 0) == 0)
		usleep(1000);
	printf("setpgid on a child that exec'd: %s\n", err_name(-1));
	kill(exe, SIGKILL);
	waitpid(exe, &status, 0);
	printf("it died of %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	return 0;
}
