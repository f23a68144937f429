/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptbench-compare as a user runs it: exit codes, the one-line errors of
 * every bad input, output formats, and p-values against Google
 * Benchmark's compare.py.  Run as: test-compare-cli TOOL DATA_DIR.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

static char tool[PATH_MAX];

struct run {
	int code;
	char *out, *err;
};

static char *slurp(FILE *fp)
{
	long len;
	char *s;

	fflush(fp);
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	rewind(fp);
	s = calloc(1, (size_t)len + 1);
	assert_non_null(s);
	assert_int_equal(fread(s, 1, (size_t)len, fp), (size_t)len);
	fclose(fp);
	return s;
}

/* Run the tool with a NULL-terminated list of arguments. */
static void run_argv(struct run *r, char *const *args)
{
	char *argv[32];
	FILE *out = tmpfile(), *err = tmpfile();
	pid_t pid;
	int st, i;

	assert_non_null(out);
	assert_non_null(err);
	argv[0] = tool;
	for (i = 0; args[i]; i++) {
		assert_true(i < 30);
		argv[i + 1] = args[i];
	}
	argv[i + 1] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fileno(out), 1);
		dup2(fileno(err), 2);
		execv(tool, argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	/* A signal (a crash, a sanitizer abort) is never an exit code. */
	if (!WIFEXITED(st))
		fail_msg("%s killed by signal %d", tool, WTERMSIG(st));
	r->code = WEXITSTATUS(st);
	r->out = slurp(out);
	r->err = slurp(err);
}

#define RUN(r, ...) run_argv((r), (char *const[]){ __VA_ARGS__, NULL })

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/*
 * Bad input: exit 2, nothing on stdout, exactly one line on stderr that
 * starts with "ptbench-compare: WHERE: " and says what is wrong.
 */
static void expect_bad(struct run *r, const char *where, const char *says)
{
	char prefix[512];

	snprintf(prefix, sizeof(prefix), "ptbench-compare: %s: ", where);
	if (r->code != 2 || *r->out || count_lines(r->err) != 1 ||
	    strncmp(r->err, prefix, strlen(prefix)) || !strstr(r->err, says))
		fail_msg("want exit 2, one line '%s...%s...'; got exit %d, stderr '%s', stdout %zu bytes",
			 prefix, says, r->code, r->err, strlen(r->out));
	run_free(r);
}

static void expect_code(struct run *r, int code)
{
	if (r->code != code || *r->err)
		fail_msg("want exit %d and no stderr; got %d, stderr '%s'", code,
			 r->code, r->err);
}

static json_t *parse_out(const struct run *r)
{
	json_error_t e;
	json_t *j = json_loads(r->out, 0, &e);

	if (!j)
		fail_msg("output is not JSON: %s", e.text);
	return j;
}

static json_t *bench_by_name(json_t *root, const char *name)
{
	json_t *arr = json_object_get(root, "benchmarks"), *b;
	size_t i;

	json_array_foreach(arr, i, b)
		if (!strcmp(json_string_value(json_object_get(b, "name")), name))
			return b;
	fail_msg("no benchmark %s in the output", name);
	return NULL;
}

/*
 * The p-values Google Benchmark's compare.py gives on the same files,
 * from tests/gen_fixtures.py, which ran
 *   /usr/bin/python3 /usr/share/benchmark/compare.py -d OUT.json \
 *       benchmarks data/base9.json data/new9.json
 * (Debian 12: libbenchmark-tools 1.7.1, python3-scipy 1.10.1) and read
 * utest.time_pvalue from OUT.json.
 */
static const struct {
	const char *name, *method, *verdict;
	double p;
} compare_py[] = {
	{ "BM_same/real_time", "asymptotic", "unchanged", 0.7910815129207817 },
	{ "BM_slow/real_time", "asymptotic", "regressed", 0.00041229480206169127 },
	{ "BM_fast/real_time", "asymptotic", "improved", 0.00041229480206169127 },
	{ "BM_ties/real_time", "asymptotic", "unchanged", 0.8578455296543004 },
	{ "BM_small/real_time", "exact", "regressed", 0.004329004329004329 },
	{ "BM_small_ties/real_time", "asymptotic", "regressed", 0.006867629913237853 },
	{ "BM_eight/real_time", "exact", "unchanged", 0.06909581646423751 },
	{ "BM_noisy/real_time", "asymptotic", "noisy", 0.7239320396139757 },
};

static void check_compare_py(const char *newfile)
{
	struct run r;
	json_t *root;
	size_t i;

	RUN(&r, "base9.json", (char *)newfile, "--format", "json");
	/* BM_slow and two more regressed: 1, though BM_noisy is noisy */
	expect_code(&r, 1);
	root = parse_out(&r);
	for (i = 0; i < sizeof(compare_py) / sizeof(compare_py[0]); i++) {
		json_t *b = bench_by_name(root, compare_py[i].name);
		double p = json_real_value(json_object_get(b, "p"));

		if (fabs(p - compare_py[i].p) > 1e-9)
			fail_msg("%s: p %.17g, compare.py %.17g", compare_py[i].name,
				 p, compare_py[i].p);
		assert_string_equal(json_string_value(json_object_get(b, "p_method")),
				    compare_py[i].method);
		assert_string_equal(json_string_value(json_object_get(b, "verdict")),
				    compare_py[i].verdict);
	}
	assert_string_equal(json_string_value(json_object_get(root, "result")),
			    "regression");
	json_decref(root);
	run_free(&r);
}

static void test_pvalues_match_compare_py(void **state)
{
	(void)state;
	check_compare_py("new9.json");
}

/* new9_us.json is new9.json in microseconds: nothing may change. */
static void test_units_convert(void **state)
{
	(void)state;
	check_compare_py("new9_us.json");
}

static void test_json_has_every_number(void **state)
{
	static const char *const keys[] = { "ratio", "change", "u", "u_max", "p",
					    "p_method", "min_p", "verdict" };
	struct run r;
	json_t *root, *b, *side;
	size_t i;

	(void)state;
	RUN(&r, "pass_base.json", "regress_new.json", "--format", "json");
	expect_code(&r, 1);
	root = parse_out(&r);
	b = bench_by_name(root, "BM_b/real_time");
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!json_object_get(b, keys[i]))
			fail_msg("no '%s' in %s", keys[i], r.out);
	side = json_object_get(b, "base");
	assert_int_equal(json_integer_value(json_object_get(side, "n")), 9);
	assert_non_null(json_object_get(side, "median_ns"));
	assert_non_null(json_object_get(side, "cv"));
	/* compare.py on these files: 0.00041229480206169127 and 0.052058768750600205 */
	assert_true(fabs(json_real_value(json_object_get(b, "p")) -
			 0.00041229480206169127) < 1e-9);
	b = bench_by_name(root, "BM_a/real_time");
	assert_true(fabs(json_real_value(json_object_get(b, "p")) -
			 0.052058768750600205) < 1e-9);
	assert_int_equal(json_integer_value(json_object_get(root, "exit_code")), 1);
	json_decref(root);
	run_free(&r);
}

static void test_pass(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "pass_base.json", "pass_new.json");
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "result: pass (exit 0)"));
	run_free(&r);
	/* a run against itself */
	RUN(&r, "pass_base.json", "pass_base.json");
	expect_code(&r, 0);
	run_free(&r);
}

static void test_regression(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "pass_base.json", "regress_new.json");
	expect_code(&r, 1);
	assert_non_null(strstr(r.out, "regressed"));
	assert_non_null(strstr(r.out, "result: regression (exit 1)"));
	run_free(&r);
	/* the other way round it is an improvement: pass */
	RUN(&r, "regress_new.json", "pass_base.json");
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "improved"));
	run_free(&r);
	/* a 30% regression is within a 40% minimum effect */
	RUN(&r, "pass_base.json", "regress_new.json", "--min-effect", "40");
	expect_code(&r, 0);
	run_free(&r);
	/* 9 against 9 cannot reach p < 0.0001 (best 0.00041): inconclusive */
	RUN(&r, "pass_base.json", "regress_new.json", "--alpha", "0.0001");
	expect_code(&r, 3);
	assert_non_null(strstr(r.out, "too-few"));
	run_free(&r);
}

static void test_keys_decide(void **state)
{
	struct run r;

	(void)state;
	/* only BM_a is key: BM_b's regression is informational */
	RUN(&r, "pass_base.json", "regress_new.json", "--key", "BM_a");
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "informational: 1"));
	run_free(&r);
	/* keys.txt names BM_b */
	RUN(&r, "pass_base.json", "regress_new.json", "--keys", "keys.txt");
	expect_code(&r, 1);
	assert_non_null(strstr(r.out, "* BM_b/real_time"));
	run_free(&r);
	RUN(&r, "pass_base.json", "regress_new.json", "--key", "BM_a", "--key", "BM_b");
	expect_code(&r, 1);
	run_free(&r);
}

static void test_noisy_inconclusive(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "noisy_base.json", "noisy_new.json");
	expect_code(&r, 3);
	assert_non_null(strstr(r.out, "noisy"));
	assert_non_null(strstr(r.out, "rerun advised"));
	run_free(&r);
	/* a looser CV limit accepts it */
	RUN(&r, "noisy_base.json", "noisy_new.json", "--cv-max", "60");
	expect_code(&r, 0);
	run_free(&r);
}

static void test_too_few_inconclusive(void **state)
{
	struct run r;

	(void)state;
	/* 3 against 3: the best p is 0.1, the test cannot decide */
	RUN(&r, "few3_base.json", "few3_new.json");
	expect_code(&r, 3);
	assert_non_null(strstr(r.out, "too-few"));
	run_free(&r);
}

/* 2 wins over 1, 1 over 3, 3 over 0. */
static void test_exit_precedence(void **state)
{
	struct run r;

	(void)state;
	/* regression on BM_b, noise on BM_n: 1 */
	RUN(&r, "regress_noisy_base.json", "regress_noisy_new.json");
	expect_code(&r, 1);
	assert_non_null(strstr(r.out, "noisy"));
	run_free(&r);
	/* errored BM_a and regressed BM_b: 2 */
	RUN(&r, "errored.json", "regress_new.json");
	expect_bad(&r, "errored.json", "key benchmark 'BM_a/real_time' reported an error: ptrace: Operation not permitted");
	/* noisy only: 3, see test_noisy_inconclusive; clean: 0, see test_pass */
}

/* Not key: reported, not fatal. */
static void test_informational_problems(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "pass_base.json", "errored.json", "--key", "BM_b");
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "error"));
	run_free(&r);
	/* without declared keys, one-sided benchmarks are informational */
	RUN(&r, "pass_base.json", "missing_b.json");
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "only-in-base"));
	run_free(&r);
	RUN(&r, "pass_base.json", "pass_new.json", "--key", "BM_zzz");
	expect_bad(&r, "--key", "key 'BM_zzz' matches no benchmark in pass_base.json or pass_new.json");
}

static void test_bad_input(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "pass_base.json", "malformed.json");
	expect_bad(&r, "malformed.json", "malformed JSON at line");
	RUN(&r, "empty.json", "pass_new.json");
	expect_bad(&r, "empty.json", "empty file");
	RUN(&r, "pass_base.json", "no-such-file.json");
	expect_bad(&r, "no-such-file.json", "cannot open: No such file or directory");
	RUN(&r, "nobench.json", "pass_new.json");
	expect_bad(&r, "nobench.json", "no \"benchmarks\" array");
	RUN(&r, "pass_base.json", "unknown_unit.json");
	expect_bad(&r, "unknown_unit.json", "unknown time_unit 'fs'");
	RUN(&r, "pass_base.json", "onerep.json");
	expect_bad(&r, "onerep.json", "has 1 repetition; the U test needs at least 2 per side, 4 to reach p < 0.05");
	RUN(&r, "pass_base.json", "aggonly.json");
	expect_bad(&r, "aggonly.json", "only aggregate rows");
	RUN(&r, "pass_base.json", "dupidx.json");
	expect_bad(&r, "dupidx.json", "appears twice");
	RUN(&r, "pass_base.json", "aggmismatch.json");
	expect_bad(&r, "aggmismatch.json", "aggregate median");
	RUN(&r, "pass_base.json", "errored.json");
	expect_bad(&r, "errored.json", "reported an error");
	RUN(&r, "pass_base.json", "missing_b.json", "--key", "BM_b");
	expect_bad(&r, "missing_b.json", "key benchmark 'BM_b/real_time' is missing (it is in pass_base.json)");
	RUN(&r, "pass_base.json", "pass_new.json", "--keys", "keys_empty.txt");
	expect_bad(&r, "keys_empty.txt", "names no benchmark");
	RUN(&r, "pass_base.json", "pass_new.json", "--keys", "no-such-keys.txt");
	expect_bad(&r, "no-such-keys.txt", "cannot open key file");
	RUN(&r, "pass_base.json", ".");
	expect_bad(&r, ".", "is a directory");
	RUN(&r, "nobench.json", "nobench.json");
	expect_bad(&r, "nobench.json", "no \"benchmarks\" array");
}

static void test_usage_errors(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "pass_base.json");
	expect_bad(&r, "usage", "need BASE.json and NEW.json");
	RUN(&r, "a", "b", "c");
	expect_bad(&r, "usage", "got 3 file arguments");
	RUN(&r, "pass_base.json", "pass_new.json", "--frobnicate");
	expect_bad(&r, "usage", "unknown option '--frobnicate'");
	RUN(&r, "pass_base.json", "pass_new.json", "--alpha", "2");
	expect_bad(&r, "--alpha", "'2' is not a number in (0, 1)");
	RUN(&r, "pass_base.json", "pass_new.json", "--alpha", "x");
	expect_bad(&r, "--alpha", "'x' is not a number");
	RUN(&r, "pass_base.json", "pass_new.json", "--min-effect", "-1");
	expect_bad(&r, "--min-effect", "is not a number in [0, 1000)");
	RUN(&r, "pass_base.json", "pass_new.json", "--cv-max", "0");
	expect_bad(&r, "--cv-max", "'0' is not a number");
	RUN(&r, "pass_base.json", "pass_new.json", "--format", "xml");
	expect_bad(&r, "--format", "'xml' is not text, markdown or json");
	RUN(&r, "pass_base.json", "pass_new.json", "--key");
	expect_bad(&r, "usage", "--key needs a value");
	RUN(&r, "pass_base.json", "pass_new.json", "--key", "BM_a", "--keys", "keys.txt");
	expect_bad(&r, "usage", "do not mix");
	RUN(&r, "pass_base.json", "pass_new.json", "--key", "");
	expect_bad(&r, "--key", "empty name");

	RUN(&r, "--help");
	expect_code(&r, 0);
	assert_non_null(strstr(r.out, "usage: ptbench-compare BASE.json NEW.json"));
	run_free(&r);
}

static void test_markdown(void **state)
{
	struct run r;

	(void)state;
	RUN(&r, "pass_base.json", "regress_new.json", "--format", "markdown");
	expect_code(&r, 1);
	assert_int_equal(strncmp(r.out, "| key | benchmark |", 19), 0);
	assert_non_null(strstr(r.out, "**regressed**"));
	assert_non_null(strstr(r.out, "- result: regression (exit 1)"));
	run_free(&r);
}

static void test_out_file(void **state)
{
	char dir[] = "/tmp/ptbench-compare-out-XXXXXX", out[256], bad[256];
	struct run r;
	struct dirent *de;
	json_error_t e;
	json_t *j;
	DIR *d;
	int files = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/cmp.json", dir);
	RUN(&r, "pass_base.json", "regress_new.json", "--format", "json", "--out", out);
	expect_code(&r, 1);
	assert_string_equal(r.out, "");
	run_free(&r);
	j = json_load_file(out, 0, &e);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "exit_code")), 1);
	json_decref(j);
	/* replaced in place, and no temporary left behind */
	RUN(&r, "pass_base.json", "pass_new.json", "--out", out);
	expect_code(&r, 0);
	run_free(&r);
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		files += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(files, 1);
	unlink(out);
	rmdir(dir);

	snprintf(bad, sizeof(bad), "%s/no/such/dir/cmp.json", dir);
	RUN(&r, "pass_base.json", "pass_new.json", "--out", bad);
	expect_bad(&r, bad, "cannot create a temporary file");
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pvalues_match_compare_py),
		cmocka_unit_test(test_units_convert),
		cmocka_unit_test(test_json_has_every_number),
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_regression),
		cmocka_unit_test(test_keys_decide),
		cmocka_unit_test(test_noisy_inconclusive),
		cmocka_unit_test(test_too_few_inconclusive),
		cmocka_unit_test(test_exit_precedence),
		cmocka_unit_test(test_informational_problems),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_markdown),
		cmocka_unit_test(test_out_file),
	};

	if (argc != 3) {
		fprintf(stderr, "usage: %s TOOL DATA_DIR\n", argv[0]);
		return 2;
	}
	/* Fixture names stay short in the tool's messages: run in data/. */
	if (!realpath(argv[1], tool) || chdir(argv[2])) {
		perror(argv[0]);
		return 2;
	}
	return cmocka_run_group_tests_name("compare-cli", tests, NULL, NULL);
}
