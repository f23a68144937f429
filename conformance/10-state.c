/* SPDX-License-Identifier: Apache-2.0 */
/*
 * state: a new context holds a fresh execve's registers and nothing of the
 * tracer's; ptp_ctx_reset brings that back; the whole FP state and the
 * flags go both ways in the arch's own format; hostile FP state is refused
 * before it can break a switch; ptp_ctx_copy copies every register; and
 * all of it with the FP state held lazily by another tracer thread (lean
 * mode's -EXDEV). The reference values come from conformance/arch/<arch>/
 * state.c, and what the app sees from PAYLOAD_STATE_DUMP.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "harness.h"

_Static_assert(PAYLOAD_DUMP_ADDR == H_DATA, "the dump record lies at H_DATA");

/* Where the state cases put the dump payload beside another one at
 * H_CODE. */
#define DUMP_CODE (H_CODE + 0x100000ul)

struct dump {
	unsigned char *rec; /* the record, as the app wrote it */
	size_t len;
	size_t fp_size;
};

static size_t fp_size(struct ptp_platform *p)
{
	return ptp_caps(p)->fpstate_size;
}

/* Maps the record's memory into as and into this process, and the dump
 * payload at DUMP_CODE. */
static struct dump dump_map(struct ptp_platform *p, struct ptp_as *as)
{
	struct dump d = { .fp_size = fp_size(p) };
	size_t pg = h_page();
	int fd;

	d.len = (PAYLOAD_DUMP_BYTES(d.fp_size) + pg - 1) & ~(pg - 1);
	fd = h_memfd(d.len, NULL, 0);
	assert_int_equal(ptp_as_map(as, PAYLOAD_DUMP_ADDR, d.len, PROT_READ | PROT_WRITE,
				    fd, 0, 0), 0);
	d.rec = mmap(NULL, d.len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(d.rec != MAP_FAILED);
	close(fd);
	h_load_at(as, DUMP_CODE, PAYLOAD_STATE_DUMP);
	return d;
}

static void dump_unmap(struct dump *d)
{
	munmap(d->rec, d->len);
}

/* Runs ctx from the dump payload's entry to its first report; with
 * check_gprs false, x0 (which arm64's payload needs 0) is cleared first. */
static void dump_run(struct ptp_ctx *ctx, struct ptp_as *as, struct dump *d,
		     bool check_gprs)
{
	struct ptp_event ev;

	memset(d->rec, 0, d->len);
	if (!check_gprs)
		ptp_ctx_set_gpr(ctx, 0, 0);
	ptp_ctx_set_ip(ctx, DUMP_CODE);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	if (ev.nr == PAYLOAD_NR_FAIL)
		fail_msg("the app started with %s = %#lx", ptp_gpr_name(0),
			 (unsigned long)ptp_ctx_arg(ctx, 1));
	assert_int_equal(ev.nr, PAYLOAD_NR_OK);
}

static void expect_null(const char *why, const char *what)
{
	if (why)
		fail_msg("%s: %s", what, why);
}

static unsigned char *fp_get(struct ptp_ctx *ctx, size_t len)
{
	unsigned char *fp = malloc(len);

	assert_non_null(fp);
	assert_int_equal(ptp_ctx_fpstate(ctx, fp, len), 0);
	return fp;
}

/* ptp_ctx_fpstate of ctx shows af_fp_mark's values. */
static void expect_marked(struct ptp_ctx *ctx, size_t len, const char *what)
{
	unsigned char *fp = fp_get(ctx, len);
	const char *why = af_check_fp_marked(fp, len);

	free(fp);
	expect_null(why, what);
}

/* The core's own view of a new or reset context. */
static void check_views_init(struct ptp_ctx *ctx, size_t len)
{
	unsigned char *fp = fp_get(ctx, len);
	uint64_t tls = 1;

	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		if (ptp_ctx_gpr(ctx, i))
			fail_msg("%s = %#lx in the core's view", ptp_gpr_name(i),
				 (unsigned long)ptp_ctx_gpr(ctx, i));
	assert_int_equal(ptp_ctx_ip(ctx), 0);
	assert_int_equal(ptp_ctx_sp(ctx), 0);
	assert_int_equal(ptp_ctx_tls(ctx, &tls), 0);
	assert_int_equal(tls, 0);
	expect_null(af_check_init_fp(fp, len, true), "ptp_ctx_fpstate of a new context");
	free(fp);
}

/* What the app sees: every register, then (x86_64) fs/gs base. */
static void check_app_init(struct ptp_ctx *ctx, struct ptp_as *as, struct dump *d)
{
	struct ptp_event ev;
	uint64_t tls = 1;

	dump_run(ctx, as, d, true);
	expect_null(af_check_init_dump(d->rec, d->fp_size), "the app's registers");
	if (af_dump_has_bases()) {
		h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, PAYLOAD_NR_OK);
		expect_null(af_check_dump_bases(d->rec), "the app's fs/gs base");
	} else {
		/* arm64 has TPIDR_EL0 in the record; x86_64 without FSGSBASE
		 * has the kernel's view of fs_base only. */
		assert_int_equal(ptp_ctx_tls(ctx, &tls), 0);
		assert_int_equal(tls, 0);
	}
}

static void new_context_is_execve_state(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct dump d = dump_map(p, as);

	check_views_init(ctx, d.fp_size);
	check_app_init(ctx, as, &d);
	dump_unmap(&d);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

/* Every register set to something, and run once, so that in lean mode the
 * state is resident in (and the FP state held by) the traced thread. */
static void dirty_and_run(struct ptp_ctx *ctx, struct ptp_as *as, size_t len)
{
	unsigned char *fp = fp_get(ctx, len);
	struct ptp_event ev;

	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		ptp_ctx_set_gpr(ctx, i, PAYLOAD_GPR_IN(i));
	af_fp_mark(fp, len);
	assert_int_equal(ptp_ctx_set_fpstate(ctx, fp, len), 0);
	assert_int_equal(ptp_ctx_set_tls(ctx, H_DATA), 0);
	ptp_ctx_set_flags(ctx, ptp_ctx_flags(ctx) | AF_FLAGS_TEST);
	ptp_ctx_set_ip(ctx, H_CODE);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	free(fp);
}

static void reset_restores_execve_state(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct dump d = dump_map(p, as);

	h_load(as, ctx, PAYLOAD_SYSCALL_LOOP);
	dirty_and_run(ctx, as, d.fp_size);
	ptp_ctx_reset(ctx);
	check_views_init(ctx, d.fp_size);
	check_app_init(ctx, as, &d);
	dump_unmap(&d);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

static void fpstate_both_ways(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct dump d = dump_map(p, as);
	unsigned char *fp = fp_get(ctx, d.fp_size), *back;

	assert_int_equal(ptp_ctx_fpstate(ctx, fp, d.fp_size - 1), -EINVAL);
	af_fp_mark(fp, d.fp_size);
	assert_int_equal(ptp_ctx_set_fpstate(ctx, fp, d.fp_size), 0);
	back = fp_get(ctx, d.fp_size);
	assert_memory_equal(back, fp, d.fp_size);
	free(back);
	/* Tracer -> app, then the app's state back (lean: fetched lazily). */
	dump_run(ctx, as, &d, true);
	expect_null(af_check_fp_marked(d.rec + PAYLOAD_DUMP_FP, d.fp_size),
		    "the FP state the app saw");
	back = fp_get(ctx, d.fp_size);
	expect_null(af_check_fp_marked(back, d.fp_size), "ptp_ctx_fpstate after a switch");
	free(back);
	free(fp);
	dump_unmap(&d);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

/* Hostile FP state (a sentry may take it from the app's signal frame) is
 * refused whole, and the context still runs. */
static void fpstate_bad_input_refused(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct dump d = dump_map(p, as);
	unsigned char *good = fp_get(ctx, d.fp_size), *bad = malloc(d.fp_size), *now;

	assert_non_null(bad);
	assert_int_equal(ptp_ctx_set_fpstate(ctx, good, d.fp_size + 1), -EINVAL);
	assert_int_equal(ptp_ctx_set_fpstate(ctx, good, d.fp_size - 1), -EINVAL);
	if (af_fp_corruptions() == 0)
		h_note("no content the kernel refuses on this arch: length only");
	for (unsigned int k = 0; k < af_fp_corruptions(); k++) {
		const char *name;

		memcpy(bad, good, d.fp_size);
		name = af_fp_corrupt(k, bad, d.fp_size);
		if (ptp_ctx_set_fpstate(ctx, bad, d.fp_size) != -EINVAL)
			fail_msg("ptp_ctx_set_fpstate took a state with %s", name);
	}
	now = fp_get(ctx, d.fp_size);
	assert_memory_equal(now, good, d.fp_size);
	check_app_init(ctx, as, &d);
	free(now);
	free(bad);
	free(good);
	dump_unmap(&d);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

static void flags_both_ways(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct dump d = dump_map(p, as);
	uint64_t init = ptp_ctx_flags(ctx), want = init | AF_FLAGS_TEST, seen;
	uint64_t writable = ptp_flags_writable();

	assert_int_equal(AF_FLAGS_TEST & ~writable, 0);
	assert_true(AF_CARRY_FLAG & AF_FLAGS_TEST);
	/* Bits outside the writable ones are not taken. */
	ptp_ctx_set_flags(ctx, ~writable);
	assert_int_equal(ptp_ctx_flags(ctx) & ~writable, init & ~writable);
	ptp_ctx_set_flags(ctx, want);
	assert_int_equal(ptp_ctx_flags(ctx), want);
	dump_run(ctx, as, &d, true);
	memcpy(&seen, d.rec + PAYLOAD_DUMP_FLAGS, sizeof(seen));
	if ((seen & AF_FLAGS_TEST) != AF_FLAGS_TEST)
		fail_msg("the app saw flags %#lx, want %#lx set", (unsigned long)seen,
			 (unsigned long)AF_FLAGS_TEST);
	/* The payload flipped the carry before its syscall. */
	if (ptp_ctx_flags(ctx) != (want ^ AF_CARRY_FLAG))
		fail_msg("the tracer saw flags %#lx, want %#lx",
			 (unsigned long)ptp_ctx_flags(ctx),
			 (unsigned long)(want ^ AF_CARRY_FLAG));
	dump_unmap(&d);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

static void expect_same_state(struct ptp_ctx *a, struct ptp_ctx *b, size_t len)
{
	unsigned char *fa = fp_get(a, len), *fb = fp_get(b, len);
	uint64_t ta, tb;

	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		if (ptp_ctx_gpr(a, i) != ptp_ctx_gpr(b, i))
			fail_msg("%s differs in the copy", ptp_gpr_name(i));
	assert_int_equal(ptp_ctx_ip(a), ptp_ctx_ip(b));
	assert_int_equal(ptp_ctx_flags(a), ptp_ctx_flags(b));
	assert_int_equal(ptp_ctx_tls(a, &ta), 0);
	assert_int_equal(ptp_ctx_tls(b, &tb), 0);
	assert_int_equal(ta, tb);
	assert_memory_equal(fa, fb, len);
	free(fa);
	free(fb);
}

static void copy_is_the_whole_state(void)
{
	struct ptp_platform *p = h_open(), *other = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *a = h_ctx(p), *b = h_ctx(p), *c = h_ctx(p), *alien = h_ctx(other);
	size_t len = fp_size(p);
	struct dump d = dump_map(p, as);
	unsigned char *fp = fp_get(a, len);
	struct ptp_event ev;

	assert_int_equal(ptp_ctx_copy(a, a), 0);
	assert_int_equal(ptp_ctx_copy(alien, a), -EINVAL);
	/* Before any switch: the copy runs where the original would. */
	af_fp_mark(fp, len);
	assert_int_equal(ptp_ctx_set_fpstate(a, fp, len), 0);
	ptp_ctx_set_flags(a, ptp_ctx_flags(a) | AF_FLAGS_TEST);
	assert_int_equal(ptp_ctx_set_tls(a, H_DATA), 0);
	ptp_ctx_set_ip(a, DUMP_CODE);
	assert_int_equal(ptp_ctx_copy(b, a), 0);
	expect_same_state(a, b, len);
	dump_run(b, as, &d, true);
	expect_null(af_check_fp_marked(d.rec + PAYLOAD_DUMP_FP, len), "the copy's app");
	/* After a switch (lean: b's FP state is in the traced thread). */
	assert_int_equal(ptp_ctx_copy(c, b), 0);
	expect_same_state(b, c, len);
	/* Independent afterwards. */
	ptp_ctx_set_gpr(c, 1, 0x1234);
	assert_true(ptp_ctx_gpr(b, 1) != 0x1234);
	ptp_ctx_set_ip(c, H_CODE);
	h_load(as, c, PAYLOAD_SYSCALL_LOOP);
	h_switch(c, as, &ev, PTP_EV_SYSCALL);
	expect_marked(b, len, "the original after the copy ran");
	free(fp);
	dump_unmap(&d);
	ptp_ctx_free(alien);
	ptp_ctx_free(c);
	ptp_ctx_free(b);
	ptp_ctx_free(a);
	ptp_close(other);
	ptp_close(p);
}

/* A tracer thread that runs what it is told, one step at a time. */
enum step { STEP_SWITCH, STEP_PULL, STEP_QUIT };

struct remote {
	struct ptp_ctx *ctx;
	struct ptp_as *as;
	enum step step;
	int rc;
	sem_t go, done;
};

static void *remote_main(void *arg)
{
	struct remote *r = arg;

	for (;;) {
		struct ptp_event ev;

		sem_wait(&r->go);
		if (r->step == STEP_QUIT)
			break;
		if (r->step == STEP_SWITCH) {
			ptp_ctx_set_ip(r->ctx, H_CODE);
			r->rc = ptp_switch(r->ctx, r->as, &ev);
			if (r->rc == 0 && ev.kind != PTP_EV_SYSCALL)
				r->rc = -EPROTO;
		} else {
			r->rc = ptp_ctx_pull(r->ctx);
		}
		sem_post(&r->done);
	}
	return NULL;
}

static void remote_do(struct remote *r, enum step step)
{
	r->step = step;
	sem_post(&r->go);
	if (step != STEP_QUIT) {
		sem_wait(&r->done);
		assert_int_equal(r->rc, 0);
	}
}

/*
 * The state is held by another tracer thread's traced thread (lean): what
 * must read it says -EXDEV until that thread pulls it; what replaces it
 * whole (set_fpstate, reset, copy into it) works at once.
 */
static void state_held_by_another_thread(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p), *dst = h_ctx(p);
	size_t len = fp_size(p);
	struct dump d = dump_map(p, as);
	unsigned char *fp = fp_get(ctx, len), *init = fp_get(dst, len), *got;
	int want = h_mode == PTP_MODE_LEAN ? -EXDEV : 0;
	struct remote r = { .ctx = ctx, .as = as };
	pthread_t th;
	uint8_t v[16];

	h_load_at(as, H_CODE, PAYLOAD_SYSCALL_LOOP);
	af_fp_mark(fp, len);
	assert_int_equal(ptp_ctx_set_fpstate(ctx, fp, len), 0);
	assert_int_equal(sem_init(&r.go, 0, 0), 0);
	assert_int_equal(sem_init(&r.done, 0, 0), 0);
	assert_int_equal(pthread_create(&th, NULL, remote_main, &r), 0);

	remote_do(&r, STEP_SWITCH);
	got = malloc(len);
	assert_non_null(got);
	assert_int_equal(ptp_ctx_fpstate(ctx, got, len), want);
	assert_int_equal(ptp_ctx_copy(dst, ctx), want);
	assert_int_equal(ptp_ctx_vreg(ctx, 0, v), want);
	/* Pulled there, readable here. */
	remote_do(&r, STEP_PULL);
	assert_int_equal(ptp_ctx_copy(dst, ctx), 0);
	expect_marked(dst, len, "the copy after the pull");

	/* Held there again: replaced whole from here, no pull needed. */
	remote_do(&r, STEP_SWITCH);
	assert_int_equal(ptp_ctx_set_fpstate(ctx, init, len), 0);
	dump_run(ctx, as, &d, false);
	expect_null(af_check_init_fp(d.rec + PAYLOAD_DUMP_FP, len, false),
		    "the app after set_fpstate replaced a remote state");
	/* Ran here: it must be pulled here before the other thread runs it. */
	assert_int_equal(ptp_ctx_pull(ctx), 0);
	remote_do(&r, STEP_SWITCH);
	ptp_ctx_reset(ctx);
	check_app_init(ctx, as, &d);
	/* And a copy into a context held there. */
	assert_int_equal(ptp_ctx_pull(ctx), 0);
	remote_do(&r, STEP_SWITCH);
	assert_int_equal(ptp_ctx_copy(ctx, dst), 0);
	dump_run(ctx, as, &d, false);
	expect_null(af_check_fp_marked(d.rec + PAYLOAD_DUMP_FP, len),
		    "the app after a copy into a remote state");
	remote_do(&r, STEP_QUIT);
	pthread_join(th, NULL);
	free(got);
	free(init);
	free(fp);
	dump_unmap(&d);
	ptp_ctx_free(dst);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(new_context_is_execve_state),
		HCASE(reset_restores_execve_state),
		HCASE(fpstate_both_ways),
		HCASE(fpstate_bad_input_refused),
		HCASE(flags_both_ways),
		HCASE(copy_is_the_whole_state),
		HCASE(state_held_by_another_thread),
	};

	return harness_main(argc, argv, "state", cases, sizeof(cases) / sizeof(cases[0]),
			    NULL);
}
