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

#endif /* BENCH_ARCH_BENCH_H */
