/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The floor family: the physical floor of a round trip between two
 * processes, to print beside every interception figure. A ptrace round trip
 * needs at least the two context switches (tracee -> tracer -> tracee) that a
 * ping-pong between two processes pays:
 *
 *   floor/futex_same_cpu, floor/futex_cross_cpu: a word on a MAP_SHARED page,
 *     FUTEX_WAKE / FUTEX_WAIT (shared, not private, futexes);
 *   floor/pipe_same_cpu, floor/pipe_cross_cpu: one byte each way through two
 *     pipes;
 *   floor/spin_cross_cpu: the same word, each side spinning on it (no
 *     syscall at all): the cache-line floor of a cross-process hand-off,
 *     the limit of systrap's spinning hand-off.
 *
 * same_cpu pins both processes to one CPU, cross_cpu to two different CPUs
 * (skipped with the reason when fewer than two are allowed). The pinning is
 * the point of each benchmark, so it does not depend on --ptbench_pin.
 * Independent of the platform core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "bench.h"

enum { FLOOR_BATCH = 32 };

struct floor_kind {
	bool pipe;  /* else futex, or spin */
	bool spin;  /* spin on the word, no futex (cross-CPU only) */
	bool cross; /* else same CPU */
};

/* A spinning side looks for a dead peer every this many spins. */
enum { SPIN_CHECK_EVERY = 1 << 20 };

/* The page both processes share. */
struct floor_shared {
	uint32_t turn;      /* futex word: 1 = child's turn, 0 = parent's */
	uint32_t ready;     /* futex word: child set up */
	uint64_t count;     /* round trips the child has answered */
	int err_step;       /* child set-up failure: which step, errno */
	int err_errno;
};

static long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* Whether the child is gone; describes how in msg. */
static bool child_gone(pid_t pid, const struct floor_shared *sh, char *msg, size_t len)
{
	int status;
	pid_t r = waitpid(pid, &status, WNOHANG);

	if (r == 0)
		return false;
	if (r < 0)
		snprintf(msg, len, "waitpid: %s", strerror(errno));
	else if (WIFEXITED(status) && sh->err_step)
		snprintf(msg, len, "child set-up step %d failed: %s", sh->err_step,
			 strerror(sh->err_errno));
	else
		snprintf(msg, len, "child ended (status 0x%x)", status);
	return true;
}

static void __attribute__((noreturn))
child_fail(struct floor_shared *sh, int step)
{
	sh->err_errno = errno;
	sh->err_step = step;
	_exit(112);
}

static void __attribute__((noreturn))
floor_child(const struct floor_kind *k, struct floor_shared *sh, pid_t parent,
	    int cpu, int rfd, int wfd)
{
	bench_child_prologue(parent);
	if (bench_pin(0, cpu) < 0) /* errno stays set for child_fail */
		child_fail(sh, 1);
	__atomic_store_n(&sh->ready, 1, __ATOMIC_SEQ_CST);
	futex(&sh->ready, FUTEX_WAKE, 1, NULL);

	if (k->pipe) {
		for (;;) {
			unsigned char b;

			if (read(rfd, &b, 1) != 1)
				_exit(113);
			sh->count++;
			b++;
			if (write(wfd, &b, 1) != 1)
				_exit(114);
		}
	}
	if (k->spin) {
		/* A dead parent kills this child (bench_child_prologue). */
		for (;;) {
			while (__atomic_load_n(&sh->turn, __ATOMIC_ACQUIRE) == 0)
				bench_arch_cpu_relax();
			sh->count++;
			__atomic_store_n(&sh->turn, 0, __ATOMIC_RELEASE);
		}
	}
	for (;;) {
		while (__atomic_load_n(&sh->turn, __ATOMIC_SEQ_CST) == 0)
			futex(&sh->turn, FUTEX_WAIT, 0, NULL);
		sh->count++;
		__atomic_store_n(&sh->turn, 0, __ATOMIC_SEQ_CST);
		futex(&sh->turn, FUTEX_WAKE, 1, NULL);
	}
}

static void bm_floor(gb_state *st, void *arg)
{
	const struct floor_kind *k = arg;
	static const struct timespec second = { .tv_sec = 1 };
	struct floor_shared *sh = MAP_FAILED;
	int p2c[2] = { -1, -1 }, c2p[2] = { -1, -1 };
	int cpus[2], ncpus, child_cpu;
	char label[64] = "", msg[256] = "";
	struct bench_pinning pin = { 0 };
	pid_t parent = getpid(), pid = -1;
	uint64_t total = 0, t0 = 0, t1 = 0;

	ncpus = bench_allowed_cpus(cpus, 2);
	if (ncpus < 1) {
		snprintf(msg, sizeof(msg), "sched_getaffinity: %s", strerror(errno));
		goto out;
	}
	if (k->cross && ncpus < 2) {
		snprintf(msg, sizeof(msg), "only one CPU allowed: cross-CPU needs two");
		goto out;
	}
	child_cpu = k->cross ? cpus[1] : cpus[0];
	if (k->cross)
		snprintf(label, sizeof(label), "pinned cpu%d,cpu%d", cpus[0], cpus[1]);
	else
		snprintf(label, sizeof(label), "pinned cpu%d", cpus[0]);

	if (bench_pin_self_saving(&pin, cpus[0], msg, sizeof(msg)) < 0)
		goto out;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		snprintf(msg, sizeof(msg), "mmap shared page: %s", strerror(errno));
		goto out;
	}
	if (k->pipe && (pipe2(p2c, O_CLOEXEC) < 0 || pipe2(c2p, O_CLOEXEC) < 0)) {
		snprintf(msg, sizeof(msg), "pipe2: %s", strerror(errno));
		goto out;
	}

	pid = fork();
	if (pid < 0) {
		snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		floor_child(k, sh, parent, child_cpu, p2c[0], c2p[1]);
	if (k->pipe) {
		/* The parent keeps only its ends: a dead child reads as EOF. */
		close(p2c[0]);
		close(c2p[1]);
		p2c[0] = c2p[1] = -1;
	}
	while (!__atomic_load_n(&sh->ready, __ATOMIC_SEQ_CST)) {
		futex(&sh->ready, FUTEX_WAIT, 0, &second);
		if (child_gone(pid, sh, msg, sizeof(msg))) {
			pid = -1;
			goto out;
		}
	}

	t0 = bench_now_ns();
	while (gb_keep_running_batch(st, FLOOR_BATCH)) {
		for (int i = 0; i < FLOOR_BATCH; i++) {
			if (k->pipe) {
				unsigned char b = (unsigned char)i, r = 0;

				if (write(p2c[1], &b, 1) != 1 || read(c2p[0], &r, 1) != 1 ||
				    r != (unsigned char)(b + 1)) {
					if (!child_gone(pid, sh, msg, sizeof(msg)))
						snprintf(msg, sizeof(msg), "pipe ping-pong failed: %s",
							 strerror(errno));
					else
						pid = -1;
					goto out_loop;
				}
				continue;
			}
			if (k->spin) {
				unsigned long spins = 0;

				__atomic_store_n(&sh->turn, 1, __ATOMIC_RELEASE);
				while (__atomic_load_n(&sh->turn, __ATOMIC_ACQUIRE) == 1) {
					bench_arch_cpu_relax();
					if (++spins % SPIN_CHECK_EVERY == 0 &&
					    child_gone(pid, sh, msg, sizeof(msg))) {
						pid = -1;
						goto out_loop;
					}
				}
				continue;
			}
			__atomic_store_n(&sh->turn, 1, __ATOMIC_SEQ_CST);
			futex(&sh->turn, FUTEX_WAKE, 1, NULL);
			while (__atomic_load_n(&sh->turn, __ATOMIC_SEQ_CST) == 1) {
				if (futex(&sh->turn, FUTEX_WAIT, 1, &second) < 0 &&
				    errno == ETIMEDOUT && child_gone(pid, sh, msg, sizeof(msg))) {
					pid = -1;
					goto out_loop;
				}
			}
		}
		total += FLOOR_BATCH;
		if (sh->count != total) {
			snprintf(msg, sizeof(msg), "child answered %llu round trips, parent made %llu",
				 (unsigned long long)sh->count, (unsigned long long)total);
			goto out_loop;
		}
	}
out_loop:
	t1 = bench_now_ns();
out:
	bench_reap(pid);
	bench_unpin_self(&pin);
	for (int i = 0; i < 2; i++) {
		if (p2c[i] >= 0)
			close(p2c[i]);
		if (c2p[i] >= 0)
			close(c2p[i]);
	}
	if (sh != MAP_FAILED)
		munmap(sh, sizeof(*sh));
	if (msg[0]) {
		gb_skip_with_error(st, msg);
		return;
	}
	bench_finish(st, t1 - t0, total, label);
}

void bench_register_floor(void)
{
	static const struct {
		const char *name;
		struct floor_kind k;
	} kinds[] = {
		{ "floor/futex_same_cpu", { .pipe = false, .cross = false } },
		{ "floor/futex_cross_cpu", { .pipe = false, .cross = true } },
		{ "floor/pipe_same_cpu", { .pipe = true, .cross = false } },
		{ "floor/pipe_cross_cpu", { .pipe = true, .cross = true } },
		{ "floor/spin_cross_cpu", { .spin = true, .cross = true } },
	};

	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		gb_unit(gb_use_real_time(gb_register(kinds[i].name, bm_floor,
						     (void *)&kinds[i].k)), 'u');
}
