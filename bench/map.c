/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The map family: memory management by injection against the same work done
 * natively, the fault-map-resume round trip, and address-space creation with
 * and without the reuse pool.
 *
 *   map/native/pages:N   mmap + munmap of N pages of a memfd in this process
 *                        (MAP_SHARED, at a fixed address: MAP_FIXED_NOREPLACE
 *                        into a hole reserved once, so a stray mapping there
 *                        is an error, never clobbered)
 *   map/inject/pages:N   ptp_as_map + ptp_as_unmap of the same in an address
 *                        space (MAP_SHARED|MAP_FIXED, injected)
 *   map/fault_roundtrip  app loads from an unmapped page -> fault event ->
 *                        ptp_as_map -> switch -> app completes (syscall) ->
 *                        ptp_as_unmap, all in one iteration
 *   map/as_create        ptp_as_new + ptp_as_release, reuse pool off
 *   map/as_create_reused the same with the reuse pool on
 *
 * Core benchmarks run in --ptbench_mode; with pinning on, the tracer thread
 * is pinned to its CPU (restored afterwards) and the core pins traced
 * threads beside it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bench.h"
#include "payloads.h"
#include "ptplat.h"

#define MAP_CODE 0x10000000ul
#define MAP_DATA 0x20000000ul
#define MAP_MAX_PAGES 256
#define MAP_MAGIC 0x70746265u /* "ptbe" */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

struct map_pin {
	bool saved;
	cpu_set_t set;
};

static void map_pin_self(struct map_pin *ps)
{
	int cpu;

	ps->saved = false;
	if (!bench_config.pin || sched_getaffinity(0, sizeof(ps->set), &ps->set) < 0)
		return;
	cpu = bench_current_cpu();
	if (cpu >= 0 && bench_pin(0, cpu) == 0)
		ps->saved = true;
}

static void map_unpin(struct map_pin *ps)
{
	if (ps->saved)
		sched_setaffinity(0, sizeof(ps->set), &ps->set);
}

static size_t map_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static void map_label(char *buf, size_t len, bool core)
{
	if (core)
		snprintf(buf, len, "mode=%s pin=%s", bench_config.mode,
			 bench_config.pin ? "on" : "off");
	else
		snprintf(buf, len, "native pin=%s", bench_config.pin ? "on" : "off");
}

/* A memfd of len bytes, optionally starting with src; -1 with err set. */
static int map_memfd(size_t len, const void *src, size_t srclen, char *err,
		     size_t errlen)
{
	int fd = memfd_create("ptbench-map", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)len) < 0 ||
	    (src && pwrite(fd, src, srclen, 0) != (ssize_t)srclen)) {
		snprintf(err, errlen, "memfd: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int map_open(unsigned int reuse_pool, struct ptp_platform **p, char *err,
		    size_t errlen)
{
	struct ptp_options o;
	int rc;

	ptp_options_default(&o);
	if (ptp_mode_parse(bench_config.mode, &o.mode) < 0) {
		snprintf(err, errlen, "unknown mode '%s'", bench_config.mode);
		return -EINVAL;
	}
	o.pin = bench_config.pin;
	o.reuse_pool = reuse_pool;
	*p = NULL;
	rc = ptp_open(&o, p);
	if (rc < 0) {
		snprintf(err, errlen, "ptp_open: %s: %s", strerror(-rc), ptp_open_error());
		*p = NULL;
	}
	return rc;
}

/* map/native/pages:N ------------------------------------------------- */

static void bm_map_native(gb_state *st, void *arg)
{
	size_t pg = map_page(), len = (size_t)gb_range_x(st, 0) * pg;
	uint64_t t_start = 0, t_end = 0, n = 0;
	char label[64], err[320];
	struct map_pin ps;
	void *hint;
	int fd;

	(void)arg;
	map_label(label, sizeof(label), false);
	map_pin_self(&ps);
	fd = map_memfd(MAP_MAX_PAGES * pg, NULL, 0, err, sizeof(err));
	if (fd < 0) {
		gb_skip_with_error(st, err);
		goto out;
	}
	/* A hole of the right size: reserve it, then let it go. */
	hint = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hint == MAP_FAILED) {
		snprintf(err, sizeof(err), "reserve: %s", strerror(errno));
		gb_skip_with_error(st, err);
		goto out_fd;
	}
	munmap(hint, len);

	while (gb_keep_running_batch(st, 8)) {
		if (!t_start)
			t_start = bench_now_ns();
		for (int i = 0; i < 8; i++) {
			void *m = mmap(hint, len, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);

			if (m != hint) {
				snprintf(err, sizeof(err), "mmap: %s",
					 m == MAP_FAILED ? strerror(errno)
							 : "not at the hint");
				if (m != MAP_FAILED)
					munmap(m, len);
				gb_skip_with_error(st, err);
				break;
			}
			if (munmap(m, len) < 0) {
				snprintf(err, sizeof(err), "munmap: %s", strerror(errno));
				gb_skip_with_error(st, err);
				break;
			}
			n++;
		}
	}
	t_end = bench_now_ns();
	bench_finish(st, t_end - t_start, n, label);
out_fd:
	close(fd);
out:
	map_unpin(&ps);
}

/* map/inject/pages:N ------------------------------------------------- */

static void bm_map_inject(gb_state *st, void *arg)
{
	size_t pg = map_page(), len = (size_t)gb_range_x(st, 0) * pg;
	uint64_t t_start = 0, t_end = 0, n = 0;
	struct ptp_platform *p = NULL;
	struct ptp_as *as = NULL;
	char label[64], err[320];
	struct map_pin ps;
	int fd = -1, rc;

	(void)arg;
	map_label(label, sizeof(label), true);
	map_pin_self(&ps);
	if (map_open(8, &p, err, sizeof(err)) < 0)
		goto fail;
	rc = ptp_as_new(p, &as);
	if (rc < 0) {
		as = NULL;
		snprintf(err, sizeof(err), "ptp_as_new: %s", strerror(-rc));
		goto fail;
	}
	fd = map_memfd(MAP_MAX_PAGES * pg, NULL, 0, err, sizeof(err));
	if (fd < 0)
		goto fail;
	/* Warm-up: creates this thread's traced thread in the address space. */
	rc = ptp_as_map(as, MAP_DATA, len, PROT_READ | PROT_WRITE, fd, 0, 0);
	if (rc == 0)
		rc = ptp_as_unmap(as, MAP_DATA, len);
	if (rc < 0) {
		snprintf(err, sizeof(err), "warm-up map/unmap: %s", strerror(-rc));
		goto fail;
	}

	while (gb_keep_running_batch(st, 8)) {
		if (!t_start)
			t_start = bench_now_ns();
		for (int i = 0; i < 8; i++) {
			rc = ptp_as_map(as, MAP_DATA, len, PROT_READ | PROT_WRITE, fd, 0, 0);
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_as_map: %s", strerror(-rc));
				gb_skip_with_error(st, err);
				break;
			}
			rc = ptp_as_unmap(as, MAP_DATA, len);
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_as_unmap: %s", strerror(-rc));
				gb_skip_with_error(st, err);
				break;
			}
			n++;
		}
	}
	t_end = bench_now_ns();
	bench_finish(st, t_end - t_start, n, label);
	goto out;
fail:
	gb_skip_with_error(st, err);
out:
	if (fd >= 0)
		close(fd);
	if (as)
		ptp_as_release(as);
	ptp_close(p);
	map_unpin(&ps);
}

/* map/fault_roundtrip ------------------------------------------------ */

static void bm_map_fault(gb_state *st, void *arg)
{
	const struct payload *pl = payload_get(PAYLOAD_READ);
	uint64_t t_start = 0, t_end = 0, n = 0;
	const uint32_t magic = MAP_MAGIC;
	struct ptp_platform *p = NULL;
	struct ptp_ctx *ctx = NULL;
	struct ptp_as *as = NULL;
	char label[64], err[320];
	int code_fd = -1, data_fd = -1, rc;
	size_t pg = map_page();
	struct ptp_event ev;
	struct map_pin ps;

	(void)arg;
	map_label(label, sizeof(label), true);
	map_pin_self(&ps);
	if (!pl || pl->size == 0) {
		snprintf(err, sizeof(err), "no read payload on this arch");
		goto fail;
	}
	if (map_open(8, &p, err, sizeof(err)) < 0)
		goto fail;
	rc = ptp_as_new(p, &as);
	if (rc < 0) {
		as = NULL;
		snprintf(err, sizeof(err), "ptp_as_new: %s", strerror(-rc));
		goto fail;
	}
	rc = ptp_ctx_new(p, &ctx);
	if (rc < 0) {
		ctx = NULL;
		snprintf(err, sizeof(err), "ptp_ctx_new: %s", strerror(-rc));
		goto fail;
	}
	code_fd = map_memfd(pg, pl->start, pl->size, err, sizeof(err));
	if (code_fd < 0)
		goto fail;
	data_fd = map_memfd(pg, &magic, sizeof(magic), err, sizeof(err));
	if (data_fd < 0)
		goto fail;
	rc = ptp_as_map(as, MAP_CODE, pg, PROT_READ | PROT_EXEC, code_fd, 0, 0);
	if (rc < 0) {
		snprintf(err, sizeof(err), "ptp_as_map payload: %s", strerror(-rc));
		goto fail;
	}
	ptp_ctx_set_arg(ctx, 0, MAP_DATA);

	/* n == 0 is the warm-up round, outside the timed loop. */
	for (bool warm = true;; warm = false) {
		int per = warm ? 1 : 4;

		if (!warm && !gb_keep_running_batch(st, (uint64_t)per))
			break;
		if (!warm && !t_start)
			t_start = bench_now_ns();
		for (int i = 0; i < per; i++) {
			ptp_ctx_set_ip(ctx, MAP_CODE);
			ptp_ctx_set_arg(ctx, 1, 0);
			rc = ptp_switch(ctx, as, &ev);
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_switch (to fault): %s",
					 strerror(-rc));
				goto loop_fail;
			}
			if (ev.kind != PTP_EV_FAULT || ev.addr != MAP_DATA) {
				snprintf(err, sizeof(err),
					 "expected a fault at %#lx, got event %d addr %#lx",
					 MAP_DATA, (int)ev.kind, (unsigned long)ev.addr);
				goto loop_fail;
			}
			rc = ptp_as_map(as, MAP_DATA, pg, PROT_READ, data_fd, 0, 0);
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_as_map (fault): %s",
					 strerror(-rc));
				goto loop_fail;
			}
			rc = ptp_switch(ctx, as, &ev);
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_switch (resume): %s",
					 strerror(-rc));
				goto loop_fail;
			}
			if (ev.kind != PTP_EV_SYSCALL ||
			    ptp_ctx_syscall_nr(ctx) != SYS_getpid ||
			    (uint32_t)ptp_ctx_arg(ctx, 1) != MAP_MAGIC) {
				snprintf(err, sizeof(err),
					 "resume: event %d nr %ld loaded %#llx, expected "
					 "getpid after loading %#x", (int)ev.kind,
					 ptp_ctx_syscall_nr(ctx),
					 (unsigned long long)ptp_ctx_arg(ctx, 1), MAP_MAGIC);
				goto loop_fail;
			}
			rc = ptp_as_unmap(as, MAP_DATA, pg);
			if (rc < 0) {
				snprintf(err, sizeof(err), "ptp_as_unmap: %s", strerror(-rc));
				goto loop_fail;
			}
			if (!warm)
				n++;
		}
		continue;
loop_fail:
		gb_skip_with_error(st, err);
		if (warm)
			goto out;
	}
	t_end = bench_now_ns();
	bench_finish(st, t_end - t_start, n, label);
	goto out;
fail:
	gb_skip_with_error(st, err);
out:
	if (code_fd >= 0)
		close(code_fd);
	if (data_fd >= 0)
		close(data_fd);
	ptp_ctx_free(ctx);
	if (as)
		ptp_as_release(as);
	ptp_close(p);
	map_unpin(&ps);
}

/* map/as_create, map/as_create_reused ---------------------------------- */

static void bm_map_as_create(gb_state *st, void *arg)
{
	bool reused = arg != NULL;
	unsigned int pool = reused ? 8 : 0;
	uint64_t t_start = 0, t_end = 0, n = 0;
	struct ptp_platform *p = NULL;
	struct ptp_stats before, after;
	char label[64], err[320];
	struct ptp_as *as;
	struct map_pin ps;
	int rc;

	map_label(label, sizeof(label), true);
	map_pin_self(&ps);
	if (map_open(pool, &p, err, sizeof(err)) < 0)
		goto fail;
	/* Warm-up: with the pool on, leaves one address space pooled. */
	rc = ptp_as_new(p, &as);
	if (rc < 0) {
		snprintf(err, sizeof(err), "ptp_as_new (warm-up): %s", strerror(-rc));
		goto fail;
	}
	ptp_as_release(as);
	ptp_stats(p, &before);

	while (gb_keep_running_batch(st, 1)) {
		if (!t_start)
			t_start = bench_now_ns();
		rc = ptp_as_new(p, &as);
		if (rc < 0) {
			snprintf(err, sizeof(err), "ptp_as_new: %s", strerror(-rc));
			gb_skip_with_error(st, err);
			continue;
		}
		ptp_as_release(as);
		n++;
	}
	t_end = bench_now_ns();
	if (!gb_error_occurred(st)) {
		/* Prove the path taken: every iteration forks without the pool,
		 * none does with it. */
		ptp_stats(p, &after);
		if (after.as_created - before.as_created != (reused ? 0 : n)) {
			snprintf(err, sizeof(err),
				 "%lu address spaces forked in %llu iterations with "
				 "reuse %s", after.as_created - before.as_created,
				 (unsigned long long)n, reused ? "on" : "off");
			goto fail;
		}
	}
	bench_finish(st, t_end - t_start, n, label);
	goto out;
fail:
	gb_skip_with_error(st, err);
out:
	ptp_close(p);
	map_unpin(&ps);
}

void bench_register_map(void)
{
	gb_bench *b;

	b = gb_register("map/native", bm_map_native, NULL);
	gb_use_real_time(gb_range(gb_arg_name(b, "pages"), 1, MAP_MAX_PAGES, 4));
	b = gb_register("map/inject", bm_map_inject, NULL);
	gb_use_real_time(gb_range(gb_arg_name(b, "pages"), 1, MAP_MAX_PAGES, 4));
	gb_use_real_time(gb_register("map/fault_roundtrip", bm_map_fault, NULL));
	gb_use_real_time(gb_register("map/as_create", bm_map_as_create, NULL));
	gb_use_real_time(gb_register("map/as_create_reused", bm_map_as_create,
				     (void *)1));
}
