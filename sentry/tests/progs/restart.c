/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking calls a signal interrupts, checked against the native run (the
 * exec suite compares the output and exit status), the kernel's
 * -ERESTARTSYS rules:
 *   - a read of an empty pipe and an alarm whose handler writes one byte
 *     to it: without SA_RESTART the read returns EINTR, with it the read
 *     is restarted after the handler and returns the byte;
 *   - wait4 for a child that sleeps, the same two ways;
 *   - nanosleep: EINTR after a handler even with SA_RESTART;
 *   - signals that run no handler (an ignored one, one whose default is to
 *     ignore, a blocked one) sent by a child while the read blocks: the
 *     read goes on and returns what the child writes afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int pipefd[2];
static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
	if (write(pipefd[1], "x", 1) != 1)
		_exit(10);
}

static void catch_alarm(int flags)
{
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
}

static void alarm_in_ms(long ms)
{
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static const char *result(long r, int err)
{
	static char buf[64];

	if (r < 0)
		snprintf(buf, sizeof(buf), "-1 %s", err == EINTR ? "EINTR" : strerror(err));
	else
		snprintf(buf, sizeof(buf), "%ld", r);
	return buf;
}

static void drain(void)
{
	char c;

	while (handled && read(pipefd[0], &c, 1) == 1 && --handled)
		;
	handled = 0;
}

static void read_case(const char *name, int flags)
{
	char c = 0;
	ssize_t r;

	catch_alarm(flags);
	handled = 0;
	alarm_in_ms(50);
	r = read(pipefd[0], &c, 1);
	printf("read, %s: %s%s, handler ran %d\n", name, result(r, errno),
	       r == 1 && c == 'x' ? " (the handler's byte)" : "", (int)handled);
	if (r == 1)
		handled = 0;
	drain();
}

static void wait_case(const char *name, int flags)
{
	pid_t child = fork(), got;
	int status = 0;

	if (child == 0) {
		/* Well after the alarm, even on a loaded machine or TCG. */
		struct timespec ts = { 0, 250 * 1000000L };

		nanosleep(&ts, NULL);
		_exit(7);
	}
	catch_alarm(flags);
	handled = 0;
	alarm_in_ms(50);
	got = wait4(child, &status, 0, NULL);
	printf("wait4, %s: %s, handler ran %d\n", name, got == child ? "the child" : result(got, errno),
	       (int)handled);
	if (got != child) {
		got = wait4(child, &status, 0, NULL);
		printf("wait4 again: %s\n", got == child ? "the child" : result(got, errno));
	}
	printf("  exit status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	drain();
}

static void sleep_case(void)
{
	struct timespec ts = { 5, 0 };
	int r;

	catch_alarm(SA_RESTART);
	handled = 0;
	alarm_in_ms(50);
	r = nanosleep(&ts, &ts);
	printf("nanosleep, SA_RESTART: %s, handler ran %d, more than 4 s left %d\n", result(r, errno),
	       (int)handled, ts.tv_sec >= 4);
	drain();
}

/* A child sends sig while the parent's read blocks, then writes 'c'. */
static void quiet_case(const char *name, int sig)
{
	pid_t parent = getpid(), child;
	char c = 0;
	ssize_t r;

	child = fork();
	if (child == 0) {
		/* Whether the signal comes before the read blocks or
		 * during it, nothing may come of it: the delay only makes
		 * "during" likely. */
		struct timespec ts = { 0, 30 * 1000000L };

		nanosleep(&ts, NULL);
		kill(parent, sig);
		nanosleep(&ts, NULL);
		if (write(pipefd[1], "c", 1) != 1)
			_exit(1);
		_exit(0);
	}
	r = read(pipefd[0], &c, 1);
	printf("read, %s: %s%s\n", name, result(r, errno), r == 1 && c == 'c' ? " (the child's byte)" : "");
	waitpid(child, NULL, 0);
}

int main(void)
{
	sigset_t usr2;

	setvbuf(stdout, NULL, _IONBF, 0);
	if (pipe(pipefd) < 0)
		return 2;
	read_case("no SA_RESTART", 0);
	read_case("SA_RESTART", SA_RESTART);
	wait_case("no SA_RESTART", 0);
	wait_case("SA_RESTART", SA_RESTART);
	sleep_case();
	signal(SIGUSR1, SIG_IGN);
	quiet_case("ignored SIGUSR1", SIGUSR1);
	quiet_case("SIGWINCH (default: ignore)", SIGWINCH);
	sigemptyset(&usr2);
	sigaddset(&usr2, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr2, NULL);
	quiet_case("blocked SIGUSR2", SIGUSR2);
	return 0;
}
