/* SPDX-License-Identifier: Apache-2.0 */
/* regs: every GPR, vector register and the TLS survive switches in both
 * directions, also with two contexts alternating on one traced thread. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.h"

static void put_u64(uint8_t *b, uint64_t v)
{
	memcpy(b, &v, 8);
}

static uint64_t get_u64(const uint8_t *b)
{
	uint64_t v;

	memcpy(&v, b, 8);
	return v;
}

/* Loads the _IN patterns regs_check expects, then its entry point. */
static void load_in_patterns(struct ptp_ctx *ctx)
{
	uint8_t v[16];

	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		ptp_ctx_set_gpr(ctx, i, PAYLOAD_GPR_IN(i));
	for (unsigned int i = 0; i < ptp_vreg_count(); i++) {
		put_u64(v, PAYLOAD_VLO_IN(i));
		put_u64(v + 8, PAYLOAD_VHI_IN(i));
		assert_int_equal(ptp_ctx_set_vreg(ctx, i, v), 0);
	}
	ptp_ctx_set_ip(ctx, H_CODE);
}

static void expect_ok(struct ptp_ctx *ctx, struct ptp_event *ev)
{
	if (ev->nr == PAYLOAD_NR_FAIL) {
		uint64_t bad = ptp_ctx_arg(ctx, 0);

		if (bad >= PAYLOAD_FAIL_VREG)
			fail_msg("the app saw vector register %lu wrong",
				 (unsigned long)(bad - PAYLOAD_FAIL_VREG));
		fail_msg("the app saw %s wrong", ptp_gpr_name((unsigned int)bad));
	}
	assert_int_equal(ev->nr, PAYLOAD_NR_OK);
}

static void check_out_patterns(struct ptp_ctx *ctx)
{
	uint8_t v[16];

	for (unsigned int i = 0; i < ptp_gpr_count(); i++) {
		if (ptp_gpr_syscall_scratch(i))
			continue;
		if (ptp_ctx_gpr(ctx, i) != PAYLOAD_GPR_OUT(i))
			fail_msg("tracer saw %s = %#lx, want %#lx", ptp_gpr_name(i),
				 (unsigned long)ptp_ctx_gpr(ctx, i),
				 (unsigned long)PAYLOAD_GPR_OUT(i));
	}
	for (unsigned int i = 0; i < ptp_vreg_count(); i++) {
		assert_int_equal(ptp_ctx_vreg(ctx, i, v), 0);
		assert_int_equal(get_u64(v), PAYLOAD_VLO_OUT(i));
		assert_int_equal(get_u64(v + 8), PAYLOAD_VHI_OUT(i));
	}
}

static void all_registers_both_ways(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct ptp_event ev;

	h_load(as, ctx, PAYLOAD_REGS_CHECK);
	for (int round = 0; round < 3; round++) {
		load_in_patterns(ctx);
		h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
		expect_ok(ctx, &ev);
		check_out_patterns(ctx);
	}
	ptp_ctx_free(ctx);
	ptp_close(p);
}

/* Positive controls: one wrong register is caught by the app. */
static void wrong_register_is_caught(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	unsigned int gpr = ptp_gpr_count() - 1, vreg = ptp_vreg_count() - 1;
	struct ptp_event ev;
	uint8_t v[16] = { 0 };

	h_load(as, ctx, PAYLOAD_REGS_CHECK);
	load_in_patterns(ctx);
	ptp_ctx_set_gpr(ctx, gpr, PAYLOAD_GPR_IN(gpr) ^ 1);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, PAYLOAD_NR_FAIL);
	assert_int_equal(ptp_ctx_arg(ctx, 0), gpr);

	load_in_patterns(ctx);
	assert_int_equal(ptp_ctx_set_vreg(ctx, vreg, v), 0);
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, PAYLOAD_NR_FAIL);
	assert_int_equal(ptp_ctx_arg(ctx, 0), PAYLOAD_FAIL_VREG + vreg);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

static void tls_both_ways(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	const uint64_t word = 0x7157c0de7157c0de;
	struct ptp_event ev;
	uint64_t tls;
	int fd;

	fd = h_memfd(h_page(), &word, sizeof(word));
	assert_int_equal(ptp_as_map(as, H_DATA, h_page(), PROT_READ, fd, 0, 0), 0);
	close(fd);
	h_load(as, ctx, PAYLOAD_TLS_READ);
	assert_int_equal(ptp_ctx_set_tls(ctx, H_DATA), 0);
	for (int round = 0; round < 3; round++) {
		h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, PAYLOAD_NR_OK);
		assert_int_equal(ptp_ctx_arg(ctx, 0), word);
		assert_int_equal(ptp_ctx_tls(ctx, &tls), 0);
		assert_int_equal(tls, H_DATA);
		ptp_ctx_set_ip(ctx, H_CODE);
	}
	ptp_ctx_free(ctx);
	ptp_close(p);
}

/*
 * Two contexts alternating on one traced thread (same tracer thread, same
 * address space): each keeps its own registers. In lean mode this is the
 * residency logic: the thread holds one context's state at a time.
 */
static void two_contexts_alternate(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx[2] = { h_ctx(p), h_ctx(p) };
	struct ptp_event ev;
	uint8_t v[16];

	h_load(as, ctx[0], PAYLOAD_SYSCALL_LOOP);
	for (int c = 0; c < 2; c++) {
		ptp_ctx_set_ip(ctx[c], H_CODE);
		for (unsigned int a = 0; a < 5; a++)
			ptp_ctx_set_arg(ctx[c], a, 0x1000u * (c + 1) + a);
		ptp_ctx_set_arg(ctx[c], 5, 0);
		for (unsigned int i = 0; i < ptp_vreg_count(); i++) {
			put_u64(v, 0xc0 + c);
			put_u64(v + 8, i);
			assert_int_equal(ptp_ctx_set_vreg(ctx[c], i, v), 0);
		}
	}
	for (int round = 0; round < 50; round++) {
		int c = round % 2;

		h_switch(ctx[c], as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ptp_ctx_arg(ctx[c], 5), (uint64_t)(round / 2));
		for (unsigned int a = 0; a < 5; a++)
			assert_int_equal(ptp_ctx_arg(ctx[c], a), 0x1000u * (c + 1) + a);
		assert_int_equal(ptp_ctx_tid(ctx[0]), ptp_ctx_tid(ctx[c]));
		if (round % 5 == 0) {
			/* Read both: one of them is lazily held (lean). */
			for (int k = 0; k < 2; k++) {
				assert_int_equal(ptp_ctx_vreg(ctx[k], 3, v), 0);
				assert_int_equal(get_u64(v), 0xc0 + k);
				assert_int_equal(get_u64(v + 8), 3);
			}
		}
	}
	/* The full register check, alternating. */
	h_load(as, ctx[0], PAYLOAD_REGS_CHECK);
	for (int round = 0; round < 6; round++) {
		int c = round % 2;

		load_in_patterns(ctx[c]);
		h_switch(ctx[c], as, &ev, PTP_EV_SYSCALL);
		expect_ok(ctx[c], &ev);
		check_out_patterns(ctx[c]);
	}
	ptp_ctx_free(ctx[0]);
	ptp_ctx_free(ctx[1]);
	ptp_close(p);
}

struct mover {
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	int rc_switch, rc_pull;
};

static void *switch_then_pull(void *arg)
{
	struct mover *m = arg;
	struct ptp_event ev;

	m->rc_switch = ptp_switch(m->ctx, m->as, &ev);
	if (m->rc_switch == 0 && ev.kind != PTP_EV_SYSCALL)
		m->rc_switch = -EPROTO;
	m->rc_pull = ptp_ctx_pull(m->ctx);
	return NULL;
}

/* A context moves to another tracer thread: its state goes with it once
 * pulled on the thread that last ran it. */
static void context_moves_between_threads(void)
{
	struct ptp_platform *p = h_open();
	struct ptp_as *as = h_as(p);
	struct ptp_ctx *ctx = h_ctx(p);
	struct mover m = { as, ctx, -1, -1 };
	struct ptp_event ev;
	pthread_t th;
	uint8_t v[16];

	h_load(as, ctx, PAYLOAD_SYSCALL_LOOP);
	put_u64(v, 0xfeed);
	put_u64(v + 8, 0xbeef);
	assert_int_equal(ptp_ctx_set_vreg(ctx, 7, v), 0);
	assert_int_equal(pthread_create(&th, NULL, switch_then_pull, &m), 0);
	pthread_join(th, NULL);
	assert_int_equal(m.rc_switch, 0);
	assert_int_equal(m.rc_pull, 0);
	/* The other thread's traced threads were retired when it exited. */
	h_switch(ctx, as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_ctx_vreg(ctx, 7, v), 0);
	assert_int_equal(get_u64(v), 0xfeed);
	assert_int_equal(get_u64(v + 8), 0xbeef);
	ptp_ctx_free(ctx);
	ptp_close(p);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(all_registers_both_ways),
		HCASE(wrong_register_is_caught),
		HCASE(tls_both_ways),
		HCASE(two_contexts_alternate),
		HCASE(context_moves_between_threads),
	};

	return harness_main(argc, argv, "regs", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
