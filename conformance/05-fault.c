/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fault: the core's fault classification (gVisor's heuristic, design
 * "Fault classification heuristic"), scenario by scenario against a ground
 * truth known by construction. Every case asserts the faithful behaviour of
 * the heuristic, its documented false results included, and appends a row to
 * the accuracy table named by PTBENCH_FAULT_TABLE:
 *
 *   backend  mode  scenario  truth  heuristic  agree  exact  exact_agree
 *
 * truth is the access the hardware made ("read", "write", "exec"), the
 * signal it raised ("signal:SIGBUS"), or "none(GP)" for a fault that is no
 * page fault at all. heuristic is what the core reported: the access bits
 * of a PTP_EV_FAULT ("read+write"), "signal:SIG..." for PTP_EV_SIGNAL.
 * agree: the reported bits equal the truth's, where a write also implies
 * read (no arch maps write-only memory, and Read|Write is the heuristic's
 * intended answer for a write) while an exec does not (execute-only memory
 * exists: x86 PKU, arm64 XOM), so Read|Exec for an exec is a disagreement.
 * A "none(GP)" truth agrees with no fault report. exact is the access the
 * CPU reported (ptp_event.exact_access) where the platform tells it
 * (ptp_caps.fault_access_exact), by the same names and rules, else "n/a"
 * (and exact_agree "n/a").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/arch.h"
#include "harness.h"

#define TABLE_ENV "PTBENCH_FAULT_TABLE"
#define TABLE_HEADER "backend\tmode\tscenario\ttruth\theuristic\tagree\texact\texact_agree\n"

#define R PTP_ACCESS_READ
#define W PTP_ACCESS_WRITE
#define X PTP_ACCESS_EXEC

/* Ground truth: a page-fault access, a signal, or neither (GP). */
struct truth {
	const char *name;
	unsigned int access;
	int signo;
};

static const struct truth T_READ = { "read", R, 0 };
static const struct truth T_WRITE = { "write", W, 0 };
static const struct truth T_EXEC = { "exec", X, 0 };
static const struct truth T_SIGBUS = { "signal:SIGBUS", 0, SIGBUS };
static const struct truth T_GP = { "none(GP)", 0, 0 };

static void map_fd(struct ptp_as *as, uintptr_t addr, size_t len, int prot, int fd)
{
	int rc = ptp_as_map(as, addr, len, prot, fd, 0, 0);

	if (rc < 0)
		fail_msg("map %#lx+%#zx prot %d: %s", (unsigned long)addr, len, prot,
			 strerror(-rc));
}

/* One switch that must reach some outcome (the kind is the scenario's to
 * judge, after its row is written). */
static void run(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_event *ev)
{
	int rc = ptp_switch(ctx, as, ev);

	if (rc < 0)
		fail_msg("ptp_switch: %s", strerror(-rc));
}

static const char *access_name(unsigned int a)
{
	static const char *const names[8] = {
		"none", "read", "write", "read+write",
		"exec", "read+exec", "write+exec", "read+write+exec",
	};

	return names[a & 7];
}

static void heuristic_name(const struct ptp_event *ev, char *buf, size_t len)
{
	switch (ev->kind) {
	case PTP_EV_FAULT:
		snprintf(buf, len, "%s", access_name(ev->access));
		break;
	case PTP_EV_SIGNAL: {
		const char *abbrev = sigabbrev_np(ev->info.si_signo);

		if (abbrev)
			snprintf(buf, len, "signal:SIG%s", abbrev);
		else
			snprintf(buf, len, "signal:%d", ev->info.si_signo);
		break;
	}
	default:
		snprintf(buf, len, "%s", h_event_name(ev->kind));
		break;
	}
}

static bool agrees(const struct truth *t, const struct ptp_event *ev)
{
	if (t->access) {
		unsigned int want = t->access | ((t->access & W) ? R : 0);

		return ev->kind == PTP_EV_FAULT && ev->access == want;
	}
	if (t->signo)
		return ev->kind == PTP_EV_SIGNAL && ev->info.si_signo == t->signo;
	/* Not a page fault: any fault report is wrong. */
	return ev->kind != PTP_EV_FAULT;
}

/* The exact access as a table cell: its name for a page fault, "none"
 * for another event, or "n/a" where the platform cannot tell. */
static const char *exact_cell(const struct ptp_platform *p, const struct ptp_event *ev)
{
	if (!p || !ptp_caps(p)->fault_access_exact)
		return "n/a";
	return ev->kind == PTP_EV_FAULT ? access_name(ev->exact_access) : "none";
}

/* Whether the exact access is the truth's, by agrees()' rules; a GP
 * fault carries no exact access. */
static const char *exact_agrees(const struct ptp_platform *p, const struct truth *t,
				const struct ptp_event *ev)
{
	struct ptp_event as_exact = *ev;

	if (!p || !ptp_caps(p)->fault_access_exact)
		return "n/a";
	if (ev->kind == PTP_EV_FAULT && !t->access && !t->signo)
		return ev->exact_access ? "no" : "yes";
	as_exact.access = ev->exact_access;
	return agrees(t, &as_exact) ? "yes" : "no";
}

/* Appends one row to the accuracy table, if there is one; the header only
 * to an empty file, decided under the lock (cases of both modes may run in
 * parallel). p: the platform that ran the scenario (NULL: none, no exact
 * access). */
static void table_row(const struct ptp_platform *p, const char *scenario, const struct truth *t,
		      const struct ptp_event *ev)
{
	const char *path = getenv(TABLE_ENV);
	char heur[64], row[256];
	struct stat st;
	int fd, n;

	heuristic_name(ev, heur, sizeof(heur));
	h_note("%s: truth %s, heuristic %s, exact %s", scenario, t->name, heur, exact_cell(p, ev));
	if (!path || !*path)
		return;
	n = snprintf(row, sizeof(row), "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
		     ptp_backend_name(h_backend), ptp_mode_name(h_mode), scenario, t->name, heur,
		     agrees(t, ev) ? "yes" : "no", exact_cell(p, ev), exact_agrees(p, t, ev));
	assert_true(n > 0 && (size_t)n < sizeof(row));
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(flock(fd, LOCK_EX), 0);
	assert_int_equal(fstat(fd, &st), 0);
	if (st.st_size == 0)
		assert_int_equal(write(fd, TABLE_HEADER, strlen(TABLE_HEADER)),
				 (ssize_t)strlen(TABLE_HEADER));
	assert_int_equal(write(fd, row, (size_t)n), n);
	assert_int_equal(flock(fd, LOCK_UN), 0);
	close(fd);
}

/* Asserts a SIGSEGV report at addr with IP ip and the given access bits. */
static void assert_fault(const struct ptp_event *ev, const struct ptp_ctx *ctx,
			 uintptr_t addr, uint64_t ip, unsigned int access)
{
	if (ev->kind != PTP_EV_FAULT)
		fail_msg("got %s (signal %d, code %d), want a fault",
			 h_event_name(ev->kind), ev->info.si_signo, ev->info.si_code);
	assert_int_equal(ev->info.si_signo, SIGSEGV);
	assert_int_equal(ev->addr, addr);
	assert_int_equal((uintptr_t)ev->info.si_addr, addr);
	assert_int_equal(ptp_ctx_ip(ctx), ip);
	if (ev->access != access)
		fail_msg("fault at %#lx: access %s, want %s", (unsigned long)addr,
			 access_name(ev->access), access_name(access));
}

/* PAYLOAD_READ at ip loading from addr. */
static void read_at(struct hfix *f, uint64_t ip, uintptr_t addr, struct ptp_event *ev)
{
	ptp_ctx_set_ip(f->ctx, ip);
	ptp_ctx_set_arg(f->ctx, 0, addr);
	run(f->ctx, f->as, ev);
}

/* Scenarios ------------------------------------------------------------ */

static void read_unmapped(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	const uintptr_t a = H_DATA + 0x123;
	struct ptp_event ev;

	read_at(&f, H_CODE, a, &ev);
	table_row(f.p, "read_unmapped", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	assert_int_equal(ev.info.si_code, SEGV_MAPERR);
	h_teardown(&f);
}

/* The intended dance: Read, map readable, the same fault again is Write, map
 * writable and the write completes. */
static void write_dance(void)
{
	struct hfix f = h_setup(PAYLOAD_WRITE);
	size_t pg = h_page();
	const uintptr_t a = H_DATA + 0x18;
	const uint64_t v = 0xfeedfacecafef00dull;
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_event ev;
	uint64_t got = 0;

	ptp_ctx_set_arg(f.ctx, 0, a);
	ptp_ctx_set_arg(f.ctx, 1, v);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "write_dance/first", &T_WRITE, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	assert_int_equal(ev.info.si_code, SEGV_MAPERR);

	map_fd(f.as, H_DATA, pg, PROT_READ, fd);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "write_dance/refault", &T_WRITE, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R | W);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);

	map_fd(f.as, H_DATA, pg, PROT_READ | PROT_WRITE, fd);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_getpid);
	assert_int_equal(pread(fd, &got, 8, (off_t)(a - H_DATA)), 8);
	assert_int_equal(got, v);
	close(fd);
	h_teardown(&f);
}

/* A write to a page already mapped read-only: the first report is Read. */
static void write_readonly(void)
{
	struct hfix f = h_setup(PAYLOAD_WRITE);
	size_t pg = h_page();
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_event ev;

	map_fd(f.as, H_DATA, pg, PROT_READ, fd);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA + 0x40);
	ptp_ctx_set_arg(f.ctx, 1, 1);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "write_readonly", &T_WRITE, &ev);
	assert_fault(&ev, f.ctx, H_DATA + 0x40, H_CODE, R);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);
	close(fd);
	h_teardown(&f);
}

/* A jump to an unmapped address: Read|Exec, the address is the IP. */
static void exec_unmapped(void)
{
	struct hfix f = h_setup(PAYLOAD_EXEC);
	const uintptr_t a = H_DATA + 0x40;
	struct ptp_event ev;

	ptp_ctx_set_arg(f.ctx, 0, a);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "exec_unmapped", &T_EXEC, &ev);
	assert_fault(&ev, f.ctx, a, a, R | X);
	assert_int_equal(ev.info.si_code, SEGV_MAPERR);
	h_teardown(&f);
}

/* Documented false result: an exec of a readable, non-executable page also
 * carries Read (the truth is exec alone). */
static void exec_nx_page(void)
{
	struct hfix f = h_setup(PAYLOAD_EXEC);
	size_t pg = h_page();
	struct ptp_event ev;

	h_map_rw(f.as, H_DATA, pg);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "exec_nx_page", &T_EXEC, &ev);
	assert_fault(&ev, f.ctx, H_DATA, H_DATA, R | X);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);
	assert_false(agrees(&T_EXEC, &ev));
	h_teardown(&f);
}

/* Documented false result: a read fault the sandbox leaves unresolved comes
 * back as Write the second time. */
static void read_repeat(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	const uintptr_t a = H_DATA + 0x200;
	struct ptp_event ev;

	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "read_repeat", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R | W);
	assert_int_equal(ev.info.si_code, SEGV_MAPERR);
	assert_false(agrees(&T_READ, &ev));
	/* And it stays Write while it repeats. */
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R | W);
	h_teardown(&f);
}

/* Exact bytes: the same address from another instruction, or another byte
 * of the same page from the same instruction, is a new fault. */
static void exact_addr_and_ip(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	const uint64_t ip2 = H_CODE + h_page();
	const uintptr_t a = H_DATA + 0x300;
	struct ptp_event ev;

	h_load_at(f.as, ip2, PAYLOAD_READ);
	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	read_at(&f, ip2, a, &ev);
	table_row(f.p, "same_addr_other_ip", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a, ip2, R);
	read_at(&f, ip2, a + 1, &ev);
	table_row(f.p, "same_ip_other_addr", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a + 1, ip2, R);
	/* Control: the very same fault again is the repeat. */
	read_at(&f, ip2, a + 1, &ev);
	assert_fault(&ev, f.ctx, a + 1, ip2, R | W);
	h_teardown(&f);
}

/* ptp_as_unmap of a range holding the last fault drops the record; a range
 * beside it does not. */
static void unmap_between_faults(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	const uintptr_t a = H_DATA + pg + 0x10;
	struct ptp_event ev;

	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	/* The pages either side, ends exclusive. */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, pg), 0);
	assert_int_equal(ptp_as_unmap(f.as, H_DATA + 2 * pg, pg), 0);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R | W);
	/* The range holding it. */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, 4 * pg), 0);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "unmap_between_faults", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	h_teardown(&f);
}

/* The dance through ptp_as_protect: a protect keeps the record as a map
 * does, so the refault after making the page readable is a Write. */
static void write_dance_by_protect(void)
{
	struct hfix f = h_setup(PAYLOAD_WRITE);
	size_t pg = h_page();
	const uintptr_t a = H_DATA + 0x28;
	const uint64_t v = 0x70726f7465637400ull;
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_event ev;
	uint64_t got = 0;

	map_fd(f.as, H_DATA, pg, PROT_NONE, fd);
	ptp_ctx_set_arg(f.ctx, 0, a);
	ptp_ctx_set_arg(f.ctx, 1, v);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	assert_int_equal(ptp_as_protect(f.as, H_DATA, pg, PROT_READ), 0);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R | W);
	assert_int_equal(ptp_as_protect(f.as, H_DATA, pg, PROT_READ | PROT_WRITE), 0);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(pread(fd, &got, 8, (off_t)(a - H_DATA)), 8);
	assert_int_equal(got, v);
	close(fd);
	h_teardown(&f);
}

/* A batched unmap drops records as ptp_as_unmap does: only one whose range
 * holds the fault, and only when it ran. */
static void batch_unmap_between_faults(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page(), done;
	const uintptr_t a = H_DATA + pg + 0x10;
	const struct ptp_as_op beside[] = {
		{ .kind = PTP_AS_OP_UNMAP, .addr = H_DATA, .len = pg },
		{ .kind = PTP_AS_OP_UNMAP, .addr = H_DATA + 2 * pg, .len = pg },
	};
	const struct ptp_as_op holding[] = {
		{ .kind = PTP_AS_OP_UNMAP, .addr = H_DATA + 8 * pg, .len = pg },
		{ .kind = PTP_AS_OP_UNMAP, .addr = H_DATA, .len = 4 * pg },
	};
	struct ptp_event ev;

	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	assert_int_equal(ptp_as_map_batch(f.as, beside, 2, &done), 0);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R | W);
	assert_int_equal(ptp_as_map_batch(f.as, holding, 2, &done), 0);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	h_teardown(&f);
}

/* Records are per context: B's first fault where A just faulted is Read; A's
 * own record survives B's fault. */
static void two_contexts_one_as(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	struct ptp_ctx *b = h_ctx(f.p);
	const uintptr_t a = H_DATA + 0x80;
	struct ptp_event ev;

	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	ptp_ctx_set_ip(b, H_CODE);
	ptp_ctx_set_arg(b, 0, a);
	run(b, f.as, &ev);
	table_row(f.p, "two_contexts_one_as", &T_READ, &ev);
	assert_fault(&ev, b, a, H_CODE, R);
	/* A repeats: its own record says Write. */
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R | W);
	/* An unmap drops both records. */
	assert_int_equal(ptp_as_unmap(f.as, H_DATA, h_page()), 0);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	run(b, f.as, &ev);
	assert_fault(&ev, b, a, H_CODE, R);
	ptp_ctx_free(b);
	h_teardown(&f);
}

/* Records are per address space: the same fault of one context in another
 * address space is Read. */
static void one_context_two_as(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	struct ptp_as *as2 = h_as(f.p);
	const uintptr_t a = H_DATA + 0x88;
	struct ptp_event ev;

	h_load_at(as2, H_CODE, PAYLOAD_READ);
	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	ptp_ctx_set_ip(f.ctx, H_CODE);
	run(f.ctx, as2, &ev);
	table_row(f.p, "one_context_two_as", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	/* Back in the first: the last outcome was in the second. */
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	ptp_as_release(as2);
	h_teardown(&f);
}

/* A read past the end of the file: SIGBUS, a signal and not a fault. */
static void sigbus_past_eof(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	const uintptr_t a = H_DATA + pg + 8;
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_event ev;

	map_fd(f.as, H_DATA, 2 * pg, PROT_READ, fd);
	read_at(&f, H_CODE, a, &ev);
	table_row(f.p, "sigbus_past_eof", &T_SIGBUS, &ev);
	if (ev.kind != PTP_EV_SIGNAL)
		fail_msg("got %s (signal %d), want a signal", h_event_name(ev.kind),
			 ev.info.si_signo);
	assert_int_equal(ev.info.si_signo, SIGBUS);
	assert_int_equal(ev.info.si_code, BUS_ADRERR);
	assert_int_equal((uintptr_t)ev.info.si_addr, a);
	assert_int_equal(ptp_ctx_ip(f.ctx), H_CODE);
	/* The first page is fine. */
	read_at(&f, H_CODE, H_DATA, &ev);
	assert_int_equal(ev.kind, PTP_EV_SYSCALL);
	close(fd);
	h_teardown(&f);
}

/* Any outcome but SIGSEGV clears the record: SEGV at a, SIGBUS at a (no
 * unmap in between: a map does not clear records), SEGV at a again is Read. */
static void signal_clears_record(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	size_t pg = h_page();
	const uintptr_t a = H_DATA + pg + 0x20;
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_event ev;

	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	map_fd(f.as, H_DATA, 2 * pg, PROT_READ, fd);
	run(f.ctx, f.as, &ev);
	assert_int_equal(ev.kind, PTP_EV_SIGNAL);
	assert_int_equal(ev.info.si_signo, SIGBUS);
	assert_int_equal(ptp_ctx_ip(f.ctx), H_CODE);
	map_fd(f.as, H_DATA, 2 * pg, PROT_NONE, fd);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "signal_clears_record", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	assert_int_equal(ev.info.si_code, SEGV_ACCERR);
	close(fd);
	h_teardown(&f);
}

/* A syscall between two identical faults clears the record too. */
static void syscall_clears_record(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	const uint64_t loop = H_CODE + h_page();
	const uintptr_t a = H_DATA + 0x48;
	struct ptp_event ev;

	h_load_at(f.as, loop, PAYLOAD_SYSCALL_LOOP);
	read_at(&f, H_CODE, a, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	ptp_ctx_set_ip(f.ctx, loop);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	read_at(&f, H_CODE, a, &ev);
	table_row(f.p, "syscall_clears_record", &T_READ, &ev);
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	h_teardown(&f);
}

/* A non-canonical address. On x86_64 a general-protection fault: SIGSEGV
 * with SI_KERNEL and si_addr 0, no page fault at all, which the heuristic
 * still makes a Read fault at 0 (recorded as a disagreement). Where the arch
 * has no such fault (arm64) it is an ordinary read fault at the address,
 * which the heuristic gets right. */
static void gp_non_canonical(void)
{
	const struct truth *t = AF_BAD_ADDRESS_IS_GP ? &T_GP : &T_READ;
	struct hfix f = h_setup(PAYLOAD_BAD_ADDRESS);
	struct ptp_event ev;
	uint64_t ip;

	run(f.ctx, f.as, &ev);
	table_row(f.p, "gp_non_canonical", t, &ev);
	ip = ptp_ctx_ip(f.ctx);
	/* The faulting load follows the instruction that builds the address. */
	assert_int_equal(ip, H_CODE + AF_BAD_ADDRESS_LOAD_OFFSET);
	assert_fault(&ev, f.ctx, AF_BAD_ADDRESS_SI_ADDR, ip, R);
	assert_int_equal(ev.info.si_code, AF_BAD_ADDRESS_SI_CODE);
	assert_int_equal(agrees(t, &ev), !AF_BAD_ADDRESS_IS_GP);
	h_teardown(&f);
}

/*
 * Where the platform says its page faults are exact (ptp_caps), each event
 * carries the access the CPU made beside the heuristic's: Read, Read|Write,
 * Exec; a general-protection fault is no page fault and carries none.
 * Elsewhere exact_access is 0 throughout.
 */
static void exact_access_where_told(void)
{
	struct hfix f = h_setup(PAYLOAD_READ);
	bool exact = ptp_caps(f.p)->fault_access_exact;
	size_t pg = h_page();
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_event ev;

	read_at(&f, H_CODE, H_DATA + 0x80, &ev);
	assert_fault(&ev, f.ctx, H_DATA + 0x80, H_CODE, R);
	assert_int_equal(ev.exact_access, exact ? R : 0);
	/* The heuristic's record says Write now; the CPU still says Read. */
	read_at(&f, H_CODE, H_DATA + 0x80, &ev);
	assert_fault(&ev, f.ctx, H_DATA + 0x80, H_CODE, R | W);
	assert_int_equal(ev.exact_access, exact ? R : 0);

	h_load_at(f.as, H_CODE + 0x100000ul, PAYLOAD_WRITE);
	map_fd(f.as, H_DATA, pg, PROT_READ, fd);
	ptp_ctx_set_ip(f.ctx, H_CODE + 0x100000ul);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA + 0x40);
	ptp_ctx_set_arg(f.ctx, 1, 1);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, H_DATA + 0x40, H_CODE + 0x100000ul, R);
	assert_int_equal(ev.exact_access, exact ? (R | W) : 0);

	h_load_at(f.as, H_CODE + 0x200000ul, PAYLOAD_EXEC);
	ptp_ctx_set_ip(f.ctx, H_CODE + 0x200000ul);
	ptp_ctx_set_arg(f.ctx, 0, H_DATA + 0x400000ul);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, H_DATA + 0x400000ul, H_DATA + 0x400000ul, R | X);
	assert_int_equal(ev.exact_access, exact ? X : 0);

	h_load_at(f.as, H_CODE + 0x300000ul, PAYLOAD_BAD_ADDRESS);
	ptp_ctx_set_ip(f.ctx, H_CODE + 0x300000ul);
	run(f.ctx, f.as, &ev);
	assert_int_equal(ev.kind, PTP_EV_FAULT);
	assert_int_equal(ev.exact_access, exact && !AF_BAD_ADDRESS_IS_GP ? R : 0);
	close(fd);
	h_teardown(&f);
}

/*
 * A cache flush of an unmapped line (arm64 DC CIVAC, x86_64 clflush): the
 * CPU reports a read. arm64's ESR sets WnR for cache maintenance as for a
 * store, and only CM tells them apart: an exact access that reads WnR alone
 * says Read|Write here.
 */
static void cache_flush_is_a_read(void)
{
	struct hfix f = h_setup(PAYLOAD_CACHE_FLUSH);
	bool exact = ptp_caps(f.p)->fault_access_exact;
	const uintptr_t a = H_DATA + 0x240;
	struct ptp_event ev;

	read_at(&f, H_CODE, a, &ev);
	/* qemu's TCG makes DC CIVAC a no-op that never translates. */
	if (ev.kind == PTP_EV_SYSCALL)
		h_skip("a cache flush of an unmapped line did not fault on this CPU "
		       "(qemu's TCG treats data cache maintenance as a no-op)");
	assert_fault(&ev, f.ctx, a, H_CODE, R);
	assert_int_equal(ev.exact_access, exact ? R : 0);
	h_teardown(&f);
}

/* Pushing past a one-page stack: a write fault just below it, first Read;
 * the dance then grows the stack by a page. */
static void stack_overflow(void)
{
	struct hfix f = h_setup(PAYLOAD_STACK_OVERFLOW);
	size_t pg = h_page();
	const uint64_t pat = 0x737461636b737461ull;
	int fd = h_memfd(pg, NULL, 0);
	struct ptp_event ev;
	uint64_t got = 0;

	h_stack(f.as, f.ctx, pg);
	ptp_ctx_set_gpr(f.ctx, 0, pat); /* what it pushes (rax, x0) */
	run(f.ctx, f.as, &ev);
	table_row(f.p, "stack_overflow", &T_WRITE, &ev);
	assert_fault(&ev, f.ctx, H_STACK - 8, H_CODE, R);
	assert_int_equal(ev.info.si_code, SEGV_MAPERR);
	assert_int_equal(ptp_ctx_sp(f.ctx), H_STACK);
	map_fd(f.as, H_STACK - pg, pg, PROT_READ, fd);
	run(f.ctx, f.as, &ev);
	table_row(f.p, "stack_overflow/refault", &T_WRITE, &ev);
	assert_fault(&ev, f.ctx, H_STACK - 8, H_CODE, R | W);
	map_fd(f.as, H_STACK - pg, pg, PROT_READ | PROT_WRITE, fd);
	run(f.ctx, f.as, &ev);
	assert_fault(&ev, f.ctx, H_STACK - pg - 8, H_CODE, R);
	assert_int_equal(ptp_ctx_sp(f.ctx), H_STACK - pg);
	assert_int_equal(pread(fd, &got, 8, 0), 8);
	assert_int_equal(got, pat);
	assert_int_equal(pread(fd, &got, 8, (off_t)pg - 8), 8);
	assert_int_equal(got, pat);
	close(fd);
	h_teardown(&f);
}

/* The accuracy table ---------------------------------------------------- */

/* Every row the group's scenarios write, in case order. */
static const char *const table_scenarios[] = {
	"read_unmapped", "write_dance/first", "write_dance/refault",
	"write_readonly", "exec_unmapped", "exec_nx_page", "read_repeat",
	"same_addr_other_ip", "same_ip_other_addr", "unmap_between_faults",
	"two_contexts_one_as", "one_context_two_as", "sigbus_past_eof",
	"signal_clears_record", "syscall_clears_record", "gp_non_canonical",
	"stack_overflow", "stack_overflow/refault",
};

/* Checks the table's form (the header once, as its first line; five fields;
 * a known mode; yes/no) and returns how many rows of this mode name
 * scenario (NULL: any). */
static bool known_backend(const char *name)
{
	enum ptp_backend b;

	return ptp_backend_parse(name, &b) == 0;
}

static bool known_mode(const char *name)
{
	enum ptp_switch_mode m;

	return ptp_mode_parse(name, &m) == 0;
}

static size_t table_check(const char *path, const char *scenario)
{
	char line[512], want[128];
	size_t n = 0, lineno = 0;
	FILE *fp = fopen(path, "re");

	if (!fp)
		fail_msg("open %s: %s", path, strerror(errno));
	snprintf(want, sizeof(want), "%s\t%s\t%s\t", ptp_backend_name(h_backend),
		 ptp_mode_name(h_mode), scenario ? scenario : "");
	while (fgets(line, sizeof(line), fp)) {
		char *field[8], *save = NULL, copy[512];
		size_t tabs = 0;

		if (++lineno == 1) {
			if (strcmp(line, TABLE_HEADER) != 0)
				fail_msg("%s: the first line is not the header: %s", path, line);
			continue;
		}
		for (char *c = line; *c; c++)
			tabs += *c == '\t';
		snprintf(copy, sizeof(copy), "%s", line);
		copy[strcspn(copy, "\n")] = 0;
		for (int i = 0; i < 8; i++)
			field[i] = strtok_r(i ? NULL : copy, "\t", &save);
		if (tabs != 7 || !field[7] || !known_backend(field[0]) ||
		    !known_mode(field[1]) ||
		    (strcmp(field[5], "yes") && strcmp(field[5], "no")) ||
		    (strcmp(field[7], "yes") && strcmp(field[7], "no") && strcmp(field[7], "n/a")))
			fail_msg("%s:%zu: malformed row: %s", path, lineno, line);
		n += strncmp(line, want, scenario ? strlen(want) : strlen(want) - 1) == 0;
	}
	fclose(fp);
	return n;
}

/* Whether this process was started for the whole group (no case named): then
 * every case before this one ran, each in a child of the harness. */
static bool whole_group_ran(void)
{
	char buf[4096];
	int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC), args = 0;
	ssize_t len;

	assert_true(fd >= 0);
	len = read(fd, buf, sizeof(buf));
	close(fd);
	assert_true(len > 0);
	for (ssize_t i = 0; i < len; i++)
		args += buf[i] == 0;
	return args <= 2;
}

/*
 * With PTBENCH_FAULT_TABLE set: the writing itself, on a private file (the
 * header exactly once even with writers racing on an empty file, the rows
 * exact), then the real table: well-formed, and after a whole-group run
 * holding this mode's row of every scenario.
 */
static void table_written(void)
{
	const char *path = getenv(TABLE_ENV);
	char priv[] = "/tmp/ptbench-fault-table-XXXXXX", expect[256], *saved;
	const struct ptp_event ev = { .kind = PTP_EV_FAULT, .access = R | W };
	enum { WRITERS = 8, ROWS = 25 };
	char buf[64 * 1024];
	ssize_t len;
	int fd;

	if (!path || !*path)
		h_skip(TABLE_ENV " is not set: no accuracy table is written");
	saved = strdup(path);
	assert_non_null(saved);
	fd = mkstemp(priv);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(setenv(TABLE_ENV, priv, 1), 0);
	for (int w = 0; w < WRITERS; w++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			for (int i = 0; i < ROWS; i++)
				table_row(NULL, "race", &T_READ, &ev);
			_exit(0);
		}
	}
	for (int w = 0; w < WRITERS; w++) {
		int st;

		assert_true(wait(&st) > 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(table_check(priv, "race"), WRITERS * ROWS);
	fd = open(priv, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(len > 0);
	buf[len] = 0;
	snprintf(expect, sizeof(expect), "%s\t%s\trace\tread\tread+write\tno\tn/a\tn/a\n",
		 ptp_backend_name(h_backend), ptp_mode_name(h_mode));
	assert_int_equal((size_t)len, strlen(TABLE_HEADER) + WRITERS * ROWS * strlen(expect));
	assert_memory_equal(buf, TABLE_HEADER, strlen(TABLE_HEADER));
	for (const char *row = buf + strlen(TABLE_HEADER); *row; row += strlen(expect))
		assert_memory_equal(row, expect, strlen(expect));
	unlink(priv);
	assert_int_equal(setenv(TABLE_ENV, saved, 1), 0);

	if (!whole_group_ran()) {
		if (access(saved, F_OK) == 0)
			table_check(saved, NULL);
		h_note("one case run alone: %s not checked for this run's rows", saved);
		free(saved);
		return;
	}
	for (size_t i = 0; i < sizeof(table_scenarios) / sizeof(table_scenarios[0]); i++)
		if (table_check(saved, table_scenarios[i]) == 0)
			fail_msg("%s: no %s row for %s", saved, ptp_mode_name(h_mode),
				 table_scenarios[i]);
	free(saved);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(read_unmapped),
		HCASE(write_dance),
		HCASE(write_readonly),
		HCASE(exec_unmapped),
		HCASE(exec_nx_page),
		HCASE(read_repeat),
		HCASE(exact_addr_and_ip),
		HCASE(unmap_between_faults),
		HCASE(write_dance_by_protect),
		HCASE(batch_unmap_between_faults),
		HCASE(two_contexts_one_as),
		HCASE(one_context_two_as),
		HCASE(sigbus_past_eof),
		HCASE(signal_clears_record),
		HCASE(syscall_clears_record),
		HCASE(gp_non_canonical),
		HCASE(exact_access_where_told),
		HCASE(cache_flush_is_a_read),
		HCASE(stack_overflow),
		HCASE(table_written),
	};

	return harness_main(argc, argv, "fault", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
