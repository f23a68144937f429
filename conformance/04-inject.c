/* SPDX-License-Identifier: Apache-2.0 */
/* inject: mapping into address spaces and injecting system calls into them;
 * errors come back as -errno and never break the stub. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

/* Runs PAYLOAD_READ (loaded at H_CODE) on addr: expects its getpid stop and
 * returns the word it loaded. */
static uint64_t app_read(struct hfix *f, uintptr_t addr)
{
	struct ptp_event ev;

	ptp_ctx_set_ip(f->ctx, H_CODE);
	ptp_ctx_set_arg(f->ctx, 0, addr);
	ptp_ctx_set_arg(f->ctx, 1, 0);
	h_switch(f->ctx, f->as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_getpid);
	return ptp_ctx_arg(f->ctx, 1);
}

/* Runs PAYLOAD_READ on addr and expects a fault there with si_code. */
static void app_read_faults(struct hfix *f, uintptr_t addr, int code)
{
	struct ptp_event ev;

	ptp_ctx_set_ip(f->ctx, H_CODE);
	ptp_ctx_set_arg(f->ctx, 0, addr);
	h_switch(f->ctx, f->as, &ev, PTP_EV_FAULT);
	assert_int_equal(ev.info.si_signo, SIGSEGV);
	assert_int_equal(ev.info.si_code, code);
	assert_int_equal(ev.addr, addr);
	assert_int_equal((uintptr_t)ev.info.si_addr, addr);
	assert_int_equal(ptp_ctx_ip(f->ctx), H_CODE);
}

/* A stub that still serves: a fresh context runs a syscall in it. */
static void stub_still_works(struct hfix *f)
{
	struct ptp_ctx *c = h_ctx(f->p);
	struct ptp_event ev;

	assert_int_equal(ptp_as_status(f->as), 0);
	ptp_ctx_set_ip(c, H_CODE);
	ptp_ctx_set_arg(c, 0, H_CODE); /* PAYLOAD_READ reads its own code */
	h_switch(c, f->as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_getpid);
	ptp_ctx_free(c);
}

static void map_content_is_read(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	uint64_t w[2] = { 0x0123456789abcdefull, 0xfedcba9876543210ull };
	int fd = h_memfd(2 * pg, NULL, 0);

	assert_int_equal(pwrite(fd, &w[0], 8, 0x40), 8);
	assert_int_equal(pwrite(fd, &w[1], 8, (off_t)pg + 0x80), 8);
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, fd, 0, 0), 0);
	assert_int_equal(app_read(&f, H_DATA + 0x40), w[0]);
	/* An offset into the file. */
	assert_int_equal(ptp_as_map(f.as, H_DATA + pg, pg, PROT_READ, fd, (off_t)pg, 0), 0);
	assert_int_equal(app_read(&f, H_DATA + pg + 0x80), w[1]);
	/* MAP_SHARED: the host's later write is what the app reads. */
	w[0] = 0x1122334455667788ull;
	assert_int_equal(pwrite(fd, &w[0], 8, 0x40), 8);
	assert_int_equal(app_read(&f, H_DATA + 0x40), w[0]);
	/* Unmapped, then mapped again with other content. */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, 2 * pg), 0);
	close(fd);
	w[0] = 0x5555aaaa5555aaaaull;
	fd = h_memfd(pg, &w[0], 8);
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, fd, 0, 0), 0);
	assert_int_equal(app_read(&f, H_DATA), w[0]);
	close(fd);
	h_teardown(&f);
}

static void app_write_reaches_the_file(void)
{
	struct hfix f = h_setup(PAYLOAD_WRITE);
	size_t pg = h_page();
	int fd = h_memfd(pg, NULL, 0);
	const uint64_t v = 0xc0ffee00deadbeefull;
	uint64_t got = 0;
	struct ptp_event ev;

	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ | PROT_WRITE, fd, 0, 0), 0);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA + 0x100);
	ptp_ctx_set_arg(f.ctx, 1, v);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_getpid);
	assert_int_equal(pread(fd, &got, 8, 0x100), 8);
	assert_int_equal(got, v);
	close(fd);
	h_teardown(&f);
}

/* Resident set of the mapping that starts at addr in pid, in kB; -1 when
 * there is none. */
static long rss_kb(pid_t pid, uintptr_t addr)
{
	char path[64], line[256], want[32];
	bool in = false;
	long rss = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	snprintf(want, sizeof(want), "%lx-", (unsigned long)addr);
	fp = fopen(path, "re");
	if (!fp)
		fail_msg("open %s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), fp)) {
		/* Mapping lines start with a lower-case hex address, field
		 * lines with a capitalised name. */
		if ((line[0] >= '0' && line[0] <= '9') || (line[0] >= 'a' && line[0] <= 'f'))
			in = strncmp(line, want, strlen(want)) == 0;
		else if (in && strncmp(line, "Rss:", 4) == 0)
			rss = strtol(line + 4, NULL, 10);
	}
	fclose(fp);
	return rss;
}

static void map_populate(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	const size_t n = 8;
	const uint64_t v = 0x706f70756c617465ull;
	int fd = h_memfd(n * pg, NULL, 0);
	long plain, populated;

	assert_int_equal(pwrite(fd, &v, 8, (off_t)((n - 1) * pg)), 8);
	assert_int_equal(ptp_as_map(f.as, H_DATA, n * pg, PROT_READ, fd, 0, 0), 0);
	assert_int_equal(ptp_as_map(f.as, H_DATA + 2 * n * pg, n * pg, PROT_READ, fd, 0,
				    PTP_MAP_POPULATE), 0);
	plain = rss_kb(ptp_as_pid(f.as), H_DATA);
	populated = rss_kb(ptp_as_pid(f.as), H_DATA + 2 * n * pg);
	h_note("rss: plain %ld kB, populated %ld kB", plain, populated);
	assert_int_equal(plain, 0);
	assert_int_equal(populated, (long)(n * pg / 1024));
	assert_int_equal(app_read(&f, H_DATA + 2 * n * pg + (n - 1) * pg), v);
	/* Unknown flags are refused. */
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, fd, 0, 0x2), -EINVAL);
	close(fd);
	h_teardown(&f);
}

static void write_to_readonly_faults(void)
{
	struct hfix f = h_setup(PAYLOAD_WRITE);
	size_t pg = h_page();
	const uint64_t orig = 0x1111111111111111ull;
	int fd = h_memfd(pg, &orig, 8);
	uint64_t got = 0;
	struct ptp_event ev;

	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, fd, 0, 0), 0);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA);
	ptp_ctx_set_arg(f.ctx, 1, 0x2222222222222222ull);
	h_switch(f.ctx, f.as, &ev, PTP_EV_FAULT);
	assert_int_equal(ev.info.si_signo, SIGSEGV);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);
	assert_int_equal(ev.addr, H_DATA);
	assert_int_equal(ptp_ctx_ip(f.ctx), H_CODE);
	assert_int_equal(pread(fd, &got, 8, 0), 8);
	assert_int_equal(got, orig);
	close(fd);
	h_teardown(&f);
}

static void exec_of_noexec_faults(void)
{
	struct hfix f = h_setup(PAYLOAD_EXEC);
	const struct payload *loop = payload_get(PAYLOAD_SYSCALL_LOOP);
	size_t pg = h_page();
	int fd = h_memfd(pg, loop->start, loop->size);
	struct ptp_event ev;

	/* The same code, mapped executable, runs... */
	assert_int_equal(ptp_as_map(f.as, H_DATA + pg, pg, PROT_READ | PROT_EXEC, fd, 0, 0), 0);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA + pg);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_getpid);
	/* ...mapped read-write, it faults at its first byte. */
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ | PROT_WRITE, fd, 0, 0), 0);
	ptp_ctx_set_ip(f.ctx, H_CODE);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA);
	h_switch(f.ctx, f.as, &ev, PTP_EV_FAULT);
	assert_int_equal(ev.info.si_signo, SIGSEGV);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);
	assert_int_equal(ev.addr, H_DATA);
	assert_int_equal(ptp_ctx_ip(f.ctx), H_DATA);
	assert_true(ev.access & PTP_ACCESS_EXEC);
	close(fd);
	h_teardown(&f);
}

static void unmap_then_access_faults(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	const uint64_t v = 0x0badc0de0badc0deull;
	int fd = h_memfd(3 * pg, NULL, 0);

	assert_int_equal(pwrite(fd, &v, 8, (off_t)pg), 8);
	assert_int_equal(ptp_as_map(f.as, H_DATA, 3 * pg, PROT_READ, fd, 0, 0), 0);
	assert_int_equal(app_read(&f, H_DATA + pg), v);
	/* A hole in the middle: its neighbours stay. */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA + pg, pg), 0);
	app_read_faults(&f, H_DATA + pg, SEGV_MAPERR);
	assert_int_equal(app_read(&f, H_DATA), 0);
	assert_int_equal(app_read(&f, H_DATA + 2 * pg), 0);
	/* Unmapping what is not mapped is fine (munmap semantics). */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, 3 * pg), 0);
	app_read_faults(&f, H_DATA, SEGV_MAPERR);
	app_read_faults(&f, H_DATA + 2 * pg, SEGV_MAPERR);
	assert_int_equal(ptp_as_status(f.as), 0);
	close(fd);
	h_teardown(&f);
}

static void bad_fd_is_ebadf(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	int fd = h_memfd(pg, NULL, 0), closed = h_memfd(pg, NULL, 0), wronly;
	char path[64];

	close(closed);
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, -1, 0, 0), -EBADF);
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, closed, 0, 0), -EBADF);
	/* Any other mmap error comes back the same way: a write-only fd
	 * cannot back a shared mapping. */
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	wronly = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(wronly >= 0);
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, wronly, 0, 0), -EACCES);
	/* A read-only fd cannot back a shared writable one. */
	close(wronly);
	wronly = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(wronly >= 0);
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ | PROT_WRITE, wronly, 0, 0),
			 -EACCES);
	close(wronly);
	/* None of them mapped anything. */
	app_read_faults(&f, H_DATA, SEGV_MAPERR);
	/* And a good fd still maps. */
	assert_int_equal(ptp_as_map(f.as, H_DATA, pg, PROT_READ, fd, 0, 0), 0);
	assert_int_equal(app_read(&f, H_DATA), 0);
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

static void bad_ranges_are_einval(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	int fd = h_memfd(4 * pg, NULL, 0);
	const struct {
		uintptr_t addr;
		size_t len;
	} bad[] = {
		{ H_DATA + 1, pg },
		{ H_DATA + pg / 2, pg },
		{ H_DATA, pg + 1 },
		{ H_DATA, pg - 1 },
		{ H_DATA, 0 },
		{ H_DATA + 8, 0 },
		/* Wraps around the address space. */
		{ H_DATA, (size_t)0 - H_DATA },
		{ H_DATA, (size_t)0 - pg },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int m = ptp_as_map(f.as, bad[i].addr, bad[i].len, PROT_READ, fd, 0, 0);
		int u = ptp_as_unmap(f.as, bad[i].addr, bad[i].len);

		if (m != -EINVAL || u != -EINVAL)
			fail_msg("range %#lx+%#zx: map %d, unmap %d, want -EINVAL",
				 (unsigned long)bad[i].addr, bad[i].len, m, u);
	}
	/* Nothing was mapped. */
	app_read_faults(&f, H_DATA, SEGV_MAPERR);
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

/* The end of the address space's mapping that starts at max (the stub, in
 * a design that puts it there, as ptplat.h's "[stub_start, stub_end)" says
 * this one does), read from the kernel rather than from the platform's
 * introspection; max + one page when nothing is mapped at max. */
static uintptr_t stub_end_seen(pid_t pid, uintptr_t max)
{
	char path[64], line[512];
	uintptr_t end = max + h_page();
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;

		if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && lo == max)
			end = hi;
	}
	fclose(f);
	return end;
}

static void out_of_range_is_efault(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	uintptr_t max = ptp_max_user_address(f.p), min = ptp_min_user_address(f.p);
	uintptr_t end = stub_end_seen(ptp_as_pid(f.as), max);
	int fd = h_memfd(4 * pg, NULL, 0);
	const uint64_t v = 0x6d61782d70616765ull;

	assert_true(min < H_CODE);
	assert_true(max > H_STACK);
	assert_true(end > max);
	assert_int_equal(max % pg, 0);
	assert_int_equal(end % pg, 0);
	const struct {
		uintptr_t addr;
		size_t len;
	} bad[] = {
		{ max - pg, 2 * pg },       /* straddles the stub's start */
		{ max - 4 * pg, 4 * pg + pg }, /* ends inside the stub */
		{ max, pg },                /* the stub itself */
		{ max, end - max },         /* all of it */
		{ end - pg, 2 * pg },       /* straddles the stub's end */
		{ end, pg },                /* above the stub */
		{ end + 64 * pg, pg },
		{ 0, pg },                  /* below min */
		{ min - pg, pg },
		{ min - pg, 2 * pg },       /* straddles min */
		{ 0, max },                 /* everything below the stub */
	};

	h_note("min %#lx, stub [%#lx, %#lx)", (unsigned long)min, (unsigned long)max,
	       (unsigned long)end);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int m, u;

		if (bad[i].addr == min - pg && min < pg)
			continue; /* min is 0: nothing lies below it */
		m = ptp_as_map(f.as, bad[i].addr, bad[i].len, PROT_READ | PROT_WRITE, fd, 0, 0);
		u = ptp_as_unmap(f.as, bad[i].addr, bad[i].len);
		if (m != -EFAULT || u != -EFAULT)
			fail_msg("range %#lx+%#zx: map %d, unmap %d, want -EFAULT",
				 (unsigned long)bad[i].addr, bad[i].len, m, u);
		/* The stub was not clobbered or unmapped: it still serves. */
		stub_still_works(&f);
	}
	/* The edges themselves are usable: the last page below the stub and
	 * the first page at min. */
	assert_int_equal(pwrite(fd, &v, 8, 0), 8);
	assert_int_equal(ptp_as_map(f.as, max - pg, pg, PROT_READ, fd, 0, 0), 0);
	assert_int_equal(app_read(&f, max - pg), v);
	assert_int_equal(ptp_as_unmap(f.as, max - pg, pg), 0);
	app_read_faults(&f, max - pg, SEGV_MAPERR);
	if (min % pg == 0) {
		uintptr_t lo = min ? min : pg;

		assert_int_equal(ptp_as_map(f.as, lo, pg, PROT_READ, fd, 0, 0), 0);
		assert_int_equal(app_read(&f, lo), v);
		assert_int_equal(ptp_as_unmap(f.as, lo, pg), 0);
	}
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

static void inject_allowed_calls(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	const uint64_t v = 0x696e6a6563746564ull;
	int fd = h_memfd(pg, &v, 8), closed = h_memfd(pg, NULL, 0);
	uint64_t args[6] = { 0 };
	long res = 12345;

	assert_true(ptp_syscall_injectable(SYS_getpid));
	assert_int_equal(ptp_as_inject(f.as, SYS_getpid, NULL, &res), 0);
	assert_int_equal(res, ptp_as_pid(f.as));
	assert_int_equal(ptp_as_inject(f.as, SYS_getpid, args, &res), 0);
	assert_int_equal(res, ptp_as_pid(f.as));

	/* mmap returns the raw address; the app sees the content. */
	assert_true(ptp_syscall_injectable(SYS_mmap));
	uint64_t mm[6] = { H_DATA, pg, PROT_READ, MAP_SHARED | MAP_FIXED, (uint64_t)fd, 0 };
	assert_int_equal(ptp_as_inject(f.as, SYS_mmap, mm, &res), 0);
	assert_int_equal(res, (long)H_DATA);
	assert_int_equal(app_read(&f, H_DATA), v);
	/* A private anonymous mapping reads as zero. */
	uint64_t anon[6] = { H_DATA + pg, pg, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, (uint64_t)-1, 0 };
	assert_int_equal(ptp_as_inject(f.as, SYS_mmap, anon, &res), 0);
	assert_int_equal(res, (long)(H_DATA + pg));
	assert_int_equal(app_read(&f, H_DATA + pg), 0);

	/* munmap returns 0 and the app faults there afterwards. */
	assert_true(ptp_syscall_injectable(SYS_munmap));
	uint64_t um[6] = { H_DATA, 2 * pg };
	res = 12345;
	assert_int_equal(ptp_as_inject(f.as, SYS_munmap, um, &res), 0);
	assert_int_equal(res, 0);
	app_read_faults(&f, H_DATA, SEGV_MAPERR);

	/* An injected call's failure is its raw -errno in the result, not the
	 * return value. */
	close(closed);
	mm[4] = (uint64_t)closed;
	assert_int_equal(ptp_as_inject(f.as, SYS_mmap, mm, &res), 0);
	assert_int_equal(res, -EBADF);
	mm[4] = (uint64_t)fd;
	mm[0] = H_DATA + 1; /* MAP_FIXED at an unaligned address */
	assert_int_equal(ptp_as_inject(f.as, SYS_mmap, mm, &res), 0);
	assert_int_equal(res, -EINVAL);
	um[0] = H_DATA + 1;
	assert_int_equal(ptp_as_inject(f.as, SYS_munmap, um, &res), 0);
	assert_int_equal(res, -EINVAL);
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

static void inject_refused_calls(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	char path[] = "/tmp/ptbench-inject-XXXXXX";
	int pipefd[2], tmp = mkstemp(path);
	char buf[8];
	const char msg[] = "escaped";
	pid_t aspid = ptp_as_pid(f.as);

	assert_true(tmp >= 0);
	close(tmp);
	unlink(path);
	assert_int_equal(pipe2(pipefd, O_NONBLOCK | O_CLOEXEC), 0);
	h_map_rw(f.as, H_DATA, h_page());
	const struct {
		long nr;
		uint64_t args[6];
	} calls[] = {
		{ SYS_openat, { (uint64_t)AT_FDCWD, (uint64_t)(uintptr_t)path, O_CREAT | O_WRONLY, 0600 } },
		{ SYS_write, { (uint64_t)pipefd[1], (uint64_t)(uintptr_t)msg, sizeof(msg) } },
		{ SYS_kill, { (uint64_t)aspid, SIGKILL } },
		{ SYS_tgkill, { (uint64_t)aspid, (uint64_t)aspid, SIGKILL } },
		{ SYS_exit_group, { 0 } },
		{ SYS_execve, { H_DATA, 0, 0 } },
		/* mprotect is allowed below the stub only. */
		{ SYS_mprotect, { ptp_max_user_address(f.p) - h_page(), 2 * h_page(),
				  PROT_READ | PROT_WRITE } },
		{ SYS_mprotect, { ptp_max_user_address(f.p), h_page(), PROT_READ } },
		{ SYS_mprotect, { H_DATA, (uint64_t)0 - H_DATA + h_page(), PROT_READ } },
		{ SYS_mprotect, { H_DATA, h_page(), PROT_READ | PROT_GROWSDOWN } },
		{ SYS_ptrace, { 0 } },
		{ SYS_clone, { 0 } },
		{ SYS_prctl, { PR_SET_PDEATHSIG, 0 } },
		{ SYS_getuid, { 0 } },
	};

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		long res = 0x5a5a;
		int rc = ptp_as_inject(f.as, calls[i].nr, calls[i].args, &res);

		if (rc != -EPERM)
			fail_msg("call %zu (nr %ld): inject returned %d (result %ld), want -EPERM",
				 i, calls[i].nr, rc, res);
		assert_int_equal(res, 0x5a5a);
		assert_int_equal(ptp_as_status(f.as), 0);
	}
	usleep(20000);
	assert_int_equal(ptp_as_status(f.as), 0);
	assert_int_equal(read(pipefd[0], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(access(path, F_OK), -1);
	/* The mapping is untouched (mprotect did not run) and the stub serves. */
	assert_int_equal(app_read(&f, H_DATA), 0);
	stub_still_works(&f);
	close(pipefd[0]);
	close(pipefd[1]);
	h_teardown(&f);
}

/*
 * ptp_syscall_injectable answers per number (whether any allowed form of the
 * call exists); ptp_as_inject also checks the arguments of the few calls the
 * allow-list pins (kill only with SIGSTOP). So: not injectable => -EPERM for
 * any arguments, and every injectable number has an accepted form.
 */
static void injectable_agrees_with_inject(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	static const long refused[] = { SYS_read, SYS_write, SYS_openat, SYS_close,
					SYS_execve, SYS_exit_group, SYS_ptrace,
					SYS_tgkill, SYS_getuid,
					SYS_ioctl, SYS_seccomp, -1, 100000 };
	static const long accepted[] = { SYS_getpid, SYS_getppid, SYS_mmap,
					  SYS_munmap, SYS_kill, SYS_mprotect };
	uint64_t args[6] = { 0 };
	long res;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		if (ptp_syscall_injectable(refused[i]))
			fail_msg("nr %ld reported injectable", refused[i]);
		res = 0x5a5a;
		assert_int_equal(ptp_as_inject(f.as, refused[i], args, &res), -EPERM);
		assert_int_equal(ptp_as_inject(f.as, refused[i], NULL, &res), -EPERM);
		assert_int_equal(res, 0x5a5a);
	}
	for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++)
		if (!ptp_syscall_injectable(accepted[i]))
			fail_msg("nr %ld reported not injectable", accepted[i]);
	/* Accepted forms, each harmless here. */
	assert_int_equal(ptp_as_inject(f.as, SYS_getppid, NULL, &res), 0);
	assert_true(res > 0);
	uint64_t um[6] = { H_DATA, h_page() };
	assert_int_equal(ptp_as_inject(f.as, SYS_munmap, um, &res), 0);
	assert_int_equal(res, 0);
	/* mprotect of nothing mapped: the kernel's -ENOMEM, not the filter. */
	uint64_t mp[6] = { H_DATA, h_page(), PROT_READ };
	assert_int_equal(ptp_as_inject(f.as, SYS_mprotect, mp, &res), 0);
	assert_int_equal(res, -ENOMEM);
	/* kill is allowed with SIGSTOP only: signal 0 is refused, and so is
	 * SIGKILL; the address space lives on. */
	uint64_t k[6] = { (uint64_t)ptp_as_pid(f.as), 0 };
	assert_int_equal(ptp_as_inject(f.as, SYS_kill, k, &res), -EPERM);
	k[1] = SIGKILL;
	assert_int_equal(ptp_as_inject(f.as, SYS_kill, k, &res), -EPERM);
	assert_int_equal(ptp_as_status(f.as), 0);
	stub_still_works(&f);
	h_teardown(&f);
}

/*
 * An injection between two switches runs on the traced thread the context
 * uses; the context's registers must survive it (lean mode keeps them
 * resident and must notice they were clobbered).
 */
static void inject_between_switches_keeps_context(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	const uint64_t pat = 0x7265676973746572ull;
	struct ptp_event ev;
	uint64_t ip, args[6] = { 0 };
	long res;
	int fd = h_memfd(h_page(), NULL, 0);

	ptp_ctx_set_arg(f.ctx, 5, 0);
	/* rbx (x86_64) or a callee-saved register elsewhere: the loop does
	 * not touch any register but the syscall's and arg5. */
	ptp_ctx_set_gpr(f.ctx, 1, pat);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	ip = ptp_ctx_ip(f.ctx);
	for (uint64_t i = 1; i <= 5; i++) {
		uint64_t mm[6] = { H_DATA, h_page(), PROT_READ, MAP_SHARED | MAP_FIXED,
				   (uint64_t)fd, 0 };

		ptp_ctx_set_result(f.ctx, 1000 + (long)i);
		assert_int_equal(ptp_as_inject(f.as, SYS_getpid, args, &res), 0);
		assert_int_equal(res, ptp_as_pid(f.as));
		assert_int_equal(ptp_as_inject(f.as, SYS_mmap, mm, &res), 0);
		assert_int_equal(res, (long)H_DATA);
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, SYS_getpid);
		assert_int_equal(ptp_ctx_ip(f.ctx), ip);
		assert_int_equal(ptp_ctx_arg(f.ctx, 5), i);
		assert_int_equal(ptp_ctx_gpr(f.ctx, 1), pat);
	}
	close(fd);
	h_teardown(&f);
}

/* Where the write payload runs beside PAYLOAD_READ at H_CODE. */
#define H_WRITER (H_CODE + 0x100000ul)

/* Runs PAYLOAD_WRITE (at H_WRITER) storing v at addr; returns the event. */
static enum ptp_event_kind app_write(struct hfix *f, uintptr_t addr, uint64_t v,
				     struct ptp_event *ev)
{
	int rc;

	ptp_ctx_set_ip(f->ctx, H_WRITER);
	ptp_ctx_set_arg(f->ctx, 0, addr);
	ptp_ctx_set_arg(f->ctx, 1, v);
	rc = ptp_switch(f->ctx, f->as, ev);
	if (rc < 0)
		fail_msg("ptp_switch: %s", strerror(-rc));
	return ev->kind;
}

static void app_write_works(struct hfix *f, uintptr_t addr, uint64_t v)
{
	struct ptp_event ev;

	assert_int_equal(app_write(f, addr, v, &ev), PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_getpid);
}

static void app_write_faults(struct hfix *f, uintptr_t addr)
{
	struct ptp_event ev;

	assert_int_equal(app_write(f, addr, 0x5a5a5a5a5a5a5a5aull, &ev), PTP_EV_FAULT);
	assert_int_equal(ev.info.si_signo, SIGSEGV);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);
	assert_int_equal(ev.addr, addr);
}

/*
 * A page made read-only faults on write and keeps its content; made
 * writable again, the write lands. Also at the last page below the stub,
 * which the filter's exact bound (not a constant one) must allow.
 */
static void protect_works(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	uintptr_t top = ptp_max_user_address(f.p) - pg;
	const uintptr_t where[] = { H_DATA, top };
	const uint64_t v = 0x70726f7465637421ull;
	int fd = h_memfd(2 * pg, NULL, 0);
	uint64_t got;

	h_load_at(f.as, H_WRITER, PAYLOAD_WRITE);
	for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
		uintptr_t a = where[i];
		off_t off = (off_t)(i * pg);

		h_note("protect at %#lx", (unsigned long)a);
		assert_int_equal(ptp_as_map(f.as, a, pg, PROT_READ | PROT_WRITE, fd, off, 0), 0);
		app_write_works(&f, a + 8, v);
		assert_int_equal(ptp_as_protect(f.as, a, pg, PROT_READ), 0);
		app_write_faults(&f, a + 16);
		assert_int_equal(app_read(&f, a + 8), v);
		assert_int_equal(ptp_as_protect(f.as, a, pg, PROT_READ | PROT_WRITE), 0);
		app_write_works(&f, a + 16, v + 1);
		assert_int_equal(pread(fd, &got, 8, off + 16), 8);
		assert_int_equal(got, v + 1);
		/* PROT_NONE: even a read faults. */
		assert_int_equal(ptp_as_protect(f.as, a, pg, PROT_NONE), 0);
		app_read_faults(&f, a + 8, SEGV_ACCERR);
		/* PROT_SEM (0x8, no glibc name), like arm64's PROT_BTI, is a
		 * bit above R|W|X that the core and filter let through: the
		 * kernel judges it (every arch accepts this one). */
		assert_int_equal(ptp_as_protect(f.as, a, pg, PROT_READ | 0x8), 0);
		assert_int_equal(app_read(&f, a + 8), v);
		assert_int_equal(ptp_as_unmap(f.as, a, pg), 0);
	}
	/* Nothing mapped there: mprotect's own -ENOMEM. */
	assert_int_equal(ptp_as_protect(f.as, H_DATA, pg, PROT_READ), -ENOMEM);
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

/* Bad ranges and protections are refused (that nothing is injected for
 * them, internals/batch_round_trips counts); a range that reaches the stub
 * is -EFAULT like ptp_as_map's, and the raw injection of it is refused by
 * the filter's mirror. */
static void protect_bad_ranges(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	uintptr_t max = ptp_max_user_address(f.p);
	uintptr_t end = stub_end_seen(ptp_as_pid(f.as), max);
	const struct {
		uintptr_t addr;
		size_t len;
		int prot;
		int want;
	} bad[] = {
		{ H_DATA + 1, pg, PROT_READ, -EINVAL },
		{ H_DATA, pg - 1, PROT_READ, -EINVAL },
		{ H_DATA, 0, PROT_READ, -EINVAL },
		{ H_DATA, (size_t)0 - H_DATA, PROT_READ, -EINVAL },   /* wraps to 0 */
		{ H_DATA, (size_t)0 - pg, PROT_READ, -EINVAL },       /* wraps past 0 */
		{ H_DATA, pg, PROT_READ | PROT_GROWSDOWN, -EINVAL },
		{ H_DATA, pg, 0x10000, -EINVAL },
		{ max - pg, 2 * pg, PROT_READ | PROT_WRITE, -EFAULT }, /* straddles */
		{ max, end - max, PROT_READ | PROT_WRITE, -EFAULT },   /* the stub */
		{ end, pg, PROT_READ, -EFAULT },
		{ 0, pg, PROT_READ, -EFAULT },
	};
	long res = 0x5a5a;

	h_map_rw(f.as, H_DATA, pg);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = ptp_as_protect(f.as, bad[i].addr, bad[i].len, bad[i].prot);

		if (rc != bad[i].want)
			fail_msg("protect %#lx+%#zx prot %#x: %d, want %d",
				 (unsigned long)bad[i].addr, bad[i].len, bad[i].prot, rc,
				 bad[i].want);
	}
	uint64_t straddle[6] = { max - pg, 2 * pg, PROT_READ | PROT_WRITE };
	assert_int_equal(ptp_as_inject(f.as, SYS_mprotect, straddle, &res), -EPERM);
	assert_int_equal(res, 0x5a5a);
	/* The page stayed as it was: readable. */
	assert_int_equal(app_read(&f, H_DATA), 0);
	stub_still_works(&f);
	h_teardown(&f);
}

/* In a batch of 16 maps, protects and unmaps each operation does what its
 * single form does (that it is one round trip, internals/batch_round_trips
 * counts). */
static void batch_is_one_round_trip(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page(), done = 99;
	enum { NPAGES = 8 };
	uint64_t words[NPAGES];
	struct ptp_as_op ops[16];
	size_t n = 0;
	int fd;

	for (size_t i = 0; i < NPAGES; i++)
		words[i] = 0x6261746368000000ull + i;
	fd = h_memfd(NPAGES * pg, NULL, 0);
	for (size_t i = 0; i < NPAGES; i++)
		assert_int_equal(pwrite(fd, &words[i], 8, (off_t)(i * pg)), 8);
	h_load_at(f.as, H_WRITER, PAYLOAD_WRITE);
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, pg), 0);
	for (size_t i = 0; i < NPAGES; i++)
		ops[n++] = (struct ptp_as_op){ .kind = PTP_AS_OP_MAP, .addr = H_DATA + i * pg,
					      .len = pg, .prot = PROT_READ | PROT_WRITE,
					      .fd = fd, .offset = (off_t)(i * pg) };
	for (size_t i = 0; i < 4; i++)
		ops[n++] = (struct ptp_as_op){ .kind = PTP_AS_OP_PROTECT,
					      .addr = H_DATA + i * pg, .len = pg,
					      .prot = PROT_READ };
	for (size_t i = 6; i < NPAGES; i++)
		ops[n++] = (struct ptp_as_op){ .kind = PTP_AS_OP_UNMAP,
					      .addr = H_DATA + i * pg, .len = pg };
	/* One protect of pages 4 and 5 together, one map of page 7 again. */
	ops[n++] = (struct ptp_as_op){ .kind = PTP_AS_OP_PROTECT, .addr = H_DATA + 4 * pg,
				      .len = 2 * pg, .prot = PROT_READ | PROT_WRITE };
	ops[n++] = (struct ptp_as_op){ .kind = PTP_AS_OP_MAP, .addr = H_DATA + 7 * pg,
				      .len = pg, .prot = PROT_READ, .fd = fd,
				      .offset = 0, .flags = PTP_MAP_POPULATE };
	assert_int_equal(n, 16);
	assert_int_equal(ptp_as_map_batch(f.as, ops, n, &done), 0);
	assert_int_equal(done, n);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(app_read(&f, H_DATA + i * pg), words[i]);
	app_read_faults(&f, H_DATA + 6 * pg, SEGV_MAPERR);
	assert_int_equal(app_read(&f, H_DATA + 7 * pg), words[0]);
	app_write_faults(&f, H_DATA + 3 * pg);
	app_write_works(&f, H_DATA + 4 * pg + 8, 1);
	app_write_works(&f, H_DATA + 5 * pg + 8, 1);
	/* Nothing to do. */
	assert_int_equal(ptp_as_map_batch(f.as, ops, 0, &done), 0);
	assert_int_equal(done, 0);
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

/* More than PTP_AS_BATCH_MAX operations all take effect (one round trip
 * per PTP_AS_BATCH_MAX: internals/batch_round_trips). */
static void batch_splits_at_capacity(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page(), n = 2 * PTP_AS_BATCH_MAX + 1, done = 0;
	struct ptp_as_op *ops = calloc(n, sizeof(*ops));
	int fd = h_memfd(pg, NULL, 0);

	assert_non_null(ops);
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, pg), 0);
	for (size_t i = 0; i < n; i++)
		ops[i] = (struct ptp_as_op){ .kind = i % 2 ? PTP_AS_OP_UNMAP : PTP_AS_OP_MAP,
					    .addr = H_DATA + (i / 2) * pg, .len = pg,
					    .prot = PROT_READ, .fd = fd };
	assert_int_equal(ptp_as_map_batch(f.as, ops, n, &done), 0);
	assert_int_equal(done, n);
	/* The last operation is a map of page PTP_AS_BATCH_MAX. */
	assert_int_equal(app_read(&f, H_DATA + PTP_AS_BATCH_MAX * pg), 0);
	app_read_faults(&f, H_DATA, SEGV_MAPERR);
	free(ops);
	close(fd);
	h_teardown(&f);
}

/*
 * The first operation that fails ends the batch: one the kernel fails in the
 * stub (fd -1) and one the core refuses before writing the list (a
 * range over the stub). Those before it took effect, none after it did.
 */
static void batch_stops_at_first_failure(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page(), done = 99;
	uintptr_t max = ptp_max_user_address(f.p);
	const uint64_t v = 0x6661696c65642121ull;
	int fd = h_memfd(pg, &v, 8);

	assert_int_equal(ptp_as_unmap(f.as, H_DATA, pg), 0);
	/* Not a closed fd's number: the core's own fds (the batch list's
	 * writer) may take it, as any fd of the tracer may (see ptp_as_map). */
	struct ptp_as_op ops[] = {
		{ .kind = PTP_AS_OP_MAP, .addr = H_DATA, .len = pg, .prot = PROT_READ, .fd = fd },
		{ .kind = PTP_AS_OP_MAP, .addr = H_DATA + pg, .len = pg, .prot = PROT_READ,
		  .fd = -1 },
		{ .kind = PTP_AS_OP_MAP, .addr = H_DATA + 2 * pg, .len = pg, .prot = PROT_READ,
		  .fd = fd },
	};
	assert_int_equal(ptp_as_map_batch(f.as, ops, 3, &done), -EBADF);
	assert_int_equal(done, 1);
	assert_int_equal(app_read(&f, H_DATA), v);
	app_read_faults(&f, H_DATA + pg, SEGV_MAPERR);
	app_read_faults(&f, H_DATA + 2 * pg, SEGV_MAPERR);

	/* Refused in the core: the operations before it still run, and
	 * nothing after it. */
	struct ptp_as_op refused[] = {
		{ .kind = PTP_AS_OP_UNMAP, .addr = H_DATA, .len = pg },
		{ .kind = PTP_AS_OP_PROTECT, .addr = max - pg, .len = 2 * pg,
		  .prot = PROT_READ | PROT_WRITE },
		{ .kind = PTP_AS_OP_MAP, .addr = H_DATA + 2 * pg, .len = pg, .prot = PROT_READ,
		  .fd = fd },
	};
	assert_int_equal(ptp_as_map_batch(f.as, refused, 3, &done), -EFAULT);
	assert_int_equal(done, 1);
	app_read_faults(&f, H_DATA, SEGV_MAPERR);
	app_read_faults(&f, H_DATA + 2 * pg, SEGV_MAPERR);
	/* Refused first: nothing runs. An unknown kind too. */
	assert_int_equal(ptp_as_map_batch(f.as, &refused[1], 2, &done), -EFAULT);
	assert_int_equal(done, 0);
	struct ptp_as_op odd = { .kind = (enum ptp_as_op_kind)99, .addr = H_DATA, .len = pg };
	assert_int_equal(ptp_as_map_batch(f.as, &odd, 1, &done), -EINVAL);
	assert_int_equal(ptp_as_map_batch(f.as, NULL, 1, &done), -EINVAL);
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

/* The list lives in the stub's mapping, which the app cannot write. */
static void batch_list_is_read_only_to_the_app(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page(), done;
	uintptr_t start, end;
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_as_op op = { .kind = PTP_AS_OP_MAP, .addr = H_DATA, .len = pg,
				.prot = PROT_READ, .fd = fd };

	h_load_at(f.as, H_WRITER, PAYLOAD_WRITE);
	/* After a batch has written the list (the page is this process's own
	 * copy now), every page of the stub still refuses the app's writes. */
	assert_int_equal(ptp_as_map_batch(f.as, &op, 1, &done), 0);
	/* The stub: the first executable mapping at or above the max (a
	 * backend may keep writable pages of its own in between: systrap's
	 * per-thread regions). */
	assert_true(h_mapping(ptp_as_pid(f.as), ptp_max_user_address(f.p), " r-xp ",
			      &start, &end));
	for (uintptr_t a = start; a < end; a += pg)
		app_write_faults(&f, a + pg - 8);
	stub_still_works(&f);
	close(fd);
	h_teardown(&f);
}

/* One thread of batch_from_two_threads: maps its own pages (its memfd,
 * its magic) and unmaps them, batch by batch, and reads the stub's memory
 * after each: a batch that ran the other thread's list shows. */
struct batcher {
	struct ptp_as *as;
	uintptr_t base;
	uint64_t magic;
	int fd;
	int rounds;
	char err[160];
};

enum { BATCHER_PAGES = 8 };

static void *batcher_run(void *arg)
{
	struct batcher *b = arg;
	size_t pg = h_page(), done;
	struct ptp_as_op maps[BATCHER_PAGES], unmaps[BATCHER_PAGES];

	for (size_t i = 0; i < BATCHER_PAGES; i++) {
		maps[i] = (struct ptp_as_op){ .kind = PTP_AS_OP_MAP, .addr = b->base + i * pg,
					     .len = pg, .prot = PROT_READ, .fd = b->fd };
		unmaps[i] = (struct ptp_as_op){ .kind = PTP_AS_OP_UNMAP,
					       .addr = b->base + i * pg, .len = pg };
	}
	for (int r = 0; r < b->rounds; r++) {
		for (int pass = 0; pass < 2; pass++) {
			int rc = ptp_as_map_batch(b->as, pass ? unmaps : maps, BATCHER_PAGES,
						  &done);
			uint64_t got = 0;
			struct iovec local = { &got, sizeof(got) };
			struct iovec remote = { (void *)(b->base + (BATCHER_PAGES - 1) * pg),
						sizeof(got) };
			ssize_t n;

			if (rc < 0 || done != BATCHER_PAGES) {
				snprintf(b->err, sizeof(b->err), "round %d: batch %d, %zu done",
					 r, rc, done);
				return NULL;
			}
			n = process_vm_readv(ptp_as_pid(b->as), &local, 1, &remote, 1, 0);
			if (pass == 0 && (n != (ssize_t)sizeof(got) || got != b->magic)) {
				snprintf(b->err, sizeof(b->err),
					 "round %d: after the maps, read %zd bytes, %#llx", r, n,
					 (unsigned long long)got);
				return NULL;
			}
			if (pass == 1 && n >= 0) {
				snprintf(b->err, sizeof(b->err),
					 "round %d: the last page is still mapped after the unmaps", r);
				return NULL;
			}
		}
	}
	return NULL;
}

/* Two tracer threads batch into one address space at once: each has its own
 * traced thread, and both lists go to the one page in the stub. */
static void batch_from_two_threads(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	struct batcher b[2];
	pthread_t th[2];

	for (int i = 0; i < 2; i++) {
		b[i] = (struct batcher){ .as = f.as, .base = H_DATA + (size_t)i * 64 * pg,
					 .magic = 0x7468726561640000ull + (uint64_t)i,
					 .rounds = 200 };
		b[i].fd = h_memfd(pg, &b[i].magic, sizeof(b[i].magic));
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, batcher_run, &b[i]), 0);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		if (b[i].err[0])
			fail_msg("thread %d: %s", i, b[i].err);
		close(b[i].fd);
	}
	h_teardown(&f);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(map_content_is_read),
		HCASE(app_write_reaches_the_file),
		HCASE(map_populate),
		HCASE(write_to_readonly_faults),
		HCASE(exec_of_noexec_faults),
		HCASE(unmap_then_access_faults),
		HCASE(bad_fd_is_ebadf),
		HCASE(bad_ranges_are_einval),
		HCASE(out_of_range_is_efault),
		HCASE(inject_allowed_calls),
		HCASE(inject_refused_calls),
		HCASE(injectable_agrees_with_inject),
		HCASE(inject_between_switches_keeps_context),
		HCASE(protect_works),
		HCASE(protect_bad_ranges),
		HCASE(batch_is_one_round_trip),
		HCASE(batch_splits_at_capacity),
		HCASE(batch_stops_at_first_failure),
		HCASE(batch_list_is_read_only_to_the_app),
		HCASE(batch_from_two_threads),
	};

	return harness_main(argc, argv, "inject", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
