/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The systrap backend, after gVisor's systrap platform: the app runs in an
 * untraced stub thread whose own seccomp filter traps every app syscall
 * (SECCOMP_RET_TRAP); a signal handler in the stub (stub/systrap-abi.h)
 * copies the frame into a page shared with the tracer and waits there for
 * the next context. A switch is then two hand-offs on the page's state word,
 * with no ptrace call.
 *
 * A thread is created through ptrace as on the ptrace backend, set up by
 * injection (its region, altstack, handlers and filter), and detached. The
 * address space's leader stays traced by the service thread and takes the
 * injections (ptp_as_map and the rest) for the whole address space.
 *
 * The app can write the shared page at any time: every read copies first and
 * validates the copy. Anything that does not validate kills that address
 * space alone (-ESRCH).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "bpf.h"
#include "stub-abi.h"
#include "systrap-abi.h"

/* gVisor's spin bound, both sides. */
#define SPIN_NS 20000ull
/* How often a waiting tracer looks for the death of the stub. */
#define DEATH_CHECK_NS 10000000L
/* How long an interrupt may stay unanswered: the app can block the signal
 * (a forged rt_sigreturn frame through the handler's own), and a switch
 * must not then wait for it forever. */
#define INTERRUPT_TIMEOUT_NS 500000000ull
/* How long set-up waits for the first trap, and retirement for the exit
 * (wall time: 64 threads retiring at once on a loaded host took more than
 * 100 ms, internals/thread_over_the_limit_costs_only_itself). */
#define BOOT_TIMEOUT_MS 2000
#define RETIRE_TIMEOUT_MS 1000
/* How long the syscall thread may take over one request (a populated map
 * of a large file included) before its address space is given up. */
#define REQUEST_TIMEOUT_MS 10000

#ifndef SYS_SECCOMP
#define SYS_SECCOMP 1
#endif
/* The kernel's flag (glibc does not export it): the frame returns through
 * sa_restorer, here the handler's own rt_sigreturn. */
#ifndef SA_RESTORER
#define SA_RESTORER 0x04000000
#endif

_Static_assert(PTP_SYSTRAP_SHARED + PTP_SYSTRAP_ALTSTACK == PTP_SYSTRAP_REGION,
	       "a region is its shared part and its altstack");
_Static_assert(PTP_SYSTRAP_SLOTS <= 64, "slots are a 64-bit mask");
_Static_assert(PTP_SYSTRAP_GREGS + PTP_SYSTRAP_GREGS_SIZE <= PTP_SYSTRAP_FP &&
		       PTP_SYSTRAP_SIGINFO + PTP_SYSTRAP_SIGINFO_SIZE <= PTP_SYSTRAP_GREGS,
	       "the page's parts do not overlap");

/* The signals the handler takes: the app's syscalls, its faults, and the
 * interrupt (SIGCHLD, as ptp_interrupt sends it). */
static const int handled_signals[] = { SIGSYS, SIGSEGV, SIGBUS, SIGILL,
				       SIGFPE, SIGTRAP, SIGCHLD };

struct st_thread {
	unsigned char *page;   /* the tracer's mapping of the shared part */
	unsigned char *copy;   /* what was read of it, validated from here */
	uintptr_t base;        /* the region in the address space */
	unsigned int slot;
	int memfd; /* until both sides have mapped it */
	size_t fp_size;        /* of the frames, found at the first trap */
	unsigned char *boot_fp; /* the FP image of the first, kernel-made frame */
	bool spin;             /* the hand-off spins before it sleeps */
	int stub_cpu;
	int placed_for;        /* the tracer CPU the placement was made for, or -1 */
};

static uint32_t *state_word(struct st_thread *s, size_t off)
{
	return (uint32_t *)(void *)(s->page + off);
}

static long futex(uint32_t *w, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, w, op, val, ts, NULL, 0);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uintptr_t region_of(const struct ptp_platform *p, unsigned int slot)
{
	return (p->stub_start & ~(uintptr_t)(PTP_SYSTRAP_REGION - 1)) -
	       (uintptr_t)(slot + 1) * PTP_SYSTRAP_REGION;
}

/* The address space died or broke the protocol: it alone goes. */
static int kill_as(struct ptp_as *as)
{
	ptp_as_mark_dead(as);
	kill(as->pid, SIGKILL);
	return -ESRCH;
}

/* Without an fd per thread (a pooled address space keeps its threads, and
 * no fd with them): a thread other than the leader is gone, not a zombie,
 * once it has exited, and a killed process takes every thread with it. */
static bool thread_gone(struct ptp_as *as, pid_t tid)
{
	if (atomic_load(&as->dead) || ptp_exited(as->pid))
		return true;
	return syscall(SYS_tgkill, as->pid, tid, 0) < 0 && errno == ESRCH;
}

/* Whether tid, a thread of pid, is stopped by a stop signal (state T in
 * /proc/PID/task/TID/stat, not t, a ptrace stop): a detached thread of the
 * stub is, until a SIGCONT, whenever someone stopped the stub. */
static bool thread_stopped(pid_t pid, pid_t tid)
{
	char path[64], buf[512];
	const char *paren;
	ssize_t len;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	paren = strrchr(buf, ')');
	return paren && paren[1] == ' ' && paren[2] == 'T';
}

/*
 * Waits until the state word leaves PTP_SYSTRAP_RUN: spins up to SPIN_NS when
 * the threads sit on two CPUs, then sleeps in bounded futex waits, checking
 * for the stub's death after each. Returns the new state, or -ESRCH. No
 * overall bound: the app may compute as long as it likes (interrupts end a
 * switch).
 */
/* Whether an interrupt sent during this switch (ctx NULL: none can be) has
 * gone unanswered for INTERRUPT_TIMEOUT_NS; *sent_at is 0 until one is seen. */
static bool interrupt_overdue(struct ptp_ctx *ctx, uint64_t *sent_at)
{
	bool sent;

	if (!ctx)
		return false;
	pthread_mutex_lock(&ctx->irq_lock);
	sent = ctx->irq_sent;
	pthread_mutex_unlock(&ctx->irq_lock);
	if (!sent)
		return false;
	if (!*sent_at)
		*sent_at = mono_ns();
	return mono_ns() - *sent_at > INTERRUPT_TIMEOUT_NS;
}

static int wait_event(struct st_thread *s, struct ptp_traced *t, struct ptp_ctx *ctx,
		      int timeout_ms)
{
	static const struct timespec slice = { .tv_nsec = DEATH_CHECK_NS };
	uint32_t *state = state_word(s, PTP_SYSTRAP_STATE);
	uint32_t *sleeps = state_word(s, PTP_SYSTRAP_TRACER_SLEEPS);
	uint64_t give_up = timeout_ms ? mono_ns() + (uint64_t)timeout_ms * 1000000 : 0;
	uint64_t irq_at = 0;
	uint32_t cur;

	if (s->spin) {
		uint64_t end = mono_ns() + SPIN_NS;

		for (unsigned int i = 0;; i++) {
			cur = __atomic_load_n(state, __ATOMIC_ACQUIRE);
			if (cur != PTP_SYSTRAP_RUN) {
				atomic_fetch_add_explicit(&t->as->p->handoffs_spun, 1,
							  memory_order_relaxed);
				return (int)cur;
			}
			if ((i & 63) == 63 && mono_ns() > end)
				break;
			ptp_arch_cpu_relax();
		}
	}
	__atomic_exchange_n(sleeps, 1, __ATOMIC_SEQ_CST);
	while ((cur = __atomic_load_n(state, __ATOMIC_SEQ_CST)) == PTP_SYSTRAP_RUN) {
		if (futex(state, FUTEX_WAIT, PTP_SYSTRAP_RUN, &slice) == 0 ||
		    errno != ETIMEDOUT)
			continue;
		if (thread_gone(t->as, t->tid) || (give_up && mono_ns() > give_up) ||
		    interrupt_overdue(ctx, &irq_at)) {
			__atomic_store_n(sleeps, 0, __ATOMIC_SEQ_CST);
			return -ESRCH;
		}
		/* The app (another thread of it) may have cleared the
		 * handler's sleeper flag, so that answer() did not wake it:
		 * a lost wake-up costs one slice, never the switch. */
		futex(state, FUTEX_WAKE, 1, NULL);
	}
	__atomic_store_n(sleeps, 0, __ATOMIC_SEQ_CST);
	atomic_fetch_add_explicit(&t->as->p->handoffs_slept, 1, memory_order_relaxed);
	return (int)cur;
}

/* Publishes an answer; wakes the handler unless it is still spinning. */
static void answer(struct st_thread *s, uint32_t value)
{
	uint32_t *state = state_word(s, PTP_SYSTRAP_STATE);

	__atomic_exchange_n(state, value, __ATOMIC_SEQ_CST);
	if (!s->spin || __atomic_load_n(state_word(s, PTP_SYSTRAP_STUB_SLEEPS),
					__ATOMIC_SEQ_CST))
		futex(state, FUTEX_WAKE, 1, NULL);
}

/* The page's event, copied whole and checked: 0, or -EPROTO. */
static int copy_event(struct st_thread *s, siginfo_t *si)
{
	uint64_t fp_size;

	memcpy(s->copy, s->page, PTP_SYSTRAP_FP);
	memcpy(&fp_size, s->copy + PTP_SYSTRAP_FP_SIZE, sizeof(fp_size));
	if (fp_size != s->fp_size)
		return -EPROTO;
	memcpy(s->copy + PTP_SYSTRAP_FP, s->page + PTP_SYSTRAP_FP, s->fp_size);
	memcpy(si, s->copy + PTP_SYSTRAP_SIGINFO, sizeof(*si));
	for (size_t i = 0; i < sizeof(handled_signals) / sizeof(handled_signals[0]); i++)
		if (si->si_signo == handled_signals[i])
			return 0;
	return -EPROTO;
}

static uint64_t copy_u64(const struct st_thread *s, size_t off)
{
	uint64_t v;

	memcpy(&v, s->copy + off, sizeof(v));
	return v;
}

/* The copy's state into ctx. */
static void take_state(struct ptp_ctx *ctx, struct st_thread *s)
{
	ptp_arch_uc_get(s->copy + PTP_SYSTRAP_GREGS, copy_u64(s, PTP_SYSTRAP_FS_BASE),
			copy_u64(s, PTP_SYSTRAP_GS_BASE), &ctx->regs);
	/* Where the GPRs do not carry the TLS (arm64's tpidr_el0), the page's
	 * FS_BASE word does, and the context keeps it beside them. */
	if (!ARCH_TLS_IN_GPR)
		ctx->tls = copy_u64(s, PTP_SYSTRAP_FS_BASE);
	memcpy(ctx->fp, s->copy + PTP_SYSTRAP_FP, s->fp_size);
	memset(ctx->fp + s->fp_size, 0, ctx->fp_len - s->fp_size);
	ptp_arch_fp_expand(ctx->fp, s->fp_size);
	ctx->fp_valid = true;
}

/* ctx's whole state into the page (nothing of a previous context, perhaps of
 * another address space, stays readable there). */
static int give_state(struct ptp_ctx *ctx, struct st_thread *s)
{
	uint64_t fs_base, gs_base, spin = s->spin ? ptp_arch_spin_ticks(SPIN_NS) : 0;
	int rc = ptp_arch_uc_check(&ctx->regs, ctx->p->top);

	if (rc < 0)
		return rc;
	memset(s->page + PTP_SYSTRAP_SIGINFO, 0, PTP_SYSTRAP_SIGINFO_SIZE);
	memset(s->page + PTP_SYSTRAP_GREGS, 0, PTP_SYSTRAP_GREGS_SIZE);
	ptp_arch_uc_put(&ctx->regs, s->page + PTP_SYSTRAP_GREGS, &fs_base, &gs_base);
	if (!ARCH_TLS_IN_GPR)
		fs_base = ctx->tls;
	memcpy(s->page + PTP_SYSTRAP_FS_BASE, &fs_base, sizeof(fs_base));
	memcpy(s->page + PTP_SYSTRAP_GS_BASE, &gs_base, sizeof(gs_base));
	memcpy(s->page + PTP_SYSTRAP_SPIN_CYCLES, &spin, sizeof(spin));
	ptp_arch_fp_to_frame(s->page + PTP_SYSTRAP_FP, ctx->fp, s->fp_size, s->boot_fp);
	return 0;
}

/* Where the hand-off wants the stub thread of a tracer thread on cpu: with
 * two or more CPUs, on one other than its tracer thread's, spinning; else
 * on the same one, futex only (a spin there only delays the other side).
 * -1 if unknown. The core also creates the thread there (ops.thread_cpu). */
static int systrap_thread_cpu(const struct ptp_platform *p, int cpu)
{
	cpu_set_t allowed;

	/* The master has the CPUs the tracer had when it opened the
	 * platform. */
	if (cpu < 0 || sched_getaffinity(p->master, sizeof(allowed), &allowed) < 0)
		return -1;
	if (CPU_COUNT(&allowed) >= 2) {
		for (int c = 1; c < CPU_SETSIZE; c++) {
			int k = (cpu + c) % CPU_SETSIZE;

			if (CPU_ISSET(k, &allowed))
				return k;
		}
	}
	return cpu;
}

/* Keeps the stub thread where the hand-off wants it (systrap_thread_cpu).
 * Runs on every switch: once placed for the tracer thread's CPU it makes
 * no syscall (systrap_thread_cpu reads the master's affinity, one
 * sched_getaffinity per switch before). */
static void place(const struct ptp_platform *p, struct ptp_traced *t,
		  struct st_thread *s)
{
	/* The tracer thread is pinned by the first call. */
	int cpu = ptp_tracer_pin_cpu(p), want;
	cpu_set_t one;

	if (cpu >= 0 && cpu == s->placed_for)
		return;
	want = systrap_thread_cpu(p, cpu);
	if (want < 0)
		return;
	if (want != t->cpu) {
		CPU_ZERO(&one);
		CPU_SET(want, &one);
		if (sched_setaffinity(t->tid, sizeof(one), &one) < 0)
			return;
		t->cpu = want;
		s->stub_cpu = want;
	}
	s->spin = want != cpu;
	s->placed_for = cpu;
}

static int systrap_resume(struct ptp_ctx *ctx, struct ptp_traced *t,
			  struct ptp_event *ev)
{
	struct ptp_platform *p = ctx->p;
	struct st_thread *s = t->backend;
	siginfo_t si;
	int rc, state;

	if (p->opts.pin)
		place(p, t, s);
	for (;;) {
		rc = give_state(ctx, s);
		if (rc < 0)
			return rc;
		answer(s, PTP_SYSTRAP_RUN);
		state = wait_event(s, t, ctx, 0);
		if (state < 0) {
			return kill_as(t->as);
		}
		if (state != PTP_SYSTRAP_EVENT || copy_event(s, &si) < 0) {
			return kill_as(t->as);
		}
		take_state(ctx, s);
		/* How the handler's wait for the previous answer ended: a
		 * statistic only, whatever the app wrote there. */
		atomic_fetch_add_explicit(s->copy[PTP_SYSTRAP_STUB_SPUN] ? &p->handoffs_spun
									: &p->handoffs_slept,
					  1, memory_order_relaxed);
		t->gpr_resident = ctx->id;
		t->fp_resident = ctx->id;
		if (si.si_signo == SIGSYS && si.si_code == SYS_SECCOMP &&
		    !ptp_arch_vsyscall_fault(&ctx->regs, &si)) {
			if (si.si_arch != ARCH_AUDIT_NATIVE &&
			    !ptp_syscall_abi_of(si.si_arch, si.si_syscall))
				return kill_as(t->as);
			/* arm64 runs its signal-restart logic on a trapped
			 * syscall too, with the first argument as the
			 * "result": for -ERESTARTSYS (the handler has
			 * SA_RESTART) and -ERESTARTNOINTR it rewinds the pc
			 * onto the syscall instruction, and the event is at
			 * the address after it, as seccomp reported it. */
			if (ptp_arch_ip(&ctx->regs) + ARCH_SYSCALL_INSN_LEN ==
			    (uintptr_t)si.si_call_addr)
				ptp_arch_set_ip(&ctx->regs, (uintptr_t)si.si_call_addr);
			ptp_arch_syscall_trapped(&ctx->regs, si.si_syscall);
			ctx->gpr_dirty = true;
			ev->kind = PTP_EV_SYSCALL;
			ev->nr = si.si_syscall;
			ev->audit_arch = si.si_arch;
			ev->abi = ptp_syscall_abi_of(ev->audit_arch, ev->nr);
			ptp_syscall_args_of(&ctx->regs, ev->abi, ev->args);
			return 0;
		}
		if (si.si_code <= 0) {
			/* Sent by a process: ours is an interrupt, anyone
			 * else's is dropped. */
			if (si.si_signo != SIGCHLD || si.si_pid != p->self)
				continue;
			ev->kind = PTP_EV_INTERRUPTED;
			return 0;
		}
		if (si.si_signo == SIGCHLD)
			continue; /* no child of the stub's can exist */
		ev->info = si;
		ev->kind = si.si_signo == SIGSEGV ? PTP_EV_FAULT : PTP_EV_SIGNAL;
		if (ev->kind == PTP_EV_FAULT)
			ev->exact_access = ptp_arch_uc_fault_access(s->copy + PTP_SYSTRAP_GREGS);
		return 0;
	}
}

static void st_free(struct ptp_traced *t)
{
	struct st_thread *s = t->backend;

	if (!s)
		return;
	t->as->backend_slots &= ~(1ull << s->slot);
	if (s->page)
		munmap(s->page, PTP_SYSTRAP_SHARED);
	if (s->memfd >= 0)
		close(s->memfd);
	free(s->copy);
	free(s->boot_fp);
	free(s);
	t->backend = NULL;
}

/*
 * The syscall thread (stub/systrap-abi.h): the address space's maps without
 * a ptrace call. Its requests cannot be forged: the request page is
 * read-only in the stub, the thread's filter allows it only its loop's
 * calls, and it checks every record again (the stub's batch routine). Its
 * answer lies in the one page it writes, which the app can write too: it is
 * copied and must be one the request can have (else the address space
 * goes, -ESRCH). An answer the app forged within those bounds misleads the
 * tracer about that address space's own mappings, nothing else.
 */
struct st_as {
	pthread_mutex_t lock; /* one request at a time */
	unsigned char *pages; /* the tracer's mapping of both pages */
	int memfd, sock_stub; /* until the stub has its copies */
	int sock;             /* the tracer's end */
	uintptr_t base;       /* the region in the address space */
	pid_t tid;            /* the thread, 0 until it runs */
	uint32_t seq;         /* the last request's */
};

/* The scratch of the thread's recvmsg, in the result page. */
#define MSG_IOV 64
#define MSG_BYTE 96
#define MSG_CONTROL 128

static uint32_t *sc_word(struct st_as *a, size_t off)
{
	return (uint32_t *)(void *)(a->pages + off);
}

static void sc_put(struct st_as *a, size_t off, const void *v, size_t len)
{
	memcpy(a->pages + off, v, len);
}

static uint64_t sc_get(const struct st_as *a, size_t off)
{
	uint64_t v;

	memcpy(&v, a->pages + off, sizeof(v));
	return v;
}

static int sc_send_fds(int sock, const int *fds, size_t nfds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * PTP_STUB_BATCH_MAX)];
		struct cmsghdr align;
	} u;
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);

	memset(u.buf, 0, sizeof(u.buf));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
	return sendmsg(sock, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == 1 ? 0 : -errno;
}

/* What the stub's batch routine can answer to n records. */
static bool sc_answer_valid(uint64_t result, uint64_t ndone, size_t n)
{
	if (ndone > n)
		return false; /* PTP_SYSCALL_NO_FDS among them */
	if (result == 0)
		return ndone == n;
	return (int64_t)result < 0 && (int64_t)result >= -4095 && ndone < n;
}

/* One request: records whose fds are already the stub's numbers, with the
 * fds that give them those numbers. */
static int sc_request(struct ptp_as *as, struct st_as *a, const void *records, size_t n,
		      const int *fds, size_t nfds, long *result, size_t *done)
{
	static const struct timespec slice = { .tv_nsec = DEATH_CHECK_NS };
	uintptr_t msg = a->base + PTP_SYSCALL_RES + PTP_SYSCALL_MSG;
	const struct msghdr mh = { .msg_iov = (struct iovec *)(msg + MSG_IOV),
				   .msg_iovlen = 1,
				   .msg_control = (void *)(msg + MSG_CONTROL),
				   .msg_controllen = CMSG_SPACE(nfds * sizeof(int)) };
	const struct iovec iov = { .iov_base = (void *)(msg + MSG_BYTE), .iov_len = 1 };
	uint32_t *seq_word = sc_word(a, PTP_SYSCALL_REQ + PTP_SYSCALL_SEQ);
	uint32_t *done_word = sc_word(a, PTP_SYSCALL_RES + PTP_SYSCALL_DONE);
	uint64_t give_up = mono_ns() + REQUEST_TIMEOUT_MS * 1000000ull;
	uint64_t count = n, nfds64 = nfds, res, ndone;
	uint32_t seq = a->seq + 1, cur;
	bool slept;

	/* Between requests the word holds the last answer's number: the
	 * app wrote anything else there, perhaps an answer ahead of one. */
	if (__atomic_load_n(done_word, __ATOMIC_ACQUIRE) != a->seq)
		return kill_as(as);
	if (n)
		sc_put(a, PTP_SYSCALL_REQ + PTP_SYSCALL_RECORDS, records,
		       n * PTP_STUB_BATCH_WORDS * sizeof(uint64_t));
	sc_put(a, PTP_SYSCALL_REQ + PTP_SYSCALL_COUNT, &count, sizeof(count));
	sc_put(a, PTP_SYSCALL_REQ + PTP_SYSCALL_NFDS, &nfds64, sizeof(nfds64));
	sc_put(a, PTP_SYSCALL_RES + PTP_SYSCALL_MSG, &mh, sizeof(mh));
	sc_put(a, PTP_SYSCALL_RES + PTP_SYSCALL_MSG + MSG_IOV, &iov, sizeof(iov));
	if (nfds && sc_send_fds(a->sock, fds, nfds) < 0)
		return kill_as(as);
	a->seq = seq;
	__atomic_store_n(seq_word, seq, __ATOMIC_SEQ_CST);
	futex(seq_word, FUTEX_WAKE, 1, NULL);
	while ((cur = __atomic_load_n(done_word, __ATOMIC_ACQUIRE)) != seq) {
		/* Until the answer, the word says the last one: anything else
		 * is the app's, and no answer will be. */
		if (cur != seq - 1)
			return kill_as(as);
		if (futex(done_word, FUTEX_WAIT, cur, &slice) == 0)
			continue;
		slept = errno == ETIMEDOUT;
		if (mono_ns() > give_up || (slept && thread_gone(as, a->tid)))
			return kill_as(as);
		/* A stub obeys only its tracer: a stop from outside must not
		 * leave the address space unserved (nor read as a hang). */
		if (slept && thread_stopped(as->pid, a->tid))
			syscall(SYS_tgkill, as->pid, a->tid, SIGCONT);
	}
	res = sc_get(a, PTP_SYSCALL_RES + PTP_SYSCALL_RESULT);
	ndone = sc_get(a, PTP_SYSCALL_RES + PTP_SYSCALL_NDONE);
	if (!sc_answer_valid(res, ndone, n))
		return kill_as(as);
	*result = (long)res;
	*done = (size_t)ndone;
	return 0;
}

/*
 * ptp_as_map and the rest: the tracer's fds of the records' maps go over the
 * socket, each once, and the records name them by the numbers they get in
 * the stub (1, 2, ...). A record whose fd the tracer does not have ends the
 * batch there with -EBADF, as the kernel's mmap would.
 */
static int systrap_map_batch(struct ptp_as *as, const uint64_t *records, size_t n,
			     long *result, size_t *done)
{
	struct st_as *a = as->backend;
	uint64_t copy[PTP_STUB_BATCH_MAX][PTP_STUB_BATCH_WORDS];
	int fds[PTP_STUB_BATCH_MAX];
	size_t nfds = 0, k;
	long refused = 0;
	int rc;

	if (n > PTP_STUB_BATCH_MAX)
		return -EINVAL;
	memcpy(copy, records, n * sizeof(copy[0]));
	for (k = 0; k < n; k++) {
		int fd = (int)copy[k][5];
		size_t i;

		if (copy[k][0] != SYS_mmap)
			continue;
		if (copy[k][5] != (uint64_t)(int64_t)fd || fcntl(fd, F_GETFD) < 0) {
			refused = -EBADF;
			break;
		}
		for (i = 0; i < nfds && fds[i] != fd; i++)
			;
		if (i == nfds)
			fds[nfds++] = fd;
		copy[k][5] = i + 1;
	}
	if (k == 0 && refused) {
		*result = refused;
		*done = 0;
		return 0;
	}
	pthread_mutex_lock(&a->lock);
	rc = sc_request(as, a, copy, k, fds, nfds, result, done);
	pthread_mutex_unlock(&a->lock);
	if (rc == 0 && refused && *done == k)
		*result = refused;
	return rc;
}

static void sc_close_stub_copies(struct st_as *a)
{
	if (a->memfd >= 0)
		close(a->memfd);
	if (a->sock_stub >= 0)
		close(a->sock_stub);
	a->memfd = a->sock_stub = -1;
}

static void systrap_as_close(struct ptp_as *as)
{
	struct st_as *a = as->backend;

	if (!a)
		return;
	sc_close_stub_copies(a);
	if (a->sock >= 0)
		close(a->sock);
	if (a->pages)
		munmap(a->pages, PTP_SYSCALL_PAGES);
	pthread_mutex_destroy(&a->lock);
	free(a);
	as->backend = NULL;
}

/* Before the clone: what the stub will find in its copy of the fd table. */
static int systrap_as_open(struct ptp_as *as)
{
	struct st_as *a = calloc(1, sizeof(*a));
	int sv[2];

	if (!a)
		return -ENOMEM;
	a->memfd = a->sock = a->sock_stub = -1;
	pthread_mutex_init(&a->lock, NULL);
	as->backend = a;
	a->base = region_of(as->p, PTP_SYSTRAP_SLOTS);
	a->memfd = memfd_create("ptp-syscall", MFD_CLOEXEC);
	if (a->memfd < 0 || ftruncate(a->memfd, PTP_SYSCALL_PAGES) < 0)
		return -errno;
	a->pages = mmap(NULL, PTP_SYSCALL_PAGES, PROT_READ | PROT_WRITE, MAP_SHARED,
			a->memfd, 0);
	if (a->pages == MAP_FAILED) {
		a->pages = NULL;
		return -errno;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	a->sock = sv[0];
	a->sock_stub = sv[1];
	return 0;
}


/* The kernel's struct sigaction and struct sock_fprog, as the injected calls
 * read them from the shared page. */
struct kernel_sigaction {
	uint64_t handler, flags, restorer, mask;
};

struct kernel_fprog {
	uint16_t len;
	uint64_t filter __attribute__((aligned(8)));
};

#define SCRATCH PTP_SYSTRAP_FP

/* Copies a filter into the stub's memory at addr (the tracer's view of it:
 * page) as the kernel's struct sock_fprog, then frees it. */
static int put_filter(struct sock_fprog *prog, unsigned char *page, uint64_t addr,
		      size_t room)
{
	struct kernel_fprog kprog = { .len = prog->len, .filter = addr + sizeof(kprog) };
	size_t len = prog->len * sizeof(prog->filter[0]);
	int rc = sizeof(kprog) + len > room ? -E2BIG : 0;

	if (rc == 0) {
		memcpy(page, &kprog, sizeof(kprog));
		memcpy(page + sizeof(kprog), prog->filter, len);
	}
	ptp_filter_free(prog);
	return rc;
}

static int inject_checked(struct ptp_platform *p, pid_t tid, long nr,
			  const uint64_t args[6], long want)
{
	long res;
	int rc = ptp_inject_on(p, tid, nr, args, false, 0, &res);

	if (rc == 0 && res != want)
		rc = res < 0 && res > -4096 ? (int)res : -EPROTO;
	return rc;
}

/* The thread's own filter: every syscall traps but the handler's own. */
static int build_filter(struct ptp_platform *p, struct st_thread *s,
			struct sock_fprog *prog)
{
	uint64_t word = s->base + PTP_SYSTRAP_STATE;
	const struct ptp_bpf_rule rules[] = {
		{ SYS_futex, 2, { { 0, PTP_BPF_EQ, word }, { 1, PTP_BPF_EQ, FUTEX_WAIT } } },
		{ SYS_futex, 2, { { 0, PTP_BPF_EQ, word }, { 1, PTP_BPF_EQ, FUTEX_WAKE } } },
		{ SYS_rt_sigreturn, 0, { { 0 } } },
		{ SYS_exit, 0, { { 0 } } },
	};
	const struct ptp_bpf_spec spec = {
		.code_lo = ptp_stub_addr(p, ptp_stub_systrap_handler),
		.code_hi = ptp_stub_addr(p, ptp_stub_systrap_end) - 1,
		.rules = rules,
		.nrules = sizeof(rules) / sizeof(rules[0]),
		.in_range_miss = SECCOMP_RET_KILL_PROCESS,
	};

	return ptp_bpf_build(&spec, prog);
}

/* Injected into t (traced, stopped): the region, the altstack, the
 * handlers, and last the filter, after which the stub's own syscall
 * instruction traps too. */
static int install(struct ptp_platform *p, struct ptp_traced *t, struct st_thread *s)
{
	const uint64_t map_shared[PTP_STUB_BATCH_WORDS] = {
		SYS_mmap, s->base, PTP_SYSTRAP_SHARED, PROT_READ | PROT_WRITE,
		MAP_SHARED | MAP_FIXED, (uint64_t)s->memfd, 0
	};
	const uint64_t map_stack[6] = { s->base + PTP_SYSTRAP_SHARED, PTP_SYSTRAP_ALTSTACK,
					PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
					(uint64_t)-1, 0 };
	const uint64_t altstack[6] = { s->base + SCRATCH };
	const uint64_t set_filter[6] = { SECCOMP_SET_MODE_FILTER, 0, s->base + SCRATCH };
	struct kernel_sigaction sa = {
		.handler = ptp_stub_addr(p, ptp_stub_systrap_handler),
		/* SA_RESTART: an arm64 syscall whose first argument is
		 * -ERESTARTSYS keeps it (systrap_resume), rather than
		 * reading as -EINTR. The handler makes no interruptible
		 * call of its own with a signal unblocked. */
		.flags = SA_SIGINFO | SA_ONSTACK | SA_RESTORER | SA_RESTART,
		.restorer = ptp_stub_addr(p, ptp_stub_systrap_restorer),
		.mask = ~0ull,
	};
	stack_t ss = { .ss_sp = (void *)(s->base + PTP_SYSTRAP_SHARED),
		       .ss_size = PTP_SYSTRAP_ALTSTACK };
	struct sock_fprog prog = { 0 };
	size_t done;
	long res;
	int rc;

	/* The stub has no fd of the tracer's: the memfd goes over. */
	rc = systrap_map_batch(t->as, map_shared, 1, &res, &done);
	if (rc == 0 && res < 0)
		rc = (int)res;
	if (rc == 0)
		rc = inject_checked(p, t->tid, SYS_mmap, map_stack,
				    (long)(s->base + PTP_SYSTRAP_SHARED));
	if (rc == 0) {
		memcpy(s->page + SCRATCH, &ss, sizeof(ss));
		rc = inject_checked(p, t->tid, SYS_sigaltstack, altstack, 0);
	}
	memcpy(s->page + SCRATCH, &sa, sizeof(sa));
	for (size_t i = 0; rc == 0 && i < sizeof(handled_signals) / sizeof(handled_signals[0]);
	     i++) {
		const uint64_t args[6] = { (uint64_t)handled_signals[i], s->base + SCRATCH, 0,
					   sizeof(uint64_t) };

		rc = inject_checked(p, t->tid, SYS_rt_sigaction, args, 0);
	}
	if (rc == 0)
		rc = build_filter(p, s, &prog);
	if (rc < 0)
		return rc;
	rc = put_filter(&prog, s->page + SCRATCH, s->base + SCRATCH, PTP_SYSTRAP_FP_MAX);
	return rc < 0 ? rc : inject_checked(p, t->tid, SYS_seccomp, set_filter, 0);
}

/* The first trap, from ptp_stub_systrap_boot, made before any app code ran:
 * the one frame the kernel wrote that nobody can have touched. */
static int check_boot(struct ptp_platform *p, struct ptp_traced *t, struct st_thread *s)
{
	struct arch_regs r = p->init_regs;
	uint64_t fp_size;
	siginfo_t si;
	int state = wait_event(s, t, NULL, BOOT_TIMEOUT_MS);

	if (state != PTP_SYSTRAP_EVENT) {
		return -ESRCH;
	}
	memcpy(&fp_size, s->page + PTP_SYSTRAP_FP_SIZE, sizeof(fp_size));
	/* A frame holds the features this process may use, ptrace's image
	 * all the CPU has (AMX's tiles need a permission first): the frame's
	 * is the start of ptrace's, the rest stays in its init state. */
	if (fp_size < 512 || fp_size > p->caps.fpstate_size)
		return -ENOTSUP;
	s->fp_size = fp_size;
	if (copy_event(s, &si) < 0)
		return -EPROTO;
	ptp_arch_uc_get(s->copy + PTP_SYSTRAP_GREGS, 0, 0, &r);
	if (si.si_signo != SIGSYS || si.si_code != SYS_SECCOMP ||
	    si.si_syscall != SYS_getpid ||
	    ptp_arch_ip(&r) != ptp_stub_addr(p, ptp_stub_systrap_boot_ip))
		return -EPROTO;
	s->boot_fp = malloc(s->fp_size);
	if (!s->boot_fp)
		return -ENOMEM;
	memcpy(s->boot_fp, s->copy + PTP_SYSTRAP_FP, s->fp_size);
	return 0;
}

/* The syscall thread's filter: its loop's calls, from its code (the batch
 * routine and the loop), with the arguments it makes them with; the ranges
 * of the maps as the batch routine's checks bound them. */
static int sc_build_filter(struct ptp_platform *p, struct st_as *a, struct sock_fprog *prog)
{
	const uint64_t end = p->stub_start;
	const uint64_t prot = PTP_STUB_PROT_MASK;
	const struct ptp_bpf_rule rules[] = {
		{ SYS_futex, 3, { { 0, PTP_BPF_EQ, a->base + PTP_SYSCALL_REQ + PTP_SYSCALL_SEQ },
				  { 1, PTP_BPF_EQ, FUTEX_WAIT }, { 3, PTP_BPF_EQ, 0 } } },
		{ SYS_futex, 2, { { 0, PTP_BPF_EQ, a->base + PTP_SYSCALL_RES + PTP_SYSCALL_DONE },
				  { 1, PTP_BPF_EQ, FUTEX_WAKE } } },
		{ SYS_close_range, 3, { { 0, PTP_BPF_EQ, 1 }, { 1, PTP_BPF_EQ, ~0u },
					{ 2, PTP_BPF_EQ, 0 } } },
		{ SYS_recvmsg, 3, { { 0, PTP_BPF_EQ, 0 },
				    { 1, PTP_BPF_EQ, a->base + PTP_SYSCALL_RES + PTP_SYSCALL_MSG },
				    { 2, PTP_BPF_EQ, 0 } } },
		{ SYS_mmap, 4, { { 0, PTP_BPF_LE, end }, { 1, PTP_BPF_LE, end },
				 { 2, PTP_BPF_LE, prot }, { 3, PTP_BPF_EQ, PTP_STUB_MAP_FLAGS } } },
		{ SYS_mmap, 4, { { 0, PTP_BPF_LE, end }, { 1, PTP_BPF_LE, end },
				 { 2, PTP_BPF_LE, prot },
				 { 3, PTP_BPF_EQ, PTP_STUB_MAP_FLAGS | PTP_STUB_MAP_POPULATE } } },
		{ SYS_munmap, 2, { { 0, PTP_BPF_LE, end }, { 1, PTP_BPF_LE, end } } },
		{ SYS_mprotect, 3, { { 0, PTP_BPF_LE, end }, { 1, PTP_BPF_LE, end },
				     { 2, PTP_BPF_LE, prot } } },
	};
	const struct ptp_bpf_spec spec = {
		.code_lo = ptp_stub_addr(p, ptp_stub_batch),
		.code_hi = ptp_stub_addr(p, ptp_stub_syscall_thread_end) - 1,
		.rules = rules,
		.nrules = sizeof(rules) / sizeof(rules[0]),
		.in_range_miss = SECCOMP_RET_KILL_PROCESS,
	};

	return ptp_bpf_build(&spec, prog);
}

/*
 * The syscall thread, cloned from the leader (traced by this, the service
 * thread, from birth: CLONE_PTRACE): its own filter (the last injection:
 * the stub's injection instruction lies outside its range), every signal
 * blocked (it has no altstack for the app threads' handler, and never
 * needs one; a fault is then a kill), then started at its loop, untraced. On failure the caller kills the
 * address space, the thread with it.
 */
static int sc_start_thread(struct ptp_platform *p, struct ptp_as *as, struct st_as *a)
{
	const uint64_t scratch = a->base + PTP_SYSCALL_REQ + PTP_SYSCALL_RECORDS;
	const uint64_t filter_args[6] = { SECCOMP_SET_MODE_FILTER, 0, scratch };
	const uint64_t block_all = ~0ull;
	struct sock_fprog prog = { 0 };
	struct arch_regs r;
	pid_t tid;
	int rc;

	rc = ptp_clone_stopped_thread(as, &tid);
	if (rc == 0)
		rc = sc_build_filter(p, a, &prog);
	if (rc == 0)
		rc = put_filter(&prog, a->pages + PTP_SYSCALL_REQ + PTP_SYSCALL_RECORDS,
				scratch, 0x1000 - PTP_SYSCALL_RECORDS);
	if (rc == 0)
		rc = inject_checked(p, tid, SYS_seccomp, filter_args, 0);
	if (rc == 0)
		rc = ptp_arch_get_gprs(tid, &r);
	if (rc == 0) {
		ptp_arch_set_ip(&r, ptp_stub_addr(p, ptp_stub_syscall_thread));
		ptp_arch_set_sp(&r, 0); /* the sequence number it has answered */
		rc = ptp_arch_set_gprs(tid, &r);
	}
	/* Set last: the injections' int3 traps unblock SIGTRAP. */
	if (rc == 0 && ptrace(PTRACE_SETSIGMASK, tid, sizeof(block_all), &block_all) < 0)
		rc = -errno;
	/* As for the app's threads (systrap_thread_setup): the birth's group
	 * stop would hold a thread detached now. */
	if (rc == 0 && syscall(SYS_tgkill, as->pid, tid, SIGCONT) < 0)
		rc = -errno;
	if (rc == 0 && ptrace(PTRACE_DETACH, tid, 0, 0) < 0)
		rc = -errno;
	if (rc == 0)
		a->tid = tid;
	return rc;
}

/*
 * After the clone, in the leader (traced by the service thread, stopped).
 * The clone copied the tracer's whole fd table (the master shares it): the
 * stub maps the syscall thread's pages from its copy of the memfd and then
 * keeps the socket alone, as fd 0. Until then the stub runs nothing but
 * these injections. A first, empty request shows the thread answering.
 */
static int systrap_as_setup(struct ptp_as *as)
{
	struct ptp_platform *p = as->p;
	struct st_as *a = as->backend;
	const uint64_t map_req[6] = { a->base + PTP_SYSCALL_REQ, PTP_SYSCALL_RES, PROT_READ,
				      MAP_SHARED | MAP_FIXED, (uint64_t)a->memfd,
				      PTP_SYSCALL_REQ };
	const uint64_t map_res[6] = { a->base + PTP_SYSCALL_RES,
				      PTP_SYSCALL_PAGES - PTP_SYSCALL_RES,
				      PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED,
				      (uint64_t)a->memfd, PTP_SYSCALL_RES };
	const uint64_t to_zero[6] = { (uint64_t)a->sock_stub, 0, O_CLOEXEC };
	const uint64_t close_rest[6] = { 1, ~0u, 0 };
	size_t done;
	long res;
	int rc;

	rc = inject_checked(p, as->pid, SYS_mmap, map_req, (long)map_req[0]);
	if (rc == 0)
		rc = inject_checked(p, as->pid, SYS_mmap, map_res, (long)map_res[0]);
	if (rc == 0 && a->sock_stub != 0)
		rc = inject_checked(p, as->pid, SYS_dup3, to_zero, 0);
	if (rc == 0)
		rc = inject_checked(p, as->pid, SYS_close_range, close_rest, 0);
	sc_close_stub_copies(a);
	if (rc == 0)
		rc = sc_start_thread(p, as, a);
	if (rc == 0)
		rc = sc_request(as, a, NULL, 0, NULL, 0, &res, &done);
	return rc;
}


static int claim_slot(struct ptp_as *as, unsigned int *slot)
{
	int rc = -EAGAIN;

	pthread_mutex_lock(&ptp_registry_lock);
	for (unsigned int i = 0; i < PTP_SYSTRAP_SLOTS; i++) {
		if (!(as->backend_slots & (1ull << i))) {
			as->backend_slots |= 1ull << i;
			*slot = i;
			rc = 0;
			break;
		}
	}
	pthread_mutex_unlock(&ptp_registry_lock);
	return rc;
}

static int systrap_thread_setup(struct ptp_traced *t)
{
	struct ptp_platform *p = t->as->p;
	struct st_thread *s = calloc(1, sizeof(*s));
	struct arch_regs r = p->init_regs;
	int rc;

	if (!s)
		return -ENOMEM;
	s->memfd = -1;
	s->stub_cpu = -1;
	s->placed_for = -1;
	t->backend = s;
	rc = claim_slot(t->as, &s->slot);
	if (rc < 0) {
		free(s);
		t->backend = NULL;
		return rc; /* -EAGAIN, before anything of t changed */
	}
	s->base = region_of(p, s->slot);
	s->copy = malloc(PTP_SYSTRAP_SHARED);
	s->memfd = memfd_create("ptp-systrap", MFD_CLOEXEC);
	if (!s->copy || s->memfd < 0 ||
	    ftruncate(s->memfd, PTP_SYSTRAP_SHARED) < 0) {
		rc = s->copy ? -errno : -ENOMEM;
		goto err;
	}
	s->page = mmap(NULL, PTP_SYSTRAP_SHARED, PROT_READ | PROT_WRITE, MAP_SHARED,
		       s->memfd, 0);
	if (s->page == MAP_FAILED) {
		s->page = NULL;
		rc = -errno;
		goto err;
	}
	rc = install(p, t, s);
	if (rc < 0)
		goto err;
	close(s->memfd);
	s->memfd = -1;
	memset(s->page, 0, PTP_SYSTRAP_SHARED);
	__atomic_store_n(state_word(s, PTP_SYSTRAP_STATE), PTP_SYSTRAP_RUN, __ATOMIC_SEQ_CST);
	ptp_arch_set_ip(&r, ptp_stub_addr(p, ptp_stub_systrap_boot));
	ptp_arch_set_sp(&r, s->base + PTP_SYSTRAP_REGION);
	rc = ptp_arch_set_gprs(t->tid, &r);
	/* The stub stopped itself at its birth (ptp_stub_entry), and the
	 * group stop still holds the process: a thread detached now would
	 * join it. SIGCONT ends it; the traced leader only sees a stop for
	 * it, which its injections suppress. */
	if (rc == 0 && syscall(SYS_tgkill, t->as->pid, t->tid, SIGCONT) < 0)
		rc = -errno;
	if (rc == 0 && ptrace(PTRACE_DETACH, t->tid, 0, 0) < 0)
		rc = -errno;
	if (rc == 0)
		rc = check_boot(p, t, s);
	if (rc == 0)
		return 0;
err:
	pthread_mutex_lock(&ptp_registry_lock);
	st_free(t);
	pthread_mutex_unlock(&ptp_registry_lock);
	/* Past the slot the thread is changed: an EAGAIN of a later step
	 * must not read as the untouched one (backend.h). */
	return rc == -EAGAIN ? -ENOMEM : rc;
}

/* The exit request through the page: the handler, waiting there between
 * switches, ends the thread. */
static int systrap_retire(struct ptp_traced *t)
{
	struct st_thread *s = t->backend;
	uint64_t give_up = mono_ns() + RETIRE_TIMEOUT_MS * 1000000ull;
	int rc = 0;

	if (!s)
		return 0;
	answer(s, PTP_SYSTRAP_EXIT);
	while (syscall(SYS_tgkill, t->as->pid, t->tid, 0) == 0) {
		if (mono_ns() > give_up) {
			rc = kill_as(t->as);
			break;
		}
		usleep(1000);
	}
	st_free(t);
	return rc;
}

static void systrap_thread_leaving(struct ptp_traced *t, bool fetch)
{
	/* With fetch, retire follows and still needs the page. */
	if (!fetch)
		st_free(t);
}

static int systrap_check_options(const struct ptp_options *opts)
{
	const char *why = NULL;
	int rc;

	if (opts->mode != PTP_MODE_FAITHFUL) {
		ptp_set_open_error("the systrap backend moves the whole state at every "
				   "switch: only the faithful mode applies");
		return -EINVAL;
	}
	rc = ptp_arch_systrap_check(&why);
	if (rc < 0)
		ptp_set_open_error("systrap: %s", why);
	return rc;
}

static int systrap_ctx_pull(struct ptp_ctx *ctx)
{
	(void)ctx; /* every switch brings the whole state home */
	return 0;
}

static void systrap_ctx_release(struct ptp_ctx *ctx)
{
	ctx->fp_valid = true;
}

/* What the stub filter must allow besides the injection list: the set-up
 * calls, and the handler's own (the thread's filter narrows them to the
 * handler's code and words; stacked filters all have to allow). */
static const struct ptp_syscall_rule filter_rules[] = {
	{ SYS_sigaltstack, 0, { { 0, 0 } } },
	{ SYS_rt_sigaction, 0, { { 0, 0 } } },
	{ SYS_seccomp, 1, { { 0, SECCOMP_SET_MODE_FILTER } } },
	{ SYS_futex, 0, { { 0, 0 } } },
	{ SYS_rt_sigreturn, 0, { { 0, 0 } } },
	/* The address space's own creation and its syscall thread's. */
	{ SYS_clone, 1, { { 0, PTP_CLONE_AS_OWN_FILES_FLAGS } } },
	{ SYS_dup3, 1, { { 1, 0 } } },
	{ SYS_close_range, 1, { { 0, 1 } } },
	{ SYS_recvmsg, 1, { { 0, 0 } } },
};

const struct ptp_backend_ops ptp_backend_systrap = {
	.check_options = systrap_check_options,
	.resume = systrap_resume,
	.ctx_pull = systrap_ctx_pull,
	.ctx_release = systrap_ctx_release,
	.thread_leaving = systrap_thread_leaving,
	.retire = systrap_retire,
	.thread_setup = systrap_thread_setup,
	.thread_cpu = systrap_thread_cpu,
	.as_open = systrap_as_open,
	.as_setup = systrap_as_setup,
	.as_close = systrap_as_close,
	.map_batch = systrap_map_batch,
	.inject_via_leader = true,
	.own_fd_table = true,
	.fault_access_exact = true,
	/* The threads' slots, the syscall thread's, and the alignment. */
	.reserved_below_stub = (PTP_SYSTRAP_SLOTS + 2) * (uintptr_t)PTP_SYSTRAP_REGION,
	.filter_trap_default = true,
	.filter_rules = filter_rules,
	.nfilter_rules = sizeof(filter_rules) / sizeof(filter_rules[0]),
};
