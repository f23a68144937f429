/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptbench-compare: gate a new Google Benchmark run against a base run.
 *
 * Exit codes: 0 pass, 1 regression, 2 bad input or usage, 3 inconclusive
 * (a key benchmark noisy, or too few repetitions for the test).  Bad
 * input beats regression beats inconclusive beats pass.  Every error is
 * one line on stderr, "ptbench-compare: WHERE: what is wrong", so a CI
 * log shows it whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gbjson.h"
#include "judge.h"
#include "report.h"
#include "stats.h"

#define PROG "ptbench-compare"

static const char usage_text[] =
"usage: " PROG " BASE.json NEW.json [options]\n"
"\n"
"Compares the per-repetition real_time of each benchmark (Google Benchmark\n"
"JSON, run with --benchmark_repetitions=9 or more) with a two-sided\n"
"Mann-Whitney U test whose p-values match Google Benchmark's compare.py.\n"
"\n"
"  --min-effect PCT   smallest change of the median that counts (default 5)\n"
"  --alpha A          significance level (default 0.05)\n"
"  --cv-max PCT       a coefficient of variation above this is noisy (default 10)\n"
"  --keys FILE        run_name prefixes, one a line, that decide the exit code\n"
"  --key NAME         one such prefix; may be repeated\n"
"                     (default: every benchmark in both files)\n"
"  --format F         text (default), markdown or json\n"
"  --out FILE         write there (atomically) instead of stdout\n"
"\n"
"verdicts: regressed (p < alpha and slower by more than min-effect),\n"
"improved (p < alpha and faster by more), noisy (otherwise, a CV above\n"
"cv-max: rerun advised), too-few (no p < alpha possible), unchanged.\n"
"exit: 0 pass, 1 regression, 2 bad input or usage, 3 inconclusive.\n";

__attribute__((format(printf, 2, 3)))
static int die(const char *where, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": %s: ", where);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_BAD_INPUT;
}

static int parse_num(const char *opt, const char *s, double lo, double hi,
		     bool lo_open, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) ||
	    (lo_open ? v <= lo : v < lo) || v >= hi)
		return die(opt, "'%s' is not a number in %s%g, %g)", s,
			   lo_open ? "(" : "[", lo, hi);
	*out = v;
	return 0;
}

struct opts {
	const char *base, *new, *out, *keys_file;
	enum report_format fmt;
	struct judge_params jp;
	struct keyset keys;
	const char *keys_source;	/* where the keys came from, for errors */
};

static int parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_MIN_EFFECT = 256, O_ALPHA, O_CV_MAX, O_KEYS, O_KEY, O_FORMAT,
	       O_OUT, O_HELP };
	static const struct option lo[] = {
		{ "min-effect", required_argument, NULL, O_MIN_EFFECT },
		{ "alpha", required_argument, NULL, O_ALPHA },
		{ "cv-max", required_argument, NULL, O_CV_MAX },
		{ "keys", required_argument, NULL, O_KEYS },
		{ "key", required_argument, NULL, O_KEY },
		{ "format", required_argument, NULL, O_FORMAT },
		{ "out", required_argument, NULL, O_OUT },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	double v;
	int c, ret;

	/* getopt's own messages would add a second line: we say it once. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
		switch (c) {
		case O_MIN_EFFECT:
			if (parse_num("--min-effect", optarg, 0, 1000, false, &v))
				return EXIT_BAD_INPUT;
			o->jp.min_effect = v / 100.0;
			break;
		case O_ALPHA:
			if (parse_num("--alpha", optarg, 0, 1, true, &v))
				return EXIT_BAD_INPUT;
			o->jp.alpha = v;
			break;
		case O_CV_MAX:
			if (parse_num("--cv-max", optarg, 0, 1e6, true, &v))
				return EXIT_BAD_INPUT;
			o->jp.cv_max = v / 100.0;
			break;
		case O_KEYS:
			if (o->keys_file)
				return die("--keys", "given twice");
			o->keys_file = optarg;
			break;
		case O_KEY:
			ret = keyset_add(&o->keys, optarg);
			if (ret)
				return die("--key", "'%s': %s", optarg,
					   ret == -EINVAL ? "empty name" : strerror(-ret));
			break;
		case O_FORMAT:
			if (!strcmp(optarg, "text"))
				o->fmt = FMT_TEXT;
			else if (!strcmp(optarg, "markdown"))
				o->fmt = FMT_MARKDOWN;
			else if (!strcmp(optarg, "json"))
				o->fmt = FMT_JSON;
			else
				return die("--format", "'%s' is not text, markdown or json",
					   optarg);
			break;
		case O_OUT:
			o->out = optarg;
			break;
		case 'h':
		case O_HELP:
			fputs(usage_text, stdout);
			exit(fflush(stdout) ? EXIT_BAD_INPUT : EXIT_PASS);
		case ':':
			return die("usage", "%s needs a value (see --help)",
				   argv[optind - 1]);
		default:
			return die("usage", "unknown option '%s' (see --help)",
				   argv[optind - 1]);
		}
	}
	if (o->keys_file && o->keys.n)
		return die("usage", "--keys and --key do not mix; use one");
	if (argc - optind != 2)
		return die("usage", "need BASE.json and NEW.json, got %d file argument%s (see --help)",
			   argc - optind, argc - optind == 1 ? "" : "s");
	o->base = argv[optind];
	o->new = argv[optind + 1];
	o->keys_source = o->keys_file ? o->keys_file : "--key";
	return 0;
}

/* Smallest equal repetition count whose best p-value is below alpha. */
static size_t reps_needed(double alpha)
{
	size_t m;
	double p;

	for (m = 2; m < 1000; m++)
		if (!stats_mwu_min_p(m, m, &p) && p < alpha)
			return m;
	return m;
}

static int too_few(const struct opts *o, const char *file,
		   const struct gb_bench *b)
{
	size_t need = reps_needed(o->jp.alpha);

	if (b->n == 0 && b->has_agg)
		return die(file, "key benchmark '%s' has only aggregate rows; run without --benchmark_report_aggregates_only",
			   b->run_name);
	return die(file, "key benchmark '%s' has %zu repetition%s; the U test needs at least 2 per side, %zu to reach p < %g, %d recommended (--benchmark_repetitions=%d)",
		   b->run_name, b->n, b->n == 1 ? "" : "s", need,
		   o->jp.alpha, JUDGE_RECOMMENDED_REPS, JUDGE_RECOMMENDED_REPS);
}

/*
 * One row for a benchmark, or an error for a key benchmark that cannot
 * be compared.  b or n is NULL when the benchmark is not on that side.
 */
static int make_row(struct opts *o, const struct gb_bench *b,
		    const struct gb_bench *n, struct cmp_row *row)
{
	const char *name = b ? b->run_name : n->run_name;
	int ret;

	memset(row, 0, sizeof(*row));
	row->name = name;
	row->base.n = b ? b->n : 0;
	row->new.n = n ? n->n : 0;
	/* Undeclared keys: whatever both runs have decides. */
	row->key = o->keys.n ? keyset_match(&o->keys, name) : (b && n);

	if (!b || !n) {
		row->verdict = b ? V_ONLY_BASE : V_ONLY_NEW;
		if (row->key)
			return die(b ? o->new : o->base,
				   "key benchmark '%s' is missing (it is in %s)",
				   name, b ? o->base : o->new);
		return 0;
	}
	if (b->errored || n->errored) {
		const struct gb_bench *e = b->errored ? b : n;

		row->verdict = V_ERROR;
		if (row->key)
			return die(b->errored ? o->base : o->new,
				   "key benchmark '%s' reported an error: %s",
				   name, e->error_message);
		return 0;
	}
	if (b->n < 2 || n->n < 2) {
		row->verdict = V_TOO_FEW;
		if (row->key)
			return too_few(o, b->n < 2 ? o->base : o->new,
				       b->n < 2 ? b : n);
		return 0;
	}
	ret = judge_compare(&o->jp, b, n, row);
	if (ret)
		return die(o->new, "cannot compare '%s': %s", name, strerror(-ret));
	return 0;
}

static int write_out(const struct opts *o, const struct report *r)
{
	char *tmp, *dup, *dir;
	FILE *fp;
	mode_t um;
	int fd, ret;

	if (!o->out) {
		ret = report_write(stdout, o->fmt, r);
		if (ret)
			return die("stdout", "write failed: %s", strerror(-ret));
		return 0;
	}
	/* Temp file in the same directory, so the rename is atomic. */
	if (asprintf(&tmp, "%s.tmpXXXXXX", o->out) < 0)
		return die(o->out, "out of memory");
	fd = mkstemp(tmp);
	if (fd < 0) {
		dup = strdup(o->out);
		dir = dup ? dirname(dup) : (char *)".";
		die(o->out, "cannot create a temporary file in %s: %s", dir,
		    strerror(errno));
		free(dup);
		free(tmp);
		return EXIT_BAD_INPUT;
	}
	/* mkstemp makes it 0600: give it what a plain create would get. */
	um = umask(0);
	umask(um);
	if (fchmod(fd, 0666 & ~um)) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	fp = fdopen(fd, "w");
	if (!fp) {
		ret = -errno;
		close(fd);
		goto fail;
	}
	ret = report_write(fp, o->fmt, r);
	if (!ret && fsync(fileno(fp)))
		ret = -errno;
	if (fclose(fp) && !ret)
		ret = -errno;
	if (!ret && rename(tmp, o->out))
		ret = -errno;
	if (ret)
		goto fail;
	free(tmp);
	return 0;
fail:
	unlink(tmp);
	free(tmp);
	return die(o->out, "cannot write: %s", strerror(-ret));
}

int main(int argc, char **argv)
{
	struct opts o = { .jp = JUDGE_DEFAULT_PARAMS, .fmt = FMT_TEXT };
	struct gb_file base = { 0 }, new = { 0 };
	struct cmp_row *rows = NULL;
	struct report r;
	char err[512];
	size_t i, n = 0;
	int ret, code = EXIT_PASS, common = 0;

	ret = parse_args(argc, argv, &o);
	if (ret)
		goto out;
	if (o.keys_file && keyset_load(&o.keys, o.keys_file, err, sizeof(err))) {
		ret = die(o.keys_file, "%s", err);
		goto out;
	}
	if (gb_load(o.base, &base, err, sizeof(err))) {
		ret = die(o.base, "%s", err);
		goto out;
	}
	if (gb_load(o.new, &new, err, sizeof(err))) {
		ret = die(o.new, "%s", err);
		goto out;
	}

	rows = calloc(base.n + new.n + 1, sizeof(*rows));
	if (!rows) {
		ret = die(o.new, "out of memory");
		goto out;
	}
	/* Base order first, then what only the new run has. */
	for (i = 0; i < base.n; i++) {
		const struct gb_bench *nb = gb_find(&new, base.b[i].run_name);

		common += nb != NULL;
		ret = make_row(&o, &base.b[i], nb, &rows[n++]);
		if (ret)
			goto out;
	}
	for (i = 0; i < new.n; i++) {
		if (gb_find(&base, new.b[i].run_name))
			continue;
		ret = make_row(&o, NULL, &new.b[i], &rows[n++]);
		if (ret)
			goto out;
	}
	for (i = 0; i < o.keys.n; i++) {
		if (!o.keys.used[i]) {
			ret = die(o.keys_source, "key '%s' matches no benchmark in %s or %s",
				  o.keys.prefix[i], o.base, o.new);
			goto out;
		}
	}
	if (!common) {
		ret = die(o.new, "no benchmark in common with %s", o.base);
		goto out;
	}
	for (i = 0; i < n; i++)
		if (rows[i].key)
			code = judge_exit_combine(code, judge_exit_for(rows[i].verdict));

	r = (struct report){
		.base_path = o.base, .new_path = o.new, .jp = o.jp,
		.keys = &o.keys, .rows = rows, .n = n, .exit_code = code,
	};
	ret = write_out(&o, &r);
	if (!ret)
		ret = code;
out:
	free(rows);
	gb_free(&base);
	gb_free(&new);
	keyset_free(&o.keys);
	return ret;
}
