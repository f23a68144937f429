/* SPDX-License-Identifier: Apache-2.0 */
/* ptbench-exec: runs one unmodified static program through ptplat. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "sentry.h"

/* Exit status for the sentry's own failures (not the app's). */
#define EXIT_SENTRY 125

struct sn_global sn = { .log_lock = PTHREAD_MUTEX_INITIALIZER, .stderr_fd = 2 };

static const char usage_text[] =
	"usage: ptbench-exec [--backend ptrace|systrap] [--mode faithful|lean] [--stats] [--log FILE]\n"
	"                    [--] PROGRAM [ARGS...]\n"
	"\n"
	"Runs an unmodified static ELF program (static or static-pie, for this\n"
	"machine's arch) with every syscall stopped by ptplat and implemented in\n"
	"this tracer (the sentry). Files, pipes and paths are the host's.\n"
	"\n"
	"NOT A SECURITY BOUNDARY: the program reaches the host's files with the\n"
	"sentry's rights. Use it to test ptplat with real programs, not to\n"
	"contain untrusted ones.\n"
	"\n"
	"  --backend B   the platform's backend: ptrace (the default) or systrap\n"
	"                (faithful mode only)\n"
	"  --mode M      ptplat's switch mode: faithful (default) or lean\n"
	"  --stats       at the end, print the syscall mix, switches, injections,\n"
	"                migrations and the time split: in ptp_switch, in the\n"
	"                sentry, and the parts of that in injections and blocked\n"
	"                in host calls and waits (to --log\n"
	"                FILE if given, else to stderr)\n"
	"  --log FILE    write unimplemented syscalls (ENOSYS), refused ABIs,\n"
	"                faults and signals to FILE (never to the app's stderr)\n"
	"  --test-delay-blocking MS\n"
	"                a test aid: hold every blocking host call (read, sleep,\n"
	"                futex wait, ...) back for MS ms first, or until a\n"
	"                signal comes: the instant where a signal must not be\n"
	"                lost (the exec suite's negative/lostkick)\n"
	"\n"
	"Exit status: the program's; a program killed by a signal kills the\n"
	"sentry with the same signal. 2: usage error; 125: the sentry failed\n"
	"(the message says what and why).\n";

__attribute__((format(printf, 3, 0)))
static void vwrite_line(int fd, const char *prefix, const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof(line), "%s", prefix);

	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	if (write(fd, line, (size_t)n) < 0)
		return;
}

void sn_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwrite_line(sn.stderr_fd, "ptbench-exec: ", fmt, ap);
	va_end(ap);
}

void sn_log(const char *fmt, ...)
{
	va_list ap;

	if (!sn.log)
		return;
	va_start(ap, fmt);
	pthread_mutex_lock(&sn.log_lock);
	vfprintf(sn.log, fmt, ap);
	fputc('\n', sn.log);
	fflush(sn.log);
	pthread_mutex_unlock(&sn.log_lock);
	va_end(ap);
}

static void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwrite_line(2, "ptbench-exec: ", fmt, ap);
	va_end(ap);
	exit(2);
}

/* PROGRAM as execvp would find it; NULL if nowhere. */
static char *find_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(name, '/'))
		return strdup(name);
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, len ? p : ".", name);
		if (access(buf, X_OK) == 0)
			return strdup(buf);
		p += len + (end ? 1 : 0);
	}
	return NULL;
}

static int by_count(const void *a, const void *b)
{
	unsigned long ca = atomic_load(&sn.st.syscalls[*(const int *)a]);
	unsigned long cb = atomic_load(&sn.st.syscalls[*(const int *)b]);

	return ca < cb ? 1 : ca > cb ? -1 : *(const int *)a - *(const int *)b;
}

/* The fixed costs of a run beside the program's own: the platform's
 * start-up, the load, and the tear-down (ns, CLOCK_MONOTONIC). */
struct phase_times {
	uint64_t open_ns, load_ns, close_ns;
};

static uint64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000ull + (uint64_t)(b->tv_nsec - a->tv_nsec);
}

static void print_stats(FILE *f, const struct ptp_options *opts, uint64_t wall_ns,
			const struct phase_times *ph)
{
	int order[512], n = 0;
	unsigned long total = 0, enosys = 0;

	for (int i = 0; i < 512; i++) {
		total += atomic_load(&sn.st.syscalls[i]);
		enosys += atomic_load(&sn.st.enosys[i]);
		if (atomic_load(&sn.st.syscalls[i]))
			order[n++] = i;
	}
	qsort(order, (size_t)n, sizeof(order[0]), by_count);
	fprintf(f, "ptbench-exec stats (backend %s, mode %s)\n", ptp_backend_name(opts->backend),
		ptp_mode_name(opts->mode));
	fprintf(f, "  syscalls %lu (ENOSYS %lu), switches %lu, injections %lu (%lu of them loading the program)\n",
		total, enosys, atomic_load(&sn.st.switches), atomic_load(&sn.st.injections),
		sn.st.load_injections);
	fprintf(f, "  faults %lu, signals %lu, interrupts %lu, calls restarted in place %lu, migrations %lu (se.nr_migrations of the traced threads; %lu of them before their first switch returned)\n",
		atomic_load(&sn.st.faults), atomic_load(&sn.st.signals),
		atomic_load(&sn.st.interrupts), atomic_load(&sn.st.restarts),
		atomic_load(&sn.st.migrations),
		atomic_load(&sn.st.migrations_at_start));
	/* systrap: how each side's wait ended (0 and 0 on ptrace). */
	fprintf(f, "  hand-offs spun %lu, slept %lu\n", sn.st.handoffs_spun, sn.st.handoffs_slept);
	fprintf(f, "  time: wall %.3f ms, in ptp_switch (app + switch) %.3f ms, in the sentry %.3f ms (%.3f ms of it in injections, %.3f ms blocked in host calls and waits)\n",
		(double)wall_ns / 1e6, (double)atomic_load(&sn.st.ns_switch) / 1e6,
		(double)atomic_load(&sn.st.ns_sentry) / 1e6,
		(double)(atomic_load(&sn.st.ns_inject) - sn.st.ns_load_inject) / 1e6,
		(double)atomic_load(&sn.st.ns_blocked) / 1e6);
	fprintf(f, "  fixed costs: ptp_open %.3f ms, address space, context and load %.3f ms, ptp_close %.3f ms\n",
		(double)ph->open_ns / 1e6, (double)ph->load_ns / 1e6, (double)ph->close_ns / 1e6);
	fprintf(f, "  syscall mix:\n");
	for (int i = 0; i < n; i++) {
		int nr = order[i];
		const struct sn_syscall *c = sn_syscall_lookup(nr);
		unsigned long e = atomic_load(&sn.st.enosys[nr]);

		fprintf(f, "    %-20s %10lu%s\n", nr == 511 ? "(other ABI/number)" : c->name ? c->name : "?",
			atomic_load(&sn.st.syscalls[nr]), e ? "  ENOSYS" : "");
	}
	fflush(f);
}

/* The app's fds 0-2 are copies of the sentry's, so the app closing them
 * leaves the sentry's own. */
static int init_proc(struct sn_proc *proc, const char *exe)
{
	for (int fd = 0; fd < 3; fd++) {
		int host = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		if (host >= 0 && sn_fd_install(&proc->fds, host, fd, false) != fd)
			return -EBADF;
	}
	proc->cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc->cwd < 0)
		return -errno;
	proc->umask = umask(022);
	umask((mode_t)proc->umask);
	if (!realpath(exe, proc->exe))
		snprintf(proc->exe, sizeof(proc->exe), "%s", exe);
	return 0;
}

/* A fatal signal: the sentry dies of it too, so its parent sees the
 * wait status the kernel would have given the program. */
static void die_of(int sig)
{
	sigset_t set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	exit(128 + sig);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "mode", required_argument, NULL, 'm' },
		{ "stats", no_argument, NULL, 's' },
		{ "log", required_argument, NULL, 'l' },
		{ "test-delay-blocking", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct ptp_options opts;
	struct sn_proc *proc = NULL;
	struct sn_thread *main_thread;
	struct ptp_as *as = NULL;
	struct rlimit nofile;
	const char *log_path = NULL;
	char *program, err[512];
	struct timespec ts0, ts1, ts_opened, ts_loaded, ts_ran;
	struct phase_times ph = { 0 };
	int c, rc, status;

	ptp_options_default(&opts);
	opts.pin = true;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			if (ptp_backend_parse(optarg, &opts.backend) < 0)
				usage_error("unknown --backend '%s' (known: ptrace, systrap)", optarg);
			break;
		case 'm':
			if (ptp_mode_parse(optarg, &opts.mode) < 0)
				usage_error("unknown --mode '%s' (known: faithful, lean)", optarg);
			break;
		case 's':
			sn.stats = true;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'd': {
			char *end;
			unsigned long ms = strtoul(optarg, &end, 10);

			if (!*optarg || *end || ms > 60000)
				usage_error("--test-delay-blocking '%s': want milliseconds, 0 to 60000",
					    optarg);
			sn.test_delay_blocking_ns = ms * 1000000ull;
			break;
		}
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			if (optopt)
				usage_error("option '%s' needs a value or is unknown (try: --help)",
					    argv[optind - 1]);
			usage_error("unknown option '%s' (try: --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("no PROGRAM given (try: --help)");
	program = find_program(argv[optind]);
	if (!program)
		usage_error("%s: not found in PATH", argv[optind]);
	if (log_path) {
		sn.log = fopen(log_path, "we");
		if (!sn.log)
			usage_error("--log %s: %s", log_path, strerror(errno));
	}
	/* The sentry's own stderr, kept apart from the app's fd 2. */
	sn.stderr_fd = fcntl(2, F_DUPFD_CLOEXEC, 3);
	if (sn.stderr_fd < 0)
		sn.stderr_fd = 2;
	/* Room for 1024 app fds beside the sentry's own. */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	/* A host EPIPE becomes the app's SIGPIPE (syscalls.c). */
	signal(SIGPIPE, SIG_IGN);

	clock_gettime(CLOCK_MONOTONIC, &ts0);
	rc = ptp_open(&opts, &sn.plat);
	clock_gettime(CLOCK_MONOTONIC, &ts_opened);
	ts_loaded = ts_opened;
	if (rc < 0) {
		sn_err("opening the %s platform: %s (%s)", ptp_backend_name(opts.backend), strerror(-rc),
		       ptp_open_error());
		return EXIT_SENTRY;
	}
	if (!ptp_caps(sn.plat)->syscall_info && strcmp(sn_arch_name, "aarch64"))
		sn_log("no PTRACE_GET_SYSCALL_INFO: every syscall's ABI is unknown and refused");
	status = W_EXITCODE(EXIT_SENTRY, 0);
	if ((rc = sn_proc_new(NULL, &proc)) < 0 || (rc = init_proc(proc, program)) < 0) {
		sn_err("setting up the process for %s: %s", program, strerror(-rc));
		goto out;
	}
	if ((rc = ptp_as_new(sn.plat, &as)) < 0) {
		sn_err("creating an address space for %s: %s", program, strerror(-rc));
		goto out;
	}
	if ((rc = sn_mm_new(as, &proc->mm)) < 0) {
		ptp_as_release(as);
		sn_err("creating the memory file for %s: %s", program, strerror(-rc));
		goto out;
	}
	main_thread = calloc(1, sizeof(*main_thread));
	if (!main_thread) {
		sn_err("allocating the first thread of %s: %s", program, strerror(ENOMEM));
		goto out;
	}
	main_thread->proc = proc;
	main_thread->tid = proc->pid;
	sn_altstack_reset(main_thread);
	proc->main_thread = main_thread;
	proc->threads = main_thread;
	if ((rc = ptp_ctx_new(sn.plat, &main_thread->ctx)) < 0) {
		sn_err("creating a context for %s: %s", program, strerror(-rc));
		goto out;
	}
	atomic_store(&proc->live_threads, 1);
	/* Placed before the load, whose maps create this thread's traced
	 * thread on its CPU (with pinning), and after ptp_open, whose own
	 * threads take the affinity it had. */
	sn_pin_self(0);
	rc = sn_load(proc->mm, main_thread->ctx, program, AT_FDCWD, &argv[optind], environ, err,
		     sizeof(err));
	if (rc < 0) {
		sn_err("loading %s", err);
		status = W_EXITCODE(rc == -ENOENT ? 127 : rc == -ENOEXEC || rc == -EACCES ? 126 : EXIT_SENTRY, 0);
		goto out;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts_loaded);
	sn.st.load_injections = atomic_load(&sn.st.injections);
	sn.st.ns_load_inject = atomic_load(&sn.st.ns_inject);
	/* Frees every process (proc too). */
	status = sn_proc_run_all(proc);
	proc = NULL;
out:
	if (proc)
		sn_proc_discard(proc); /* never ran */
	if (sn.plat) {
		struct ptp_stats ps;

		ptp_stats(sn.plat, &ps);
		sn.st.handoffs_spun = ps.handoffs_spun;
		sn.st.handoffs_slept = ps.handoffs_slept;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts_ran);
	/* Every exit path: no stub process may outlive the sentry. */
	ptp_close(sn.plat);
	clock_gettime(CLOCK_MONOTONIC, &ts1);
	ph.open_ns = ns_between(&ts0, &ts_opened);
	ph.load_ns = ns_between(&ts_opened, &ts_loaded);
	ph.close_ns = ns_between(&ts_ran, &ts1);
	if (sn.stats) {
		FILE *f = sn.log ? sn.log : fdopen(dup(sn.stderr_fd), "w");

		if (f) {
			print_stats(f, &opts, ns_between(&ts0, &ts1), &ph);
			if (f != sn.log)
				fclose(f);
		}
	}
	if (sn.log)
		fclose(sn.log);
	free(program);
	if (WIFSIGNALED(status))
		die_of(WTERMSIG(status));
	return WEXITSTATUS(status);
}
