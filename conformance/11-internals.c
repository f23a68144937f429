/* SPDX-License-Identifier: Apache-2.0 */
/* internals: cases that look into this design through its introspection
 * functions (the ones ptplat.h marks PTP_INTROSPECTION): where the stub
 * sits, what the master stub maps and which filter it runs, and what
 * ptp_stats and ptp_trim do after a fork. Another platform need not have
 * any of it, so "ptbench test --platform" skips this group; the threadpool
 * and lifecycle groups (07, 09), which count this design's traced threads
 * and pooled address spaces throughout, belong to the same set. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* The lines of /proc/PID/maps other than the stub and [vsyscall]. */
static int foreign_mappings(pid_t pid, uintptr_t stub_start, uintptr_t stub_end)
{
	char path[64], line[512];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		assert_int_equal(sscanf(line, "%lx-%lx", &lo, &hi), 2);
		if (lo == stub_start && hi == stub_end && strstr(line, " r-xp "))
			continue;
		if (strstr(line, "[vsyscall]"))
			continue;
		h_note("pid %d maps: %s", pid, line);
		n++;
	}
	fclose(f);
	return n;
}

static void stub_at_the_top(void)
{
	struct ptp_platform *p = h_open();
	uintptr_t start = ptp_max_user_address(p), end = ptp_stub_end(p);
	char line[512];
	bool seen = false;
	FILE *f;

	assert_true(start > 0 && end > start);
	assert_int_equal(start % h_page(), 0);
	assert_int_equal(end % h_page(), 0);
	assert_true(ptp_min_user_address(p) < start);
	assert_true(ptp_min_user_address(p) >= h_page());
	/* Nothing of the tracer may sit above the stub. */
	f = fopen("/proc/self/maps", "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		sscanf(line, "%lx-%lx", &lo, &hi);
		if (lo == start && hi == end)
			seen = strstr(line, " r-xp ") != NULL;
		else if (!strstr(line, "[vsyscall]"))
			assert_true(hi <= start);
	}
	fclose(f);
	assert_true(seen);
	ptp_close(p);
}

static void fresh_as_maps_only_stub(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);

	assert_int_equal(foreign_mappings(ptp_as_pid(as), ptp_max_user_address(p),
					  ptp_stub_end(p)), 0);
	assert_int_equal(foreign_mappings(ptp_master_pid(p), ptp_max_user_address(p),
					  ptp_stub_end(p)), 0);
	ptp_as_release(as);
	ptp_close(p);
}

static void status_field(pid_t pid, const char *key, char *out, size_t len)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	out[0] = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			snprintf(out, len, "%s", line + strlen(key) + 1);
	fclose(f);
}

static void stub_filter_active(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	pid_t pids[2] = { ptp_master_pid(p), ptp_as_pid(as) };
	char v[64], task[64];

	for (int i = 0; i < 2; i++) {
		status_field(pids[i], "Seccomp", v, sizeof(v));
		assert_int_equal(atoi(v), 2); /* SECCOMP_MODE_FILTER */
		status_field(pids[i], "NoNewPrivs", v, sizeof(v));
		assert_int_equal(atoi(v), 1);
		/* Traced by a thread of ours (the platform's service thread). */
		status_field(pids[i], "TracerPid", v, sizeof(v));
		snprintf(task, sizeof(task), "/proc/self/task/%d", atoi(v));
		assert_int_equal(access(task, F_OK), 0);
	}
	ptp_close(p);
}

/* ptplat.h, "fork": in a child forked after ptp_open, ptp_stats reports
 * zeros and ptp_trim does nothing; the parent's pool and master live on.
 * (platform/fork_after_open checks the behaviour API's part.) */
static void fork_stats_and_trim(void)
{
	struct ptp_platform *p = h_open_pool(2);
	struct ptp_as *pooled = h_as(p), *live = h_as(p);
	struct ptp_stats st;
	pid_t master = ptp_master_pid(p), child;
	int status;

	ptp_as_release(pooled);
	ptp_stats(p, &st);
	assert_int_equal(st.as_live, 1);
	assert_int_equal(st.as_pooled, 1);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		ptp_stats(p, &st);
		if (st.as_live || st.as_pooled || st.traced_threads)
			_exit(1);
		ptp_trim(p);
		_exit(0);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the forked child saw non-zero stats (status 0x%x)", status);
	ptp_stats(p, &st);
	assert_int_equal(st.as_live, 1);
	assert_int_equal(st.as_pooled, 1);
	assert_true(h_proc_exists(master));
	ptp_as_release(live);
	ptp_close(p);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(stub_at_the_top),
		HCASE(fresh_as_maps_only_stub),
		HCASE(stub_filter_active),
		HCASE(fork_stats_and_trim),
	};

	return harness_main(argc, argv, "internals", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
