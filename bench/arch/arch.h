/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract of the benchmark's arch corners (bench/arch/<arch>/): the raw
 * syscall instructions and register layouts the native, mechanism and
 * interrupt families use. Kept apart from core/arch/ on purpose: the bare
 * mechanisms are the yardstick the core is judged against, so they must not
 * share its code. Generic bench files include only this header.
 *
 * The static inlines are defined in arch-bench.h, found through the include
 * path of the arch being built (inlined, as an out-of-line call would add to
 * what native/getpid measures); the rest in bench/arch/<arch>/regs.c.
 */
#ifndef BENCH_ARCH_H
#define BENCH_ARCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/user.h>

/* The general registers as PTRACE_GETREGS or NT_PRSTATUS move them: glibc's
 * struct user_regs_struct on every supported arch. */
typedef struct user_regs_struct bench_gprs;

/* A regset moved by mechanism/sysemu_regs. */
struct bench_regset {
	int type;
	const char *name;
	size_t size;
};
#define BENCH_MAX_REGSETS 4

/* arch-bench.h also defines BENCH_ARCH_AUDIT (the AUDIT_ARCH_* of this
 * process's own syscalls, for the seccomp filters) and
 * BENCH_ARCH_INJECT_TRAP_PC_OFFSET (the PC the trap after the injection
 * site's syscall reports, relative to bench_arch_inject_site). */

/* One raw syscall instruction, no glibc wrapper; the result register. */
static inline long bench_arch_syscall0(long nr);
static inline long bench_arch_syscall3(long nr, long a0, long a1, long a2);
/* The CPU's spin-wait hint, for busy loops. */
static inline void bench_arch_cpu_relax(void);

/* Views of the registers at a syscall stop. */
static inline long bench_arch_gprs_nr(const bench_gprs *r);
static inline long bench_arch_gprs_result(const bench_gprs *r);
static inline uintptr_t bench_arch_gprs_pc(const bench_gprs *r);
/* At a SYSEMU stop: the app's result, and no syscall restart afterwards. */
static inline void bench_arch_gprs_set_result(bench_gprs *r, long v);
/* Sets up the syscall nr at pc (bench_arch_inject_site) for injection. */
static inline void bench_arch_gprs_set_inject(bench_gprs *r, long nr, uintptr_t pc);
/* In a SIGSYS handler: the result the interrupted syscall returns. */
static inline void bench_arch_uc_set_result(void *ucontext, long v);

/* What a systrap-style SIGSYS handler moves (bench/systrap.c): the
 * signal frame's general registers and its FP/SIMD record, in place. */
struct bench_uc_state {
	void *gregs;
	size_t gregs_size;
	void *fp;       /* x86_64: the XSAVE area; arm64: the fpsimd_context */
	size_t fp_size; /* as the frame says (x86_64: fx_sw_bytes.xstate_size) */
};
/* The state of a SIGSYS frame; 0, or -1 if the frame has no FP record. */
static inline int bench_arch_uc_state(void *ucontext, struct bench_uc_state *s);
/* In a copy of the frame's general registers: the syscall number (the
 * trap leaves it in the result register on x86_64, in x8 on arm64), and
 * the result to give. */
static inline long bench_arch_gregs_nr(const void *gregs);
static inline void bench_arch_gregs_set_result(void *gregs, long v);

/* A syscall instruction followed by a breakpoint, for mechanism/inject. */
extern const char bench_arch_inject_site[] __attribute__((visibility("hidden")));

/* The general registers of a stopped tracee: 0, or -1 with errno. */
int bench_arch_get_gprs(pid_t pid, bench_gprs *r);
int bench_arch_set_gprs(pid_t pid, const bench_gprs *r);
/* At a syscall-exit stop: overwrite the result. 0, or -1 with errno. */
int bench_arch_set_result_at_exit(pid_t pid, long v);
/* At a seccomp stop: skip the syscall and give it a result. 0 or -1. */
int bench_arch_skip_with_result(pid_t pid, long v);
/* Fills rs with the regsets the core's faithful mode moves; their count. */
int bench_arch_faithful_regsets(struct bench_regset rs[BENCH_MAX_REGSETS]);

#include "arch-bench.h"

#endif /* BENCH_ARCH_H */
