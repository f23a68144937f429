/* SPDX-License-Identifier: Apache-2.0 */
/* Calls prctl, which the sentry does not implement: it must get ENOSYS. */
#include <errno.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	long r = syscall(SYS_prctl, PR_GET_DUMPABLE, 0, 0, 0, 0);

	printf("prctl: %s\n", r >= 0 ? "ok" : errno == ENOSYS ? "ENOSYS" : "other error");
	return 0;
}
