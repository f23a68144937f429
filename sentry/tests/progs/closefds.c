/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dup2s /dev/null over every fd from 0 to 1023, then closes them all: the
 * app's fd numbers must never reach the sentry's own fds.
 */
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return 1;
	for (int i = 0; i < 1024; i++)
		if (i != fd && dup2(fd, i) != i)
			return 2;
	for (int i = 0; i < 1024; i++)
		close(i);
	return 42;
}
