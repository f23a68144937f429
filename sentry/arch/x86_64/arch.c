/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64: the legacy path calls (open, stat, ...) map onto the *at ones. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>

#include "arch/arch.h"

const uint16_t sn_arch_elf_machine = EM_X86_64;
const char sn_arch_name[] = "x86_64";
/* syscall */
const unsigned int sn_arch_syscall_insn_len = 2;
const uint64_t sn_arch_minsigstksz = 2048;

/* The generic handler h called with AT_FDCWD before the first n args. */
#define AT_CWD_CALL(h, a0, a1, a2, a3) \
	h(t, (const uint64_t[6]){ (uint64_t)AT_FDCWD, a0, a1, a2, a3, 0 })

static long sys_open(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_openat, a[0], a[1], a[2], 0);
}

static long sys_creat(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_openat, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1], 0);
}

static long sys_stat(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_newfstatat, a[0], a[1], 0, 0);
}

static long sys_lstat(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_newfstatat, a[0], a[1], AT_SYMLINK_NOFOLLOW, 0);
}

static long sys_access(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_faccessat, a[0], a[1], 0, 0);
}

static long sys_readlink(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_readlinkat, a[0], a[1], a[2], 0);
}

static long sys_unlink(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_unlinkat, a[0], 0, 0, 0);
}

static long sys_rmdir(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_unlinkat, a[0], AT_REMOVEDIR, 0, 0);
}

static long sys_mkdir(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_mkdirat, a[0], a[1], 0, 0);
}

static long sys_mknod(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_mknodat, a[0], a[1], a[2], 0);
}

static long sys_rename(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_renameat2(t, (const uint64_t[6]){ (uint64_t)AT_FDCWD, a[0],
							(uint64_t)AT_FDCWD, a[1], 0, 0 });
}

static long sys_link(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_linkat(t, (const uint64_t[6]){ (uint64_t)AT_FDCWD, a[0],
						     (uint64_t)AT_FDCWD, a[1], 0, 0 });
}

static long sys_symlink(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_symlinkat(t, (const uint64_t[6]){ a[0], (uint64_t)AT_FDCWD, a[1], 0, 0, 0 });
}

static long sys_chmod(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_fchmodat, a[0], a[1], 0, 0);
}

static long sys_chown(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_fchownat, a[0], a[1], a[2], 0);
}

static long sys_lchown(struct sn_thread *t, const uint64_t a[6])
{
	return AT_CWD_CALL(sn_sys_fchownat, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW);
}

static long sys_pipe(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_pipe2(t, (const uint64_t[6]){ a[0], 0, 0, 0, 0, 0 });
}

static long sys_dup2(struct sn_thread *t, const uint64_t a[6])
{
	long host = sn_fd_get(&t->proc->fds, (long)a[0]);

	if (host < 0)
		return host;
	if (a[0] == a[1])
		return (long)a[1];
	return sn_sys_dup3(t, (const uint64_t[6]){ a[0], a[1], 0, 0, 0, 0 });
}

static long sys_poll(struct sn_thread *t, const uint64_t a[6])
{
	int ms = (int)a[2];
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

	return sn_poll(t, a[0], a[1], ms < 0 ? NULL : &ts);
}

static long sys_arch_prctl(struct sn_thread *t, const uint64_t a[6])
{
	uint64_t fs;
	int err;

	switch (a[0]) {
	case ARCH_SET_FS:
		return ptp_ctx_set_tls(t->ctx, a[1]);
	case ARCH_GET_FS:
		err = ptp_ctx_tls(t->ctx, &fs);
		if (err < 0)
			return err;
		return sn_copy_out(t->proc->mm, a[1], &fs, sizeof(fs));
	default:
		return -EINVAL;
	}
}

static long sys_getpgrp(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	return t->proc->pgid;
}

static long sys_fork(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	return sn_proc_fork(t, SIGCHLD, 0, 0, 0);
}

static long sys_vfork(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	return sn_proc_fork(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0);
}

static long sys_pause(struct sn_thread *t, const uint64_t a[6])
{
	(void)a;
	sn_proc_wait_signal(t);
	return -EINTR;
}

static long sys_time(struct sn_thread *t, const uint64_t a[6])
{
	time_t now = time(NULL);

	if (a[0] && sn_copy_out(t->proc->mm, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return (long)now;
}

long sn_arch_sys_clone(struct sn_thread *t, const uint64_t a[6])
{
	return sn_sys_clone(t, a[0], a[1], a[2], a[3], a[4]);
}

#define CALL(name, fn) { SYS_##name, { fn, #name, 0 } }
const struct sn_arch_syscall sn_arch_syscalls[] = {
	CALL(open, sys_open),
	CALL(creat, sys_creat),
	CALL(stat, sys_stat),
	CALL(lstat, sys_lstat),
	CALL(access, sys_access),
	CALL(readlink, sys_readlink),
	CALL(unlink, sys_unlink),
	CALL(rmdir, sys_rmdir),
	CALL(mkdir, sys_mkdir),
	CALL(mknod, sys_mknod),
	CALL(rename, sys_rename),
	CALL(link, sys_link),
	CALL(symlink, sys_symlink),
	CALL(chmod, sys_chmod),
	CALL(chown, sys_chown),
	CALL(lchown, sys_lchown),
	CALL(pipe, sys_pipe),
	CALL(dup2, sys_dup2),
	/* sn_poll waits on after a kick that brings no handler. */
	{ SYS_poll, { sys_poll, "poll", -EINTR } },
	CALL(arch_prctl, sys_arch_prctl),
	CALL(getpgrp, sys_getpgrp),
	CALL(time, sys_time),
	/* EINTR after any handler; an ignored signal does not end it. */
	{ SYS_pause, { sys_pause, "pause", SN_ERESTARTNOHAND } },
	CALL(alarm, sn_sys_alarm),
	CALL(fork, sys_fork),
	CALL(vfork, sys_vfork),
	{ -1, { NULL, NULL, 0 } },
};

extern const char sn_arch_blocking_begin[], sn_arch_blocking_end[], sn_arch_blocking_cancel[];

void sn_arch_blocking_cancel_point(void *ucontext)
{
	greg_t *ip = &((ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RIP];

	if ((uintptr_t)*ip >= (uintptr_t)sn_arch_blocking_begin &&
	    (uintptr_t)*ip < (uintptr_t)sn_arch_blocking_end)
		*ip = (greg_t)(uintptr_t)sn_arch_blocking_cancel;
}
