/* SPDX-License-Identifier: Apache-2.0 */
/* Writes to address 8 with no SIGSEGV handler: killed by SIGSEGV. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	uintptr_t addr = 8;
	volatile int *p;

	/* Hidden from the optimizer, which at -O3 refuses a constant bad
	 * pointer (-Warray-bounds). */
	__asm__("" : "+r"(addr));
	p = (volatile int *)addr;

	puts("before");
	fflush(stdout);
	*p = 1;
	puts("after");
	return 0;
}
