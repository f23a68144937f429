/* SPDX-License-Identifier: Apache-2.0 */
/* arm64 inlines of the benchmark's arch contract (bench/arch/arch.h). */
#ifndef BENCH_ARCH_BENCH_H
#define BENCH_ARCH_BENCH_H

#include <linux/audit.h>
#include <ucontext.h>

#define BENCH_ARCH_AUDIT AUDIT_ARCH_AARCH64
/* brk does not advance the PC: the trap reports the brk itself. */
#define BENCH_ARCH_INJECT_TRAP_PC_OFFSET 4

static inline long bench_arch_syscall0(long nr)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0");

	__asm__ volatile("svc #0" : "=r"(x0) : "r"(x8) : "memory");
	return x0;
}

static inline long bench_arch_syscall3(long nr, long a0, long a1, long a2)
{
	register long x8 __asm__("x8") = nr;
	register long x0 __asm__("x0") = a0;
	register long x1 __asm__("x1") = a1;
	register long x2 __asm__("x2") = a2;

	__asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}

static inline void bench_arch_cpu_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

/* glibc's struct user_regs_struct here: regs[31], sp, pc, pstate. */
static inline long bench_arch_gprs_nr(const bench_gprs *r)
{
	return (long)r->regs[8];
}

static inline long bench_arch_gprs_result(const bench_gprs *r)
{
	return (long)r->regs[0];
}

static inline uintptr_t bench_arch_gprs_pc(const bench_gprs *r)
{
	return (uintptr_t)r->pc;
}

/* At a SYSEMU stop the syscall is skipped already; x0 is the result. (The
 * faithful mode's x7 kick, see design/platform.md, is not modelled.) */
static inline void bench_arch_gprs_set_result(bench_gprs *r, long v)
{
	r->regs[0] = (unsigned long long)v;
}

static inline void bench_arch_gprs_set_inject(bench_gprs *r, long nr, uintptr_t pc)
{
	r->regs[8] = (unsigned long long)nr;
	r->regs[0] = 0;
	r->pc = pc;
}

static inline void bench_arch_uc_set_result(void *ucontext, long v)
{
	((ucontext_t *)ucontext)->uc_mcontext.regs[0] = (unsigned long long)v;
}

/* The frame's records in __reserved: {magic, size} headers up to a zero
 * one; FPSIMD_MAGIC is the fpsimd_context. */
#define BENCH_ARCH_FPSIMD_MAGIC 0x46508001U

/* The general registers of the frame: regs[31], sp, pc, pstate, contiguous
 * in struct sigcontext. */
static inline int bench_arch_uc_state(void *ucontext, struct bench_uc_state *s)
{
	ucontext_t *uc = ucontext;
	unsigned char *p = (unsigned char *)uc->uc_mcontext.__reserved;
	unsigned char *end = p + sizeof(uc->uc_mcontext.__reserved);

	s->gregs = uc->uc_mcontext.regs;
	s->gregs_size = sizeof(uc->uc_mcontext.regs) + 3 * sizeof(unsigned long long);
	s->fp = NULL;
	s->fp_size = 0;
	while (p + 8 <= end) {
		uint32_t magic, size;

		__builtin_memcpy(&magic, p, 4);
		__builtin_memcpy(&size, p + 4, 4);
		if (!magic || size < 8 || size > (size_t)(end - p))
			break;
		if (magic == BENCH_ARCH_FPSIMD_MAGIC) {
			s->fp = p;
			s->fp_size = size;
			return 0;
		}
		p += size;
	}
	return -1;
}

static inline long bench_arch_gregs_nr(const void *gregs)
{
	return (long)((const unsigned long long *)gregs)[8];
}

static inline void bench_arch_gregs_set_result(void *gregs, long v)
{
	((unsigned long long *)gregs)[0] = (unsigned long long)v;
}

#endif /* BENCH_ARCH_BENCH_H */
