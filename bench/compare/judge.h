/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gate of ptbench-compare: one benchmark's verdict from its two
 * samples, the exit code a set of verdicts gives, and the key set that
 * says which benchmarks may decide it.
 *
 * A change is called only when it is both significant (two-sided
 * Mann-Whitney U, p < alpha) and large (ratio of medians beyond the
 * minimum effect): with enough repetitions any change is significant,
 * and with few any large one can be luck.  A noisy sample (CV above the
 * limit) that shows no such change gets "noisy", which asks for a rerun
 * instead of calling it unchanged.
 */
#ifndef PTBENCH_COMPARE_JUDGE_H
#define PTBENCH_COMPARE_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "gbjson.h"
#include "stats.h"

enum {
	EXIT_PASS = 0,
	EXIT_REGRESSION = 1,
	EXIT_BAD_INPUT = 2,
	EXIT_INCONCLUSIVE = 3,
};

enum verdict {
	V_UNCHANGED,
	V_IMPROVED,
	V_REGRESSED,
	V_NOISY,	/* no clear change and a CV above the limit */
	V_TOO_FEW,	/* these sample sizes cannot reach p < alpha */
	V_ERROR,	/* the benchmark reported an error on a side */
	V_ONLY_BASE,	/* not in the new file */
	V_ONLY_NEW,	/* not in the base file */
};

struct judge_params {
	double alpha;		/* default 0.05, as compare.py */
	double min_effect;	/* fraction, default 0.05 */
	double cv_max;		/* fraction, default 0.10 */
};

#define JUDGE_DEFAULT_PARAMS { .alpha = 0.05, .min_effect = 0.05, .cv_max = 0.10 }

/* compare.py calls fewer repetitions than this "unreliable". */
#define JUDGE_RECOMMENDED_REPS 9

struct cmp_side {
	size_t n;
	double median_ns, mean_ns, cv;	/* cv as a fraction */
};

struct cmp_row {
	const char *name;
	bool key;
	enum verdict verdict;
	bool tested;		/* base, new, ratio, mwu and min_p are set */
	struct cmp_side base, new;
	double ratio;		/* new median / base median */
	struct mwu_result mwu;
	double min_p;
};

const char *verdict_name(enum verdict v);

enum verdict judge_verdict(const struct judge_params *jp, double p,
			   double min_p, double ratio, double cv_base,
			   double cv_new);

/*
 * Fill row from the two samples; both must have at least 2 values and
 * no error (the caller decides what those cases mean).
 */
int judge_compare(const struct judge_params *jp, const struct gb_bench *base,
		  const struct gb_bench *new, struct cmp_row *row);

/* What a key benchmark with this verdict asks the exit code to be. */
int judge_exit_for(enum verdict v);
/* Bad input beats regression beats inconclusive beats pass. */
int judge_exit_combine(int a, int b);

/* Key set: run_name prefixes.  None at all means every benchmark. */
struct keyset {
	char **prefix;
	size_t n, cap;
	bool *used;		/* parallel to prefix: matched some benchmark */
};

int keyset_add(struct keyset *k, const char *prefix);
/*
 * One prefix a line; blank lines and lines starting with '#' are
 * skipped, surrounding white space is trimmed.  On a bad file returns a
 * negative errno with a one-line reason in err.
 */
int keyset_load(struct keyset *k, const char *path, char *err, size_t errlen);
bool keyset_match(struct keyset *k, const char *name);
void keyset_free(struct keyset *k);

#endif
