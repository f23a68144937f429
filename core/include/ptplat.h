/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ptplat: a reference ptrace sandbox platform, after gVisor's ptrace platform.
 *
 * Every function that can fail returns 0 or a negative errno. Nothing here
 * prints or exits. Objects are not reference counted: the caller must not use
 * an address space or a context while another thread releases it.
 *
 * Threads: any thread may open, create address spaces and contexts, map and
 * switch. ptrace only accepts requests from the thread that traces a task, so
 * the platform gives every calling thread its own traced thread in every
 * address space it switches in; when a calling thread exits, those traced
 * threads are retired (not the address space).
 *
 * fork: a platform belongs to the process that opened it. After fork() the
 * child has only the forking thread; the stub processes are traced by the
 * parent's threads and the service thread is not there, so the child cannot
 * drive them. In the child, every call on the parent's platform, address
 * spaces and contexts that can fail returns -ECHILD (the stubs are not this
 * process's children) without touching anything; ptp_close, ptp_as_release,
 * ptp_ctx_free, ptp_ctx_reset, ptp_trim and ptp_interrupt do nothing (the parent's stubs
 * live on; the child's copies of the objects stay allocated); ptp_stats
 * reports zeros; accessors that cannot fail read or write the child's copy.
 * The parent's platform keeps working. The child may open a platform of its
 * own. The child is told by a pthread_atfork handler: fork() and anything
 * else that runs those handlers; a raw clone() system call does not.
 */
#ifndef PTPLAT_H
#define PTPLAT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The version of this header. meson.build's project version must be the
 * same (meson setup stops otherwise). The shared library's soname carries
 * MAJOR (libptplat.so.MAJOR): MAJOR goes up with every change that breaks
 * programs built against an older header (the ABI check, suite 'abi'), MINOR
 * with additions, PATCH with fixes.
 */
#define PTP_VERSION_MAJOR 1
#define PTP_VERSION_MINOR 0
#define PTP_VERSION_PATCH 0
/* A version as one number that compares in order. */
#define PTP_VERSION_NUMBER(major, minor, patch) \
	(((unsigned int)(major) << 16) | ((unsigned int)(minor) << 8) | (unsigned int)(patch))
#define PTP_VERSION \
	PTP_VERSION_NUMBER(PTP_VERSION_MAJOR, PTP_VERSION_MINOR, PTP_VERSION_PATCH)

/* The version of the library running, as PTP_VERSION: a program can check
 * that the shared library it loaded is not older than the header it was
 * built with (ptp_version() >= PTP_VERSION). */
unsigned int ptp_version(void);

/*
 * The behaviour contract and introspection. Most of this header is the
 * behaviour every platform that implements it owes (the conformance groups
 * test only that, and run against any shared library with
 * "scripts/ptbench test --platform LIB.so"). A function marked
 * PTP_INTROSPECTION instead looks into this design (its reuse pool, its
 * master stub process, its traced threads per address space, where it puts
 * its stub) or steers it for a test: another platform need not have it, and
 * only the conformance group 'internals' calls it (the meson test
 * 'behaviour-api' checks that with nm). The marker expands to nothing.
 */
#define PTP_INTROSPECTION

struct ptp_platform;
struct ptp_as;
struct ptp_ctx;

/* How the app's syscalls, faults and signals reach the platform. */
enum ptp_backend {
	/* Every one stops the stub thread in its tracer thread
	 * (PTRACE_SYSEMU), gVisor's ptrace platform. Both switch modes. */
	PTP_BACKEND_PTRACE = 0,
	/* seccomp traps syscalls into a signal handler in the stub, which
	 * hands the state over through memory shared with the tracer; the app
	 * thread is not traced (gVisor's systrap). Not built yet: ptp_open
	 * returns -ENOSYS. */
	PTP_BACKEND_SYSTRAP = 1,
};

enum ptp_switch_mode {
	/* gVisor's transfers: every switch sets and gets all register sets.
	 * On systrap: the whole state crosses the shared page both ways on
	 * every switch, as the handler restores it all at sigreturn. */
	PTP_MODE_FAITHFUL = 0,
	/* Moves only dirty or non-resident state; FP state is fetched lazily.
	 * ptrace only: it leaves state resident in a traced thread between
	 * switches, and a systrap thread keeps none outside its signal frame,
	 * so systrap rejects lean with -EINVAL. */
	PTP_MODE_LEAN = 1,
};

struct ptp_options {
	enum ptp_switch_mode mode;
	/*
	 * Keep each tracer thread (a thread that calls ptp_switch) and the
	 * traced threads it runs on one CPU, so that a switch never wakes a
	 * thread on another CPU and the app is not moved after the caller.
	 * The core chooses the CPU at the thread's first switch, among those
	 * its affinity allows (the one the fewest other pinned tracer threads
	 * use; ties go to the CPU it is on, or to the one its traced thread
	 * was created on if an injection created it before), and keeps it; a
	 * caller that has pinned itself to one CPU keeps that one. Each
	 * traced thread is created on the CPU it will run on (the core moves
	 * the stub process's leader, which the thread is cloned from, there
	 * first), so that its first switch does not move it. This changes
	 * the calling thread's own affinity: ptp_close gives every thread it
	 * pinned that is still alive and still on that one CPU back the
	 * affinity it had before (a thread that has set its own affinity
	 * since keeps it; one that does so between switches is pinned again
	 * within the new set at its next switch, and that set is the one
	 * restored). false: no affinity is changed, and the scheduler may put
	 * the pair on different CPUs.
	 */
	bool pin;
	/* Released address spaces kept for reuse; 0 disables reuse. */
	unsigned int reuse_pool;
	enum ptp_backend backend;
};

/* Defaults: the ptrace backend, faithful mode, pinning on, a reuse pool of
 * 8. */
void ptp_options_default(struct ptp_options *opts);

/* "faithful" / "lean"; NULL for an unknown mode. */
const char *ptp_mode_name(enum ptp_switch_mode mode);
/* 0, or -EINVAL for an unknown name. */
int ptp_mode_parse(const char *name, enum ptp_switch_mode *mode);
/* "ptrace" / "systrap"; NULL for an unknown backend. */
const char *ptp_backend_name(enum ptp_backend backend);
/* 0, or -EINVAL for an unknown name. */
int ptp_backend_parse(const char *name, enum ptp_backend *backend);

/*
 * Opens a platform: places the stub, creates the master stub process and
 * probes the kernel. Errors:
 *   -EINVAL  an unknown backend or mode, or a mode the backend cannot honour
 *   -EPERM   ptrace is not permitted (Yama, seccomp, LSM, missing capability)
 *   -ENOSYS  PTRACE_SYSEMU is missing or does not stop at syscalls, or the
 *            backend is not built
 *   -ENOMEM  no room for the stub
 *   other    the failing system call's errno
 */
int ptp_open(const struct ptp_options *opts, struct ptp_platform **out);
/* Kills and reaps every stub process and restores the affinity of the
 * threads it pinned (ptp_options.pin). Contexts must be freed separately. */
void ptp_close(struct ptp_platform *p);

/* A human-readable reason for the last ptp_open failure in this thread. */
const char *ptp_open_error(void);

struct ptp_caps {
	bool sysemu;               /* PTRACE_SYSEMU stops at syscall entry */
	bool seccomp_after_ptrace; /* Linux >= 4.8 ordering */
	bool cpuid_faulting;       /* ARCH_SET_CPUID works (x86_64) */
	/* PTRACE_GET_SYSCALL_INFO (Linux >= 5.3): without it an x86_64
	 * syscall event's abi is PTP_ABI_UNKNOWN (see struct ptp_event). */
	bool syscall_info;
	/* x86_64: int 0x80 in a 64-bit process reaches the kernel's IA32
	 * syscall table (IA32 emulation compiled in and not disabled by
	 * ia32_emulation=0); false elsewhere. */
	bool ia32_syscalls;
	bool vsyscall;             /* a [vsyscall] page is mapped */
	size_t fpstate_size;       /* bytes of FP/SIMD state moved per switch */
	enum ptp_backend backend;  /* the one ptp_open chose */
	/* A syscall event's nr is the whole number register as the app left
	 * it (ptrace's orig_rax on x86_64). Else it is the number as the
	 * kernel reads it (systrap: the SIGSYS si_syscall, a 32-bit int on
	 * x86_64, so a value above it reads sign-extended from its low half). */
	bool syscall_nr_whole_register;
	/* The app's threads stay traced while app code runs (ptrace); else
	 * (systrap) they are detached and run untraced: /proc shows
	 * TracerPid 0 for them. */
	bool app_traced;
	/* Page-fault events carry exact_access (systrap on x86_64: the
	 * frame's error code; ptrace's signal stops do not show it). */
	bool fault_access_exact;
};

const struct ptp_caps *ptp_caps(const struct ptp_platform *p);
const struct ptp_options *ptp_options(const struct ptp_platform *p);
/* The end of what an address space may map. The stub occupies
 * [ptp_stub_start, ptp_stub_end), at or above it: right above it on the
 * ptrace backend; on systrap the threads' regions lie in between. The stub
 * sits as high as the tracer's address space lets it: at the top, or,
 * where the tracer's own stack holds the top (no address randomization),
 * right below the stack's guard gap. */
uintptr_t ptp_max_user_address(const struct ptp_platform *p);
PTP_INTROSPECTION uintptr_t ptp_stub_start(const struct ptp_platform *p);
uintptr_t ptp_min_user_address(const struct ptp_platform *p);
PTP_INTROSPECTION uintptr_t ptp_stub_end(const struct ptp_platform *p);
PTP_INTROSPECTION pid_t ptp_master_pid(const struct ptp_platform *p);
/* 0, or -EOWNERDEAD once the master has died (every address space with it). */
int ptp_platform_status(struct ptp_platform *p);

struct ptp_stats {
	unsigned int as_live;        /* address spaces handed out */
	unsigned int as_pooled;      /* released, kept for reuse */
	unsigned int traced_threads; /* switch threads over all address spaces */
	unsigned long as_created;    /* address spaces ever forked */
	unsigned long threads_created;
	unsigned long threads_retired;
	/* Round trips into a stub made for ptp_as_map, ptp_as_unmap,
	 * ptp_as_protect and ptp_as_inject (one each) and ptp_as_map_batch
	 * (one per PTP_AS_BATCH_MAX operations); not those that create
	 * address spaces or traced threads. */
	unsigned long injections;
	/* ptrace requests the core has made, in this process, for every
	 * platform (a systrap switch makes none). */
	unsigned long ptrace_calls;
	/* systrap: hand-offs of this platform's switches, both sides (the
	 * tracer's wait for an event, the handler's for the answer), that
	 * ended within the spin, or in a futex wait (0 on ptrace). */
	unsigned long handoffs_spun, handoffs_slept;
};
PTP_INTROSPECTION void ptp_stats(struct ptp_platform *p, struct ptp_stats *st);
/* Destroys every pooled address space. */
PTP_INTROSPECTION void ptp_trim(struct ptp_platform *p);

/* Address spaces ------------------------------------------------------ */

int ptp_as_new(struct ptp_platform *p, struct ptp_as **out);
/* Unmaps everything but the stub and pools the address space, or destroys
 * it when the pool is full, disabled, or the address space is dead. */
void ptp_as_release(struct ptp_as *as);
pid_t ptp_as_pid(const struct ptp_as *as);
/* 0 alive, -ESRCH the address space died, -EOWNERDEAD the master died. */
int ptp_as_status(struct ptp_as *as);
/* Traced threads that switch in this address space. */
PTP_INTROSPECTION unsigned int ptp_as_thread_count(struct ptp_as *as);

#define PTP_MAP_POPULATE 0x1u

/*
 * Maps [addr, addr+len) of fd at offset as MAP_SHARED|MAP_FIXED. -EINVAL for
 * an unaligned or empty range, a protection with a bit above the low six
 * (R, W, X, PROT_SEM, arm64's PROT_BTI and PROT_MTE; PROT_GROWSDOWN/UP are
 * refused) or an unknown flag, -EFAULT for a range that touches the stub or
 * lies outside [min, max) user address; else the injected mmap's -errno.
 *
 * fd is a file descriptor number of the tracer: stub processes share the
 * tracer's fd table (CLONE_FILES), so the injected mmap looks the number up
 * there when it runs. For the caller: pass a descriptor the tracer itself
 * holds, never an app's fd number (a sentry that keeps an fd table for the
 * app translates first); it may be closed once the call returns (the mapping
 * holds the file); a number another tracer thread closes or reuses meanwhile
 * maps whatever it names at that moment. Every fd of the tracer is in the
 * stubs' table, O_CLOEXEC or not (stubs never exec); only injected calls can
 * use them, as the app's own syscalls never run in a stub.
 */
int ptp_as_map(struct ptp_as *as, uintptr_t addr, size_t len, int prot, int fd,
	       off_t offset, unsigned int flags);
/* -EINVAL or -EFAULT as ptp_as_map; munmap of a range with nothing mapped is
 * fine. Fault records at addresses in the range are dropped. */
int ptp_as_unmap(struct ptp_as *as, uintptr_t addr, size_t len);

/*
 * mprotect of [addr, addr+len), injected: -EINVAL for an unaligned or empty
 * range or a protection ptp_as_map refuses (PROT_GROWSDOWN and PROT_GROWSUP
 * reach beyond the range), -EFAULT unless min <= addr
 * and addr + len <= max user address (the stub's start, checked without
 * wrapping); else mprotect's -errno (-ENOMEM where part of the range is not
 * mapped). The page tables survive, unlike a re-map. Fault records are kept,
 * as for a map: the heuristic's dance (a write fault reported as a read, the
 * page made readable, the write faulting again as a write) works through it.
 *
 * The stub filter enforces the same bound on its own (a raw-BPF rule in front
 * of libseccomp's program: len <= stub_start and addr <= stub_start - len),
 * so an mprotect that reaches the stub is killed even if it got past this
 * check. On kernels older than 4.8 the filter's default is Allow (see the
 * design), and the bound is this check's alone. On systrap (not built yet)
 * injections run on the address space's syscall thread; the app threads'
 * filter must carry no injection rule at all, mprotect's included.
 */
int ptp_as_protect(struct ptp_as *as, uintptr_t addr, size_t len, int prot);

/* One operation of a batch: the arguments of ptp_as_map, ptp_as_unmap or
 * ptp_as_protect (those an operation does not take are ignored). */
enum ptp_as_op_kind {
	PTP_AS_OP_MAP = 1,
	PTP_AS_OP_UNMAP,
	PTP_AS_OP_PROTECT,
};

struct ptp_as_op {
	enum ptp_as_op_kind kind;
	uintptr_t addr;
	size_t len;
	int prot;           /* MAP, PROTECT */
	int fd;             /* MAP: a tracer fd, as for ptp_as_map */
	off_t offset;       /* MAP */
	unsigned int flags; /* MAP: PTP_MAP_POPULATE */
};

/* Operations per round trip of ptp_as_map_batch. */
#define PTP_AS_BATCH_MAX 64

/*
 * Runs ops[0..n) in order, PTP_AS_BATCH_MAX per injection round trip (one
 * round trip for up to 64; ptp_stats' injections counts them), with the
 * results their single forms would give. The first operation that is refused
 * or fails ends the batch: its error is returned, and *done (if not NULL) is
 * the number of operations before it, which took effect; 0 and *done == n
 * when all did. -EPROTO: the stub reported what it cannot have done.
 *
 * Where the list lives: in the stub's own mapping, which is read-only to the
 * app and which no operation may reach (the range checks above); the tracer
 * writes it through /proc/<tid>/mem. The stub checks each operation against
 * the rules of a single injection once more before running it (only mmap,
 * munmap and mprotect; a non-empty range ending at or below the stub without
 * wrapping; ptp_as_map's flags and protections; each field read
 * once), stops at the first it refuses (-EPERM) or that fails, and the
 * tracer checks what it reports (the count within n, an errno exactly when
 * it stopped early). Batches into one address space take a lock: one list.
 */
int ptp_as_map_batch(struct ptp_as *as, const struct ptp_as_op *ops, size_t n,
		     size_t *done);

/*
 * Injects one system call into the address space. Returns 0 when the stub
 * could be driven, with the raw result (maybe -errno) in *result; -EPERM
 * without injecting anything when nr is outside the stub filter's allow-list
 * (the list the core itself injects); -ESRCH when the address space died.
 */
int ptp_as_inject(struct ptp_as *as, long nr, const uint64_t args[6],
		  long *result);
/* Whether the stub filter's allow-list has a rule for nr; ptp_as_inject may
 * still refuse arguments the rule does not allow (e.g. kill other than
 * SIGSTOP, mprotect of a range that reaches the stub). */
bool ptp_syscall_injectable(long nr);

/* Contexts ------------------------------------------------------------ */

/*
 * A new context holds what a fresh execve gives a thread, and nothing of
 * the tracer's (no address, pid or TLS of it in any register):
 *   x86_64: every GPR, rip and rsp 0; eflags 0x202 (IF); fs_base, gs_base
 *     and the data selectors 0 (cs and ss the kernel's user selectors); FP
 *     state FCW 0x37F, MXCSR 0x1F80, x87/SSE/AVX/AVX-512/AMX registers 0
 *     and every XSAVE component in its init state (xstate_bv 0), but PKRU,
 *     where the CPU has it: the kernel gives a new process a default
 *     (init_pkru_value), not the init state's 0, so it stays the one the
 *     tracer process had at ptp_open.
 *   arm64: x0-x30, sp, pc 0; PSTATE EL0t with NZCV 0 (SSBS as the kernel
 *     chose); v0-v31, FPSR and FPCR 0; TPIDR_EL0 0.
 * The caller sets IP and SP before the first switch.
 */
int ptp_ctx_new(struct ptp_platform *p, struct ptp_ctx **out);
void ptp_ctx_free(struct ptp_ctx *ctx);
/* Puts ctx back into the state ptp_ctx_new gives (and forgets its fault
 * record): what execve does to a thread. Whatever a traced thread still
 * holds of ctx's old state is dropped, not fetched, so it never fails
 * (also in lean mode with the state on another tracer thread). Not after
 * the platform is closed. */
void ptp_ctx_reset(struct ptp_ctx *ctx);
/*
 * dst gets every register of src (GPRs, flags, IP, SP, FP/SIMD, TLS): what
 * fork does. Not the fault record, interrupts or the traced thread that
 * ran src. -EINVAL: different platforms; -EXDEV (lean mode): src's FP
 * state is held by another tracer thread, call ptp_ctx_pull() there. dst's
 * own old state may be anywhere; it is dropped.
 */
int ptp_ctx_copy(struct ptp_ctx *dst, struct ptp_ctx *src);

enum ptp_event_kind {
	PTP_EV_SYSCALL = 1,
	PTP_EV_FAULT,       /* SIGSEGV: addr and access from the heuristic */
	PTP_EV_SIGNAL,      /* any other kernel-generated signal */
	PTP_EV_INTERRUPTED, /* ptp_interrupt() */
};

/*
 * Which system call table a syscall event's number belongs to. The
 * registers cannot tell: x86_64's int 0x80 leaves IP two bytes on and CS
 * 0x33 like syscall, but number 20 is getpid for it (and for sysenter) and
 * writev for syscall. The kernel's answer comes from
 * PTRACE_GET_SYSCALL_INFO, one more ptrace call per syscall stop.
 * UNKNOWN is 0, so an event nobody filled in never reads as NATIVE.
 */
enum ptp_syscall_abi {
	/* The kernel could not say (x86_64 without PTRACE_GET_SYSCALL_INFO):
	 * it may be any of the below; do not run it as NATIVE. */
	PTP_ABI_UNKNOWN = 0,
	/* The arch's own table: x86_64 syscall, arm64 svc. */
	PTP_ABI_NATIVE,
	/* x86_64: the i386 table (int 0x80, sysenter, or syscall from a
	 * 32-bit code segment); arguments in ebx, ecx, edx, esi, edi, ebp. */
	PTP_ABI_IA32,
	/* x86_64: syscall with the x32 bit (0x40000000) set in the number;
	 * nr keeps the bit. */
	PTP_ABI_X32,
};

/* "unknown" / "native" / "ia32" / "x32"; NULL for another value. */
const char *ptp_syscall_abi_name(enum ptp_syscall_abi abi);

#define PTP_ACCESS_READ 0x1u
#define PTP_ACCESS_WRITE 0x2u
#define PTP_ACCESS_EXEC 0x4u

struct ptp_event {
	enum ptp_event_kind kind;
	long nr;            /* PTP_EV_SYSCALL: the raw syscall number */
	/* PTP_EV_SYSCALL: the table nr belongs to, the kernel's AUDIT_ARCH_*
	 * value for it (0 when unknown), and the arguments as that ABI passes
	 * them (IA32: the low 32 bits of ebx, ecx, edx, esi, edi, ebp; NATIVE,
	 * X32 and UNKNOWN: ptp_ctx_arg's registers). */
	enum ptp_syscall_abi abi;
	uint32_t audit_arch;
	uint64_t args[6];
	uintptr_t addr;     /* PTP_EV_FAULT: si_addr */
	unsigned int access;/* PTP_EV_FAULT: PTP_ACCESS_*, gVisor's heuristic */
	/* PTP_EV_FAULT: the access the CPU reported for this fault where the
	 * platform can tell (ptp_caps.fault_access_exact, and a page fault:
	 * READ, READ|WRITE, or EXEC), else 0. access stays the heuristic's
	 * either way, so both can be compared. */
	unsigned int exact_access;
	siginfo_t info;     /* PTP_EV_FAULT, PTP_EV_SIGNAL */
};

/*
 * Runs ctx in as until the app makes a syscall, faults, takes a signal or is
 * interrupted. After a syscall the context's syscall marker is cleared, so a
 * result the caller sets is never restarted by the kernel. Errors: -ESRCH the
 * address space died (the others keep working), -EOWNERDEAD the master died,
 * -EXDEV (lean mode) the context's FP state is held by another tracer
 * thread's traced thread: call ptp_ctx_pull() there first; -ENOEXEC the kernel
 * showed the app's registers in a layout the core cannot move (a regset of
 * another size; x86_64 moves them with GETREGS, which keeps the 64-bit
 * layout in 32-bit code too): the address space is retired like a dead
 * one (release it).
 */
int ptp_switch(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_event *ev);

/* Thread-safe. Makes the running or next switch of ctx return
 * PTP_EV_INTERRUPTED; spurious interrupts are allowed. */
void ptp_interrupt(struct ptp_ctx *ctx);

/* Register state. GPR indices and names are per arch. */
unsigned int ptp_gpr_count(void);
const char *ptp_gpr_name(unsigned int i);
/* Whether GPR i holds the syscall number or is overwritten by the syscall
 * instruction itself (x86_64: rax, rcx, r11), so an app cannot pass a value
 * through it to the tracer at a syscall. */
bool ptp_gpr_syscall_scratch(unsigned int i);
uint64_t ptp_ctx_gpr(const struct ptp_ctx *ctx, unsigned int i);
void ptp_ctx_set_gpr(struct ptp_ctx *ctx, unsigned int i, uint64_t v);
uint64_t ptp_ctx_ip(const struct ptp_ctx *ctx);
void ptp_ctx_set_ip(struct ptp_ctx *ctx, uint64_t ip);
uint64_t ptp_ctx_sp(const struct ptp_ctx *ctx);
void ptp_ctx_set_sp(struct ptp_ctx *ctx, uint64_t sp);
/* Syscall number, argument i (0..5) and result registers. */
long ptp_ctx_syscall_nr(const struct ptp_ctx *ctx);
void ptp_ctx_set_syscall_nr(struct ptp_ctx *ctx, long nr);
uint64_t ptp_ctx_arg(const struct ptp_ctx *ctx, unsigned int i);
void ptp_ctx_set_arg(struct ptp_ctx *ctx, unsigned int i, uint64_t v);
void ptp_ctx_set_result(struct ptp_ctx *ctx, long result);

/* 128-bit vector registers (x86_64 xmm0-15, arm64 v0-v31). These may fetch
 * state lazily from the traced thread: call them on the switching thread. */
unsigned int ptp_vreg_count(void);
int ptp_ctx_vreg(struct ptp_ctx *ctx, unsigned int i, uint8_t out[16]);
int ptp_ctx_set_vreg(struct ptp_ctx *ctx, unsigned int i, const uint8_t in[16]);
/* Thread pointer (x86_64 fs_base, arm64 tpidr_el0). */
int ptp_ctx_tls(struct ptp_ctx *ctx, uint64_t *tls);
int ptp_ctx_set_tls(struct ptp_ctx *ctx, uint64_t tls);
/*
 * The whole FP/SIMD state in the arch's own format, len ==
 * ptp_caps()->fpstate_size bytes (else -EINVAL), so that a sentry can
 * build and read a signal frame:
 *   x86_64 with XSAVE: the kernel's NT_X86_XSTATE, i.e. the standard
 *     (uncompacted) XSAVE area of the XCR0 features: the 512-byte FXSAVE
 *     image (FCW at 0, MXCSR at 24, its mask at 28, st0-7 at 32, xmm0-15
 *     at 160; at 464 ptrace's software bytes, XCR0 in the first 8), the
 *     XSAVE header at 512 (xstate_bv, xcomp_bv 0, 48 reserved bytes 0),
 *     then each component at the offset CPUID leaf 0xD gives (ymm upper
 *     halves, AVX-512, PKRU, ...). The layout of the fpstate of an x86_64
 *     signal frame, but for bytes 464-511: a frame holds the kernel's
 *     struct _fpx_sw_bytes there (magic, sizes), which a sentry building
 *     a frame writes itself. Without XSAVE: the 512-byte FXSAVE image.
 *   arm64: struct user_fpsimd_state (NT_PRFPREG): v0-v31 (16 bytes each),
 *     FPSR, FPCR, 8 reserved bytes; as in the fpsimd_context of a signal
 *     frame. SVE's upper bits are not in it (the suite runs with SVE off).
 * The getter fetches lazily held state (lean: -EXDEV when another tracer
 * thread holds it, see ptp_switch). The setter never needs it: it replaces
 * the state whole. It takes the bytes as hostile (they may come from the
 * app's memory) and returns -EINVAL, leaving ctx as it was, for what the
 * kernel would refuse at the next switch: x86_64 MXCSR bits outside the
 * CPU's mask, xstate_bv bits the kernel does not offer this process, a
 * non-zero xcomp_bv or reserved header byte; arm64: only the length.
 */
int ptp_ctx_fpstate(struct ptp_ctx *ctx, void *buf, size_t len);
int ptp_ctx_set_fpstate(struct ptp_ctx *ctx, const void *buf, size_t len);
/* The flags register: x86_64 eflags, arm64 PSTATE (NZCV in bits 31-28).
 * The setter changes only the bits ptp_flags_writable() names, the ones
 * ptrace lets a tracer write (x86_64: CF PF AF ZF SF TF DF OF RF AC, TF
 * meaning single-stepping; arm64: NZCV); the others stay, so an app's
 * hostile value cannot make the next switch fail. */
uint64_t ptp_ctx_flags(const struct ptp_ctx *ctx);
void ptp_ctx_set_flags(struct ptp_ctx *ctx, uint64_t flags);
uint64_t ptp_flags_writable(void);
/* Fetches lazily held state into the context (lean mode); 0 in faithful. */
int ptp_ctx_pull(struct ptp_ctx *ctx);
/* The traced thread that last ran ctx, or 0. */
pid_t ptp_ctx_tid(const struct ptp_ctx *ctx);

/* Test only: resume the app with PTRACE_CONT instead of PTRACE_SYSEMU, so
 * its syscalls run on the host (the fuzzer's positive control). -ENOTSUP
 * unless the core was compiled for it (fuzz/meson.build's ptplat-unsafe). */
PTP_INTROSPECTION int ptp_test_unsafe_resume_cont(bool on);

#ifdef __cplusplus
}
#endif

#endif /* PTPLAT_H */
