/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A new thread starts with its creator's FP state, as the kernel's clone
 * copies it whole: the rounding mode set before pthread_create (x87 and
 * SSE control on x86_64, FPCR on arm64) is the thread's too. The exec
 * suite compares the output with the native run's.
 */
#define _GNU_SOURCE
#include <fenv.h>
#include <pthread.h>
#include <stdio.h>

static void *report(void *arg)
{
	(void)arg;
	printf("thread: rounding upward %d\n", fegetround() == FE_UPWARD);
#if defined(__x86_64__)
	/* MXCSR's own rounding field (bits 13-14), apart from the x87 one
	 * fegetround reads: 2 is upward. */
	printf("thread: mxcsr rounding %u\n", (__builtin_ia32_stmxcsr() >> 13) & 3u);
#endif
	return NULL;
}

int main(void)
{
	pthread_t t;

	fesetround(FE_UPWARD);
	if (pthread_create(&t, NULL, report, NULL) || pthread_join(t, NULL))
		return 1;
	return 0;
}
