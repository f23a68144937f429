/* SPDX-License-Identifier: Apache-2.0 */
/* arm64: register transfer, views of struct user_pt_regs, the x7 kick. */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "arch.h"

atomic_ulong ptp_ptrace_calls;
#include "regset.h"

/*
 * Task sizes, highest first: 52-bit VA (only honoured for hints above 48
 * bits), the usual 48-bit (4K pages, 4 levels), 47-bit (16K pages; also
 * where a 48-bit kernel lands if its stack sits at the very top with ASLR
 * off), 39-bit (4K pages, 3 levels).
 */
static const uintptr_t stub_tops[] = { 1ul << 52, 1ul << 48, 1ul << 47, 1ul << 39 };

const uintptr_t *ptp_arch_stub_tops(size_t *count)
{
	*count = sizeof(stub_tops) / sizeof(stub_tops[0]);
	return stub_tops;
}

/* V0-V31, FPSR and FPCR. With SVE the upper bits of the Z registers are
 * not in it (writing it zeroes them): the suite runs with SVE off. */
size_t ptp_arch_fp_size(void)
{
	return sizeof(struct user_fpsimd_state);
}

int ptp_arch_get_fp(pid_t tid, void *buf, size_t len)
{
	return regset(PTRACE_GETREGSET, tid, NT_PRFPREG, buf, len);
}

int ptp_arch_set_fp(pid_t tid, const void *buf, size_t len)
{
	return regset(PTRACE_SETREGSET, tid, NT_PRFPREG, (void *)buf, len);
}

/* tpidr_el0 only: 8 bytes leave tpidr2_el0 (SME) untouched. */
int ptp_arch_get_tls(pid_t tid, uint64_t *tls)
{
	return regset(PTRACE_GETREGSET, tid, NT_ARM_TLS, tls, sizeof(*tls));
}

int ptp_arch_set_tls(pid_t tid, uint64_t tls)
{
	return regset(PTRACE_SETREGSET, tid, NT_ARM_TLS, &tls, sizeof(tls));
}

/* Every value the kernel reports, it accepts back. */
void ptp_arch_gprs_settable(struct arch_regs *r)
{
	(void)r;
}

/* NT_PRSTATUS, whose layout cannot change under a running stub here: the
 * AArch32 view needs a 32-bit exec, which SYSEMU swallows. */
int ptp_arch_get_gprs(pid_t tid, struct arch_regs *r)
{
	struct iovec iov = { .iov_base = &r->gpr, .iov_len = sizeof(r->gpr) };

	if (ptrace(PTRACE_GETREGSET, tid, (void *)(uintptr_t)NT_PRSTATUS, &iov) < 0)
		return -errno;
	/* The kernel picks NT_PRSTATUS's layout by the thread's current mode
	 * (the fuzzer's compat_mode seed made an x86_64 app show the i386 one,
	 * which is why x86_64 does not use it): a set of another size can be
	 * neither read nor written as ours. */
	if (iov.iov_len != sizeof(r->gpr))
		return -ENOEXEC;
	ptp_arch_gprs_settable(r);
	return 0;
}

int ptp_arch_set_gprs(pid_t tid, const struct arch_regs *r)
{
	return regset(PTRACE_SETREGSET, tid, NT_PRSTATUS, (void *)&r->gpr,
		      sizeof(r->gpr));
}

uint64_t ptp_arch_ip(const struct arch_regs *r) { return r->gpr.pc; }
void ptp_arch_set_ip(struct arch_regs *r, uint64_t ip) { r->gpr.pc = ip; }
uint64_t ptp_arch_sp(const struct arch_regs *r) { return r->gpr.sp; }
void ptp_arch_set_sp(struct arch_regs *r, uint64_t sp) { r->gpr.sp = sp; }
long ptp_arch_syscall_nr(const struct arch_regs *r) { return (long)r->gpr.regs[8]; }
void ptp_arch_set_syscall_nr(struct arch_regs *r, long nr) { r->gpr.regs[8] = (uint64_t)nr; }
long ptp_arch_result(const struct arch_regs *r) { return (long)r->gpr.regs[0]; }
void ptp_arch_set_result(struct arch_regs *r, long v) { r->gpr.regs[0] = (uint64_t)v; }

/* The TLS is not part of NT_PRSTATUS (ARCH_TLS_IN_GPR is 0): the core
 * keeps it beside the registers and never asks these. */
uint64_t ptp_arch_tls_of(const struct arch_regs *r)
{
	(void)r;
	return 0;
}

void ptp_arch_set_tls_of(struct arch_regs *r, uint64_t tls)
{
	(void)r;
	(void)tls;
}

/* EL0 cannot set PSTATE.SS, and the kernel clears it in registers a tracer
 * writes: an arm64 app never asks for single-stepping. */
bool ptp_arch_single_step(const struct arch_regs *r)
{
	(void)r;
	return false;
}

uint64_t ptp_arch_arg(const struct arch_regs *r, unsigned int i)
{
	return r->gpr.regs[i < 6 ? i : 5];
}

void ptp_arch_set_arg(struct arch_regs *r, unsigned int i, uint64_t v)
{
	r->gpr.regs[i < 6 ? i : 5] = v;
}

/* GPR index order: x0-x30, then sp; the payloads' register-check pattern
 * follows it. */
static const char *const gpr_names[ARCH_GPR_COUNT] = {
	"x0",  "x1",  "x2",  "x3",  "x4",  "x5",  "x6",  "x7",
	"x8",  "x9",  "x10", "x11", "x12", "x13", "x14", "x15",
	"x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23",
	"x24", "x25", "x26", "x27", "x28", "x29", "x30", "sp",
};

uint64_t ptp_arch_gpr(const struct arch_regs *r, unsigned int i)
{
	return i < 31 ? r->gpr.regs[i] : r->gpr.sp;
}

void ptp_arch_set_gpr(struct arch_regs *r, unsigned int i, uint64_t v)
{
	if (i < 31)
		r->gpr.regs[i] = v;
	else
		r->gpr.sp = v;
}

const char *ptp_arch_gpr_name(unsigned int i)
{
	return i < ARCH_GPR_COUNT ? gpr_names[i] : NULL;
}

bool ptp_arch_gpr_syscall_scratch(unsigned int i)
{
	/* x8: the number. Not x7: the kick in ptp_arch_syscall_stop delivers the
	 * app's real x7, and x0 is the app's own at a SYSEMU stop. */
	return i == 8;
}

void ptp_arch_fp_vreg(const void *fp, unsigned int i, uint8_t out[16])
{
	memcpy(out, (const char *)fp + offsetof(struct user_fpsimd_state, vregs) + 16 * i,
	       16);
}

void ptp_arch_fp_set_vreg(void *fp, size_t len, unsigned int i, const uint8_t in[16])
{
	(void)len; /* no XSAVE-like header: the registers are always live */
	memcpy((char *)fp + offsetof(struct user_fpsimd_state, vregs) + 16 * i, in, 16);
}

#define GPR(i) offsetof(struct arch_regs, gpr.regs[i])

/* An AArch64 task reaches AArch32 only through an exec, which SYSEMU
 * swallows: one ABI. */
static const struct ptp_arch_syscall_abi syscall_abis[] = {
	{ .audit_arch = AUDIT_ARCH_AARCH64, .abi = PTP_ABI_NATIVE,
	  .arg_off = { GPR(0), GPR(1), GPR(2), GPR(3), GPR(4), GPR(5) },
	  .arg_bits = 64 },
};

const struct ptp_arch_syscall_abi *ptp_arch_syscall_abis(size_t *count)
{
	*count = sizeof(syscall_abis) / sizeof(syscall_abis[0]);
	return syscall_abis;
}

static int wait_stop(pid_t tid, int *status)
{
	for (;;) {
		pid_t w = waitpid(tid, status, __WALL | __WNOTHREAD);

		if (w == tid)
			return WIFEXITED(*status) || WIFSIGNALED(*status) ? -ESRCH : 0;
		if (w < 0 && errno == EINTR)
			continue;
		return w < 0 && errno != ECHILD ? -errno : -ESRCH;
	}
}

/*
 * At a syscall stop the kernel uses x7 as its entry/exit flag: it reads as
 * 0/1 here and a write to it is discarded (gVisor issue #5238). So, as
 * gVisor does, kick the thread with a SIGCHLD and resume it: it leaves the
 * (emulated) syscall and stops for the signal, with its real x7, and from
 * that signal stop the next switch's SETREGSET is honoured in full and
 * resuming with signal 0 suppresses the SIGCHLD.
 *
 * Before the kick, NT_ARM_SYSTEM_CALL = -1: otherwise do_signal, on the way
 * out of the syscall, would treat the app's own x0 (its first argument: the
 * kernel does not touch x0 at a SYSEMU stop) as a syscall result and, for
 * -512..-516 (ERESTART*), rewind the PC onto the svc (gVisor misses this).
 * The same marker keeps the result the next switch writes from being
 * restarted.
 *
 * The interrupt forwarder also sends SIGCHLD: one that arrives around the
 * kick merges with it (a standard signal is pending at most once) and is
 * consumed here. That is acceptable: the switch returns to its caller
 * anyway, which is all an interrupt asks for.
 */
int ptp_arch_syscall_stop(pid_t tid, struct arch_regs *r)
{
	struct user_pt_regs real;
	uint64_t nr = r->gpr.regs[8];
	int no_syscall = -1, status, rc;

	rc = regset(PTRACE_SETREGSET, tid, NT_ARM_SYSTEM_CALL, &no_syscall,
		    sizeof(no_syscall));
	if (rc < 0)
		return rc;
	/* The traced thread's tgid is not at hand: tkill. A tid cannot be
	 * reused while we trace it. */
	if (syscall(SYS_tkill, tid, SIGCHLD) < 0)
		return -errno;
	for (;;) {
		if (ptrace(PTRACE_SYSEMU, tid, 0, 0) < 0)
			return -errno;
		rc = wait_stop(tid, &status);
		if (rc < 0)
			return rc;
		if (status >> 16 == PTRACE_EVENT_STOP)
			continue; /* a group-stop: resume */
		/* Whoever sent it (us, our forwarder, a merged foreign
		 * SIGCHLD): this is the stop we want. */
		if (WSTOPSIG(status) == SIGCHLD)
			break;
		/* The app ran on to its next syscall: the kick was lost. */
		if (WSTOPSIG(status) == (SIGTRAP | 0x80))
			return -EPROTO;
		/* Another signal dequeued before ours (a lower number, or a
		 * synchronous one): dropped, as the switch drops signals
		 * from others. */
	}
	rc = regset(PTRACE_GETREGSET, tid, NT_PRSTATUS, &real, sizeof(real));
	if (rc < 0)
		return rc;
	r->gpr = real;
	/* The number stays what the app asked for. */
	r->gpr.regs[8] = nr;
	return 0;
}

void ptp_arch_prepare_syscall(struct arch_regs *r, uintptr_t syscall_ip, long nr,
			  const uint64_t args[6], bool restart_stub, pid_t ppid)
{
	r->gpr.pc = syscall_ip;
	r->gpr.regs[8] = (uint64_t)nr;
	for (unsigned int i = 0; i < 6; i++)
		r->gpr.regs[i] = args[i];
	/* stub.S: x19 = expected parent, x20 != 0: a clone child restarts. */
	r->gpr.regs[19] = (uint64_t)ppid;
	r->gpr.regs[20] = restart_stub;
}

__attribute__((no_sanitize("address", "undefined")))
void ptp_arch_enter_stub(uintptr_t entry, pid_t ppid)
{
	/* Inputs are never allocated to clobbered registers. */
	__asm__ volatile("mov x19, %0\n\t"
			 "mov x20, xzr\n\t"
			 "br %1\n\t"
			 :
			 : "r"((uint64_t)ppid), "r"(entry)
			 : "x19", "x20", "memory");
	__builtin_unreachable();
}

__attribute__((no_sanitize("address", "undefined")))
void *ptp_arch_thread_pointer(void)
{
	void *tp;

	__asm__("mrs %0, tpidr_el0" : "=r"(tp));
	return tp;
}

#define PSTATE_NZCV 0xf0000000ull
/* Speculative Store Bypass Safe: the kernel's choice for the task
 * (spectre-v4 mitigation), not the app's or the tracer's. */
#define PSTATE_SSBS (1ull << 12)

/* execve's start_thread: every register 0, PSTATE EL0t with NZCV 0 (SSBS
 * as the kernel set it), FPSR and FPCR 0; the TLS is the context's own
 * field, 0 from ptp_ctx_new. */
void ptp_arch_ctx_init(struct arch_regs *r, void *fp, size_t len)
{
	uint64_t pstate = r->gpr.pstate & PSTATE_SSBS;

	memset(&r->gpr, 0, sizeof(r->gpr));
	r->gpr.pstate = pstate;
	memset(fp, 0, len);
}

uint64_t ptp_arch_flags(const struct arch_regs *r) { return r->gpr.pstate; }
uint64_t ptp_arch_flags_writable(void) { return PSTATE_NZCV; }

void ptp_arch_set_flags(struct arch_regs *r, uint64_t v)
{
	r->gpr.pstate = (r->gpr.pstate & ~PSTATE_NZCV) | (v & PSTATE_NZCV);
}

/* The kernel takes any user_fpsimd_state of the right size (FPCR's
 * reserved bits are ignored by the hardware). */
int ptp_arch_fp_check(const void *fp, size_t len, const void *ref)
{
	(void)fp;
	(void)ref;
	return len == sizeof(struct user_fpsimd_state) ? 0 : -EINVAL;
}
