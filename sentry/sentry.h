/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sentry: runs an unmodified static ELF program on ptplat, with its
 * syscalls implemented here in the tracer. Not a security boundary: files,
 * sockets and paths are the host's, seen with the sentry's own rights.
 */
#ifndef SENTRY_H
#define SENTRY_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "ptplat.h"

#define SN_PAGE 4096ul
#define SN_PAGE_DOWN(a) ((uintptr_t)(a) & ~(SN_PAGE - 1))
#define SN_PAGE_UP(a) (((uintptr_t)(a) + SN_PAGE - 1) & ~(SN_PAGE - 1))
#define SN_NSIG 65
#define SN_MAX_FDS 1024
/* <linux/signal.h>'s; glibc's headers may lack it. */
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1u << 31)
#endif

/* One mapped range of the app. App address a lives at offset a of the
 * memfd (identity offsets: split, protect and merge never copy) and at
 * host + (a - start) in the sentry. */
struct sn_region {
	uintptr_t start, end;
	int prot;
	uint8_t *host;
};

struct sn_mm {
	pthread_mutex_t lock;
	struct ptp_as *as;
	int memfd;
	struct sn_region *r; /* sorted by start, never overlapping */
	size_t n, cap;
	uintptr_t brk_start, brk_cur, brk_mapped;
	uintptr_t mmap_top; /* mmap(NULL) searches down from here */
	uintptr_t min_addr;
	/* sn_mm_code_page: where its page is (0: not mapped yet). */
	uintptr_t code_page;
	/* sn_mm_batch_begin..end: the app side's operations wait here and
	 * go in ptp_as_map_batch round trips. */
	bool batching;
	struct ptp_as_op *batch;
	size_t nbatch, batch_cap;
};

struct sn_fdtable {
	pthread_mutex_t lock;
	int host[SN_MAX_FDS]; /* -1: free */
	bool cloexec[SN_MAX_FDS];
};

struct sn_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct sn_proc {
	pid_t pid;
	pid_t ppid;
	pid_t pgid, sid;           /* under process.c's table lock */
	bool execed;               /* setpgid on a child that exec'd: EACCES */
	struct sn_mm *mm;
	struct sn_fdtable fds;
	int cwd; /* host O_PATH fd of the working directory */
	char exe[4096];
	pthread_mutex_t sig_lock;
	struct sn_sigaction sig[SN_NSIG];
	atomic_int live_threads;
	atomic_bool exiting;
	int exit_status; /* wait status once exiting */
	pthread_mutex_t threads_lock;
	struct sn_thread *threads; /* every thread ever started, freed at the end */
	struct sn_thread *main_thread;
	atomic_bool main_done;     /* the main tracer thread saw the exit */
	uint32_t umask;
	/* process.c: the process tree. All under sn_procs_lock. */
	struct sn_proc *parent;    /* NULL: the first process, or orphaned */
	struct sn_proc *next_proc; /* every process not yet freed */
	pthread_t runner;          /* the tracer thread of a forked process */
	bool has_runner;
	bool zombie;               /* ended and cleaned up: exit_status holds */
	bool vfork_pending;        /* a vfork parent waits for exec or exit */
};

struct sn_thread {
	struct sn_proc *proc;
	struct ptp_ctx *ctx;
	pid_t tid;
	pthread_t pthread;
	uintptr_t clear_tid;
	uint64_t sigmask;
	/* signal.c: signals waiting for delivery (bit sig-1) and their
	 * siginfo, under proc->sig_lock. */
	_Atomic uint64_t sig_pending;
	siginfo_t sig_info[SN_NSIG];
	/* The last fault's PTP_ACCESS_* (the frame's page-fault error
	 * code). */
	unsigned int fault_access;
	/* sigaltstack: the kernel's sas_ss_sp, sas_ss_size, sas_ss_flags
	 * (sn_altstack_reset gives the initial SS_DISABLE). */
	uint64_t ss_sp, ss_size;
	int ss_flags;
	/* rt_sigsuspend: the mask to give back after its handler. */
	bool has_saved_mask;
	uint64_t saved_mask;
	struct sn_thread *next;
	unsigned long migrations; /* of its traced thread, read at its end */
	/* ... and read when its first switch returned: its placement beside
	 * the tracer, before the app ran */
	unsigned long migrations_at_start;
};

/* Statistics, summed over threads with atomics. */
struct sn_stats {
	atomic_ulong syscalls[512];
	atomic_ulong enosys[512];
	atomic_ulong switches, injections, faults, signals, interrupts;
	/* Interrupted calls restarted in place (no handler ran). */
	atomic_ulong restarts;
	atomic_ulong ns_switch, ns_sentry;
	/* Of ns_sentry, the time blocked in host calls and waits for other
	 * threads or processes (read, futex, wait4, ...): time the app would
	 * wait natively too, which the app model must not count. */
	atomic_ulong ns_blocked;
	atomic_ulong ns_inject; /* every injection's time ... */
	/* ... and how much of it (and how many) the first program's load
	 * made, before the app ran: the rest is the part of ns_sentry spent
	 * in injections for syscalls. */
	unsigned long load_injections, ns_load_inject;
	/* The platform's hand-offs (ptp_stats), taken before it closes. */
	unsigned long handoffs_spun, handoffs_slept;
	atomic_ulong migrations, migrations_at_start;
};

struct sn_global {
	struct ptp_platform *plat;
	bool stats;
	FILE *log;
	pthread_mutex_t log_lock;
	struct sn_stats st;
	int stderr_fd; /* the sentry's own stderr, never the app's */
	uint64_t test_delay_blocking_ns; /* --test-delay-blocking */
};
extern struct sn_global sn;

/* Logs one line to --log (and counts nothing). printf-like. */
void sn_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The sentry's own error line on its stderr. */
void sn_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* mm.c --------------------------------------------------------------- */
int sn_mm_new(struct ptp_as *as, struct sn_mm **out);
void sn_mm_free(struct sn_mm *mm);
/* Maps zeroed memory over [start, start+len), replacing what was there. */
int sn_mm_map(struct sn_mm *mm, uintptr_t start, size_t len, int prot);
int sn_mm_unmap(struct sn_mm *mm, uintptr_t start, size_t len);
int sn_mm_protect(struct sn_mm *mm, uintptr_t start, size_t len, int prot);
/* Until sn_mm_batch_end, map, unmap and protect change the table and the
 * sentry's view at once but leave the app's side for one
 * ptp_as_map_batch at the end: for an address space no app thread runs in
 * yet (a program being loaded, a fork's copy). sn_mm_batch_end's error
 * leaves the app's side part done: the caller discards the memory. */
void sn_mm_batch_begin(struct sn_mm *mm);
int sn_mm_batch_end(struct sn_mm *mm);
/* A read+exec page holding code (at most a page) in mm, mapped on first
 * use and kept over fork (an arch's signal return trampoline, where no
 * vDSO provides one): its address, or -errno. */
long sn_mm_code_page(struct sn_mm *mm, const void *code, size_t len);
/* A free range of len below mmap_top, or 0. */
uintptr_t sn_mm_find_gap(struct sn_mm *mm, size_t len);
bool sn_mm_is_free(struct sn_mm *mm, uintptr_t start, size_t len);
/* The protection of the region holding a, or -1. */
int sn_mm_prot(struct sn_mm *mm, uintptr_t a);
/* Copy between the app and the sentry, honouring prot; 0 or -EFAULT. */
int sn_copy_in(struct sn_mm *mm, void *dst, uintptr_t src, size_t n);
int sn_copy_out(struct sn_mm *mm, uintptr_t dst, const void *src, size_t n);
/* sn_copy_out whatever the protection (the loader fills text). */
int sn_copy_out_any(struct sn_mm *mm, uintptr_t dst, const void *src, size_t n);
/* A NUL-terminated string of at most max bytes: its length, -EFAULT or
 * -ENAMETOOLONG. */
long sn_str_in(struct sn_mm *mm, char *dst, uintptr_t src, size_t max);
/* The sentry's pointer to [a, a+n) when it lies in one region with prot,
 * else NULL. Caller holds no lock: the region must not go away meanwhile
 * (a concurrent munmap of a buffer in use is the app's race). */
void *sn_ptr(struct sn_mm *mm, uintptr_t a, size_t n, int prot);

/* A buffer of app memory for one host call: direct when it lies in one
 * region, else a bounce copy. */
struct sn_iobuf {
	void *p;
	uintptr_t app;
	size_t n;
	bool bounce, out;
};
int sn_io_begin(struct sn_mm *mm, struct sn_iobuf *b, uintptr_t app, size_t n, bool out);
/* Copies a bounce buffer back (the first done bytes) and frees it. */
int sn_io_end(struct sn_mm *mm, struct sn_iobuf *b, size_t done);

/* loader.c ----------------------------------------------------------- */
/* Loads path into mm and sets ctx's registers for its entry. On error a
 * message naming path is in err. */
int sn_load(struct sn_mm *mm, struct ptp_ctx *ctx, const char *path, int dirfd,
	    char *const argv[], char *const envp[], char *err, size_t errlen);

/* fd.c --------------------------------------------------------------- */
void sn_fd_init(struct sn_fdtable *t);
/* The host fd of app fd, or -EBADF. */
int sn_fd_get(struct sn_fdtable *t, long fd);
/* Installs host at the lowest free app fd >= min: the app fd or -EMFILE
 * (host is closed then). */
int sn_fd_install(struct sn_fdtable *t, int host, int min, bool cloexec);
int sn_fd_close(struct sn_fdtable *t, long fd);
int sn_fd_dup3(struct sn_fdtable *t, long oldfd, long newfd, bool cloexec);
void sn_fd_close_on_exec(struct sn_fdtable *t);
void sn_fd_close_all(struct sn_fdtable *t);
int sn_fd_set_cloexec(struct sn_fdtable *t, long fd, bool on);
bool sn_fd_get_cloexec(struct sn_fdtable *t, long fd);

/* syscalls.c --------------------------------------------------------- */
/* A handler returns the app's result, or one of these. */
#define SN_RET_NONE (-0x7fff0001L)   /* registers already set (execve) */
#define SN_RET_EXIT (-0x7fff0002L)   /* the thread is gone */

/* What a blocking call a signal interrupted gives back, as the kernel's
 * codes (never seen by the app): a handler's -EINTR becomes one of these
 * (struct sn_syscall's on_intr). RESTARTSYS: restarted after a handler
 * with SA_RESTART, else EINTR; NOHAND: EINTR after any handler; both
 * restarted when no handler runs. */
#define SN_ERESTARTSYS (-512L)
#define SN_ERESTARTNOHAND (-514L)
bool sn_is_restart(long r);

typedef long (*sn_syscall_fn)(struct sn_thread *t, const uint64_t a[6]);
struct sn_syscall {
	sn_syscall_fn fn;
	const char *name;
	/* What the call's -EINTR means: 0 for SN_ERESTARTSYS (most blocking
	 * calls), SN_ERESTARTNOHAND, or -EINTR for a call that never
	 * restarts from outside (its handler finishes an interrupted wait
	 * itself when no signal comes of it: sleeps and polls, whose
	 * timeout must not start over). */
	long on_intr;
};
/* The handler and name of nr (fn NULL: unimplemented; name NULL: no
 * syscall the sentry knows by that number). */
const struct sn_syscall *sn_syscall_lookup(long nr);
/* Resolves an app dirfd (AT_FDCWD included) to a host one. */
int sn_dirfd(struct sn_thread *t, long dirfd);

/* Generic handlers the arch tables reuse (legacy x86_64 calls). */
long sn_sys_openat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_newfstatat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_faccessat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_readlinkat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_unlinkat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_mkdirat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_renameat2(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_fchmodat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_fchownat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_symlinkat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_linkat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_pipe2(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_dup3(struct sn_thread *t, const uint64_t a[6]);
/* poll(2) with the timeout already in the sentry (NULL: forever). */
long sn_poll(struct sn_thread *t, uint64_t fds, uint64_t nfds, const struct timespec *timeout);
long sn_sys_clone(struct sn_thread *t, uint64_t flags, uint64_t stack,
		  uint64_t ptid, uint64_t ctid, uint64_t tls);
long sn_sys_wait4(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_mknodat(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_utimensat(struct sn_thread *t, const uint64_t a[6]);

/* process.c ---------------------------------------------------------- */
/* A new process with no memory, threads or fds yet (the first one gets
 * the sentry's own pid); registered in the process table. */
int sn_proc_new(struct sn_proc *parent, struct sn_proc **out);
/* Frees a process that never ran (no threads started). */
void sn_proc_discard(struct sn_proc *proc);
/* A new thread or process id: never one in use. */
pid_t sn_new_id(void);
/* fork/vfork: a copy of t's process (memory, fds, cwd, handlers) with one
 * thread whose registers are t's (clone's flags, stack). The child's pid
 * or -errno. */
long sn_proc_fork(struct sn_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid);
/* kill(pid, sig) from another app process: queued on pid's first
 * thread. 0, or -ESRCH when no app process has that pid. */
int sn_proc_signal(pid_t pid, const siginfo_t *info);
/* kill(pid, sig) with pid 0 (t's group), -1 (every app process but t's)
 * or -pgid, from t: 0, or -ESRCH when no app process matched. */
long sn_proc_signal_group(struct sn_thread *t, pid_t pid, int sig);
long sn_sys_waitid(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_setpgid(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_getpgid(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_getsid(struct sn_thread *t, const uint64_t a[6]);
/* Blocks t until a signal it does not block is pending or its process
 * ends (rt_sigsuspend). */
void sn_proc_wait_signal(struct sn_thread *t);
/* A vfork child exec'd or is gone: its parent may go on. */
void sn_proc_vfork_release(struct sn_proc *proc);
/* Wakes every thread blocked in wait4 or vfork (proc is exiting). */
void sn_proc_wake_waiters(void);
/* Runs the first process to its end, then ends every process still
 * running and frees them all; its wait status. */
int sn_proc_run_all(struct sn_proc *first);
/* The wait status of a death by sig, with the core-dump bit where the
 * kernel would set it. */
int sn_signal_wait_status(int sig);

/* signal.c ----------------------------------------------------------- */
/* Whether sig's default action ends the process. */
bool sn_signal_default_kills(int sig);
/* Queues sig for t (one pending instance per signal, as for standard
 * signals); delivered at its next return to the app. */
void sn_signal_queue(struct sn_thread *t, const siginfo_t *info);
/* Delivers what is pending and not blocked before t goes back to the
 * app: false when that ended the process. */
bool sn_signal_deliver(struct sn_thread *t);
/* sn_signal_deliver after a syscall ev whose result was r: an interrupted
 * call (sn_is_restart(r)) is restarted (the app's registers put back to
 * re-run the instruction) or made to return EINTR, by the rules above. */
bool sn_signal_deliver_syscall(struct sn_thread *t, long r, const struct ptp_event *ev);
/* Whether a blocking call of t must give up for a signal: one pending and
 * not blocked would run a handler or end the process (or the process is
 * ending). Pending signals that would be ignored are dropped meanwhile,
 * as the kernel's get_signal drops them. */
bool sn_signal_interrupts(struct sn_thread *t);
/* A synchronous fault or kernel signal (info from the kernel): delivered
 * to the app's handler at once, else the process dies of it (blocked or
 * ignored, as the kernel's force_sig). false when the process ended. */
bool sn_signal_fault(struct sn_thread *t, const siginfo_t *info);
long sn_sys_rt_sigreturn(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_sigaltstack(struct sn_thread *t, const uint64_t a[6]);
/* No alternate stack (a new thread's, and after exec). */
void sn_altstack_reset(struct sn_thread *t);
/* The kernel's on_sig_stack (false with SS_AUTODISARM) and its form that
 * ignores SS_AUTODISARM: whether sp lies in t's alternate stack. */
bool sn_on_altstack(const struct sn_thread *t, uint64_t sp);
bool sn_in_altstack(const struct sn_thread *t, uint64_t sp);
/* The kernel's sas_ss_flags: SS_DISABLE, SS_ONSTACK or 0. */
int sn_altstack_state(const struct sn_thread *t, uint64_t sp);
/* A signal frame's uc_stack (the kernel's stack_t, on both arches). */
struct sn_frame_stack {
	uint64_t ss_sp;
	int32_t ss_flags, pad;
	uint64_t ss_size;
};
/* The frame's uc_stack: t's alternate stack as it is. */
void sn_altstack_save(const struct sn_thread *t, struct sn_frame_stack *uc_stack);
/* rt_sigreturn: the frame's uc_stack becomes t's alternate stack again
 * where sigaltstack would take it (errors ignored, as the kernel's
 * restore_altstack); sp is the restored stack pointer. */
void sn_altstack_restore(struct sn_thread *t, const struct sn_frame_stack *uc_stack, uint64_t sp);
long sn_sys_rt_sigsuspend(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_setitimer(struct sn_thread *t, const uint64_t a[6]);
long sn_sys_getitimer(struct sn_thread *t, const uint64_t a[6]);
/* alarm(2) (x86_64 only has the call; glibc's arm64 alarm uses setitimer). */
long sn_sys_alarm(struct sn_thread *t, const uint64_t a[6]);
/* Drops proc's timer (before its threads go). */
void sn_timer_cancel(struct sn_proc *proc);
/* Stops the timer thread (at the sentry's end). */
void sn_timer_shutdown(void);

/* task.c ------------------------------------------------------------- */
/* CLOCK_MONOTONIC in ns (the --stats time split). */
uint64_t sn_now_ns(void);
/* Runs the process's first thread, then waits for all others; the
 * process's wait status. */
int sn_proc_run(struct sn_proc *proc);
/* Ends the process with wait status ws (exit_group or a fatal signal). */
void sn_proc_exit(struct sn_thread *t, int wait_status);
/* Ends proc from outside it (none of its threads calls): every thread is
 * kicked. Wakes no waiter (callers may hold the process table's lock). */
void sn_proc_kill(struct sn_proc *proc, int wait_status);
/* The signal that kicks a tracer thread out of a blocking host call
 * (no SA_RESTART: the call returns EINTR). */
#define SN_KICK_SIGNAL (SIGRTMIN + 3)
/* Makes t's running switch or blocking host call return. */
void sn_thread_kick(struct sn_thread *t);
/* A host syscall that may block (read, a futex wait, a sleep, ...): the
 * raw result (-errno), or -EINTR for a kick that came at any time since
 * the calling tracer thread last looked for signals (sn_kick_consume),
 * even before the call began (arch/arch.h). Unused arguments are 0. */
long sn_blocking_call(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
/* Forgets the calling tracer thread's kicks so far: called just before it
 * looks at what they would bring (queued signals, the process's end). */
void sn_kick_consume(void);
/* Pins the calling tracer thread to one CPU (the k-th allowed after the
 * current one), so that the traced thread the core pins beside it stays
 * put: ptplat pins only the traced thread, to where the tracer is now. */
void sn_pin_self(unsigned int k);
/* A signal the app sent itself or the host raised for it (SIGPIPE). */
long sn_signal_self(struct sn_thread *t, int sig);

#endif /* SENTRY_H */
