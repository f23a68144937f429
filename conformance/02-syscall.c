/* SPDX-License-Identifier: Apache-2.0 */
/* syscall: interception is exact and nothing the app asks for runs on the
 * host. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch/arch.h"
#include "harness.h"

static void number_and_args_exact(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_RAW);
	static const uint64_t args[6] = { 0x1111111111111111, 0x2222222222222222,
					  0x3333333333333333, 0xfffffffffffffffe,
					  0, 0x8000000000000000 };
	struct ptp_event ev;

	ptp_ctx_set_syscall_nr(f.ctx, SYS_openat);
	for (unsigned int i = 0; i < 6; i++)
		ptp_ctx_set_arg(f.ctx, i, args[i]);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	assert_int_equal(ev.nr, SYS_openat);
	assert_int_equal(ptp_ctx_syscall_nr(f.ctx), SYS_openat);
	for (unsigned int i = 0; i < 6; i++)
		assert_int_equal(ptp_ctx_arg(f.ctx, i), args[i]);
	h_teardown(&f);
}

static void result_is_what_the_app_sees(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_RAW);
	static const long results[] = { 0, 1, -EPERM, 0x7fffffffffff, -4095, 123456 };
	struct ptp_event ev;

	ptp_ctx_set_syscall_nr(f.ctx, SYS_getpid);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	for (size_t i = 0; i < sizeof(results) / sizeof(results[0]); i++) {
		/* The payload passes the result it saw back as the next
		 * syscall's number, whole, or as the kernel reads a number
		 * (a platform that sees only that says so). */
		long want = ptp_caps(f.p)->syscall_nr_whole_register ? results[i]
								     : (long)(int)results[i];

		ptp_ctx_set_result(f.ctx, results[i]);
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, want);
	}
	h_teardown(&f);
}

static void invalid_numbers_are_reported(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_RAW);
	static const long nrs[] = { -1, 100000, 0x7fffffff, 0x40000000 | SYS_getpid };
	struct ptp_event ev;

	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		ptp_ctx_set_syscall_nr(f.ctx, nrs[i]);
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, nrs[i]);
		ptp_ctx_set_ip(f.ctx, H_CODE);
	}
	h_teardown(&f);
}

static void loop_counts_every_syscall(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	struct ptp_event ev;

	ptp_ctx_set_arg(f.ctx, 5, 0);
	for (uint64_t i = 0; i < 1000; i++) {
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, SYS_getpid);
		assert_int_equal(ptp_ctx_arg(f.ctx, 5), i);
		ptp_ctx_set_result(f.ctx, 42);
	}
	h_teardown(&f);
}

/*
 * The app's write(2), kill, exit_group, fork (clone), ptrace and openat reach
 * the tracer and nothing happens on the host: the pipe the stub shares (its
 * fd table is ours) stays empty, no signal arrives, no child appears, the
 * address space lives on, no file is created.
 */
static volatile sig_atomic_t got_usr1;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1 = 1;
}

static void nothing_runs_on_the_host(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_RAW);
	char path[] = "/tmp/ptbench-escape-XXXXXX";
	int pipefd[2], children;
	struct ptp_event ev;
	char buf[8];
	const char msg[] = "escaped";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	assert_int_equal(pipe2(pipefd, O_NONBLOCK), 0);
	signal(SIGUSR1, on_usr1);
	h_map_rw(f.as, H_DATA, h_page());
	children = h_children_of(0);

	const struct {
		long nr;
		uint64_t args[6];
	} calls[] = {
		{ SYS_write, { (uint64_t)pipefd[1], H_DATA, sizeof(msg) } },
		{ SYS_kill, { (uint64_t)getpid(), SIGUSR1 } },
		{ SYS_kill, { (uint64_t)-1, SIGKILL } },
		{ SYS_clone, { SIGCHLD } },
		{ SYS_ptrace, { PTRACE_TRACEME } },
		{ SYS_openat, { (uint64_t)AT_FDCWD, H_DATA, O_CREAT | O_WRONLY, 0600 } },
		{ SYS_exit_group, { 0 } },
		{ SYS_exit, { 0 } },
	};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		ptp_ctx_set_syscall_nr(f.ctx, calls[i].nr);
		for (unsigned int a = 0; a < 6; a++)
			ptp_ctx_set_arg(f.ctx, a, calls[i].args[a]);
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, calls[i].nr);
		ptp_ctx_set_ip(f.ctx, H_CODE);
	}
	usleep(20000);
	assert_int_equal(read(pipefd[0], buf, sizeof(buf)), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(got_usr1, 0);
	assert_int_equal(h_children_of(0), children);
	assert_int_equal(ptp_as_status(f.as), 0);
	assert_int_equal(access(path, F_OK), -1);
	/* Still serving syscalls after exit_group. */
	ptp_ctx_set_syscall_nr(f.ctx, SYS_getpid);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	h_teardown(&f);
}

/*
 * -ERESTARTSYS as the result while a signal (our interrupt) is pending: the
 * core cleared the syscall marker, so the kernel must not rewind the app into
 * the syscall again.
 */
static void restart_result_is_not_rerun(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	const long erestartsys = -512;
	struct ptp_event ev;
	uint64_t ip;

	ptp_ctx_set_arg(f.ctx, 5, 0);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	ip = ptp_ctx_ip(f.ctx);
	assert_int_equal(ptp_ctx_arg(f.ctx, 5), 0);
	ptp_ctx_set_result(f.ctx, erestartsys);
	/* A signal of ours, pending before the app resumes. */
	assert_int_equal(syscall(SYS_tgkill, ptp_as_pid(f.as), ptp_ctx_tid(f.ctx),
				 SIGCHLD), 0);
	h_switch(f.ctx, f.as, &ev, PTP_EV_INTERRUPTED);
	/* Not rewound onto the syscall instruction, and the result register
	 * (x86_64's rax is also the number, arm64's x0 the first argument)
	 * still holds it. */
	assert_int_equal(ptp_ctx_ip(f.ctx), ip);
	assert_int_equal((long)ptp_ctx_gpr(f.ctx, AF_GPR_RESULT), erestartsys);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	/* The loop went on: one more completed syscall, not a repeat. */
	assert_int_equal(ptp_ctx_arg(f.ctx, 5), 1);
	h_teardown(&f);
}

/*
 * A syscall whose first argument looks like a restart code (-ERESTARTSYS,
 * -ERESTARTNOINTR): where that argument shares the result register (arm64's
 * x0), a signal on the way out (the platform's own x7 kick there) must not
 * make the kernel rewind the app into the syscall; and the syscall event
 * shows the argument the app passed (on arm64 the kernel's restart logic
 * runs on a seccomp-trapped syscall too, and rewrites x0 or the pc before
 * a SIGSYS handler sees them).
 */
static void restart_code_argument_is_not_rerun(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_LOOP);
	const long codes[] = { -512, -512, -513, -513 };
	struct ptp_event ev;
	uint64_t ip;

	ptp_ctx_set_arg(f.ctx, 0, (uint64_t)-512);
	ptp_ctx_set_arg(f.ctx, 5, 0);
	h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
	ip = ptp_ctx_ip(f.ctx);
	assert_int_equal(ptp_ctx_arg(f.ctx, 5), 0);
	assert_int_equal(ev.args[0], (uint64_t)-512);
	for (uint64_t i = 1; i <= sizeof(codes) / sizeof(codes[0]); i++) {
		long code = codes[i - 1];

		ptp_ctx_set_result(f.ctx, code);
		ptp_ctx_set_arg(f.ctx, 0, (uint64_t)code);
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		/* One more completed syscall each time, at the same place,
		 * with the argument it had. */
		assert_int_equal(ptp_ctx_arg(f.ctx, 5), i);
		assert_int_equal(ptp_ctx_ip(f.ctx), ip);
		assert_int_equal(ev.args[0], (uint64_t)code);
		assert_int_equal(ptp_ctx_arg(f.ctx, 0), (uint64_t)code);
	}
	h_teardown(&f);
}

static void single_step_stops(void)
{
	struct hfix f = h_setup(PAYLOAD_SINGLE_STEP);
	struct ptp_event ev;
	uint64_t last;
	int steps = 0;

	h_stack(f.as, f.ctx, h_page());
	/* pushf; or; popf: from here every instruction traps. */
	for (;;) {
		last = ptp_ctx_ip(f.ctx);
		assert_int_equal(ptp_switch(f.ctx, f.as, &ev), 0);
		if (ev.kind == PTP_EV_SYSCALL)
			break;
		assert_int_equal(ev.kind, PTP_EV_SIGNAL);
		assert_int_equal(ev.info.si_signo, SIGTRAP);
		assert_true(ptp_ctx_ip(f.ctx) > last);
		assert_true(++steps < 20);
	}
	assert_int_equal(ev.nr, PAYLOAD_NR_OK);
	h_note("%d single-step stops before the syscall", steps);
	/* popf traps after it, then three nops and the mov. */
	assert_true(steps >= 4);
	h_teardown(&f);
}


static void vsyscall_is_an_exec_fault(void)
{
	struct hfix f = h_setup(PAYLOAD_VSYSCALL);
	struct ptp_event ev;
	uint64_t sp;

	if (!ptp_caps(f.p)->vsyscall)
		h_skip("no [vsyscall] page on this kernel (vsyscall=none or an arch without it)");
	h_stack(f.as, f.ctx, h_page());
	sp = ptp_ctx_sp(f.ctx);
	h_switch(f.ctx, f.as, &ev, PTP_EV_FAULT);
	/* gVisor's report: SIGSEGV at the entry, IP there, the return
	 * address still on the stack. */
	assert_int_equal(ev.info.si_signo, SIGSEGV);
	assert_int_equal(ev.addr, ptp_ctx_ip(f.ctx));
	assert_true(ev.access & PTP_ACCESS_EXEC);
	assert_int_equal(ptp_ctx_sp(f.ctx), sp - 8);
	/* The kernel did not run time(): the app never got a result. */
	h_teardown(&f);
}

/*
 * Syscall tables. Without PTRACE_GET_SYSCALL_INFO an x86_64 core cannot
 * tell int 0x80 from syscall, and must say so (UNKNOWN) rather than guess
 * NATIVE.
 */
static enum ptp_syscall_abi expected_abi(struct ptp_platform *p, enum ptp_syscall_abi abi)
{
	return AF_ABI_NEEDS_SYSCALL_INFO && !ptp_caps(p)->syscall_info ? PTP_ABI_UNKNOWN
								       : abi;
}

static void assert_abi(const struct ptp_event *ev, enum ptp_syscall_abi abi)
{
	if (ev->abi != abi)
		fail_msg("syscall %ld reported as %s, expected %s", ev->nr,
			 ptp_syscall_abi_name(ev->abi), ptp_syscall_abi_name(abi));
}

static void native_syscall_is_native(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_RAW);
	enum ptp_syscall_abi abi = expected_abi(f.p, PTP_ABI_NATIVE);
	struct ptp_event ev;

	static const long nrs[] = { SYS_getpid, SYS_writev };
	for (size_t i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
		ptp_ctx_set_syscall_nr(f.ctx, nrs[i]);
		for (unsigned int a = 0; a < 6; a++)
			ptp_ctx_set_arg(f.ctx, a, 0xa5a5a5a500000000ul | a);
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, nrs[i]);
		assert_abi(&ev, abi);
		assert_int_equal(ev.audit_arch, abi == PTP_ABI_UNKNOWN ? 0 : AF_AUDIT_ARCH_NATIVE);
		for (unsigned int a = 0; a < 6; a++)
			assert_int_equal(ev.args[a], 0xa5a5a5a500000000ul | a);
		ptp_ctx_set_ip(f.ctx, H_CODE);
	}
	h_teardown(&f);
}

/*
 * The number keeps the bit: a sandbox that reads nr alone sees no getpid.
 * -1 has the bit set too, but it is a negative number to the kernel, not
 * an x32 one.
 */
static void x32_bit_is_reported(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSCALL_RAW);
	const struct {
		long nr;
		enum ptp_syscall_abi abi;
	} calls[] = {
		{ 0x40000000 | SYS_getpid, AF_X32_BIT_ABI },
		{ -1, PTP_ABI_NATIVE },
	};
	struct ptp_event ev;

	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		ptp_ctx_set_syscall_nr(f.ctx, calls[i].nr);
		h_switch(f.ctx, f.as, &ev, PTP_EV_SYSCALL);
		assert_int_equal(ev.nr, calls[i].nr);
		assert_abi(&ev, expected_abi(f.p, calls[i].abi));
		ptp_ctx_set_ip(f.ctx, H_CODE);
	}
	h_teardown(&f);
}

static unsigned int gpr_index(const char *name)
{
	for (unsigned int i = 0; i < ptp_gpr_count(); i++)
		if (strcmp(ptp_gpr_name(i), name) == 0)
			return i;
	fail_msg("no register %s", name);
	return 0;
}

/* The i386 argument registers, with high halves the 32-bit call ignores. */
static const char *const ia32_arg_regs[6] = { "rbx", "rcx", "rdx", "rsi", "rdi", "rbp" };

static uint64_t ia32_arg_pattern(unsigned int i)
{
	return 0xdead000000000000ul | ((uint64_t)i << 32) | (0x10203040u + i);
}

/*
 * Loads the argument patterns (rbp: the pattern, or this value if not 0)
 * and runs an IA32 payload to its first event: SKIPs (after checking the
 * core's probe) where IA32 syscalls cannot be made, returns with a syscall
 * event otherwise.
 */
static void ia32_first_stop(struct hfix *f, struct ptp_event *ev, const char *insn,
			    uint64_t rbp)
{
	for (unsigned int i = 0; i < 6; i++)
		ptp_ctx_set_gpr(f->ctx, gpr_index(ia32_arg_regs[i]),
				i == 5 && rbp ? rbp : ia32_arg_pattern(i));
	assert_int_equal(ptp_switch(f->ctx, f->as, ev), 0);
	if (!ptp_caps(f->p)->ia32_syscalls) {
		/* The probe said no: the instruction must not have reached a
		 * syscall table. */
		if (ev->kind == PTP_EV_SYSCALL)
			fail_msg("the core's probe found no IA32 syscalls, but %s "
				 "made a syscall stop", insn);
		h_skip("no IA32 syscalls here (IA32 emulation compiled out or "
		       "ia32_emulation=0): %s raised signal %d",
		       insn, ev->info.si_signo);
	}
	if (ev->kind == PTP_EV_SIGNAL && ev->info.si_signo == SIGILL)
		h_skip("%s is an invalid opcode in 64-bit mode on this CPU (SIGILL; "
		       "AMD CPUs have no sysenter in long mode)", insn);
	if (ev->kind != PTP_EV_SYSCALL)
		fail_msg("%s: %s, signal %d", insn, h_event_name(ev->kind), ev->info.si_signo);
}

static void assert_ia32_stop(struct hfix *f, const struct ptp_event *ev)
{
	enum ptp_syscall_abi abi = expected_abi(f->p, PTP_ABI_IA32);

	assert_int_equal(ev->nr, PAYLOAD_IA32_NR);
	assert_abi(ev, abi);
	assert_int_equal(ev->audit_arch, abi == PTP_ABI_UNKNOWN ? 0 : AUDIT_ARCH_I386);
}

/*
 * Two int 0x80 stops of an IA32 loop payload: the number, the table, IP
 * (after_int: just past the int 0x80), the six i386 argument registers,
 * and the result reaching the 32-bit app (it passes it back in ebx).
 */
static void int80_round_trip(struct hfix *f, const char *insn, uint64_t after_int)
{
	enum ptp_syscall_abi abi = expected_abi(f->p, PTP_ABI_IA32);
	struct ptp_event ev;

	ia32_first_stop(f, &ev, insn, 0);
	assert_ia32_stop(f, &ev);
	assert_int_equal(ptp_ctx_ip(f->ctx), after_int);
	if (abi == PTP_ABI_IA32)
		for (unsigned int i = 0; i < 6; i++)
			assert_int_equal(ev.args[i], (uint32_t)ia32_arg_pattern(i));
	ptp_ctx_set_result(f->ctx, 4321);
	h_switch(f->ctx, f->as, &ev, PTP_EV_SYSCALL);
	assert_ia32_stop(f, &ev);
	assert_int_equal(ptp_ctx_ip(f->ctx), after_int);
	assert_int_equal(ptp_ctx_gpr(f->ctx, gpr_index("rbx")), 4321);
	if (abi == PTP_ABI_IA32)
		assert_int_equal(ev.args[0], 4321);
}

static void int80_is_ia32(void)
{
	struct hfix f = h_setup(PAYLOAD_INT80);

	/* IA32's getpid is x86_64's writev: the same number, both tables. */
	assert_int_equal(PAYLOAD_IA32_NR, SYS_writev);
	/* mov $20, %eax (5 bytes); int $0x80 (2). */
	int80_round_trip(&f, "int $0x80", H_CODE + 7);
	h_teardown(&f);
}

/*
 * Intel CPUs run sysenter in 64-bit mode and Linux takes it as a 32-bit
 * syscall; AMD CPUs raise #UD. sysenter loses the stack pointer: the kernel
 * takes it from ebp (where the vDSO's __kernel_vsyscall put it) and reads
 * the sixth argument there, so ebp must point at readable memory below
 * 4 GiB (else -EFAULT without any syscall stop, and a SIGSEGV on the way
 * back to the missing 32-bit vDSO). The stop leaves the thread in 32-bit
 * mode (CS 0x23), where NT_PRSTATUS has the i386 layout.
 */
static void sysenter_is_ia32(void)
{
	struct hfix f = h_setup(PAYLOAD_SYSENTER);
	const uint64_t stack = H_STACK + h_page() - 16;
	struct ptp_event ev;

	h_stack(f.as, f.ctx, h_page());
	ptp_ctx_set_sp(f.ctx, stack);
	ia32_first_stop(&f, &ev, "sysenter", stack);
	assert_ia32_stop(&f, &ev);
	assert_int_equal(ptp_ctx_sp(f.ctx), stack);
	if (ev.abi == PTP_ABI_IA32) {
		for (unsigned int i = 0; i < 5; i++)
			assert_int_equal(ev.args[i], (uint32_t)ia32_arg_pattern(i));
		assert_int_equal(ev.args[5], 0); /* the zeroed stack word */
	}
	h_teardown(&f);
}

/*
 * An app may far-jump into 32-bit mode (CS 0x23) on its own; its int 0x80
 * then stops with the i386 NT_PRSTATUS view, which the core must not read
 * as the x86_64 layout.
 */
static void compat_mode_int80_is_ia32(void)
{
	struct hfix f = h_setup(PAYLOAD_COMPAT_INT80);

	h_stack(f.as, f.ctx, h_page());
	/* After the int 0x80 the payload's mov and jmp (4 bytes) remain. */
	int80_round_trip(&f, "int $0x80 in 32-bit mode",
			 H_CODE + payload_get(PAYLOAD_COMPAT_INT80)->size - 4);
	h_teardown(&f);
}

int main(int argc, char **argv)
{
	static const struct hcase cases[] = {
		HCASE(number_and_args_exact),
		HCASE(result_is_what_the_app_sees),
		HCASE(invalid_numbers_are_reported),
		HCASE(loop_counts_every_syscall),
		HCASE(nothing_runs_on_the_host),
		HCASE(restart_result_is_not_rerun),
		HCASE(restart_code_argument_is_not_rerun),
		HCASE(single_step_stops),
		HCASE(vsyscall_is_an_exec_fault),
		HCASE(native_syscall_is_native),
		HCASE(x32_bit_is_reported),
		HCASE(int80_is_ia32),
		HCASE(sysenter_is_ia32),
		HCASE(compat_mode_int80_is_ia32),
	};

	return harness_main(argc, argv, "syscall", cases,
			    sizeof(cases) / sizeof(cases[0]), NULL);
}
