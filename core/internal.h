/* SPDX-License-Identifier: Apache-2.0 */
/* Internal structures of the core. Nothing outside core/ includes this. */
#ifndef PTP_INTERNAL_H
#define PTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <linux/filter.h>

#include "ptplat.h"
#include "arch.h"
#include "backend.h"

#define PTP_EXPORT __attribute__((visibility("default")))

/*
 * Options every traced task gets: no stub ever runs untraced or outlives its
 * tracer thread (EXITKILL), and syscall stops are told from SIGTRAP
 * (TRACESYSGOOD). Not PTRACE_O_TRACEEXIT: a killed tracee then waits in its
 * exit stop until its own tracer thread resumes it, and an address space's
 * threads have many tracers; one that idles would keep a killed address space
 * (and its memory) alive. Death is seen as the exit status instead, which any
 * thread of the tracer can collect.
 */
#define PTP_TRACE_OPTIONS (PTRACE_O_EXITKILL | PTRACE_O_TRACESYSGOOD)

/* The two clones the core injects: a new address space from the master (the
 * exit signal SIGCHLD, which the master ignores, so a dead address space is
 * reaped by its tracer and never signals or cascades), and a new thread. */
#define PTP_CLONE_AS_FLAGS (CLONE_FILES | SIGCHLD)
/* The same for a backend whose address spaces keep their own fd table
 * (own_fd_table): a copy of the master's, which the backend empties. */
#define PTP_CLONE_AS_OWN_FILES_FLAGS SIGCHLD
#define PTP_CLONE_THREAD_FLAGS                                                \
	(CLONE_FILES | CLONE_FS | CLONE_SIGHAND | CLONE_THREAD | CLONE_PTRACE | \
	 CLONE_VM)

/* A thread of a stub process, traced by exactly one tracer thread. */
struct ptp_traced {
	pid_t tid;
	pid_t tracer_tid;
	struct ptp_as *as;
	int cpu;               /* CPU it is pinned to, -1 if none */
	uint64_t gpr_resident; /* id of the context whose GPRs it holds */
	uint64_t fp_resident;  /* id of the context whose FP state it holds */
	/* Lean mode: the context whose FP state lives only in this thread
	 * (under the registry lock). */
	struct ptp_ctx *fp_lazy;
	/* /proc/<tid>/mem, opened at its first batch (-1 until then): how
	 * the batch list is written into the stub's read-only page. */
	int mem_fd;
	void *backend; /* the backend's own per-thread data */
	struct ptp_traced *next_in_as;
};

struct ptp_as {
	struct ptp_platform *p;
	uint64_t id; /* unique in this process, never reused */
	pid_t pid;   /* thread group leader, traced by the service thread */
	atomic_bool dead;
	/* Under the registry lock. */
	struct ptp_traced *threads;
	unsigned int nthreads;
	struct ptp_as *next_global;
	struct ptp_as *next_pool;
	/* Batches write the one list page of this address space. */
	pthread_mutex_t batch_lock;
	/* The leader's /proc/<pid>/mem where injections go to the leader
	 * (backend inject_via_leader), -1 until the first batch. */
	int leader_mem_fd;
	/* The backend's per-thread slots in use (under the registry lock). */
	uint64_t backend_slots;
	void *backend; /* the backend's own per-address-space data */
	/* Contexts whose last fault record lies in this address space. */
	pthread_mutex_t lock;
	struct ptp_ctx **fault_ctxs;
	size_t nfault_ctxs, cap_fault_ctxs;
};

struct ptp_ctx {
	struct ptp_platform *p;
	/* p's backend, kept here: a context may be freed after its platform
	 * is closed, and the ops tables are static. */
	const struct ptp_backend_ops *ops;
	pid_t self; /* p->self, kept for the same reason */
	uint64_t id;
	struct arch_regs regs;
	bool gpr_dirty;
	unsigned char *fp;
	size_t fp_len;
	bool fp_valid; /* fp[] is authoritative (else fp_holder has it) */
	bool fp_dirty;
	struct ptp_traced *fp_holder; /* lean, under the registry lock */
	uint64_t tls;  /* where ARCH_TLS_IN_GPR is 0 */
	pid_t last_tid;

	/* The fault heuristic's record; lock order: address space, then ctx. */
	pthread_mutex_t lock;
	struct ptp_as *fault_as;
	uintptr_t fault_addr, fault_ip;

	/* Interrupt forwarder. */
	pthread_mutex_t irq_lock;
	pid_t irq_tgid, irq_tid;
	bool irq_pending;
	bool irq_sent; /* a SIGCHLD went to the armed thread this switch */
};

/* service.c: a request runs fn(arg) on the service thread; rc is its
 * result. quit: the last request, after which the thread exits. */
struct ptp_svc_req {
	int (*fn)(void *arg);
	void *arg;
	int rc;
	bool quit;
	bool done;
};

struct ptp_svc {
	pthread_t thread;
	int (*startup)(void *arg);
	void *arg;
	pthread_mutex_t call_lock; /* one request at a time */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct ptp_svc_req *req;
	int startup_rc;
	bool started;
};

struct ptp_platform {
	struct ptp_options opts;
	struct ptp_caps caps;
	uintptr_t stub_start, stub_end, top, min_addr;
	/* The end of what the app may map: stub_start less what the backend
	 * keeps below it. */
	uintptr_t user_end;
	pid_t self;   /* the tracer's tgid */
	pid_t master;
	struct arch_regs init_regs; /* stub registers, IP on the syscall insn */
	/* A new context's state (ptp_arch_ctx_init of the master's). */
	struct arch_regs ctx_init_regs;
	unsigned char *init_fp;
	atomic_bool dead;
	struct sock_fprog filter;
	const struct ptp_backend_ops *ops;

	/* The service thread: created at open, lives as long as the platform.
	 * It creates and traces the master and every address space's leader
	 * (PDEATHSIG and EXITKILL follow the creating/tracing thread). */
	struct ptp_svc svc;
	char open_msg[256]; /* why the service thread's startup failed */

	pthread_mutex_t lock; /* pool and counters */
	struct ptp_as *pool;
	unsigned int npool, nlive;
	unsigned long as_created, threads_created, threads_retired;
	atomic_ulong injections; /* round trips of ptp_as_* into stubs */
	/* The backend's switch hand-offs (ptp_stats). */
	atomic_ulong handoffs_spun, handoffs_slept;
};

/* A dead address space stays dead; every layer may record it. */
static inline void ptp_as_mark_dead(struct ptp_as *as)
{
	atomic_store(&as->dead, true);
}

/* The stub's address in every stub process of p. Inline: the transport
 * needs it, and the platform that places the stub sits above it. */
static inline uintptr_t ptp_stub_addr(const struct ptp_platform *p,
				      const unsigned char *sym)
{
	return p->stub_start + (uintptr_t)(sym - ptp_stub_blob_start);
}

/* ptrace.c: the transport. */
int ptp_wait(pid_t tid, int *status, int flags);
bool ptp_status_gone(int status);
/* Whether tid has died (not yet reaped); any thread of the tracer may ask. */
bool ptp_exited(pid_t tid);
pid_t ptp_gettid(void);
int ptp_inject_on(struct ptp_platform *p, pid_t tid, long nr,
		  const uint64_t args[6], bool restart_stub, pid_t ppid,
		  long *result);
/* n records of stub/stub-abi.h's batch list in one round trip; mem_fd: the
 * traced thread's cached /proc/<tid>/mem (-1: not opened yet). */
int ptp_inject_batch_on(struct ptp_platform *p, pid_t tid, int *mem_fd,
			const uint64_t *records, size_t n, long *result, size_t *done);
int ptp_retire_thread(struct ptp_platform *p, pid_t tid);
/* Seizes tid and stops it (PTRACE_INTERRUPT): 0 or -errno. */
int ptp_attach_thread(pid_t tid);
void ptp_reap(pid_t tid);
void ptp_set_open_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* abi.c: a syscall stop's ABI from the kernel's AUDIT_ARCH_* for it (0 when
 * the kernel cannot say), and the six arguments of a syscall of that ABI. */
enum ptp_syscall_abi ptp_syscall_abi_of(uint32_t audit_arch, long nr);
void ptp_syscall_args_of(const struct arch_regs *r, enum ptp_syscall_abi abi,
			 uint64_t args[6]);

/* filter.c */
bool ptp_filter_allows(uintptr_t stub_start, long nr, const uint64_t args[6]);
/* ops: NULL, or the backend whose filter_* fields shape the stub filter. */
int ptp_filter_build(uintptr_t stub_start, bool default_allow, bool probe,
		     const struct ptp_backend_ops *ops, struct sock_fprog *out);
void ptp_filter_free(struct sock_fprog *prog);

/* service.c: the executor. Start runs startup(arg) on the new thread and
 * returns its result (on failure the thread has ended); call runs fn(arg)
 * there and returns its result; stop runs last(arg) there and ends it. */
int ptp_svc_start(struct ptp_svc *s, int (*startup)(void *arg), void *arg);
int ptp_svc_call(struct ptp_svc *s, int (*fn)(void *arg), void *arg);
void ptp_svc_stop(struct ptp_svc *s, int (*last)(void *arg), void *arg);

/* fault.c: the fault record. classify: the heuristic's access for ev (a
 * fault), and the record of this outcome; forget: drop records at addresses
 * in [start, end) of as, or ctx's record wherever it lies. */
void ptp_fault_classify(struct ptp_ctx *ctx, struct ptp_as *as, struct ptp_event *ev);
void ptp_as_forget_faults(struct ptp_as *as, uintptr_t start, uintptr_t end);
void ptp_fault_forget_ctx(struct ptp_ctx *ctx);
void ptp_fault_as_init(struct ptp_as *as);
void ptp_fault_as_fini(struct ptp_as *as);

/* as.c */
void ptp_as_destroy(struct ptp_as *as);
int ptp_unmap_all_but_stub(struct ptp_platform *p, pid_t pid, uintptr_t end);

/* tracer.c: the per-tracer-thread pool of traced threads. */
extern pthread_mutex_t ptp_registry_lock;
void ptp_registry_add(struct ptp_as *as);
void ptp_registry_remove(struct ptp_as *as);
struct ptp_as *ptp_registry_any(struct ptp_platform *p);
unsigned int ptp_registry_threads(struct ptp_platform *p);
int ptp_tracer_thread(struct ptp_as *as, struct ptp_traced **out);
int ptp_clone_stopped_thread(struct ptp_as *as, pid_t *tid);
struct ptp_traced *ptp_tracer_find(uint64_t as_id, pid_t tid);
/* Once, at the first ptp_open: the fork handlers and ptp_process_pid. */
void ptp_registry_init(void);
/* This process's pid, kept by a pthread_atfork child handler, so that a
 * call can tell a platform of the parent's with one load (no getpid()
 * system call per switch). */
extern _Atomic pid_t ptp_process_pid;

/*
 * The caller forked after opening the platform (pid opener), and this is the child: the stub
 * processes are traced by the parent's threads, and the child has only the
 * forking thread, so nothing of p may be driven or released here (ptplat.h,
 * "fork"). Such calls return -ECHILD or do nothing.
 */
static inline bool ptp_forked_away(pid_t opener)
{
	return opener != atomic_load_explicit(&ptp_process_pid, memory_order_relaxed);
}

/* Pinning: the CPU the calling tracer thread is pinned to, chosen and set
 * on its first call (and again if the thread changed its own affinity), or
 * -1 if it cannot be pinned. unpin: threads that p pinned get back the
 * affinity they had. */
int ptp_tracer_pin_cpu(const struct ptp_platform *p);
void ptp_tracer_unpin(const struct ptp_platform *p);

#endif /* PTP_INTERNAL_H */
