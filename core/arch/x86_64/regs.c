/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64: register transfer and views of struct user_regs_struct. */
#define _GNU_SOURCE
#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "arch.h"

atomic_ulong ptp_ptrace_calls;
#include "regset.h"

/* 47-bit and 57-bit (LA57) task sizes. */
static const uintptr_t stub_tops[] = { 0xfffffffffff000ul, 0x7ffffffff000ul };

const uintptr_t *ptp_arch_stub_tops(size_t *count)
{
	*count = sizeof(stub_tops) / sizeof(stub_tops[0]);
	return stub_tops;
}

/*
 * PTRACE_GETREGS/SETREGS, not NT_PRSTATUS: the regset's layout follows the
 * tracee's current mode, and an app can enter 32-bit mode on its own (a far
 * return to CS 0x23, or sysenter on Intel). NT_PRSTATUS is then the 68-byte
 * i386 struct, which read as user_regs_struct garbles every register and,
 * written, scatters ours over the app's. GETREGS is always the x86_64 view.
 * gVisor uses NT_PRSTATUS here.
 */
int ptp_arch_get_gprs(pid_t tid, struct arch_regs *r)
{
	if (ptrace(PTRACE_GETREGS, tid, 0, &r->gpr) < 0)
		return -errno;
	ptp_arch_gprs_settable(r);
	return 0;
}

int ptp_arch_set_gprs(pid_t tid, const struct arch_regs *r)
{
	return ptrace(PTRACE_SETREGS, tid, 0, &r->gpr) < 0 ? -errno : 0;
}

/* CPUID leaf 0xD, subleaf 0, EBX: XSAVE area size for the features enabled
 * in XCR0, which is what NT_X86_XSTATE transfers. Without XSAVE the FXSAVE
 * area (512 bytes, NT_PRFPREG) is all there is. */
size_t ptp_arch_fp_size(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_XSAVE))
		return 512;
	__cpuid_count(0xd, 0, a, b, c, d);
	return b < 512 ? 512 : b;
}

static int fp_type(size_t len)
{
	return len > 512 ? NT_X86_XSTATE : NT_PRFPREG;
}

int ptp_arch_get_fp(pid_t tid, void *buf, size_t len)
{
	return regset(PTRACE_GETREGSET, tid, fp_type(len), buf, len);
}

int ptp_arch_set_fp(pid_t tid, const void *buf, size_t len)
{
	return regset(PTRACE_SETREGSET, tid, fp_type(len), (void *)buf, len);
}

int ptp_arch_get_tls(pid_t tid, uint64_t *tls)
{
	(void)tid;
	(void)tls;
	return 0;
}

int ptp_arch_set_tls(pid_t tid, uint64_t tls)
{
	(void)tid;
	(void)tls;
	return 0;
}

uint64_t ptp_arch_ip(const struct arch_regs *r) { return r->gpr.rip; }
void ptp_arch_set_ip(struct arch_regs *r, uint64_t ip) { r->gpr.rip = ip; }
uint64_t ptp_arch_sp(const struct arch_regs *r) { return r->gpr.rsp; }
void ptp_arch_set_sp(struct arch_regs *r, uint64_t sp) { r->gpr.rsp = sp; }
long ptp_arch_syscall_nr(const struct arch_regs *r) { return (long)r->gpr.rax; }
void ptp_arch_set_syscall_nr(struct arch_regs *r, long nr) { r->gpr.rax = (uint64_t)nr; }
long ptp_arch_result(const struct arch_regs *r) { return (long)r->gpr.rax; }
void ptp_arch_set_result(struct arch_regs *r, long v) { r->gpr.rax = (uint64_t)v; }
uint64_t ptp_arch_tls_of(const struct arch_regs *r) { return r->gpr.fs_base; }
void ptp_arch_set_tls_of(struct arch_regs *r, uint64_t tls) { r->gpr.fs_base = tls; }

#define X86_EFLAGS_TF 0x100u

bool ptp_arch_single_step(const struct arch_regs *r)
{
	return r->gpr.eflags & X86_EFLAGS_TF;
}

static unsigned long long *arg_slot(struct arch_regs *r, unsigned int i)
{
	switch (i) {
	case 0: return &r->gpr.rdi;
	case 1: return &r->gpr.rsi;
	case 2: return &r->gpr.rdx;
	case 3: return &r->gpr.r10;
	case 4: return &r->gpr.r8;
	default: return &r->gpr.r9;
	}
}

uint64_t ptp_arch_arg(const struct arch_regs *r, unsigned int i)
{
	return *arg_slot((struct arch_regs *)r, i);
}

void ptp_arch_set_arg(struct arch_regs *r, unsigned int i, uint64_t v)
{
	*arg_slot(r, i) = v;
}

/*
 * An app may load ds/es/fs/gs with a null selector of RPL 1 or 2 (the
 * values 1 and 2) or with a user descriptor at RPL 0-2 (0x28: __USER_DS at
 * RPL 0): the CPU accepts both, but ptrace's putreg refuses any selector
 * but 0 with RPL != 3 (-EIO), so the next switch would fail for good.
 * Found by the fuzzer (fuzz/, seed null_selector). In 64-bit mode every null selector acts alike, and a
 * user data descriptor's RPL changes nothing the app can use.
 */
static uint64_t settable_selector(uint64_t sel)
{
	if (sel == 0 || (sel & 3) == 3)
		return sel;
	return sel < 4 ? 0 : sel | 3;
}

void ptp_arch_gprs_settable(struct arch_regs *r)
{
	r->gpr.ds = settable_selector(r->gpr.ds);
	r->gpr.es = settable_selector(r->gpr.es);
	r->gpr.fs = settable_selector(r->gpr.fs);
	r->gpr.gs = settable_selector(r->gpr.gs);
}

/* GPR index order: the payloads' register-check pattern follows it. */
static const struct {
	const char *name;
	size_t off;
} gprs[ARCH_GPR_COUNT] = {
#define GPR(n) { #n, offsetof(struct user_regs_struct, n) }
	GPR(rax), GPR(rbx), GPR(rcx), GPR(rdx), GPR(rsi), GPR(rdi),
	GPR(rbp), GPR(rsp), GPR(r8), GPR(r9), GPR(r10), GPR(r11),
	GPR(r12), GPR(r13), GPR(r14), GPR(r15),
#undef GPR
};

uint64_t ptp_arch_gpr(const struct arch_regs *r, unsigned int i)
{
	uint64_t v;

	memcpy(&v, (const char *)&r->gpr + gprs[i].off, sizeof(v));
	return v;
}

void ptp_arch_set_gpr(struct arch_regs *r, unsigned int i, uint64_t v)
{
	memcpy((char *)&r->gpr + gprs[i].off, &v, sizeof(v));
}

const char *ptp_arch_gpr_name(unsigned int i)
{
	return i < ARCH_GPR_COUNT ? gprs[i].name : NULL;
}

bool ptp_arch_gpr_syscall_scratch(unsigned int i)
{
	/* rax: the number; rcx and r11: the return address and flags. */
	return i == 0 || i == 2 || i == 11;
}

/* xmm0-15 sit at byte 160 of the FXSAVE image, which starts both
 * NT_PRFPREG and NT_X86_XSTATE; the XSAVE header's xstate_bv follows it at
 * byte 512. */
#define FXSAVE_XMM_OFFSET 160
#define XSAVE_HEADER_OFFSET 512
#define XFEATURE_MASK_FPSSE 0x3ull

void ptp_arch_fp_vreg(const void *fp, unsigned int i, uint8_t out[16])
{
	memcpy(out, (const char *)fp + FXSAVE_XMM_OFFSET + 16 * i, 16);
}

void ptp_arch_fp_set_vreg(void *fp, size_t len, unsigned int i, const uint8_t in[16])
{
	uint64_t bv;

	memcpy((char *)fp + FXSAVE_XMM_OFFSET + 16 * i, in, 16);
	if (len > XSAVE_HEADER_OFFSET) {
		memcpy(&bv, (char *)fp + XSAVE_HEADER_OFFSET, sizeof(bv));
		bv |= XFEATURE_MASK_FPSSE;
		memcpy((char *)fp + XSAVE_HEADER_OFFSET, &bv, sizeof(bv));
	}
}

#define GPR(name) offsetof(struct arch_regs, gpr.name)
#define NATIVE_ARGS { GPR(rdi), GPR(rsi), GPR(rdx), GPR(r10), GPR(r8), GPR(r9) }

static const struct ptp_arch_syscall_abi syscall_abis[] = {
	/* int 0x80 and sysenter: the i386 convention; the compat entry reads
	 * 32 bits. */
	{ .audit_arch = AUDIT_ARCH_I386, .abi = PTP_ABI_IA32,
	  .arg_off = { GPR(rbx), GPR(rcx), GPR(rdx), GPR(rsi), GPR(rdi), GPR(rbp) },
	  .arg_bits = 32 },
	{ .audit_arch = AUDIT_ARCH_X86_64, .abi = PTP_ABI_X32,
	  .nr_mask = ARCH_X32_SYSCALL_BIT | 0x80000000u, .nr_match = ARCH_X32_SYSCALL_BIT,
	  .arg_off = NATIVE_ARGS, .arg_bits = 64 },
	{ .audit_arch = AUDIT_ARCH_X86_64, .abi = PTP_ABI_NATIVE,
	  .arg_off = NATIVE_ARGS, .arg_bits = 64 },
};

const struct ptp_arch_syscall_abi *ptp_arch_syscall_abis(size_t *count)
{
	*count = sizeof(syscall_abis) / sizeof(syscall_abis[0]);
	return syscall_abis;
}

int ptp_arch_syscall_stop(pid_t tid, struct arch_regs *r)
{
	(void)tid;
	/* The kernel leaves -ENOSYS in rax; the app's value is in orig_rax.
	 * orig_rax = -1 travels inside NT_PRSTATUS at no extra cost. */
	r->gpr.rax = r->gpr.orig_rax;
	r->gpr.orig_rax = (unsigned long long)-1;
	return 0;
}

void ptp_arch_prepare_syscall(struct arch_regs *r, uintptr_t syscall_ip, long nr,
			  const uint64_t args[6], bool restart_stub, pid_t ppid)
{
	r->gpr.rip = syscall_ip;
	r->gpr.rax = (uint64_t)nr;
	r->gpr.orig_rax = (unsigned long long)-1;
	for (unsigned int i = 0; i < 6; i++)
		ptp_arch_set_arg(r, i, args[i]);
	/* stub.S: r12 = expected parent, r13 != 0: a clone child restarts. */
	r->gpr.r12 = (uint64_t)ppid;
	r->gpr.r13 = restart_stub;
	r->gpr.eflags &= ~(unsigned long long)X86_EFLAGS_TF;
}

__attribute__((no_sanitize("address", "undefined")))
void ptp_arch_enter_stub(uintptr_t entry, pid_t ppid)
{
	__asm__ volatile("mov %0, %%r12\n\t"
			 "xor %%r13d, %%r13d\n\t"
			 "jmp *%1\n\t"
			 :
			 : "r"((uint64_t)ppid), "r"(entry)
			 : "r12", "r13", "memory");
	__builtin_unreachable();
}

__attribute__((no_sanitize("address", "undefined")))
void *ptp_arch_thread_pointer(void)
{
	void *tp;

	__asm__("mov %%fs:0, %0" : "=r"(tp));
	return tp;
}

/* The legacy (FXSAVE) area's fields and the XSAVE header, as the kernel's
 * NT_X86_XSTATE and NT_PRFPREG lay them out (struct fxregs_state, struct
 * xstate_header). */
#define FX_FCW 0
#define FX_MXCSR 24
#define FX_MXCSR_MASK 28
#define FX_SW_RESERVED 464   /* the kernel's struct _fpx_sw_bytes */
#define FX_SW_XFEATURES (FX_SW_RESERVED + 8)
#define XSAVE_HEADER_BYTES 64
#define XSAVE_XCOMP_BV (XSAVE_HEADER_OFFSET + 8)
#define XFEATURE_SSE 1
#define XFEATURE_PKRU 9
#define FCW_INIT 0x37f
#define MXCSR_INIT 0x1f80
/* What the kernel assumes when the CPU reports no mask. */
#define MXCSR_MASK_DEFAULT 0xffbf
#define X86_EFLAGS_IF 0x200u
#define X86_EFLAGS_FIXED 0x2u
/* The bits ptrace lets a tracer set (arch/x86/kernel/ptrace.c FLAG_MASK):
 * CF PF AF ZF SF TF DF OF RF AC. */
#define X86_EFLAGS_PTRACE_WRITABLE 0x50dd5u
/* arch_prctl: the dynamic features (AMX) this process may use. */
#define ARCH_GET_XCOMP_PERM 0x1022

static uint64_t get_u64_at(const void *buf, size_t off)
{
	uint64_t v;

	memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

static uint32_t get_u32_at(const void *buf, size_t off)
{
	uint32_t v;

	memcpy(&v, (const char *)buf + off, sizeof(v));
	return v;
}

static void put_at(void *buf, size_t off, const void *v, size_t n)
{
	memcpy((char *)buf + off, v, n);
}

/* The offset of XSAVE component i in the standard (uncompacted) format. */
static size_t xfeature_offset(unsigned int i)
{
	unsigned int a, b, c, d;

	__cpuid_count(0xd, i, a, b, c, d);
	return b;
}

/*
 * execve's start_thread: every GPR 0, eflags IF (and the fixed bit 1),
 * data selectors and fs/gs bases 0; cs and ss stay the kernel's user
 * selectors. FP: FCW 0x37f, MXCSR 0x1f80, every register 0 and every
 * XSAVE component in its init state (xstate_bv 0), but PKRU, which the
 * kernel gives a new process its default value (init_pkru_value), not
 * the init state's 0: it stays the master's, which is the tracer's at
 * ptp_open. The MXCSR mask and the kernel's software bytes stay, as the
 * kernel reported them.
 *
 * Except that SSE is marked in use (with every xmm register 0, its init
 * value): the kernel's NT_X86_XSTATE setter copies MXCSR only when x87,
 * SSE or AVX is (copy_uabi_to_xstate), and XRSTOR's standard form loads
 * MXCSR from memory whatever xstate_bv says, so with xstate_bv 0 a kernel
 * that restores with XRSTOR (no XSAVES: qemu's TCG) gave the app the MXCSR
 * it had before the reset (state/reset_restores_execve_state, seen on
 * Debian's 6.1 under TCG); XRSTORS (compacted) inits it instead.
 */
void ptp_arch_ctx_init(struct arch_regs *r, void *fp, size_t len)
{
	struct user_regs_struct g = { 0 };
	unsigned char keep_sw[512 - FX_SW_RESERVED];
	uint32_t mask = get_u32_at(fp, FX_MXCSR_MASK), mxcsr = MXCSR_INIT;
	uint16_t fcw = FCW_INIT;
	uint64_t bv = 1ull << XFEATURE_SSE, pkru_bv = 1ull << XFEATURE_PKRU;
	uint32_t pkru = 0;
	size_t pkru_off = 0;

	g.cs = r->gpr.cs;
	g.ss = r->gpr.ss;
	g.eflags = X86_EFLAGS_IF | X86_EFLAGS_FIXED;
	g.orig_rax = (unsigned long long)-1;
	r->gpr = g;

	memcpy(keep_sw, (char *)fp + FX_SW_RESERVED, sizeof(keep_sw));
	if (len > XSAVE_HEADER_OFFSET && (get_u64_at(fp, XSAVE_HEADER_OFFSET) & pkru_bv)) {
		pkru_off = xfeature_offset(XFEATURE_PKRU);
		if (pkru_off + sizeof(pkru) <= len)
			memcpy(&pkru, (char *)fp + pkru_off, sizeof(pkru));
		else
			pkru_off = 0;
	}
	memset(fp, 0, len);
	put_at(fp, FX_FCW, &fcw, sizeof(fcw));
	put_at(fp, FX_MXCSR, &mxcsr, sizeof(mxcsr));
	put_at(fp, FX_MXCSR_MASK, &mask, sizeof(mask));
	put_at(fp, FX_SW_RESERVED, keep_sw, sizeof(keep_sw));
	if (pkru_off) {
		bv |= pkru_bv;
		put_at(fp, pkru_off, &pkru, sizeof(pkru));
	}
	if (len > XSAVE_HEADER_OFFSET)
		put_at(fp, XSAVE_HEADER_OFFSET, &bv, sizeof(bv));
}

uint64_t ptp_arch_flags(const struct arch_regs *r) { return r->gpr.eflags; }
uint64_t ptp_arch_flags_writable(void) { return X86_EFLAGS_PTRACE_WRITABLE; }

void ptp_arch_set_flags(struct arch_regs *r, uint64_t v)
{
	r->gpr.eflags = (r->gpr.eflags & ~(uint64_t)X86_EFLAGS_PTRACE_WRITABLE) |
			(v & X86_EFLAGS_PTRACE_WRITABLE);
}

/*
 * What the kernel's SETREGSET would refuse (-EINVAL at the next switch,
 * and at every one after: the context could never run again): MXCSR bits
 * outside the CPU's mask; in an XSAVE area, features the kernel does not
 * offer this process (the software bytes of the kernel's own image, less
 * the dynamic ones it may not use), the compacted format, and non-zero
 * reserved header bytes (validate_user_xstate_header).
 */
int ptp_arch_fp_check(const void *fp, size_t len, const void *ref)
{
	uint32_t mask = get_u32_at(ref, FX_MXCSR_MASK);
	uint64_t offered, perm;
	const unsigned char *hdr;

	if (len < 512)
		return -EINVAL;
	if (!mask)
		mask = MXCSR_MASK_DEFAULT;
	if (get_u32_at(fp, FX_MXCSR) & ~mask)
		return -EINVAL;
	if (len <= XSAVE_HEADER_OFFSET)
		return 0;
	if (len < XSAVE_HEADER_OFFSET + XSAVE_HEADER_BYTES)
		return -EINVAL;
	offered = get_u64_at(ref, FX_SW_XFEATURES);
	if (!offered) {
		/* No software bytes: XCR0, what the kernel enabled. */
		uint32_t lo, hi;

		__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		offered = (uint64_t)hi << 32 | lo;
	}
	/* Dynamic features need a permission the stubs inherit from us. */
	if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) == 0)
		offered &= perm;
	if (get_u64_at(fp, XSAVE_HEADER_OFFSET) & ~offered)
		return -EINVAL;
	if (get_u64_at(fp, XSAVE_XCOMP_BV))
		return -EINVAL;
	hdr = (const unsigned char *)fp + XSAVE_XCOMP_BV + 8;
	for (size_t i = 0; i < XSAVE_HEADER_BYTES - 16; i++)
		if (hdr[i])
			return -EINVAL;
	return 0;
}
