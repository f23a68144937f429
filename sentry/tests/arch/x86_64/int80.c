/* SPDX-License-Identifier: Apache-2.0 */
/* An IA32 int 0x80 getpid (20 in the i386 table, writev in x86_64's): the
 * sentry refuses the other ABI with ENOSYS. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	long r = 20;

	__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
	printf("int80: %s\n", r == getpid() ? "native" : r == -38 ? "ENOSYS" : "other");
	return 0;
}
