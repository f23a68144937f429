/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The app family: real, unmodified programs (Debian's busybox-static and
 * the sentry's static pthread test program) run natively and through
 * ptbench-exec (sentry/) in each switch mode. One iteration is one run of
 * the program, timed from spawn to reaping (manual time), output to
 * /dev/null.
 *
 *   app/NAME/native             the program alone
 *   app/NAME/ptrace_faithful    ptbench-exec --mode faithful --stats
 *   app/NAME/ptrace_lean        ptbench-exec --mode lean --stats
 *
 * The backend is in the name (<family>/<backend>_<variant>, as the README
 * names table says for every backend but the first families'): only
 * ptrace exists today, so only its variants are registered.
 *
 * Each sentry run's counters come from its --stats (syscalls, switches,
 * injections, migrations, the time split); scripts/bench_report.py turns
 * them into the overhead over native, the per-syscall overhead and its
 * model. The syscall count is checked against `strace -c -f` of the native
 * run (once per workload and process, outside the timing), leaving out the
 * calls the two cannot agree on (APP_UNCOMPARED below).
 *
 * The inputs are generated on first use into PTBENCH_APP_DIR (default
 * <source>/.cache/app/, ignored by git) and reused: a text file for gzip
 * and sha256sum, a tree of files for find, ls -lR and threads (4 threads
 * hashing its files). --ptbench_app_size=guest makes them 100 x smaller
 * (for emulated guests), --ptbench_app_size=
 * quick (what "ptbench bench --quick" and "run" pass) makes them 10 x
 * smaller; the names stay the same, the counters input_bytes and files and
 * the context key app_size say which was run.
 *
 * The sentry pins its own tracer threads (and the core the traced thread
 * beside each); the benchmark does not pin either side, so the sentry
 * starts with an affinity that covers every allowed CPU, as a user's
 * would, and the migrations counter tests that its pinning holds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

/* Calls whose counts differ between a native strace and the sentry for
 * known reasons, left out on both sides: futex (contention decides how
 * many), the time calls the vDSO serves natively (the sentry offers no
 * vDSO, so they are real syscalls there), execve (strace sees the first
 * program's; the sentry loads it itself), exit and exit_group (strace -c
 * counts a call when it returns, and these never do; the sentry counts
 * them) and rseq (ENOSYS in the sentry: glibc then stops registering it
 * in new threads, natively each thread registers). */
static const char *const APP_UNCOMPARED[] = {
	"futex", "clock_gettime", "gettimeofday", "time", "getcpu", "execve", "exit", "exit_group",
	"rseq", NULL,
};
/* A call the sentry refuses with ENOSYS and glibc then makes another way
 * (clone3, retried as clone): the sentry's refused attempts are not
 * counted, its retries are, as the native call is. */
static const char *const APP_RETRIED[] = { "clone3", NULL };

enum app_input { IN_NONE, IN_TEXT, IN_TREE };
enum app_variant { V_NATIVE, V_FAITHFUL, V_LEAN, V_SYSTRAP, V_COUNT };
static const char *const variant_name[V_COUNT] = { "native", "ptrace_faithful", "ptrace_lean",
						   "systrap" };
static const char *const variant_backend[V_COUNT] = { NULL, "ptrace", "ptrace", "systrap" };
static const char *const variant_mode[V_COUNT] = { NULL, "faithful", "lean", "faithful" };

#define APP_MAX_ARGS 8

struct app_workload {
	const char *name;
	enum app_input input;
	bool own_program; /* the sentry's pthread program (hashfiles), not busybox */
	const char *args[APP_MAX_ARGS]; /* busybox applet or own program's arguments; "@IN" is the input */
	/* The strace count, found once (strace_done) per process. */
	bool strace_done;
	double strace_total, strace_compared;
	char strace_err[256];
};

static struct app_workload workloads[] = {
	{ .name = "gzip", .input = IN_TEXT, .args = { "gzip", "-9", "-c", "@IN" } },
	{ .name = "find", .input = IN_TREE, .args = { "find", "@IN" } },
	{ .name = "ls_lR", .input = IN_TREE, .args = { "ls", "-lR", "@IN" } },
	{ .name = "sha256sum", .input = IN_TEXT, .args = { "sha256sum", "@IN" } },
	{ .name = "startup", .input = IN_NONE, .args = { "true" } },
	{ .name = "threads", .input = IN_TREE, .own_program = true, .args = { "-j", "4", "@IN" } },
};

struct app_bench {
	struct app_workload *w;
	enum app_variant v;
};
static struct app_bench app_benches[sizeof(workloads) / sizeof(workloads[0])][V_COUNT];

/* Sizes: the (20 MB of text, 50,000 files), a tenth of them
 * (quick), and a hundredth (guest: the kernel matrix's emulated guests,
 * where an instruction costs a hundred times more). */
static unsigned int size_divisor(void)
{
	return !strcmp(bench_config.app_size, "quick") ? 10u :
	       !strcmp(bench_config.app_size, "guest") ? 100u : 1u;
}

static size_t text_bytes(void)
{
	return 20000000u / size_divisor();
}

static unsigned int tree_files(void)
{
	return 50000u / size_divisor();
}

/* ---- paths ------------------------------------------------------------ */

static const char *busybox_path(char *buf, size_t len)
{
	const char *e = getenv("PTBENCH_BUSYBOX");

	if (e && *e)
		return e;
	snprintf(buf, len, "%s/.cache/sysroot/%s/bin/busybox", PTBENCH_SOURCE_ROOT, PTBENCH_ARCH);
	return buf;
}

/* The sentry and the pthread program: those of this build, or
 * PTBENCH_SENTRY and PTBENCH_APP_THREADS_PROG (a VM guest carries them
 * elsewhere). */
static const char *sentry_path(void)
{
	const char *e = getenv("PTBENCH_SENTRY");

	return e && *e ? e : PTBENCH_SENTRY_EXE;
}

static const char *threads_prog_path(void)
{
	const char *e = getenv("PTBENCH_APP_THREADS_PROG");

	return e && *e ? e : PTBENCH_APP_THREADS_PROG;
}

/* The folder of the generated inputs, in buf. */
static void app_dir(char *buf, size_t len)
{
	const char *e = getenv("PTBENCH_APP_DIR");

	if (e && *e)
		snprintf(buf, len, "%s", e);
	else
		snprintf(buf, len, "%s/.cache/app", PTBENCH_SOURCE_ROOT);
}

static int mkdir_p(const char *path)
{
	char tmp[4096];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* ---- generated inputs ------------------------------------------------- */

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64*: the same inputs on every machine. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

#define VOCAB 4096

/* A vocabulary of made-up words; drawing with a skew (the square of a
 * uniform number) gives text that compresses about as English does. */
static void make_vocab(char vocab[VOCAB][12], uint64_t *s)
{
	for (int i = 0; i < VOCAB; i++) {
		int n = 2 + (int)(rng_next(s) % 8);

		for (int j = 0; j < n; j++)
			vocab[i][j] = (char)('a' + rng_next(s) % 26);
		vocab[i][n] = 0;
	}
}

static const char *pick_word(char vocab[VOCAB][12], uint64_t *s)
{
	double u = (double)(rng_next(s) >> 11) / 9007199254740992.0;

	return vocab[(int)(u * u * VOCAB) % VOCAB];
}

/* Writes about want bytes of lines of words to f. */
static int write_text(FILE *f, size_t want, uint64_t seed, char vocab[VOCAB][12])
{
	uint64_t s = seed;
	size_t done = 0;

	while (done < want) {
		int words = 6 + (int)(rng_next(&s) % 9);
		char line[256];
		int n = 0;

		for (int i = 0; i < words; i++)
			n += snprintf(line + n, sizeof(line) - (size_t)n, "%s%s", i ? " " : "",
				      pick_word(vocab, &s));
		line[n++] = '\n';
		if (fwrite(line, 1, (size_t)n, f) != (size_t)n)
			return -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Writes the text input to path. */
static int make_text(const char *path, char *err, size_t errlen)
{
	static char vocab[VOCAB][12];
	uint64_t s = 0x9e3779b97f4a7c15ull;
	FILE *f = fopen(path, "we");
	int rc;

	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%.300s: %s", path, strerror(-rc));
		return rc;
	}
	make_vocab(vocab, &s);
	rc = write_text(f, text_bytes(), s, vocab);
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	if (rc) {
		unlink(path);
		snprintf(err, errlen, "writing %.300s: %s", path, strerror(-rc));
	}
	return rc;
}

/* The tree input at root: top dirs of 10 leaf dirs of 100 small files
 * each. */
static int make_tree(const char *root, char *err, size_t errlen)
{
	static char vocab[VOCAB][12];
	uint64_t s = 0x243f6a8885a308d3ull;
	unsigned int n = 0, files = tree_files();
	char path[4400];

	make_vocab(vocab, &s);
	snprintf(path, sizeof(path), "%s", root);
	if (mkdir(root, 0755) < 0)
		goto fail;
	for (unsigned int top = 0; n < files; top++) {
		snprintf(path, sizeof(path), "%s/d%03u", root, top);
		if (mkdir(path, 0755) < 0)
			goto fail;
		for (unsigned int leaf = 0; leaf < 10 && n < files; leaf++) {
			snprintf(path, sizeof(path), "%s/d%03u/e%u", root, top, leaf);
			if (mkdir(path, 0755) < 0)
				goto fail;
			for (unsigned int i = 0; i < 100 && n < files; i++, n++) {
				FILE *f;
				int rc;

				snprintf(path, sizeof(path), "%s/d%03u/e%u/f%03u.txt", root, top, leaf, i);
				f = fopen(path, "we");
				if (!f)
					goto fail;
				rc = write_text(f, rng_next(&s) % 200, rng_next(&s) | 1, vocab);
				if (fclose(f) != 0 || rc)
					goto fail;
			}
		}
	}
	return 0;
fail:
	snprintf(err, errlen, "%.300s: %s", path, strerror(errno ? errno : EIO));
	return -(errno ? errno : EIO);
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* The input named base (made by make unless it is there already) in the
 * app dir; its path in out. Made under a tmp name and renamed, so a
 * half-made input is never used (a failed tree stays as its tmp name).
 * 0 or -errno with the reason in err. */
static int ensure_input(const char *base, int (*make)(const char *, char *, size_t), char *out,
			size_t outlen, char *err, size_t errlen)
{
	char dir[4096], tmp[4300];
	struct stat sb;
	int rc;

	app_dir(dir, sizeof(dir));
	snprintf(out, outlen, "%.4000s/%s", dir, base);
	if (stat(out, &sb) == 0)
		return 0;
	if ((rc = mkdir_p(dir)) < 0) {
		snprintf(err, errlen, "mkdir %.300s: %s", dir, strerror(-rc));
		return rc;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", out, (int)getpid());
	rc = make(tmp, err, errlen);
	if (!rc && rename(tmp, out) < 0) {
		rc = -errno;
		/* Another run made the same input meanwhile (a tree cannot be
		 * renamed over a full folder): theirs is as good. */
		if ((rc == -ENOTEMPTY || rc == -EEXIST) && stat(out, &sb) == 0) {
			nftw(tmp, remove_one, 16, FTW_DEPTH | FTW_PHYS);
			return 0;
		}
		snprintf(err, errlen, "rename to %.300s: %s", out, strerror(-rc));
	}
	return rc;
}

/* ---- running a program ------------------------------------------------ */

/* Spawns argv with stdin and stdout on /dev/null and stderr into errfile;
 * waits. The wall time in *ns; 0 when it exited 0, else -1 with what
 * happened and the tail of its stderr in err. */
static int run_program(char *const argv[], const char *errfile, uint64_t *ns, char *err,
		       size_t errlen)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	uint64_t t0;
	pid_t pid;
	int rc, status;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, errfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	t0 = bench_now_ns();
	rc = posix_spawn(&pid, argv[0], &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		snprintf(err, errlen, "spawning %.300s: %s", argv[0], strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	*ns = bench_now_ns() - t0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	{
		char tail[160] = "";
		FILE *f = fopen(errfile, "re");

		if (f) {
			size_t n;

			if (fseek(f, -(long)(sizeof(tail) - 1), SEEK_END) < 0)
				rewind(f);
			n = fread(tail, 1, sizeof(tail) - 1, f);
			tail[n] = 0;
			for (char *p = tail; *p; p++)
				if (*p == '\n')
					*p = ' ';
			fclose(f);
		}
		if (WIFSIGNALED(status))
			snprintf(err, errlen, "%.200s killed by signal %d: %s", argv[0],
				 WTERMSIG(status), tail);
		else
			snprintf(err, errlen, "%.200s exited %d: %s", argv[0], WEXITSTATUS(status),
				 tail);
	}
	return -1;
}

static bool listed(const char *const list[], const char *name)
{
	for (int i = 0; list[i]; i++)
		if (!strcmp(name, list[i]))
			return true;
	return false;
}

/* Whether a call counts in the comparison with strace (enosys: the
 * sentry refused it). */
static bool compared(const char *name, bool enosys)
{
	return !listed(APP_UNCOMPARED, name) && !(enosys && listed(APP_RETRIED, name));
}

/* What ptbench-exec --stats printed (sentry/main.c print_stats); the
 * injections are those made for syscalls, not in loading the program. */
struct app_stats {
	double syscalls, compared, switches, injections, migrations, migrations_at_start;
	double ms_sentry, ms_inject, ms_blocked;
	double handoffs_spun, handoffs_slept;
};

static int parse_stats(const char *file, struct app_stats *s, char *err, size_t errlen)
{
	char line[512];
	bool mix = false;
	int seen = 0;
	FILE *f = fopen(file, "re");

	memset(s, 0, sizeof(*s));
	if (!f) {
		snprintf(err, errlen, "no --stats output: %.300s: %s", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b, c, d;
		double w, x, y, z;
		char name[64];
		const char *p;

		if (sscanf(line, "  syscalls %lu (ENOSYS %lu), switches %lu, injections %lu", &a,
			   &b, &c, &d) == 4) {
			s->syscalls = (double)a;
			s->switches = (double)c;
			s->injections = (double)d;
			if ((p = strstr(line, "injections ")) &&
			    sscanf(p, "injections %lu (%lu of them loading", &a, &b) == 2)
				s->injections -= (double)b;
			seen |= 1;
		} else if ((p = strstr(line, "migrations ")) && sscanf(p, "migrations %lu", &a) == 1) {
			s->migrations = (double)a;
			if ((p = strstr(line, "; ")) && sscanf(p, "; %lu of them before", &b) == 1)
				s->migrations_at_start = (double)b;
			seen |= 2;
		} else if (sscanf(line,
				  "  time: wall %lf ms, in ptp_switch (app + switch) %lf ms, in the "
				  "sentry %lf ms (%lf ms",
				  &w, &x, &y, &z) == 4) {
			s->ms_sentry = y;
			s->ms_inject = z;
			if ((p = strstr(line, "of it in injections, ")) &&
			    sscanf(p, "of it in injections, %lf ms blocked", &w) == 1)
				s->ms_blocked = w;
			seen |= 4;
		} else if (sscanf(line, "  hand-offs spun %lu, slept %lu", &a, &b) == 2) {
			s->handoffs_spun = (double)a;
			s->handoffs_slept = (double)b;
		} else if (!strncmp(line, "  syscall mix:", 14)) {
			mix = true;
		} else if (mix && sscanf(line, " %63s %lu", name, &a) == 2) {
			if (compared(name, strstr(line, " ENOSYS") != NULL))
				s->compared += (double)a;
		}
	}
	fclose(f);
	if (seen != 7) {
		snprintf(err, errlen, "%.300s: --stats lines missing (the sentry's format changed?)",
			 file);
		return -1;
	}
	return 0;
}

static bool have_strace(void)
{
	return access("/usr/bin/strace", X_OK) == 0;
}

/* strace -f -c of the native run: total and compared counts. */
static void strace_count(struct app_workload *w, char *const argv[], const char *tmpdir)
{
	char out[4200], errf[4200], line[256], err[512];
	char *sargv[APP_MAX_ARGS + 12];
	uint64_t ns;
	int n = 0;
	FILE *f;

	w->strace_done = true;
	if (!have_strace()) {
		snprintf(w->strace_err, sizeof(w->strace_err),
			 "no /usr/bin/strace: the syscall count is not checked");
		return;
	}
	snprintf(out, sizeof(out), "%s/strace.txt", tmpdir);
	snprintf(errf, sizeof(errf), "%s/strace.err", tmpdir);
	sargv[n++] = "/usr/bin/strace";
	sargv[n++] = "-f";
	sargv[n++] = "-c";
	sargv[n++] = "-U";
	sargv[n++] = "name,calls";
	sargv[n++] = "-o";
	sargv[n++] = out;
	sargv[n++] = "--";
	for (int i = 0; argv[i]; i++)
		sargv[n++] = argv[i];
	sargv[n] = NULL;
	if (run_program(sargv, errf, &ns, err, sizeof(err)) < 0) {
		snprintf(w->strace_err, sizeof(w->strace_err), "strace: %.240s", err);
		return;
	}
	f = fopen(out, "re");
	if (!f) {
		snprintf(w->strace_err, sizeof(w->strace_err), "strace wrote no %.200s", out);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		unsigned long c;

		if (sscanf(line, "%63s %lu", name, &c) != 2)
			continue;
		if (!strcmp(name, "total")) {
			w->strace_total = (double)c;
			continue;
		}
		if (compared(name, false))
			w->strace_compared += (double)c;
	}
	fclose(f);
	if (!w->strace_total)
		snprintf(w->strace_err, sizeof(w->strace_err), "strace -c printed no total");
}

/* ---- the benchmark ---------------------------------------------------- */

static void bm_app(gb_state *st, void *arg)
{
	const struct app_bench *ab = arg;
	struct app_workload *w = ab->w;
	char bb[4096], input[4200], tmpdir[] = "/tmp/ptbench-app.XXXXXX";
	char errfile[64], logfile[64], err[768], label[256];
	char *prog[APP_MAX_ARGS + 2], *argv[APP_MAX_ARGS + 12];
	struct app_stats sum = { 0 }, one;
	uint64_t total_ns = 0, iters = 0;
	int n = 0, np = 0;

	input[0] = 0;
	if (w->own_program) {
		prog[np++] = (char *)threads_prog_path();
		if (access(prog[0], X_OK) < 0) {
			snprintf(err, sizeof(err), "%.300s: %s (built with the sentry's tests)", prog[0],
				 strerror(errno));
			gb_skip_with_error(st, err);
			return;
		}
	} else {
		prog[np++] = (char *)busybox_path(bb, sizeof(bb));
		if (access(prog[0], X_OK) < 0) {
			snprintf(err, sizeof(err),
				 "busybox-static not found at %.300s (%s): scripts/vm/fetch.sh %s "
				 "--busybox-only fetches it, or set PTBENCH_BUSYBOX",
				 prog[0], strerror(errno), PTBENCH_ARCH);
			gb_skip_with_error(st, err);
			return;
		}
	}
	if (w->input == IN_TEXT || w->input == IN_TREE) {
		char base[64];
		int rc;

		if (w->input == IN_TEXT)
			snprintf(base, sizeof(base), "text-v1-%zu.txt", text_bytes());
		else
			snprintf(base, sizeof(base), "tree-v1-%u", tree_files());
		rc = ensure_input(base, w->input == IN_TEXT ? make_text : make_tree, input,
				  sizeof(input), err, sizeof(err));

		if (rc < 0) {
			gb_skip_with_error(st, err);
			return;
		}
	}
	for (int i = 0; i < APP_MAX_ARGS && w->args[i]; i++)
		prog[np++] = (char *)(strcmp(w->args[i], "@IN") ? w->args[i] : input);
	prog[np] = NULL;
	if (!mkdtemp(tmpdir)) {
		snprintf(err, sizeof(err), "mkdtemp: %s", strerror(errno));
		gb_skip_with_error(st, err);
		return;
	}
	snprintf(errfile, sizeof(errfile), "%s/stderr", tmpdir);
	snprintf(logfile, sizeof(logfile), "%s/stats", tmpdir);
	if (!w->strace_done)
		strace_count(w, prog, tmpdir);
	if (ab->v == V_NATIVE) {
		for (int i = 0; prog[i]; i++)
			argv[n++] = prog[i];
	} else {
		argv[n++] = (char *)sentry_path();
		argv[n++] = "--backend";
		argv[n++] = (char *)variant_backend[ab->v];
		argv[n++] = "--mode";
		argv[n++] = (char *)variant_mode[ab->v];
		argv[n++] = "--stats";
		argv[n++] = "--log";
		argv[n++] = logfile;
		argv[n++] = "--";
		for (int i = 0; prog[i]; i++)
			argv[n++] = prog[i];
	}
	argv[n] = NULL;

	while (gb_keep_running_batch(st, 1)) {
		uint64_t ns = 0;

		if (run_program(argv, errfile, &ns, err, sizeof(err)) < 0) {
			gb_skip_with_error(st, err);
			break;
		}
		gb_set_iteration_time(st, (double)ns / 1e9);
		total_ns += ns;
		iters++;
		if (ab->v == V_NATIVE)
			continue;
		if (parse_stats(logfile, &one, err, sizeof(err)) < 0) {
			gb_skip_with_error(st, err);
			break;
		}
		sum.syscalls += one.syscalls;
		sum.compared += one.compared;
		sum.switches += one.switches;
		sum.injections += one.injections;
		sum.migrations += one.migrations;
		sum.migrations_at_start += one.migrations_at_start;
		sum.ms_sentry += one.ms_sentry;
		sum.ms_inject += one.ms_inject;
		sum.ms_blocked += one.ms_blocked;
		sum.handoffs_spun += one.handoffs_spun;
		sum.handoffs_slept += one.handoffs_slept;
	}
	unlink(errfile);
	unlink(logfile);
	{
		char path[96];

		snprintf(path, sizeof(path), "%s/strace.txt", tmpdir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/strace.err", tmpdir);
		unlink(path);
	}
	rmdir(tmpdir);
	if (gb_error_occurred(st) || !iters)
		return;

	/* Per run (the mean over this repetition's iterations). */
	double k = 1.0 / (double)iters, secs = (double)total_ns * k / 1e9;

	if (w->input == IN_TEXT)
		gb_counter(st, "input_bytes", (double)text_bytes(), GB_COUNTER_DEFAULT);
	if (w->input == IN_TREE)
		gb_counter(st, "files", (double)tree_files(), GB_COUNTER_DEFAULT);
	if (w->strace_total) {
		gb_counter(st, "strace_syscalls", w->strace_total, GB_COUNTER_DEFAULT);
		gb_counter(st, "strace_syscalls_compared", w->strace_compared, GB_COUNTER_DEFAULT);
	}
	if (ab->v == V_NATIVE) {
		if (w->strace_total)
			gb_counter(st, "syscalls_per_s", w->strace_total / secs, GB_COUNTER_DEFAULT);
	} else {
		double sys = sum.syscalls * k;

		gb_counter(st, "syscalls", sys, GB_COUNTER_DEFAULT);
		gb_counter(st, "syscalls_compared", sum.compared * k, GB_COUNTER_DEFAULT);
		gb_counter(st, "syscalls_per_s", sys / secs, GB_COUNTER_DEFAULT);
		gb_counter(st, "switches", sum.switches * k, GB_COUNTER_DEFAULT);
		gb_counter(st, "injections", sum.injections * k, GB_COUNTER_DEFAULT);
		gb_counter(st, "migrations", sum.migrations * k, GB_COUNTER_DEFAULT);
		gb_counter(st, "migrations_at_start", sum.migrations_at_start * k,
			   GB_COUNTER_DEFAULT);
		/* The sentry's own work: not its injections (inject_ns) nor
		 * its waits in host calls, which the native run waits too. */
		gb_counter(st, "sentry_ns",
			   (sum.ms_sentry - sum.ms_inject - sum.ms_blocked) * k * 1e6,
			   GB_COUNTER_DEFAULT);
		gb_counter(st, "blocked_ns", sum.ms_blocked * k * 1e6, GB_COUNTER_DEFAULT);
		if (variant_backend[ab->v] && !strcmp(variant_backend[ab->v], "systrap")) {
			gb_counter(st, "handoffs_spun", sum.handoffs_spun * k, GB_COUNTER_DEFAULT);
			gb_counter(st, "handoffs_slept", sum.handoffs_slept * k, GB_COUNTER_DEFAULT);
		}
		gb_counter(st, "inject_ns", sum.ms_inject * k * 1e6, GB_COUNTER_DEFAULT);
	}
	snprintf(label, sizeof(label), "size=%.8s%s%.200s", bench_config.app_size,
		 w->strace_err[0] ? "; " : "", w->strace_err);
	gb_label(st, label);
}

void bench_register_app(void)
{
	size_t nw = sizeof(workloads) / sizeof(workloads[0]);
	char name[96];

	for (size_t i = 0; i < nw; i++)
		for (int v = 0; v < V_COUNT; v++) {
			struct app_bench *ab = &app_benches[i][v];

			ab->w = &workloads[i];
			ab->v = (enum app_variant)v;
			snprintf(name, sizeof(name), "app/%s/%s", workloads[i].name, variant_name[v]);
			gb_use_manual_time(gb_unit(gb_register(name, bm_app, ab), 'm'));
		}
}
