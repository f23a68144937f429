/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The app's fd table: app fd -> host fd. The app's numbers never reach the
 * sentry's own fds: closing or dup2-ing over app fd 2 touches only the host
 * fd the table holds for it.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "sentry.h"

void sn_fd_init(struct sn_fdtable *t)
{
	pthread_mutex_init(&t->lock, NULL);
	for (int i = 0; i < SN_MAX_FDS; i++) {
		t->host[i] = -1;
		t->cloexec[i] = false;
	}
}

int sn_fd_get(struct sn_fdtable *t, long fd)
{
	int host;

	if (fd < 0 || fd >= SN_MAX_FDS)
		return -EBADF;
	pthread_mutex_lock(&t->lock);
	host = t->host[fd];
	pthread_mutex_unlock(&t->lock);
	return host < 0 ? -EBADF : host;
}

int sn_fd_install(struct sn_fdtable *t, int host, int min, bool cloexec)
{
	int fd;

	if (min < 0 || min >= SN_MAX_FDS) {
		close(host);
		return -EINVAL;
	}
	pthread_mutex_lock(&t->lock);
	for (fd = min; fd < SN_MAX_FDS && t->host[fd] >= 0; fd++)
		;
	if (fd < SN_MAX_FDS) {
		t->host[fd] = host;
		t->cloexec[fd] = cloexec;
	}
	pthread_mutex_unlock(&t->lock);
	if (fd == SN_MAX_FDS) {
		close(host);
		return -EMFILE;
	}
	return fd;
}

int sn_fd_close(struct sn_fdtable *t, long fd)
{
	int host;

	if (fd < 0 || fd >= SN_MAX_FDS)
		return -EBADF;
	pthread_mutex_lock(&t->lock);
	host = t->host[fd];
	t->host[fd] = -1;
	pthread_mutex_unlock(&t->lock);
	if (host < 0)
		return -EBADF;
	/* Like the kernel: the fd is gone even when close reports an error. */
	return close(host) < 0 && errno != EINTR ? -errno : 0;
}

int sn_fd_dup3(struct sn_fdtable *t, long oldfd, long newfd, bool cloexec)
{
	int host = sn_fd_get(t, oldfd), dup, old = -1;

	if (host < 0)
		return host;
	if (newfd < 0 || newfd >= SN_MAX_FDS)
		return -EBADF;
	dup = fcntl(host, F_DUPFD_CLOEXEC, 0);
	if (dup < 0)
		return -errno;
	pthread_mutex_lock(&t->lock);
	old = t->host[newfd];
	t->host[newfd] = dup;
	t->cloexec[newfd] = cloexec;
	pthread_mutex_unlock(&t->lock);
	if (old >= 0)
		close(old);
	return (int)newfd;
}

void sn_fd_close_on_exec(struct sn_fdtable *t)
{
	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < SN_MAX_FDS; i++) {
		if (t->host[i] >= 0 && t->cloexec[i]) {
			close(t->host[i]);
			t->host[i] = -1;
		}
	}
	pthread_mutex_unlock(&t->lock);
}

void sn_fd_close_all(struct sn_fdtable *t)
{
	pthread_mutex_lock(&t->lock);
	for (int i = 0; i < SN_MAX_FDS; i++) {
		if (t->host[i] >= 0)
			close(t->host[i]);
		t->host[i] = -1;
	}
	pthread_mutex_unlock(&t->lock);
}

int sn_fd_set_cloexec(struct sn_fdtable *t, long fd, bool on)
{
	int err = 0;

	if (fd < 0 || fd >= SN_MAX_FDS)
		return -EBADF;
	pthread_mutex_lock(&t->lock);
	if (t->host[fd] < 0)
		err = -EBADF;
	else
		t->cloexec[fd] = on;
	pthread_mutex_unlock(&t->lock);
	return err;
}

bool sn_fd_get_cloexec(struct sn_fdtable *t, long fd)
{
	bool on;

	if (fd < 0 || fd >= SN_MAX_FDS)
		return false;
	pthread_mutex_lock(&t->lock);
	on = t->cloexec[fd];
	pthread_mutex_unlock(&t->lock);
	return on;
}
