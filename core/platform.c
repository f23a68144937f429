/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The platform: stub placement, the kernel probe, the master stub process and
 * the service thread that owns it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/rseq.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

/* The header's version as this library was built with it: a program that
 * loads another build of the shared library sees that one's. */
PTP_EXPORT unsigned int ptp_version(void)
{
	return PTP_VERSION;
}

PTP_EXPORT void ptp_options_default(struct ptp_options *opts)
{
	*opts = (struct ptp_options){
		.backend = PTP_BACKEND_PTRACE,
		.mode = PTP_MODE_FAITHFUL,
		.pin = true,
		.reuse_pool = 8,
	};
}

PTP_EXPORT const char *ptp_syscall_abi_name(enum ptp_syscall_abi abi)
{
	switch (abi) {
	case PTP_ABI_UNKNOWN: return "unknown";
	case PTP_ABI_NATIVE: return "native";
	case PTP_ABI_IA32: return "ia32";
	case PTP_ABI_X32: return "x32";
	}
	return NULL;
}

PTP_EXPORT const char *ptp_mode_name(enum ptp_switch_mode mode)
{
	switch (mode) {
	case PTP_MODE_FAITHFUL:
		return "faithful";
	case PTP_MODE_LEAN:
		return "lean";
	}
	return NULL;
}

PTP_EXPORT int ptp_mode_parse(const char *name, enum ptp_switch_mode *mode)
{
	if (name && strcmp(name, "faithful") == 0)
		*mode = PTP_MODE_FAITHFUL;
	else if (name && strcmp(name, "lean") == 0)
		*mode = PTP_MODE_LEAN;
	else
		return -EINVAL;
	return 0;
}

/* Every backend by its enum value; ops NULL: not built yet. */
static const struct {
	const char *name;
	const struct ptp_backend_ops *ops;
} backends[] = {
	[PTP_BACKEND_PTRACE] = { "ptrace", &ptp_backend_ptrace },
	[PTP_BACKEND_SYSTRAP] = { "systrap", ARCH_SYSTRAP ? &ptp_backend_systrap : NULL },
};

#define NBACKENDS (sizeof(backends) / sizeof(backends[0]))

PTP_EXPORT const char *ptp_backend_name(enum ptp_backend backend)
{
	return (size_t)backend < NBACKENDS ? backends[backend].name : NULL;
}

PTP_EXPORT int ptp_backend_parse(const char *name, enum ptp_backend *backend)
{
	for (size_t i = 0; name && i < NBACKENDS; i++) {
		if (strcmp(name, backends[i].name) == 0) {
			*backend = (enum ptp_backend)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* The backend opts ask for, if it is built and can honour opts. */
static int choose_backend(struct ptp_platform *p)
{
	enum ptp_backend b = p->opts.backend;

	if (!ptp_backend_name(b)) {
		ptp_set_open_error("unknown backend %d", (int)b);
		return -EINVAL;
	}
	if (!backends[b].ops) {
		ptp_set_open_error("the %s backend is not built yet", backends[b].name);
		return -ENOSYS;
	}
	p->ops = backends[b].ops;
	p->caps.backend = b;
	p->caps.app_traced = p->ops->app_traced;
	p->caps.syscall_nr_whole_register = p->ops->syscall_nr_whole_register;
	p->caps.fault_access_exact = p->ops->fault_access_exact;
	return p->ops->check_options(&p->opts);
}

static size_t page_size(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static size_t stub_len(void)
{
	size_t pg = page_size();

	return ((size_t)(ptp_stub_blob_end - ptp_stub_blob_start) + pg - 1) & ~(pg - 1);
}

/* How far below each candidate top the stub may land: the initial stack and
 * its guard gap can sit right under the top when ASLR is off. */
#define STUB_PROBE_PAGES 4096

/*
 * Maps the stub at the highest address the kernel honours as a hint: for each
 * candidate top, step down page by page. Every stub process inherits it at
 * the same address.
 */
static int place_stub(struct ptp_platform *p)
{
	size_t len = stub_len(), pg = page_size(), ntops;
	const uintptr_t *tops = ptp_arch_stub_tops(&ntops);

	for (size_t t = 0; t < ntops; t++) {
		for (size_t k = 0; k < STUB_PROBE_PAGES; k++) {
			uintptr_t want = tops[t] - len - k * pg;
			void *m = mmap((void *)want, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (m == MAP_FAILED)
				return -errno;
			if ((uintptr_t)m != want) {
				munmap(m, len);
				/* Nothing is mapped at the hint, yet the kernel
				 * would not use it: the candidate lies beyond this
				 * address space; try the next top. */
				if (k == 0 && msync((void *)want, len, MS_ASYNC) < 0 &&
				    errno == ENOMEM)
					break;
				continue;
			}
			memcpy(m, ptp_stub_blob_start,
			       (size_t)(ptp_stub_blob_end - ptp_stub_blob_start));
			if (mprotect(m, len, PROT_READ | PROT_EXEC) < 0) {
				int rc = -errno;

				munmap(m, len);
				return rc;
			}
			p->stub_start = want;
			p->stub_end = want + len;
			p->user_end = want - p->ops->reserved_below_stub;
			p->top = tops[t];
			return 0;
		}
	}
	return -ENOMEM;
}

static uintptr_t read_mmap_min_addr(void)
{
	unsigned long v = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	return v < page_size() ? page_size() : v;
}

static bool has_vsyscall(void)
{
	char line[512];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, "[vsyscall]") != NULL;
	fclose(f);
	return found;
}

/* The kernel's struct sigaction (every arch the core supports has
 * sa_restorer); glibc's wrapper may be intercepted by sanitizers. */
struct kernel_sigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

/*
 * The child of the stub clone: a copy of a multithreaded process, so no
 * malloc and nothing that trusts glibc's cached thread state. Only raw
 * syscalls until the jump into the stub, and no sanitizer instrumentation:
 * ASan's no-return hook would run its runtime here (and, failing, print
 * through syscalls the stub filter refuses); TSan's function-entry hook
 * would run before PR_SET_PDEATHSIG is armed.
 */
__attribute__((noreturn, no_sanitize("address", "undefined", "thread")))
static void stub_child(struct ptp_platform *p, const struct sock_fprog *prog,
		       pid_t parent)
{
	struct kernel_sigaction dfl = { .handler = SIG_DFL };
	struct kernel_sigaction ign = { .handler = SIG_IGN };
	uint64_t none = 0;

	/* First of all: die with the service thread, whatever goes wrong
	 * below (the stub arms this again for clones of the master). */
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (syscall(SYS_getppid) != parent)
		syscall(SYS_exit_group, 4);
	/* glibc's rseq area lives in the tracer's memory, which address
	 * spaces unmap: the kernel would later kill the stub. */
	syscall(SYS_rseq, (char *)ptp_arch_thread_pointer() + __rseq_offset, 32,
		RSEQ_FLAG_UNREGISTER, RSEQ_SIG);
	syscall(SYS_setsid);
	for (int sig = 1; sig < 65; sig++)
		syscall(SYS_rt_sigaction, sig, sig == SIGCHLD ? &ign : &dfl, NULL,
			sizeof(uint64_t));
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, NULL, sizeof(none));
	syscall(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
		    SECCOMP_FILTER_FLAG_TSYNC, prog) != 0)
		syscall(SYS_exit, 3);
	ptp_arch_stub_child_setup();
	ptp_arch_enter_stub(ptp_stub_addr(p, ptp_stub_entry), parent);
}

/*
 * Forks a stub process from the calling (service) thread and seizes it once
 * it has stopped itself. On success it is in a ptrace stop.
 */
static int spawn_stub(struct ptp_platform *p, const struct sock_fprog *prog,
		      pid_t *out)
{
	pid_t parent = getpid();
	int status, rc;
	long pid;

	pid = syscall(SYS_clone, PTP_CLONE_AS_FLAGS, 0, NULL, NULL, 0);
	if (pid < 0) {
		rc = -errno;
		ptp_set_open_error("cannot fork a stub process: %s", strerror(-rc));
		return rc;
	}
	if (pid == 0)
		stub_child(p, prog, parent);

	rc = ptp_wait((pid_t)pid, &status, WUNTRACED);
	if (rc < 0 || !WIFSTOPPED(status)) {
		ptp_set_open_error("stub %ld did not stop itself (status 0x%x)",
				   pid, status);
		if (rc == 0 && !ptp_status_gone(status))
			kill((pid_t)pid, SIGKILL);
		ptp_reap((pid_t)pid);
		return rc < 0 ? rc : -ECHILD;
	}
	if (ptrace(PTRACE_SEIZE, (pid_t)pid, 0, (void *)(long)PTP_TRACE_OPTIONS) < 0) {
		rc = -errno;
		if (rc == -EPERM)
			ptp_set_open_error(
				"PTRACE_SEIZE of stub %ld: %s: ptrace is denied to this "
				"process (Yama ptrace_scope, a seccomp filter, an LSM, "
				"or a non-dumpable tracer without CAP_SYS_PTRACE)",
				pid, strerror(-rc));
		else
			ptp_set_open_error("PTRACE_SEIZE of stub %ld: %s", pid,
					   strerror(-rc));
		kill((pid_t)pid, SIGKILL);
		ptp_reap((pid_t)pid);
		return rc;
	}
	/* Seizing a stopped task reports it as a group-stop. */
	rc = ptp_wait((pid_t)pid, &status, __WNOTHREAD);
	if (rc < 0 || !WIFSTOPPED(status)) {
		ptp_set_open_error("seized stub %ld did not report its stop", pid);
		kill((pid_t)pid, SIGKILL);
		ptp_reap((pid_t)pid);
		return rc < 0 ? rc : -ECHILD;
	}
	*out = (pid_t)pid;
	return 0;
}

static void kill_stub(pid_t pid)
{
	kill(pid, SIGKILL);
	ptp_reap(pid);
}

/* A throw-away child runs fn; its exit code is the answer. */
static int in_child(int (*fn)(void))
{
	int status;
	long pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);

	if (pid < 0)
		return -errno;
	if (pid == 0)
		syscall(SYS_exit_group, fn() == 0 ? 0 : 1);
	if (ptp_wait((pid_t)pid, &status, 0) < 0)
		return -ECHILD;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ENODEV;
}

/*
 * One syscall made by a throw-away stub under PTRACE_SYSEMU, with a filter
 * whose default is RET_ERRNO(0): a syscall stop with a non-zero result
 * register means SYSEMU works and ptrace runs before seccomp (Linux >= 4.8):
 * x86_64 leaves -ENOSYS there, arm64 the first argument (x0 is both), hence
 * a non-zero one; 0 there means seccomp ran first; no syscall stop means no
 * SYSEMU.
 */
static int probe_kernel(struct ptp_platform *p)
{
	static const uint64_t args[6] = { 1 };
	struct __ptrace_syscall_info info;
	struct sock_fprog prog = { 0 };
	struct arch_regs r;
	int status, rc;
	pid_t pid;

	rc = ptp_filter_build(p->stub_start, false, true, NULL, &prog);
	if (rc < 0) {
		ptp_set_open_error("cannot build the probe filter: %s", strerror(-rc));
		return rc;
	}
	rc = spawn_stub(p, &prog, &pid);
	ptp_filter_free(&prog);
	if (rc < 0)
		return rc;
	rc = ptp_arch_get_gprs(pid, &r);
	if (rc < 0)
		goto out;
	ptp_arch_prepare_syscall(&r, ptp_stub_addr(p, ptp_stub_syscall), SYS_gettid,
			     args, false, 0);
	rc = ptp_arch_set_gprs(pid, &r);
	if (rc < 0)
		goto out;
	if (ptrace(PTRACE_SYSEMU, pid, 0, 0) < 0) {
		/* EIO: arm64 kernels before 5.3. */
		p->caps.sysemu = false;
		goto out;
	}
	rc = ptp_wait(pid, &status, __WNOTHREAD);
	if (rc < 0 || !WIFSTOPPED(status))
		goto out;
	p->caps.sysemu = WSTOPSIG(status) == (SIGTRAP | 0x80);
	if (!p->caps.sysemu)
		goto out;
	rc = ptp_arch_get_gprs(pid, &r);
	if (rc < 0)
		goto out;
	p->caps.seccomp_after_ptrace = ptp_arch_result(&r) != 0;
	memset(&info, 0, sizeof(info));
	p->caps.syscall_info =
		ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) > 0 &&
		info.op == PTRACE_SYSCALL_INFO_ENTRY && info.entry.nr == SYS_gettid;
out:
	kill_stub(pid);
	if (rc < 0) {
		ptp_set_open_error("probe stub %d: %s", pid, strerror(-rc));
		return rc;
	}
	if (!p->caps.sysemu) {
		ptp_set_open_error("PTRACE_SYSEMU does not stop at syscalls on this kernel");
		return -ENOSYS;
	}
	p->caps.cpuid_faulting = in_child(ptp_arch_cpuid_faulting_enable) == 0;
	p->caps.ia32_syscalls = in_child(ptp_arch_ia32_syscall_probe) == 0;
	p->caps.vsyscall = has_vsyscall();
	p->caps.fpstate_size = ptp_arch_fp_size();
	return 0;
}

/* The master: every address space is forked from it, so it holds nothing
 * but the stub, and its children start from that. */
static int create_master(struct ptp_platform *p)
{
	struct arch_regs r;
	int rc;

	rc = ptp_filter_build(p->stub_start, !p->caps.seccomp_after_ptrace, false,
			      p->ops, &p->filter);
	if (rc < 0) {
		ptp_set_open_error("cannot build the stub filter: %s", strerror(-rc));
		return rc;
	}
	rc = spawn_stub(p, &p->filter, &p->master);
	if (rc < 0)
		return rc;
	p->init_fp = calloc(1, p->caps.fpstate_size);
	rc = p->init_fp ? ptp_arch_get_gprs(p->master, &r) : -ENOMEM;
	if (rc == 0)
		rc = ptp_arch_get_fp(p->master, p->init_fp, p->caps.fpstate_size);
	if (rc == 0) {
		ptp_arch_set_ip(&r, ptp_stub_addr(p, ptp_stub_syscall));
		p->init_regs = r;
		p->ctx_init_regs = r;
		ptp_arch_ctx_init(&p->ctx_init_regs, p->init_fp, p->caps.fpstate_size);
		rc = ptp_unmap_all_but_stub(p, p->master, p->stub_start);
	}
	if (rc < 0) {
		ptp_set_open_error("master stub %d: %s", p->master, strerror(-rc));
		kill_stub(p->master);
		p->master = 0;
	}
	return rc;
}

/* The service thread's first request: on it, the probe's stubs and the
 * master become this thread's children and tracees. */
static int svc_startup(void *arg)
{
	struct ptp_platform *p = arg;
	int rc = probe_kernel(p);

	if (rc == 0)
		rc = create_master(p);
	/* The reason sits in this thread's open error: copy it out. */
	if (rc < 0)
		snprintf(p->open_msg, sizeof(p->open_msg), "%s", ptp_open_error());
	return rc;
}

/* The service thread's last request. The master dies with this thread
 * anyway (PDEATHSIG, EXITKILL); kill it first so that it is reaped, not left
 * a zombie. */
static int svc_shutdown(void *arg)
{
	struct ptp_platform *p = arg;

	kill_stub(p->master);
	return 0;
}

PTP_EXPORT int ptp_open(const struct ptp_options *opts, struct ptp_platform **out)
{
	struct ptp_platform *p;
	int rc;

	ptp_set_open_error("%s", "");
	ptp_registry_init();
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	if (opts)
		p->opts = *opts;
	else
		ptp_options_default(&p->opts);
	if (!ptp_mode_name(p->opts.mode)) {
		ptp_set_open_error("unknown switch mode %d", (int)p->opts.mode);
		free(p);
		return -EINVAL;
	}
	rc = choose_backend(p);
	if (rc < 0) {
		free(p);
		return rc;
	}
	p->self = getpid();
	p->min_addr = read_mmap_min_addr();
	pthread_mutex_init(&p->lock, NULL);

	rc = place_stub(p);
	if (rc < 0) {
		ptp_set_open_error("no room for the stub below the top of the "
				   "address space: %s", strerror(-rc));
		goto err_free;
	}
	rc = ptp_svc_start(&p->svc, svc_startup, p);
	if (rc < 0) {
		/* The reason was written in the service thread, if it ran. */
		if (p->open_msg[0])
			ptp_set_open_error("%s", p->open_msg);
		else
			ptp_set_open_error("cannot start the service thread: %s",
					   strerror(-rc));
		goto err_stub;
	}
	*out = p;
	return 0;

err_stub:
	munmap((void *)p->stub_start, p->stub_end - p->stub_start);
err_free:
	ptp_filter_free(&p->filter);
	free(p->init_fp);
	free(p);
	return rc;
}

PTP_EXPORT void ptp_close(struct ptp_platform *p)
{
	struct ptp_as *as;

	/* In a forked child, the parent's stub processes are not ours to
	 * kill. */
	if (!p || ptp_forked_away(p->self))
		return;
	ptp_trim(p);
	/* Address spaces the caller never released. */
	pthread_mutex_lock(&ptp_registry_lock);
	for (;;) {
		as = ptp_registry_any(p);
		if (!as)
			break;
		pthread_mutex_unlock(&ptp_registry_lock);
		ptp_as_destroy(as);
		pthread_mutex_lock(&ptp_registry_lock);
	}
	pthread_mutex_unlock(&ptp_registry_lock);
	ptp_svc_stop(&p->svc, svc_shutdown, p);
	ptp_tracer_unpin(p);
	munmap((void *)p->stub_start, p->stub_end - p->stub_start);
	ptp_filter_free(&p->filter);
	free(p->init_fp);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

PTP_EXPORT const struct ptp_caps *ptp_caps(const struct ptp_platform *p)
{
	return &p->caps;
}

PTP_EXPORT const struct ptp_options *ptp_options(const struct ptp_platform *p)
{
	return &p->opts;
}

PTP_EXPORT uintptr_t ptp_max_user_address(const struct ptp_platform *p)
{
	return p->user_end;
}

PTP_EXPORT uintptr_t ptp_min_user_address(const struct ptp_platform *p)
{
	return p->min_addr;
}

PTP_EXPORT uintptr_t ptp_stub_start(const struct ptp_platform *p)
{
	return p->stub_start;
}

PTP_EXPORT uintptr_t ptp_stub_end(const struct ptp_platform *p)
{
	return p->stub_end;
}

PTP_EXPORT pid_t ptp_master_pid(const struct ptp_platform *p)
{
	return p->master;
}

PTP_EXPORT void ptp_stats(struct ptp_platform *p, struct ptp_stats *st)
{
	memset(st, 0, sizeof(*st));
	/* A parent's thread may have held p->lock at the fork. */
	if (ptp_forked_away(p->self))
		return;
	pthread_mutex_lock(&p->lock);
	st->as_live = p->nlive;
	st->as_pooled = p->npool;
	st->as_created = p->as_created;
	st->threads_created = p->threads_created;
	st->threads_retired = p->threads_retired;
	pthread_mutex_unlock(&p->lock);
	st->injections = atomic_load(&p->injections);
	st->ptrace_calls = atomic_load(&ptp_ptrace_calls);
	st->handoffs_spun = atomic_load(&p->handoffs_spun);
	st->handoffs_slept = atomic_load(&p->handoffs_slept);
	st->traced_threads = ptp_registry_threads(p);
}
