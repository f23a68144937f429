/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transport, the core's lowest layer above the arch: ptrace requests,
 * waits, injection at the stub's syscall instruction, exit detection. It
 * knows the platform's stub addresses and nothing of the layers above.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "stub-abi.h"

static __thread char open_error[256];

void ptp_set_open_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(open_error, sizeof(open_error), fmt, ap);
	va_end(ap);
}

PTP_EXPORT const char *ptp_open_error(void)
{
	return open_error[0] ? open_error : "no error";
}

/* In a multithreaded tracer every wait names its tid and, with
 * __WNOTHREAD, sees only this thread's tracees: otherwise one tracer
 * thread could reap another's stops. */
int ptp_wait(pid_t tid, int *status, int flags)
{
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL | flags);

		if (r == tid)
			return 0;
		if (r == 0)
			return -EAGAIN;
		if (errno != EINTR)
			return -errno;
	}
}

bool ptp_status_gone(int status)
{
	return WIFEXITED(status) || WIFSIGNALED(status);
}

bool ptp_exited(pid_t tid)
{
	siginfo_t si = { 0 };

	/* WNOWAIT leaves the death to be collected at destroy. A tracer is
	 * told of its tracees' ptrace stops even when it asks only for
	 * exits: a stop another thread has yet to collect is no death. */
	return waitid(P_PID, (id_t)tid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 &&
	       si.si_pid == tid &&
	       (si.si_code == CLD_EXITED || si.si_code == CLD_KILLED ||
		si.si_code == CLD_DUMPED);
}

pid_t ptp_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static bool synchronous_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGILL ||
	       sig == SIGFPE || sig == SIGSYS || sig == SIGTRAP;
}

/*
 * Resumes tid (traced by the calling thread, stopped) with registers r, and
 * waits for the trap at the stub's trap instruction. Returns 0 with the
 * registers at the trap in r, -ESRCH if the thread died, -EFAULT if the stub
 * faulted or trapped anywhere else.
 */
static int run_stub(struct ptp_platform *p, pid_t tid, struct arch_regs *r)
{
	int status, rc, sig = 0;

	rc = ptp_arch_set_gprs(tid, r);
	if (rc < 0)
		return rc;
	for (;;) {
		if (ptrace(PTRACE_CONT, tid, 0, (void *)(long)sig) < 0)
			return -errno;
		sig = 0;
		rc = ptp_wait(tid, &status, __WNOTHREAD);
		if (rc < 0)
			return rc == -ECHILD ? -ESRCH : rc;
		if (ptp_status_gone(status))
			return -ESRCH;
		if (status >> 16 == PTRACE_EVENT_STOP)
			continue; /* group-stop or listen stop: resume */
		if (WSTOPSIG(status) == SIGTRAP) {
			rc = ptp_arch_get_gprs(tid, r);
			if (rc < 0)
				return rc;
			if (ptp_arch_ip(r) != ptp_stub_addr(p, ptp_stub_trap_ip))
				return -EFAULT;
			return 0;
		}
		if (synchronous_signal(WSTOPSIG(status))) {
			siginfo_t si;

			if (ptrace(PTRACE_GETSIGINFO, tid, 0, &si) == 0 && si.si_code > 0)
				return -EFAULT;
		}
		/* Anything else (a late interrupt, a signal from outside) is
		 * not for the stub: suppress it. */
	}
}

/*
 * Runs one syscall at the stub's syscall instruction of tid (traced by the
 * calling thread, stopped), and waits for the trap after it. Returns 0 with
 * the raw result, -ESRCH if the thread died, -EFAULT if the stub faulted.
 */
int ptp_inject_on(struct ptp_platform *p, pid_t tid, long nr,
		  const uint64_t args[6], bool restart_stub, pid_t ppid,
		  long *result)
{
	struct arch_regs r = p->init_regs;
	int rc;

	ptp_arch_prepare_syscall(&r, ptp_stub_addr(p, ptp_stub_syscall), nr, args,
				 restart_stub, ppid);
	rc = run_stub(p, tid, &r);
	if (rc == 0)
		*result = ptp_arch_result(&r);
	return rc;
}

/*
 * Writes nwords words at the stub's batch list of tid. The list lies in the
 * stub's read-only mapping, which process_vm_writev cannot write:
 * /proc/<tid>/mem can (a debugger's write: the page is copied for this
 * process only), opened once per traced thread into *mem_fd. Where the
 * kernel refuses that (proc_mem.force_override=never), PTRACE_POKEDATA,
 * a word at a time, always works for the tracer.
 */
static int write_batch_list(struct ptp_platform *p, pid_t tid, int *mem_fd,
			    const uint64_t *words, size_t nwords)
{
	uintptr_t at = ptp_stub_addr(p, ptp_stub_batch_list);
	size_t len = nwords * sizeof(*words);

	if (*mem_fd < 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)tid);
		*mem_fd = open(path, O_RDWR | O_CLOEXEC);
	}
	if (*mem_fd >= 0 && pwrite(*mem_fd, words, len, (off_t)at) == (ssize_t)len)
		return 0;
	for (size_t i = 0; i < nwords; i++)
		if (ptrace(PTRACE_POKEDATA, tid, (void *)(at + 8 * i), (void *)words[i]) < 0)
			return -errno;
	return 0;
}

/*
 * Runs a batch (stub/stub-abi.h) of n records in tid in one round trip:
 * writes the list, starts the stub's batch routine and checks what it
 * reports. 0 with *result (0 or the stopping record's -errno) and *done
 * (records that took effect); -EPROTO if the stub reported what it cannot
 * have done (the registers are the tracer's only witness of the batch).
 */
int ptp_inject_batch_on(struct ptp_platform *p, pid_t tid, int *mem_fd,
			const uint64_t *records, size_t n, long *result, size_t *done)
{
	struct arch_regs r = p->init_regs;
	uint64_t args[6] = { n };
	uint64_t did;
	long res;
	int rc;

	if (n == 0 || n > PTP_STUB_BATCH_MAX)
		return -EINVAL;
	rc = write_batch_list(p, tid, mem_fd, records, n * PTP_STUB_BATCH_WORDS);
	if (rc < 0)
		return rc;
	ptp_arch_prepare_syscall(&r, ptp_stub_addr(p, ptp_stub_batch), 0, args, false, 0);
	rc = run_stub(p, tid, &r);
	if (rc < 0)
		return rc;
	res = ptp_arch_result(&r);
	did = ptp_arch_arg(&r, 1);
	/* All done and 0, or stopped early at a record with an errno. */
	if (did > n || (did == n) != (res == 0) || (res != 0 && (res < -4095 || res > -1)))
		return -EPROTO;
	*result = res;
	*done = (size_t)did;
	return 0;
}

/* Blocks until tid is reaped; any thread of the tracer may do this. */
void ptp_reap(pid_t tid)
{
	int status;

	while (ptp_wait(tid, &status, 0) == 0 && !ptp_status_gone(status))
		;
}

/*
 * Ends one traced thread (not its process) by injecting exit: PTRACE_O_EXITKILL
 * would kill the whole address space if its tracer thread simply exited.
 */
int ptp_retire_thread(struct ptp_platform *p, pid_t tid)
{
	static const uint64_t args[6] = { 0 };
	struct arch_regs r = p->init_regs;
	int status, rc;

	ptp_arch_prepare_syscall(&r, ptp_stub_addr(p, ptp_stub_syscall), SYS_exit,
			     args, false, 0);
	rc = ptp_arch_set_gprs(tid, &r);
	if (rc == 0 && ptrace(PTRACE_CONT, tid, 0, 0) < 0)
		rc = -errno;
	while (rc == 0) {
		rc = ptp_wait(tid, &status, __WNOTHREAD);
		if (rc < 0 || ptp_status_gone(status))
			break;
		/* A signal stop on the way out. */
		if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
			rc = -errno;
	}
	if (rc == -ESRCH)
		ptp_reap(tid); /* already dying: just collect it */
	return rc == -ECHILD ? 0 : rc;
}

int ptp_attach_thread(pid_t tid)
{
	int status, rc;

	if (ptrace(PTRACE_SEIZE, tid, 0, (void *)(long)PTP_TRACE_OPTIONS) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return -errno;
	rc = ptp_wait(tid, &status, __WNOTHREAD);
	if (rc < 0)
		return rc;
	if (!WIFSTOPPED(status))
		return -ESRCH;
	return 0;
}
