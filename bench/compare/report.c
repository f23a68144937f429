/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output formats of ptbench-compare; see report.h.
 */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <string.h>

#define METHOD_NOTE "two-sided Mann-Whitney U on real_time per repetition " \
	"(as scipy.stats.mannwhitneyu defaults, used by Google Benchmark's compare.py: " \
	"exact if a side has <= 8 samples and there are no ties, else normal " \
	"approximation with tie and continuity correction)"

const char *report_result_name(int exit_code)
{
	switch (exit_code) {
	case EXIT_PASS:
		return "pass";
	case EXIT_REGRESSION:
		return "regression";
	case EXIT_BAD_INPUT:
		return "bad-input";
	case EXIT_INCONCLUSIVE:
		return "inconclusive";
	}
	return "?";
}

/* Four significant digits in the unit that keeps the number readable. */
static void fmt_time(char *buf, size_t len, double ns)
{
	static const struct {
		const char *unit;
		double ns;
	} u[] = { { "s", 1e9 }, { "ms", 1e6 }, { "us", 1e3 }, { "ns", 1.0 } };
	size_t i;

	for (i = 0; i < 3 && ns < u[i].ns; i++)
		;
	snprintf(buf, len, "%.4g %s", ns / u[i].ns, u[i].unit);
}

struct cells {
	char n[48], base[32], new[32], change[32], p[32], cvb[16], cvn[16];
};

static void fill_cells(const struct cmp_row *r, struct cells *c)
{
	if (!r->tested) {
		snprintf(c->n, sizeof(c->n), "%zu/%zu", r->base.n, r->new.n);
		strcpy(c->base, "-");
		strcpy(c->new, "-");
		strcpy(c->change, "-");
		strcpy(c->p, "-");
		strcpy(c->cvb, "-");
		strcpy(c->cvn, "-");
		return;
	}
	snprintf(c->n, sizeof(c->n), "%zu/%zu", r->base.n, r->new.n);
	fmt_time(c->base, sizeof(c->base), r->base.median_ns);
	fmt_time(c->new, sizeof(c->new), r->new.median_ns);
	snprintf(c->change, sizeof(c->change), "%+.2f%%", (r->ratio - 1.0) * 100.0);
	/* Six significant digits, also for the small ones (JSON has all 17). */
	snprintf(c->p, sizeof(c->p), "%.6g", r->mwu.p);
	snprintf(c->cvb, sizeof(c->cvb), "%.1f%%", r->base.cv * 100.0);
	snprintf(c->cvn, sizeof(c->cvn), "%.1f%%", r->new.cv * 100.0);
}

struct tally {
	size_t key, info, by[V_ONLY_NEW + 1];
	bool few_reps;
};

static void count(const struct report *r, struct tally *t)
{
	size_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < r->n; i++) {
		const struct cmp_row *row = &r->rows[i];

		if (!row->key) {
			t->info++;
			continue;
		}
		t->key++;
		t->by[row->verdict]++;
		if (row->tested && (row->base.n < JUDGE_RECOMMENDED_REPS ||
				    row->new.n < JUDGE_RECOMMENDED_REPS))
			t->few_reps = true;
	}
}

static void write_footer(FILE *fp, const struct report *r, const char *pre)
{
	struct tally t;

	count(r, &t);
	fprintf(fp, "%skey benchmarks: %zu (%zu regressed, %zu improved, %zu noisy, %zu too-few, %zu unchanged); informational: %zu\n",
		pre, t.key, t.by[V_REGRESSED], t.by[V_IMPROVED], t.by[V_NOISY],
		t.by[V_TOO_FEW], t.by[V_UNCHANGED], t.info);
	fprintf(fp, "%sgate: alpha %g, min effect %g%%, cv max %g%%; key set: %s\n",
		pre, r->jp.alpha, r->jp.min_effect * 100.0, r->jp.cv_max * 100.0,
		r->keys->n ? "declared" : "every benchmark in both files");
	fprintf(fp, "%sp: %s\n", pre, METHOD_NOTE);
	if (t.by[V_NOISY])
		fprintf(fp, "%snoisy: coefficient of variation above %g%% without a clear change; rerun advised\n",
			pre, r->jp.cv_max * 100.0);
	if (t.by[V_TOO_FEW])
		fprintf(fp, "%stoo-few: no p-value below %g is possible at these repetition counts; rerun with more\n",
			pre, r->jp.alpha);
	if (t.few_reps)
		fprintf(fp, "%snote: fewer than %d repetitions on a side; compare.py calls such U tests unreliable\n",
			pre, JUDGE_RECOMMENDED_REPS);
	fprintf(fp, "%sresult: %s (exit %d)\n", pre,
		report_result_name(r->exit_code), r->exit_code);
}

static int write_text(FILE *fp, const struct report *r)
{
	int w = (int)strlen("benchmark");
	size_t i;

	for (i = 0; i < r->n; i++) {
		int l = (int)strlen(r->rows[i].name) + 2;

		if (l > w)
			w = l;
	}
	fprintf(fp, "%-*s %9s %11s %11s %9s %11s %8s %8s  %s\n", w,
		"benchmark", "n", "base", "new", "change", "p-value",
		"cv base", "cv new", "verdict");
	for (i = 0; i < r->n; i++) {
		const struct cmp_row *row = &r->rows[i];
		struct cells c;

		fill_cells(row, &c);
		/* "*" marks the benchmarks that decide the exit code. */
		fprintf(fp, "%s %-*s %9s %11s %11s %9s %11s %8s %8s  %s\n",
			row->key ? "*" : " ", w - 2, row->name, c.n, c.base,
			c.new, c.change, c.p, c.cvb, c.cvn,
			verdict_name(row->verdict));
	}
	fputc('\n', fp);
	write_footer(fp, r, "");
	return 0;
}

static void md_name(FILE *fp, const char *s)
{
	/* A '|' inside a cell would end it. */
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', fp);
		fputc(*s, fp);
	}
}

static int write_markdown(FILE *fp, const struct report *r)
{
	size_t i;

	fputs("| key | benchmark | n | base | new | change | p-value | cv base | cv new | verdict |\n", fp);
	fputs("|:---:|:---|---:|---:|---:|---:|---:|---:|---:|:---|\n", fp);
	for (i = 0; i < r->n; i++) {
		const struct cmp_row *row = &r->rows[i];
		struct cells c;

		fill_cells(row, &c);
		fprintf(fp, "| %s | `", row->key ? "*" : "");
		md_name(fp, row->name);
		fprintf(fp, "` | %s | %s | %s | %s | %s | %s | %s | %s%s%s |\n",
			c.n, c.base, c.new, c.change, c.p, c.cvb, c.cvn,
			row->verdict == V_REGRESSED ? "**" : "",
			verdict_name(row->verdict),
			row->verdict == V_REGRESSED ? "**" : "");
	}
	fputc('\n', fp);
	write_footer(fp, r, "- ");
	return 0;
}

/* JSON has no inf or NaN: those become null. */
static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *json_side(const struct cmp_row *row, const struct cmp_side *s)
{
	if (!row->tested)
		return json_pack("{s:I}", "n", (json_int_t)s->n);
	return json_pack("{s:I,s:o,s:o,s:o}", "n", (json_int_t)s->n,
			 "median_ns", num(s->median_ns), "mean_ns", num(s->mean_ns),
			 "cv", num(s->cv));
}

static json_t *json_row(const struct cmp_row *row)
{
	json_t *o = json_pack("{s:s,s:b,s:s,s:o,s:o}", "name", row->name,
			      "key", row->key, "verdict", verdict_name(row->verdict),
			      "base", json_side(row, &row->base),
			      "new", json_side(row, &row->new));

	if (!o || !row->tested)
		return o;
	json_object_set_new(o, "ratio", num(row->ratio));
	json_object_set_new(o, "change", num(row->ratio - 1.0));
	json_object_set_new(o, "u", num(row->mwu.u1));
	json_object_set_new(o, "u_max", num(row->mwu.u));
	json_object_set_new(o, "p", num(row->mwu.p));
	json_object_set_new(o, "p_method", json_string(row->mwu.method == MWU_EXACT ?
						       "exact" : "asymptotic"));
	json_object_set_new(o, "ties", json_boolean(row->mwu.ties));
	if (row->mwu.method == MWU_ASYMPTOTIC)
		json_object_set_new(o, "z", num(row->mwu.z));
	json_object_set_new(o, "min_p", num(row->min_p));
	return o;
}

static int write_json(FILE *fp, const struct report *r)
{
	json_t *root, *rows, *keys = NULL, *summary;
	struct tally t;
	size_t i;
	int ret;

	count(r, &t);
	if (r->keys->n) {
		keys = json_array();
		for (i = 0; keys && i < r->keys->n; i++)
			json_array_append_new(keys, json_string(r->keys->prefix[i]));
	} else {
		keys = json_null();
	}
	rows = json_array();
	for (i = 0; rows && i < r->n; i++)
		json_array_append_new(rows, json_row(&r->rows[i]));
	summary = json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
			    "key", (json_int_t)t.key,
			    "informational", (json_int_t)t.info,
			    "regressed", (json_int_t)t.by[V_REGRESSED],
			    "improved", (json_int_t)t.by[V_IMPROVED],
			    "noisy", (json_int_t)t.by[V_NOISY],
			    "too_few", (json_int_t)t.by[V_TOO_FEW],
			    "unchanged", (json_int_t)t.by[V_UNCHANGED]);
	root = json_pack("{s:s,s:s,s:s,s:{s:o,s:o,s:o,s:o},s:s,s:o,s:o,s:s,s:i}",
			 "tool", "ptbench-compare",
			 "base", r->base_path, "new", r->new_path,
			 "params", "alpha", num(r->jp.alpha),
			 "min_effect", num(r->jp.min_effect),
			 "cv_max", num(r->jp.cv_max), "keys", keys,
			 "method", METHOD_NOTE,
			 "benchmarks", rows, "summary", summary,
			 "result", report_result_name(r->exit_code),
			 "exit_code", r->exit_code);
	if (!root)
		return -ENOMEM;
	/* 17 digits round-trip a double: the p-values compare exactly. */
	ret = json_dumpf(root, fp, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
	fputc('\n', fp);
	json_decref(root);
	return ret ? -EIO : 0;
}

int report_write(FILE *fp, enum report_format fmt, const struct report *r)
{
	int ret;

	switch (fmt) {
	case FMT_TEXT:
		ret = write_text(fp, r);
		break;
	case FMT_MARKDOWN:
		ret = write_markdown(fp, r);
		break;
	case FMT_JSON:
		ret = write_json(fp, r);
		break;
	default:
		return -EINVAL;
	}
	if (!ret && (fflush(fp) || ferror(fp)))
		ret = -EIO;
	return ret;
}
