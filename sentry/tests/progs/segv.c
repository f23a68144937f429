/* SPDX-License-Identifier: Apache-2.0 */
/* Writes to address 8 with no SIGSEGV handler: killed by SIGSEGV. */
#include <stdio.h>

int main(void)
{
	volatile int *p = (volatile int *)8;

	puts("before");
	fflush(stdout);
	*p = 1;
	puts("after");
	return 0;
}
