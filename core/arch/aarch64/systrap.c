/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arm64's side of the systrap backend: the signal frame as the stub's
 * handler copies it (stub/arch/aarch64/stub.S, stub/systrap-abi.h).
 *
 * The page's general registers are the first 35 words of struct sigcontext
 * (fault_address, x0-x30, sp, pc, pstate), then the ESR of the frame's
 * esr_context (0 when it has none). The FP record is the frame's
 * fpsimd_context whole (its header, fpsr, fpcr, v0-v31): other records (SVE,
 * SME, extra_context) are neither copied nor followed, and
 * ptp_arch_systrap_check refuses a CPU whose state they would carry.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/ucontext.h>
#include <asm/hwcap.h>
#include <asm/sigcontext.h>

#include "arch.h"
#include "systrap-abi.h"

/* The page's words, in sigcontext's order. */
enum { SC_FAULT, SC_X0, SC_SP = SC_X0 + 31, SC_PC, SC_PSTATE, SC_ESR, SC_WORDS };

/* The offsets stub.S uses (it cannot include C headers), held to the
 * kernel's layout here, where the compiler knows it. */
_Static_assert(offsetof(ucontext_t, uc_stack) == 16, "stub.S UC_STACK");
_Static_assert(offsetof(ucontext_t, uc_sigmask) == 40, "stub.S UC_SIGMASK");
_Static_assert(offsetof(ucontext_t, uc_mcontext) == 176, "stub.S UC_MCONTEXT");
_Static_assert(offsetof(mcontext_t, regs) == 8 * SC_X0 &&
		       offsetof(mcontext_t, sp) == 8 * SC_SP &&
		       offsetof(mcontext_t, pc) == 8 * SC_PC &&
		       offsetof(mcontext_t, pstate) == 8 * SC_PSTATE,
	       "the page's words are sigcontext's");
_Static_assert(offsetof(mcontext_t, __reserved) == 288, "stub.S UC_RESERVED");
_Static_assert(sizeof(mcontext_t) - offsetof(mcontext_t, __reserved) == 4096,
	       "stub.S RESERVED_SIZE");
_Static_assert(sizeof(struct fpsimd_context) == 528 &&
		       offsetof(struct fpsimd_context, vregs) == 16,
	       "stub.S FPSIMD_SIZE");
_Static_assert(sizeof(struct esr_context) == 16 && offsetof(struct esr_context, esr) == 8,
	       "stub.S ESR_SIZE");
_Static_assert(FPSIMD_MAGIC == 0x46508001 && ESR_MAGIC == 0x45535201, "stub.S magics");
_Static_assert(8 * SC_WORDS <= PTP_SYSTRAP_GREGS_SIZE, "the page holds the words");

int ptp_arch_systrap_check(const char **why)
{
	/* With SVE or SME in use, rt_sigreturn loads the vector state from
	 * their records, which the handler does not carry: the tracer's FP
	 * state would be ignored. */
	if ((getauxval(AT_HWCAP) & HWCAP_SVE) || (getauxval(AT_HWCAP2) & HWCAP2_SME)) {
		*why = "the CPU has SVE or SME, whose state the systrap handler does "
		       "not carry (it copies the FP/SIMD record only)";
		return -ENOSYS;
	}
	return 0;
}

void ptp_arch_uc_get(const void *gregs, uint64_t fs_base, uint64_t gs_base,
		     struct arch_regs *r)
{
	uint64_t sc[SC_WORDS];

	/* The TLS is the context's, not the registers' (ARCH_TLS_IN_GPR). */
	(void)fs_base;
	(void)gs_base;
	memcpy(sc, gregs, sizeof(sc));
	memcpy(r->gpr.regs, &sc[SC_X0], sizeof(r->gpr.regs));
	r->gpr.sp = sc[SC_SP];
	r->gpr.pc = sc[SC_PC];
	r->gpr.pstate = sc[SC_PSTATE];
}

void ptp_arch_uc_put(const struct arch_regs *r, void *gregs, uint64_t *fs_base,
		     uint64_t *gs_base)
{
	uint64_t sc[SC_WORDS] = {
		[SC_SP] = r->gpr.sp, [SC_PC] = r->gpr.pc, [SC_PSTATE] = r->gpr.pstate,
	};

	memcpy(&sc[SC_X0], r->gpr.regs, sizeof(r->gpr.regs));
	memcpy(gregs, sc, sizeof(sc));
	*fs_base = 0;
	*gs_base = 0;
}

/* What valid_user_regs() refuses for a 64-bit task (ptrace's write says
 * -EINVAL, rt_sigreturn kills): a mode other than EL0t, AArch32, or an
 * exception masked. */
#define PSR_REFUSED (0xfull | 0x10ull | 0x3c0ull)

int ptp_arch_uc_check(const struct arch_regs *r, uintptr_t top)
{
	(void)top; /* any pc, sp and TLS value is the app's own business */
	return r->gpr.pstate & PSR_REFUSED ? -EIO : 0;
}

/* ESR_ELx (arch/arm64/include/asm/esr.h): the exception class and, for a
 * data abort, write-not-read and cache maintenance. */
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_EC_IABT_LOW 0x20
#define ESR_EC_DABT_LOW 0x24
#define ESR_WNR (1ull << 6)
#define ESR_CM (1ull << 8)

unsigned int ptp_arch_uc_fault_access(const void *gregs)
{
	uint64_t esr;

	memcpy(&esr, (const char *)gregs + 8 * SC_ESR, sizeof(esr));
	if (ESR_EC(esr) == ESR_EC_IABT_LOW)
		return PTP_ACCESS_EXEC;
	if (ESR_EC(esr) != ESR_EC_DABT_LOW)
		return 0;
	/* DC CIVAC and friends set WnR as well: a read for the fault's sake
	 * (the kernel's is_write_abort). */
	if ((esr & ESR_WNR) && !(esr & ESR_CM))
		return PTP_ACCESS_READ | PTP_ACCESS_WRITE;
	return PTP_ACCESS_READ;
}

void ptp_arch_syscall_trapped(struct arch_regs *r, long nr)
{
	/* As a syscall stop shows it (ptp_arch_syscall_stop): x8 the number,
	 * x0 the first argument (seccomp's trap put it back). */
	r->gpr.regs[8] = (uint64_t)nr;
}

/* A frame's fpsimd_context (header, fpsr, fpcr, vregs) and ptrace's
 * user_fpsimd_state (vregs, fpsr, fpcr, padding): the same bytes in
 * another order. */
#define FRAME_FPSR 8
#define FRAME_FPCR 12
#define FRAME_VREGS 16

_Static_assert(sizeof(struct user_fpsimd_state) == sizeof(struct fpsimd_context),
	       "one FP buffer holds either layout");

void ptp_arch_fp_expand(void *fp, size_t len)
{
	struct user_fpsimd_state u = { 0 };
	const unsigned char *f = fp;

	if (len != sizeof(u))
		return;
	memcpy(&u.fpsr, f + FRAME_FPSR, sizeof(u.fpsr));
	memcpy(&u.fpcr, f + FRAME_FPCR, sizeof(u.fpcr));
	memcpy(u.vregs, f + FRAME_VREGS, sizeof(u.vregs));
	memcpy(fp, &u, sizeof(u));
}

void ptp_arch_fp_to_frame(void *frame, const void *fp, size_t len, const void *boot)
{
	struct user_fpsimd_state u;
	unsigned char *f = frame;

	if (len != sizeof(u))
		return;
	memcpy(&u, fp, sizeof(u));
	/* The header as the kernel wrote it (the handler keeps the frame's
	 * own anyway). */
	memcpy(f, boot, FRAME_FPSR);
	memcpy(f + FRAME_FPSR, &u.fpsr, sizeof(u.fpsr));
	memcpy(f + FRAME_FPCR, &u.fpcr, sizeof(u.fpcr));
	memcpy(f + FRAME_VREGS, u.vregs, sizeof(u.vregs));
}

/* The handler times its spin with the virtual counter, whose frequency
 * EL0 can read: no calibration. */
uint64_t ptp_arch_spin_ticks(uint64_t ns)
{
	uint64_t freq;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	return (uint64_t)((unsigned __int128)freq * ns / 1000000000u);
}
