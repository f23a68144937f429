/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Processes: fork, vfork, wait4 and the process table. Every app process
 * lives in this one sentry process: its own address space (ptp_as) and
 * memory file, fd table (host fds dup'ed, so a pipe end closes when the
 * last process holding it lets go), working directory and handlers; its
 * threads run on tracer threads of their own. Pids are the sentry's: the
 * first process has the sentry's host pid, the others count up from it
 * and share the id space with thread ids.
 *
 * A forked process runs on a runner thread (its first thread's tracer
 * thread). When it ends, the runner frees its memory and fds and leaves a
 * zombie holding the wait status until the parent's wait4 reaps it (and
 * joins the runner). Processes still running when the first one ends are
 * killed (SIGKILL) so that the sentry exits with the first one: unlike the
 * kernel's, its orphans do not live on.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sentry.h"

static pthread_mutex_t procs_lock = PTHREAD_MUTEX_INITIALIZER;
/* Broadcast when a process becomes a zombie, a vfork child lets its
 * parent go, or a process starts exiting (its waiters must see it). */
static pthread_cond_t procs_cond = PTHREAD_COND_INITIALIZER;

/* Under procs_lock: waits for a change of the table (counted as blocked
 * time, --stats). */
static void wait_procs(void)
{
	uint64_t t0 = sn_now_ns();

	pthread_cond_wait(&procs_cond, &procs_lock);
	atomic_fetch_add(&sn.st.ns_blocked, sn_now_ns() - t0);
}
static struct sn_proc *procs;
static atomic_int next_id;

pid_t sn_new_id(void)
{
	return atomic_fetch_add(&next_id, 1);
}

int sn_signal_wait_status(int sig)
{
	struct rlimit core;

	/* The kernel sets the bit when it wrote a core; with RLIMIT_CORE 0
	 * (as the suite runs) it writes none. */
	switch (sig) {
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS:
	case SIGFPE: case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		if (getrlimit(RLIMIT_CORE, &core) == 0 && core.rlim_cur > 0)
			return sig | WCOREFLAG;
		return sig;
	default:
		return sig;
	}
}

int sn_proc_new(struct sn_proc *parent, struct sn_proc **out)
{
	struct sn_proc *proc = calloc(1, sizeof(*proc));

	if (!proc)
		return -ENOMEM;
	pthread_mutex_init(&proc->sig_lock, NULL);
	pthread_mutex_init(&proc->threads_lock, NULL);
	sn_fd_init(&proc->fds);
	proc->cwd = -1;
	if (parent) {
		proc->pid = sn_new_id();
		proc->ppid = parent->pid;
		proc->pgid = parent->pgid;
		proc->sid = parent->sid;
		proc->parent = parent;
	} else {
		proc->pid = getpid();
		proc->ppid = getppid();
		/* The sentry's own group and session, which the native run
		 * would have had; only app processes are ever in them as far
		 * as kill and wait see. */
		proc->pgid = getpgid(0);
		proc->sid = getsid(0);
		atomic_store(&next_id, proc->pid + 1);
	}
	pthread_mutex_lock(&procs_lock);
	proc->next_proc = procs;
	procs = proc;
	pthread_mutex_unlock(&procs_lock);
	*out = proc;
	return 0;
}

/* Frees what a process holds but its table entry: contexts, threads,
 * memory, fds. Its threads have stopped. */
static void release_resources(struct sn_proc *proc)
{
	struct sn_thread *list;

	/* The timer thread may kick the first thread until then. */
	sn_timer_cancel(proc);
	pthread_mutex_lock(&proc->threads_lock);
	list = proc->threads;
	proc->threads = NULL;
	proc->main_thread = NULL;
	pthread_mutex_unlock(&proc->threads_lock);
	while (list) {
		struct sn_thread *next = list->next;

		if (list->ctx)
			ptp_ctx_free(list->ctx);
		free(list);
		list = next;
	}
	if (proc->mm)
		sn_mm_free(proc->mm);
	proc->mm = NULL;
	sn_fd_close_all(&proc->fds);
	if (proc->cwd >= 0)
		close(proc->cwd);
	proc->cwd = -1;
}

static void unlink_proc(struct sn_proc *proc)
{
	for (struct sn_proc **p = &procs; *p; p = &(*p)->next_proc) {
		if (*p == proc) {
			*p = proc->next_proc;
			return;
		}
	}
}

static void free_proc(struct sn_proc *proc)
{
	release_resources(proc);
	pthread_mutex_destroy(&proc->sig_lock);
	pthread_mutex_destroy(&proc->threads_lock);
	free(proc);
}

void sn_proc_discard(struct sn_proc *proc)
{
	pthread_mutex_lock(&procs_lock);
	unlink_proc(proc);
	pthread_mutex_unlock(&procs_lock);
	free_proc(proc);
}

void sn_proc_wake_waiters(void)
{
	pthread_mutex_lock(&procs_lock);
	pthread_cond_broadcast(&procs_cond);
	pthread_mutex_unlock(&procs_lock);
}

void sn_proc_wait_signal(struct sn_thread *t)
{
	pthread_mutex_lock(&procs_lock);
	while (!(atomic_load(&t->sig_pending) & ~t->sigmask) && !atomic_load(&t->proc->exiting))
		wait_procs();
	pthread_mutex_unlock(&procs_lock);
}

/* Under procs_lock: SIGCHLD to proc's parent when it handles it (ignored
 * or default, the kernel sends nothing a process could see). A blocking
 * host call ends too: restarted or EINTR by the handler's SA_RESTART. */
static void notify_parent(struct sn_proc *proc, int status)
{
	struct sn_proc *parent = proc->parent;
	struct sn_sigaction act;
	siginfo_t info = { .si_signo = SIGCHLD };

	if (!parent || parent->zombie)
		return;
	pthread_mutex_lock(&parent->sig_lock);
	act = parent->sig[SIGCHLD];
	pthread_mutex_unlock(&parent->sig_lock);
	if (act.handler == (uint64_t)(uintptr_t)SIG_DFL || act.handler == (uint64_t)(uintptr_t)SIG_IGN)
		return;
	info.si_pid = proc->pid;
	info.si_uid = getuid();
	if (WIFSIGNALED(status)) {
		info.si_code = WCOREDUMP(status) ? CLD_DUMPED : CLD_KILLED;
		info.si_status = WTERMSIG(status);
	} else {
		info.si_code = CLD_EXITED;
		info.si_status = WEXITSTATUS(status);
	}
	pthread_mutex_lock(&parent->threads_lock);
	if (parent->main_thread) {
		sn_signal_queue(parent->main_thread, &info);
		if (parent->main_thread->ctx && parent->main_thread->pthread)
			sn_thread_kick(parent->main_thread);
		else if (parent->main_thread->ctx)
			ptp_interrupt(parent->main_thread->ctx);
	}
	pthread_mutex_unlock(&parent->threads_lock);
}

void sn_proc_vfork_release(struct sn_proc *proc)
{
	pthread_mutex_lock(&procs_lock);
	proc->vfork_pending = false;
	pthread_cond_broadcast(&procs_cond);
	pthread_mutex_unlock(&procs_lock);
}

static void *runner_main(void *arg)
{
	struct sn_proc *proc = arg;
	int status = sn_proc_run(proc);

	if (WIFSIGNALED(status))
		status = sn_signal_wait_status(WTERMSIG(status));
	/* Its fds close now, not at the reaping: a pipe's reader must see
	 * EOF when the writer is gone, whether or not anyone waits. */
	release_resources(proc);
	pthread_mutex_lock(&procs_lock);
	proc->exit_status = status;
	proc->zombie = true;
	proc->vfork_pending = false;
	notify_parent(proc, status);
	for (struct sn_proc *c = procs; c; c = c->next_proc)
		if (c->parent == proc)
			c->parent = NULL;
	pthread_cond_broadcast(&procs_cond);
	pthread_mutex_unlock(&procs_lock);
	return NULL;
}

/* Copies every region of src into dst (a new, empty memory), reading only
 * the pages the memory file holds: the rest are holes that read as
 * zeros, and stay holes in the copy. */
static int copy_memory(struct sn_mm *dst, struct sn_mm *src)
{
	int err = 0;

	/* The child runs nothing yet: one round trip maps it all. */
	sn_mm_batch_begin(dst);
	pthread_mutex_lock(&src->lock);
	dst->brk_start = src->brk_start;
	dst->brk_cur = src->brk_cur;
	dst->brk_mapped = src->brk_mapped;
	dst->mmap_top = src->mmap_top;
	dst->min_addr = src->min_addr;
	dst->code_page = src->code_page;
	for (size_t i = 0; i < src->n && !err; i++) {
		const struct sn_region *r = &src->r[i];
		size_t len = r->end - r->start;
		uint8_t *to;
		off_t at = (off_t)r->start, end = (off_t)r->end;

		if ((err = sn_mm_map(dst, r->start, len, r->prot)) < 0)
			break;
		to = sn_ptr(dst, r->start, len, 0);
		if (!to) {
			err = -EFAULT;
			break;
		}
		while (at < end) {
			off_t data = lseek(src->memfd, at, SEEK_DATA), hole;

			if (data < 0 && errno == ENXIO)
				break;
			if (data < 0) {
				/* No SEEK_DATA: copy the rest whole. */
				data = at;
				hole = end;
			} else {
				hole = lseek(src->memfd, data, SEEK_HOLE);
				if (hole < 0 || hole > end)
					hole = end;
			}
			if (data >= end)
				break;
			memcpy(to + (data - (off_t)r->start), r->host + (data - (off_t)r->start),
			       (size_t)(hole - data));
			at = hole;
		}
	}
	pthread_mutex_unlock(&src->lock);
	/* On an error the fork fails and frees dst, queue and all. */
	return err < 0 ? err : sn_mm_batch_end(dst);
}

static int copy_fds(struct sn_fdtable *dst, struct sn_fdtable *src)
{
	int err = 0;

	pthread_mutex_lock(&src->lock);
	for (int i = 0; i < SN_MAX_FDS && !err; i++) {
		if (src->host[i] < 0)
			continue;
		dst->host[i] = fcntl(src->host[i], F_DUPFD_CLOEXEC, 3);
		dst->cloexec[i] = src->cloexec[i];
		if (dst->host[i] < 0)
			err = -errno;
	}
	pthread_mutex_unlock(&src->lock);
	return err;
}

/* The clone flags fork and vfork may carry (glibc's fork passes the
 * child-tid ones for its own thread descriptor); the low byte is the
 * signal the parent gets at the child's end. */
#define FORK_FLAGS (CLONE_VM | CLONE_VFORK | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | \
		    CLONE_PARENT_SETTID | 0xff)

long sn_proc_fork(struct sn_thread *t, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid)
{
	struct sn_proc *parent = t->proc, *child;
	struct sn_thread *ct;
	struct ptp_as *as;
	bool vfork = flags & CLONE_VFORK;
	pid_t pid;
	int err;

	if ((flags & ~(uint64_t)FORK_FLAGS) || ((flags & CLONE_VM) && !vfork)) {
		/* A shared address space without a thread of the same
		 * process (or CLONE_FILES and the like): not a fork. */
		sn_log("pid %d: clone flags %#llx not implemented: ENOSYS", parent->pid,
		       (unsigned long long)flags);
		return -ENOSYS;
	}
	if ((err = sn_proc_new(parent, &child)) < 0)
		return err;
	ct = calloc(1, sizeof(*ct));
	if (!ct) {
		err = -ENOMEM;
		goto fail;
	}
	child->main_thread = ct;
	child->threads = ct;
	ct->proc = child;
	ct->tid = child->pid;
	ct->sigmask = t->sigmask;
	ct->ss_sp = t->ss_sp;
	ct->ss_size = t->ss_size;
	ct->ss_flags = t->ss_flags;
	if ((err = ptp_as_new(sn.plat, &as)) < 0)
		goto fail;
	if ((err = sn_mm_new(as, &child->mm)) < 0) {
		ptp_as_release(as);
		goto fail;
	}
	if ((err = copy_memory(child->mm, parent->mm)) < 0)
		goto fail;
	if ((err = ptp_ctx_new(sn.plat, &ct->ctx)) < 0 || (err = ptp_ctx_copy(ct->ctx, t->ctx)) < 0)
		goto fail;
	ptp_ctx_set_result(ct->ctx, 0);
	if (stack)
		ptp_ctx_set_sp(ct->ctx, stack);
	if ((err = copy_fds(&child->fds, &parent->fds)) < 0)
		goto fail;
	child->cwd = fcntl(parent->cwd, F_DUPFD_CLOEXEC, 3);
	if (child->cwd < 0) {
		err = -errno;
		goto fail;
	}
	memcpy(child->exe, parent->exe, sizeof(child->exe));
	pthread_mutex_lock(&parent->sig_lock);
	memcpy(child->sig, parent->sig, sizeof(child->sig));
	pthread_mutex_unlock(&parent->sig_lock);
	child->umask = parent->umask;
	if (flags & CLONE_CHILD_CLEARTID)
		ct->clear_tid = (uintptr_t)ctid;
	/* The tid words: the child's in its own copy, the parent's in its. */
	if (((flags & CLONE_CHILD_SETTID) &&
	     sn_copy_out(child->mm, ctid, &ct->tid, sizeof(ct->tid)) < 0) ||
	    ((flags & CLONE_PARENT_SETTID) &&
	     sn_copy_out(parent->mm, ptid, &ct->tid, sizeof(ct->tid)) < 0)) {
		err = -EFAULT;
		goto fail;
	}
	atomic_store(&child->live_threads, 1);
	child->vfork_pending = vfork;
	pid = child->pid;
	pthread_mutex_lock(&procs_lock);
	err = -pthread_create(&child->runner, NULL, runner_main, child);
	child->has_runner = !err;
	/* Set before anyone can kick it (sn_proc_kill holds this lock). */
	ct->pthread = child->runner;
	pthread_mutex_unlock(&procs_lock);
	if (err)
		goto fail;
	if (vfork) {
		/* The parent sleeps until the child has exec'd or ended, as
		 * the kernel's vfork (the memory is a copy, so this is only
		 * the order the app may rely on). */
		pthread_mutex_lock(&procs_lock);
		while (child->vfork_pending && !atomic_load(&parent->exiting))
			wait_procs();
		pthread_mutex_unlock(&procs_lock);
	}
	return pid;
fail:
	pthread_mutex_lock(&procs_lock);
	unlink_proc(child);
	pthread_mutex_unlock(&procs_lock);
	free_proc(child);
	return err;
}

/* Under procs_lock: info to p's first thread (a zombie loses it). */
static void signal_locked(struct sn_proc *p, const siginfo_t *info)
{
	pthread_mutex_lock(&p->threads_lock);
	if (!p->zombie && p->main_thread && p->main_thread->ctx && info->si_signo) {
		sn_signal_queue(p->main_thread, info);
		/* A blocking host call ends too: the call restarts or returns
		 * EINTR as the kernel's would. */
		if (p->main_thread->pthread)
			sn_thread_kick(p->main_thread);
		else
			ptp_interrupt(p->main_thread->ctx);
	}
	pthread_mutex_unlock(&p->threads_lock);
}

int sn_proc_signal(pid_t pid, const siginfo_t *info)
{
	int err = -ESRCH;

	pthread_mutex_lock(&procs_lock);
	for (struct sn_proc *p = procs; p; p = p->next_proc) {
		if (p->pid != pid)
			continue;
		/* A zombie still exists: the signal is lost, not refused. */
		err = 0;
		signal_locked(p, info);
		break;
	}
	/* Its wait4 or vfork wait must see the signal. */
	pthread_cond_broadcast(&procs_cond);
	pthread_mutex_unlock(&procs_lock);
	return err;
}

long sn_proc_signal_group(struct sn_thread *t, pid_t pid, int sig)
{
	siginfo_t info = { .si_signo = sig, .si_code = SI_USER };
	bool found = false, self = false;

	info.si_pid = t->proc->pid;
	info.si_uid = getuid();
	pthread_mutex_lock(&procs_lock);
	pid_t pgid = pid == 0 ? t->proc->pgid : -pid;

	for (struct sn_proc *p = procs; p; p = p->next_proc) {
		/* -1: every process the caller may signal but itself (all
		 * of the app's; the kernel leaves init out too). */
		if (pid == -1 ? p == t->proc : p->pgid != pgid)
			continue;
		found = true;
		if (p == t->proc)
			self = true;
		else
			signal_locked(p, &info);
	}
	pthread_cond_broadcast(&procs_cond);
	pthread_mutex_unlock(&procs_lock);
	/* The caller's own share, as kill(getpid()): taken at the return. */
	if (self && sig)
		sn_signal_self(t, sig);
	return found ? 0 : -ESRCH;
}

/* Under procs_lock: the app process pid (0: t's own), or NULL. */
static struct sn_proc *find_proc(struct sn_thread *t, pid_t pid)
{
	if (pid == 0)
		return t->proc;
	for (struct sn_proc *p = procs; p; p = p->next_proc)
		if (p->pid == pid)
			return p;
	return NULL;
}

/* getpgid and getsid: an app process's (host processes are not asked:
 * the sentry's ids may be theirs too). */
static long proc_id(struct sn_thread *t, pid_t pid, bool session)
{
	struct sn_proc *p;
	long r = -ESRCH;

	pthread_mutex_lock(&procs_lock);
	if ((p = find_proc(t, pid)))
		r = session ? p->sid : p->pgid;
	pthread_mutex_unlock(&procs_lock);
	return r;
}

long sn_sys_getpgid(struct sn_thread *t, const uint64_t a[6])
{
	return proc_id(t, (pid_t)a[0], false);
}

long sn_sys_getsid(struct sn_thread *t, const uint64_t a[6])
{
	return proc_id(t, (pid_t)a[0], true);
}

long sn_sys_setpgid(struct sn_thread *t, const uint64_t a[6])
{
	pid_t pid = (pid_t)a[0] ? (pid_t)a[0] : t->proc->pid;
	pid_t pgid = (pid_t)a[1] ? (pid_t)a[1] : pid;
	struct sn_proc *p;
	long err = -ESRCH;

	if (pgid < 0)
		return -EINVAL;
	pthread_mutex_lock(&procs_lock);
	p = find_proc(t, pid);
	/* The kernel's order of refusals (kernel/sys.c setpgid). */
	if (!p || (p != t->proc && p->parent != t->proc))
		goto out;
	err = -EPERM;
	if (p != t->proc && p->sid != t->proc->sid)
		goto out;
	err = -EACCES;
	if (p != t->proc && p->execed)
		goto out;
	err = -EPERM;
	if (p->sid == p->pid)
		goto out;
	if (pgid != pid) {
		/* Only into a group that exists in the caller's session. */
		bool exists = false;

		for (struct sn_proc *g = procs; g && !exists; g = g->next_proc)
			exists = !g->zombie && g->pgid == pgid && g->sid == t->proc->sid;
		if (!exists)
			goto out;
	}
	p->pgid = pgid;
	err = 0;
out:
	pthread_mutex_unlock(&procs_lock);
	return err;
}

/* Under procs_lock: whether c is a child of self that waitid's (type, id)
 * names. */
static bool wait_matches(const struct sn_proc *self, const struct sn_proc *c, idtype_t type,
			 pid_t id)
{
	if (c->parent != self)
		return false;
	switch (type) {
	case P_PID:
		return c->pid == id;
	case P_PGID:
		return c->pgid == id;
	default:
		return true;
	}
}

struct wait_result {
	pid_t pid;
	int status; /* the wait status */
};

/* Waits (unless WNOHANG) for a child of t that (type, id) names to end
 * (only with WEXITED: the sentry stops and continues no process), and
 * reaps it unless WNOWAIT: 1 and res, 0 (WNOHANG, none yet), -ECHILD (no
 * such child at all), or -EINTR when the process is ending or has a
 * signal to take (the timer and kill wake waiters). */
static long wait_child(struct sn_thread *t, idtype_t type, pid_t id, int options,
		       struct wait_result *res)
{
	struct sn_proc *found = NULL;
	bool any;

	pthread_mutex_lock(&procs_lock);
	if (type == P_PGID && id == 0)
		id = t->proc->pgid;
	for (;;) {
		any = false;
		for (struct sn_proc *c = procs; c && !found; c = c->next_proc) {
			if (!wait_matches(t->proc, c, type, id))
				continue;
			any = true;
			if (c->zombie && (options & WEXITED))
				found = c;
		}
		if (found || !any || (options & WNOHANG) || atomic_load(&t->proc->exiting) ||
		    (atomic_load(&t->sig_pending) & ~t->sigmask))
			break;
		wait_procs();
	}
	if (!found) {
		pthread_mutex_unlock(&procs_lock);
		return !any ? -ECHILD : (options & WNOHANG) ? 0 : -EINTR;
	}
	res->pid = found->pid;
	res->status = found->exit_status;
	if (options & WNOWAIT) {
		pthread_mutex_unlock(&procs_lock);
		return 1;
	}
	unlink_proc(found);
	pthread_mutex_unlock(&procs_lock);
	pthread_join(found->runner, NULL);
	free_proc(found);
	return 1;
}

/* The sentry keeps no per-process usage: zeros. */
static int zero_rusage(struct sn_thread *t, uint64_t addr)
{
	struct rusage ru = { 0 };

	return addr && sn_copy_out(t->proc->mm, addr, &ru, sizeof(ru)) < 0 ? -EFAULT : 0;
}

long sn_sys_wait4(struct sn_thread *t, const uint64_t a[6])
{
	const int known = WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE | __WNOTHREAD;
	pid_t pid = (pid_t)a[0];
	int options = (int)a[2];
	struct wait_result res;
	long rc;

	if (options & ~known)
		return -EINVAL;
	/* INT_MIN has no group to name (the kernel's ESRCH). */
	if (pid == INT_MIN)
		return -ESRCH;
	rc = wait_child(t, pid > 0 ? P_PID : pid == -1 ? P_ALL : P_PGID, pid < -1 ? -pid : pid,
			options | WEXITED, &res);
	if (rc <= 0)
		return rc;
	/* Reaped already, as the kernel's: a bad pointer loses the status. */
	if (a[1] && sn_copy_out(t->proc->mm, a[1], &res.status, sizeof(int)) < 0)
		return -EFAULT;
	if (zero_rusage(t, a[3]) < 0)
		return -EFAULT;
	return res.pid;
}

long sn_sys_waitid(struct sn_thread *t, const uint64_t a[6])
{
	const int known = WNOHANG | WNOWAIT | WEXITED | WSTOPPED | WCONTINUED | __WALL | __WCLONE |
			  __WNOTHREAD;
	idtype_t type = (idtype_t)a[0];
	pid_t id = (pid_t)a[1];
	int options = (int)a[3];
	struct wait_result res = { 0 };
	siginfo_t info;
	long rc;

	if ((options & ~known) || !(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	switch (type) {
	case P_ALL:
		break;
	case P_PID:
		if (id <= 0)
			return -EINVAL;
		break;
	case P_PGID:
		if (id < 0)
			return -EINVAL;
		break;
	case P_PIDFD:
		/* No app fd is a pidfd: pidfd_open is not built. */
		return -EBADF;
	default:
		return -EINVAL;
	}
	rc = wait_child(t, type, id, options, &res);
	if (rc > 0 && zero_rusage(t, a[4]) < 0)
		return -EFAULT;
	if (!a[2])
		return rc > 0 ? 0 : rc;
	/* The kernel writes these fields whatever the result (zeros when no
	 * child was found) and leaves the rest of the siginfo alone. */
	if (sn_copy_in(t->proc->mm, &info, a[2], sizeof(info)) < 0)
		return -EFAULT;
	info.si_signo = rc > 0 ? SIGCHLD : 0;
	info.si_errno = 0;
	info.si_code = 0;
	info.si_pid = 0;
	info.si_uid = 0;
	info.si_status = 0;
	if (rc > 0) {
		info.si_pid = res.pid;
		info.si_uid = getuid();
		if (WIFEXITED(res.status)) {
			info.si_code = CLD_EXITED;
			info.si_status = WEXITSTATUS(res.status);
		} else {
			info.si_code = WCOREDUMP(res.status) ? CLD_DUMPED : CLD_KILLED;
			info.si_status = WTERMSIG(res.status);
		}
	}
	if (sn_copy_out(t->proc->mm, a[2], &info, sizeof(info)) < 0)
		return -EFAULT;
	return rc > 0 ? 0 : rc;
}

int sn_proc_run_all(struct sn_proc *first)
{
	int status;

	first->main_thread->pthread = pthread_self();
	status = sn_proc_run(first);
	release_resources(first);
	for (;;) {
		struct sn_proc *victim = NULL;

		/* Kill every process, then take them out one at a time: a
		 * fork under way when the kill came adds one more round. */
		pthread_mutex_lock(&procs_lock);
		for (struct sn_proc *p = procs; p; p = p->next_proc)
			if (p != first && !p->zombie)
				sn_proc_kill(p, SIGKILL);
		for (struct sn_proc *p = procs; p && !victim; p = p->next_proc)
			if (p != first)
				victim = p;
		if (victim)
			unlink_proc(victim);
		pthread_cond_broadcast(&procs_cond);
		pthread_mutex_unlock(&procs_lock);
		if (!victim)
			break;
		if (victim->has_runner)
			pthread_join(victim->runner, NULL);
		free_proc(victim);
	}
	pthread_mutex_lock(&procs_lock);
	unlink_proc(first);
	pthread_mutex_unlock(&procs_lock);
	free_proc(first);
	sn_timer_shutdown();
	return status;
}
