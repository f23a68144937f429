/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptbench-probe: what this kernel offers a ptrace platform, as JSON.
 *
 * The platform's own capabilities (ptp_caps) first, then every kernel
 * feature a ptrace sandbox may lean on, each decided by trying it (in a
 * throw-away child where it could hurt this process), never by the kernel
 * version: a backport or a config option changes the answer. A feature is
 * true, false, or a short string saying how it failed when that matters
 * (EPERM vs. EINVAL). The guest facts that change instruction path lengths
 * (mitigations, clocksource, preemption model) are recorded too.
 *
 * Every child is killed and reaped before the probe goes on: nothing is
 * left behind, whatever fails.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/arch.h"
#include "ptplat.h"

/* Newer than the headers of Debian 12: the values are the kernel's ABI. */
#ifndef PTRACE_SET_SYSCALL_INFO
#define PTRACE_SET_SYSCALL_INFO 0x4212
#endif
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#define PR_SYS_DISPATCH_OFF 0
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5)
#endif
#ifndef SECCOMP_FILTER_FLAG_TSYNC_ESRCH
#define SECCOMP_FILTER_FLAG_TSYNC_ESRCH (1UL << 4)
#endif

/* A raw getpid the tracee makes at a known point (glibc caches nothing
 * for getpid, but the raw form keeps libc out of the stops). */
static long raw_getpid(void)
{
	return syscall(SYS_getpid);
}

/* errno_word ERR: "ok" for 0, else the errno's symbolic name if known. */
static const char *errno_word(int err)
{
	switch (err) {
	case 0: return "ok";
	case EPERM: return "EPERM";
	case EINVAL: return "EINVAL";
	case EIO: return "EIO";
	case ENOSYS: return "ENOSYS";
	case ENODEV: return "ENODEV";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case ENOTTY: return "ENOTTY";
	case EBUSY: return "EBUSY";
	default: return "other";
	}
}

/* reap PID: SIGKILL it and wait for it (the probe leaves nothing behind). */
static void reap(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
		;
}

/* child_status FN: run FN in a forked child, return its exit status
 * (-1 if it died by a signal or could not be forked). For tests that may
 * kill or change the process (a filter, an unmapped vdso, int 0x80). */
static int child_status(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn());
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			reap(pid);
			return -1;
		}
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A traced child that stops itself, then makes raw getpid calls. */
static void tracee_body(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		_exit(1);
	syscall(SYS_kill, raw_getpid(), SIGSTOP);
	for (;;)
		raw_getpid();
}

/* ptrace_syscall_info_probe OUT: PTRACE_GET_SYSCALL_INFO and
 * PTRACE_SET_SYSCALL_INFO at a syscall-entry stop. SET writes back what
 * GET read: a kernel with the request accepts it unchanged. */
static void ptrace_syscall_info_probe(json_t *out)
{
	unsigned char info[256];
	pid_t pid = fork();
	long n;
	int st, err_get = ENOSYS, err_set = ENOSYS;

	if (pid < 0)
		goto done;
	if (pid == 0)
		tracee_body();
	if (waitpid(pid, &st, 0) != pid || !WIFSTOPPED(st))
		goto done;
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL) < 0)
		goto done;
	/* The first stop after the SIGSTOP is the kill's exit, then getpid's
	 * entry: go on until an entry is seen. */
	for (int i = 0; i < 4; i++) {
		if (ptrace(PTRACE_SYSCALL, pid, 0, 0) < 0 || waitpid(pid, &st, 0) != pid ||
		    !WIFSTOPPED(st) || WSTOPSIG(st) != (SIGTRAP | 0x80))
			goto done;
		memset(info, 0, sizeof(info));
		n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), info);
		err_get = n < 0 ? errno : 0;
		if (n < 0)
			goto done;
		if (info[0] == 1 /* PTRACE_SYSCALL_INFO_ENTRY */) {
			/* The size is the buffer's, not GET's answer: the kernel
			 * wants at least its whole struct (flags, reserved and
			 * all, zero here). */
			err_set = ptrace(PTRACE_SET_SYSCALL_INFO, pid, (void *)sizeof(info), info) < 0
					  ? errno
					  : 0;
			break;
		}
	}
done:
	reap(pid);
	json_object_set_new(out, "ptrace_get_syscall_info", json_boolean(err_get == 0));
	json_object_set_new(out, "ptrace_set_syscall_info", json_boolean(err_set == 0));
	if (err_set != 0)
		json_object_set_new(out, "ptrace_set_syscall_info_error",
				    json_string(errno_word(err_set)));
}

/* ptrace_seize_probe OUT: PTRACE_SEIZE with PTRACE_O_EXITKILL, then
 * PTRACE_INTERRUPT: a PTRACE_EVENT_STOP must follow. */
static void ptrace_seize_probe(json_t *out)
{
	bool exitkill = false, seize = false, interrupt = false;
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (pid < 0)
		goto done;
	if (ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_EXITKILL) == 0) {
		seize = exitkill = true;
	} else if (ptrace(PTRACE_SEIZE, pid, 0, 0) == 0) {
		seize = true;
	} else {
		goto done;
	}
	if (ptrace(PTRACE_INTERRUPT, pid, 0, 0) == 0 && waitpid(pid, &st, __WALL) == pid &&
	    WIFSTOPPED(st) && (st >> 16) == PTRACE_EVENT_STOP)
		interrupt = true;
done:
	reap(pid);
	json_object_set_new(out, "ptrace_seize", json_boolean(seize));
	json_object_set_new(out, "ptrace_interrupt", json_boolean(interrupt));
	json_object_set_new(out, "ptrace_o_exitkill", json_boolean(exitkill));
}

/* In a child: 0 listener works and takes the sync wake-up flag, 1 listener
 * works without it, 2 no listener. */
static int notify_child(void)
{
	/* An allow-all filter: all a listener needs to be installed. */
	struct sock_filter insn = BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = { .len = 1, .filter = &insn };
	int fd;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return 2;
	fd = (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
			  SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
	if (fd < 0)
		return 2;
	if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0)
		return 1;
	return 0;
}

/* seccomp_probe OUT: user notification and its flags, the filter flags
 * (each alone: EFAULT for the NULL program means the kernel got past the
 * flag check, EINVAL that it does not know the flag), and the actions the
 * kernel lists. */
static void seccomp_probe(json_t *out)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} flags[] = {
		{ "tsync", SECCOMP_FILTER_FLAG_TSYNC },
		{ "log", SECCOMP_FILTER_FLAG_LOG },
		{ "spec_allow", SECCOMP_FILTER_FLAG_SPEC_ALLOW },
		{ "new_listener", SECCOMP_FILTER_FLAG_NEW_LISTENER },
		{ "tsync_esrch", SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH },
		{ "wait_killable_recv",
		  SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV },
	};
	json_t *fl = json_object();
	char line[512] = "";
	FILE *f;
	int st = child_status(notify_child);

	json_object_set_new(out, "seccomp_user_notif", json_boolean(st == 0 || st == 1));
	json_object_set_new(out, "seccomp_user_notif_sync_wakeup", json_boolean(st == 0));
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		long rc = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags[i].flags, NULL);

		json_object_set_new(fl, flags[i].name, json_boolean(rc < 0 && errno == EFAULT));
	}
	json_object_set_new(out, "seccomp_filter_flags", fl);
	f = fopen("/proc/sys/kernel/seccomp/actions_avail", "re");
	if (f) {
		if (!fgets(line, sizeof(line), f))
			line[0] = 0;
		fclose(f);
	}
	line[strcspn(line, "\n")] = 0;
	json_object_set_new(out, "seccomp_actions", f ? json_string(line) : json_null());
}

/* In a child: unmap the [vdso]; 0 done, 1 EPERM (sealed system mappings),
 * 2 another error, 3 no [vdso] found. */
static int vdso_unmap_child(void)
{
	unsigned long lo, hi;
	char line[512];
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return 2;
	while (fgets(line, sizeof(line), f)) {
		if (!strstr(line, "[vdso]") || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		fclose(f);
		if (syscall(SYS_munmap, lo, hi - lo) == 0)
			return 0;
		return errno == EPERM ? 1 : 2;
	}
	fclose(f);
	return 3;
}

static const char *vdso_unmap_word(int st)
{
	switch (st) {
	case 0: return "ok";
	case 1: return "EPERM (sealed system mappings)";
	case 3: return "no vdso";
	default: return "error";
	}
}

/* In a child: turn Syscall User Dispatch off, which any kernel with it
 * accepts (EINVAL without it). */
static int sud_child(void)
{
	return prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0) == 0 ? 0 : 1;
}

/* read_line PATH: its first line without the newline, or NULL. */
static json_t *read_line(const char *path)
{
	char line[512];
	FILE *f = fopen(path, "re");

	if (!f)
		return json_null();
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	line[strcspn(line, "\n")] = 0;
	return json_string(line);
}

/* mitigations: every /sys/devices/system/cpu/vulnerabilities/ file. */
static json_t *mitigations(void)
{
	const char *dir = "/sys/devices/system/cpu/vulnerabilities";
	json_t *o = json_object();
	struct dirent *e;
	char path[512];
	DIR *d = opendir(dir);

	if (!d)
		return o;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		json_object_set_new(o, e->d_name, read_line(path));
	}
	closedir(d);
	return o;
}

/* ia32_syscalls: from ptp_caps, read before the platform was closed. */
static void kernel_probe(json_t *o, bool ia32_syscalls)
{
	struct utsname u;
	pid_t pid;
	int fd;

	uname(&u);
	json_object_set_new(o, "kernel", json_string(u.release));
	json_object_set_new(o, "kernel_build", json_string(u.version));
	json_object_set_new(o, "arch", json_string(u.machine));
	json_object_set_new(o, "preempt_rt", json_boolean(strstr(u.version, "PREEMPT_RT") != NULL));
	json_object_set_new(o, "online_cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
	json_object_set_new(o, "clocksource",
			    read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource"));
	json_object_set_new(o, "yama_ptrace_scope", read_line("/proc/sys/kernel/yama/ptrace_scope"));
	json_object_set_new(o, "mitigations", mitigations());
	json_object_set_new(o, "syscall_user_dispatch", json_boolean(child_status(sud_child) == 0));
	json_object_set_new(o, "vdso_unmap", json_string(vdso_unmap_word(child_status(vdso_unmap_child))));
	/* pidfd: death detection of a stub without a wait (Linux 5.3). */
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	fd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	json_object_set_new(o, "pidfd_open", json_boolean(fd >= 0));
	if (fd >= 0)
		close(fd);
	reap(pid);
	ptrace_syscall_info_probe(o);
	ptrace_seize_probe(o);
	seccomp_probe(o);
	af_probe_arch(o, ia32_syscalls);
}

int main(int argc, char **argv)
{
	struct ptp_platform *p;
	const struct ptp_caps *c;
	json_t *o;
	char hex[32];
	bool ia32_syscalls;
	int rc;

	if (argc > 1) {
		fprintf(stderr, "ptbench-probe: takes no arguments (got '%s')\n", argv[1]);
		return 2;
	}
	rc = ptp_open(NULL, &p);
	if (rc < 0) {
		fprintf(stderr, "ptbench-probe: cannot open the platform: %s (%s)\n",
			strerror(-rc), ptp_open_error());
		return 1;
	}
	c = ptp_caps(p);
	ia32_syscalls = c->ia32_syscalls;
	o = json_object();
	json_object_set_new(o, "sysemu", json_boolean(c->sysemu));
	json_object_set_new(o, "seccomp_after_ptrace", json_boolean(c->seccomp_after_ptrace));
	json_object_set_new(o, "cpuid_faulting", json_boolean(c->cpuid_faulting));
	json_object_set_new(o, "syscall_info", json_boolean(c->syscall_info));
	json_object_set_new(o, "vsyscall", json_boolean(c->vsyscall));
	json_object_set_new(o, "fpstate_size", json_integer((json_int_t)c->fpstate_size));
	/* The defaults every result was produced with unless it says otherwise. */
	json_object_set_new(o, "default_mode",
			    json_string(ptp_mode_name(ptp_options(p)->mode)));
	json_object_set_new(o, "default_pinning", json_boolean(ptp_options(p)->pin));
	json_object_set_new(o, "backend", json_string(ptp_backend_name(c->backend)));
	snprintf(hex, sizeof(hex), "%#lx", (unsigned long)ptp_max_user_address(p));
	json_object_set_new(o, "stub_start", json_string(hex));
	json_object_set_new(o, "max_user_address", json_string(hex));
	snprintf(hex, sizeof(hex), "%#lx", (unsigned long)ptp_min_user_address(p));
	json_object_set_new(o, "min_user_address", json_string(hex));
	ptp_close(p);
	kernel_probe(o, ia32_syscalls);
	rc = json_dumpf(o, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (rc < 0 || puts("") < 0) {
		fprintf(stderr, "ptbench-probe: cannot write the JSON to stdout\n");
		return 1;
	}
	return 0;
}
