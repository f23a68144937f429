/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Verdicts, exit codes and key sets for ptbench-compare; see judge.h.
 */
#include "judge.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case V_UNCHANGED:
		return "unchanged";
	case V_IMPROVED:
		return "improved";
	case V_REGRESSED:
		return "regressed";
	case V_NOISY:
		return "noisy";
	case V_TOO_FEW:
		return "too-few";
	case V_ERROR:
		return "error";
	case V_ONLY_BASE:
		return "only-in-base";
	case V_ONLY_NEW:
		return "only-in-new";
	}
	return "?";
}

enum verdict judge_verdict(const struct judge_params *jp, double p,
			   double min_p, double ratio, double cv_base,
			   double cv_new)
{
	double change = ratio - 1.0;

	/*
	 * When even fully separated samples cannot reach alpha, a large p
	 * says nothing about the change: calling it unchanged would let a
	 * regression through for want of repetitions.
	 */
	if (!(min_p < jp->alpha))
		return V_TOO_FEW;
	/*
	 * A significant, large change counts even in a noisy sample: the
	 * rank test already weighs the spread, and a change that brings
	 * noise with it must not escape as "rerun advised".
	 */
	if (p < jp->alpha && change > jp->min_effect)
		return V_REGRESSED;
	if (p < jp->alpha && change < -jp->min_effect)
		return V_IMPROVED;
	if (cv_base > jp->cv_max || cv_new > jp->cv_max)
		return V_NOISY;
	return V_UNCHANGED;
}

static int side(const struct gb_bench *b, struct cmp_side *s)
{
	int ret;

	s->n = b->n;
	ret = stats_median(b->ns, b->n, &s->median_ns);
	if (!ret)
		ret = stats_mean(b->ns, b->n, &s->mean_ns);
	if (!ret)
		ret = stats_cv(b->ns, b->n, &s->cv);
	return ret;
}

int judge_compare(const struct judge_params *jp, const struct gb_bench *base,
		  const struct gb_bench *new, struct cmp_row *row)
{
	int ret;

	if (!jp || !base || !new || !row || base->n < 2 || new->n < 2 ||
	    base->errored || new->errored)
		return -EINVAL;
	ret = side(base, &row->base);
	if (!ret)
		ret = side(new, &row->new);
	if (!ret)
		ret = stats_mwu(base->ns, base->n, new->ns, new->n, MWU_AUTO,
				&row->mwu);
	if (!ret)
		ret = stats_mwu_min_p(base->n, new->n, &row->min_p);
	if (ret)
		return ret;
	/* The loader only admits positive times, so the ratio is finite. */
	row->ratio = row->new.median_ns / row->base.median_ns;
	row->tested = true;
	row->verdict = judge_verdict(jp, row->mwu.p, row->min_p, row->ratio,
				     row->base.cv, row->new.cv);
	return 0;
}

int judge_exit_for(enum verdict v)
{
	switch (v) {
	case V_REGRESSED:
		return EXIT_REGRESSION;
	case V_NOISY:
	case V_TOO_FEW:
		return EXIT_INCONCLUSIVE;
	case V_ERROR:
	case V_ONLY_BASE:
	case V_ONLY_NEW:
		/* A key benchmark that cannot be compared is bad input. */
		return EXIT_BAD_INPUT;
	case V_UNCHANGED:
	case V_IMPROVED:
		break;
	}
	return EXIT_PASS;
}

static int exit_rank(int code)
{
	switch (code) {
	case EXIT_BAD_INPUT:
		return 3;
	case EXIT_REGRESSION:
		return 2;
	case EXIT_INCONCLUSIVE:
		return 1;
	default:
		return 0;
	}
}

int judge_exit_combine(int a, int b)
{
	return exit_rank(a) >= exit_rank(b) ? a : b;
}

int keyset_add(struct keyset *k, const char *prefix)
{
	char *dup;

	if (!k || !prefix || !*prefix)
		return -EINVAL;
	if (k->n == k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 8;
		char **np = realloc(k->prefix, cap * sizeof(*np));
		bool *nu;

		if (!np)
			return -ENOMEM;
		k->prefix = np;
		nu = realloc(k->used, cap * sizeof(*nu));
		if (!nu)
			return -ENOMEM;
		k->used = nu;
		k->cap = cap;
	}
	dup = strdup(prefix);
	if (!dup)
		return -ENOMEM;
	k->prefix[k->n] = dup;
	k->used[k->n] = false;
	k->n++;
	return 0;
}

int keyset_load(struct keyset *k, const char *path, char *err, size_t errlen)
{
	char *line = NULL;
	size_t cap = 0, before;
	ssize_t len;
	FILE *fp;
	int ret = 0;

	fp = fopen(path, "r");
	if (!fp) {
		ret = -errno;
		snprintf(err, errlen, "cannot open key file: %s", strerror(errno));
		return ret;
	}
	before = k->n;
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *s = line, *e = line + len;

		while (s < e && isspace((unsigned char)*s))
			s++;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		*e = '\0';
		if (!*s || *s == '#')
			continue;
		ret = keyset_add(k, s);
		if (ret)
			break;
	}
	if (!ret && ferror(fp)) {
		ret = -EIO;
		snprintf(err, errlen, "read error in key file");
	}
	/* An empty key file would silently turn the gate off. */
	if (!ret && k->n == before) {
		ret = -EINVAL;
		snprintf(err, errlen, "key file names no benchmark");
	}
	free(line);
	fclose(fp);
	return ret;
}

bool keyset_match(struct keyset *k, const char *name)
{
	bool hit = false;
	size_t i;

	if (k->n == 0)
		return true;
	/* Mark every prefix that matches, so unused ones can be reported. */
	for (i = 0; i < k->n; i++) {
		if (!strncmp(name, k->prefix[i], strlen(k->prefix[i]))) {
			k->used[i] = true;
			hit = true;
		}
	}
	return hit;
}

void keyset_free(struct keyset *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < k->n; i++)
		free(k->prefix[i]);
	free(k->prefix);
	free(k->used);
	memset(k, 0, sizeof(*k));
}
