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
 *   map/native_populate/pages:N, map/inject_populate/pages:N
 *                        the same with MAP_POPULATE (PTP_MAP_POPULATE): the
 *                        kernel fills the page table of all N pages at map
 *                        time, so the cost grows with N (the plain variants
 *                        touch no page and cost the same at any size)
 *   map/inject_batch/ops:N
 *                        ptp_as_map_batch of N one-page maps (a page apart),
 *                        then of the N unmaps: two round trips per 2N
 *                        operations; the time
 *                        is per operation (a map or an unmap), so it compares
 *                        with half of map/inject/pages:1 (a map and an
 *                        unmap). Bar (bench_report.py): ops:16 at most 0.15 x
 *                        map/inject/pages:1. Checks ptp_stats' injections: one
 *                        round trip per batch.
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

static size_t map_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* map/native/pages:N ------------------------------------------------- */

static void bm_map_native(gb_state *st, void *arg)
{
	size_t pg = map_page(), len = (size_t)gb_range_x(st, 0) * pg;
	int populate = arg ? MAP_POPULATE : 0;
	uint64_t t_start = 0, t_end = 0, n = 0;
	char label[64], err[320];
	struct bench_pinning ps;
	void *hint;
	int fd;

	snprintf(label, sizeof(label), "native pin=%s", bench_config.pin ? "on" : "off");
	bench_pin_self_if_enabled(&ps, -1);
	fd = bench_memfd("ptbench-map", MAP_MAX_PAGES * pg, NULL, 0, err, sizeof(err));
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
				       MAP_SHARED | MAP_FIXED_NOREPLACE | populate, fd, 0);

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
	bench_unpin_self(&ps);
}

/* map/inject/pages:N ------------------------------------------------- */

static void bm_map_inject(gb_state *st, void *arg)
{
	size_t pg = map_page(), len = (size_t)gb_range_x(st, 0) * pg;
	unsigned int populate = arg ? PTP_MAP_POPULATE : 0;
	uint64_t t_start = 0, t_end = 0, n = 0;
	/* No payload: the address space only receives mappings. */
	const struct bench_core_env_spec spec = { .reuse_pool = true };
	struct bench_core_env e = { 0 };
	char label[64], err[320];
	struct bench_pinning ps;
	struct ptp_as *as;
	int fd = -1, rc;

	bench_core_label(label, sizeof(label), NULL);
	bench_pin_self_if_enabled(&ps, -1);
	if (bench_core_env_open(&e, &spec, err, sizeof(err)) < 0)
		goto fail;
	as = e.as;
	fd = bench_memfd("ptbench-map", MAP_MAX_PAGES * pg, NULL, 0, err, sizeof(err));
	if (fd < 0)
		goto fail;
	/* Warm-up: creates this thread's traced thread in the address space. */
	rc = ptp_as_map(as, MAP_DATA, len, PROT_READ | PROT_WRITE, fd, 0, populate);
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
			rc = ptp_as_map(as, MAP_DATA, len, PROT_READ | PROT_WRITE, fd, 0, populate);
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
	bench_core_env_close(&e);
	bench_unpin_self(&ps);
}

/* map/inject_batch/ops:N ---------------------------------------------- */

#define MAP_BATCH_MAX 64

static void bm_map_inject_batch(gb_state *st, void *arg)
{
	size_t pg = map_page(), nops = (size_t)gb_range_x(st, 0), done;
	uint64_t t_start = 0, t_end = 0, n = 0, batches = 0;
	const struct bench_core_env_spec spec = { .reuse_pool = true };
	struct ptp_as_op maps[MAP_BATCH_MAX], unmaps[MAP_BATCH_MAX];
	struct bench_core_env e = { 0 };
	struct ptp_stats before, after;
	char label[64], err[320];
	struct bench_pinning ps;
	int fd = -1, rc;

	(void)arg;
	bench_core_label(label, sizeof(label), NULL);
	bench_pin_self_if_enabled(&ps, -1);
	if (nops > MAP_BATCH_MAX || nops > MAP_MAX_PAGES) {
		snprintf(err, sizeof(err), "ops:%zu above %d", nops, MAP_BATCH_MAX);
		goto fail;
	}
	if (bench_core_env_open(&e, &spec, err, sizeof(err)) < 0)
		goto fail;
	fd = bench_memfd("ptbench-map", MAP_MAX_PAGES * pg, NULL, 0, err, sizeof(err));
	if (fd < 0)
		goto fail;
	/* A page apart: adjacent maps of one file would merge into one
	 * mapping, and each unmap would then split it, which is not what
	 * map/inject/pages:1 measures. */
	for (size_t i = 0; i < nops; i++) {
		maps[i] = (struct ptp_as_op){ .kind = PTP_AS_OP_MAP,
					     .addr = MAP_DATA + 2 * i * pg, .len = pg,
					     .prot = PROT_READ | PROT_WRITE, .fd = fd,
					     .offset = (off_t)(i * pg) };
		unmaps[i] = (struct ptp_as_op){ .kind = PTP_AS_OP_UNMAP,
					       .addr = MAP_DATA + 2 * i * pg, .len = pg };
	}
	/* Warm-up: this thread's traced thread and its list writer. */
	rc = ptp_as_map_batch(e.as, maps, nops, &done);
	if (rc == 0)
		rc = ptp_as_map_batch(e.as, unmaps, nops, &done);
	if (rc < 0) {
		snprintf(err, sizeof(err), "warm-up batch: %s", strerror(-rc));
		goto fail;
	}
	ptp_stats(e.p, &before);

	while (gb_keep_running_batch(st, 2 * nops)) {
		if (!t_start)
			t_start = bench_now_ns();
		rc = ptp_as_map_batch(e.as, maps, nops, &done);
		if (rc == 0)
			rc = ptp_as_map_batch(e.as, unmaps, nops, &done);
		if (rc < 0) {
			snprintf(err, sizeof(err), "ptp_as_map_batch: %s (%zu of %zu done)",
				 strerror(-rc), done, nops);
			gb_skip_with_error(st, err);
			break;
		}
		batches += 2;
		n += 2 * nops;
	}
	t_end = bench_now_ns();
	if (!gb_error_occurred(st)) {
		ptp_stats(e.p, &after);
		if (after.injections - before.injections != batches) {
			snprintf(err, sizeof(err),
				 "%lu injection round trips for %llu batches",
				 after.injections - before.injections,
				 (unsigned long long)batches);
			goto fail;
		}
	}
	bench_finish(st, t_end - t_start, n, label);
	goto out;
fail:
	gb_skip_with_error(st, err);
out:
	if (fd >= 0)
		close(fd);
	bench_core_env_close(&e);
	bench_unpin_self(&ps);
}

/* map/fault_roundtrip ------------------------------------------------ */

static void bm_map_fault(gb_state *st, void *arg)
{
	uint64_t t_start = 0, t_end = 0, n = 0;
	const uint32_t magic = MAP_MAGIC;
	const struct bench_core_env_spec spec = {
		.reuse_pool = true,
		.payload = payload_get(PAYLOAD_READ),
		.code = MAP_CODE,
	};
	struct bench_core_env e = { 0 };
	char label[64], err[320];
	int data_fd = -1, rc;
	size_t pg = map_page();
	struct bench_pinning ps;
	struct ptp_event ev;
	struct ptp_ctx *ctx;
	struct ptp_as *as;

	(void)arg;
	bench_core_label(label, sizeof(label), NULL);
	bench_pin_self_if_enabled(&ps, -1);
	if (bench_core_env_open(&e, &spec, err, sizeof(err)) < 0)
		goto fail;
	as = e.as;
	ctx = e.ctx;
	data_fd = bench_memfd("ptbench-map", pg, &magic, sizeof(magic), err, sizeof(err));
	if (data_fd < 0)
		goto fail;
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
	if (data_fd >= 0)
		close(data_fd);
	bench_core_env_close(&e);
	bench_unpin_self(&ps);
}

/* map/as_create, map/as_create_reused ---------------------------------- */

static void bm_map_as_create(gb_state *st, void *arg)
{
	bool reused = arg != NULL;
	uint64_t t_start = 0, t_end = 0, n = 0;
	struct ptp_platform *p = NULL;
	struct ptp_stats before, after;
	char label[64], err[320];
	struct bench_pinning ps;
	struct ptp_as *as;
	int rc;

	bench_core_label(label, sizeof(label), NULL);
	bench_pin_self_if_enabled(&ps, -1);
	if (bench_core_open(NULL, reused, &p, err, sizeof(err)) < 0)
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
	bench_unpin_self(&ps);
}

void bench_register_map(void)
{
	gb_bench *b;

	b = gb_register("map/native", bm_map_native, NULL);
	gb_use_real_time(gb_range(gb_arg_name(b, "pages"), 1, MAP_MAX_PAGES, 4));
	b = gb_register("map/inject", bm_map_inject, NULL);
	gb_use_real_time(gb_range(gb_arg_name(b, "pages"), 1, MAP_MAX_PAGES, 4));
	b = gb_register("map/native_populate", bm_map_native, (void *)1);
	gb_use_real_time(gb_range(gb_arg_name(b, "pages"), 1, MAP_MAX_PAGES, 4));
	b = gb_register("map/inject_populate", bm_map_inject, (void *)1);
	gb_use_real_time(gb_range(gb_arg_name(b, "pages"), 1, MAP_MAX_PAGES, 4));
	b = gb_register("map/inject_batch", bm_map_inject_batch, NULL);
	gb_use_real_time(gb_range(gb_arg_name(b, "ops"), 1, MAP_BATCH_MAX, 4));
	gb_use_real_time(gb_register("map/fault_roundtrip", bm_map_fault, NULL));
	gb_use_real_time(gb_register("map/as_create", bm_map_as_create, NULL));
	gb_use_real_time(gb_register("map/as_create_reused", bm_map_as_create,
				     (void *)1));
}
