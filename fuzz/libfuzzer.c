/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptbench-fuzz: the libFuzzer target. Each input is app code; an escape (an
 * outcome that only a host syscall explains, or any oracle violation)
 * aborts, so libFuzzer keeps the input as a crash. The cheap oracle runs
 * after every input, the full one every PTBENCH_FUZZ_FULL_EVERY inputs
 * (default 64) and at exit. PTBENCH_FUZZ_STATS=FILE: the figures as JSON at
 * exit. PTBENCH_FUZZ_BACKEND=ptrace|systrap (default ptrace).
 * PTBENCH_FUZZ_MODE=faithful|lean (default lean; systrap: faithful only).
 * PTBENCH_FUZZ_UNSAFE_CONT=1: the positive control (ptbench-fuzz-unsafe
 * only; the normal target refuses it): the core resumes with PTRACE_CONT,
 * so the seeds' syscalls run on the host and the first escape aborts.
 * Run through scripts/ptbench fuzz.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "stats.h"

/* Outcomes as coverage: libFuzzer reads this section as extra features
 * (cleared before each input), so an input that ends in a new way, or
 * makes a new first syscall, is kept in the corpus like new code coverage
 * would be. The app's code runs in another process, where libFuzzer's own
 * coverage cannot see. */
#define OUTCOME_SLOTS 2048
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t outcome_features[2 * OUTCOME_SLOTS];

static struct fz_engine *engine;
static struct fz_stats stats;
static unsigned long full_every = 64;
static struct timespec started;
static enum ptp_backend fuzz_backend;
static enum ptp_switch_mode fuzz_mode;

static double elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - started.tv_sec) +
	       (double)(t.tv_nsec - started.tv_nsec) / 1e9;
}

static unsigned long hash(const char *s)
{
	unsigned long h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* PTBENCH_FUZZ_WRITE_SEEDS=DIR: the seed corpus as files, one per seed. */
static int write_seeds(const char *dir)
{
	char path[4096];

	for (size_t i = 0; i < fz_seed_count(); i++) {
		const struct fz_seed *s = fz_seed_get(i);
		FILE *f;

		if (!s || !s->size)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, s->name);
		f = fopen(path, "we");
		if (!f || fwrite(s->code, 1, s->size, f) != s->size || fclose(f) != 0) {
			fprintf(stderr, "ptbench-fuzz: %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	return 0;
}

static void write_stats(void)
{
	const char *path = getenv("PTBENCH_FUZZ_STATS");
	char extra[256];
	int rc;

	if (!path || !engine)
		return;
	snprintf(extra, sizeof(extra),
		 "  \"backend\": \"%s\",\n  \"mode\": \"%s\",\n  \"seconds\": %.3f,\n"
		 "  \"full_check_every\": %lu",
		 ptp_backend_name(fuzz_backend), ptp_mode_name(fuzz_mode),
		 elapsed(), full_every);
	rc = fz_stats_write_json(&stats, extra, path);
	if (rc < 0)
		fprintf(stderr, "ptbench-fuzz: %s: %s\n", path, strerror(-rc));
}

static void escape(const char *why)
{
	fprintf(stderr, "ptbench-fuzz: ESCAPE: %s\n", why);
	write_stats();
	fz_engine_abandon(engine);
	abort();
}

static void finish(void)
{
	char why[256];

	if (engine && fz_oracle(engine, true, why, sizeof(why)) != 0) {
		fz_stats_violation(&stats, why);
		fprintf(stderr, "ptbench-fuzz: ESCAPE at the final check: %s\n", why);
	}
	write_stats();
	fz_engine_close(engine);
	engine = NULL;
}

static void on_hang(void)
{
	stats.hangs++;
	escape("a switch did not return after the watchdog's interrupt");
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct fz_config cfg;
	const char *mode = getenv("PTBENCH_FUZZ_MODE");
	const char *backend = getenv("PTBENCH_FUZZ_BACKEND");
	const char *every = getenv("PTBENCH_FUZZ_FULL_EVERY");
	char err[256];

	/* The engine makes a canary directory the cwd (where an escaped
	 * open() would create files): corpus paths must not depend on it. */
	for (int i = 1; i < *argc; i++) {
		char *abs;

		if ((*argv)[i][0] != '-' && (*argv)[i][0] != '/' &&
		    (abs = realpath((*argv)[i], NULL)))
			(*argv)[i] = abs;
	}
	if (getenv("PTBENCH_FUZZ_WRITE_SEEDS"))
		exit(write_seeds(getenv("PTBENCH_FUZZ_WRITE_SEEDS")));
	fz_config_default(&cfg);
	cfg.libfuzzer = true;
	cfg.unsafe_cont = getenv("PTBENCH_FUZZ_UNSAFE_CONT") != NULL;
	cfg.on_hang = on_hang;
	if (backend && ptp_backend_parse(backend, &cfg.backend) < 0) {
		fprintf(stderr, "ptbench-fuzz: unknown PTBENCH_FUZZ_BACKEND '%s'\n", backend);
		exit(2);
	}
	if (cfg.backend == PTP_BACKEND_SYSTRAP)
		cfg.mode = PTP_MODE_FAITHFUL;
	if (mode && ptp_mode_parse(mode, &cfg.mode) < 0) {
		fprintf(stderr, "ptbench-fuzz: unknown PTBENCH_FUZZ_MODE '%s'\n", mode);
		exit(2);
	}
	fuzz_backend = cfg.backend;
	fuzz_mode = cfg.mode;
	if (every && (full_every = strtoul(every, NULL, 10)) == 0) {
		fprintf(stderr, "ptbench-fuzz: bad PTBENCH_FUZZ_FULL_EVERY '%s'\n", every);
		exit(2);
	}
	if (fz_engine_open(&cfg, &engine, err, sizeof(err)) < 0) {
		fprintf(stderr, "ptbench-fuzz: %s\n", err);
		exit(1);
	}
	clock_gettime(CLOCK_MONOTONIC, &started);
	atexit(finish);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_outcome o;
	char why[256];
	int rc;

	if (size == 0)
		return 0;
	rc = fz_exec(engine, data, size, &o);
	if (rc < 0) {
		snprintf(why, sizeof(why), "the platform failed: %s", strerror(-rc));
		fz_stats_violation(&stats, why);
		escape(why);
	}
	fz_stats_add(&stats, &o);
	fz_outcome_key(&o, why, sizeof(why));
	outcome_features[hash(why) % OUTCOME_SLOTS] = 1;
	if (o.first_nr >= 0)
		outcome_features[OUTCOME_SLOTS + (unsigned long)o.first_nr % OUTCOME_SLOTS] = 1;
	if (fz_class_escape(o.cls)) {
		fz_outcome_key(&o, why, sizeof(why));
		escape(why);
	}
	if (fz_oracle(engine, stats.execs % full_every == 0 || fz_outcome_needs_full_check(&o),
		      why, sizeof(why)) != 0) {
		fz_stats_violation(&stats, why);
		escape(why);
	}
	return 0;
}
