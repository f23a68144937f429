/* SPDX-License-Identifier: Apache-2.0 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "ptplat.h"

struct bench_config bench_config = {
	.backend = "ptrace", .mode = "faithful", .pin = true, .app_size = "full",
};
double bench_native_ns;

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bench_pin(pid_t tid, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(tid, sizeof(set), &set) < 0 ? -errno : 0;
}

int bench_current_cpu(void)
{
	return sched_getcpu();
}

int bench_ncpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (int)n : 1;
}

int bench_allowed_cpus(int *out, int max)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			out[n++] = c;
	return n;
}

int bench_first_allowed_cpu(void)
{
	int cpu;

	return bench_allowed_cpus(&cpu, 1) == 1 ? cpu : -1;
}

int bench_pin_self_saving(struct bench_pinning *ps, int cpu, char *msg, size_t msglen)
{
	int rc;

	ps->restore = false;
	ps->cpu = -1;
	if (sched_getaffinity(0, sizeof(ps->saved), &ps->saved) < 0) {
		rc = -errno;
		if (msg)
			snprintf(msg, msglen, "sched_getaffinity: %s", strerror(-rc));
		return rc;
	}
	rc = bench_pin(0, cpu);
	if (rc < 0) {
		if (msg)
			snprintf(msg, msglen, "pin to cpu%d: %s", cpu, strerror(-rc));
		return rc;
	}
	ps->restore = true;
	ps->cpu = cpu;
	return 0;
}

void bench_unpin_self(struct bench_pinning *ps)
{
	if (ps->restore)
		sched_setaffinity(0, sizeof(ps->saved), &ps->saved);
	ps->restore = false;
}

void bench_pin_self_if_enabled(struct bench_pinning *ps, int cpu)
{
	ps->restore = false;
	ps->cpu = -1;
	if (!bench_config.pin)
		return;
	if (cpu < 0)
		cpu = bench_current_cpu();
	if (cpu >= 0)
		bench_pin_self_saving(ps, cpu, NULL, 0);
}

int bench_pin_self_first_cpu(struct bench_pinning *ps, char *label, size_t labellen,
			     char *msg, size_t msglen)
{
	int cpu;

	ps->restore = false;
	ps->cpu = -1;
	snprintf(label, labellen, "unpinned");
	if (!bench_config.pin)
		return 0;
	cpu = bench_first_allowed_cpu();
	if (cpu < 0) {
		snprintf(msg, msglen, "sched_getaffinity: %s", strerror(errno));
		return -1;
	}
	if (bench_pin_self_saving(ps, cpu, msg, msglen) < 0)
		return -1;
	snprintf(label, labellen, "pinned cpu%d", cpu);
	return 0;
}

void bench_child_prologue(pid_t parent)
{
	struct sigaction dfl;
	sigset_t none;

	/* The getppid check closes the race with a parent that died before
	 * PR_SET_PDEATHSIG took effect. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || getppid() != parent)
		_exit(111);
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	for (int s = 1; s < NSIG; s++)
		if (s != SIGKILL && s != SIGSTOP)
			sigaction(s, &dfl, NULL); /* glibc's reserved ones fail: fine */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void bench_reap(pid_t pid)
{
	int status;

	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	/* __WALL: a traced child is waited for like any other. */
	while (waitpid(pid, &status, __WALL) < 0 && errno == EINTR)
		;
}

int bench_memfd(const char *name, size_t len, const void *src, size_t srclen, char *err,
		size_t errlen)
{
	int fd = memfd_create(name, MFD_CLOEXEC), rc;

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    (src && pwrite(fd, src, srclen, 0) != (ssize_t)srclen)) {
		/* A short pwrite leaves errno alone: never return 0 as an fd. */
		rc = errno ? -errno : -EIO;
		snprintf(err, errlen, "memfd %s: %s", name, strerror(-rc));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	return fd;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of 5 runs of 200000 raw getpid syscalls. */
double bench_measure_native_ns(void)
{
	uint64_t runs[5];

	for (int r = 0; r < 5; r++) {
		uint64_t t0 = bench_now_ns();

		for (int i = 0; i < 200000; i++)
			syscall(SYS_getpid);
		runs[r] = bench_now_ns() - t0;
	}
	qsort(runs, 5, sizeof(runs[0]), cmp_u64);
	return (double)runs[2] / 200000.0;
}

void bench_finish(gb_state *st, uint64_t total_ns, uint64_t iterations,
		  const char *label)
{
	double per;

	if (gb_error_occurred(st) || iterations == 0)
		return;
	per = (double)total_ns / (double)iterations;
	if (bench_native_ns > 0) {
		gb_counter(st, "over_native_x", per / bench_native_ns, GB_COUNTER_DEFAULT);
		gb_counter(st, "over_native_ns", per - bench_native_ns, GB_COUNTER_DEFAULT);
	}
	if (label)
		gb_label(st, label);
}

int bench_samples_init(struct bench_samples *s, size_t cap)
{
	s->v = malloc(cap * sizeof(*s->v));
	s->n = 0;
	s->cap = s->v ? cap : 0;
	return s->v ? 0 : -ENOMEM;
}

void bench_samples_add(struct bench_samples *s, uint64_t ns)
{
	if (s->n < s->cap)
		s->v[s->n++] = ns;
}

static double percentile(const struct bench_samples *s, double q)
{
	size_t i = (size_t)(q * (double)(s->n - 1) + 0.5);

	return (double)s->v[i < s->n ? i : s->n - 1];
}

void bench_samples_report(gb_state *st, struct bench_samples *s, const char *name)
{
	const char *dir = getenv("PTBENCH_SAMPLES_DIR");

	if (s->n == 0)
		return;
	qsort(s->v, s->n, sizeof(s->v[0]), cmp_u64);
	gb_counter(st, "p50_ns", percentile(s, 0.50), GB_COUNTER_DEFAULT);
	gb_counter(st, "p99_ns", percentile(s, 0.99), GB_COUNTER_DEFAULT);
	gb_counter(st, "p999_ns", percentile(s, 0.999), GB_COUNTER_DEFAULT);
	if (dir) {
		char path[512], tmp[520], file[256];
		FILE *f;

		snprintf(file, sizeof(file), "%s", name);
		for (char *c = file; *c; c++)
			if (*c == '/' || *c == ':')
				*c = '_';
		snprintf(path, sizeof(path), "%s/%s.txt", dir, file);
		snprintf(tmp, sizeof(tmp), "%s.tmp", path);
		f = fopen(tmp, "we");
		if (!f)
			return;
		for (size_t i = 0; i < s->n; i++)
			fprintf(f, "%llu\n", (unsigned long long)s->v[i]);
		if (fclose(f) == 0)
			rename(tmp, path);
		else
			unlink(tmp);
	}
}

void bench_samples_free(struct bench_samples *s)
{
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

uint64_t bench_thread_cpu_ns(pid_t pid, pid_t tid)
{
	char path[64];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)tid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	if (fscanf(f, "%llu", &v) != 1)
		v = 0;
	fclose(f);
	return v;
}

void bench_cpu_counters(gb_state *st, const uint64_t before[2], const uint64_t after[2],
			uint64_t n)
{
	static const char *const names[2] = { "tracer_cpu_ns", "stub_cpu_ns" };

	if (!n)
		return;
	for (int i = 0; i < 2; i++)
		if (before[i] && after[i])
			gb_counter(st, names[i], (double)(after[i] - before[i]) / (double)n,
				   GB_COUNTER_DEFAULT);
}

void bench_spin_share_counter(gb_state *st, const struct ptp_stats *before,
			      const struct ptp_stats *after)
{
	uint64_t spun = after->handoffs_spun - before->handoffs_spun;
	uint64_t handoffs = spun + after->handoffs_slept - before->handoffs_slept;

	if (handoffs)
		gb_counter(st, "spin_share", (double)spun / (double)handoffs, GB_COUNTER_DEFAULT);
}
