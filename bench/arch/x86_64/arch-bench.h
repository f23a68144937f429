/* SPDX-License-Identifier: Apache-2.0 */
/* x86_64 inlines of the benchmark's arch contract (bench/arch/arch.h). */
#ifndef BENCH_ARCH_BENCH_H
#define BENCH_ARCH_BENCH_H

#include <linux/audit.h>
#include <ucontext.h>

#define BENCH_ARCH_AUDIT AUDIT_ARCH_X86_64
/* The int3 trap reports the PC after "syscall" (2 bytes) + "int3" (1). */
#define BENCH_ARCH_INJECT_TRAP_PC_OFFSET 3

static inline long bench_arch_syscall0(long nr)
{
	long ret;

	__asm__ volatile("syscall" : "=a"(ret) : "0"(nr) : "rcx", "r11", "memory");
	return ret;
}

static inline long bench_arch_syscall3(long nr, long a0, long a1, long a2)
{
	long ret;

	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "0"(nr), "D"(a0), "S"(a1), "d"(a2)
			 : "rcx", "r11", "memory");
	return ret;
}

static inline void bench_arch_cpu_relax(void)
{
	__builtin_ia32_pause();
}

static inline long bench_arch_gprs_nr(const bench_gprs *r)
{
	return (long)r->orig_rax;
}

static inline long bench_arch_gprs_result(const bench_gprs *r)
{
	return (long)r->rax;
}

static inline uintptr_t bench_arch_gprs_pc(const bench_gprs *r)
{
	return (uintptr_t)r->rip;
}

/* orig_rax = -1 clears the syscall marker so that no restart logic can
 * rewind the PC (as the core does). */
static inline void bench_arch_gprs_set_result(bench_gprs *r, long v)
{
	r->rax = (unsigned long)v;
	r->orig_rax = (unsigned long)-1L;
}

static inline void bench_arch_gprs_set_inject(bench_gprs *r, long nr, uintptr_t pc)
{
	r->rax = (unsigned long)nr;
	r->orig_rax = (unsigned long)-1L;
	r->rip = pc;
}

static inline void bench_arch_uc_set_result(void *ucontext, long v)
{
	((ucontext_t *)ucontext)->uc_mcontext.gregs[REG_RAX] = v;
}

/* fx_sw_bytes (the kernel's struct _fpx_sw_bytes) sits at byte 464 of the
 * frame's FXSAVE area; with its magic the area is an XSAVE area of
 * xstate_size bytes (its field at byte 16), else the legacy 512. */
#define BENCH_ARCH_FX_SW_OFFSET 464
#define BENCH_ARCH_FP_XSTATE_MAGIC1 0x46505853U

static inline int bench_arch_uc_state(void *ucontext, struct bench_uc_state *s)
{
	ucontext_t *uc = ucontext;
	unsigned char *fp = (unsigned char *)uc->uc_mcontext.fpregs;
	uint32_t magic, size;

	s->gregs = uc->uc_mcontext.gregs;
	s->gregs_size = sizeof(uc->uc_mcontext.gregs);
	s->fp = fp;
	s->fp_size = 512;
	if (!fp)
		return -1;
	__builtin_memcpy(&magic, fp + BENCH_ARCH_FX_SW_OFFSET, sizeof(magic));
	__builtin_memcpy(&size, fp + BENCH_ARCH_FX_SW_OFFSET + 16, sizeof(size));
	if (magic == BENCH_ARCH_FP_XSTATE_MAGIC1)
		s->fp_size = size;
	return 0;
}

static inline long bench_arch_gregs_nr(const void *gregs)
{
	return ((const greg_t *)gregs)[REG_RAX];
}

static inline void bench_arch_gregs_set_result(void *gregs, long v)
{
	((greg_t *)gregs)[REG_RAX] = v;
}

#endif /* BENCH_ARCH_BENCH_H */
