/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sigaltstack and SA_ONSTACK, checked against the native run (the exec
 * suite compares the output and exit status):
 *   - the state sigaltstack reports: SS_DISABLE at first, 0 once set,
 *     SS_ONSTACK inside a handler running on it, where setting it is
 *     EPERM; EINVAL and ENOMEM for bad flags and a too small size;
 *   - a handler with SA_ONSTACK runs on the alternate stack (its frame's
 *     uc_stack says which), one without it on the thread's stack, a
 *     nested SA_ONSTACK signal lower on the same alternate stack;
 *   - SS_AUTODISARM: disarmed inside the handler, armed again after it;
 *   - a thread starts without one, a forked child keeps its parent's;
 *   - the classic use: a thread overflows its stack into the guard page
 *     and the SIGSEGV handler runs on the alternate stack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)
#endif

#define ALT_SIZE (64 * 1024)
static char alt[ALT_SIZE] __attribute__((aligned(16)));
static char alt2[ALT_SIZE] __attribute__((aligned(16)));

static int on(const char *stack, uintptr_t a)
{
	return a > (uintptr_t)stack && a <= (uintptr_t)stack + ALT_SIZE;
}

static const char *flags_name(int flags)
{
	static char buf[64];

	snprintf(buf, sizeof(buf), "%s%s%s%s", flags & SS_DISABLE ? "SS_DISABLE" : "",
		 flags & SS_ONSTACK ? "SS_ONSTACK" : "", flags & (int)SS_AUTODISARM ? "|AUTODISARM" : "",
		 flags & ~(SS_DISABLE | SS_ONSTACK | (int)SS_AUTODISARM) ? "|?" : "");
	if (!flags)
		return "0";
	return buf;
}

static void query(const char *when)
{
	stack_t cur;

	if (sigaltstack(NULL, &cur) < 0) {
		printf("%s: sigaltstack: %s\n", when, strerror(errno));
		return;
	}
	printf("%s: flags %s, sp %s, size %zu\n", when, flags_name(cur.ss_flags),
	       cur.ss_sp == alt ? "alt" : cur.ss_sp == alt2 ? "alt2" : cur.ss_sp ? "?" : "NULL",
	       cur.ss_size);
}

static int set(void *sp, size_t size, int flags)
{
	stack_t ss = { .ss_sp = sp, .ss_size = size, .ss_flags = flags };

	return sigaltstack(&ss, NULL) < 0 ? -errno : 0;
}

static const char *err_name(int err)
{
	switch (err) {
	case 0: return "0";
	case -EPERM: return "EPERM";
	case -EINVAL: return "EINVAL";
	case -ENOMEM: return "ENOMEM";
	default: return "other";
	}
}

static volatile uintptr_t outer_local;

static void on_usr2(int sig, siginfo_t *si, void *ucv)
{
	volatile char here;

	(void)sig, (void)si, (void)ucv;
	printf("  nested SIGUSR2: on alt %d, below the outer handler %d\n", on(alt, (uintptr_t)&here),
	       (uintptr_t)&here < outer_local);
}

static void on_usr1(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	volatile char here;

	(void)sig, (void)si;
	outer_local = (uintptr_t)&here;
	printf("  SIGUSR1 handler: on alt %d, uc_stack sp %s, flags %s, size %zu\n",
	       on(alt, (uintptr_t)&here), uc->uc_stack.ss_sp == alt ? "alt" : "?",
	       flags_name(uc->uc_stack.ss_flags), uc->uc_stack.ss_size);
	query("  in the handler");
	printf("  setting it in the handler: %s\n", err_name(set(alt2, ALT_SIZE, 0)));
	raise(SIGUSR2);
}

static void on_plain(int sig)
{
	volatile char here;

	(void)sig;
	printf("  handler without SA_ONSTACK: on alt %d\n", on(alt, (uintptr_t)&here));
}

static void on_disarm(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;
	volatile char here;

	(void)sig, (void)si;
	printf("  SS_AUTODISARM handler: on alt %d, uc_stack flags %s\n", on(alt, (uintptr_t)&here),
	       flags_name(uc->uc_stack.ss_flags));
	query("  in the SS_AUTODISARM handler");
}

static void catch(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static sigjmp_buf overflow_back;
static volatile int overflow_on_alt = -1;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
	volatile char here;

	(void)sig, (void)si, (void)ucv;
	overflow_on_alt = on(alt2, (uintptr_t)&here);
	siglongjmp(overflow_back, 1);
}

/* Deep enough to overflow any thread stack here; the depth bound only
 * keeps the compiler from calling the recursion infinite. */
static volatile int max_depth = 1 << 30;

static int recurse(int depth)
{
	volatile char pad[256];

	pad[0] = (char)depth;
	if (depth >= max_depth)
		return 0;
	return recurse(depth + 1) + pad[0];
}

static void *thread_main(void *arg)
{
	(void)arg;
	query("new thread");
	if (set(alt2, ALT_SIZE, 0) < 0)
		return NULL;
	catch(SIGSEGV, on_segv, SA_ONSTACK);
	if (!sigsetjmp(overflow_back, 1))
		recurse(0);
	printf("thread stack overflow: SIGSEGV handler on alt %d\n", (int)overflow_on_alt);
	return NULL;
}

int main(void)
{
	pthread_attr_t attr;
	pthread_t th;
	pid_t child;
	int status;

	setvbuf(stdout, NULL, _IONBF, 0);
	query("at start");
	printf("bad flags: %s\n", err_name(set(alt, ALT_SIZE, 5)));
	printf("too small: %s\n", err_name(set(alt, 1024, 0)));
	printf("set: %s\n", err_name(set(alt, ALT_SIZE, 0)));
	query("after set");

	catch(SIGUSR1, on_usr1, SA_ONSTACK);
	catch(SIGUSR2, on_usr2, SA_ONSTACK | SA_NODEFER);
	printf("raise SIGUSR1 (SA_ONSTACK):\n");
	raise(SIGUSR1);
	query("after the handler");

	signal(SIGUSR1, on_plain);
	printf("raise SIGUSR1 (no SA_ONSTACK):\n");
	raise(SIGUSR1);

	printf("set with SS_AUTODISARM: %s\n", err_name(set(alt, ALT_SIZE, (int)SS_AUTODISARM)));
	query("after set");
	catch(SIGUSR1, on_disarm, SA_ONSTACK);
	raise(SIGUSR1);
	query("after the SS_AUTODISARM handler");

	printf("SS_DISABLE: %s\n", err_name(set(NULL, 0, SS_DISABLE)));
	query("disabled");
	set(alt, ALT_SIZE, 0);

	child = fork();
	if (child == 0) {
		query("forked child");
		_exit(0);
	}
	waitpid(child, &status, 0);

	/* A small stack with a guard page, so that the overflow faults
	 * the same way natively and in the sentry. */
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	if (pthread_create(&th, &attr, thread_main, NULL) == 0)
		pthread_join(th, NULL);
	return 0;
}
