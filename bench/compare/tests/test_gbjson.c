/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Google Benchmark JSON reader of ptbench-compare, on the fixtures in
 * data/ (made by gen_fixtures.py).  Run as: test-compare-gbjson DATA_DIR.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gbjson.h"

static const char *data_dir;

static const char *path(const char *name)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s/%s", data_dir, name);
	return buf;
}

static void test_units(void **state)
{
	double f;

	(void)state;
	assert_int_equal(gb_unit_to_ns("ns", &f), 0);
	assert_true(f == 1.0);
	assert_int_equal(gb_unit_to_ns("us", &f), 0);
	assert_true(f == 1e3);
	assert_int_equal(gb_unit_to_ns("ms", &f), 0);
	assert_true(f == 1e6);
	assert_int_equal(gb_unit_to_ns("s", &f), 0);
	assert_true(f == 1e9);
	assert_int_equal(gb_unit_to_ns("fs", &f), -EINVAL);
	assert_int_equal(gb_unit_to_ns("", &f), -EINVAL);
}

/* Iteration rows become samples; aggregates only cross-check them. */
static void test_load_good(void **state)
{
	struct gb_file f;
	const struct gb_bench *b;
	char err[256];

	(void)state;
	assert_int_equal(gb_load(path("base9.json"), &f, err, sizeof(err)), 0);
	assert_int_equal(f.n, 8);
	b = gb_find(&f, "BM_slow/real_time");
	assert_non_null(b);
	assert_int_equal(b->n, 9);
	assert_true(b->has_agg_median);
	assert_int_equal(b->agg_repetitions, 9);
	assert_false(b->errored);
	b = gb_find(&f, "BM_small/real_time");
	assert_non_null(b);
	assert_int_equal(b->n, 5);
	/* aggregate rows make no benchmark of their own */
	assert_null(gb_find(&f, "BM_slow/real_time_mean"));
	gb_free(&f);
}

/* The same run in us reads as the same ns. */
static void test_unit_conversion(void **state)
{
	struct gb_file ns, us;
	char err[256];
	size_t i, j;

	(void)state;
	assert_int_equal(gb_load(path("new9.json"), &ns, err, sizeof(err)), 0);
	assert_int_equal(gb_load(path("new9_us.json"), &us, err, sizeof(err)), 0);
	assert_int_equal(ns.n, us.n);
	for (i = 0; i < ns.n; i++) {
		assert_string_equal(ns.b[i].run_name, us.b[i].run_name);
		assert_int_equal(ns.b[i].n, us.b[i].n);
		for (j = 0; j < ns.b[i].n; j++)
			assert_true(fabs(ns.b[i].ns[j] - us.b[i].ns[j]) <=
				    1e-12 * ns.b[i].ns[j]);
	}
	gb_free(&ns);
	gb_free(&us);
}

/* Errored and too short runs load: whether they matter is the caller's. */
static void test_run_problems_are_recorded(void **state)
{
	struct gb_file f;
	const struct gb_bench *b;
	char err[256];

	(void)state;
	assert_int_equal(gb_load(path("errored.json"), &f, err, sizeof(err)), 0);
	b = gb_find(&f, "BM_a/real_time");
	assert_non_null(b);
	assert_true(b->errored);
	assert_string_equal(b->error_message, "ptrace: Operation not permitted");
	assert_int_equal(b->n, 0);
	gb_free(&f);

	assert_int_equal(gb_load(path("onerep.json"), &f, err, sizeof(err)), 0);
	assert_int_equal(f.b[0].n, 1);
	gb_free(&f);

	assert_int_equal(gb_load(path("aggonly.json"), &f, err, sizeof(err)), 0);
	b = gb_find(&f, "BM_a/real_time");
	assert_non_null(b);
	assert_int_equal(b->n, 0);
	assert_true(b->has_agg);
	gb_free(&f);
}

static void test_bad_files(void **state)
{
	static const struct {
		const char *file;
		int ret;
		const char *says;
	} t[] = {
		{ "does-not-exist.json", -ENOENT, "cannot open" },
		{ "empty.json", -EINVAL, "empty file" },
		{ "malformed.json", -EINVAL, "malformed JSON at line" },
		{ "nobench.json", -EINVAL, "no \"benchmarks\" array" },
		{ "unknown_unit.json", -EINVAL, "unknown time_unit 'fs'" },
		{ "dupidx.json", -EINVAL, "repetition_index 0 appears twice" },
		{ "aggmismatch.json", -EINVAL, "aggregate median" },
		{ ".", -EISDIR, "is a directory" },
	};
	struct gb_file f;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int ret = gb_load(path(t[i].file), &f, err, sizeof(err));

		if (ret != t[i].ret || !strstr(err, t[i].says) || strchr(err, '\n'))
			fail_msg("%s: got %d '%s', want %d '%s'", t[i].file, ret,
				 err, t[i].ret, t[i].says);
		assert_int_equal(f.n, 0);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_unit_conversion),
		cmocka_unit_test(test_run_problems_are_recorded),
		cmocka_unit_test(test_bad_files),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s DATA_DIR\n", argv[0]);
		return 2;
	}
	data_dir = argv[1];
	return cmocka_run_group_tests_name("compare-gbjson", tests, NULL, NULL);
}
