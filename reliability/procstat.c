/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "procstat.h"

int ps_self_tasks(void)
{
	return h_count_numeric("/proc/self/task");
}

int ps_self_fds(void)
{
	int n = h_count_numeric("/proc/self/fd");

	return n < 0 ? n : n - 1;
}

int ps_self_maps(void)
{
	char line[512];
	int n = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strchr(line, '\n') != NULL;
	fclose(f);
	return n;
}

long ps_self_rss_kib(void)
{
	long size, resident = -1;
	FILE *f = fopen("/proc/self/statm", "re");

	if (!f)
		return -1;
	if (fscanf(f, "%ld %ld", &size, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* The fields of /proc/PID/stat after the command name. */
static bool stat_tail(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[512], *p;
	bool ok = false;
	int pp;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%c %d", state, &pp) == 2) {
		*ppid = pp;
		ok = true;
	}
	fclose(f);
	return ok;
}

char ps_state(pid_t pid)
{
	char st;
	pid_t pp;

	return stat_tail(pid, &st, &pp) ? st : 0;
}

pid_t ps_ppid(pid_t pid)
{
	char st;
	pid_t pp;

	return stat_tail(pid, &st, &pp) ? pp : -1;
}

void ps_comm(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(buf, (int)len, f))
		buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

struct proc_entry {
	pid_t pid, ppid;
};

int ps_descendants(pid_t root, pid_t *out, int max, int *tasks)
{
	struct proc_entry *all = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	DIR *d = opendir("/proc");
	int found = 0, ntasks = 0;

	if (!d)
		return -1;
	while ((e = readdir(d))) {
		char st;
		pid_t pid, pp;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		pid = (pid_t)atoi(e->d_name);
		if (!stat_tail(pid, &st, &pp))
			continue;
		if (n == cap) {
			struct proc_entry *grown;

			cap = cap ? 2 * cap : 1024;
			grown = realloc(all, cap * sizeof(*all));
			if (!grown) {
				free(all);
				closedir(d);
				return -1;
			}
			all = grown;
		}
		all[n++] = (struct proc_entry){ pid, pp };
	}
	closedir(d);
	/* Walk each parent chain up; the tree is shallow (stubs are at most
	 * three levels below the tracer's parent). */
	for (size_t i = 0; i < n; i++) {
		pid_t up = all[i].ppid;
		int depth = 0;

		while (up > 1 && up != root && depth++ < 64) {
			size_t j;

			for (j = 0; j < n && all[j].pid != up; j++)
				;
			up = j < n ? all[j].ppid : 0;
		}
		if (up != root || all[i].pid == root)
			continue;
		if (found < max)
			out[found] = all[i].pid;
		found++;
		if (tasks) {
			char path[64];
			int t;

			snprintf(path, sizeof(path), "/proc/%d/task", all[i].pid);
			t = h_count_numeric(path);
			ntasks += t > 0 ? t : 0;
		}
	}
	free(all);
	if (tasks)
		*tasks = ntasks;
	return found;
}

int ps_rollup_kib(pid_t pid, long *rss, long *pss)
{
	char path[64], line[256];
	FILE *f;
	int got = 0;

	*rss = *pss = -1;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		got += sscanf(line, "Rss: %ld kB", rss) == 1;
		got += sscanf(line, "Pss: %ld kB", pss) == 1;
	}
	fclose(f);
	return got == 2 ? 0 : -1;
}

/* A "Name: value kB" field of a /proc file, or -1. */
static long field_kib(const char *path, const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long v = -1;
	FILE *f = fopen(path, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, len) == 0 && line[len] == ':')
			v = strtol(line + len + 1, NULL, 10);
	fclose(f);
	return v;
}

long ps_status_kib(pid_t pid, const char *field)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	return field_kib(path, field);
}

long ps_meminfo_kib(const char *field)
{
	return field_kib("/proc/meminfo", field);
}

void ps_reap_exited(void)
{
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

long ps_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}
