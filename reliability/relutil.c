/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relutil.h"

int rel_loop_ctx(struct ptp_platform *p, struct ptp_ctx **out)
{
	int rc = ptp_ctx_new(p, out);

	if (rc == 0) {
		ptp_ctx_set_ip(*out, REL_CODE);
		ptp_ctx_set_arg(*out, 5, 0);
	}
	return rc;
}

bool rel_parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

int rel_write_json(json_t *root, const char *path, const char *prog)
{
	char *tmp;
	int rc;

	if (strcmp(path, "-") == 0) {
		rc = json_dumpf(root, stdout, JSON_INDENT(2));
		putchar('\n');
		return rc == 0 ? 0 : -1;
	}
	if (asprintf(&tmp, "%s.tmp.%d", path, (int)getpid()) < 0)
		return -1;
	rc = json_dump_file(root, tmp, JSON_INDENT(2));
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -1;
	if (rc < 0) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return rc;
}

bool rel_json_path_ok(const char *path, const char *prog)
{
	char *copy, *dir = NULL;
	struct stat st;
	int err = 0;

	if (strcmp(path, "-") == 0)
		return true;
	copy = strdup(path);
	if (copy)
		dir = dirname(copy);
	if (!dir)
		err = ENOMEM;
	else if (stat(dir, &st) < 0)
		err = errno;
	else if (!S_ISDIR(st.st_mode))
		err = ENOTDIR;
	else if (access(dir, W_OK | X_OK) < 0)
		err = errno;
	free(copy);
	if (!err && !*path)
		err = ENOENT;
	if (err)
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, path, strerror(err));
	return !err;
}

uint64_t rel_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}
