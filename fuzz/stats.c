/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

void fz_stats_add(struct fz_stats *s, const struct fz_outcome *o)
{
	char key[48];
	unsigned int i;

	s->execs++;
	s->per_class[o->cls]++;
	s->syscalls += o->nsyscalls;
	if (o->cls == FZ_HUNG)
		s->hangs++;
	if (fz_class_escape(o->cls)) {
		s->escapes++;
		if (!s->first_escape[0])
			snprintf(s->first_escape, sizeof(s->first_escape),
				 "execution %lu: %s", s->execs, fz_class_name(o->cls));
	}
	if (o->first_nr >= 0 && o->first_nr < FZ_MAX_NR)
		s->nr_seen[o->first_nr] = 1;
	else if (o->first_nr != -1)
		s->nr_other++;
	fz_outcome_key(o, key, sizeof(key));
	for (i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].key, key) == 0)
			break;
	if (i == s->nkeys) {
		if (s->nkeys == FZ_MAX_KEYS)
			return;
		snprintf(s->keys[i].key, sizeof(s->keys[i].key), "%s", key);
		s->nkeys++;
	}
	s->keys[i].n++;
}

void fz_stats_violation(struct fz_stats *s, const char *why)
{
	s->violations++;
	s->escapes++;
	if (!s->first_escape[0])
		snprintf(s->first_escape, sizeof(s->first_escape),
			 "after execution %lu: %s", s->execs, why);
}

unsigned int fz_stats_distinct_nrs(const struct fz_stats *s)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < FZ_MAX_NR; i++)
		n += s->nr_seen[i];
	return n;
}

void fz_stats_print(const struct fz_stats *s, FILE *f)
{
	fprintf(f, "executions %lu, escapes %lu (oracle violations %lu), hangs %lu, "
		   "distinct outcomes %u, emulated syscalls %lu (%u distinct first numbers)\n",
		s->execs, s->escapes, s->violations, s->hangs, s->nkeys, s->syscalls,
		fz_stats_distinct_nrs(s));
	for (unsigned int i = 0; i < s->nkeys; i++)
		fprintf(f, "  %-28s %lu\n", s->keys[i].key, s->keys[i].n);
	if (s->first_escape[0])
		fprintf(f, "first escape: %s\n", s->first_escape);
}

int fz_stats_write_json(const struct fz_stats *s, const char *extra,
			const char *path)
{
	char tmp[4096];
	FILE *f;
	int rc = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	f = fopen(tmp, "we");
	if (!f)
		return -errno;
	fprintf(f, "{\n  \"executions\": %lu,\n  \"escapes\": %lu,\n"
		   "  \"oracle_violations\": %lu,\n  \"hangs\": %lu,\n"
		   "  \"emulated_syscalls\": %lu,\n  \"distinct_first_syscalls\": %u,\n"
		   "  \"distinct_outcomes\": %u,\n  \"classes\": {",
		s->execs, s->escapes, s->violations, s->hangs, s->syscalls,
		fz_stats_distinct_nrs(s), s->nkeys);
	for (int c = 0; c < FZ_CLASS_COUNT; c++)
		fprintf(f, "%s\"%s\": %lu", c ? ", " : "", fz_class_name((enum fz_class)c),
			s->per_class[c]);
	fprintf(f, "},\n  \"outcomes\": {");
	for (unsigned int i = 0; i < s->nkeys; i++)
		fprintf(f, "%s\n    \"%s\": %lu", i ? "," : "", s->keys[i].key,
			s->keys[i].n);
	fprintf(f, "\n  },\n  \"first_escape\": \"%s\"%s%s\n}\n", s->first_escape,
		extra ? ",\n" : "", extra ? extra : "");
	if (fflush(f) != 0 || ferror(f))
		rc = -EIO;
	if (fclose(f) != 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
