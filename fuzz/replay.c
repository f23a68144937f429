/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptbench-fuzz-replay: the fuzzer without libFuzzer, for CI. Runs the seeds
 * (hostile ones and stub/'s payloads) and seeded-random inputs through the
 * same engine and oracle as the libFuzzer target, inside a supervisor that
 * sees the tracer stopped or killed. Modes:
 *   (default)       seeds + --random N inputs; fails on any escape
 *   --selftest      the oracle's positive controls, one per check
 *   --unsafe-cont   the positive control of the whole fuzzer: the core
 *                   resumes with PTRACE_CONT; every seed marked in
 *                   seeds/seed-list.h must be reported as an escape
 * Exit: 0 pass, 1 fail, 2 usage, 77 skipped (the reason on stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "fuzz-abi.h"
#include "stats.h"

#define EXIT_SKIP 77

struct args {
	enum ptp_switch_mode mode;
	enum ptp_backend backend;
	unsigned long random;
	unsigned long seed;
	unsigned int full_every;
	bool selftest, unsafe_cont;
	const char *json;
	const char *input; /* --input: one file, --repeat times */
	unsigned long repeat;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ptbench-fuzz-replay [--mode faithful|lean] [--backend ptrace|systrap]\n"
		"                           [--random N] [--seed S] [--full-every K] [--json FILE]\n"
		"       ptbench-fuzz-replay --selftest [--mode M]\n"
		"       ptbench-fuzz-replay --unsafe-cont [--mode M] [--json FILE]\n"
		"       ptbench-fuzz-replay --input FILE [--repeat N] [--mode M]\n");
}

static int parse_ulong(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	return errno || end == s || *end || s[0] == '-' ? -1 : 0;
}

/* A bad --json fails before the run: the temporary file the stats go
 * through (stats.c) can be made. */
static bool json_path_ok(const char *path)
{
	char tmp[4096];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "ptbench-fuzz-replay: cannot write %s: %s\n", path, strerror(errno));
		return false;
	}
	close(fd);
	unlink(tmp);
	return true;
}

static int parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "mode", required_argument, 0, 'm' },
		{ "backend", required_argument, 0, 'b' },
		{ "random", required_argument, 0, 'r' },
		{ "seed", required_argument, 0, 's' },
		{ "full-every", required_argument, 0, 'f' },
		{ "json", required_argument, 0, 'j' },
		{ "selftest", no_argument, 0, 'T' },
		{ "unsafe-cont", no_argument, 0, 'U' },
		{ "input", required_argument, 0, 'i' },
		{ "repeat", required_argument, 0, 'n' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	unsigned long v;
	int c;

	a->mode = PTP_MODE_LEAN;
	a->backend = PTP_BACKEND_PTRACE;
	a->random = 2000;
	a->seed = 1;
	a->full_every = 64;
	a->repeat = 1;
	opterr = 0; /* one line of our own per bad option, not getopt's plus the usage */
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (ptp_mode_parse(optarg, &a->mode) < 0) {
				fprintf(stderr, "ptbench-fuzz-replay: unknown mode '%s'\n", optarg);
				return -1;
			}
			break;
		case 'b':
			if (ptp_backend_parse(optarg, &a->backend) < 0) {
				fprintf(stderr, "ptbench-fuzz-replay: unknown backend '%s'\n",
					optarg);
				return -1;
			}
			break;
		case 'i':
			a->input = optarg;
			break;
		case 'r':
		case 's':
		case 'f':
		case 'n':
			if (parse_ulong(optarg, &v) < 0 || (c == 'f' && (v == 0 || v > 1u << 20))) {
				fprintf(stderr, "ptbench-fuzz-replay: bad number '%s'\n", optarg);
				return -1;
			}
			if (c == 'r')
				a->random = v;
			else if (c == 's')
				a->seed = v;
			else if (c == 'n')
				a->repeat = v;
			else
				a->full_every = (unsigned int)v;
			break;
		case 'j':
			a->json = optarg;
			break;
		case 'T':
			a->selftest = true;
			break;
		case 'U':
			a->unsafe_cont = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case ':':
			fprintf(stderr, "ptbench-fuzz-replay: %s needs a value (try: --help)\n",
				argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, "ptbench-fuzz-replay: unknown option '%s' (try: --help)\n",
				argv[optind - 1]);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "ptbench-fuzz-replay: unexpected argument '%s' (try: --help)\n",
			argv[optind]);
		return -1;
	}
	if (a->selftest + a->unsafe_cont + !!a->input > 1) {
		fprintf(stderr, "ptbench-fuzz-replay: --selftest, --unsafe-cont and --input "
				"exclude each other (try: --help)\n");
		return -1;
	}
	if (a->json && !json_path_ok(a->json))
		return -1;
	return 0;
}

/* Random inputs ------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ull;
}

static const struct fz_seed *random_seed(void)
{
	for (;;) {
		const struct fz_seed *s = fz_seed_get(rng() % fz_seed_count());

		if (s && s->size)
			return s;
	}
}

/* Random bytes, a mutated seed, or two seeds spliced: what a mutation
 * fuzzer starts from, without its feedback. */
static size_t make_input(uint8_t *buf, size_t cap)
{
	const struct fz_seed *s, *t;
	size_t len, cut;

	switch (rng() % 4) {
	case 0:
		len = 1 + rng() % 64;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rng();
		return len;
	case 1:
	case 2:
		s = random_seed();
		len = s->size < cap ? s->size : cap;
		memcpy(buf, s->code, len);
		for (unsigned int k = 1 + rng() % 4; k; k--)
			buf[rng() % len] ^= (uint8_t)(1u << (rng() % 8));
		if (rng() % 2)
			buf[rng() % len] = (uint8_t)rng();
		return len;
	default:
		s = random_seed();
		t = random_seed();
		cut = rng() % s->size;
		len = cut + t->size < cap ? cut + t->size : cap;
		memcpy(buf, s->code, cut);
		memcpy(buf + cut, t->code, len - cut);
		return len;
	}
}

/* Modes ------------------------------------------------------------------ */

static int check(struct fz_engine *e, struct fz_stats *st, bool full,
		 const char *what)
{
	char why[256];
	int rc = fz_oracle(e, full, why, sizeof(why));

	if (rc == 0)
		return 0;
	fz_stats_violation(st, why);
	fprintf(stderr, "ESCAPE (%s): %s\n", what, why);
	return fz_oracle_rebase(e) < 0 ? -EIO : 1;
}

static int run_one(struct fz_engine *e, struct fz_stats *st, const uint8_t *code,
		   size_t len, bool full, const char *what, bool *escaped)
{
	struct fz_outcome o;
	int rc = fz_exec(e, code, len, &o);
	char key[48];

	*escaped = false;
	if (rc < 0) {
		fprintf(stderr, "ptbench-fuzz-replay: %s: the platform failed: %s\n",
			what, strerror(-rc));
		fz_stats_violation(st, "the platform failed");
		*escaped = true;
		return fz_oracle_rebase(e);
	}
	fz_stats_add(st, &o);
	if (fz_class_escape(o.cls)) {
		fz_outcome_key(&o, key, sizeof(key));
		fprintf(stderr, "ESCAPE (%s): outcome %s\n", what, key);
		*escaped = true;
	}
	rc = check(e, st, full, what);
	if (rc > 0)
		*escaped = true;
	return rc < 0 ? rc : 0;
}

static int run_fuzz(struct fz_engine *e, const struct args *a, struct fz_stats *st)
{
	uint8_t buf[FZ_CODE_SIZE];
	char what[64];
	bool escaped;
	int rc;

	for (size_t i = 0; i < fz_seed_count(); i++) {
		const struct fz_seed *s = fz_seed_get(i);

		if (!s || !s->size)
			continue;
		snprintf(what, sizeof(what), "seed %s", s->name);
		rc = run_one(e, st, s->code, s->size, true, what, &escaped);
		if (rc < 0)
			return rc;
	}
	rng_state = a->seed * 0x9e3779b97f4a7c15ull + 1;
	for (unsigned long i = 0; i < a->random; i++) {
		size_t len = make_input(buf, sizeof(buf));

		snprintf(what, sizeof(what), "random input %lu (seed %lu)", i, a->seed);
		rc = run_one(e, st, buf, len, (i + 1) % a->full_every == 0, what, &escaped);
		if (rc < 0)
			return rc;
	}
	return check(e, st, true, "final check") < 0 ? -EIO : 0;
}

/* One input, again and again (a crash input of libFuzzer's, say). */
static int run_input(struct fz_engine *e, const struct args *a, struct fz_stats *st)
{
	uint8_t buf[FZ_CODE_SIZE];
	FILE *f = fopen(a->input, "re");
	size_t len;
	bool escaped;
	int rc = 0;

	if (!f)
		return -errno;
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	for (unsigned long i = 0; rc == 0 && i < a->repeat; i++)
		rc = run_one(e, st, buf, len, true, a->input, &escaped);
	return rc;
}

/* The positive control: every marked seed must be caught. */
static int run_unsafe(struct fz_engine *e, struct fz_stats *st, unsigned int *expected,
		      unsigned int *caught)
{
	bool escaped;
	int rc;

	*expected = *caught = 0;
	for (size_t i = 0; i < fz_seed_count(); i++) {
		const struct fz_seed *s = fz_seed_get(i);

		if (!s || !s->size || !s->escapes_without_sysemu)
			continue;
		rc = run_one(e, st, s->code, s->size, true, s->name, &escaped);
		if (rc < 0)
			return rc;
		(*expected)++;
		*caught += escaped;
		printf("%s %s\n", escaped ? "caught: " : "MISSED: ", s->name);
	}
	return 0;
}

static void selftest_report(const char *name, bool fired, const char *why)
{
	printf("%s %-22s %s\n", fired ? "fired: " : "SILENT:", name, why);
}

static void on_hang(void)
{
	static const char msg[] = "ptbench-fuzz-replay: HANG: a switch did not "
				  "return after the watchdog's interrupt\n";

	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static int engine_main(const struct args *a, atomic_ulong *stops)
{
	struct fz_config cfg;
	struct fz_engine *e = NULL;
	struct fz_stats *st = calloc(1, sizeof(*st));
	char err[256] = "", extra[256];
	struct timespec t0, t1;
	unsigned int expected = 0, caught = 0;
	int rc, total = 0, fired = 0, status = 0;
	double secs;

	fz_config_default(&cfg);
	cfg.mode = a->mode;
	cfg.backend = a->backend;
	cfg.unsafe_cont = a->unsafe_cont;
	cfg.tracer_stops = stops;
	cfg.on_hang = on_hang;
	if (!st)
		return 1;
	rc = fz_engine_open(&cfg, &e, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "ptbench-fuzz-replay: %s\n", err);
		fz_engine_close(e);
		free(st);
		return rc == -EPERM || rc == -ENOSYS ? EXIT_SKIP : 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (a->selftest) {
		fired = fz_oracle_selftest(e, &total, selftest_report);
		rc = 0;
	} else if (a->unsafe_cont) {
		rc = run_unsafe(e, st, &expected, &caught);
	} else if (a->input) {
		rc = run_input(e, a, st);
	} else {
		rc = run_fuzz(e, a, st);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fz_engine_close(e);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (rc < 0) {
		fprintf(stderr, "ptbench-fuzz-replay: %s\n", strerror(-rc));
		status = 1;
	} else if (a->selftest) {
		printf("oracle positive controls: %d of %d fired\n", fired, total);
		status = fired == total ? 0 : 1;
	} else {
		fz_stats_print(st, stdout);
		printf("%.1f s, %.0f executions/s (mode %s%s)\n", secs,
		       (double)st->execs / secs, ptp_mode_name(a->mode),
		       a->unsafe_cont ? ", PTRACE_CONT" : "");
		if (a->unsafe_cont) {
			printf("positive control: %u of %u hostile seeds caught\n", caught,
			       expected);
			status = caught == expected && expected > 0 ? 0 : 1;
		} else {
			status = st->escapes ? 1 : 0;
		}
		snprintf(extra, sizeof(extra),
			 "  \"mode\": \"%s\",\n  \"unsafe_cont\": %s,\n  \"seconds\": %.3f,\n"
			 "  \"control_expected\": %u,\n  \"control_caught\": %u",
			 ptp_mode_name(a->mode), a->unsafe_cont ? "true" : "false", secs,
			 expected, caught);
		if (a->json && (rc = fz_stats_write_json(st, extra, a->json)) < 0) {
			fprintf(stderr, "ptbench-fuzz-replay: %s: %s\n", a->json, strerror(-rc));
			status = 1;
		}
	}
	free(st);
	return status;
}

/* Supervision ------------------------------------------------------------- */

/* Runs the engine in a child and counts its stops: a SIGSTOP that reached
 * the tracer is seen here, counted for the engine's oracle, and undone. */
static int supervise(const struct args *a, atomic_ulong *stops)
{
	pid_t pid = fork();
	int status;

	if (pid < 0) {
		perror("ptbench-fuzz-replay: fork");
		return 1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Away from the terminal: its SIGWINCH would count as a signal
		 * that reached the tracer. */
		setsid();
		fflush(stdout);
		_exit(engine_main(a, stops));
	}
	for (;;) {
		if (waitpid(pid, &status, WUNTRACED) < 0) {
			if (errno == EINTR)
				continue;
			perror("ptbench-fuzz-replay: waitpid");
			return 1;
		}
		if (WIFSTOPPED(status)) {
			atomic_fetch_add(stops, 1);
			kill(pid, SIGCONT);
			continue;
		}
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		fprintf(stderr, "ESCAPE: the tracer was killed by signal %d (%s)\n",
			WTERMSIG(status), strsignal(WTERMSIG(status)));
		return 1;
	}
}

/*
 * A PID namespace with its own /proc keeps whatever escapes inside:
 * kill(-1, SIGSTOP) reaches only this run's processes. The positive
 * control needs it (its seeds really run); the fuzzer uses it when it can.
 * The child is the namespace's init; this process stays outside, so that
 * its own later clones (LeakSanitizer's at exit) do not land in a
 * namespace whose init is gone.
 */
static pid_t clone_into_pid_namespace(void)
{
	return (pid_t)syscall(SYS_clone, CLONE_NEWPID | CLONE_NEWNS | SIGCHLD, 0,
			      NULL, NULL, 0);
}

static int namespace_init(const struct args *a, atomic_ulong *stops)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		perror("ptbench-fuzz-replay: mount /proc in the new namespace");
		return 1;
	}
	return supervise(a, stops);
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	atomic_ulong *stops;
	pid_t pid;
	int status;

	if (parse_args(argc, argv, &a) < 0)
		return 2;
	if (a.input && access(a.input, R_OK) < 0) {
		fprintf(stderr, "ptbench-fuzz-replay: %s: %s\n", a.input, strerror(errno));
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	stops = mmap(NULL, sizeof(*stops), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stops == MAP_FAILED) {
		perror("ptbench-fuzz-replay: mmap");
		return 1;
	}
	pid = clone_into_pid_namespace();
	if (pid < 0) {
		if (a.unsafe_cont) {
			fprintf(stderr, "ptbench-fuzz-replay: SKIP: the positive control "
					"runs hostile code for real and needs a PID namespace "
					"(clone: %s)\n", strerror(errno));
			return EXIT_SKIP;
		}
		fprintf(stderr, "ptbench-fuzz-replay: no PID namespace (%s): "
				"running without one\n", strerror(errno));
		return supervise(&a, stops);
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		_exit(namespace_init(&a, stops));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
