/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The statistics of ptbench-compare against values that do not come from
 * the code under test: textbook critical values, hand computations, brute
 * force enumeration, and scipy 1.10.1 (Debian 12) where noted, computed
 * as scipy.stats.mannwhitneyu(x, y) with its defaults, as compare.py calls
 * it.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "stats.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void assert_close(double got, double want, double tol)
{
	if (!(fabs(got - want) <= tol))
		fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, tol);
}

static double binom(unsigned n, unsigned k)
{
	double r = 1.0;
	unsigned i;

	for (i = 1; i <= k; i++)
		r = r * (double)(n - k + i) / (double)i;
	return r;
}

static void test_median_mean_cv(void **state)
{
	const double odd[] = { 5, 1, 3 }, even[] = { 4, 1, 3, 2 };
	const double cv[] = { 2, 4, 4, 4, 5, 5, 7, 9 };
	double v;

	(void)state;
	assert_int_equal(stats_median(odd, 3, &v), 0);
	assert_close(v, 3.0, 0);
	assert_int_equal(stats_median(even, 4, &v), 0);
	assert_close(v, 2.5, 0);
	assert_int_equal(stats_mean(cv, N(cv), &v), 0);
	assert_close(v, 5.0, 0);
	/* sum of squares 32, n - 1 = 7: sd sqrt(32/7), cv that over 5 */
	assert_int_equal(stats_cv(cv, N(cv), &v), 0);
	assert_close(v, sqrt(32.0 / 7.0) / 5.0, 1e-15);
	assert_int_equal(stats_cv(cv, 1, &v), -EINVAL);
	assert_int_equal(stats_median(cv, 0, &v), -EINVAL);
	assert_int_equal(stats_median(NULL, 3, &v), -EINVAL);
}

static void test_nan_refused(void **state)
{
	const double x[] = { 1, NAN, 3 }, y[] = { 1, 2 };
	struct mwu_result r;
	double v;

	(void)state;
	assert_int_equal(stats_median(x, 3, &v), -EINVAL);
	assert_int_equal(stats_mwu(x, 3, y, 2, MWU_AUTO, &r), -EINVAL);
	assert_int_equal(stats_mwu(y, 2, x, 3, MWU_AUTO, &r), -EINVAL);
	assert_int_equal(stats_mwu(y, 0, y, 2, MWU_AUTO, &r), -EINVAL);
}

static void test_ranks_and_tie_term(void **state)
{
	/* 3, 1, 3, 2, 3 -> sorted 1 2 3 3 3: the 3s share (3+4+5)/3 = 4 */
	const double v[] = { 3, 1, 3, 2, 3 }, want[] = { 4, 1, 4, 2, 4 };
	double r[5], t;
	size_t i;

	(void)state;
	assert_int_equal(stats_rank_average(v, 5, r), 0);
	for (i = 0; i < 5; i++)
		assert_close(r[i], want[i], 0);
	/* one group of 3: 27 - 3 */
	assert_int_equal(stats_tie_term(r, 5, &t), 0);
	assert_close(t, 24.0, 0);
}

/* 2 against 2: U takes 0..4 in C(4,2) = 6 ways as 1 1 2 1 1. */
static void test_exact_2x2_by_hand(void **state)
{
	const double want[] = { 1, 1, 2, 1, 1 };
	double c[5];
	size_t k;

	(void)state;
	assert_int_equal(stats_mwu_exact_counts(2, 2, c, 5), 0);
	for (k = 0; k < 5; k++)
		assert_close(c[k], want[k], 0);
	assert_int_equal(stats_mwu_exact_counts(2, 2, c, 4), -EINVAL);
}

/*
 * Every split of m + n ranks into the two samples, counted by brute
 * force: U is the number of (x, y) pairs with x above y.
 */
static void brute_counts(unsigned m, unsigned n, double *c)
{
	unsigned total = m + n, mask, i, j;

	for (i = 0; i <= m * n; i++)
		c[i] = 0;
	for (mask = 0; mask < (1u << total); mask++) {
		unsigned u = 0, ys_below = 0;

		if ((unsigned)__builtin_popcount(mask) != m)
			continue;
		/* walk ranks upwards: an x gains every y already passed */
		for (j = 0; j < total; j++) {
			if (mask & (1u << j))
				u += ys_below;
			else
				ys_below++;
		}
		c[u] += 1;
	}
}

static void test_exact_vs_brute_force(void **state)
{
	double c[64], b[64];
	unsigned m, n, k;

	(void)state;
	for (m = 1; m <= 7; m++) {
		for (n = 1; n <= 7; n++) {
			double sum = 0;

			assert_int_equal(stats_mwu_exact_counts(m, n, c, N(c)), 0);
			brute_counts(m, n, b);
			for (k = 0; k <= m * n; k++) {
				assert_close(c[k], b[k], 0);
				/* symmetric about m*n/2 */
				assert_close(c[k], c[m * n - k], 0);
				sum += c[k];
			}
			assert_close(sum, binom(m + n, m), 0);
		}
	}
}

/* The probabilities add up to 1, also where counts pass 2^53. */
static void test_exact_sums_to_one(void **state)
{
	static const unsigned sizes[][2] = {
		{ 5, 5 }, { 8, 8 }, { 9, 13 }, { 20, 20 }, { 8, 300 }, { 50, 50 },
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < N(sizes); i++) {
		size_t m = sizes[i][0], n = sizes[i][1], len = m * n + 1;
		double *c = malloc(len * sizeof(*c)), sum = 0, p;

		assert_non_null(c);
		assert_int_equal(stats_mwu_exact_counts(m, n, c, len), 0);
		for (k = 0; k < len; k++) {
			assert_true(c[k] >= 0);
			sum += c[k];
		}
		assert_close(sum / binom(m + n, m), 1.0, 1e-12);
		/* P(U >= 0) is everything */
		assert_int_equal(stats_mwu_exact_sf(m, n, 0, &p), 0);
		assert_close(p, 1.0, 0);
		free(c);
	}
}

/* 5 against 5, U = 2: P(U <= 2) = (1 + 1 + 2) / 252, two-sided 8/252. */
static void test_exact_5x5_u2(void **state)
{
	/* U1 = 2: x above y only in 4 > 3.5 and 5 > 3.5 */
	const double x[] = { 1, 2, 3, 4, 5 }, y[] = { 3.5, 6, 7, 8, 9 };
	struct mwu_result r;

	(void)state;
	assert_int_equal(stats_mwu(x, 5, y, 5, MWU_AUTO, &r), 0);
	assert_int_equal(r.method, MWU_EXACT);
	assert_close(r.u1, 2.0, 0);
	assert_close(r.u, 23.0, 0);
	assert_close(r.p, 8.0 / 252.0, 1e-15);
	assert_close(r.p, 0.031746031746031744, 1e-15);	/* scipy */
}

/*
 * Two-tailed critical values of U at alpha 0.05 from the standard
 * Mann-Whitney tables (largest U with p <= 0.05): the p-value at the
 * critical value is within alpha, one above it is not.
 */
static void test_exact_critical_values(void **state)
{
	static const unsigned tab[][3] = {
		{ 3, 5, 0 }, { 4, 4, 0 }, { 5, 5, 2 }, { 6, 6, 5 }, { 6, 8, 8 },
		{ 7, 7, 8 }, { 7, 10, 14 }, { 8, 8, 13 }, { 9, 9, 17 },
		{ 10, 10, 23 }, { 8, 20, 41 }, { 20, 20, 127 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(tab); i++) {
		unsigned m = tab[i][0], n = tab[i][1], u = tab[i][2];
		double p_at, p_above;

		/* two-sided p of the lower tail u is 2 P(U >= m*n - u) */
		assert_int_equal(stats_mwu_exact_sf(m, n, m * n - u, &p_at), 0);
		assert_int_equal(stats_mwu_exact_sf(m, n, m * n - u - 1, &p_above), 0);
		if (!(2 * p_at <= 0.05 && 2 * p_above > 0.05))
			fail_msg("n1=%u n2=%u: critical U %u gives p %g, U+1 gives %g",
				 m, n, u, 2 * p_at, 2 * p_above);
	}
}

/* Swapping the samples swaps U1 and U2 and keeps p. */
static void test_symmetry(void **state)
{
	const double x[] = { 1, 3, 3, 7, 9 }, y[] = { 2, 3, 6, 8, 10, 12 };
	const double a[] = { 11, 4, 9, 2 }, b[] = { 1, 5, 8, 3, 7, 6, 10 };
	struct mwu_result r1, r2;

	(void)state;
	assert_int_equal(stats_mwu(x, 5, y, 6, MWU_AUTO, &r1), 0);
	assert_int_equal(stats_mwu(y, 6, x, 5, MWU_AUTO, &r2), 0);
	assert_close(r1.u1 + r2.u1, 30.0, 0);
	assert_close(r1.p, r2.p, 1e-15);
	assert_int_equal(stats_mwu(a, 4, b, 7, MWU_AUTO, &r1), 0);
	assert_int_equal(stats_mwu(b, 7, a, 4, MWU_AUTO, &r2), 0);
	assert_int_equal(r1.method, MWU_EXACT);
	assert_close(r1.u1 + r2.u1, 28.0, 0);
	assert_close(r1.p, r2.p, 1e-15);
}

/*
 * Tie correction by hand: x = 1 2 3 3, y = 3 4 5 5 6 (n = 9).
 * Pooled ranks: 1 -> 1, 2 -> 2, the three 3s -> 4, 4 -> 6, the 5s -> 7.5,
 * 6 -> 9.  R1 = 1 + 2 + 4 + 4 = 11, U1 = 11 - 4*5/2 = 1, U = 19,
 * mean n1 n2 / 2 = 10.  Tie term (27 - 3) + (8 - 2) = 30, so
 * s = sqrt(20/12 * (10 - 30/72)) = sqrt(15.97222...) = 3.9965263...,
 * z = (19 - 10 - 0.5) / s = 2.1268470..., p = 2 * (1 - Phi(z)).
 */
static void test_tie_correction_by_hand(void **state)
{
	const double x[] = { 1, 2, 3, 3 }, y[] = { 3, 4, 5, 5, 6 };
	double s = sqrt(20.0 / 12.0 * (10.0 - 30.0 / 72.0));
	double z = 8.5 / s;
	struct mwu_result r;

	(void)state;
	assert_int_equal(stats_mwu(x, 4, y, 5, MWU_AUTO, &r), 0);
	assert_int_equal(r.method, MWU_ASYMPTOTIC);
	assert_true(r.ties);
	assert_close(r.u1, 1.0, 0);
	assert_close(r.u, 19.0, 0);
	assert_close(r.z, z, 1e-14);
	assert_close(r.z, 2.1268470, 1e-7);
	assert_close(r.p, erfc(z / sqrt(2.0)), 1e-15);
	assert_close(r.p, 0.03343279577162974, 1e-12);	/* scipy */
}

/* 'auto' as scipy: exact only if a side has <= 8 and there are no ties. */
static void test_auto_method_choice(void **state)
{
	const double s9a[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90 };
	const double s9b[] = { 15, 25, 35, 45, 55, 65, 75, 85, 95 };
	const double s8[] = { 1, 3, 5, 7, 9, 11, 13, 15 };
	const double s12[] = { 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24 };
	const double t5[] = { 1, 3, 3, 7, 9 }, t6[] = { 2, 3, 6, 8, 10, 12 };
	struct mwu_result r;

	(void)state;
	/* 9 and 9: asymptotic even without ties */
	assert_int_equal(stats_mwu(s9a, 9, s9b, 9, MWU_AUTO, &r), 0);
	assert_int_equal(r.method, MWU_ASYMPTOTIC);
	assert_close(r.u1, 36.0, 0);
	assert_close(r.p, 0.7239320396139757, 1e-12);	/* scipy */
	/* 8 and 12 without ties: exact */
	assert_int_equal(stats_mwu(s8, 8, s12, 12, MWU_AUTO, &r), 0);
	assert_int_equal(r.method, MWU_EXACT);
	assert_close(r.u1, 28.0, 0);
	assert_close(r.p, 0.13493688973565135, 1e-12);	/* scipy */
	/* one more on the small side: asymptotic */
	{
		const double s9[] = { 1, 3, 5, 7, 9, 11, 13, 15, 17 };

		assert_int_equal(stats_mwu(s9, 9, s12, 12, MWU_AUTO, &r), 0);
		assert_int_equal(r.method, MWU_ASYMPTOTIC);
		assert_close(r.p, 0.2136207303090525, 1e-12);	/* scipy */
	}
	/* small but tied: asymptotic */
	assert_int_equal(stats_mwu(t5, 5, t6, 6, MWU_AUTO, &r), 0);
	assert_int_equal(r.method, MWU_ASYMPTOTIC);
	assert_close(r.u1, 10.0, 0);
	assert_close(r.p, 0.4070160272713742, 1e-12);	/* scipy */
}

static void test_degenerate(void **state)
{
	const double same[] = { 5, 5, 5, 5, 5, 5 };
	const double a[] = { 1, 2 }, b[] = { 3, 4 };
	struct mwu_result r;

	(void)state;
	/* all tied: s = 0, z = -inf, p = 1 (scipy gives 1.0 too) */
	assert_int_equal(stats_mwu(same, 3, same + 3, 3, MWU_AUTO, &r), 0);
	assert_int_equal(r.method, MWU_ASYMPTOTIC);
	assert_close(r.p, 1.0, 0);
	/* 2 against 2 fully separated: 2 * 1/6 */
	assert_int_equal(stats_mwu(a, 2, b, 2, MWU_AUTO, &r), 0);
	assert_close(r.p, 1.0 / 3.0, 1e-15);
	/* U at the centre: 2 * P(U >= mn/2) passes 1 and is clipped */
	{
		const double x[] = { 1, 4 }, y[] = { 2, 3 };

		assert_int_equal(stats_mwu(x, 2, y, 2, MWU_AUTO, &r), 0);
		assert_close(r.p, 1.0, 0);
	}
}

/* The best p-value a sample size allows: 2 / C(n1 + n2, n1) when exact. */
static void test_min_p(void **state)
{
	double p;

	(void)state;
	assert_int_equal(stats_mwu_min_p(3, 3, &p), 0);
	assert_close(p, 0.1, 1e-15);		/* 2/20: never below 0.05 */
	assert_int_equal(stats_mwu_min_p(4, 4, &p), 0);
	assert_close(p, 2.0 / 70.0, 1e-15);
	assert_int_equal(stats_mwu_min_p(2, 2, &p), 0);
	assert_close(p, 1.0 / 3.0, 1e-15);
	/* 9 and 9 asymptotic: scipy gives 0.00041229480206169127 */
	assert_int_equal(stats_mwu_min_p(9, 9, &p), 0);
	assert_close(p, 0.00041229480206169127, 1e-15);
	assert_int_equal(stats_mwu_min_p(0, 9, &p), -EINVAL);
}

static void test_exact_too_big(void **state)
{
	double p;

	(void)state;
	assert_int_equal(stats_mwu_exact_sf(8, STATS_MWU_EXACT_MAX_CELLS, 1, &p),
			 -E2BIG);
	assert_int_equal(stats_mwu_exact_sf(SIZE_MAX / 2, 4, 1, &p), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median_mean_cv),
		cmocka_unit_test(test_nan_refused),
		cmocka_unit_test(test_ranks_and_tie_term),
		cmocka_unit_test(test_exact_2x2_by_hand),
		cmocka_unit_test(test_exact_vs_brute_force),
		cmocka_unit_test(test_exact_sums_to_one),
		cmocka_unit_test(test_exact_5x5_u2),
		cmocka_unit_test(test_exact_critical_values),
		cmocka_unit_test(test_symmetry),
		cmocka_unit_test(test_tie_correction_by_hand),
		cmocka_unit_test(test_auto_method_choice),
		cmocka_unit_test(test_degenerate),
		cmocka_unit_test(test_min_p),
		cmocka_unit_test(test_exact_too_big),
	};

	return cmocka_run_group_tests_name("compare-stats", tests, NULL, NULL);
}
