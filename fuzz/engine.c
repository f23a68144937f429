/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fuzzer's engine: see engine.h. The address space is reused across
 * executions: code, data and stack live in memfds the tracer has mapped too,
 * so resetting them is a memcpy, not an injection. The app cannot change its
 * own mappings without a syscall, and its syscalls never run.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "engine.h"
#include "fuzz-abi.h"
#include "payloads.h"
#include "systrap-abi.h"

_Static_assert(FZ_CLONE_AS_FLAGS == (CLONE_FILES | SIGCHLD), "clone flags");
_Static_assert(FZ_CLONE_THREAD_FLAGS ==
		       (CLONE_FILES | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD |
			CLONE_PTRACE | CLONE_VM),
	       "thread clone flags");

/* Whatever runs off the end of the input faults (see arch/arch.h). */
static const uint8_t code_filler[] = FZ_ARCH_CODE_FILLER;

#define CANARY_NAME "canary"
#define CANARY_SIZE 4096
#define MAX_PIDS 256
#define MAX_FDS 1024
#define MAX_AS_FDS 8

struct snapshot {
	int fds[MAX_FDS];
	int nfds;
	uint64_t maps_hash;
	int systrap_pages;
	int syscall_pages;
	struct timespec dir_mtime;
	nlink_t dir_nlink;
};

struct fz_engine {
	struct fz_config cfg;
	struct ptp_platform *p;
	struct ptp_as *as;
	int code_fd, data_fd, stack_fd;
	uint8_t *code, *data, *stack; /* the tracer's views */
	size_t code_len, data_len, stack_len;

	char dir[256];
	int old_cwd_fd, dir_fd, pipe_read_fd;
	const uint8_t *canary_view;
	uint8_t canary_pattern[CANARY_SIZE];

	uintptr_t stub_start, stub_end;
	uint8_t *stub_copy; /* the AS's stub should read exactly like this */
	uintptr_t shared_page; /* systrap: the app thread's, else 0 */

	/* The tracer's fds that came with the fuzzed address space (systrap:
	 * its socket): they go with it when it dies, so the oracle leaves
	 * them out of both the baseline and the check. An fd it leaves open
	 * after it went is no longer listed here and is seen. */
	int as_fds[MAX_AS_FDS];
	int nas_fds;

	/* systrap: an address space the app never runs in, switched once
	 * after each death of the fuzzed one: a self-kill must leave it (and
	 * so every other address space) working. Code: the filler (ud2). */
	struct ptp_as *sentinel;
	int sentinel_fd;
	uint8_t *sentinel_code;

	struct snapshot base;
	unsigned long base_stops;

	/* The watchdog. */
	pthread_t watchdog;
	atomic_bool watchdog_quit;
	atomic_uint_fast64_t exec_gen;     /* odd while a switch runs */
	atomic_uint_fast64_t exec_start_ns;
	struct ptp_ctx *_Atomic running_ctx;
	atomic_bool hung;
};

/* Signals that reached the tracer, per signal number. */
static atomic_ulong signal_counts[_NSIG];
static const int synchronous_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
					   SIGTRAP, SIGABRT, SIGSYS };
static const int libfuzzer_signals[] = { SIGALRM, SIGUSR1, SIGUSR2, SIGXFSZ };

static void count_signal(int sig)
{
	atomic_fetch_add(&signal_counts[sig], 1);
}

static bool in_list(int sig, const int *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] == sig)
			return true;
	return false;
}

/*
 * Every signal that a stub could send and the tracer would survive gets a
 * counting handler. Not counted: SIGCHLD (every ptrace stop of a stub sends
 * one), SIGKILL and SIGSTOP (uncatchable: a supervisor sees those), SIGINT
 * and SIGTERM (left to kill us: the supervisor sees that too), the faults
 * (sanitizers and libFuzzer report them), glibc's internal RT signals, and
 * libFuzzer's own.
 */
static bool counted_signal(int sig, bool libfuzzer)
{
	if (sig == SIGCHLD || sig == SIGKILL || sig == SIGSTOP || sig == SIGINT ||
	    sig == SIGTERM || (sig > 31 && sig < SIGRTMIN))
		return false;
	if (in_list(sig, synchronous_signals,
		    sizeof(synchronous_signals) / sizeof(synchronous_signals[0])))
		return false;
	return !(libfuzzer && in_list(sig, libfuzzer_signals,
				      sizeof(libfuzzer_signals) /
					      sizeof(libfuzzer_signals[0])));
}

static int install_signal_counters(bool libfuzzer)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = count_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	for (int sig = 1; sig < _NSIG; sig++)
		if (counted_signal(sig, libfuzzer) && sigaction(sig, &sa, NULL) < 0)
			return -errno;
	return 0;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Interrupts a switch that runs longer than watchdog_ms; a switch still
 * running hang_ms later is a hang, which the caller reports. Polls every
 * millisecond so that no execution pays for arming a timer. */
static void *watchdog_main(void *arg)
{
	struct fz_engine *e = arg;
	uint64_t fired_gen = 0;
	struct timespec tick = { 0, 1000000 };

	while (!atomic_load(&e->watchdog_quit)) {
		uint64_t gen = atomic_load(&e->exec_gen);
		uint64_t start = atomic_load(&e->exec_start_ns);
		uint64_t age;

		nanosleep(&tick, NULL);
		if (!(gen & 1) || atomic_load(&e->exec_gen) != gen)
			continue;
		age = now_ns() - start;
		if (age > (uint64_t)e->cfg.watchdog_ms * 1000000u && fired_gen != gen) {
			struct ptp_ctx *ctx = atomic_load(&e->running_ctx);

			if (ctx)
				ptp_interrupt(ctx);
			fired_gen = gen;
		}
		if (age > (uint64_t)(e->cfg.watchdog_ms + e->cfg.hang_ms) * 1000000u &&
		    !atomic_exchange(&e->hung, true) && e->cfg.on_hang)
			e->cfg.on_hang();
	}
	return NULL;
}

void fz_config_default(struct fz_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = PTP_MODE_LEAN;
	cfg->max_stops = 16;
	cfg->watchdog_ms = 10;
	cfg->hang_ms = 5000;
}

static void errf(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int shared_region(const char *name, size_t len, int *fd, uint8_t **view)
{
	*fd = memfd_create(name, MFD_CLOEXEC);
	if (*fd < 0)
		return -errno;
	if (ftruncate(*fd, (off_t)len) < 0)
		return -errno;
	*view = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (*view == MAP_FAILED) {
		*view = NULL;
		return -errno;
	}
	return 0;
}

static int map_layout(struct fz_engine *e, int code_fd, struct ptp_as **as)
{
	int rc = ptp_as_new(e->p, as);

	if (rc == 0)
		rc = ptp_as_map(*as, FZ_CODE, e->code_len, PROT_READ | PROT_EXEC,
				code_fd, 0, 0);
	if (rc == 0)
		rc = ptp_as_map(*as, FZ_DATA, e->data_len, PROT_READ | PROT_WRITE,
				e->data_fd, 0, 0);
	if (rc == 0)
		rc = ptp_as_map(*as, FZ_STACK, e->stack_len,
				PROT_READ | PROT_WRITE, e->stack_fd, 0, 0);
	return rc;
}

static int list_fds(int *fds, int cap)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0, self;

	if (!d)
		return -errno;
	self = dirfd(d);
	while ((de = readdir(d)) && n < cap) {
		int fd = atoi(de->d_name);

		if (de->d_name[0] != '.' && fd != self)
			fds[n++] = fd;
	}
	closedir(d);
	return n;
}

static bool fd_listed(int fd, const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] == fd)
			return true;
	return false;
}

static int map_as(struct fz_engine *e)
{
	int before[MAX_FDS], after[MAX_FDS];
	int nbefore = list_fds(before, MAX_FDS), nafter, rc;

	e->nas_fds = 0;
	rc = map_layout(e, e->code_fd, &e->as);
	nafter = list_fds(after, MAX_FDS);
	if (rc < 0 || nbefore < 0 || nafter < 0)
		return rc < 0 ? rc : -EMFILE;
	for (int i = 0; i < nafter; i++) {
		if (fd_listed(after[i], before, nbefore))
			continue;
		if (e->nas_fds == MAX_AS_FDS)
			return -EMFILE;
		e->as_fds[e->nas_fds++] = after[i];
	}
	return 0;
}

static void drop_as(struct fz_engine *e)
{
	if (e->as)
		ptp_as_release(e->as);
	e->as = NULL;
	e->nas_fds = 0;
}

static void drop_sentinel(struct fz_engine *e)
{
	if (e->sentinel)
		ptp_as_release(e->sentinel);
	e->sentinel = NULL;
}

static bool is_systrap(const struct fz_engine *e)
{
	return e->cfg.backend == PTP_BACKEND_SYSTRAP;
}

static int open_platform(struct fz_engine *e, char *err, size_t errlen)
{
	struct ptp_options o;
	int rc;

	ptp_options_default(&o);
	o.mode = e->cfg.mode;
	o.backend = e->cfg.backend;
	/* No pooled address spaces: every stub process is one we know. */
	o.reuse_pool = 0;
	rc = ptp_open(&o, &e->p);
	if (rc < 0) {
		errf(err, errlen, "ptp_open: %s", ptp_open_error());
		e->p = NULL;
		return rc;
	}
	e->stub_start = ptp_stub_start(e->p);
	e->stub_end = ptp_stub_end(e->p);
	/* The first thread's slot, right below the stub (stub/systrap-abi.h):
	 * the engine's one tracer thread runs in slot 0 of each address space. */
	e->shared_page = is_systrap(e) ? (e->stub_start & ~(uintptr_t)(PTP_SYSTRAP_REGION - 1)) -
						 PTP_SYSTRAP_REGION
				       : 0;
	free(e->stub_copy);
	e->stub_copy = malloc(e->stub_end - e->stub_start);
	if (!e->stub_copy)
		return -ENOMEM;
	memcpy(e->stub_copy, (const void *)e->stub_start, e->stub_end - e->stub_start);
	rc = map_as(e);
	if (rc == 0 && is_systrap(e))
		rc = map_layout(e, e->sentinel_fd, &e->sentinel);
	if (rc < 0)
		errf(err, errlen, "address space: %s", strerror(-rc));
	return rc;
}

static void close_platform(struct fz_engine *e)
{
	drop_as(e);
	drop_sentinel(e);
	if (e->p)
		ptp_close(e->p);
	e->p = NULL;
}

/* A stable fd n for fd: dup it there and close the original. */
static int move_fd(int fd, int n)
{
	if (dup3(fd, n, O_CLOEXEC) < 0)
		return -errno;
	close(fd);
	return 0;
}

static int make_canaries(struct fz_engine *e, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");
	int pfd[2], fd;

	snprintf(e->dir, sizeof(e->dir), "%s/ptbench-fuzz-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(e->dir)) {
		errf(err, errlen, "mkdtemp %s: %s", e->dir, strerror(errno));
		e->dir[0] = 0;
		return -errno;
	}
	e->old_cwd_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	e->dir_fd = open(e->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (e->old_cwd_fd < 0 || e->dir_fd < 0 || fchdir(e->dir_fd) < 0) {
		errf(err, errlen, "canary directory %s: %s", e->dir, strerror(errno));
		return -errno;
	}
	for (size_t i = 0; i < CANARY_SIZE; i++)
		e->canary_pattern[i] = (uint8_t)(0xa5 ^ (i * 7));
	fd = open(CANARY_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || pwrite(fd, e->canary_pattern, CANARY_SIZE, 0) != CANARY_SIZE ||
	    move_fd(fd, FZ_FD_CANARY_FILE) < 0) {
		errf(err, errlen, "canary file: %s", strerror(errno));
		return -EIO;
	}
	e->canary_view = mmap(NULL, CANARY_SIZE, PROT_READ, MAP_SHARED,
			      FZ_FD_CANARY_FILE, 0);
	if (e->canary_view == MAP_FAILED) {
		e->canary_view = NULL;
		errf(err, errlen, "canary file mmap: %s", strerror(errno));
		return -errno;
	}
	if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    move_fd(pfd[1], FZ_FD_CANARY_PIPE) < 0) {
		errf(err, errlen, "canary pipe: %s", strerror(errno));
		return -errno;
	}
	e->pipe_read_fd = pfd[0];
	return 0;
}

static void remove_canary_dir(struct fz_engine *e)
{
	DIR *d;
	struct dirent *de;

	if (!e->dir[0] || e->dir_fd < 0)
		return;
	/* Whatever an escape created there goes too: the oracle has named it. */
	d = opendir(e->dir);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(e->dir_fd, de->d_name, 0);
		closedir(d);
	}
	rmdir(e->dir);
	e->dir[0] = 0;
}

void fz_engine_abandon(struct fz_engine *e)
{
	if (e)
		remove_canary_dir(e);
}

static void remove_canaries(struct fz_engine *e)
{
	if (e->canary_view)
		munmap((void *)e->canary_view, CANARY_SIZE);
	close(FZ_FD_CANARY_FILE);
	close(FZ_FD_CANARY_PIPE);
	if (e->pipe_read_fd >= 0)
		close(e->pipe_read_fd);
	if (e->dir[0] && e->old_cwd_fd >= 0 && fchdir(e->old_cwd_fd) < 0)
		(void)chdir("/");
	remove_canary_dir(e);
	if (e->dir_fd >= 0)
		close(e->dir_fd);
	if (e->old_cwd_fd >= 0)
		close(e->old_cwd_fd);
}

/* Snapshots -------------------------------------------------------------- */

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* The core's view of each systrap thread's shared page (backend.c's memfd):
 * one per live thread, mapped wherever a new thread's lands. */
#define SYSTRAP_PAGE_NAME "/memfd:ptp-systrap"
/* And of each systrap address space's syscall thread's pages: one mapping
 * per live address space. */
#define SYSCALL_PAGE_NAME "/memfd:ptp-syscall"

/* FNV-1a over the file-backed mappings of the tracer: the anonymous ones
 * come and go with every allocation, the systrap pages with threads and
 * the syscall pages with address spaces (counted into *systrap_pages and
 * *syscall_pages instead). */
static uint64_t maps_hash(int *systrap_pages, int *syscall_pages)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[512];
	uint64_t h = 1469598103934665603ull;

	*systrap_pages = *syscall_pages = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '/'))
			continue;
		if (strstr(line, SYSTRAP_PAGE_NAME)) {
			++*systrap_pages;
			continue;
		}
		if (strstr(line, SYSCALL_PAGE_NAME)) {
			++*syscall_pages;
			continue;
		}
		for (const char *c = line; *c; c++)
			h = (h ^ (uint8_t)*c) * 1099511628211ull;
	}
	fclose(f);
	return h;
}

static int take_snapshot(struct fz_engine *e, struct snapshot *s)
{
	struct stat st;
	int n = list_fds(s->fds, MAX_FDS);

	if (n < 0)
		return n;
	s->nfds = 0;
	for (int i = 0; i < n; i++)
		if (!fd_listed(s->fds[i], e->as_fds, e->nas_fds))
			s->fds[s->nfds++] = s->fds[i];
	qsort(s->fds, (size_t)s->nfds, sizeof(int), cmp_int);
	s->maps_hash = maps_hash(&s->systrap_pages, &s->syscall_pages);
	if (fstat(e->dir_fd, &st) < 0)
		return -errno;
	s->dir_mtime = st.st_mtim;
	s->dir_nlink = st.st_nlink;
	return 0;
}

/* Processes ---------------------------------------------------------- */

/* Appends the children of every thread of pid to out. */
static int children_of(pid_t pid, pid_t *out, int n, int cap)
{
	char path[64];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return n;
	while ((de = readdir(d))) {
		char cpath[384];
		FILE *f;
		int c;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid,
			 de->d_name);
		f = fopen(cpath, "re");
		if (!f)
			continue;
		while (n < cap && fscanf(f, "%d", &c) == 1)
			out[n++] = c;
		fclose(f);
	}
	closedir(d);
	return n;
}

/* The tids of pid's threads (up to cap), or -1. */
static int list_tasks(pid_t pid, pid_t *tids, int cap)
{
	char path[64];
	DIR *d;
	struct dirent *de;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)) && n < cap)
		if (de->d_name[0] != '.')
			tids[n++] = atoi(de->d_name);
	closedir(d);
	return n;
}

static int task_count(pid_t pid)
{
	pid_t tids[MAX_PIDS];

	return list_tasks(pid, tids, MAX_PIDS);
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *paren;
	int fd, ppid = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	/* "pid (comm) state ppid": comm may hold anything but the last ')'. */
	paren = strrchr(buf, ')');
	if (!paren || sscanf(paren + 1, " %*c %d", &ppid) != 1)
		return 0;
	return (pid_t)ppid;
}

/* Every descendant of the tracer, breadth first. */
static int descendants(pid_t *pids, int cap)
{
	int n = children_of(getpid(), pids, 0, cap);

	for (int i = 0; i < n; i++)
		n = children_of(pids[i], pids, n, cap);
	return n;
}

/* The stray processes: descendants other than the master and our address
 * spaces. */
static int strays(struct fz_engine *e, pid_t *out, int cap)
{
	pid_t all[MAX_PIDS];
	int n = descendants(all, MAX_PIDS), k = 0;
	pid_t master = e->p ? ptp_master_pid(e->p) : 0;
	pid_t as = e->as ? ptp_as_pid(e->as) : 0;
	pid_t sentinel = e->sentinel ? ptp_as_pid(e->sentinel) : 0;

	for (int i = 0; i < n && k < cap; i++)
		if (all[i] != master && all[i] != as && all[i] != sentinel)
			out[k++] = all[i];
	return k;
}

/* The oracle ----------------------------------------------------------- */

/* Writes the violation to why; the oracle's answer 1. */
#define violation(why, len, ...) (errf(why, len, __VA_ARGS__), 1)

static int stub_intact(struct fz_engine *e)
{
	size_t len = e->stub_end - e->stub_start;
	uint8_t buf[16384];
	struct iovec local = { buf, len }, remote = { (void *)e->stub_start, len };

	if (!e->as || len > sizeof(buf))
		return 1;
	if (process_vm_readv(ptp_as_pid(e->as), &local, 1, &remote, 1, 0) != (ssize_t)len)
		return errno == ESRCH ? 1 : 0;
	return memcmp(buf, e->stub_copy, len) == 0;
}

static int cheap_checks(struct fz_engine *e, char *why, size_t len)
{
	int queued = 0;

	if (ioctl(e->pipe_read_fd, FIONREAD, &queued) < 0 || queued != 0)
		return violation(why, len, "canary pipe holds %d bytes", queued);
	if (memcmp(e->canary_view, e->canary_pattern, CANARY_SIZE) != 0)
		return violation(why, len, "canary file was written");
	if (e->cfg.tracer_stops && atomic_load(e->cfg.tracer_stops) != e->base_stops)
		return violation(why, len, "the tracer was stopped by a signal");
	for (int sig = 1; sig < _NSIG; sig++)
		if (atomic_load(&signal_counts[sig]))
			return violation(why, len, "signal %d (%s) reached the tracer",
					 sig, strsignal(sig));
	if (!e->p || ptp_platform_status(e->p) != 0)
		return violation(why, len, "the platform is dead");
	if (!stub_intact(e))
		return violation(why, len, "the stub's code in the address space changed");
	return 0;
}

static unsigned int live_systrap_threads(struct fz_engine *e)
{
	if (!is_systrap(e))
		return 0;
	return (e->as ? ptp_as_thread_count(e->as) : 0) +
	       (e->sentinel ? ptp_as_thread_count(e->sentinel) : 0);
}

/* The leader, the core's threads, and where the app runs untraced
 * (systrap) the address space's syscall thread. */
static int stub_tasks_expected(struct fz_engine *e)
{
	int own = ptp_caps(e->p)->app_traced ? 1 : 2;

	return own + (int)ptp_as_thread_count(e->as);
}

static int live_systrap_spaces(struct fz_engine *e)
{
	if (!is_systrap(e))
		return 0;
	return (e->as != NULL) + (e->sentinel != NULL);
}

static int full_checks(struct fz_engine *e, char *why, size_t len)
{
	struct snapshot now;
	pid_t stray[8];
	int n, tasks;
	sigset_t pending;

	n = strays(e, stray, 8);
	if (n > 0)
		return violation(why, len, "%d stray process(es), first pid %d", n,
				 (int)stray[0]);
	if (e->as) {
		tasks = task_count(ptp_as_pid(e->as));
		if (tasks >= 0 && tasks != stub_tasks_expected(e))
			return violation(why, len,
					 "the stub has %d threads, the core knows %u + %d",
					 tasks, ptp_as_thread_count(e->as),
					 stub_tasks_expected(e) -
						 (int)ptp_as_thread_count(e->as));
	}
	if (sigpending(&pending) == 0)
		for (int sig = 1; sig < SIGRTMIN; sig++)
			if (sig != SIGCHLD && sigismember(&pending, sig) == 1)
				return violation(why, len, "signal %d pending", sig);
	if (take_snapshot(e, &now) < 0)
		return violation(why, len, "cannot snapshot the tracer: %s",
				 strerror(errno));
	if (now.nfds != e->base.nfds ||
	    memcmp(now.fds, e->base.fds, (size_t)now.nfds * sizeof(int)) != 0)
		return violation(why, len, "the tracer's fds changed (%d -> %d)",
				 e->base.nfds, now.nfds);
	if (now.maps_hash != e->base.maps_hash)
		return violation(why, len, "the tracer's file mappings changed");
	if (now.systrap_pages != (int)live_systrap_threads(e))
		return violation(why, len, "the tracer maps %d systrap pages for %u live threads",
				 now.systrap_pages, live_systrap_threads(e));
	if (now.syscall_pages != live_systrap_spaces(e))
		return violation(why, len, "the tracer maps %d syscall pages for %d address spaces",
				 now.syscall_pages, live_systrap_spaces(e));
	if (now.dir_nlink != e->base.dir_nlink ||
	    now.dir_mtime.tv_sec != e->base.dir_mtime.tv_sec ||
	    now.dir_mtime.tv_nsec != e->base.dir_mtime.tv_nsec)
		return violation(why, len, "the canary directory changed");
	return 0;
}

int fz_oracle(struct fz_engine *e, bool full, char *why, size_t len)
{
	int rc = cheap_checks(e, why, len);

	if (rc == 0 && full)
		rc = full_checks(e, why, len);
	return rc;
}

/*
 * A thread the app cloned with CLONE_PTRACE is traced by our thread, and
 * the core does not know it: after the kill its zombie waits for us, and
 * the core's reaping of the leader would wait for it forever. Kill the
 * stub and reap every tid we can (ECHILD for the others).
 */
static void kill_untracked_threads(struct fz_engine *e)
{
	pid_t pid = ptp_as_pid(e->as), tids[MAX_PIDS];
	int n = list_tasks(pid, tids, MAX_PIDS);

	kill(pid, SIGKILL);
	for (int i = 0; i < n; i++)
		if (tids[i] != pid)
			waitpid(tids[i], NULL, __WALL);
}

int fz_oracle_rebase(struct fz_engine *e)
{
	pid_t stray[MAX_PIDS];
	int n = strays(e, stray, MAX_PIDS);
	char buf[64];
	DIR *d;
	struct dirent *de;

	/* SIGKILL also ends a stray stopped by a SIGSTOP of its own making.
	 * Strays are children of stubs (which ignore SIGCHLD, so the kernel
	 * reaps them) or orphans reparented to us, the subreaper: reap those
	 * by pid, never with wait(-1), which could take the core's events. */
	for (int i = 0; i < n; i++) {
		kill(stray[i], SIGKILL);
		if (parent_of(stray[i]) == getpid())
			waitpid(stray[i], NULL, __WALL);
	}

	while (read(e->pipe_read_fd, buf, sizeof(buf)) > 0)
		;
	if (memcmp(e->canary_view, e->canary_pattern, CANARY_SIZE) != 0 &&
	    pwrite(FZ_FD_CANARY_FILE, e->canary_pattern, CANARY_SIZE, 0) != CANARY_SIZE)
		return -EIO;
	d = opendir(".");
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && strcmp(de->d_name, CANARY_NAME))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	for (int sig = 1; sig < _NSIG; sig++)
		atomic_store(&signal_counts[sig], 0);
	if (e->cfg.tracer_stops)
		e->base_stops = atomic_load(e->cfg.tracer_stops);
	/* A stub that saw an escape may be in any state (extra threads, no
	 * stub code): start over with a new one, or a new platform. */
	if (e->as && task_count(ptp_as_pid(e->as)) != stub_tasks_expected(e))
		kill_untracked_threads(e);
	drop_as(e);
	if (!e->p || ptp_platform_status(e->p) != 0) {
		char err[256];

		close_platform(e);
		if (open_platform(e, err, sizeof(err)) < 0)
			return -EIO;
	} else if (map_as(e) < 0) {
		return -EIO;
	}
	if (is_systrap(e) && (!e->sentinel || ptp_as_status(e->sentinel) != 0)) {
		drop_sentinel(e);
		if (map_layout(e, e->sentinel_fd, &e->sentinel) < 0)
			return -EIO;
	}
	/* A killed stray is a zombie of its stub until that stub is gone (a
	 * systrap stub handles SIGCHLD, the interrupt, so it does not reap
	 * them), then ours: one still listed would be charged to the next
	 * execution. Reap by pid until none is left (bounded: 1 s). */
	for (int tries = 0; n > 0 && tries < 200; tries++) {
		n = strays(e, stray, MAX_PIDS);
		for (int i = 0; i < n; i++)
			if (parent_of(stray[i]) == getpid())
				waitpid(stray[i], NULL, __WALL | WNOHANG);
		if (n > 0)
			usleep(5000);
	}
	/* The switching thread's traced thread is created on first use:
	 * the baseline comes after one execution. */
	{
		struct fz_outcome o;
		int rc = fz_exec(e, code_filler, sizeof(code_filler), &o);

		if (rc < 0)
			return rc;
	}
	return take_snapshot(e, &e->base);
}

/* Engine -------------------------------------------------------------- */

int fz_engine_open(const struct fz_config *cfg, struct fz_engine **out,
		   char *err, size_t errlen)
{
	struct fz_engine *e = calloc(1, sizeof(*e));
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int rc;

	if (!e)
		return -ENOMEM;
	e->cfg = *cfg;
	e->old_cwd_fd = e->dir_fd = e->pipe_read_fd = -1;
	e->code_fd = e->data_fd = e->stack_fd = e->sentinel_fd = -1;
	e->code_len = FZ_CODE_SIZE > pg ? FZ_CODE_SIZE : pg;
	e->data_len = FZ_DATA_SIZE > pg ? FZ_DATA_SIZE : pg;
	e->stack_len = FZ_STACK_SIZE > pg ? FZ_STACK_SIZE : pg;
	*out = e;
	if (cfg->unsafe_cont) {
		rc = ptp_test_unsafe_resume_cont(true);
		if (rc < 0) {
			errf(err, errlen, "this core cannot resume with PTRACE_CONT "
			     "(only fuzz/'s ptplat-unsafe can)");
			return rc;
		}
	}
	rc = make_canaries(e, err, errlen);
	if (rc < 0)
		return rc;
	if ((rc = shared_region("fz-code", e->code_len, &e->code_fd, &e->code)) < 0 ||
	    (rc = shared_region("fz-data", e->data_len, &e->data_fd, &e->data)) < 0 ||
	    (rc = shared_region("fz-stack", e->stack_len, &e->stack_fd, &e->stack)) < 0 ||
	    (rc = shared_region("fz-sentinel", e->code_len, &e->sentinel_fd,
				&e->sentinel_code)) < 0) {
		errf(err, errlen, "memfd: %s", strerror(-rc));
		return rc;
	}
	for (size_t i = 0; i < e->code_len; i++)
		e->sentinel_code[i] = code_filler[i % sizeof(code_filler)];
	__builtin___clear_cache((char *)e->sentinel_code,
				(char *)e->sentinel_code + e->code_len);
	/* Orphans of an escape come to us, where the oracle sees them. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		errf(err, errlen, "PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
		return -errno;
	}
	rc = install_signal_counters(cfg->libfuzzer);
	if (rc < 0) {
		errf(err, errlen, "sigaction: %s", strerror(-rc));
		return rc;
	}
	rc = open_platform(e, err, errlen);
	if (rc < 0)
		return rc;
	rc = pthread_create(&e->watchdog, NULL, watchdog_main, e);
	if (rc != 0) {
		errf(err, errlen, "watchdog thread: %s", strerror(rc));
		return -rc;
	}
	rc = fz_oracle_rebase(e);
	if (rc < 0)
		errf(err, errlen, "first execution: %s", strerror(-rc));
	return rc;
}

void fz_engine_close(struct fz_engine *e)
{
	if (!e)
		return;
	if (e->watchdog) {
		atomic_store(&e->watchdog_quit, true);
		pthread_join(e->watchdog, NULL);
	}
	close_platform(e);
	if (e->cfg.unsafe_cont)
		ptp_test_unsafe_resume_cont(false);
	if (e->code)
		munmap(e->code, e->code_len);
	if (e->data)
		munmap(e->data, e->data_len);
	if (e->stack)
		munmap(e->stack, e->stack_len);
	if (e->sentinel_code)
		munmap(e->sentinel_code, e->code_len);
	if (e->sentinel_fd >= 0)
		close(e->sentinel_fd);
	if (e->code_fd >= 0)
		close(e->code_fd);
	if (e->data_fd >= 0)
		close(e->data_fd);
	if (e->stack_fd >= 0)
		close(e->stack_fd);
	remove_canaries(e);
	free(e->stub_copy);
	free(e);
}

static void reset_memory(struct fz_engine *e, const uint8_t *code, size_t len)
{
	uint64_t hints[5] = { e->stub_start, e->stub_end, (uint64_t)getpid(),
			      (uint64_t)ptp_master_pid(e->p), e->shared_page };

	if (len > e->code_len)
		len = e->code_len;
	memcpy(e->code, code, len);
	for (size_t i = len; i < e->code_len; i++)
		e->code[i] = code_filler[i % sizeof(code_filler)];
	__builtin___clear_cache((char *)e->code, (char *)e->code + e->code_len);
	memset(e->data, 0, e->data_len);
	memcpy(e->data, hints, sizeof(hints));
	memset(e->stack, 0, e->stack_len);
}

static void begin_switch(struct fz_engine *e, struct ptp_ctx *ctx)
{
	atomic_store(&e->running_ctx, ctx);
	atomic_store(&e->exec_start_ns, now_ns());
	atomic_fetch_add(&e->exec_gen, 1);
}

static void end_switch(struct fz_engine *e)
{
	atomic_fetch_add(&e->exec_gen, 1);
	atomic_store(&e->running_ctx, NULL);
}

/*
 * After the fuzzed address space died on systrap: 1 when nothing else felt
 * it (the platform lives and the sentinel, run from a fresh context, ends
 * on its ud2 as it always does), else 0.
 */
static int others_unaffected(struct fz_engine *e)
{
	struct ptp_ctx *ctx;
	struct ptp_event ev;
	int rc;

	if (!e->sentinel || ptp_platform_status(e->p) != 0 ||
	    ptp_as_status(e->sentinel) != 0)
		return 0;
	if (ptp_ctx_new(e->p, &ctx) < 0)
		return 0;
	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		ptp_ctx_set_gpr(ctx, i, FZ_DATA + 64u * i);
	ptp_ctx_set_sp(ctx, FZ_STACK + e->stack_len);
	ptp_ctx_set_ip(ctx, FZ_CODE);
	rc = ptp_switch(ctx, e->sentinel, &ev);
	ptp_ctx_free(ctx);
	return rc == 0 && ev.kind == PTP_EV_SIGNAL && ev.info.si_signo == SIGILL;
}

/* What the kernel can deliver: a signal number in 1.._NSIG-1. */
static bool event_possible(const struct ptp_event *ev)
{
	if (ev->kind != PTP_EV_FAULT && ev->kind != PTP_EV_SIGNAL)
		return true;
	return ev->info.si_signo > 0 && ev->info.si_signo < _NSIG;
}

int fz_exec(struct fz_engine *e, const uint8_t *code, size_t len,
	    struct fz_outcome *out)
{
	struct ptp_ctx *ctx;
	struct ptp_event ev;
	int rc;

	memset(out, 0, sizeof(*out));
	out->first_nr = -1;
	if (!e->as) {
		rc = map_as(e);
		if (rc < 0)
			return rc;
	}
	reset_memory(e, code, len);
	rc = ptp_ctx_new(e->p, &ctx);
	if (rc < 0)
		return rc;
	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		ptp_ctx_set_gpr(ctx, i, FZ_DATA + 64u * i);
	ptp_ctx_set_sp(ctx, FZ_STACK + e->stack_len);
	ptp_ctx_set_ip(ctx, FZ_CODE);
	out->cls = FZ_SYSCALLS;
	for (;;) {
		begin_switch(e, ctx);
		rc = ptp_switch(ctx, e->as, &ev);
		end_switch(e);
		if (atomic_exchange(&e->hung, false)) {
			out->cls = FZ_HUNG;
			break;
		}
		if (rc == -ESRCH || rc == -ENOEXEC) {
			out->cls = rc == -ESRCH ? FZ_DIED : FZ_REFUSED;
			drop_as(e);
			if (rc == -ESRCH && is_systrap(e) && others_unaffected(e))
				out->cls = FZ_SELF_KILL;
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		if (ev.kind == PTP_EV_SYSCALL) {
			if (out->nsyscalls++ == 0)
				out->first_nr = ev.nr;
			if (out->nsyscalls >= e->cfg.max_stops)
				break;
			ptp_ctx_set_result(ctx, -ENOSYS);
			continue;
		}
		out->cls = !event_possible(&ev)      ? FZ_BOGUS
			   : ev.kind == PTP_EV_FAULT  ? FZ_FAULT
			   : ev.kind == PTP_EV_SIGNAL ? FZ_SIGNAL
						      : FZ_INTERRUPTED;
		out->signo = ev.info.si_signo;
		out->code = ev.info.si_code;
		out->access = ev.access;
		break;
	}
	ptp_ctx_free(ctx);
	return rc;
}

const char *fz_class_name(enum fz_class cls)
{
	static const char *const names[FZ_CLASS_COUNT] = {
		[FZ_SYSCALLS] = "syscalls", [FZ_FAULT] = "fault",
		[FZ_SIGNAL] = "signal",     [FZ_INTERRUPTED] = "interrupted",
		[FZ_REFUSED] = "refused",   [FZ_SELF_KILL] = "self-kill",
		[FZ_DIED] = "died",         [FZ_HUNG] = "hung",
		[FZ_BOGUS] = "bogus-event",
	};
	return (unsigned int)cls < FZ_CLASS_COUNT ? names[cls] : "?";
}

bool fz_class_escape(enum fz_class cls)
{
	return cls == FZ_DIED || cls == FZ_HUNG || cls == FZ_BOGUS;
}

bool fz_outcome_needs_full_check(const struct fz_outcome *o)
{
	return o->cls == FZ_SELF_KILL;
}

void fz_outcome_key(const struct fz_outcome *o, char *buf, size_t len)
{
	const char *sig;

	switch (o->cls) {
	case FZ_FAULT:
		snprintf(buf, len, "fault:%d:%s%s%s", o->code,
			 o->access & PTP_ACCESS_READ ? "r" : "",
			 o->access & PTP_ACCESS_WRITE ? "w" : "",
			 o->access & PTP_ACCESS_EXEC ? "x" : "");
		break;
	case FZ_SIGNAL:
		sig = sigabbrev_np(o->signo);
		snprintf(buf, len, "signal:%s:%d", sig ? sig : "?", o->code);
		break;
	default:
		snprintf(buf, len, "%s", fz_class_name(o->cls));
		break;
	}
}

/* Seeds ---------------------------------------------------------------- */

#define SEED(sym, esc, ip_only)                                            \
	extern const uint8_t fz_seed_##sym##_start[], fz_seed_##sym##_end[];
#include "seeds/seed-list.h"
#undef SEED

static const struct {
	const char *name;
	const uint8_t *start, *end;
	bool escapes_without_sysemu, escapes_ip_only_filter;
} hostile_seeds[] = {
#define SEED(sym, esc, ip_only)                                            \
	{ #sym, fz_seed_##sym##_start, fz_seed_##sym##_end, esc, ip_only },
#include "seeds/seed-list.h"
#undef SEED
};
#define NHOSTILE (sizeof(hostile_seeds) / sizeof(hostile_seeds[0]))

size_t fz_seed_count(void)
{
	return NHOSTILE + PAYLOAD_COUNT;
}

const struct fz_seed *fz_seed_get(size_t i)
{
	static struct fz_seed seed;
	const struct payload *pl;

	if (i < NHOSTILE) {
		seed = (struct fz_seed){ hostile_seeds[i].name, hostile_seeds[i].start,
					 (size_t)(hostile_seeds[i].end - hostile_seeds[i].start),
					 hostile_seeds[i].escapes_without_sysemu,
					 hostile_seeds[i].escapes_ip_only_filter };
		return &seed;
	}
	pl = payload_get((enum payload_id)(i - NHOSTILE));
	if (!pl)
		return NULL;
	seed = (struct fz_seed){ pl->name, pl->start, pl->size, false, false };
	return &seed;
}

/* Oracle positive controls ------------------------------------------------- */

struct control {
	const char *name;
	const char *expect; /* in the oracle's message */
	int (*make)(struct fz_engine *e);
};

static int make_pipe_write(struct fz_engine *e)
{
	(void)e;
	return write(FZ_FD_CANARY_PIPE, "x", 1) == 1 ? 0 : -errno;
}

static int make_file_write(struct fz_engine *e)
{
	uint8_t b = (uint8_t)~e->canary_pattern[100];

	return pwrite(FZ_FD_CANARY_FILE, &b, 1, 100) == 1 ? 0 : -errno;
}

static int make_signal(struct fz_engine *e)
{
	(void)e;
	return raise(SIGHUP) == 0 ? 0 : -errno;
}

static int make_pending_signal(struct fz_engine *e)
{
	sigset_t set;

	(void)e;
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	return syscall(SYS_tgkill, getpid(), gettid(), SIGWINCH) == 0 ? 0 : -errno;
}

static void unblock_pending_signal(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static int make_stop(struct fz_engine *e)
{
	if (!e->cfg.tracer_stops)
		return -ENOTSUP;
	/* The supervisor counts the stop and continues us. */
	return raise(SIGSTOP) == 0 ? 0 : -errno;
}

static int make_stub_write(struct fz_engine *e)
{
	char path[64];
	uint8_t b = (uint8_t)~e->stub_copy[0];
	int fd, rc = 0;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)ptp_as_pid(e->as));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pwrite(fd, &b, 1, (off_t)e->stub_start) != 1)
		rc = -errno;
	close(fd);
	return rc;
}

static int make_stray(struct fz_engine *e)
{
	pid_t pid = fork();

	(void)e;
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		for (;;)
			pause();
	}
	return 0;
}

/* The fd and the mapping below stay: the rebase takes them into the new
 * baseline. */
static int make_fd(struct fz_engine *e)
{
	(void)e;
	return open("/dev/null", O_RDONLY) >= 0 ? 0 : -errno;
}

static int make_mapping(struct fz_engine *e)
{
	(void)e;
	return mmap(NULL, CANARY_SIZE, PROT_READ, MAP_SHARED, FZ_FD_CANARY_FILE, 0) !=
			       MAP_FAILED
		       ? 0
		       : -errno;
}

static int make_file(struct fz_engine *e)
{
	int fd = openat(e->dir_fd, "intruder", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int make_master_death(struct fz_engine *e)
{
	int rc = kill(ptp_master_pid(e->p), SIGKILL) == 0 ? 0 : -errno;

	/* The core learns of the death at its next look. */
	for (int i = 0; rc == 0 && i < 1000 && ptp_platform_status(e->p) == 0; i++)
		usleep(1000);
	return rc;
}

static int make_as_death(struct fz_engine *e)
{
	struct fz_outcome o;
	int rc;

	if (kill(ptp_as_pid(e->as), SIGKILL) < 0)
		return -errno;
	rc = fz_exec(e, code_filler, sizeof(code_filler), &o);
	if (rc < 0)
		return rc;
	/* Not an oracle check but an outcome: report it through the pipe
	 * canary's message so the control is judged like the others. */
	/* On systrap a kill from outside looks like a self-kill. */
	return o.cls == FZ_DIED || o.cls == FZ_SELF_KILL ? make_pipe_write(e) : -EPROTO;
}

/* systrap: a death that another address space felt is never a self-kill.
 * The sentinel is killed with the fuzzed one. */
static int make_death_felt_elsewhere(struct fz_engine *e)
{
	struct fz_outcome o;
	int rc;

	if (!is_systrap(e))
		return -ENOTSUP;
	if (kill(ptp_as_pid(e->sentinel), SIGKILL) < 0 || kill(ptp_as_pid(e->as), SIGKILL) < 0)
		return -errno;
	rc = fz_exec(e, code_filler, sizeof(code_filler), &o);
	if (rc < 0)
		return rc;
	return o.cls == FZ_DIED ? make_pipe_write(e) : -EPROTO;
}

int fz_oracle_selftest(struct fz_engine *e, int *total,
		       void (*report)(const char *name, bool fired,
				      const char *why))
{
	static const struct control controls[] = {
		{ "canary pipe", "canary pipe", make_pipe_write },
		{ "canary file", "canary file", make_file_write },
		{ "signal", "reached the tracer", make_signal },
		{ "tracer stopped", "stopped", make_stop },
		{ "stub code", "stub's code", make_stub_write },
		{ "stray process", "stray", make_stray },
		{ "pending signal", "pending", make_pending_signal },
		{ "tracer fds", "fds", make_fd },
		{ "tracer mappings", "mappings", make_mapping },
		{ "canary directory", "canary directory", make_file },
		{ "address space died", "canary pipe", make_as_death },
		{ "death felt elsewhere", "canary pipe", make_death_felt_elsewhere },
		{ "platform died", "platform is dead", make_master_death },
	};
	int fired = 0, n = (int)(sizeof(controls) / sizeof(controls[0]));
	char why[256];

	*total = n;
	for (int i = 0; i < n; i++) {
		const struct control *c = &controls[i];
		int rc = fz_oracle(e, true, why, sizeof(why));
		bool ok;

		if (rc != 0) {
			report(c->name, false, "the oracle was not clean before");
			fz_oracle_rebase(e);
			continue;
		}
		rc = c->make(e);
		if (rc == -ENOTSUP && c->make == make_death_felt_elsewhere) {
			/* Not a control here: on ptrace every death is an escape. */
			(*total)--;
			continue;
		}
		if (rc < 0) {
			snprintf(why, sizeof(why), "could not make the violation: %s",
				 strerror(-rc));
			report(c->name, false, why);
			continue;
		}
		ok = fz_oracle(e, true, why, sizeof(why)) == 1 && strstr(why, c->expect);
		if (c->make == make_pending_signal)
			unblock_pending_signal();
		if (fz_oracle_rebase(e) < 0 || fz_oracle(e, true, why + strlen(why),
							 sizeof(why) - strlen(why)) != 0) {
			report(c->name, false, "the oracle stayed dirty after the rebase");
			continue;
		}
		report(c->name, ok, ok ? why : "the oracle did not see it");
		fired += ok;
	}
	return fired;
}
