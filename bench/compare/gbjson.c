/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Google Benchmark JSON reader for ptbench-compare; see gbjson.h.
 */
#include "gbjson.h"
#include "stats.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
 * Google Benchmark prints its aggregates with 17 significant digits, but
 * computes them from the unrounded per-repetition times, so the median
 * of the printed rows can differ in the last digit or two.
 */
#define AGG_MEDIAN_RTOL 1e-6

/* The largest file we read: far beyond any benchmark run's output. */
#define MAX_FILE_BYTES (256L << 20)

/* Per-benchmark repetition indices, to catch two runs in one file. */
struct seen {
	long *idx;
	size_t n, cap;
};

struct loader {
	struct gb_file *f;
	struct seen *seen;	/* parallel to f->b */
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct loader *l, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->err, l->errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int gb_unit_to_ns(const char *unit, double *factor)
{
	static const struct {
		const char *name;
		double ns;
	} units[] = {
		{ "ns", 1.0 },
		{ "us", 1e3 },
		{ "ms", 1e6 },
		{ "s", 1e9 },
	};
	size_t i;

	if (!unit || !factor)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(unit, units[i].name)) {
			*factor = units[i].ns;
			return 0;
		}
	}
	return -EINVAL;
}

const struct gb_bench *gb_find(const struct gb_file *f, const char *run_name)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (!strcmp(f->b[i].run_name, run_name))
			return &f->b[i];
	return NULL;
}

static int get_bench(struct loader *l, const char *name, size_t *out)
{
	struct gb_file *f = l->f;
	struct gb_bench *b;
	size_t i;

	for (i = 0; i < f->n; i++) {
		if (!strcmp(f->b[i].run_name, name)) {
			*out = i;
			return 0;
		}
	}
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct gb_bench *nb = realloc(f->b, cap * sizeof(*nb));
		struct seen *ns;

		if (!nb)
			return -ENOMEM;
		f->b = nb;
		ns = realloc(l->seen, cap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		l->seen = ns;
		f->cap = cap;
	}
	b = &f->b[f->n];
	memset(b, 0, sizeof(*b));
	memset(&l->seen[f->n], 0, sizeof(l->seen[0]));
	b->agg_repetitions = -1;
	b->run_name = strdup(name);
	if (!b->run_name)
		return -ENOMEM;
	*out = f->n++;
	return 0;
}

static int push(double **v, size_t *n, size_t *cap, double x)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		double *nv = realloc(*v, c * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = x;
	return 0;
}

static int note_index(struct seen *s, long idx)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->idx[i] == idx)
			return -EEXIST;
	if (s->n == s->cap) {
		size_t c = s->cap ? 2 * s->cap : 16;
		long *ni = realloc(s->idx, c * sizeof(*ni));

		if (!ni)
			return -ENOMEM;
		s->idx = ni;
		s->cap = c;
	}
	s->idx[s->n++] = idx;
	return 0;
}

/* real_time of a row in ns, or an error naming what is wrong with it. */
static int row_time_ns(struct loader *l, json_t *row, const char *name,
		       double *ns)
{
	json_t *rt = json_object_get(row, "real_time");
	json_t *tu = json_object_get(row, "time_unit");
	double factor, v;

	if (!json_is_number(rt))
		return fail(l, "benchmark '%s': no numeric real_time", name);
	if (!json_is_string(tu))
		return fail(l, "benchmark '%s': no time_unit", name);
	if (gb_unit_to_ns(json_string_value(tu), &factor))
		return fail(l, "benchmark '%s': unknown time_unit '%s' (known: ns, us, ms, s)",
			    name, json_string_value(tu));
	v = json_number_value(rt);
	if (!isfinite(v) || v <= 0.0)
		return fail(l, "benchmark '%s': real_time %g is not a positive number",
			    name, v);
	*ns = v * factor;
	return 0;
}

static int load_row(struct loader *l, json_t *row, size_t pos)
{
	json_t *jname, *jtype, *jerr, *jidx, *jreps;
	const char *name, *type = "iteration";
	struct gb_bench *b;
	size_t bi;
	double ns;
	int ret;

	if (!json_is_object(row))
		return fail(l, "benchmarks[%zu] is not an object", pos);
	/* name is the fallback for files from before run_name existed. */
	jname = json_object_get(row, "run_name");
	if (!json_is_string(jname))
		jname = json_object_get(row, "name");
	if (!json_is_string(jname) || !*json_string_value(jname))
		return fail(l, "benchmarks[%zu] has no run_name or name", pos);
	name = json_string_value(jname);
	jtype = json_object_get(row, "run_type");
	if (jtype) {
		if (!json_is_string(jtype))
			return fail(l, "benchmark '%s': run_type is not a string", name);
		type = json_string_value(jtype);
		if (strcmp(type, "iteration") && strcmp(type, "aggregate"))
			return fail(l, "benchmark '%s': unknown run_type '%s'", name, type);
	}

	ret = get_bench(l, name, &bi);
	if (ret)
		return ret;
	b = &l->f->b[bi];

	jreps = json_object_get(row, "repetitions");
	if (!strcmp(type, "aggregate")) {
		json_t *an = json_object_get(row, "aggregate_name");
		json_t *au = json_object_get(row, "aggregate_unit");

		b->has_agg = true;
		if (json_is_integer(jreps))
			b->agg_repetitions = (long)json_integer_value(jreps);
		/* cv is a percentage and stddev a spread: only median is comparable. */
		if (json_is_string(an) && !strcmp(json_string_value(an), "median") &&
		    (!au || (json_is_string(au) && !strcmp(json_string_value(au), "time")))) {
			ret = row_time_ns(l, row, name, &ns);
			if (ret)
				return ret;
			b->has_agg_median = true;
			b->agg_median_ns = ns;
		}
		return 0;
	}

	jerr = json_object_get(row, "error_occurred");
	if (json_is_true(jerr)) {
		json_t *msg = json_object_get(row, "error_message");

		if (!b->errored) {
			b->errored = true;
			b->error_message = strdup(json_is_string(msg) ?
						  json_string_value(msg) :
						  "(no error_message)");
			if (!b->error_message)
				return -ENOMEM;
		}
		return 0;
	}

	jidx = json_object_get(row, "repetition_index");
	if (json_is_integer(jidx)) {
		long idx = (long)json_integer_value(jidx);

		ret = note_index(&l->seen[bi], idx);
		if (ret == -EEXIST)
			return fail(l, "benchmark '%s': repetition_index %ld appears twice (two runs in one file?)",
				    name, idx);
		if (ret)
			return ret;
	}
	ret = row_time_ns(l, row, name, &ns);
	if (ret)
		return ret;
	return push(&b->ns, &b->n, &b->cap, ns);
}

static int cross_check(struct loader *l, const struct gb_bench *b)
{
	double med;
	int ret;

	/* Errored repetitions are left out of aggregates; nothing to match. */
	if (b->errored || b->n == 0)
		return 0;
	if (b->has_agg && b->agg_repetitions >= 0 &&
	    (size_t)b->agg_repetitions != b->n)
		return fail(l, "benchmark '%s': %zu repetition rows but its aggregates are over %ld",
			    b->run_name, b->n, b->agg_repetitions);
	if (!b->has_agg_median)
		return 0;
	ret = stats_median(b->ns, b->n, &med);
	if (ret)
		return ret;
	if (fabs(med - b->agg_median_ns) >
	    AGG_MEDIAN_RTOL * fabs(b->agg_median_ns))
		return fail(l, "benchmark '%s': aggregate median %.9g ns disagrees with the median %.9g ns of its repetitions",
			    b->run_name, b->agg_median_ns, med);
	return 0;
}

static int read_all(const char *path, char **buf, size_t *len,
		    struct loader *l)
{
	struct stat st;
	FILE *fp;
	char *p;
	size_t got = 0, cap;
	int ret;

	fp = fopen(path, "rb");
	if (!fp) {
		ret = -errno;
		fail(l, "cannot open: %s", strerror(errno));
		return ret;
	}
	if (fstat(fileno(fp), &st)) {
		ret = -errno;
		fail(l, "cannot stat: %s", strerror(errno));
		fclose(fp);
		return ret;
	}
	if (S_ISDIR(st.st_mode)) {
		fclose(fp);
		fail(l, "is a directory, not a JSON file");
		return -EISDIR;
	}
	if (st.st_size > MAX_FILE_BYTES) {
		fclose(fp);
		fail(l, "larger than %ld MiB, not benchmark output", MAX_FILE_BYTES >> 20);
		return -EFBIG;
	}
	/* st_size is 0 for pipes (<(...)): read until EOF either way. */
	cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	p = malloc(cap);
	if (!p) {
		fclose(fp);
		return -ENOMEM;
	}
	for (;;) {
		size_t r = fread(p + got, 1, cap - 1 - got, fp);

		got += r;
		if (ferror(fp)) {
			fail(l, "read error");
			free(p);
			fclose(fp);
			return -EIO;
		}
		if (feof(fp))
			break;
		if (got == cap - 1) {
			char *np;

			if (cap > (size_t)MAX_FILE_BYTES) {
				fail(l, "larger than %ld MiB, not benchmark output",
				     MAX_FILE_BYTES >> 20);
				free(p);
				fclose(fp);
				return -EFBIG;
			}
			np = realloc(p, 2 * cap);
			if (!np) {
				free(p);
				fclose(fp);
				return -ENOMEM;
			}
			p = np;
			cap *= 2;
		}
	}
	fclose(fp);
	p[got] = '\0';
	*buf = p;
	*len = got;
	return 0;
}

int gb_load(const char *path, struct gb_file *f, char *err, size_t errlen)
{
	struct loader l = { .f = f, .err = err, .errlen = errlen };
	json_error_t jerr;
	json_t *root = NULL, *arr;
	char *buf = NULL;
	size_t len = 0, i;
	int ret;

	if (!path || !f || !err || errlen == 0)
		return -EINVAL;
	memset(f, 0, sizeof(*f));
	err[0] = '\0';

	ret = read_all(path, &buf, &len, &l);
	if (ret)
		return ret;
	for (i = 0; i < len && isspace((unsigned char)buf[i]); i++)
		;
	if (i == len) {
		ret = fail(&l, "empty file (did the benchmark run write anything?)");
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		ret = fail(&l, "malformed JSON at line %d, column %d: %s",
			   jerr.line, jerr.column, jerr.text);
		goto out;
	}
	arr = json_is_object(root) ? json_object_get(root, "benchmarks") : NULL;
	if (!json_is_array(arr)) {
		ret = fail(&l, "no \"benchmarks\" array: not Google Benchmark JSON output");
		goto out;
	}
	for (i = 0; i < json_array_size(arr); i++) {
		ret = load_row(&l, json_array_get(arr, i), i);
		if (ret)
			goto out;
	}
	for (i = 0; i < f->n; i++) {
		ret = cross_check(&l, &f->b[i]);
		if (ret)
			goto out;
	}
	ret = 0;
out:
	if (ret == -ENOMEM && !err[0])
		snprintf(err, errlen, "out of memory");
	if (l.seen) {
		for (i = 0; i < f->n; i++)
			free(l.seen[i].idx);
		free(l.seen);
	}
	if (ret)
		gb_free(f);
	json_decref(root);
	free(buf);
	return ret;
}

void gb_free(struct gb_file *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++) {
		free(f->b[i].run_name);
		free(f->b[i].ns);
		free(f->b[i].error_message);
	}
	free(f->b);
	memset(f, 0, sizeof(*f));
}
