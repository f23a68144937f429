/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptbench-fuzz: the libFuzzer target. Each input is app code; an escape (an
 * outcome that only a host syscall explains, or any oracle violation)
 * aborts, so libFuzzer keeps the input as a crash. The cheap oracle runs
 * after every input, the full one every PTBENCH_FUZZ_FULL_EVERY inputs
 * (default 64) and at exit. PTBENCH_FUZZ_STATS=FILE: the figures as JSON at
 * exit. PTBENCH_FUZZ_MODE=faithful|lean (default lean).
 * Run through scripts/ptbench fuzz.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "stats.h"

static struct fz_engine *engine;
static struct fz_stats stats;
static unsigned long full_every = 64;
static struct timespec started;

static double elapsed(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - started.tv_sec) +
	       (double)(t.tv_nsec - started.tv_nsec) / 1e9;
}

static void write_stats(void)
{
	const char *path = getenv("PTBENCH_FUZZ_STATS");
	char extra[256];
	int rc;

	if (!path || !engine)
		return;
	snprintf(extra, sizeof(extra),
		 "  \"mode\": \"%s\",\n  \"seconds\": %.3f,\n  \"full_check_every\": %lu",
		 getenv("PTBENCH_FUZZ_MODE") ? getenv("PTBENCH_FUZZ_MODE") : "lean",
		 elapsed(), full_every);
	rc = fz_stats_write_json(&stats, extra, path);
	if (rc < 0)
		fprintf(stderr, "ptbench-fuzz: %s: %s\n", path, strerror(-rc));
}

static void escape(const char *why)
{
	fprintf(stderr, "ptbench-fuzz: ESCAPE: %s\n", why);
	write_stats();
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
	const char *every = getenv("PTBENCH_FUZZ_FULL_EVERY");
	char err[256];

	(void)argc;
	(void)argv;
	fz_config_default(&cfg);
	cfg.libfuzzer = true;
	cfg.on_hang = on_hang;
	if (mode && ptp_mode_parse(mode, &cfg.mode) < 0) {
		fprintf(stderr, "ptbench-fuzz: unknown PTBENCH_FUZZ_MODE '%s'\n", mode);
		exit(2);
	}
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
	if (fz_class_escape(o.cls)) {
		fz_outcome_key(&o, why, sizeof(why));
		escape(why);
	}
	if (fz_oracle(engine, stats.execs % full_every == 0, why, sizeof(why)) != 0) {
		fz_stats_violation(&stats, why);
		escape(why);
	}
	return 0;
}
