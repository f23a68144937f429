/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64: stub filter extras, vsyscall reporting, CPUID faulting. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <cpuid.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "arch.h"

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1 /* asm-generic/siginfo.h; glibc does not export it */
#endif

#define VSYSCALL_START 0xffffffffff600000ul
#define VSYSCALL_END (VSYSCALL_START + 0x1000ul)

static const struct ptp_syscall_rule stub_rules[] = {
	{ SYS_arch_prctl, 2, { { 0, ARCH_SET_CPUID }, { 1, 0 } } },
};

const struct ptp_syscall_rule *ptp_arch_stub_rules(size_t *count)
{
	*count = sizeof(stub_rules) / sizeof(stub_rules[0]);
	return stub_rules;
}

int ptp_arch_filter_traps(scmp_filter_ctx f)
{
	int rc;

	/* A vsyscall-page call makes no syscall stop: the kernel emulates it
	 * and consults seccomp. libseccomp cannot match the IP, so trap these
	 * three unconditionally: the stub never makes them, and under SYSEMU
	 * the app's own calls never reach seccomp. */
	static const int vsyscalls[] = { SCMP_SYS(time), SCMP_SYS(gettimeofday),
					 SCMP_SYS(getcpu) };
	for (size_t i = 0; i < sizeof(vsyscalls) / sizeof(vsyscalls[0]); i++) {
		rc = seccomp_rule_add(f, SCMP_ACT_TRAP, vsyscalls[i], 0);
		if (rc < 0)
			return rc;
	}
	return 0;
}

bool ptp_arch_vsyscall_fault(struct arch_regs *r, siginfo_t *info)
{
	uintptr_t call = (uintptr_t)info->si_call_addr;

	if (info->si_signo != SIGSYS || info->si_code != SYS_SECCOMP ||
	    call < VSYSCALL_START || call >= VSYSCALL_END)
		return false;
	/* The kernel already emulated the return (ip = caller, sp += 8):
	 * undo it and report what gVisor reports, an execute fault at the
	 * vsyscall entry. */
	r->gpr.rip = call;
	r->gpr.rsp -= 8;
	memset(info, 0, sizeof(*info));
	info->si_signo = SIGSEGV;
	info->si_code = SEGV_MAPERR;
	info->si_addr = (void *)call;
	return true;
}

__attribute__((no_sanitize("address", "undefined")))
int ptp_arch_cpuid_faulting_enable(void)
{
	if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) < 0)
		return -errno;
	return 0;
}

__attribute__((no_sanitize("address", "undefined")))
void ptp_arch_stub_child_setup(void)
{
	/* Without hardware support the app's cpuid simply runs natively. */
	(void)ptp_arch_cpuid_faulting_enable();
}

bool ptp_arch_cpuid_emulate(pid_t tid, struct arch_regs *r)
{
	unsigned int a, b, c, d;
	uint16_t insn = 0;
	struct iovec local = { &insn, sizeof(insn) };
	struct iovec remote = { (void *)(uintptr_t)r->gpr.rip, sizeof(insn) };

	/* Not PTRACE_PEEKTEXT: a systrap thread is not traced. */
	if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != (ssize_t)sizeof(insn) ||
	    insn != 0xa20f)
		return false;
	/* The feature table is the host's own CPUID. */
	__cpuid_count((unsigned int)r->gpr.rax, (unsigned int)r->gpr.rcx, a, b, c, d);
	r->gpr.rax = a;
	r->gpr.rbx = b;
	r->gpr.rcx = c;
	r->gpr.rdx = d;
	r->gpr.rip += 2;
	return true;
}

/* getpid in the i386 table (writev in the x86_64 one). */
#define IA32_NR_GETPID 20

__attribute__((no_sanitize("address", "undefined")))
int ptp_arch_ia32_syscall_probe(void)
{
	/* The kernel's struct sigaction: SIG_DFL needs no restorer. Raw, so
	 * that a sanitizer's SIGSEGV handler cannot report the probe's
	 * expected death. */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} dfl = { SIG_DFL, 0, NULL, 0 };
	long pid = syscall(SYS_getpid), r;

	prctl(PR_SET_DUMPABLE, 0); /* no core file when it dies */
	if (syscall(SYS_rt_sigaction, SIGSEGV, &dfl, NULL, sizeof(dfl.mask)) < 0)
		return -errno;
	/* Without IA32 emulation the 0x80 gate is absent: a #GP, SIGSEGV.
	 * Kernels before 4.17 return zeros in r8-r11. */
	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(IA32_NR_GETPID)
			 : "r8", "r9", "r10", "r11", "memory");
	return r == pid ? 0 : -ENOSYS;
}
