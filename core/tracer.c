/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The thread pool: every tracer thread gets its own traced thread in each
 * address space it uses, created on demand and reused; when the tracer
 * thread exits, its traced threads are retired (a pthread key destructor).
 *
 * A tracer thread keeps weak references (address-space id -> traced
 * thread) in thread-local storage; the registry of live address spaces,
 * under ptp_registry_lock, says which of them are still valid.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

pthread_mutex_t ptp_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ptp_as *registry;

struct tracer_entry {
	uint64_t as_id;
	struct ptp_traced *t;
};

struct tracer {
	pid_t tid;
	size_t n, cap;
	struct tracer_entry *ent;
	/* Pinning (ptp_options.pin): the CPU this thread and the traced
	 * threads it runs sit on, -1 while unpinned; the platform that pinned
	 * it, which restores the affinity it had before (saved) when it
	 * closes. cpu is read without the lock by the thread itself only. */
	atomic_int cpu;
	const struct ptp_platform *pinned_by;
	cpu_set_t saved;
	/* Before the first pin: the CPU its traced threads were created on
	 * (new_thread_cpu), which the pin then prefers; -1 if none. */
	int planned;
	/* Every live tracer thread, under the registry lock. */
	struct tracer *next_live;
};

static pthread_key_t tracer_key;
static pthread_once_t tracer_once = PTHREAD_ONCE_INIT;
static __thread struct tracer *self;
static struct tracer *live_tracers;

_Atomic pid_t ptp_process_pid;

static bool registered(uint64_t as_id)
{
	for (struct ptp_as *as = registry; as; as = as->next_global)
		if (as->id == as_id)
			return true;
	return false;
}

void ptp_registry_add(struct ptp_as *as)
{
	pthread_mutex_lock(&ptp_registry_lock);
	as->next_global = registry;
	registry = as;
	pthread_mutex_unlock(&ptp_registry_lock);
}

/* Caller holds ptp_registry_lock. */
void ptp_registry_remove(struct ptp_as *as)
{
	for (struct ptp_as **pp = &registry; *pp; pp = &(*pp)->next_global) {
		if (*pp == as) {
			*pp = as->next_global;
			return;
		}
	}
}

/* Caller holds ptp_registry_lock. */
struct ptp_as *ptp_registry_any(struct ptp_platform *p)
{
	for (struct ptp_as *as = registry; as; as = as->next_global)
		if (as->p == p)
			return as;
	return NULL;
}

unsigned int ptp_registry_threads(struct ptp_platform *p)
{
	unsigned int n = 0;

	pthread_mutex_lock(&ptp_registry_lock);
	for (struct ptp_as *as = registry; as; as = as->next_global)
		if (as->p == p)
			n += as->nthreads;
	pthread_mutex_unlock(&ptp_registry_lock);
	return n;
}

static void unlink_thread(struct ptp_as *as, struct ptp_traced *t)
{
	for (struct ptp_traced **pp = &as->threads; *pp; pp = &(*pp)->next_in_as) {
		if (*pp == t) {
			*pp = t->next_in_as;
			as->nthreads--;
			return;
		}
	}
}

/*
 * The tracer thread exits: retire its traced threads, so that EXITKILL does
 * not take their address spaces with it. The registry lock is held
 * throughout, so that no other thread destroys the address space (or closes
 * the platform) under a retirement in progress.
 */
static void tracer_exit(void *arg)
{
	struct tracer *tr = arg;

	pthread_mutex_lock(&ptp_registry_lock);
	for (size_t i = 0; i < tr->n; i++) {
		struct ptp_traced *t = tr->ent[i].t;
		struct ptp_platform *p;

		if (!registered(tr->ent[i].as_id))
			continue; /* destroyed with its address space */
		p = t->as->p;
		unlink_thread(t->as, t);
		p->ops->thread_leaving(t, true);
		p->ops->retire(t);
		pthread_mutex_lock(&p->lock);
		p->threads_retired++;
		pthread_mutex_unlock(&p->lock);
		if (t->mem_fd >= 0)
			close(t->mem_fd);
		free(t);
	}
	for (struct tracer **pp = &live_tracers; *pp; pp = &(*pp)->next_live) {
		if (*pp == tr) {
			*pp = tr->next_live;
			break;
		}
	}
	pthread_mutex_unlock(&ptp_registry_lock);
	free(tr->ent);
	free(tr);
	self = NULL;
}

/*
 * fork() while a platform is open. The registry lock is held across it, so
 * the child's copy is not locked by a thread the child does not have. In the
 * child, the process id moves on (every call on the parent's platform sees
 * it and refuses, see ptp_forked_away), and the forking thread forgets its
 * traced threads, which are the parent's: its exit must not retire them.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&ptp_registry_lock);
}

static void fork_parent(void)
{
	pthread_mutex_unlock(&ptp_registry_lock);
}

static void fork_child(void)
{
	pthread_mutex_unlock(&ptp_registry_lock);
	atomic_store_explicit(&ptp_process_pid, getpid(), memory_order_relaxed);
	self = NULL;
	pthread_setspecific(tracer_key, NULL);
}

static void tracer_key_init(void)
{
	pthread_key_create(&tracer_key, tracer_exit);
	atomic_store_explicit(&ptp_process_pid, getpid(), memory_order_relaxed);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void ptp_registry_init(void)
{
	pthread_once(&tracer_once, tracer_key_init);
}

static struct tracer *tracer_self(void)
{
	if (self)
		return self;
	pthread_once(&tracer_once, tracer_key_init);
	self = calloc(1, sizeof(*self));
	if (!self)
		return NULL;
	self->tid = ptp_gettid();
	atomic_init(&self->cpu, -1);
	self->planned = -1;
	pthread_setspecific(tracer_key, self);
	pthread_mutex_lock(&ptp_registry_lock);
	self->next_live = live_tracers;
	live_tracers = self;
	pthread_mutex_unlock(&ptp_registry_lock);
	return self;
}

/*
 * The CPU of allowed that the fewest pinned tracer threads use (registry
 * lock held): threads that all start on one CPU would otherwise all stay
 * there. Ties go to the CPU its traced threads were created on, else the
 * one the thread is on, then to the lowest.
 */
static int least_used_cpu(const struct tracer *tr, const cpu_set_t *allowed)
{
	int best = -1, best_users = 0, here = tr->planned >= 0 ? tr->planned : sched_getcpu();

	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		int users = 0;

		if (!CPU_ISSET(cpu, allowed))
			continue;
		for (const struct tracer *o = live_tracers; o; o = o->next_live)
			users += o != tr && atomic_load(&o->cpu) == cpu;
		if (best < 0 || users < best_users ||
		    (users == best_users && cpu == here)) {
			best = cpu;
			best_users = users;
		}
	}
	return best;
}

int ptp_tracer_pin_cpu(const struct ptp_platform *p)
{
	struct tracer *tr = tracer_self();
	cpu_set_t allowed, one;
	int cpu;

	if (!tr)
		return -1;
	cpu = atomic_load(&tr->cpu);
	/* Pinned and still there: the switch path's only cost. */
	if (cpu >= 0 && sched_getcpu() == cpu)
		return cpu;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return -1;
	pthread_mutex_lock(&ptp_registry_lock);
	/* Not pinned yet, or the caller has set its own affinity since (so
	 * that affinity is the one to restore). */
	if (cpu < 0 || CPU_COUNT(&allowed) != 1 || !CPU_ISSET(cpu, &allowed)) {
		if (!tr->pinned_by)
			tr->pinned_by = p;
		tr->saved = allowed;
	}
	cpu = least_used_cpu(tr, &allowed);
	CPU_ZERO(&one);
	if (cpu >= 0)
		CPU_SET(cpu, &one);
	if (cpu < 0 || sched_setaffinity(0, sizeof(one), &one) < 0)
		cpu = -1;
	atomic_store(&tr->cpu, cpu);
	if (cpu < 0)
		tr->pinned_by = NULL;
	else
		tr->planned = -1;
	pthread_mutex_unlock(&ptp_registry_lock);
	return cpu;
}

/*
 * Under pinning, the CPU where tr's next traced thread is to be created:
 * the one the backend will place it on at its first switch, so that
 * nothing moves it then. The tracer thread itself is not pinned here (an
 * injection before its first switch creates its thread too, and pinning
 * waits for a switch), but its first pin prefers this CPU. -1: anywhere.
 */
static int new_thread_cpu(const struct ptp_platform *p, struct tracer *tr)
{
	cpu_set_t allowed;
	int cpu = atomic_load(&tr->cpu);

	if (!p->opts.pin)
		return -1;
	if (cpu < 0 || sched_getcpu() != cpu) {
		if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
			return -1;
		pthread_mutex_lock(&ptp_registry_lock);
		cpu = least_used_cpu(tr, &allowed);
		if (atomic_load(&tr->cpu) < 0)
			tr->planned = cpu;
		pthread_mutex_unlock(&ptp_registry_lock);
	}
	if (cpu >= 0 && p->ops->thread_cpu)
		cpu = p->ops->thread_cpu(p, cpu);
	return cpu;
}

void ptp_tracer_unpin(const struct ptp_platform *p)
{
	pthread_mutex_lock(&ptp_registry_lock);
	/* A thread in the list has not finished its exit yet: its tid is
	 * still its own. */
	for (struct tracer *tr = live_tracers; tr; tr = tr->next_live) {
		cpu_set_t now;
		int cpu = atomic_load(&tr->cpu);

		if (tr->pinned_by != p)
			continue;
		/* Only while it is still where we put it: a thread that has
		 * set its own affinity since keeps that. */
		if (cpu >= 0 && sched_getaffinity(tr->tid, sizeof(now), &now) == 0 &&
		    CPU_COUNT(&now) == 1 && CPU_ISSET(cpu, &now))
			sched_setaffinity(tr->tid, sizeof(tr->saved), &tr->saved);
		tr->pinned_by = NULL;
		atomic_store(&tr->cpu, -1);
	}
	pthread_mutex_unlock(&ptp_registry_lock);
}

/* Drops entries whose address space is gone. Caller holds the registry lock. */
static void tracer_sweep(struct tracer *tr)
{
	size_t j = 0;

	for (size_t i = 0; i < tr->n; i++)
		if (registered(tr->ent[i].as_id))
			tr->ent[j++] = tr->ent[i];
	tr->n = j;
}

struct ptp_traced *ptp_tracer_find(uint64_t as_id, pid_t tid)
{
	struct tracer *tr = self;

	if (!tr)
		return NULL;
	for (size_t i = 0; i < tr->n; i++)
		if (tr->ent[i].as_id == as_id && (!tid || tr->ent[i].t->tid == tid))
			return tr->ent[i].t;
	return NULL;
}

/*
 * Service thread: inject a thread clone into the leader. CLONE_PTRACE makes
 * the new thread start traced by us, stopped before it runs anything. 0, or
 * -errno; *tid is the thread whenever one was made (it stays the caller's
 * to end), else 0.
 */
int ptp_clone_stopped_thread(struct ptp_as *as, pid_t *tid)
{
	uint64_t args[6] = { PTP_CLONE_THREAD_FLAGS };
	int status, rc;
	long res;

	*tid = 0;
	rc = ptp_inject_on(as->p, as->pid, SYS_clone, args, false, 0, &res);
	if (rc < 0)
		return rc;
	if (res < 0)
		return (int)res; /* e.g. -EAGAIN at a pids limit */
	*tid = (pid_t)res;
	rc = ptp_wait((pid_t)res, &status, __WNOTHREAD);
	if (rc == 0 && !WIFSTOPPED(status))
		rc = -ESRCH;
	return rc;
}

/* Service thread: a new thread parked in the stub's wait loop and detached,
 * for its own tracer to seize. cpu >= 0: the leader (stopped, our tracee)
 * is moved there first, so that the thread is born there with that CPU
 * alone allowed, rather than wherever the scheduler puts a child of the
 * leader; otherwise the pin at its first switch would move it. */
static int svc_new_thread(struct ptp_as *as, int cpu, pid_t *tid)
{
	struct ptp_platform *p = as->p;
	struct arch_regs r;
	pid_t res;
	int rc;

	if (cpu >= 0) {
		cpu_set_t one;

		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		/* At worst (a cpuset change) the pin moves the thread later. */
		(void)sched_setaffinity(as->pid, sizeof(one), &one);
	}
	rc = ptp_clone_stopped_thread(as, &res);
	if (rc < 0 && !res)
		return rc;
	if (rc == 0)
		rc = ptp_arch_get_gprs(res, &r);
	if (rc == 0) {
		ptp_arch_set_ip(&r, ptp_stub_addr(p, ptp_stub_park));
		rc = ptp_arch_set_gprs(res, &r);
	}
	if (rc == 0 && ptrace(PTRACE_DETACH, res, 0, 0) < 0)
		rc = -errno;
	if (rc < 0) {
		/* Killing one thread with a signal would kill the process:
		 * retire it like any other. */
		ptp_retire_thread(p, res);
		return rc;
	}
	*tid = res;
	return 0;
}

struct new_thread_req {
	struct ptp_as *as;
	int cpu;
	pid_t tid;
};

static int serve_new_thread(void *arg)
{
	struct new_thread_req *req = arg;

	return svc_new_thread(req->as, req->cpu, &req->tid);
}

/* This thread's traced thread in as, created on first use. */
int ptp_tracer_thread(struct ptp_as *as, struct ptp_traced **out)
{
	struct tracer *tr = tracer_self();
	struct new_thread_req req = { .as = as };
	struct ptp_traced *t;
	struct tracer_entry *ent;
	pid_t tid;
	int rc;

	if (!tr)
		return -ENOMEM;
	for (size_t i = 0; i < tr->n; i++) {
		if (tr->ent[i].as_id == as->id) {
			*out = tr->ent[i].t;
			return 0;
		}
	}
	if (atomic_load(&as->dead))
		return -ESRCH;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	req.cpu = new_thread_cpu(as->p, tr);
	rc = ptp_svc_call(&as->p->svc, serve_new_thread, &req);
	if (rc < 0) {
		free(t);
		return rc;
	}
	tid = req.tid;
	*t = (struct ptp_traced){
		.tid = tid, .tracer_tid = tr->tid, .as = as, .cpu = -1, .mem_fd = -1
	};
	rc = ptp_attach_thread(tid);
	if (rc == 0 && as->p->ops->thread_setup) {
		rc = as->p->ops->thread_setup(t);
		/* Untouched (backend.h): ours to retire, as any other. */
		if (rc == -EAGAIN && ptp_retire_thread(as->p, tid) == 0) {
			free(t);
			return rc;
		}
	}
	if (rc < 0) {
		/* Untraced and parked: only killing the address space ends it. */
		free(t);
		ptp_as_mark_dead(as);
		kill(as->pid, SIGKILL);
		return rc;
	}

	pthread_mutex_lock(&ptp_registry_lock);
	tracer_sweep(tr);
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? 2 * tr->cap : 8;

		ent = realloc(tr->ent, cap * sizeof(*ent));
		if (!ent) {
			as->p->ops->thread_leaving(t, true);
			as->p->ops->retire(t);
			pthread_mutex_unlock(&ptp_registry_lock);
			free(t);
			return -ENOMEM;
		}
		tr->ent = ent;
		tr->cap = cap;
	}
	tr->ent[tr->n++] = (struct tracer_entry){ .as_id = as->id, .t = t };
	t->next_in_as = as->threads;
	as->threads = t;
	as->nthreads++;
	pthread_mutex_unlock(&ptp_registry_lock);

	pthread_mutex_lock(&as->p->lock);
	as->p->threads_created++;
	pthread_mutex_unlock(&as->p->lock);
	*out = t;
	return 0;
}
