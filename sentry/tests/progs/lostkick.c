/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Blocking calls that a signal must end even when it comes in the instant
 * before the call blocks. The exec suite runs this through the sentry with
 * --test-delay-blocking, which holds each blocking host call back for
 * longer than the alarm below: the alarm then always lands in that
 * instant, where a kick used to be lost and the call blocked for good.
 * Natively each alarm lands in the blocked call. Each call must return
 * EINTR after the handler ran:
 *   - read of an empty pipe;
 *   - nanosleep of 30 s;
 *   - FUTEX_WAIT on a word nobody wakes;
 *   - open of a FIFO with no writer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_alarm(int sig)
{
	(void)sig;
	handled++;
}

static void alarm_in_ms(long ms)
{
	struct itimerval it = { .it_value = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 } };

	setitimer(ITIMER_REAL, &it, NULL);
}

static void report(const char *what, long r, int err)
{
	printf("%s: %s, handler ran %d\n", what,
	       r < 0 && err == EINTR ? "-1 EINTR" : r < 0 ? strerror(err) : "returned", (int)handled);
	fflush(stdout);
	handled = 0;
}

int main(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct timespec thirty = { 30, 0 };
	static uint32_t word;
	int pipefd[2];
	char c;
	long r;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	if (pipe(pipefd) < 0 || mkfifo("lostkick.fifo", 0600) < 0) {
		perror("lostkick: pipe or mkfifo");
		return 1;
	}

	alarm_in_ms(100);
	r = read(pipefd[0], &c, 1);
	report("read", r, errno);

	alarm_in_ms(100);
	r = nanosleep(&thirty, NULL);
	report("nanosleep", r, errno);

	alarm_in_ms(100);
	r = syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	report("futex wait", r, errno);

	alarm_in_ms(100);
	r = open("lostkick.fifo", O_RDONLY);
	report("open fifo", r, errno);

	unlink("lostkick.fifo");
	return 0;
}
