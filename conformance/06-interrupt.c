/* SPDX-License-Identifier: Apache-2.0 */
/* interrupt: the forwarder's contract (pending before a switch, delivered
 * during one, spurious allowed), from other threads and in storms. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* The fixture, with the syscall loop's counter (arg 5) at zero. */
static struct hfix setup_counting(enum payload_id id)
{
	struct hfix f = h_setup(id);

	ptp_ctx_set_arg(f.ctx, 5, 0);
	return f;
}

struct storm {
	struct ptp_ctx *ctx;
	atomic_bool stop;
	unsigned long sent;
	unsigned int pause_us;
};

static void *interrupter(void *arg)
{
	struct storm *s = arg;

	while (!atomic_load(&s->stop)) {
		ptp_interrupt(s->ctx);
		s->sent++;
		if (s->pause_us)
			usleep(s->pause_us);
	}
	return NULL;
}

static void spinning_app_is_interrupted(void)
{
	struct hfix f = setup_counting(PAYLOAD_SPIN);
	struct storm s = { .ctx = f.ctx, .pause_us = 20000 };
	struct ptp_event ev;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, interrupter, &s), 0);
	h_switch(f.ctx, f.as, &ev, PTP_EV_INTERRUPTED);
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	/* Stopped inside the spin loop. */
	assert_true(ptp_ctx_ip(f.ctx) >= H_CODE);
	assert_true(ptp_ctx_ip(f.ctx) < H_CODE + payload_get(PAYLOAD_SPIN)->size);
	h_teardown(&f);
}

static void pending_interrupt_returns_at_once(void)
{
	struct hfix f = setup_counting(PAYLOAD_SYSCALL_LOOP);
	struct ptp_event ev;

	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_ctx_arg(f.ctx, 5), 0);
	ptp_interrupt(f.ctx);
	h_switch(f.ctx, f.as, &ev, PTP_EV_INTERRUPTED);
	/* The app did not run: no syscall completed. */
	assert_int_equal(ptp_ctx_arg(f.ctx, 5), 0);
	/* Consumed: the next switch runs the app. */
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ptp_ctx_arg(f.ctx, 5), 1);
	/* Interrupts do not accumulate. */
	for (int i = 0; i < 1000; i++)
		ptp_interrupt(f.ctx);
	h_switch(f.ctx, f.as, &ev, PTP_EV_INTERRUPTED);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	h_teardown(&f);
}

static void thousand_interrupts_in_a_row(void)
{
	struct hfix f = setup_counting(PAYLOAD_SPIN);
	/* Paced, so the storm does not starve the switching thread of its
	 * CPU on a busy 2-core machine. */
	struct storm s = { .ctx = f.ctx, .pause_us = 20 };
	struct ptp_event ev;
	pthread_t th;

	/* The spinning app can only come back by an interrupt. */
	assert_int_equal(pthread_create(&th, NULL, interrupter, &s), 0);
	for (int i = 0; i < 1000; i++)
		h_switch(f.ctx, f.as, &ev, PTP_EV_INTERRUPTED);
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	h_note("%lu interrupts sent for 1000 interrupted switches", s.sent);
	assert_true(s.sent >= 1000);
	/* And one more pending, alone. */
	for (int i = 0; i < 1000; i++) {
		ptp_interrupt(f.ctx);
		h_switch(f.ctx, f.as, &ev, PTP_EV_INTERRUPTED);
	}
	h_teardown(&f);
}

/*
 * Interrupts racing syscall stops: every switch returns a syscall or an
 * interrupt; the app's own count of completed syscalls advances by exactly
 * one per syscall event (none lost, none run twice).
 */
static void interrupt_races_syscall_stops(void)
{
	struct hfix f = setup_counting(PAYLOAD_SYSCALL_LOOP);
	struct storm s = { .ctx = f.ctx, .pause_us = 10 };
	unsigned long syscalls = 0, interrupted = 0;
	struct ptp_event ev;
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, interrupter, &s), 0);
	for (int i = 0; i < 3000; i++) {
		assert_int_equal(ptp_switch(f.ctx, f.as, &ev), 0);
		if (ev.kind == PTP_EV_INTERRUPTED) {
			interrupted++;
			continue;
		}
		assert_int_equal(ev.kind, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, SYS_getpid);
		assert_int_equal(ptp_ctx_arg(f.ctx, 5), syscalls);
		syscalls++;
	}
	atomic_store(&s.stop, true);
	pthread_join(th, NULL);
	h_note("%lu syscalls, %lu interrupted, %lu sent", syscalls, interrupted, s.sent);
	assert_true(interrupted > 0);
	assert_true(syscalls > 0);
	/* Quiet again: no stray interrupt is left behind forever. */
	for (int i = 0; i < 3; i++)
		if (ptp_switch(f.ctx, f.as, &ev) == 0 && ev.kind == PTP_EV_SYSCALL)
			break;
	assert_int_equal(ev.kind, PTP_EV_SYSCALL);
	h_teardown(&f);
}

struct sw {
	struct hfix *f;
	int interrupted, rc;
};

static void *switcher(void *arg)
{
	struct sw *w = arg;
	struct ptp_event ev;

	w->rc = ptp_switch(w->f->ctx, w->f->as, &ev);
	w->interrupted = ev.kind == PTP_EV_INTERRUPTED;
	return NULL;
}

/* The switch runs on another thread; the interrupt comes from here. */
static void interrupt_from_another_thread(void)
{
	struct hfix f = setup_counting(PAYLOAD_SPIN);
	struct sw w = { &f, 0, -1 };
	pthread_t th;

	assert_int_equal(pthread_create(&th, NULL, switcher, &w), 0);
	usleep(50000);
	ptp_interrupt(f.ctx);
	pthread_join(th, NULL);
	assert_int_equal(w.rc, 0);
	assert_true(w.interrupted);
	h_teardown(&f);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(spinning_app_is_interrupted),
		HCASE(pending_interrupt_returns_at_once),
		HCASE(thousand_interrupts_in_a_row),
		HCASE(interrupt_races_syscall_stops),
		HCASE(interrupt_from_another_thread),
	};

	return harness_main(argc, argv, "interrupt", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
