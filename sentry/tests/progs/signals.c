/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signal handlers on real signal frames, checked against the native run
 * (the exec suite compares the output and exit status):
 *   - SIGSEGV from a bad write and SIGFPE from an integer division by zero,
 *     caught with their siginfo and left with siglongjmp;
 *   - SIGALRM from setitimer while the program computes, handler returns
 *     through rt_sigreturn and the computation's FP state survives it;
 *   - SIGUSR1 by raise(): the handler starts with the default rounding
 *     mode, the interrupted code gets its own back (the frame's FP state);
 *   - a blocked signal stays pending until sigprocmask unblocks it;
 *   - a vector register the interrupted code holds (xmm15, v20) survives
 *     a handler that zeroes it: the signal comes at the return of a raw
 *     kill in the same asm block, so no compiler code is in between;
 *   - a handler that corrupts its frame's FP state, or (x86_64) its FP
 *     state pointer: rt_sigreturn refuses it and the (forked) child dies
 *     of SIGSEGV, as the kernel does it. The x86_64 FP-state case relies
 *     on the CPU faulting on reserved MXCSR bits (the kernel restores the
 *     frame with XRSTOR and refuses it on the fault); qemu's TCG CPU takes
 *     them, so a probe decides first and the case says "not tried" there.
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf back;
static volatile sig_atomic_t got_alarm, got_usr2, alarm_code, handler_round;
static volatile int seen_signo, seen_code;
static void *volatile seen_addr;

static volatile long seen_trapno = -1;

static void on_fault(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

#if defined(__x86_64__)
	/* The trap number (page fault). Not REG_ERR's write bit: ptplat
	 * reports a first fault as a read (its access heuristic), so the
	 * sentry cannot tell. */
	seen_trapno = uc->uc_mcontext.gregs[REG_TRAPNO];
#else
	(void)uc;
#endif
	seen_signo = sig;
	seen_code = si->si_code;
	seen_addr = si->si_addr;
	siglongjmp(back, 1);
}

static void on_alarm(int sig, siginfo_t *si, void *uc)
{
	volatile double clobber = 1.0;

	(void)sig, (void)uc;
	/* FP work of its own, which must not leak into the loop below. */
	for (int i = 0; i < 100; i++)
		clobber = clobber * 3.0 + 1.0;
	alarm_code = si->si_code;
	got_alarm = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	handler_round = fegetround() == FE_TONEAREST;
	fesetround(FE_TOWARDZERO);
}

static void on_usr1_clobber(int sig)
{
	(void)sig;
#if defined(__x86_64__)
	__asm__ volatile("pxor %%xmm15, %%xmm15" ::: "xmm15");
#elif defined(__aarch64__)
	__asm__ volatile("movi v20.16b, #0" ::: "v20");
#else
#error "signals.c: no vector register to clobber on this arch"
#endif
}

/* Whether the vector register holds its pattern across a signal taken at
 * the return of kill(getpid(), SIGUSR1). */
static int vreg_kept(void)
{
	static const uint8_t pattern[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	uint8_t after[16] = { 0 };
	long pid = getpid();

	signal(SIGUSR1, on_usr1_clobber);
#if defined(__x86_64__)
	__asm__ volatile("movdqu (%[in]), %%xmm15\n\t"
			 "mov $62, %%eax\n\t" /* kill */
			 "syscall\n\t"
			 "movdqu %%xmm15, (%[out])"
			 :
			 : [in] "r"(pattern), [out] "r"(after), "D"(pid), "S"((long)SIGUSR1)
			 : "rax", "rcx", "r11", "xmm15", "memory");
#elif defined(__aarch64__)
	register long x0 __asm__("x0") = pid;
	register long x1 __asm__("x1") = SIGUSR1;
	register long x8 __asm__("x8") = 129; /* kill */

	__asm__ volatile("ldr q20, [%[in]]\n\t"
			 "svc #0\n\t"
			 "str q20, [%[out]]"
			 : "+r"(x0)
			 : "r"(x1), "r"(x8), [in] "r"(pattern), [out] "r"(after)
			 : "v20", "memory");
#else
#error "signals.c: no vector register to keep across a syscall on this arch"
#endif
	return !memcmp(pattern, after, sizeof(after));
}

static void on_usr2(int sig)
{
	(void)sig;
	got_usr2++;
}

static volatile int corrupt_pointer;

static void on_usr1_corrupt(int sig, siginfo_t *si, void *ucv)
{
	ucontext_t *uc = ucv;

	(void)sig, (void)si;
#if defined(__x86_64__)
	if (corrupt_pointer) {
		/* An FP state pointer into unmapped memory. */
		uc->uc_mcontext.fpregs = (void *)(uintptr_t)8;
		return;
	}
	/* Reserved MXCSR bits: XRSTOR would fault, the kernel refuses. */
	uc->uc_mcontext.fpregs->mxcsr = 0xffffffffu;
#elif defined(__aarch64__)
	/* No fpsimd record where the kernel expects one. */
	memset(uc->uc_mcontext.__reserved, 0xff, 8);
#else
#error "signals.c: no frame to corrupt on this arch"
#endif
}

/* Whether this CPU faults on reserved MXCSR bits in an FXRSTOR, tried in a
 * child: the kernel's refusal of a frame with them rests on that fault. */
static int cpu_refuses_bad_mxcsr(void)
{
#if defined(__x86_64__)
	int status;
	pid_t child = fork();

	if (child == 0) {
		static unsigned char area[512] __attribute__((aligned(16)));

		signal(SIGSEGV, SIG_DFL);
		__asm__ volatile("fxsave64 %0" : "=m"(area));
		memset(area + 24, 0xff, 4); /* MXCSR */
		__asm__ volatile("fxrstor64 %0" : : "m"(area));
		_exit(0);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		return 0;
	return WIFSIGNALED(status);
#elif defined(__aarch64__)
	return 1; /* no MXCSR: the arm64 case corrupts the record's magic */
#else
#error "signals.c: no FP state probe on this arch"
#endif
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

int main(void)
{
	uintptr_t bad = 8;
	volatile int zero = 0, r = 0;
	volatile double acc = 0.0;
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };
	sigset_t set;
	int status;
	pid_t child;

	setvbuf(stdout, NULL, _IONBF, 0);
	__asm__("" : "+r"(bad));

	handle(SIGSEGV, on_fault);
	if (!sigsetjmp(back, 1))
		*(volatile int *)bad = 1;
	printf("segv: signo %d code %d addr %s\n", seen_signo, seen_code,
	       seen_addr == (void *)bad ? "right" : "wrong");
	printf("segv: trapno %ld\n", seen_trapno);

	handle(SIGFPE, on_fault);
	if (!sigsetjmp(back, 1)) {
#if defined(__x86_64__)
		/* Not 1 / zero: gcc turns that into compares, no idiv. */
		r = 7 / zero;
#else
		/* arm64 does not trap on integer division by zero. */
		(void)zero;
		raise(SIGFPE);
#endif
	}
	printf("fpe: signo %d code %s\n", seen_signo, seen_code > 0 ? "kernel" : "user");
	seen_signo = 0;

	handle(SIGALRM, on_alarm);
	setitimer(ITIMER_REAL, &it, NULL);
	/* 64 steps at least: on a loaded host (the arm64 VM under TCG) the
	 * alarm can come before the first, and acc prints as 2.000000 only
	 * after about 20. */
	for (unsigned int i = 0; i < 64 || !got_alarm; i++)
		acc = acc * 0.5 + 1.0; /* converges to 2.0 */
	printf("alarm: code %s, acc %.6f\n", alarm_code == SI_KERNEL ? "SI_KERNEL" : "other", acc);

	signal(SIGUSR1, on_usr1);
	fesetround(FE_UPWARD);
	raise(SIGUSR1);
	printf("usr1: handler default rounding %d, own rounding kept %d\n", (int)handler_round,
	       fegetround() == FE_UPWARD);
	fesetround(FE_TONEAREST);

	printf("vector register kept across a handler: %d\n", vreg_kept());

	signal(SIGUSR2, on_usr2);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	printf("usr2: while blocked %d\n", (int)got_usr2);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	printf("usr2: after unblocking %d\n", (int)got_usr2);

	for (int pointer = 0; pointer < 2; pointer++) {
		if (!pointer && !cpu_refuses_bad_mxcsr()) {
			printf("bad frame (FP state): not tried, this CPU takes reserved MXCSR bits\n");
			continue;
		}
		child = fork();
		if (child == 0) {
			/* The refused frame's SIGSEGV must end it, not
			 * longjmp. */
			signal(SIGSEGV, SIG_DFL);
			corrupt_pointer = pointer;
			handle(SIGUSR1, on_usr1_corrupt);
			raise(SIGUSR1);
			_exit(0); /* not reached: rt_sigreturn refuses the frame */
		}
		if (child < 0 || waitpid(child, &status, 0) != child)
			return 1;
		printf("bad frame (%s): child %s %d\n", pointer ? "FP pointer" : "FP state",
		       WIFSIGNALED(status) ? "killed by" : "exited",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
	return 3 + r;
}
