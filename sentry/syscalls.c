/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The app's syscalls, run in the tracer. Files are the host's: a path call
 * runs on the host relative to the process's working directory, an fd call
 * on the host fd the table holds. Buffers are used in place in the
 * sentry's view of the app's memory where they lie in one region.
 *
 * One table: number -> handler, name. Numbers come from <sys/syscall.h>,
 * which follows the arch; calls only one arch has are in arch/<arch>/.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "arch/arch.h"
#include "sentry.h"

#define PATH_BYTES 4096
#define IOV_MAX_APP 1024

#define MM(t) ((t)->proc->mm)
/* A host call's result as the app's: -errno on failure. */
static long host_ret(long r)
{
	return r < 0 ? -errno : r;
}
#define RET(x) host_ret((long)(x))

/* The host fd of app fd a, or return its error. */
#define HOSTFD(var, t, a)                                  \
	int var = sn_fd_get(&(t)->proc->fds, (long)(a));   \
	if (var < 0)                                       \
		return var

int sn_dirfd(struct sn_thread *t, long dirfd)
{
	if ((int)dirfd == AT_FDCWD)
		return t->proc->cwd;
	return sn_fd_get(&t->proc->fds, (int)dirfd);
}

/* Copies in the path at a, with /proc/self/exe (which would name the
 * sentry) replaced by the app's program. */
static long path_in(struct sn_thread *t, char *buf, uintptr_t a)
{
	long n = sn_str_in(MM(t), buf, a, PATH_BYTES);

	if (n >= 0 && !strcmp(buf, "/proc/self/exe"))
		snprintf(buf, PATH_BYTES, "%s", t->proc->exe);
	return n < 0 ? n : 0;
}

#define PATH(var, t, a)                                    \
	char var[PATH_BYTES];                              \
	do {                                               \
		long path_err_ = path_in((t), var, (a));   \
		if (path_err_ < 0)                         \
			return path_err_;                  \
	} while (0)

#define DIRFD(var, t, a)                                   \
	int var = sn_dirfd((t), (long)(a));                \
	if (var < 0)                                       \
		return var

/* Files and fds -------------------------------------------------------- */

/* Reads or writes through one app buffer: op(host fd, ptr, n). */
static long buffer_call(struct sn_thread *t, uint64_t fd, uint64_t buf, uint64_t n, bool out,
			ssize_t (*op)(int, void *, size_t, off_t), off_t off)
{
	struct sn_iobuf b;
	ssize_t r;
	int err;

	HOSTFD(host, t, fd);
	err = sn_io_begin(MM(t), &b, buf, n, out);
	if (err < 0)
		return err;
	r = op(host, b.p, n, off);
	err = r < 0 ? -errno : 0;
	sn_io_end(MM(t), &b, r > 0 ? (size_t)r : 0);
	return err < 0 ? err : r;
}

/* A raw result as the libc calls give it: -1 with errno. */
static ssize_t with_errno(long r)
{
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Reads and writes may block (pipes, terminals): sn_blocking_call. */
static ssize_t op_read(int fd, void *p, size_t n, off_t off)
{
	(void)off;
	return with_errno(sn_blocking_call(SYS_read, fd, (long)p, (long)n, 0, 0, 0));
}

static ssize_t op_write(int fd, void *p, size_t n, off_t off)
{
	(void)off;
	return with_errno(sn_blocking_call(SYS_write, fd, (long)p, (long)n, 0, 0, 0));
}

static ssize_t op_pread(int fd, void *p, size_t n, off_t off)
{
	return with_errno(sn_blocking_call(SYS_pread64, fd, (long)p, (long)n, off, 0, 0));
}

static ssize_t op_pwrite(int fd, void *p, size_t n, off_t off)
{
	return with_errno(sn_blocking_call(SYS_pwrite64, fd, (long)p, (long)n, off, 0, 0));
}

static ssize_t op_getdents(int fd, void *p, size_t n, off_t off)
{
	(void)off;
	return syscall(SYS_getdents64, fd, p, n);
}

/* A host EPIPE is the app's SIGPIPE (the sentry ignores its own). */
static long pipe_check(struct sn_thread *t, long r)
{
	if (r == -EPIPE) {
		long s = sn_signal_self(t, SIGPIPE);

		if (s == SN_RET_EXIT)
			return s;
	}
	return r;
}

static long sys_read(struct sn_thread *t, const uint64_t a[6])
{
	return buffer_call(t, a[0], a[1], a[2], true, op_read, 0);
}

static long sys_write(struct sn_thread *t, const uint64_t a[6])
{
	return pipe_check(t, buffer_call(t, a[0], a[1], a[2], false, op_write, 0));
}

static long sys_pread64(struct sn_thread *t, const uint64_t a[6])
{
	return buffer_call(t, a[0], a[1], a[2], true, op_pread, (off_t)a[3]);
}

static long sys_pwrite64(struct sn_thread *t, const uint64_t a[6])
{
	return pipe_check(t, buffer_call(t, a[0], a[1], a[2], false, op_pwrite, (off_t)a[3]));
}

static long sys_getdents64(struct sn_thread *t, const uint64_t a[6])
{
	return buffer_call(t, a[0], a[1], a[2], true, op_getdents, 0);
}

/* readv/writev: one buffer call per element, stopping at a short one. */
static long vector_call(struct sn_thread *t, const uint64_t a[6], bool out)
{
	struct iovec iov[64];
	long total = 0;
	size_t n = a[2];

	if (n > IOV_MAX_APP)
		return -EINVAL;
	for (size_t i = 0; i < n; i += 64) {
		size_t m = n - i < 64 ? n - i : 64;

		if (sn_copy_in(MM(t), iov, a[1] + i * sizeof(*iov), m * sizeof(*iov)) < 0)
			return -EFAULT;
		for (size_t j = 0; j < m; j++) {
			long r = buffer_call(t, a[0], (uintptr_t)iov[j].iov_base, iov[j].iov_len,
					     out, out ? op_read : op_write, 0);

			if (r < 0)
				return total ? total : r;
			total += r;
			if ((size_t)r < iov[j].iov_len)
				return total;
		}
	}
	return total;
}

static long sys_readv(struct sn_thread *t, const uint64_t a[6])
{
	return vector_call(t, a, true);
}

static long sys_writev(struct sn_thread *t, const uint64_t a[6])
{
	return pipe_check(t, vector_call(t, a, false));
}

long sn_sys_openat(struct sn_thread *t, const uint64_t a[6])
{
	int flags = (int)a[2];
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);
	/* A FIFO's open waits for the other end. */
	long host = sn_blocking_call(SYS_openat, dir, (long)path, flags | O_CLOEXEC,
				     (mode_t)a[3], 0, 0);

	if (host < 0)
		return host;
	return sn_fd_install(&t->proc->fds, host, 0, flags & O_CLOEXEC);
}

static long sys_close(struct sn_thread *t, const uint64_t a[6])
{
	return sn_fd_close(&t->proc->fds, (long)a[0]);
}

static long sys_close_range(struct sn_thread *t, const uint64_t a[6])
{
	for (uint64_t fd = a[0]; fd <= a[1] && fd < SN_MAX_FDS; fd++) {
		if (a[2] & 4 /* CLOSE_RANGE_CLOEXEC */)
			sn_fd_set_cloexec(&t->proc->fds, (long)fd, true);
		else
			sn_fd_close(&t->proc->fds, (long)fd);
	}
	return 0;
}

static long sys_lseek(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return RET(lseek(host, (off_t)a[1], (int)a[2]));
}

static long sys_dup(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	int dup = fcntl(host, F_DUPFD_CLOEXEC, 0);

	if (dup < 0)
		return -errno;
	return sn_fd_install(&t->proc->fds, dup, 0, false);
}

long sn_sys_dup3(struct sn_thread *t, const uint64_t a[6])
{
	if (a[0] == a[1] || (a[2] & ~(uint64_t)O_CLOEXEC))
		return -EINVAL;
	return sn_fd_dup3(&t->proc->fds, (long)a[0], (long)a[1], a[2] & O_CLOEXEC);
}

long sn_sys_pipe2(struct sn_thread *t, const uint64_t a[6])
{
	int host[2], app[2];

	if (a[1] & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	if (pipe2(host, (int)a[1] | O_CLOEXEC) < 0)
		return -errno;
	app[0] = sn_fd_install(&t->proc->fds, host[0], 0, a[1] & O_CLOEXEC);
	if (app[0] < 0) {
		close(host[1]);
		return app[0];
	}
	app[1] = sn_fd_install(&t->proc->fds, host[1], 0, a[1] & O_CLOEXEC);
	if (app[1] < 0) {
		sn_fd_close(&t->proc->fds, app[0]);
		return app[1];
	}
	if (sn_copy_out(MM(t), a[0], app, sizeof(app)) < 0) {
		sn_fd_close(&t->proc->fds, app[0]);
		sn_fd_close(&t->proc->fds, app[1]);
		return -EFAULT;
	}
	return 0;
}

static long sys_fcntl(struct sn_thread *t, const uint64_t a[6])
{
	struct flock fl;
	int dup, r;
	HOSTFD(host, t, a[0]);

	switch ((int)a[1]) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if (a[2] >= SN_MAX_FDS)
			return -EINVAL;
		dup = fcntl(host, F_DUPFD_CLOEXEC, 0);
		if (dup < 0)
			return -errno;
		return sn_fd_install(&t->proc->fds, dup, (int)a[2], (int)a[1] == F_DUPFD_CLOEXEC);
	case F_GETFD:
		return sn_fd_get_cloexec(&t->proc->fds, (long)a[0]) ? FD_CLOEXEC : 0;
	case F_SETFD:
		return sn_fd_set_cloexec(&t->proc->fds, (long)a[0], a[2] & FD_CLOEXEC);
	case F_GETFL:
	case F_SETFL:
	case F_GETPIPE_SZ:
	case F_SETPIPE_SZ:
		return RET(fcntl(host, (int)a[1], (int)a[2]));
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
		if (sn_copy_in(MM(t), &fl, a[2], sizeof(fl)) < 0)
			return -EFAULT;
		/* F_SETLKW waits for the lock. */
		r = (int)sn_blocking_call(SYS_fcntl, host, (long)a[1], (long)&fl, 0, 0, 0);
		if (r < 0)
			return r;
		return sn_copy_out(MM(t), a[2], &fl, sizeof(fl));
	default:
		return -EINVAL;
	}
}

/* The ioctls whose argument size is known; anything else would let the
 * host write an unknown amount into the sentry. */
static long sys_ioctl(struct sn_thread *t, const uint64_t a[6])
{
	size_t size;
	uint8_t buf[64];
	HOSTFD(host, t, a[0]);

	switch ((unsigned long)a[1]) {
	case TCGETS:
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		size = sizeof(struct termios);
		break;
	case TIOCGWINSZ:
	case TIOCSWINSZ:
		size = sizeof(struct winsize);
		break;
	case TIOCGPGRP:
	case TIOCSPGRP:
	case FIONREAD:
	case FIONBIO:
		size = sizeof(int);
		break;
	case FIOCLEX:
	case FIONCLEX:
		return sn_fd_set_cloexec(&t->proc->fds, (long)a[0], a[1] == FIOCLEX);
	default:
		return -ENOTTY;
	}
	if (sn_copy_in(MM(t), buf, a[2], size) < 0)
		return -EFAULT;
	if (ioctl(host, (unsigned long)a[1], buf) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[2], buf, size);
}

static long sys_fstat(struct sn_thread *t, const uint64_t a[6])
{
	struct stat st;
	HOSTFD(host, t, a[0]);

	if (fstat(host, &st) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[1], &st, sizeof(st));
}

long sn_sys_newfstatat(struct sn_thread *t, const uint64_t a[6])
{
	struct stat st;
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	if (fstatat(dir, path, &st, (int)a[3]) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[2], &st, sizeof(st));
}

static long sys_statx(struct sn_thread *t, const uint64_t a[6])
{
	struct statx stx;
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	if (statx(dir, path, (int)a[2], (unsigned int)a[3], &stx) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[4], &stx, sizeof(stx));
}

static long sys_statfs(struct sn_thread *t, const uint64_t a[6])
{
	struct statfs sf;
	PATH(path, t, a[0]);

	if (path[0] != '/') {
		/* Relative to the app's working directory. */
		char full[PATH_BYTES + 32];

		snprintf(full, sizeof(full), "/proc/self/fd/%d/%s", t->proc->cwd, path);
		if (statfs(full, &sf) < 0)
			return -errno;
	} else if (statfs(path, &sf) < 0) {
		return -errno;
	}
	return sn_copy_out(MM(t), a[1], &sf, sizeof(sf));
}

static long sys_fstatfs(struct sn_thread *t, const uint64_t a[6])
{
	struct statfs sf;
	HOSTFD(host, t, a[0]);

	if (fstatfs(host, &sf) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[1], &sf, sizeof(sf));
}

long sn_sys_faccessat(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	return RET(faccessat(dir, path, (int)a[2], (int)a[3] & ~AT_EACCESS));
}

static long sys_faccessat2(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_faccessat(t, a);
}

long sn_sys_readlinkat(struct sn_thread *t, const uint64_t a[6])
{
	char target[PATH_BYTES];
	char raw[PATH_BYTES];
	ssize_t n;
	DIRFD(dir, t, a[0]);

	{
		long err = sn_str_in(MM(t), raw, a[1], PATH_BYTES);

		if (err < 0)
			return err;
	}
	if (!strcmp(raw, "/proc/self/exe")) {
		n = (ssize_t)strlen(t->proc->exe);
		memcpy(target, t->proc->exe, (size_t)n);
	} else {
		n = readlinkat(dir, raw, target, sizeof(target));
		if (n < 0)
			return -errno;
	}
	if ((size_t)n > a[3])
		n = (ssize_t)a[3];
	return sn_copy_out(MM(t), a[2], target, (size_t)n) < 0 ? -EFAULT : n;
}

long sn_sys_unlinkat(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	return RET(unlinkat(dir, path, (int)a[2]));
}

long sn_sys_mkdirat(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	return RET(mkdirat(dir, path, (mode_t)a[2]));
}

long sn_sys_mknodat(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	return RET(mknodat(dir, path, (mode_t)a[2], (dev_t)a[3]));
}

long sn_sys_renameat2(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(olddir, t, a[0]);
	PATH(oldpath, t, a[1]);
	DIRFD(newdir, t, a[2]);
	PATH(newpath, t, a[3]);

	return RET(renameat2(olddir, oldpath, newdir, newpath, (unsigned int)a[4]));
}

static long sys_renameat(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_renameat2(t, (const uint64_t[6]){ a[0], a[1], a[2], a[3], 0, 0 });
}

long sn_sys_linkat(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(olddir, t, a[0]);
	PATH(oldpath, t, a[1]);
	DIRFD(newdir, t, a[2]);
	PATH(newpath, t, a[3]);

	return RET(linkat(olddir, oldpath, newdir, newpath, (int)a[4]));
}

long sn_sys_symlinkat(struct sn_thread *t, const uint64_t a[6])
{
	char target[PATH_BYTES];
	long err = sn_str_in(MM(t), target, a[0], PATH_BYTES);
	DIRFD(dir, t, a[1]);
	PATH(path, t, a[2]);

	if (err < 0)
		return err;
	return RET(symlinkat(target, dir, path));
}

long sn_sys_fchmodat(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	return RET(fchmodat(dir, path, (mode_t)a[2], 0));
}

static long sys_fchmod(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return RET(fchmod(host, (mode_t)a[1]));
}

long sn_sys_fchownat(struct sn_thread *t, const uint64_t a[6])
{
	DIRFD(dir, t, a[0]);
	PATH(path, t, a[1]);

	return RET(fchownat(dir, path, (uid_t)a[2], (gid_t)a[3], (int)a[4]));
}

static long sys_fchown(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return RET(fchown(host, (uid_t)a[1], (gid_t)a[2]));
}

long sn_sys_utimensat(struct sn_thread *t, const uint64_t a[6])
{
	struct timespec ts[2];
	char path[PATH_BYTES];
	DIRFD(dir, t, a[0]);

	if (a[2] && sn_copy_in(MM(t), ts, a[2], sizeof(ts)) < 0)
		return -EFAULT;
	if (!a[1]) {
		/* futimens: the fd itself. */
		return RET(utimensat(dir, "", a[2] ? ts : NULL, (int)a[3] | AT_EMPTY_PATH));
	}
	if (path_in(t, path, a[1]) < 0)
		return -EFAULT;
	return RET(utimensat(dir, path, a[2] ? ts : NULL, (int)a[3]));
}

static long sys_truncate(struct sn_thread *t, const uint64_t a[6])
{
	int fd;
	long r;
	PATH(path, t, a[0]);

	fd = openat(t->proc->cwd, path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = RET(ftruncate(fd, (off_t)a[1]));
	close(fd);
	return r;
}

static long sys_ftruncate(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return RET(ftruncate(host, (off_t)a[1]));
}

static long sys_fsync(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return RET(fsync(host));
}

static long sys_fdatasync(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return RET(fdatasync(host));
}

static long sys_flock(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return sn_blocking_call(SYS_flock, host, (long)a[1], 0, 0, 0, 0);
}

static long sys_fadvise64(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return -posix_fadvise(host, (off_t)a[1], (off_t)a[2], (int)a[3]);
}

static long sys_fallocate(struct sn_thread *t, const uint64_t a[6])
{
	HOSTFD(host, t, a[0]);
	return RET(fallocate(host, (int)a[1], (off_t)a[2], (off_t)a[3]));
}

static long sys_sendfile(struct sn_thread *t, const uint64_t a[6])
{
	off_t off;
	ssize_t r;
	HOSTFD(out, t, a[0]);
	HOSTFD(in, t, a[1]);

	if (a[2] && sn_copy_in(MM(t), &off, a[2], sizeof(off)) < 0)
		return -EFAULT;
	r = sn_blocking_call(SYS_sendfile, out, in, a[2] ? (long)&off : 0, (long)a[3], 0, 0);
	if (r < 0)
		return pipe_check(t, r);
	if (a[2] && sn_copy_out(MM(t), a[2], &off, sizeof(off)) < 0)
		return -EFAULT;
	return r;
}

static long sys_copy_file_range(struct sn_thread *t, const uint64_t a[6])
{
	/* Offsets through pointers: rare in the tools; let them fall back. */
	if (a[1] || a[3])
		return -EXDEV;
	{
		HOSTFD(in, t, a[0]);
		HOSTFD(out, t, a[2]);

		return sn_blocking_call(SYS_copy_file_range, in, 0, out, 0, (long)a[4],
					(unsigned int)a[5]);
	}
}

static long sys_sync(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	sync();
	return 0;
}

static long sys_chdir(struct sn_thread *t, const uint64_t a[6])
{
	int fd;
	PATH(path, t, a[0]);

	fd = openat(t->proc->cwd, path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(t->proc->cwd);
	t->proc->cwd = fd;
	return 0;
}

static long sys_fchdir(struct sn_thread *t, const uint64_t a[6])
{
	int fd;
	HOSTFD(host, t, a[0]);

	fd = openat(host, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	close(t->proc->cwd);
	t->proc->cwd = fd;
	return 0;
}

static long sys_getcwd(struct sn_thread *t, const uint64_t a[6])
{
	char link[64], cwd[PATH_BYTES];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", t->proc->cwd);
	n = readlink(link, cwd, sizeof(cwd) - 1);
	if (n < 0)
		return -errno;
	cwd[n++] = 0;
	if ((size_t)n > a[1])
		return -ERANGE;
	return sn_copy_out(MM(t), a[0], cwd, (size_t)n) < 0 ? -EFAULT : n;
}

static long sys_umask(struct sn_thread *t, const uint64_t a[6])
{
	uint32_t old = t->proc->umask;

	t->proc->umask = a[0] & 0777;
	umask((mode_t)t->proc->umask);
	return old;
}

long sn_poll(struct sn_thread *t, uint64_t fds, uint64_t nfds, const struct timespec *timeout)
{
	struct pollfd *p;
	long r;

	if (nfds > SN_MAX_FDS)
		return -EINVAL;
	p = calloc(nfds ? nfds : 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (sn_copy_in(MM(t), p, fds, nfds * sizeof(*p)) < 0) {
		free(p);
		return -EFAULT;
	}
	/* App fds to host fds and back; a closed one is POLLNVAL, as there. */
	int *app = calloc(nfds ? nfds : 1, sizeof(*app));

	if (!app) {
		free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nfds; i++) {
		app[i] = p[i].fd;
		if (p[i].fd >= 0) {
			int host = sn_fd_get(&t->proc->fds, p[i].fd);

			p[i].fd = host < 0 ? INT32_MAX : host;
		}
	}
	/* Waits until a deadline, so that an interruption that brings no
	 * handler or death (the kernel would restart the call with what is
	 * left) goes on waiting for the rest only. */
	struct timespec deadline, left;

	if (timeout) {
		left = *timeout;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout->tv_sec;
		deadline.tv_nsec += timeout->tv_nsec;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000L;
		}
	}
	/* A kick that came before the host call would be lost and the wait
	 * endless (glibc's pause() on arm64 is this ppoll with no timeout):
	 * the kick stays blocked until ppoll unblocks it atomically, after
	 * the check for what it would bring. */
	sigset_t kick, saved, waiting;

	sigemptyset(&kick);
	sigaddset(&kick, SN_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &kick, &saved);
	waiting = saved;
	sigdelset(&waiting, SN_KICK_SIGNAL);
	for (;;) {
		if (sn_signal_interrupts(t)) {
			r = -1;
			errno = EINTR;
			break;
		}
		uint64_t t0 = sn_now_ns();

		r = ppoll(p, nfds, timeout ? &left : NULL, &waiting);
		atomic_fetch_add(&sn.st.ns_blocked, sn_now_ns() - t0);
		if (r >= 0 || errno != EINTR)
			break;
		if (timeout) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			left.tv_sec = deadline.tv_sec - now.tv_sec;
			left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
			if (left.tv_nsec < 0) {
				left.tv_sec--;
				left.tv_nsec += 1000000000L;
			}
			if (left.tv_sec < 0)
				left = (struct timespec){ 0 };
		}
	}
	if (r < 0)
		r = -errno;
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	for (size_t i = 0; i < nfds; i++) {
		if (p[i].fd == INT32_MAX) {
			p[i].revents = POLLNVAL;
			if (r >= 0)
				r++;
		}
		p[i].fd = app[i];
	}
	if (r >= 0 && sn_copy_out(MM(t), fds, p, nfds * sizeof(*p)) < 0)
		r = -EFAULT;
	free(app);
	free(p);
	return r;
}

static long sys_ppoll(struct sn_thread *t, const uint64_t a[6])
{
	struct timespec ts;

	if (a[2] && sn_copy_in(MM(t), &ts, a[2], sizeof(ts)) < 0)
		return -EFAULT;
	return sn_poll(t, a[0], a[1], a[2] ? &ts : NULL);
}

/* Memory ------------------------------------------------------------------ */

static long sys_mmap(struct sn_thread *t, const uint64_t a[6])
{
	uintptr_t addr = a[0];
	size_t len = SN_PAGE_UP(a[1]);
	int prot = (int)a[2], flags = (int)a[3];
	int host = -1, err;

	if (!a[1] || !len || (a[5] & (SN_PAGE - 1)))
		return -EINVAL;
	if (!(flags & MAP_ANONYMOUS)) {
		host = sn_fd_get(&t->proc->fds, (long)a[4]);
		if (host < 0)
			return host;
		/* Memory lives in the sentry's memfd: a writable shared
		 * file mapping cannot be kept coherent with the file. */
		if ((flags & MAP_TYPE) == MAP_SHARED && (prot & PROT_WRITE))
			return -ENODEV;
	}
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (SN_PAGE - 1))
			return -EINVAL;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) &&
		    !sn_mm_is_free(MM(t), addr, len))
			return -EEXIST;
	} else if (!addr || (addr & (SN_PAGE - 1)) || !sn_mm_is_free(MM(t), addr, len)) {
		addr = sn_mm_find_gap(MM(t), len);
		if (!addr)
			return -ENOMEM;
	}
	err = sn_mm_map(MM(t), addr, len, prot);
	if (err < 0)
		return err;
	if (host >= 0) {
		/* A private copy of the file's pages (reads past the end
		 * leave zeros, as the kernel's tail page). */
		uint8_t *p = sn_ptr(MM(t), addr, len, 0);
		size_t got = 0;

		while (p && got < a[1]) {
			ssize_t n = pread(host, p + got, a[1] - got, (off_t)(a[5] + got));

			if (n < 0) {
				err = -errno;
				sn_mm_unmap(MM(t), addr, len);
				return err;
			}
			if (!n)
				break;
			got += (size_t)n;
		}
	}
	return (long)addr;
}

static long sys_munmap(struct sn_thread *t, const uint64_t a[6])
{
	return sn_mm_unmap(MM(t), a[0], a[1]);
}

static long sys_mprotect(struct sn_thread *t, const uint64_t a[6])
{
	return sn_mm_protect(MM(t), a[0], a[1], (int)a[2]);
}

static long sys_mremap(struct sn_thread *t, const uint64_t a[6])
{
	uintptr_t old = a[0], to;
	size_t oldlen = SN_PAGE_UP(a[1]), newlen = SN_PAGE_UP(a[2]);
	uint8_t *src;
	int err, prot;

	if ((old & (SN_PAGE - 1)) || !newlen || (a[3] & ~(uint64_t)MREMAP_MAYMOVE))
		return -EINVAL;
	src = sn_ptr(MM(t), old, oldlen ? oldlen : 1, 0);
	if (!src || !oldlen)
		return -EFAULT;
	prot = sn_mm_prot(MM(t), old);
	if (newlen <= oldlen) {
		if (newlen < oldlen && (err = sn_mm_unmap(MM(t), old + newlen, oldlen - newlen)) < 0)
			return err;
		return (long)old;
	}
	if (sn_mm_is_free(MM(t), old + oldlen, newlen - oldlen)) {
		err = sn_mm_map(MM(t), old + oldlen, newlen - oldlen, prot);
		return err < 0 ? err : (long)old;
	}
	if (!(a[3] & MREMAP_MAYMOVE))
		return -ENOMEM;
	to = sn_mm_find_gap(MM(t), newlen);
	if (!to)
		return -ENOMEM;
	err = sn_mm_map(MM(t), to, newlen, prot);
	if (err < 0)
		return err;
	/* src stays valid: the old range is unmapped only after the copy. */
	err = sn_copy_out_any(MM(t), to, src, oldlen);
	if (err < 0)
		return err;
	sn_mm_unmap(MM(t), old, oldlen);
	return (long)to;
}

static long sys_brk(struct sn_thread *t, const uint64_t a[6])
{
	struct sn_mm *mm = MM(t);
	uintptr_t want = a[0], top = SN_PAGE_UP(a[0]);

	if (want < mm->brk_start)
		return (long)mm->brk_cur;
	if (top > mm->brk_mapped) {
		if (!sn_mm_is_free(mm, mm->brk_mapped, top - mm->brk_mapped) ||
		    sn_mm_map(mm, mm->brk_mapped, top - mm->brk_mapped, PROT_READ | PROT_WRITE) < 0)
			return (long)mm->brk_cur;
	} else if (top < mm->brk_mapped) {
		sn_mm_unmap(mm, top, mm->brk_mapped - top);
	}
	mm->brk_mapped = top;
	mm->brk_cur = want;
	return (long)want;
}

static long sys_madvise(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	/* Advice only; MADV_DONTNEED on private memory would have to zero,
	 * which glibc's malloc does not rely on. */
	return 0;
}

/* Processes, threads, identity ------------------------------------------- */

static long sys_exit(struct sn_thread *t, const uint64_t a[6])
{
	if (atomic_load(&t->proc->live_threads) == 1)
		sn_proc_exit(t, W_EXITCODE((int)(a[0] & 0xff), 0));
	return SN_RET_EXIT;
}

static long sys_exit_group(struct sn_thread *t, const uint64_t a[6])
{
	sn_proc_exit(t, W_EXITCODE((int)(a[0] & 0xff), 0));
	return SN_RET_EXIT;
}

static long sys_getpid(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	return t->proc->pid;
}

static long sys_gettid(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	return t->tid;
}

static long sys_getppid(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	return t->proc->ppid;
}

static long sys_getuid(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getuid();
}

static long sys_geteuid(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return geteuid();
}

static long sys_getgid(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getgid();
}

static long sys_getegid(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return getegid();
}

static long sys_getgroups(struct sn_thread *t, const uint64_t a[6])
{
	gid_t g[256];
	int n;

	(void)t;
	if ((int)a[0] < 0)
		return -EINVAL;
	n = getgroups(256, g);
	if (n < 0)
		return -errno;
	if (!a[0])
		return n;
	if ((int)a[0] < n)
		return -EINVAL;
	return sn_copy_out(MM(t), a[1], g, (size_t)n * sizeof(*g)) < 0 ? -EFAULT : n;
}

/* getresuid/getresgid: real, effective, saved (the effective one). */
static long res_ids_out(struct sn_thread *t, const uint64_t a[6], uint32_t real, uint32_t eff)
{
	if (sn_copy_out(MM(t), a[0], &real, sizeof(real)) < 0 ||
	    sn_copy_out(MM(t), a[1], &eff, sizeof(eff)) < 0 ||
	    sn_copy_out(MM(t), a[2], &eff, sizeof(eff)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_getresuid(struct sn_thread *t, const uint64_t a[6])
{
	return res_ids_out(t, a, getuid(), geteuid());
}

static long sys_getresgid(struct sn_thread *t, const uint64_t a[6])
{
	return res_ids_out(t, a, getgid(), getegid());
}

static long sys_set_tid_address(struct sn_thread *t, const uint64_t a[6])
{
	t->clear_tid = a[0];
	return t->tid;
}

static long sys_set_robust_list(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	/* Robust futexes matter only when a thread dies holding a lock. */
	return 0;
}

static long sys_uname(struct sn_thread *t, const uint64_t a[6])
{
	struct utsname u;

	if (uname(&u) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[0], &u, sizeof(u));
}

static long sys_sysinfo(struct sn_thread *t, const uint64_t a[6])
{
	struct sysinfo si;

	if (sysinfo(&si) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[0], &si, sizeof(si));
}

static long sys_times(struct sn_thread *t, const uint64_t a[6])
{
	struct tms tm;
	clock_t r = times(&tm);

	if (a[0] && sn_copy_out(MM(t), a[0], &tm, sizeof(tm)) < 0)
		return -EFAULT;
	return (long)r;
}

static long sys_getrusage(struct sn_thread *t, const uint64_t a[6])
{
	struct rusage ru;

	if (getrusage((int)a[0], &ru) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[1], &ru, sizeof(ru));
}

static long sys_prlimit64(struct sn_thread *t, const uint64_t a[6])
{
	struct rlimit old, nw;

	if (a[0] && (pid_t)a[0] != t->proc->pid)
		return -ESRCH;
	/* Reads only: the sentry's own limits are the app's. */
	if (a[2])
		return -EPERM;
	if (getrlimit((int)a[1], &old) < 0)
		return -errno;
	if ((int)a[1] == RLIMIT_NOFILE && old.rlim_cur > SN_MAX_FDS)
		old.rlim_cur = SN_MAX_FDS;
	(void)nw;
	return a[3] ? sn_copy_out(MM(t), a[3], &old, sizeof(old)) : 0;
}

static long sys_getrandom(struct sn_thread *t, const uint64_t a[6])
{
	struct sn_iobuf b;
	ssize_t r;
	int err = sn_io_begin(MM(t), &b, a[0], a[1], true);

	if (err < 0)
		return err;
	r = getrandom(b.p, a[1], (unsigned int)a[2]);
	err = r < 0 ? -errno : 0;
	sn_io_end(MM(t), &b, r > 0 ? (size_t)r : 0);
	return err < 0 ? err : r;
}

static long sys_clock_gettime(struct sn_thread *t, const uint64_t a[6])
{
	struct timespec ts;

	if (clock_gettime((clockid_t)a[0], &ts) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[1], &ts, sizeof(ts));
}

static long sys_clock_getres(struct sn_thread *t, const uint64_t a[6])
{
	struct timespec ts;

	if (clock_getres((clockid_t)a[0], &ts) < 0)
		return -errno;
	return a[1] ? sn_copy_out(MM(t), a[1], &ts, sizeof(ts)) : 0;
}

static long sys_gettimeofday(struct sn_thread *t, const uint64_t a[6])
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	if (a[0] && sn_copy_out(MM(t), a[0], &tv, sizeof(tv)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_clock_nanosleep(struct sn_thread *t, const uint64_t a[6])
{
	struct timespec req, rem;
	int r;

	if (sn_copy_in(MM(t), &req, a[2], sizeof(req)) < 0)
		return -EFAULT;
	/* A kick that brings no handler or death sleeps on for what is
	 * left (the kernel's restart block), so a handler is the only EINTR
	 * the app sees; SA_RESTART never restarts a sleep. */
	while ((r = -(int)sn_blocking_call(SYS_clock_nanosleep, (clockid_t)a[0], (int)a[1],
					   (long)&req, (long)&rem, 0, 0)) == EINTR &&
	       !sn_signal_interrupts(t))
		if (!((int)a[1] & TIMER_ABSTIME))
			req = rem;
	if (r == EINTR && a[3] && !((int)a[1] & TIMER_ABSTIME))
		sn_copy_out(MM(t), a[3], &rem, sizeof(rem));
	return -r;
}

static long sys_nanosleep(struct sn_thread *t, const uint64_t a[6])
{
	return sys_clock_nanosleep(t, (const uint64_t[6]){ CLOCK_REALTIME, 0, a[0], a[1], 0, 0 });
}

static long sys_sched_getaffinity(struct sn_thread *t, const uint64_t a[6])
{
	cpu_set_t set;
	size_t n = a[1] < sizeof(set) ? a[1] : sizeof(set);

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return -errno;
	return sn_copy_out(MM(t), a[2], &set, n) < 0 ? -EFAULT : (long)n;
}

static long sys_sched_yield(struct sn_thread *t, const uint64_t a[6])
{
	(void)t, (void)a;
	sched_yield();
	return 0;
}

static long sys_getpriority(struct sn_thread *t, const uint64_t a[6])
{
	(void)t;
	errno = 0;
	int r = getpriority((int)a[0], (id_t)a[1]);

	/* The raw syscall returns 20 - nice. */
	return errno ? -errno : 20 - r;
}

/* Signals -------------------------------------------------------------- */

static long sys_rt_sigaction(struct sn_thread *t, const uint64_t a[6])
{
	int sig = (int)a[0];
	struct sn_sigaction act, old;

	if (sig < 1 || sig >= SN_NSIG || a[3] != 8)
		return -EINVAL;
	if (a[1] && (sig == SIGKILL || sig == SIGSTOP))
		return -EINVAL;
	if (a[1] && sn_copy_in(MM(t), &act, a[1], sizeof(act)) < 0)
		return -EFAULT;
	pthread_mutex_lock(&t->proc->sig_lock);
	old = t->proc->sig[sig];
	if (a[1])
		t->proc->sig[sig] = act;
	pthread_mutex_unlock(&t->proc->sig_lock);
	if (a[2] && sn_copy_out(MM(t), a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_rt_sigprocmask(struct sn_thread *t, const uint64_t a[6])
{
	uint64_t set, old = t->sigmask;
	const uint64_t never = (1ull << (SIGKILL - 1)) | (1ull << (SIGSTOP - 1));

	if (a[3] != 8)
		return -EINVAL;
	if (a[1]) {
		if (sn_copy_in(MM(t), &set, a[1], sizeof(set)) < 0)
			return -EFAULT;
		switch ((int)a[0]) {
		case SIG_BLOCK:
			t->sigmask |= set;
			break;
		case SIG_UNBLOCK:
			t->sigmask &= ~set;
			break;
		case SIG_SETMASK:
			t->sigmask = set;
			break;
		default:
			return -EINVAL;
		}
		t->sigmask &= ~never;
	}
	if (a[2] && sn_copy_out(MM(t), a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long signal_to(struct sn_thread *t, pid_t pid, int sig)
{
	if (sig < 0 || sig >= SN_NSIG)
		return -EINVAL;
	if (pid != t->proc->pid) {
		/* Another app process in this sentry; never a host one. */
		siginfo_t info = { .si_signo = sig, .si_code = SI_USER };

		info.si_pid = t->proc->pid;
		info.si_uid = getuid();
		return sn_proc_signal(pid, &info);
	}
	return sig ? sn_signal_self(t, sig) : 0;
}

static long sys_kill(struct sn_thread *t, const uint64_t a[6])
{
	pid_t pid = (pid_t)a[0];
	int sig = (int)a[1];

	/* The app's processes only: the sentry does not reach out to host
	 * processes on its behalf, not even those of its own group. */
	if (pid > 0)
		return signal_to(t, pid, sig);
	if (sig < 0 || sig >= SN_NSIG)
		return -EINVAL;
	/* INT_MIN has no group to name (the kernel's ESRCH). */
	if (pid == INT_MIN)
		return -ESRCH;
	return sn_proc_signal_group(t, pid, sig);
}

static long sys_tgkill(struct sn_thread *t, const uint64_t a[6])
{
	return signal_to(t, (pid_t)a[0], (int)a[2]);
}

static long sys_tkill(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	return signal_to(t, t->proc->pid, (int)a[1]);
}

/* futex: the sentry's own view of the word is MAP_SHARED memfd memory, so a
 * shared host futex on it is keyed by (file, offset) and waiters and wakers
 * on any tracer thread meet. An exiting process interrupts waiters with
 * the kick signal (task.c). */
static long sys_futex(struct sn_thread *t, const uint64_t a[6])
{
	int op = (int)a[1] & ~FUTEX_PRIVATE_FLAG;
	int cmd = op & FUTEX_CMD_MASK;
	struct timespec ts;
	uint32_t *uaddr = sn_ptr(MM(t), a[0], 4, PROT_READ), *uaddr2 = NULL;
	bool has_timeout = cmd == FUTEX_WAIT || cmd == FUTEX_WAIT_BITSET;

	if (!uaddr || (a[0] & 3))
		return -EFAULT;
	if (has_timeout && a[3] && sn_copy_in(MM(t), &ts, a[3], sizeof(ts)) < 0)
		return -EFAULT;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		return sn_blocking_call(SYS_futex, (long)uaddr, op, (uint32_t)a[2],
					a[3] ? (long)&ts : 0, 0, (uint32_t)a[5]);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		return RET(syscall(SYS_futex, uaddr, op, (uint32_t)a[2],
				   has_timeout && a[3] ? &ts : NULL, NULL, (uint32_t)a[5]));
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
	case FUTEX_WAKE_OP:
		uaddr2 = sn_ptr(MM(t), a[4], 4, PROT_READ);
		if (!uaddr2)
			return -EFAULT;
		return RET(syscall(SYS_futex, uaddr, op, (uint32_t)a[2], a[3], uaddr2,
				   (uint32_t)a[5]));
	default:
		return -ENOSYS;
	}
}

#define EXEC_MAX_STRINGS 65536
#define EXEC_MAX_BYTES (2ul << 20)

static void free_strings(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* A NULL-terminated array of strings from the app; -E2BIG past the
 * kernel-like limits. */
static long strings_in(struct sn_thread *t, uintptr_t a, char ***out, size_t *bytes)
{
	char **v = calloc(1, sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (; a; n++) {
		uint64_t p;
		char *str, **grown;
		long len;

		if (n == EXEC_MAX_STRINGS) {
			free_strings(v);
			return -E2BIG;
		}
		if (sn_copy_in(MM(t), &p, a + n * sizeof(p), sizeof(p)) < 0) {
			free_strings(v);
			return -EFAULT;
		}
		if (!p)
			break;
		str = malloc(PATH_BYTES * 32);
		len = str ? sn_str_in(MM(t), str, p, PATH_BYTES * 32) : -ENOMEM;
		grown = len >= 0 ? realloc(v, (n + 2) * sizeof(*v)) : NULL;
		if (!grown) {
			free(str);
			free_strings(v);
			return len < 0 ? (len == -ENAMETOOLONG ? -E2BIG : len) : -ENOMEM;
		}
		v = grown;
		v[n] = str;
		v[n + 1] = NULL;
		*bytes += (size_t)len + 1;
		if (*bytes > EXEC_MAX_BYTES) {
			free_strings(v);
			return -E2BIG;
		}
	}
	*out = v;
	return 0;
}

static long sys_execve(struct sn_thread *t, const uint64_t a[6])
{
	struct sn_proc *proc = t->proc;
	char **argv = NULL, **envp = NULL, err[512], full[PATH_BYTES + 64];
	struct ptp_ctx *ctx = NULL;
	struct ptp_as *as = NULL;
	struct sn_mm *mm = NULL, *old;
	size_t bytes = 0;
	long rc;
	PATH(path, t, a[0]);

	if (atomic_load(&proc->live_threads) > 1) {
		sn_log("pid %d: execve from a multithreaded process is not implemented: ENOSYS",
		       proc->pid);
		return -ENOSYS;
	}
	if ((rc = strings_in(t, a[1], &argv, &bytes)) < 0 ||
	    (rc = strings_in(t, a[2], &envp, &bytes)) < 0)
		goto out;
	if ((rc = ptp_as_new(sn.plat, &as)) < 0)
		goto out;
	if ((rc = sn_mm_new(as, &mm)) < 0) {
		ptp_as_release(as);
		goto out;
	}
	if ((rc = ptp_ctx_new(sn.plat, &ctx)) < 0)
		goto out;
	rc = sn_load(mm, ctx, path, proc->cwd, argv, envp, err, sizeof(err));
	if (rc < 0) {
		sn_log("pid %d: execve %s", proc->pid, err);
		goto out;
	}
	/* The point of no return: the old image goes. */
	if (path[0] == '/') {
		snprintf(proc->exe, sizeof(proc->exe), "%s", path);
	} else {
		char link[64];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", proc->cwd);
		n = readlink(link, full, sizeof(full) - 1);
		size_t dl = n > 0 ? (size_t)n : 0, pl = strlen(path);

		/* The working directory, '/', the relative path. */
		if (dl + 1 + pl < sizeof(proc->exe)) {
			memcpy(proc->exe, full, dl);
			proc->exe[dl] = '/';
			memcpy(proc->exe + dl + 1, path, pl + 1);
		}
	}
	old = proc->mm;
	proc->mm = mm;
	mm = old;
	ptp_ctx_free(t->ctx);
	t->ctx = ctx;
	ctx = NULL;
	sn_fd_close_on_exec(&proc->fds);
	pthread_mutex_lock(&proc->sig_lock);
	for (int i = 0; i < SN_NSIG; i++)
		if (proc->sig[i].handler != (uint64_t)(uintptr_t)SIG_IGN)
			proc->sig[i] = (struct sn_sigaction){ 0 };
	pthread_mutex_unlock(&proc->sig_lock);
	t->clear_tid = 0;
	sn_altstack_reset(t);
	proc->execed = true;
	sn_proc_vfork_release(proc);
	rc = SN_RET_NONE;
out:
	if (ctx)
		ptp_ctx_free(ctx);
	if (mm)
		sn_mm_free(mm);
	free_strings(argv);
	free_strings(envp);
	return rc;
}

static long sys_clone(struct sn_thread *t, const uint64_t a[6])
{
	return sn_arch_sys_clone(t, a);
}

/* The table ------------------------------------------------------------ */

#define CALL(name, fn) [SYS_##name] = { fn, #name, 0 }
/* A call whose -EINTR is not SN_ERESTARTSYS (struct sn_syscall). */
#define CALL_INTR(name, fn, on_intr) [SYS_##name] = { fn, #name, on_intr }
/* Unimplemented on purpose: named so that --stats and --log say what the
 * app wanted; the app gets -ENOSYS (see the README). */
#define NOSYS(name) [SYS_##name] = { NULL, #name, 0 }

static const struct sn_syscall table[] = {
	CALL(read, sys_read),
	CALL(write, sys_write),
	CALL(pread64, sys_pread64),
	CALL(pwrite64, sys_pwrite64),
	CALL(readv, sys_readv),
	CALL(writev, sys_writev),
	CALL(openat, sn_sys_openat),
	CALL(close, sys_close),
	CALL(close_range, sys_close_range),
	CALL(lseek, sys_lseek),
	CALL(dup, sys_dup),
	CALL(dup3, sn_sys_dup3),
	CALL(pipe2, sn_sys_pipe2),
	CALL(fcntl, sys_fcntl),
	CALL(ioctl, sys_ioctl),
	CALL(fstat, sys_fstat),
	CALL(newfstatat, sn_sys_newfstatat),
	CALL(statx, sys_statx),
	CALL(statfs, sys_statfs),
	CALL(fstatfs, sys_fstatfs),
	CALL(getdents64, sys_getdents64),
	CALL(faccessat, sn_sys_faccessat),
	CALL(faccessat2, sys_faccessat2),
	CALL(readlinkat, sn_sys_readlinkat),
	CALL(unlinkat, sn_sys_unlinkat),
	CALL(mkdirat, sn_sys_mkdirat),
	CALL(mknodat, sn_sys_mknodat),
	CALL(renameat, sys_renameat),
	CALL(renameat2, sn_sys_renameat2),
	CALL(linkat, sn_sys_linkat),
	CALL(symlinkat, sn_sys_symlinkat),
	CALL(fchmodat, sn_sys_fchmodat),
	CALL(fchmod, sys_fchmod),
	CALL(fchownat, sn_sys_fchownat),
	CALL(fchown, sys_fchown),
	CALL(utimensat, sn_sys_utimensat),
	CALL(truncate, sys_truncate),
	CALL(ftruncate, sys_ftruncate),
	CALL(fsync, sys_fsync),
	CALL(fdatasync, sys_fdatasync),
	CALL(flock, sys_flock),
	CALL(fadvise64, sys_fadvise64),
	CALL(fallocate, sys_fallocate),
	CALL(sendfile, sys_sendfile),
	CALL(copy_file_range, sys_copy_file_range),
	CALL(sync, sys_sync),
	CALL(chdir, sys_chdir),
	CALL(fchdir, sys_fchdir),
	CALL(getcwd, sys_getcwd),
	CALL(umask, sys_umask),
	CALL_INTR(ppoll, sys_ppoll, -EINTR),
	CALL(mmap, sys_mmap),
	CALL(munmap, sys_munmap),
	CALL(mprotect, sys_mprotect),
	CALL(mremap, sys_mremap),
	CALL(brk, sys_brk),
	CALL(madvise, sys_madvise),
	CALL(exit, sys_exit),
	CALL(exit_group, sys_exit_group),
	CALL(getpid, sys_getpid),
	CALL(gettid, sys_gettid),
	CALL(getppid, sys_getppid),
	CALL(getuid, sys_getuid),
	CALL(geteuid, sys_geteuid),
	CALL(getgid, sys_getgid),
	CALL(getegid, sys_getegid),
	CALL(getgroups, sys_getgroups),
	CALL(getresuid, sys_getresuid),
	CALL(getresgid, sys_getresgid),
	CALL(getpgid, sn_sys_getpgid),
	CALL(getsid, sn_sys_getsid),
	CALL(setpgid, sn_sys_setpgid),
	CALL(set_tid_address, sys_set_tid_address),
	CALL(set_robust_list, sys_set_robust_list),
	CALL(uname, sys_uname),
	CALL(sysinfo, sys_sysinfo),
	CALL(times, sys_times),
	CALL(getrusage, sys_getrusage),
	CALL(prlimit64, sys_prlimit64),
	CALL(getrandom, sys_getrandom),
	CALL(clock_gettime, sys_clock_gettime),
	CALL(clock_getres, sys_clock_getres),
	CALL(gettimeofday, sys_gettimeofday),
	CALL_INTR(clock_nanosleep, sys_clock_nanosleep, -EINTR),
	CALL_INTR(nanosleep, sys_nanosleep, -EINTR),
	CALL(sched_getaffinity, sys_sched_getaffinity),
	CALL(sched_yield, sys_sched_yield),
	CALL(getpriority, sys_getpriority),
	CALL(rt_sigaction, sys_rt_sigaction),
	CALL(rt_sigprocmask, sys_rt_sigprocmask),
	CALL(sigaltstack, sn_sys_sigaltstack),
	CALL(rt_sigreturn, sn_sys_rt_sigreturn),
	CALL_INTR(rt_sigsuspend, sn_sys_rt_sigsuspend, SN_ERESTARTNOHAND),
	CALL(setitimer, sn_sys_setitimer),
	CALL(getitimer, sn_sys_getitimer),
	CALL(kill, sys_kill),
	CALL(tgkill, sys_tgkill),
	CALL(tkill, sys_tkill),
	CALL(futex, sys_futex),
	CALL(wait4, sn_sys_wait4),
	CALL(waitid, sn_sys_waitid),
	CALL(execve, sys_execve),
	CALL(clone, sys_clone),
	/* glibc falls back to clone when clone3 says ENOSYS. */
	NOSYS(clone3),
	/* glibc runs without restartable sequences when rseq says ENOSYS. */
	NOSYS(rseq),
	NOSYS(socket),
	NOSYS(prctl),
	NOSYS(setuid),
	NOSYS(setgid),
	NOSYS(setsid),
	NOSYS(rt_sigtimedwait),
	NOSYS(pselect6),
	NOSYS(epoll_create1),
	NOSYS(membarrier),
};

const struct sn_syscall *sn_syscall_lookup(long nr)
{
	static const struct sn_syscall unknown = { NULL, NULL, 0 };

	for (const struct sn_arch_syscall *s = sn_arch_syscalls; s->nr >= 0; s++)
		if (s->nr == nr)
			return &s->call;
	if (nr >= 0 && (size_t)nr < sizeof(table) / sizeof(table[0]) && table[nr].name)
		return &table[nr];
	return &unknown;
}
