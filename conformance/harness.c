/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define EXIT_SKIP 77
#define CASE_TIMEOUT_S 60
/* How long stubs of a dead case may take to die (PDEATHSIG, EXITKILL). */
#define LEFTOVER_GRACE_MS 3000

enum ptp_switch_mode h_mode;
enum ptp_backend h_backend = PTP_BACKEND_PTRACE;

/* LeakSanitizer's check where the build has it (ASan builds): nonzero if
 * memory leaked, with the report on stderr. */
#if defined(__SANITIZE_ADDRESS__)
#define H_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define H_HAVE_LSAN 1
#endif
#endif
static bool leak_check_off;

void h_no_leak_check(const char *why)
{
	leak_check_off = true;
	h_note("no leak check: %s", why);
}

#ifdef H_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
static int leak_check(void)
{
	return leak_check_off ? 0 : __lsan_do_recoverable_leak_check();
}
#else
static int leak_check(void)
{
	(void)leak_check_off;
	return 0;
}
#endif

void h_skip(const char *fmt, ...)
{
	va_list ap;

	fputs("SKIP: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(EXIT_SKIP);
}

void h_note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

size_t h_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* A platform of the mode and backend under test. */
static int open_tested(unsigned int reuse_pool, struct ptp_platform **p)
{
	struct ptp_options o;

	ptp_options_default(&o);
	o.mode = h_mode;
	o.backend = h_backend;
	o.reuse_pool = reuse_pool;
	return ptp_open(&o, p);
}

struct ptp_platform *h_open_pool(unsigned int reuse_pool)
{
	struct ptp_platform *p = NULL;
	int rc = open_tested(reuse_pool, &p);

	if (rc < 0)
		fail_msg("ptp_open: %s: %s", strerror(-rc), ptp_open_error());
	return p;
}

struct ptp_platform *h_open(void)
{
	return h_open_pool(8);
}

struct ptp_as *h_as(struct ptp_platform *p)
{
	struct ptp_as *as = NULL;
	int rc = ptp_as_new(p, &as);

	if (rc < 0)
		fail_msg("ptp_as_new: %s", strerror(-rc));
	return as;
}

struct ptp_ctx *h_ctx(struct ptp_platform *p)
{
	struct ptp_ctx *ctx = NULL;
	int rc = ptp_ctx_new(p, &ctx);

	if (rc < 0)
		fail_msg("ptp_ctx_new: %s", strerror(-rc));
	return ctx;
}

int h_memfd(size_t len, const void *src, size_t srclen)
{
	int fd = memfd_create("h", MFD_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	if (src)
		assert_int_equal(pwrite(fd, src, srclen, 0), (ssize_t)srclen);
	return fd;
}

int h_try_load_at(struct ptp_as *as, uintptr_t addr, enum payload_id id)
{
	const struct payload *pl = payload_get(id);
	int fd, rc;

	if (!pl || pl->size == 0)
		return -ENOENT;
	fd = memfd_create("h-payload", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)h_page()) < 0 ||
	    pwrite(fd, pl->start, pl->size, 0) != (ssize_t)pl->size)
		rc = -errno;
	else
		rc = ptp_as_map(as, addr, h_page(), PROT_READ | PROT_EXEC, fd, 0, 0);
	close(fd);
	return rc;
}

void h_need_payload(enum payload_id id)
{
	const struct payload *pl = payload_get(id);

	assert_non_null(pl);
	if (pl->size == 0)
		h_skip("payload %s does not exist on this arch", pl->name);
}

void h_load_at(struct ptp_as *as, uintptr_t addr, enum payload_id id)
{
	int rc;

	h_need_payload(id);
	rc = h_try_load_at(as, addr, id);
	if (rc < 0)
		fail_msg("map payload %s at %#lx: %s", payload_get(id)->name,
			 (unsigned long)addr, strerror(-rc));
}

void h_load(struct ptp_as *as, struct ptp_ctx *ctx, enum payload_id id)
{
	h_load_at(as, H_CODE, id);
	ptp_ctx_set_ip(ctx, H_CODE);
}

struct hfix h_setup(enum payload_id id)
{
	struct hfix f;

	f.p = h_open();
	f.as = h_as(f.p);
	f.ctx = h_ctx(f.p);
	h_load(f.as, f.ctx, id);
	return f;
}

void h_teardown(struct hfix *f)
{
	ptp_ctx_free(f->ctx);
	ptp_as_release(f->as);
	ptp_close(f->p);
}

void h_map_rw(struct ptp_as *as, uintptr_t addr, size_t len)
{
	int fd = h_memfd(len, NULL, 0);
	int rc = ptp_as_map(as, addr, len, PROT_READ | PROT_WRITE, fd, 0, 0);

	close(fd);
	if (rc < 0)
		fail_msg("map rw %#lx+%zu: %s", (unsigned long)addr, len, strerror(-rc));
}

void h_stack(struct ptp_as *as, struct ptp_ctx *ctx, size_t len)
{
	h_map_rw(as, H_STACK, len);
	ptp_ctx_set_sp(ctx, H_STACK + len);
}

const char *h_event_name(enum ptp_event_kind kind)
{
	switch (kind) {
	case PTP_EV_SYSCALL:
		return "syscall";
	case PTP_EV_FAULT:
		return "fault";
	case PTP_EV_SIGNAL:
		return "signal";
	case PTP_EV_INTERRUPTED:
		return "interrupted";
	}
	return "none";
}

void h_switch(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_event *ev,
	      enum ptp_event_kind kind)
{
	int rc = ptp_switch(ctx, as, ev);

	if (rc < 0)
		fail_msg("ptp_switch: %s", strerror(-rc));
	if (ev->kind != kind)
		fail_msg("switch returned %s (signal %d, code %d, nr %ld, ip %#lx), "
			 "expected %s",
			 h_event_name(ev->kind), ev->info.si_signo, ev->info.si_code,
			 ev->nr, (unsigned long)ptp_ctx_ip(ctx), h_event_name(kind));
}

bool h_mapping(pid_t pid, uintptr_t from, const char *what, uintptr_t *lo, uintptr_t *hi)
{
	char path[64], line[512];
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned long a, b;

		found = sscanf(line, "%lx-%lx", &a, &b) == 2 && a >= from && strstr(line, what);
		if (found) {
			*lo = a;
			*hi = b;
		}
	}
	fclose(f);
	return found;
}

int h_children_of(pid_t pid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	if (!pid)
		pid = getpid();
	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char path[300], buf[512], *close_paren;
		int ppid;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (close_paren = strrchr(buf, ')')) &&
		    sscanf(close_paren + 2, "%*c %d", &ppid) == 1 && ppid == pid)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

static void (*current_case)(void);

static void cmocka_trampoline(void **state)
{
	(void)state;
	current_case();
}

/* Inside the child: cmocka's runner, so that its assertion messages are
 * printed (outside a runner cmocka buffers and drops them). */
static int run_in_cmocka(const struct hcase *c)
{
	const struct CMUnitTest tests[] = {
		{ c->name, cmocka_trampoline, NULL, NULL, NULL },
	};

	current_case = c->fn;
	return _cmocka_run_group_tests(c->name, tests, 1, NULL, NULL) ? 1 : 0;
}

static void reset_child(void)
{
	/* Forked cases inherit nothing of the harness's signal state. */
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
}

static void print_diag(const char *text)
{
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);

		printf("# %.*s\n", len, line);
		line += len + (nl ? 1 : 0);
	}
}

long h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool h_proc_exists(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d", pid);
	return access(path, F_OK) == 0;
}

bool h_task_exists(pid_t pid, pid_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", pid, tid);
	return access(path, F_OK) == 0;
}

int h_count_numeric(const char *dir)
{
	struct dirent *e;
	int n = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((e = readdir(d)))
		n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
	closedir(d);
	return n;
}

int h_task_count(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	return h_count_numeric(path);
}

int h_count_fds(void)
{
	int n = h_count_numeric("/proc/self/fd");

	assert_true(n > 0);
	return n - 1; /* the directory's own */
}

int h_count_maps(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		n++;
	fclose(f);
	return n;
}

bool h_stack_on_top(uintptr_t *lo, uintptr_t *hi)
{
	char line[512];
	unsigned long top_lo = 0, top_hi = 0;
	bool top_is_stack = false;
	FILE *f = fopen("/proc/self/maps", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long l, h;

		if (sscanf(line, "%lx-%lx", &l, &h) != 2 || strstr(line, "[vsyscall]") ||
		    h <= top_hi)
			continue;
		top_lo = l;
		top_hi = h;
		top_is_stack = strstr(line, "[stack]") != NULL;
	}
	fclose(f);
	*lo = top_lo;
	*hi = top_hi;
	return top_is_stack;
}

/* Orphaned stubs of a dead case are reparented to us (a subreaper): reap
 * them; any that stays alive outlived its tracer. */
static int leftovers(void)
{
	long deadline = h_now_ms() + LEFTOVER_GRACE_MS;
	int n;

	for (;;) {
		while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
			;
		n = h_children_of(0);
		if (n <= 0 || h_now_ms() > deadline)
			return n;
		usleep(10000);
	}
}

/* Runs one case in a child; returns 0 pass, 1 fail, 2 skip. */
static int run_case(const struct hcase *c, char *out, size_t outlen)
{
	int pipefd[2], status = 0;
	size_t used = 0;
	long deadline;
	bool timed_out = false;
	pid_t pid;

	out[0] = 0;
	if (getenv("H_NOFORK")) {
		/* Debugging: run inline, output straight through. */
		return run_in_cmocka(c);
	}
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(out, outlen, "pipe: %s", strerror(errno));
		return 1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		snprintf(out, outlen, "fork: %s", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		reset_child();
		dup2(pipefd[1], STDERR_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		int rc = run_in_cmocka(c);

		/* The case leaves by _exit(), which skips LeakSanitizer's exit-time
		 * check: run it here, on a case that passed. */
		if (rc == 0 && leak_check() != 0) {
			fprintf(stderr, "LeakSanitizer: the case leaked memory (report above)\n");
			rc = 1;
		}
		fflush(NULL);
		_exit(rc);
	}
	close(pipefd[1]);
	deadline = h_now_ms() + (getenv("H_TIMEOUT") ? atol(getenv("H_TIMEOUT")) : CASE_TIMEOUT_S) * 1000;
	for (;;) {
		struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
		long left = deadline - h_now_ms();
		ssize_t r;

		if (left <= 0) {
			timed_out = true;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&pfd, 1, (int)left) <= 0)
			continue;
		r = read(pipefd[0], out + used, outlen - 1 - used);
		if (r <= 0)
			break;
		used += (size_t)r;
		out[used] = 0;
		if (used == outlen - 1)
			used = 0; /* keep the tail */
	}
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	if (timed_out) {
		strncat(out, "\ntimed out", outlen - strlen(out) - 1);
		return 1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_SKIP)
		return 2;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status)) {
		size_t l = strlen(out);

		snprintf(out + l, outlen - l, "\nkilled by signal %d", WTERMSIG(status));
	}
	return 1;
}

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* The case's wall time (fork to reaped, leftovers included), as the TAP
 * comment right after its result line: TAP has no field for it, and the
 * JUnit and KCIDB reports (scripts/ptfmt.py reads it) give every case its
 * time. */
static void print_duration(long elapsed_us)
{
	printf("# duration_ms: %ld.%03ld\n", elapsed_us / 1000, elapsed_us % 1000);
}

/* Whether the backend under test has no meaning for the mode under test
 * (systrap has no lean mode): ptp_open says -EINVAL, and the whole group is
 * a skip with its reason rather than one failure per case. */
/* ptp_open's answer for the tested backend and mode, with nothing kept:
 * -EINVAL the backend refuses the mode, -ENOSYS it cannot run on this CPU
 * or kernel (systrap without FSGSBASE, say), 0 it opens. */
static int backend_open_probe(void)
{
	struct ptp_platform *p = NULL;
	int rc = open_tested(0, &p);

	if (rc == 0)
		ptp_close(p);
	return rc;
}

static const char *skip_reason(char *out)
{
	char *s = strstr(out, "SKIP: ");
	char *nl;

	if (!s)
		return "no reason given";
	s += 6;
	nl = strchr(s, '\n');
	if (nl)
		*nl = 0;
	return s;
}

int harness_main(int argc, char **argv, const char *group,
		 const struct hcase *cases, size_t ncases,
		 const char *(*group_skip)(void))
{
	static char out[65536];
	const char *only = argc > 2 ? argv[2] : NULL;
	const char *why, *backend;
	int failed = 0, n = 0;

	/* The case names, for running one of them (meson addresses a TAP
	 * program as a whole). */
	if (argc == 2 && strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < ncases; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc < 2 || argc > 3 || ptp_mode_parse(argv[1], &h_mode) < 0) {
		fprintf(stderr, "conf-%s: usage: conf-%s faithful|lean [CASE] | --list\n",
			group, group);
		return 2;
	}
	/* The backend a run tests: H_BACKEND (scripts/ptbench test --backend),
	 * else (unset or empty) the default one. */
	backend = getenv("H_BACKEND");
	if (backend && *backend && ptp_backend_parse(backend, &h_backend) < 0) {
		fprintf(stderr, "conf-%s: H_BACKEND: no backend named '%s'\n", group, backend);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	switch (backend_open_probe()) {
	case -EINVAL:
		printf("1..0 # SKIP the %s backend refuses the %s mode: %s\n",
		       ptp_backend_name(h_backend), ptp_mode_name(h_mode), ptp_open_error());
		return 0;
	case -ENOSYS:
		/* A run-time fact of this machine (a guest CPU model, an old
		 * kernel), not a failure of the platform. */
		printf("1..0 # SKIP the %s backend cannot run here: %s\n",
		       ptp_backend_name(h_backend), ptp_open_error());
		return 0;
	default:
		break;
	}
	if (group_skip && (why = group_skip())) {
		printf("1..0 # SKIP %s\n", why);
		return 0;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (only) {
		bool known = false;

		for (size_t i = 0; i < ncases; i++)
			known |= strcmp(cases[i].name, only) == 0;
		if (!known) {
			fprintf(stderr, "conf-%s: no case named '%s'\n", group, only);
			return 2;
		}
	}
	printf("1..%zu\n", only ? (size_t)1 : ncases);
	for (size_t i = 0; i < ncases; i++) {
		long t0, elapsed_us;
		int rc, left;

		if (only && strcmp(cases[i].name, only))
			continue;
		n++;
		t0 = now_us();
		rc = run_case(&cases[i], out, sizeof(out));
		left = leftovers();
		if (left > 0) {
			size_t l = strlen(out);

			snprintf(out + l, sizeof(out) - l,
				 "\n%d process(es) outlived the case's tracer", left);
			rc = 1;
		}
		elapsed_us = now_us() - t0;
		if (rc == 2) {
			printf("ok %d - %s/%s # SKIP %s\n", n, group, cases[i].name,
			       skip_reason(out));
			print_duration(elapsed_us);
			continue;
		}
		printf("%s %d - %s/%s\n", rc ? "not ok" : "ok", n, group, cases[i].name);
		print_duration(elapsed_us);
		if (rc) {
			print_diag(out);
			failed++;
		}
	}
	return failed ? 1 : 0;
}
