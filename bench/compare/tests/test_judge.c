/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The gate of ptbench-compare: verdicts, exit-code precedence, key sets.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "judge.h"

static const struct judge_params jp = JUDGE_DEFAULT_PARAMS;

/* p, min_p, ratio, cv base, cv new -> verdict, at the defaults. */
static void test_verdicts(void **state)
{
	static const struct {
		double p, min_p, ratio, cvb, cvn;
		enum verdict want;
	} t[] = {
		{ 0.001, 0.0004, 1.20, 0.02, 0.02, V_REGRESSED },
		{ 0.001, 0.0004, 0.80, 0.02, 0.02, V_IMPROVED },
		/* significant but small: not a change worth calling */
		{ 0.001, 0.0004, 1.04, 0.02, 0.02, V_UNCHANGED },
		{ 0.001, 0.0004, 0.96, 0.02, 0.02, V_UNCHANGED },
		/* large but not significant */
		{ 0.20, 0.0004, 1.30, 0.02, 0.02, V_UNCHANGED },
		/* p exactly alpha is not below it */
		{ 0.05, 0.0004, 1.30, 0.02, 0.02, V_UNCHANGED },
		/* noisy without a clear change: either side */
		{ 0.20, 0.0004, 1.30, 0.15, 0.02, V_NOISY },
		{ 0.20, 0.0004, 1.00, 0.02, 0.11, V_NOISY },
		{ 0.001, 0.0004, 1.02, 0.15, 0.02, V_NOISY },
		/* a clear change counts even when noisy */
		{ 0.001, 0.0004, 1.20, 0.15, 0.30, V_REGRESSED },
		{ 0.001, 0.0004, 0.70, 0.15, 0.30, V_IMPROVED },
		/* the sizes cannot reach alpha: nothing can be called */
		{ 0.10, 0.10, 2.00, 0.01, 0.01, V_TOO_FEW },
		{ 0.10, 0.05, 2.00, 0.01, 0.01, V_TOO_FEW },
		{ 0.0286, 0.0286, 1.20, 0.01, 0.01, V_REGRESSED },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum verdict v = judge_verdict(&jp, t[i].p, t[i].min_p,
					       t[i].ratio, t[i].cvb, t[i].cvn);

		if (v != t[i].want)
			fail_msg("case %zu: got %s, want %s", i, verdict_name(v),
				 verdict_name(t[i].want));
	}
}

static void test_verdict_params(void **state)
{
	struct judge_params strict = { .alpha = 0.01, .min_effect = 0.10,
				       .cv_max = 0.03 };

	(void)state;
	assert_int_equal(judge_verdict(&strict, 0.02, 0.0004, 1.5, 0.01, 0.01),
			 V_UNCHANGED);
	assert_int_equal(judge_verdict(&strict, 0.005, 0.0004, 1.08, 0.01, 0.01),
			 V_UNCHANGED);
	assert_int_equal(judge_verdict(&strict, 0.005, 0.0004, 1.11, 0.01, 0.01),
			 V_REGRESSED);
	assert_int_equal(judge_verdict(&strict, 0.5, 0.0004, 1.0, 0.04, 0.01),
			 V_NOISY);
	/* 4 against 4 reaches 0.0286, not 0.01 */
	assert_int_equal(judge_verdict(&strict, 0.0286, 0.0286, 1.5, 0.01, 0.01),
			 V_TOO_FEW);
}

static void test_exit_for(void **state)
{
	(void)state;
	assert_int_equal(judge_exit_for(V_UNCHANGED), EXIT_PASS);
	assert_int_equal(judge_exit_for(V_IMPROVED), EXIT_PASS);
	assert_int_equal(judge_exit_for(V_REGRESSED), EXIT_REGRESSION);
	assert_int_equal(judge_exit_for(V_NOISY), EXIT_INCONCLUSIVE);
	assert_int_equal(judge_exit_for(V_TOO_FEW), EXIT_INCONCLUSIVE);
	assert_int_equal(judge_exit_for(V_ERROR), EXIT_BAD_INPUT);
	assert_int_equal(judge_exit_for(V_ONLY_BASE), EXIT_BAD_INPUT);
	assert_int_equal(judge_exit_for(V_ONLY_NEW), EXIT_BAD_INPUT);
}

/* 2 beats 1 beats 3 beats 0, in either order, and folds over a list. */
static void test_exit_precedence(void **state)
{
	static const int order[] = { EXIT_PASS, EXIT_INCONCLUSIVE,
				     EXIT_REGRESSION, EXIT_BAD_INPUT };
	static const int seq[] = { 0, 3, 0, 1, 3, 0 };
	size_t i, j;
	int code = EXIT_PASS;

	(void)state;
	for (i = 0; i < 4; i++) {
		for (j = 0; j < 4; j++) {
			int want = order[i > j ? i : j];

			assert_int_equal(judge_exit_combine(order[i], order[j]), want);
		}
	}
	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		code = judge_exit_combine(code, seq[i]);
	assert_int_equal(code, EXIT_REGRESSION);
	assert_int_equal(judge_exit_combine(code, EXIT_BAD_INPUT), EXIT_BAD_INPUT);
}

static void test_compare_rows(void **state)
{
	double a[] = { 100, 101, 99, 100.5, 99.5, 100.2, 99.8, 100.1, 99.9 };
	double b[9];
	struct gb_bench base = { .run_name = (char *)"x", .ns = a, .n = 9 };
	struct gb_bench new = { .run_name = (char *)"x", .ns = b, .n = 9 };
	struct cmp_row row;
	size_t i;

	(void)state;
	for (i = 0; i < 9; i++)
		b[i] = a[i] * 1.2;
	memset(&row, 0, sizeof(row));
	assert_int_equal(judge_compare(&jp, &base, &new, &row), 0);
	assert_true(row.tested);
	assert_int_equal(row.verdict, V_REGRESSED);
	assert_true(fabs(row.ratio - 1.2) < 1e-12);
	assert_true(fabs(row.base.median_ns - 100.0) < 1e-12);
	assert_int_equal(row.mwu.method, MWU_ASYMPTOTIC);
	assert_true(row.mwu.p < 0.001);

	/* the same sample on both sides: p = 1, unchanged */
	assert_int_equal(judge_compare(&jp, &base, &base, &row), 0);
	assert_int_equal(row.verdict, V_UNCHANGED);
	assert_true(row.mwu.p == 1.0);

	/* refused: fewer than 2, or errored */
	new.n = 1;
	assert_int_equal(judge_compare(&jp, &base, &new, &row), -EINVAL);
	new.n = 9;
	new.errored = true;
	assert_int_equal(judge_compare(&jp, &base, &new, &row), -EINVAL);
}

static void test_keyset(void **state)
{
	struct keyset k = { 0 };

	(void)state;
	/* no keys: everything is key */
	assert_true(keyset_match(&k, "anything"));
	assert_int_equal(keyset_add(&k, "mechanism/"), 0);
	assert_int_equal(keyset_add(&k, "native/getpid"), 0);
	assert_int_equal(keyset_add(&k, "floor/none"), 0);
	assert_int_equal(keyset_add(&k, ""), -EINVAL);
	assert_true(keyset_match(&k, "mechanism/sysemu/real_time"));
	assert_true(keyset_match(&k, "native/getpid/real_time"));
	assert_false(keyset_match(&k, "mem/peek/bytes:8/real_time"));
	assert_false(keyset_match(&k, "mechanis"));
	assert_true(k.used[0]);
	assert_true(k.used[1]);
	assert_false(k.used[2]);
	keyset_free(&k);
	assert_int_equal(k.n, 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static void test_keyset_file(void **state)
{
	char path[] = "/tmp/ptbench-compare-keys-XXXXXX", err[128];
	struct keyset k = { 0 };
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);

	write_file(path, "# keys\n\n  native/getpid  \n\tmechanism/sysemu\n# end");
	assert_int_equal(keyset_load(&k, path, err, sizeof(err)), 0);
	assert_int_equal(k.n, 2);
	assert_string_equal(k.prefix[0], "native/getpid");
	assert_string_equal(k.prefix[1], "mechanism/sysemu");
	keyset_free(&k);

	/* a key file that names nothing would turn the gate off: refused */
	write_file(path, "# nothing here\n   \n");
	assert_int_equal(keyset_load(&k, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "names no benchmark"));
	keyset_free(&k);

	unlink(path);
	assert_int_equal(keyset_load(&k, path, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot open"));
	keyset_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_verdict_params),
		cmocka_unit_test(test_exit_for),
		cmocka_unit_test(test_exit_precedence),
		cmocka_unit_test(test_compare_rows),
		cmocka_unit_test(test_keyset),
		cmocka_unit_test(test_keyset_file),
	};

	return cmocka_run_group_tests_name("compare-judge", tests, NULL, NULL);
}
