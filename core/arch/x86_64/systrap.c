/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x86_64's side of the systrap backend: the signal frame's layout as the
 * stub's handler copies it (struct sigcontext, stub/systrap-abi.h), and the
 * XSAVE image of a frame, which holds only the components in use.
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <x86intrin.h>
#include <string.h>
#include <sys/auxv.h>

#include "arch.h"

/* struct sigcontext's first 23 words, in its order. */
enum {
	SC_R8, SC_R9, SC_R10, SC_R11, SC_R12, SC_R13, SC_R14, SC_R15,
	SC_RDI, SC_RSI, SC_RBP, SC_RBX, SC_RDX, SC_RAX, SC_RCX, SC_RSP,
	SC_RIP, SC_EFLAGS, SC_SELECTORS, SC_ERR, SC_TRAPNO, SC_OLDMASK, SC_CR2,
	SC_WORDS
};

#define HWCAP2_FSGSBASE (1u << 1)

int ptp_arch_systrap_check(const char **why)
{
	/* The handler moves fs/gs base with rd/wrfsbase; the arch_prctl way
	 * for CPUs or kernels without it is not built. */
	if (!(getauxval(AT_HWCAP2) & HWCAP2_FSGSBASE)) {
		*why = "the kernel does not enable FSGSBASE for user space, which "
		       "the systrap handler needs";
		return -ENOSYS;
	}
	return 0;
}

void ptp_arch_uc_get(const void *gregs, uint64_t fs_base, uint64_t gs_base,
		     struct arch_regs *r)
{
	uint64_t sc[SC_WORDS];
	struct user_regs_struct *g = &r->gpr;

	memcpy(sc, gregs, sizeof(sc));
	g->r8 = sc[SC_R8]; g->r9 = sc[SC_R9]; g->r10 = sc[SC_R10]; g->r11 = sc[SC_R11];
	g->r12 = sc[SC_R12]; g->r13 = sc[SC_R13]; g->r14 = sc[SC_R14]; g->r15 = sc[SC_R15];
	g->rdi = sc[SC_RDI]; g->rsi = sc[SC_RSI]; g->rbp = sc[SC_RBP]; g->rbx = sc[SC_RBX];
	g->rdx = sc[SC_RDX]; g->rax = sc[SC_RAX]; g->rcx = sc[SC_RCX]; g->rsp = sc[SC_RSP];
	g->rip = sc[SC_RIP];
	g->eflags = sc[SC_EFLAGS];
	/* The selectors stay the context's: rt_sigreturn restores only cs
	 * and ss, and forces their privilege level. */
	g->orig_rax = (uint64_t)-1;
	g->fs_base = fs_base;
	g->gs_base = gs_base;
}

void ptp_arch_uc_put(const struct arch_regs *r, void *gregs, uint64_t *fs_base,
		     uint64_t *gs_base)
{
	const struct user_regs_struct *g = &r->gpr;
	uint64_t sc[SC_WORDS] = {
		[SC_R8] = g->r8, [SC_R9] = g->r9, [SC_R10] = g->r10, [SC_R11] = g->r11,
		[SC_R12] = g->r12, [SC_R13] = g->r13, [SC_R14] = g->r14, [SC_R15] = g->r15,
		[SC_RDI] = g->rdi, [SC_RSI] = g->rsi, [SC_RBP] = g->rbp, [SC_RBX] = g->rbx,
		[SC_RDX] = g->rdx, [SC_RAX] = g->rax, [SC_RCX] = g->rcx, [SC_RSP] = g->rsp,
		[SC_RIP] = g->rip, [SC_EFLAGS] = g->eflags,
		[SC_SELECTORS] = (g->cs & 0xffff) | (g->gs & 0xffff) << 16 |
				 (g->fs & 0xffff) << 32 | (g->ss & 0xffff) << 48,
	};

	memcpy(gregs, sc, sizeof(sc));
	*fs_base = g->fs_base;
	*gs_base = g->gs_base;
}

int ptp_arch_uc_check(const struct arch_regs *r, uintptr_t top)
{
	/* What ptrace's register write refuses (>= TASK_SIZE_MAX, which the
	 * stub's top approaches from below); wrfsbase would fault on it. */
	if (r->gpr.fs_base >= top || r->gpr.gs_base >= top)
		return -EIO;
	return 0;
}

/* The page-fault error code's bits (arch/x86/include/asm/trap_pf.h); it is
 * one only where trapno is #PF: a #GP (a non-canonical address) has an
 * error code of another meaning, and no access. */
#define X86_TRAP_PF 14
#define X86_PF_WRITE 0x2
#define X86_PF_INSTR 0x10

unsigned int ptp_arch_uc_fault_access(const void *gregs)
{
	uint64_t sc[SC_WORDS];

	memcpy(sc, gregs, sizeof(sc));
	if (sc[SC_TRAPNO] != X86_TRAP_PF)
		return 0;
	if (sc[SC_ERR] & X86_PF_INSTR)
		return PTP_ACCESS_EXEC;
	if (sc[SC_ERR] & X86_PF_WRITE)
		return PTP_ACCESS_READ | PTP_ACCESS_WRITE;
	return PTP_ACCESS_READ;
}

void ptp_arch_syscall_trapped(struct arch_regs *r, long nr)
{
	/* As a syscall stop shows it (ptp_arch_syscall_stop). */
	r->gpr.rax = (uint64_t)nr;
	r->gpr.orig_rax = (uint64_t)-1;
}

/* The legacy area (FXSAVE) and the XSAVE header. */
#define FX_FCW 0
#define FX_ST 32
#define FX_XMM 160
#define FX_XMM_END 416
#define XSAVE_BV 512
#define FCW_INIT 0x37f

/* Where each user XSAVE component lies in the standard format: asked of
 * CPUID once (every CPUID is a VM exit under a hypervisor). */
static struct {
	uint32_t off, size;
} components[64];
static pthread_once_t components_once = PTHREAD_ONCE_INIT;

static void components_read(void)
{
	for (unsigned int i = 2; i < 63; i++) {
		unsigned int size, off, ecx, edx;

		__cpuid_count(0xd, i, size, off, ecx, edx);
		/* Supervisor components (ecx bit 0) are not in this image. */
		if (!(ecx & 1)) {
			components[i].off = off;
			components[i].size = size;
		}
	}
}

void ptp_arch_fp_expand(void *fp, size_t len)
{
	unsigned char *b = fp;
	uint64_t bv;
	uint16_t fcw = FCW_INIT;

	pthread_once(&components_once, components_read);
	if (len <= XSAVE_BV + sizeof(bv))
		return;
	memcpy(&bv, b + XSAVE_BV, sizeof(bv));
	if (!(bv & 1)) {
		/* x87 in its init state: FCW 0x37f, everything else 0. */
		memset(b, 0, 24);
		memcpy(b + FX_FCW, &fcw, sizeof(fcw));
		memset(b + FX_ST, 0, FX_XMM - FX_ST);
	}
	if (!(bv & 2))
		memset(b + FX_XMM, 0, FX_XMM_END - FX_XMM);
	for (unsigned int i = 2; i < 63; i++) {
		uint32_t off = components[i].off, size = components[i].size;

		if ((bv & (1ull << i)) || size == 0 || (size_t)off + size > len)
			continue;
		memset(b + off, 0, size);
	}
}

#define FX_SW_RESERVED 464
#define FX_SW_BYTES 48

void ptp_arch_fp_to_frame(void *frame, const void *fp, size_t len, const void *boot)
{
	memcpy(frame, fp, len);
	if (len >= FX_SW_RESERVED + FX_SW_BYTES)
		memcpy((char *)frame + FX_SW_RESERVED,
		       (const char *)boot + FX_SW_RESERVED, FX_SW_BYTES);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static pthread_once_t tsc_once = PTHREAD_ONCE_INIT;
static uint64_t tsc_per_ms;

/* The handler times its spin with rdtsc: ticks per ms, measured once over
 * 2 ms (a busy machine makes it an estimate, and the bound a rough one). */
static void tsc_calibrate(void)
{
	uint64_t t0 = mono_ns(), c0 = __rdtsc(), t;

	do
		t = mono_ns();
	while (t - t0 < 2000000);
	tsc_per_ms = (__rdtsc() - c0) * 1000000 / (t - t0);
}

uint64_t ptp_arch_spin_ticks(uint64_t ns)
{
	pthread_once(&tsc_once, tsc_calibrate);
	return tsc_per_ms * ns / 1000000;
}
