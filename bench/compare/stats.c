/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Statistics for ptbench-compare; see stats.h for what is matched and why.
 */
#include "stats.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SQRT_HALF 0.70710678118654752440

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int check_sample(const double *x, size_t n)
{
	size_t i;

	if (!x || n == 0)
		return -EINVAL;
	/* NaN has no rank; scipy refuses it too. */
	for (i = 0; i < n; i++)
		if (isnan(x[i]))
			return -EINVAL;
	return 0;
}

int stats_median(const double *x, size_t n, double *out)
{
	double *s;
	int ret = check_sample(x, n);

	if (ret)
		return ret;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	/* Even n: mean of the middle two, as numpy and Google Benchmark do. */
	*out = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2.0;
	free(s);
	return 0;
}

int stats_mean(const double *x, size_t n, double *out)
{
	double sum = 0.0;
	size_t i;
	int ret = check_sample(x, n);

	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		sum += x[i];
	*out = sum / (double)n;
	return 0;
}

int stats_cv(const double *x, size_t n, double *out)
{
	double mean = 0.0, ss = 0.0;
	size_t i;
	int ret = check_sample(x, n);

	if (ret)
		return ret;
	/* One value has no spread to speak of; the caller refuses n < 2. */
	if (n < 2)
		return -EINVAL;
	stats_mean(x, n, &mean);
	if (mean == 0.0)
		return -EDOM;
	for (i = 0; i < n; i++)
		ss += (x[i] - mean) * (x[i] - mean);
	/* n - 1, like Google Benchmark's own cv aggregate. */
	*out = sqrt(ss / (double)(n - 1)) / fabs(mean);
	return 0;
}

struct ranked {
	double v;
	size_t i;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->v != y->v)
		return (x->v > y->v) - (x->v < y->v);
	/* Ties in input order keep qsort's result deterministic. */
	return (x->i > y->i) - (x->i < y->i);
}

int stats_rank_average(const double *v, size_t n, double *ranks)
{
	struct ranked *r;
	size_t i, j, k;
	int ret = check_sample(v, n);

	if (ret)
		return ret;
	r = malloc(n * sizeof(*r));
	if (!r)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		r[i].v = v[i];
		r[i].i = i;
	}
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (i = 0; i < n; i = j) {
		double avg;

		for (j = i + 1; j < n && r[j].v == r[i].v; j++)
			;
		/* Positions i..j-1 hold ranks i+1..j: their mean. */
		avg = ((double)(i + 1) + (double)j) / 2.0;
		for (k = i; k < j; k++)
			ranks[r[k].i] = avg;
	}
	free(r);
	return 0;
}

int stats_tie_term(const double *ranks, size_t n, double *out)
{
	double *s, sum = 0.0;
	size_t i, j;
	int ret = check_sample(ranks, n);

	if (ret)
		return ret;
	s = malloc(n * sizeof(*s));
	if (!s)
		return -ENOMEM;
	memcpy(s, ranks, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_double);
	for (i = 0; i < n; i = j) {
		double t;

		for (j = i + 1; j < n && s[j] == s[i]; j++)
			;
		t = (double)(j - i);
		sum += t * t * t - t;
	}
	free(s);
	*out = sum;
	return 0;
}

/*
 * The counts of U for sizes (m, n) are the coefficients of the Gaussian
 * binomial [m+n choose m]_q = prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i).
 * Building it factor by factor (Harding, 1984) takes O(m * m*n) time and
 * one array, where the textbook recurrence f(m,n,k) = f(m-1,n,k-n) +
 * f(m,n-1,k) needs a table per (m, n).
 *
 * Both steps only read lower coefficients, so working modulo q^(h+1)
 * gives the coefficients 0..h exactly as the full product would.  Only
 * the lower half is computed and the upper half mirrored from it (the
 * distribution is symmetric): the upper coefficients come out of large
 * intermediate values, and once those pass 2^53 the rounding of the
 * subtractions there could even leave them negative, while the lower
 * ones are built from small numbers up.
 */
int stats_mwu_exact_counts(size_t m, size_t n, double *counts, size_t len)
{
	size_t i, k, mn, half;

	if (m == 0 || n == 0 || !counts)
		return -EINVAL;
	/* The distribution is symmetric in m and n; fewer factors is faster. */
	if (m > n) {
		size_t t = m;

		m = n;
		n = t;
	}
	if (n > SIZE_MAX / m - 1 || m * n >= STATS_MWU_EXACT_MAX_CELLS)
		return -E2BIG;
	mn = m * n;
	if (len < mn + 1)
		return -EINVAL;
	half = mn / 2;
	memset(counts, 0, (mn + 1) * sizeof(*counts));
	counts[0] = 1.0;
	for (i = 1; i <= m; i++) {
		size_t up = n + i;

		/* times (1 - q^(n+i)): descending, so each term reads old values */
		for (k = half; k >= up; k--)
			counts[k] -= counts[k - up];
		/* over (1 - q^i): ascending, the running sum of step i */
		for (k = i; k <= half; k++)
			counts[k] += counts[k - i];
	}
	for (k = half + 1; k <= mn; k++)
		counts[k] = counts[mn - k];
	return 0;
}

int stats_mwu_exact_sf(size_t m, size_t n, double u, double *p)
{
	double *c, total = 0.0, left = 0.0;
	size_t mn, k, lim;
	int ret;

	if (m == 0 || n == 0 || isnan(u) || !p)
		return -EINVAL;
	if (n > SIZE_MAX / m - 1 || m * n >= STATS_MWU_EXACT_MAX_CELLS)
		return -E2BIG;
	mn = m * n;
	if (u <= 0.0) {
		*p = 1.0;
		return 0;
	}
	if (u > (double)mn) {
		*p = 0.0;
		return 0;
	}
	c = malloc((mn + 1) * sizeof(*c));
	if (!c)
		return -ENOMEM;
	ret = stats_mwu_exact_counts(m, n, c, mn + 1);
	if (ret) {
		free(c);
		return ret;
	}
	/*
	 * As scipy: U is truncated to an integer, then by symmetry
	 * P(U >= u) = P(U <= mn - u), summed from the left.
	 */
	lim = mn - (size_t)u;
	for (k = 0; k <= mn; k++) {
		total += c[k];
		if (k <= lim)
			left += c[k];
	}
	free(c);
	*p = left / total;
	return 0;
}

static double normal_sf(double z)
{
	/* erfc keeps full relative precision in the upper tail. */
	return 0.5 * erfc(z * SQRT_HALF);
}

int stats_mwu(const double *x, size_t n1, const double *y, size_t n2,
	      enum mwu_method method, struct mwu_result *res)
{
	double *xy, *ranks, r1 = 0.0, tie, u1, u2, u, p, z = 0.0;
	size_t n = n1 + n2, i;
	int ret;

	if (!res)
		return -EINVAL;
	ret = check_sample(x, n1);
	if (!ret)
		ret = check_sample(y, n2);
	if (ret)
		return ret;
	xy = malloc(2 * n * sizeof(*xy));
	if (!xy)
		return -ENOMEM;
	ranks = xy + n;
	memcpy(xy, x, n1 * sizeof(*xy));
	memcpy(xy + n1, y, n2 * sizeof(*xy));
	ret = stats_rank_average(xy, n, ranks);
	if (!ret)
		ret = stats_tie_term(ranks, n, &tie);
	if (ret)
		goto out;

	for (i = 0; i < n1; i++)
		r1 += ranks[i];
	u1 = r1 - (double)n1 * ((double)n1 + 1.0) / 2.0;
	u2 = (double)n1 * (double)n2 - u1;
	u = u1 > u2 ? u1 : u2;

	res->u1 = u1;
	res->u = u;
	res->ties = tie > 0.0;
	res->z = 0.0;

	if (method == MWU_AUTO) {
		int small = n1 <= STATS_MWU_EXACT_MAX_SMALL ||
			    n2 <= STATS_MWU_EXACT_MAX_SMALL;

		method = small && !res->ties ? MWU_EXACT : MWU_ASYMPTOTIC;
		if (method == MWU_EXACT &&
		    (double)n1 * (double)n2 >= STATS_MWU_EXACT_MAX_CELLS)
			method = MWU_ASYMPTOTIC;
	}

	if (method == MWU_EXACT) {
		ret = stats_mwu_exact_sf(n1, n2, u, &p);
		if (ret)
			goto out;
	} else if (method == MWU_ASYMPTOTIC) {
		double nn = (double)n;
		double s = sqrt((double)n1 * (double)n2 / 12.0 *
				((nn + 1.0) - tie / (nn * (nn - 1.0))));
		double num = u - (double)n1 * (double)n2 / 2.0 - 0.5;

		/*
		 * All values tied: s is 0 and num is -0.5, so z is -inf and
		 * the p-value 1, exactly as numpy's division gives scipy.
		 */
		z = s > 0.0 ? num / s : (num < 0.0 ? -INFINITY : INFINITY);
		p = normal_sf(z);
	} else {
		ret = -EINVAL;
		goto out;
	}
	p *= 2.0;
	/* U = n1*n2/2 gives 2 * (more than a half): clip, like scipy. */
	if (p > 1.0)
		p = 1.0;
	if (p < 0.0)
		p = 0.0;
	res->p = p;
	res->z = z;
	res->method = method;
out:
	free(xy);
	return ret;
}

int stats_mwu_min_p(size_t n1, size_t n2, double *p)
{
	struct mwu_result r;
	double *x;
	size_t i;
	int ret;

	if (n1 == 0 || n2 == 0 || !p)
		return -EINVAL;
	x = malloc((n1 + n2) * sizeof(*x));
	if (!x)
		return -ENOMEM;
	/* Fully separated, all distinct: the most extreme U there is. */
	for (i = 0; i < n1 + n2; i++)
		x[i] = (double)i;
	ret = stats_mwu(x, n1, x + n1, n2, MWU_AUTO, &r);
	free(x);
	if (!ret)
		*p = r.p;
	return ret;
}
