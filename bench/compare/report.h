/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output of ptbench-compare: a text table, a markdown table or JSON with
 * every number, written to a stream the caller opened.
 */
#ifndef PTBENCH_COMPARE_REPORT_H
#define PTBENCH_COMPARE_REPORT_H

#include <stdio.h>

#include "judge.h"

enum report_format {
	FMT_TEXT,
	FMT_MARKDOWN,
	FMT_JSON,
};

struct report {
	const char *base_path, *new_path;
	struct judge_params jp;
	const struct keyset *keys;	/* n == 0: every common benchmark */
	const struct cmp_row *rows;
	size_t n;
	int exit_code;
};

const char *report_result_name(int exit_code);

/* 0, or -EIO when the stream reports a write error. */
int report_write(FILE *fp, enum report_format fmt, const struct report *r);

#endif
