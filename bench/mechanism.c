/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mechanism family: one syscall round trip through each bare
 * interception mechanism, with nothing of the platform core (this is the
 * independent yardstick the core is judged against).
 *
 * Child-based mechanisms: a forked child loops on a raw syscall instruction;
 * this process is its tracer or supervisor.
 *   sysemu           PTRACE_SYSEMU, no register transfer at all
 *   sysemu_gpr       PTRACE_SYSEMU + get/set of the general registers
 *   sysemu_regs      PTRACE_SYSEMU + the faithful mode's transfers (x86_64:
 *                    SETREGSET NT_PRSTATUS + NT_X86_XSTATE before resuming,
 *                    GETREGSET of both after the stop; XSTATE size from CPUID
 *                    leaf 0xD)
 *   ptrace_syscall   PTRACE_SYSCALL: two stops per syscall; the syscall runs
 *                    natively, the tracer rewrites its result at the exit stop
 *   seccomp_trace    SECCOMP_RET_TRACE: one PTRACE_EVENT_SECCOMP stop; the
 *                    tracer skips the syscall, sets the result, PTRACE_CONT
 *   seccomp_unotify  SECCOMP_RET_USER_NOTIF: NOTIF_RECV / NOTIF_SEND
 *   seccomp_unotify_sync  the same with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
 *   inject           one injected syscall: SETREGS with PC on "syscall; int3"
 *                    in the child, PTRACE_CONT, the SIGTRAP, GETREGS
 * In-process mechanisms (a worker thread of this process runs the loop; its
 * SIGSYS handler writes the result into the ucontext):
 *   seccomp_trap     SECCOMP_RET_TRAP, filter installed on the worker thread
 *                    only (filters cannot be removed; the thread ends with
 *                    the benchmark, and the filter with it)
 *   sud              Syscall User Dispatch; the handler flips the selector
 *                    byte to ALLOW (so its sigreturn passes), the loop flips
 *                    it back to BLOCK before each syscall
 *
 * Proof of interception. The app side makes getpid and expects the sentinel
 * MECH_SENTINEL, which is above PID_MAX_LIMIT (so never a real pid) and not
 * an errno: a mechanism that did not intercept returns the pid. The child
 * counts mismatches and completed syscalls on a MAP_SHARED page that the
 * parent checks after every batch; any mismatch, or a count that differs
 * from the round trips the parent handled, ends the benchmark with an error.
 * mechanism/sysemu transfers no registers, so the app's result is whatever
 * the kernel leaves there; it proves interception another way: the child
 * loops on write(pipe, 1 byte) instead and counts completed calls. Every
 * stop must be a syscall stop (SIGTRAP|0x80), the child's count must equal
 * the stops the parent handled (one stop per syscall, which PTRACE_SYSCALL's
 * two stops or an untraced child would break), and the pipe must stay empty
 * (any write that ran natively would leave a byte in it).
 * mechanism/inject checks that the tracer reads back the child's pid and
 * that the PC stopped right after the syscall instruction.
 *
 * The child-based ones report tracer_cpu_ns and stub_cpu_ns (time on CPU
 * per round trip of this thread and of the child, schedstat), as the
 * switch family and the systrap mechanisms do; the in-process ones have a
 * single thread, on CPU for the whole round trip, and report none.
 *
 * Pinning: with --ptbench_pin=1 (the default) tracer and child, or the
 * worker thread, are pinned to one CPU (as the core does); the label says
 * which. The children never outlive this process: PR_SET_PDEATHSIG(SIGKILL),
 * PTRACE_O_EXITKILL where traced, and kill + reap at the end of each run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch/arch.h"
#include "bench.h"

/* Above PID_MAX_LIMIT (1 << 22) and not an errno: never a native result. */
#define MECH_SENTINEL 0x5e475e47L

/* Constants that Debian 12's headers (Linux 6.1 UAPI) may lack. */
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
#ifndef SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif
#ifndef PR_SET_SYSCALL_USER_DISPATCH
#define PR_SET_SYSCALL_USER_DISPATCH 59
#endif
#ifndef PR_SYS_DISPATCH_OFF
#define PR_SYS_DISPATCH_OFF 0
#define PR_SYS_DISPATCH_ON 1
#endif
#ifndef SYSCALL_DISPATCH_FILTER_ALLOW
#define SYSCALL_DISPATCH_FILTER_ALLOW 0
#define SYSCALL_DISPATCH_FILTER_BLOCK 1
#endif
#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif
#ifndef SYS_USER_DISPATCH
#define SYS_USER_DISPATCH 2
#endif

#ifdef PT_SYSEMU
#define MECH_PTRACE_SYSEMU PTRACE_SYSEMU
#else
#define MECH_PTRACE_SYSEMU 31 /* same value on x86_64 and arm64 */
#endif

enum mech_kind {
	MK_SYSEMU,
	MK_SYSEMU_GPR,
	MK_SYSEMU_REGS,
	MK_PTRACE_SYSCALL,
	MK_SECCOMP_TRACE,
	MK_UNOTIFY,
	MK_UNOTIFY_SYNC,
	MK_INJECT,
	MK_TRAP,
	MK_SUD,
};

struct mech {
	const char *name;
	enum mech_kind kind;
};

static bool kind_is_traced(enum mech_kind k)
{
	return k != MK_UNOTIFY && k != MK_UNOTIFY_SYNC && k != MK_TRAP && k != MK_SUD;
}

enum { MECH_BATCH = 32, INPROC_BATCH = 128 };

/* The page parent and child share. */
struct mech_shared {
	uint64_t done;     /* syscalls the child completed */
	uint64_t bad;      /* results that were not the sentinel */
	int64_t last_bad;  /* the last such result */
	int notify_fd;     /* the child's listener fd number */
	int err_step;      /* child set-up failure: which step, errno */
	int err_errno;
};

/* Stop statuses (status >> 8 of a WIFSTOPPED wait status). */
#define STOP_SYSCALL (SIGTRAP | 0x80)
#define STOP_SECCOMP (SIGTRAP | (PTRACE_EVENT_SECCOMP << 8))
#define STOP_TRAP SIGTRAP
#define STOP_SIGSTOP SIGSTOP

/* ---- the child ----------------------------------------------------------- */

static void __attribute__((noreturn)) child_fail(struct mech_shared *sh, int step)
{
	sh->err_errno = errno;
	sh->err_step = step;
	_exit(112);
}

/* getpid -> action (for this arch), everything else allowed. */
long bench_filter_getpid(uint32_t action, unsigned int flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, BENCH_ARCH_AUDIT, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };

	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
}

static void __attribute__((noreturn))
mech_child(enum mech_kind kind, struct mech_shared *sh, pid_t parent, int pipe_w)
{
	long self;

	bench_child_prologue(parent);
	self = syscall(SYS_getpid);
	if (kind == MK_UNOTIFY || kind == MK_UNOTIFY_SYNC) {
		long fd;

		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			child_fail(sh, 1);
		fd = bench_filter_getpid(SECCOMP_RET_USER_NOTIF, SECCOMP_FILTER_FLAG_NEW_LISTENER);
		if (fd < 0)
			child_fail(sh, 2);
		sh->notify_fd = (int)fd;
		/* Group stop: the parent takes the fd, then SIGCONT. */
		syscall(SYS_kill, self, SIGSTOP);
	} else {
		if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
			child_fail(sh, 3);
		if (kind == MK_SECCOMP_TRACE) {
			if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
				child_fail(sh, 4);
			if (bench_filter_getpid(SECCOMP_RET_TRACE, 0) < 0)
				child_fail(sh, 5);
		}
		/* A plain kill syscall, not raise(): nothing may follow the stop
		 * but the loop's own syscall (SYSEMU would swallow it). */
		syscall(SYS_kill, self, SIGSTOP);
		if (kind == MK_INJECT)
			_exit(113); /* unreachable: the tracer moves the PC */
	}

	if (kind == MK_SYSEMU) {
		static const char byte = 'x';

		for (;;) {
			bench_arch_syscall3(SYS_write, pipe_w, (long)&byte, 1);
			__atomic_store_n(&sh->done, sh->done + 1, __ATOMIC_RELEASE);
		}
	}
	for (;;) {
		long r = bench_arch_syscall3(SYS_getpid, 0, 0, 0);

		if (r != MECH_SENTINEL) {
			__atomic_store_n(&sh->last_bad, r, __ATOMIC_RELAXED);
			__atomic_store_n(&sh->bad, sh->bad + 1, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&sh->done, sh->done + 1, __ATOMIC_RELEASE);
	}
}

/* ---- the parent's side of the child-based mechanisms --------------------- */

struct mech_run {
	enum mech_kind kind;
	pid_t pid;
	struct mech_shared *sh;
	int pipe_r, pipe_w;
	int notify_fd;
	bench_gprs gpr, base;
	struct bench_regset rs[BENCH_MAX_REGSETS];
	struct iovec iov[BENCH_MAX_REGSETS];
	int nrs;
	size_t regset_bytes;
	char msg[256];
};

static int run_fail(struct mech_run *r, const char *what)
{
	snprintf(r->msg, sizeof(r->msg), "%s: %s", what, strerror(errno));
	return -1;
}

/* Waits for the child's next stop and checks it is the expected one. */
static int wait_stop(struct mech_run *r, int expect)
{
	int status = 0;
	pid_t w;

	do
		w = waitpid(r->pid, &status, __WALL);
	while (w < 0 && errno == EINTR);
	if (w != r->pid)
		return run_fail(r, "waitpid");
	if (WIFSTOPPED(status) && (status >> 8) == expect)
		return 0;
	if (WIFEXITED(status) && r->sh->err_step)
		snprintf(r->msg, sizeof(r->msg), "child set-up step %d failed: %s",
			 r->sh->err_step, strerror(r->sh->err_errno));
	else
		snprintf(r->msg, sizeof(r->msg), "unexpected wait status 0x%x (expected a 0x%x stop)",
			 status, expect);
	if (!WIFSTOPPED(status))
		r->pid = -1; /* gone: nothing to reap */
	return -1;
}

static int resume(struct mech_run *r, int request, const char *name)
{
	if (ptrace(request, r->pid, NULL, NULL) < 0)
		return run_fail(r, name);
	return 0;
}

static int regsets_transfer(struct mech_run *r, int request)
{
	for (int i = 0; i < r->nrs; i++) {
		if (ptrace(request, r->pid, (void *)(long)r->rs[i].type, &r->iov[i]) < 0) {
			snprintf(r->msg, sizeof(r->msg), "%s %s (%zu bytes): %s",
				 request == PTRACE_GETREGSET ? "GETREGSET" : "SETREGSET",
				 r->rs[i].name, r->iov[i].iov_len, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int check_nr(struct mech_run *r, const bench_gprs *g)
{
	if (bench_arch_gprs_nr(g) == SYS_getpid)
		return 0;
	snprintf(r->msg, sizeof(r->msg), "stopped for syscall %ld, not getpid", bench_arch_gprs_nr(g));
	return -1;
}

/* Brings a new child to the state each round trip starts from. */
static int prepare(struct mech_run *r)
{
	long opts = PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD;
	int status = 0;

	if (!kind_is_traced(r->kind)) {
		/* seccomp user notification: the child stopped itself after
		 * installing the filter; copy its listener fd. */
		int pidfd;
		long fd;

		if (waitpid(r->pid, &status, WUNTRACED) != r->pid || !WIFSTOPPED(status)) {
			if (WIFEXITED(status) && r->sh->err_step)
				snprintf(r->msg, sizeof(r->msg), "child set-up step %d failed: %s",
					 r->sh->err_step, strerror(r->sh->err_errno));
			else
				snprintf(r->msg, sizeof(r->msg), "child did not stop (status 0x%x)",
					 status);
			return -1;
		}
		pidfd = (int)syscall(SYS_pidfd_open, r->pid, 0);
		if (pidfd < 0)
			return run_fail(r, "pidfd_open");
		fd = syscall(SYS_pidfd_getfd, pidfd, r->sh->notify_fd, 0);
		close(pidfd);
		if (fd < 0)
			return run_fail(r, "pidfd_getfd (the listener fd)");
		r->notify_fd = (int)fd;
		if (r->kind == MK_UNOTIFY_SYNC &&
		    ioctl(r->notify_fd, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			  SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) < 0) {
			snprintf(r->msg, sizeof(r->msg),
				 "SECCOMP_IOCTL_NOTIF_SET_FLAGS(SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP): "
				 "%s (the kernel lacks it; Linux 6.6+ has it)", strerror(errno));
			return -1;
		}
		if (kill(r->pid, SIGCONT) < 0)
			return run_fail(r, "kill SIGCONT");
		return 0;
	}

	if (wait_stop(r, STOP_SIGSTOP) < 0)
		return -1;
	if (r->kind == MK_SECCOMP_TRACE)
		opts |= PTRACE_O_TRACESECCOMP;
	if (ptrace(PTRACE_SETOPTIONS, r->pid, NULL, (void *)opts) < 0)
		return run_fail(r, "PTRACE_SETOPTIONS");

	switch (r->kind) {
	case MK_SYSEMU:
	case MK_SYSEMU_GPR:
		if (resume(r, MECH_PTRACE_SYSEMU, "PTRACE_SYSEMU") < 0)
			return -1;
		return wait_stop(r, STOP_SYSCALL);
	case MK_SYSEMU_REGS:
		r->nrs = bench_arch_faithful_regsets(r->rs);
		r->regset_bytes = 0;
		for (int i = 0; i < r->nrs; i++) {
			r->iov[i].iov_base = calloc(1, r->rs[i].size);
			r->iov[i].iov_len = r->rs[i].size;
			if (!r->iov[i].iov_base)
				return run_fail(r, "calloc");
			r->regset_bytes += r->rs[i].size;
		}
		if (resume(r, MECH_PTRACE_SYSEMU, "PTRACE_SYSEMU") < 0 ||
		    wait_stop(r, STOP_SYSCALL) < 0 || regsets_transfer(r, PTRACE_GETREGSET) < 0)
			return -1;
		for (int i = 0; i < r->nrs; i++) {
			if (r->iov[i].iov_len != r->rs[i].size) {
				snprintf(r->msg, sizeof(r->msg),
					 "GETREGSET %s moved %zu bytes, expected %zu", r->rs[i].name,
					 r->iov[i].iov_len, r->rs[i].size);
				return -1;
			}
		}
		return 0;
	case MK_PTRACE_SYSCALL:
		if (resume(r, PTRACE_SYSCALL, "PTRACE_SYSCALL") < 0)
			return -1;
		return wait_stop(r, STOP_SYSCALL); /* the first entry stop */
	case MK_SECCOMP_TRACE:
		if (resume(r, PTRACE_CONT, "PTRACE_CONT") < 0)
			return -1;
		return wait_stop(r, STOP_SECCOMP);
	case MK_INJECT:
		if (bench_arch_get_gprs(r->pid, &r->base) < 0)
			return run_fail(r, "get registers");
		return 0;
	default:
		snprintf(r->msg, sizeof(r->msg), "internal: kind %d is not child-based", r->kind);
		return -1;
	}
}

/* One syscall round trip, from one stop (or blocked notification) to the
 * next. */
static int round_trip(struct mech_run *r)
{
	switch (r->kind) {
	case MK_SYSEMU:
		if (resume(r, MECH_PTRACE_SYSEMU, "PTRACE_SYSEMU") < 0)
			return -1;
		return wait_stop(r, STOP_SYSCALL);
	case MK_SYSEMU_GPR:
		if (bench_arch_get_gprs(r->pid, &r->gpr) < 0)
			return run_fail(r, "get registers");
		if (check_nr(r, &r->gpr) < 0)
			return -1;
		bench_arch_gprs_set_result(&r->gpr, MECH_SENTINEL);
		if (bench_arch_set_gprs(r->pid, &r->gpr) < 0)
			return run_fail(r, "set registers");
		if (resume(r, MECH_PTRACE_SYSEMU, "PTRACE_SYSEMU") < 0)
			return -1;
		return wait_stop(r, STOP_SYSCALL);
	case MK_SYSEMU_REGS: {
		bench_gprs *g = r->iov[0].iov_base; /* NT_PRSTATUS comes first */

		if (check_nr(r, g) < 0)
			return -1;
		bench_arch_gprs_set_result(g, MECH_SENTINEL);
		if (regsets_transfer(r, PTRACE_SETREGSET) < 0 ||
		    resume(r, MECH_PTRACE_SYSEMU, "PTRACE_SYSEMU") < 0 ||
		    wait_stop(r, STOP_SYSCALL) < 0)
			return -1;
		return regsets_transfer(r, PTRACE_GETREGSET);
	}
	case MK_PTRACE_SYSCALL:
		/* From the entry stop: getpid runs natively, then the exit stop
		 * rewrites its result, then on to the next entry stop. */
		if (resume(r, PTRACE_SYSCALL, "PTRACE_SYSCALL") < 0 ||
		    wait_stop(r, STOP_SYSCALL) < 0)
			return -1;
		if (bench_arch_set_result_at_exit(r->pid, MECH_SENTINEL) < 0)
			return run_fail(r, "set the result at the exit stop");
		if (resume(r, PTRACE_SYSCALL, "PTRACE_SYSCALL") < 0)
			return -1;
		return wait_stop(r, STOP_SYSCALL);
	case MK_SECCOMP_TRACE:
		if (bench_arch_skip_with_result(r->pid, MECH_SENTINEL) < 0)
			return run_fail(r, "skip the syscall and set its result");
		if (resume(r, PTRACE_CONT, "PTRACE_CONT") < 0)
			return -1;
		return wait_stop(r, STOP_SECCOMP);
	case MK_UNOTIFY:
	case MK_UNOTIFY_SYNC: {
		struct seccomp_notif req;
		struct seccomp_notif_resp resp;

		memset(&req, 0, sizeof(req)); /* NOTIF_RECV wants it zeroed */
		if (ioctl(r->notify_fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0)
			return run_fail(r, "SECCOMP_IOCTL_NOTIF_RECV");
		if (req.pid != (uint32_t)r->pid || req.data.nr != SYS_getpid) {
			snprintf(r->msg, sizeof(r->msg), "notification from pid %u for syscall %d",
				 req.pid, req.data.nr);
			return -1;
		}
		memset(&resp, 0, sizeof(resp));
		resp.id = req.id;
		resp.val = MECH_SENTINEL;
		if (ioctl(r->notify_fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0)
			return run_fail(r, "SECCOMP_IOCTL_NOTIF_SEND");
		return 0;
	}
	case MK_INJECT:
		r->gpr = r->base;
		bench_arch_gprs_set_inject(&r->gpr, SYS_getpid, (uintptr_t)bench_arch_inject_site);
		if (bench_arch_set_gprs(r->pid, &r->gpr) < 0)
			return run_fail(r, "set registers");
		if (resume(r, PTRACE_CONT, "PTRACE_CONT") < 0 || wait_stop(r, STOP_TRAP) < 0)
			return -1;
		if (bench_arch_get_gprs(r->pid, &r->gpr) < 0)
			return run_fail(r, "get registers");
		if (bench_arch_gprs_result(&r->gpr) != r->pid ||
		    bench_arch_gprs_pc(&r->gpr) != (uintptr_t)bench_arch_inject_site + BENCH_ARCH_INJECT_TRAP_PC_OFFSET) {
			snprintf(r->msg, sizeof(r->msg),
				 "injected getpid returned %ld (child %d), stopped at pc %#lx",
				 bench_arch_gprs_result(&r->gpr), (int)r->pid, (unsigned long)bench_arch_gprs_pc(&r->gpr));
			return -1;
		}
		return 0;
	default:
		snprintf(r->msg, sizeof(r->msg), "internal: kind %d is not child-based", r->kind);
		return -1;
	}
}

/* After each batch: the app saw the sentinel, once per round trip. */
static int verify(struct mech_run *r, uint64_t total)
{
	uint64_t bad = __atomic_load_n(&r->sh->bad, __ATOMIC_ACQUIRE);
	uint64_t done = __atomic_load_n(&r->sh->done, __ATOMIC_ACQUIRE);
	int queued = 0;

	if (r->kind == MK_INJECT)
		return 0; /* checked per round trip */
	if (bad) {
		snprintf(r->msg, sizeof(r->msg),
			 "not intercepted: the app got %llu results that are not the sentinel "
			 "(last %lld)", (unsigned long long)bad,
			 (long long)__atomic_load_n(&r->sh->last_bad, __ATOMIC_RELAXED));
		return -1;
	}
	/* A notification's child may not have counted the last reply yet. */
	if (done != total &&
	    !((r->kind == MK_UNOTIFY || r->kind == MK_UNOTIFY_SYNC) && done + 1 == total)) {
		snprintf(r->msg, sizeof(r->msg),
			 "the app completed %llu syscalls, the interceptor handled %llu",
			 (unsigned long long)done, (unsigned long long)total);
		return -1;
	}
	if (r->kind == MK_SYSEMU) {
		if (ioctl(r->pipe_r, FIONREAD, &queued) < 0)
			return run_fail(r, "FIONREAD");
		if (queued) {
			snprintf(r->msg, sizeof(r->msg),
				 "not intercepted: %d bytes of the app's write() reached the pipe",
				 queued);
			return -1;
		}
	}
	return 0;
}

static void bm_child(gb_state *st, const struct mech *m)
{
	struct bench_pinning pin = { 0 };
	struct mech_run *r;
	char label[64];
	pid_t parent = getpid(), self = (pid_t)syscall(SYS_gettid);
	uint64_t total = 0, t0 = 0, t1 = 0, cpu0[2] = { 0 }, cpu1[2] = { 0 };
	int pfd[2] = { -1, -1 };
	bool ok = false;

	/* mech_run holds a few KiB of regs: keep it off the stack. */
	r = calloc(1, sizeof(*r));
	if (!r) {
		gb_skip_with_error(st, "calloc failed");
		return;
	}
	r->kind = m->kind;
	r->pid = -1;
	r->notify_fd = -1;
	r->pipe_r = r->pipe_w = -1;
	r->sh = MAP_FAILED;

	/* A fork inherits the pin: tracer and child share the CPU. */
	if (bench_pin_self_first_cpu(&pin, label, sizeof(label), r->msg, sizeof(r->msg)) < 0)
		goto out;
	r->sh = mmap(NULL, sizeof(*r->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		     -1, 0);
	if (r->sh == MAP_FAILED) {
		run_fail(r, "mmap shared page");
		goto out;
	}
	if (m->kind == MK_SYSEMU) {
		if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0) {
			run_fail(r, "pipe2");
			goto out;
		}
		r->pipe_r = pfd[0];
		r->pipe_w = pfd[1];
	}
	r->pid = fork();
	if (r->pid < 0) {
		run_fail(r, "fork");
		goto out;
	}
	if (r->pid == 0)
		mech_child(m->kind, r->sh, parent, r->pipe_w);
	if (prepare(r) < 0)
		goto out;

	cpu0[0] = bench_thread_cpu_ns(parent, self);
	cpu0[1] = bench_thread_cpu_ns(r->pid, r->pid);
	t0 = bench_now_ns();
	while (gb_keep_running_batch(st, MECH_BATCH)) {
		for (int i = 0; i < MECH_BATCH; i++)
			if (round_trip(r) < 0)
				goto out_loop;
		total += MECH_BATCH;
		if (verify(r, total) < 0)
			goto out_loop;
	}
	ok = true;
out_loop:
	t1 = bench_now_ns();
	cpu1[0] = bench_thread_cpu_ns(parent, self);
	cpu1[1] = bench_thread_cpu_ns(r->pid, r->pid);
out:
	bench_reap(r->pid);
	bench_unpin_self(&pin);
	if (r->notify_fd >= 0)
		close(r->notify_fd);
	if (pfd[0] >= 0) {
		close(pfd[0]);
		close(pfd[1]);
	}
	for (int i = 0; i < r->nrs; i++)
		free(r->iov[i].iov_base);
	if (r->sh != MAP_FAILED)
		munmap(r->sh, sizeof(*r->sh));
	if (!ok) {
		gb_skip_with_error(st, r->msg[0] ? r->msg : "failed");
	} else {
		if (m->kind == MK_SYSEMU_REGS)
			gb_counter(st, "regset_bytes", (double)r->regset_bytes, GB_COUNTER_DEFAULT);
		bench_finish(st, t1 - t0, total, label);
		bench_cpu_counters(st, cpu0, cpu1, total);
	}
	free(r);
}

/* ---- in-process mechanisms: SECCOMP_RET_TRAP and Syscall User Dispatch -- */

static volatile char sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
static volatile int inproc_code;              /* expected si_code */
static volatile unsigned long inproc_anomaly; /* SIGSYS that was not ours */

static void sigsys_handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	/* SUD: let this handler's own syscalls and its sigreturn through.
	 * Harmless for SECCOMP_RET_TRAP. */
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (si->si_code != inproc_code || si->si_syscall != SYS_getpid)
		inproc_anomaly++;
	bench_arch_uc_set_result(ucv, MECH_SENTINEL);
}

struct inproc {
	gb_state *st;
	const struct mech *m;
	int cpu;
	bool ok;
	uint64_t total, t0, t1;
	char msg[256];
};

static void *inproc_worker(void *arg)
{
	struct inproc *w = arg;
	bool sud = w->m->kind == MK_SUD;
	long bad = 0;
	int rc;

	if (w->cpu >= 0 && (rc = bench_pin(0, w->cpu)) < 0) {
		snprintf(w->msg, sizeof(w->msg), "pin to cpu%d: %s", w->cpu, strerror(-rc));
		return NULL;
	}
	if (sud) {
		sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
		if (prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_ON, 0, 0,
			  &sud_selector) < 0) {
			snprintf(w->msg, sizeof(w->msg),
				 "prctl(PR_SET_SYSCALL_USER_DISPATCH): %s (%s)", strerror(errno),
				 errno == EINVAL ? "Syscall User Dispatch unsupported by this kernel"
						 : "cannot enable Syscall User Dispatch");
			return NULL;
		}
	} else {
		/* This thread only (no TSYNC); it ends with the benchmark. */
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
		    bench_filter_getpid(SECCOMP_RET_TRAP, 0) < 0) {
			snprintf(w->msg, sizeof(w->msg), "install the SECCOMP_RET_TRAP filter: %s",
				 strerror(errno));
			return NULL;
		}
	}

	w->t0 = bench_now_ns();
	while (gb_keep_running_batch(w->st, INPROC_BATCH)) {
		if (sud) {
			for (int i = 0; i < INPROC_BATCH; i++) {
				sud_selector = SYSCALL_DISPATCH_FILTER_BLOCK;
				bad |= bench_arch_syscall3(SYS_getpid, 0, 0, 0) ^ MECH_SENTINEL;
			}
		} else {
			for (int i = 0; i < INPROC_BATCH; i++)
				bad |= bench_arch_syscall3(SYS_getpid, 0, 0, 0) ^ MECH_SENTINEL;
		}
		w->total += INPROC_BATCH;
		if (bad || inproc_anomaly)
			break;
	}
	w->t1 = bench_now_ns();
	sud_selector = SYSCALL_DISPATCH_FILTER_ALLOW;
	if (sud)
		prctl(PR_SET_SYSCALL_USER_DISPATCH, PR_SYS_DISPATCH_OFF, 0, 0, 0);
	if (bad)
		snprintf(w->msg, sizeof(w->msg), "not intercepted: getpid did not return the sentinel");
	else if (inproc_anomaly)
		snprintf(w->msg, sizeof(w->msg), "%lu SIGSYS that were not the expected getpid trap",
			 inproc_anomaly);
	else
		w->ok = true;
	return NULL;
}

static void bm_inproc(gb_state *st, const struct mech *m)
{
	struct inproc w = { .st = st, .m = m, .cpu = -1 };
	struct sigaction sa, old;
	char label[64] = "unpinned";
	pthread_t th;
	int rc;

	if (bench_config.pin) {
		w.cpu = bench_first_allowed_cpu();
		if (w.cpu < 0) {
			snprintf(w.msg, sizeof(w.msg), "sched_getaffinity: %s", strerror(errno));
			gb_skip_with_error(st, w.msg);
			return;
		}
		snprintf(label, sizeof(label), "pinned cpu%d", w.cpu);
	}
	inproc_code = m->kind == MK_SUD ? SYS_USER_DISPATCH : SYS_SECCOMP;
	inproc_anomaly = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sigsys_handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, &old) < 0) {
		snprintf(w.msg, sizeof(w.msg), "sigaction SIGSYS: %s", strerror(errno));
		gb_skip_with_error(st, w.msg);
		return;
	}
	/* The keep-running loop runs on the worker while this thread waits in
	 * pthread_join: one thread at a time touches the benchmark state. */
	rc = pthread_create(&th, NULL, inproc_worker, &w);
	if (rc == 0)
		pthread_join(th, NULL);
	else
		snprintf(w.msg, sizeof(w.msg), "pthread_create: %s", strerror(rc));
	sigaction(SIGSYS, &old, NULL);
	if (!w.ok) {
		gb_skip_with_error(st, w.msg[0] ? w.msg : "failed");
		return;
	}
	bench_finish(st, w.t1 - w.t0, w.total, label);
}

static void bm_mechanism(gb_state *st, void *arg)
{
	const struct mech *m = arg;

	if (m->kind == MK_TRAP || m->kind == MK_SUD)
		bm_inproc(st, m);
	else
		bm_child(st, m);
}

void bench_register_mechanism(void)
{
	static const struct mech mechs[] = {
		{ "mechanism/sysemu", MK_SYSEMU },
		{ "mechanism/sysemu_gpr", MK_SYSEMU_GPR },
		{ "mechanism/sysemu_regs", MK_SYSEMU_REGS },
		{ "mechanism/ptrace_syscall", MK_PTRACE_SYSCALL },
		{ "mechanism/seccomp_trace", MK_SECCOMP_TRACE },
		{ "mechanism/seccomp_unotify", MK_UNOTIFY },
		{ "mechanism/seccomp_unotify_sync", MK_UNOTIFY_SYNC },
		{ "mechanism/seccomp_trap", MK_TRAP },
		{ "mechanism/sud", MK_SUD },
		{ "mechanism/inject", MK_INJECT },
	};

	for (size_t i = 0; i < sizeof(mechs) / sizeof(mechs[0]); i++)
		gb_unit(gb_use_real_time(gb_register(mechs[i].name, bm_mechanism,
						     (void *)&mechs[i])), 'u');
}
