/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The mem family: the tracer reading and writing the memory of a traced,
 * stopped child, 8 B .. 64 KiB per operation:
 *
 *   mem/peek              PTRACE_PEEKDATA, one word per call
 *   mem/process_vm_readv  one process_vm_readv
 *   mem/process_vm_writev one process_vm_writev
 *   mem/proc_mem          one pread on /proc/PID/mem (opened once, before
 *                         the loop)
 *
 * The child writes a pattern into its private copy of a buffer after the
 * fork (the parent's copy stays zero), so a read that returns the pattern
 * proves it read the child. Checked before the loop (whole buffer) and on
 * the last transfer after it; writes are read back after the loop.
 * Independent of the platform core.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define MEM_MAX 65536

enum mem_kind { MEM_PEEK, MEM_READV, MEM_WRITEV, MEM_PROC };

struct mem_bench {
	const char *name;
	enum mem_kind kind;
};

static unsigned char pattern(size_t i, unsigned seed)
{
	return (unsigned char)((i * 131u + seed) ^ (i >> 8));
}

static bool check_pattern(const unsigned char *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(i, seed))
			return false;
	return true;
}

enum { SEED_CHILD = 0x47, SEED_WRITE = 0x5e };

static void __attribute__((noreturn)) mem_child(pid_t parent, unsigned char *remote)
{
	bench_child_prologue(parent);
	for (size_t i = 0; i < MEM_MAX; i++)
		remote[i] = pattern(i, SEED_CHILD);
	if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) < 0)
		_exit(112);
	/* Stop with a raw tgkill, not raise(): no glibc state after fork. */
	syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), SIGSTOP);
	for (;;)
		pause(); /* never resumed: the parent only reads and writes */
}

static int one_op(enum mem_kind kind, pid_t pid, int memfd, unsigned char *local,
		  unsigned char *remote, size_t size)
{
	struct iovec l = { local, size }, r = { remote, size };

	switch (kind) {
	case MEM_PEEK:
		for (size_t off = 0; off < size; off += sizeof(long)) {
			long v;

			errno = 0;
			v = ptrace(PTRACE_PEEKDATA, pid, remote + off, NULL);
			if (v == -1 && errno)
				return -1;
			memcpy(local + off, &v, sizeof(v));
		}
		return 0;
	case MEM_READV:
		return process_vm_readv(pid, &l, 1, &r, 1, 0) == (ssize_t)size ? 0 : -1;
	case MEM_WRITEV:
		return process_vm_writev(pid, &l, 1, &r, 1, 0) == (ssize_t)size ? 0 : -1;
	case MEM_PROC:
		return pread(memfd, local, size, (off_t)(uintptr_t)remote) == (ssize_t)size ? 0 : -1;
	}
	return -1;
}

static const char *op_name(enum mem_kind kind)
{
	switch (kind) {
	case MEM_PEEK:
		return "PTRACE_PEEKDATA";
	case MEM_READV:
		return "process_vm_readv";
	case MEM_WRITEV:
		return "process_vm_writev";
	case MEM_PROC:
		return "pread /proc/PID/mem";
	}
	return "?";
}

static void bm_mem(gb_state *st, void *arg)
{
	const struct mem_bench *mb = arg;
	size_t size = (size_t)gb_range_x(st, 0);
	uint64_t batch = size >= MEM_MAX ? 1 : MEM_MAX / size;
	unsigned char *remote = MAP_FAILED, *local = MAP_FAILED;
	char label[64] = "unpinned", msg[256] = "", path[64];
	struct bench_pinning pin = { 0 };
	struct iovec l, r;
	pid_t parent = getpid(), pid = -1;
	uint64_t total = 0, t0 = 0, t1 = 0;
	int status = 0, memfd = -1;

	if (batch > 256)
		batch = 256;
	if (size == 0 || size > MEM_MAX || size % sizeof(long)) {
		snprintf(msg, sizeof(msg), "bad size %zu (8-byte multiple up to %d)", size, MEM_MAX);
		goto out;
	}
	if (bench_pin_self_first_cpu(&pin, label, sizeof(label), msg, sizeof(msg)) < 0)
		goto out;

	remote = mmap(NULL, MEM_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	local = mmap(NULL, MEM_MAX, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (remote == MAP_FAILED || local == MAP_FAILED) {
		snprintf(msg, sizeof(msg), "mmap: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(msg, sizeof(msg), "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		mem_child(parent, remote);
	if (waitpid(pid, &status, __WALL) != pid || !WIFSTOPPED(status) ||
	    WSTOPSIG(status) != SIGSTOP) {
		snprintf(msg, sizeof(msg), "child did not stop (status 0x%x)", status);
		goto out;
	}
	if (ptrace(PTRACE_SETOPTIONS, pid, NULL, (void *)(long)PTRACE_O_EXITKILL) < 0) {
		snprintf(msg, sizeof(msg), "PTRACE_SETOPTIONS: %s", strerror(errno));
		goto out;
	}
	if (mb->kind == MEM_PROC) {
		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		memfd = open(path, O_RDWR | O_CLOEXEC);
		if (memfd < 0) {
			snprintf(msg, sizeof(msg), "open %s: %s", path, strerror(errno));
			goto out;
		}
	}
	/* Proof before timing: the whole buffer reads back as the child's. */
	l = (struct iovec){ local, MEM_MAX };
	r = (struct iovec){ remote, MEM_MAX };
	if (process_vm_readv(pid, &l, 1, &r, 1, 0) != MEM_MAX ||
	    !check_pattern(local, MEM_MAX, SEED_CHILD)) {
		snprintf(msg, sizeof(msg), "the child's buffer does not read back as written (%s)",
			 strerror(errno));
		goto out;
	}
	if (mb->kind == MEM_WRITEV)
		for (size_t i = 0; i < MEM_MAX; i++)
			local[i] = pattern(i, SEED_WRITE);
	else
		memset(local, 0, MEM_MAX);

	t0 = bench_now_ns();
	while (gb_keep_running_batch(st, batch)) {
		for (uint64_t i = 0; i < batch; i++) {
			if (one_op(mb->kind, pid, memfd, local, remote, size) < 0) {
				snprintf(msg, sizeof(msg), "%s of %zu bytes: %s", op_name(mb->kind),
					 size, strerror(errno));
				goto out_loop;
			}
		}
		total += batch;
	}
out_loop:
	t1 = bench_now_ns();
	if (msg[0])
		goto out;

	if (mb->kind == MEM_WRITEV) {
		memset(local, 0, MEM_MAX);
		l = (struct iovec){ local, size };
		r = (struct iovec){ remote, size };
		if (process_vm_readv(pid, &l, 1, &r, 1, 0) != (ssize_t)size ||
		    !check_pattern(local, size, SEED_WRITE)) {
			snprintf(msg, sizeof(msg), "written bytes do not read back from the child");
			goto out;
		}
	} else if (!check_pattern(local, size, SEED_CHILD)) {
		snprintf(msg, sizeof(msg), "%s returned bytes that are not the child's",
			 op_name(mb->kind));
		goto out;
	}
out:
	if (memfd >= 0)
		close(memfd);
	bench_reap(pid);
	bench_unpin_self(&pin);
	if (remote != MAP_FAILED)
		munmap(remote, MEM_MAX);
	if (local != MAP_FAILED)
		munmap(local, MEM_MAX);
	if (msg[0]) {
		gb_skip_with_error(st, msg);
		return;
	}
	gb_counter(st, "bytes_per_second", (double)size * (double)total, GB_COUNTER_RATE);
	bench_finish(st, t1 - t0, total, label);
}

void bench_register_mem(void)
{
	static const struct mem_bench benches[] = {
		{ "mem/peek", MEM_PEEK },
		{ "mem/process_vm_readv", MEM_READV },
		{ "mem/process_vm_writev", MEM_WRITEV },
		{ "mem/proc_mem", MEM_PROC },
	};

	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		gb_bench *b = gb_register(benches[i].name, bm_mem, (void *)&benches[i]);

		gb_arg_name(b, "bytes");
		gb_range(b, 8, MEM_MAX, 8);
		gb_unit(gb_use_real_time(b), 'u');
	}
}
