/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract every architecture fulfils. Generic core code includes only
 * this header; the per-arch definitions come from arch-defs.h, found through
 * the include path of the arch being built (core/arch/<arch>/).
 */
#ifndef PTP_ARCH_H
#define PTP_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/ptrace.h>
#include <sys/types.h>

#include <seccomp.h>

#include "ptplat.h"

/* Defines struct arch_regs (GPRs, and TLS where the GPR regset carries it),
 * ARCH_GPR_COUNT, ARCH_VREG_COUNT, ARCH_TLS_IN_GPR, ARCH_SYSCALL_KICK,
 * ARCH_AUDIT_NATIVE (the AUDIT_ARCH_* of a stub's own syscalls) and
 * ARCH_ONE_SYSCALL_ABI (1: a stub can only make native syscalls, so the
 * kernel need not be asked which table a syscall stop belongs to),
 * ARCH_SYSCALL_INSN_LEN (bytes of the native syscall instruction: the
 * instruction pointer seccomp reports is that far past its start) and
 * ARCH_X32_SYSCALL_BIT (the number bit that selects a second table under the
 * native AUDIT_ARCH_*, x86_64's x32; 0 where there is none). */
#include "arch-defs.h"

/*
 * Every ptrace request of the core, counted (ptp_stats.ptrace_calls): a
 * systrap switch must make none, and only a count shows it. The counter
 * lives in the lowest layer (core/arch/<arch>/regs.c), below every caller;
 * one relaxed add beside a system call.
 */
extern atomic_ulong ptp_ptrace_calls;

static inline long ptp_ptrace_counted(int req, pid_t pid, void *addr, void *data)
{
	atomic_fetch_add_explicit(&ptp_ptrace_calls, 1, memory_order_relaxed);
	return ptrace(req, pid, addr, data);
}

#define ptrace(req, pid, addr, data)                                           \
	ptp_ptrace_counted((req), (pid), (void *)(uintptr_t)(addr),            \
			   (void *)(uintptr_t)(data))

/* The stub blob (stub/arch/<arch>/stub.S): copied to the stub page. */
extern const unsigned char ptp_stub_blob_start[];
extern const unsigned char ptp_stub_blob_end[];
extern const unsigned char ptp_stub_entry[];     /* bootstrap: stops itself */
extern const unsigned char ptp_stub_syscall[];   /* the one syscall insn */
extern const unsigned char ptp_stub_trap_ip[];   /* PC at the trap after it */
extern const unsigned char ptp_stub_park[];      /* untraced wait loop */
/* The batch routine and its list (stub/stub-abi.h). */
extern const unsigned char ptp_stub_batch[];
extern const unsigned char ptp_stub_batch_list[];
/* The systrap syscall thread's loop (stub/systrap-abi.h) and its end; its
 * code range starts at ptp_stub_batch, whose checks it runs. */
extern const unsigned char ptp_stub_syscall_thread[];
extern const unsigned char ptp_stub_syscall_thread_end[];
/* The systrap handler, its code range [handler, end), its rt_sigreturn and
 * a new thread's first instruction (ARCH_SYSTRAP; stub/systrap-abi.h). */
extern const unsigned char ptp_stub_systrap_handler[];
extern const unsigned char ptp_stub_systrap_restorer[];
extern const unsigned char ptp_stub_systrap_end[];
extern const unsigned char ptp_stub_systrap_boot[];
extern const unsigned char ptp_stub_systrap_boot_ip[]; /* its trap's IP */

/* Candidate tops of the user address space, highest first. */
const uintptr_t *ptp_arch_stub_tops(size_t *count);

/* Register transfers, each arch with the request whose layout suits it
 * (x86_64: GETREGS/SETREGS; arm64: NT_PRSTATUS). 0 or -errno. */
int ptp_arch_get_gprs(pid_t tid, struct arch_regs *r);
int ptp_arch_set_gprs(pid_t tid, const struct arch_regs *r);
/* Called by ptp_arch_get_gprs: makes what the kernel reported acceptable to
 * ptrace's register writes again (x86_64: segment selectors the CPU lets an app
 * load but ptrace refuses to write back). */
void ptp_arch_gprs_settable(struct arch_regs *r);
/* Bytes of FP/SIMD state for this CPU and kernel (0 if unknown). */
size_t ptp_arch_fp_size(void);
int ptp_arch_get_fp(pid_t tid, void *buf, size_t len);
int ptp_arch_set_fp(pid_t tid, const void *buf, size_t len);
/* Separate TLS transfer where ARCH_TLS_IN_GPR is 0; no-ops otherwise. */
int ptp_arch_get_tls(pid_t tid, uint64_t *tls);
int ptp_arch_set_tls(pid_t tid, uint64_t tls);

/* Views of struct arch_regs. */
uint64_t ptp_arch_ip(const struct arch_regs *r);
void ptp_arch_set_ip(struct arch_regs *r, uint64_t ip);
uint64_t ptp_arch_sp(const struct arch_regs *r);
void ptp_arch_set_sp(struct arch_regs *r, uint64_t sp);
long ptp_arch_syscall_nr(const struct arch_regs *r);
void ptp_arch_set_syscall_nr(struct arch_regs *r, long nr);
uint64_t ptp_arch_arg(const struct arch_regs *r, unsigned int i);
void ptp_arch_set_arg(struct arch_regs *r, unsigned int i, uint64_t v);
long ptp_arch_result(const struct arch_regs *r);
void ptp_arch_set_result(struct arch_regs *r, long v);
uint64_t ptp_arch_gpr(const struct arch_regs *r, unsigned int i);
void ptp_arch_set_gpr(struct arch_regs *r, unsigned int i, uint64_t v);
const char *ptp_arch_gpr_name(unsigned int i);
bool ptp_arch_gpr_syscall_scratch(unsigned int i);
uint64_t ptp_arch_tls_of(const struct arch_regs *r);
void ptp_arch_set_tls_of(struct arch_regs *r, uint64_t tls);
bool ptp_arch_single_step(const struct arch_regs *r);
/*
 * A new context's state, made in place from the master stub's (which the
 * kernel gave it, so it has the right selectors and FP layout): what a
 * fresh execve gets, nothing of the tracer's (ptplat.h lists the values).
 */
void ptp_arch_ctx_init(struct arch_regs *r, void *fp, size_t len);
/* The flags register (x86_64 eflags, arm64 pstate); the setter changes
 * only the bits ptp_arch_flags_writable() names. */
uint64_t ptp_arch_flags(const struct arch_regs *r);
void ptp_arch_set_flags(struct arch_regs *r, uint64_t v);
uint64_t ptp_arch_flags_writable(void);
/* 0 if the kernel will accept fp (len bytes, from a caller) as this arch's
 * FP state, else -EINVAL; ref is a state the kernel reported (it tells the
 * features and the MXCSR mask on x86_64). */
int ptp_arch_fp_check(const void *fp, size_t len, const void *ref);
/* 128-bit vector register i in an FP buffer of ptp_arch_fp_size() bytes. The
 * setter also marks the register file as in use (XSAVE's xstate_bv), or the
 * kernel would load its init state instead. */
void ptp_arch_fp_vreg(const void *fp, unsigned int i, uint8_t out[16]);
void ptp_arch_fp_set_vreg(void *fp, size_t len, unsigned int i, const uint8_t in[16]);

/*
 * At a syscall stop: make the registers read as the app left them (x86_64:
 * rax = orig_rax) and clear the kernel's syscall marker so that no restart
 * can rewind the app. Returns 0 or -errno (arm64 needs a ptrace call).
 */
int ptp_arch_syscall_stop(pid_t tid, struct arch_regs *r);

/*
 * The syscall ABIs a stub thread can reach on this arch, as data (the way
 * libseccomp keeps its arches): a syscall stop belongs to the first row
 * whose audit_arch is the kernel's AUDIT_ARCH_* for the stop and whose
 * number satisfies (nr & nr_mask) == nr_match. Its arguments are the
 * registers at arg_off[] in struct arch_regs, of which the kernel reads
 * arg_bits.
 */
struct ptp_arch_syscall_abi {
	uint32_t audit_arch;
	enum ptp_syscall_abi abi;
	uint32_t nr_mask, nr_match;
	size_t arg_off[6];
	unsigned int arg_bits;
};

const struct ptp_arch_syscall_abi *ptp_arch_syscall_abis(size_t *count);
/* Makes one IA32 syscall (getpid) from 64-bit code: 0 if it returns our
 * pid, else -errno (-ENOSYS on arches without IA32). The probe runs it in a
 * throw-away child, as IA32 emulation may be missing and the child then
 * dies of SIGSEGV. */
int ptp_arch_ia32_syscall_probe(void);

/*
 * Prepares r (a copy of the stub's initial registers) to run one syscall at
 * the stub's syscall instruction. restart_stub: the child of an injected
 * clone re-runs the stub from its entry, checking its parent is ppid.
 */
void ptp_arch_prepare_syscall(struct arch_regs *r, uintptr_t syscall_ip, long nr,
			  const uint64_t args[6], bool restart_stub, pid_t ppid);

/* Child of the stub clone: jumps to the stub entry; never returns. */
__attribute__((noreturn)) void ptp_arch_enter_stub(uintptr_t entry, pid_t ppid);
/* Per-arch setup in the stub child before entering the stub. */
void ptp_arch_stub_child_setup(void);
/* The calling thread's thread pointer (for glibc's rseq area). */
void *ptp_arch_thread_pointer(void);

/* One allowed syscall of the stub filter: nr, with up to two arguments that
 * must equal the given values. */
struct ptp_syscall_rule {
	long nr;
	unsigned int nargs;
	struct {
		unsigned int idx;
		uint64_t val;
	} arg[2];
};

/* Syscalls only this arch's stub makes (x86_64: arch_prctl(SET_CPUID)). */
const struct ptp_syscall_rule *ptp_arch_stub_rules(size_t *count);
/* Trap rules for calls that bypass SYSEMU (x86_64: the vsyscall page). */
int ptp_arch_filter_traps(scmp_filter_ctx f);

/*
 * A seccomp SIGSYS raised by a vsyscall-page call: rewrite regs and info as
 * gVisor reports it (an execute fault at the vsyscall entry). Returns true if
 * it was one.
 */
bool ptp_arch_vsyscall_fault(struct arch_regs *r, siginfo_t *info);

/* Turns on CPUID faulting for the calling thread: 0, or -errno (-ENODEV
 * without hardware support, -ENOSYS on arches without it). The probe runs it
 * in a throw-away child. */
int ptp_arch_cpuid_faulting_enable(void);
/* On SIGSEGV: if the instruction at IP is cpuid, emulate it into r and
 * return true. */
bool ptp_arch_cpuid_emulate(pid_t tid, struct arch_regs *r);

/*
 * The systrap backend's view of a signal frame, where ARCH_SYSTRAP is 1
 * (core/arch/<arch>/systrap.c; nothing calls these elsewhere). gregs is the
 * handler's copy of the frame's general registers (stub/systrap-abi.h).
 */
/* 0 if this CPU and kernel can run the handler, else -ENOSYS and why. */
int ptp_arch_systrap_check(const char **why);
/* The frame's registers into r, which keeps what a frame cannot carry. */
void ptp_arch_uc_get(const void *gregs, uint64_t fs_base, uint64_t gs_base,
		     struct arch_regs *r);
void ptp_arch_uc_put(const struct arch_regs *r, void *gregs, uint64_t *fs_base,
		     uint64_t *gs_base);
/* 0, or -EIO for registers ptrace would refuse to set (top: the end of
 * the user address space). */
int ptp_arch_uc_check(const struct arch_regs *r, uintptr_t top);
/* The access of a page fault as the frame's registers tell it
 * (PTP_ACCESS_*), or 0 when the frame is not of a page fault. */
unsigned int ptp_arch_uc_fault_access(const void *gregs);
/* r as a syscall stop of nr shows it. */
void ptp_arch_syscall_trapped(struct arch_regs *r, long nr);
/* A frame's FP image holds only the components in use: put the others in
 * their init state, as ptrace shows them. */
void ptp_arch_fp_expand(void *fp, size_t len);
/* fp (len bytes) as a frame's FP image, with what only the kernel may
 * say in it (x86_64: the XSAVE software bytes) from boot, a frame's. */
void ptp_arch_fp_to_frame(void *frame, const void *fp, size_t len, const void *boot);
/* ns in the ticks of the counter the handler times its spin with. */
uint64_t ptp_arch_spin_ticks(uint64_t ns);

#endif /* PTP_ARCH_H */
