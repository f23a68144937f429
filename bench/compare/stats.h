/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Statistics for ptbench-compare: order statistics, coefficient of
 * variation and the two-sided Mann-Whitney U test.
 *
 * The U test reproduces scipy.stats.mannwhitneyu(x, y,
 * alternative='two-sided') with its defaults (method='auto',
 * use_continuity=True) as scipy 1.10 (Debian 12) implements it, because
 * that is what Google Benchmark's tools/compare.py calls; the p-values of
 * both tools on the same files then agree:
 *
 *  - method 'auto' picks the exact null distribution when either sample
 *    has at most 8 values and the pooled sample has no ties, and the
 *    normal approximation otherwise;
 *  - exact: p = 2 * P(U >= max(U1, U2)), clipped to 1;
 *  - asymptotic: z = (max(U1, U2) - n1*n2/2 - 0.5) / s with the tie
 *    corrected s = sqrt(n1*n2/12 * ((n+1) - sum(t^3 - t)/(n*(n-1)))),
 *    p = 2 * normal_sf(z), clipped to 1.
 *
 * U1 is the statistic of the first sample (x): the number of pairs
 * (x_i, y_j) with x_i > y_j, ties counting one half.
 *
 * All functions return 0 or a negative errno and print nothing.
 */
#ifndef PTBENCH_COMPARE_STATS_H
#define PTBENCH_COMPARE_STATS_H

#include <stddef.h>

/* scipy's threshold for 'auto': exact when min(n1, n2) <= this. */
#define STATS_MWU_EXACT_MAX_SMALL 8

/*
 * The exact distribution keeps n1*n2 + 1 doubles; past this many the
 * exact method reports -E2BIG and 'auto' falls back to the normal
 * approximation (scipy would still go exact there, but only with a
 * sample of 8 against more than half a million).
 */
#define STATS_MWU_EXACT_MAX_CELLS (1u << 22)

enum mwu_method {
	MWU_AUTO,
	MWU_EXACT,
	MWU_ASYMPTOTIC,
};

struct mwu_result {
	double u1;		/* statistic of x, as scipy returns it */
	double u;		/* max(U1, U2): the one the p-value uses */
	double p;		/* two-sided */
	double z;		/* asymptotic only; 0 for exact */
	enum mwu_method method;	/* MWU_EXACT or MWU_ASYMPTOTIC: the one used */
	int ties;		/* the pooled sample has tied values */
};

int stats_median(const double *x, size_t n, double *out);
int stats_mean(const double *x, size_t n, double *out);
/* Sample standard deviation (n - 1) over the mean, as a fraction. */
int stats_cv(const double *x, size_t n, double *out);

/* Ranks 1..n, ties get their average rank (scipy's rankdata default). */
int stats_rank_average(const double *v, size_t n, double *ranks);
/* sum over tie groups of t^3 - t, from average ranks. */
int stats_tie_term(const double *ranks, size_t n, double *out);

/*
 * Number of arrangements giving each U = 0..m*n under the null
 * hypothesis; counts has room for m*n + 1 values.  The counts add up to
 * binomial(m + n, m).
 */
int stats_mwu_exact_counts(size_t m, size_t n, double *counts, size_t len);
/* P(U >= u) under the null hypothesis, from the exact distribution. */
int stats_mwu_exact_sf(size_t m, size_t n, double u, double *p);

int stats_mwu(const double *x, size_t n1, const double *y, size_t n2,
	      enum mwu_method method, struct mwu_result *res);

/*
 * The smallest p-value the test (method 'auto') can give for these
 * sample sizes: that of two fully separated samples without ties.  When
 * it is not below alpha the samples are too small for any verdict.
 */
int stats_mwu_min_p(size_t n1, size_t n2, double *p);

#endif
