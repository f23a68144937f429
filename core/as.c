/* SPDX-License-Identifier: Apache-2.0 */
/* Address spaces: stub processes forked from the master, driven by injection. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "stub-abi.h"

/* The stub's batch routine checks with the same values as this file. */
_Static_assert(PTP_STUB_MAP_FLAGS == (MAP_SHARED | MAP_FIXED), "stub-abi.h map flags");
_Static_assert(PTP_STUB_MAP_POPULATE == MAP_POPULATE, "stub-abi.h MAP_POPULATE");
_Static_assert((PTP_STUB_PROT_MASK & (PROT_READ | PROT_WRITE | PROT_EXEC)) ==
		       (PROT_READ | PROT_WRITE | PROT_EXEC) &&
	       !(PTP_STUB_PROT_MASK & (PROT_GROWSDOWN | PROT_GROWSUP)),
	       "stub-abi.h protections");
_Static_assert(PTP_STUB_BATCH_MAX == PTP_AS_BATCH_MAX, "batch capacity");
_Static_assert(PTP_STUB_BATCH_WORDS == 7, "a batch record is nr and six arguments");

static atomic_uint_fast64_t next_as_id = 1;

static int check_master(struct ptp_platform *p, int rc)
{
	if (rc == -ESRCH || rc == -ECHILD) {
		atomic_store(&p->dead, true);
		return -EOWNERDEAD;
	}
	return rc;
}

/* Injected into pid (traced by the calling thread): unmap everything below
 * end and above the stub. A stub at the very top leaves nothing above it
 * (and munmap of length 0 is EINVAL). */
int ptp_unmap_all_but_stub(struct ptp_platform *p, pid_t pid, uintptr_t end)
{
	uint64_t below[6] = { 0, end };
	uint64_t above[6] = { p->stub_end, p->top - p->stub_end };
	long res;
	int rc;

	rc = ptp_inject_on(p, pid, SYS_munmap, below, false, 0, &res);
	if (rc == 0 && res < 0)
		rc = (int)res;
	if (rc == 0 && p->top > p->stub_end) {
		rc = ptp_inject_on(p, pid, SYS_munmap, above, false, 0, &res);
		if (rc == 0 && res < 0)
			rc = (int)res;
	}
	return rc;
}

static int svc_unmap_all(struct ptp_as *as)
{
	/* What the backend keeps below the stub stays: its threads live on
	 * in a pooled address space. The master left nothing there. */
	int rc = ptp_unmap_all_but_stub(as->p, as->pid, as->p->user_end);

	if (rc == -ESRCH)
		ptp_as_mark_dead(as);
	return rc;
}

/*
 * Service thread: clone the master (the child re-runs the stub, checks its
 * parent and stops itself), wait for that stop from inside the master, seize
 * the child, and unmap everything but the stub in it.
 */
static int svc_new_as(struct ptp_platform *p, struct ptp_as **out)
{
	uint64_t clone_args[6] = { p->ops->own_fd_table ? PTP_CLONE_AS_OWN_FILES_FLAGS
						       : PTP_CLONE_AS_FLAGS };
	uint64_t wait_args[6] = { 0, 0, WUNTRACED | __WALL };
	struct ptp_as *as;
	int status, rc;
	long pid, res;

	if (atomic_load(&p->dead))
		return -EOWNERDEAD;
	as = calloc(1, sizeof(*as));
	if (!as)
		return -ENOMEM;
	as->p = p;
	rc = p->ops->as_open ? p->ops->as_open(as) : 0;
	if (rc == 0)
		rc = ptp_inject_on(p, p->master, SYS_clone, clone_args, true, p->master, &pid);
	if (rc < 0)
		goto err_free;
	if (pid < 0) {
		rc = (int)pid;
		goto err_free;
	}
	wait_args[0] = (uint64_t)pid;
	rc = ptp_inject_on(p, p->master, SYS_wait4, wait_args, false, 0, &res);
	if (rc == 0 && res != pid)
		rc = res < 0 ? (int)res : -ECHILD;
	if (rc < 0)
		goto err_kill;
	if (ptrace(PTRACE_SEIZE, (pid_t)pid, 0, (void *)(long)PTP_TRACE_OPTIONS) < 0) {
		rc = -errno;
		goto err_kill;
	}
	rc = ptp_wait((pid_t)pid, &status, __WNOTHREAD);
	if (rc == 0 && !WIFSTOPPED(status))
		rc = -ESRCH;
	as->pid = (pid_t)pid;
	ptp_fault_as_init(as);
	pthread_mutex_init(&as->batch_lock, NULL);
	as->leader_mem_fd = -1;
	if (rc == 0)
		rc = svc_unmap_all(as);
	if (rc == 0 && p->ops->as_setup)
		rc = p->ops->as_setup(as);
	if (rc < 0) {
		pthread_mutex_destroy(&as->batch_lock);
		ptp_fault_as_fini(as);
		goto err_kill;
	}
	as->id = atomic_fetch_add(&next_as_id, 1);
	*out = as;
	return 0;

err_kill:
	/* Its exit signal goes to the master, which ignores SIGCHLD: once
	 * we (or nobody, if never seized) let go, it is reaped automatically. */
	kill((pid_t)pid, SIGKILL);
	ptp_reap((pid_t)pid);
err_free:
	if (p->ops->as_close)
		p->ops->as_close(as);
	free(as);
	return check_master(p, rc);
}

struct new_as_req {
	struct ptp_platform *p;
	struct ptp_as *as;
};

static int serve_new_as(void *arg)
{
	struct new_as_req *req = arg;

	return svc_new_as(req->p, &req->as);
}

static int serve_unmap_all(void *arg)
{
	return svc_unmap_all(arg);
}

PTP_EXPORT int ptp_as_new(struct ptp_platform *p, struct ptp_as **out)
{
	struct new_as_req req = { .p = p };
	struct ptp_as *as;
	int rc;

	if (ptp_forked_away(p->self))
		return -ECHILD;
	if (atomic_load(&p->dead))
		return -EOWNERDEAD;
	pthread_mutex_lock(&p->lock);
	as = p->pool;
	if (as) {
		p->pool = as->next_pool;
		p->npool--;
		p->nlive++;
	}
	pthread_mutex_unlock(&p->lock);
	if (as) {
		*out = as;
		return 0;
	}
	rc = ptp_svc_call(&p->svc, serve_new_as, &req);
	if (rc < 0)
		return rc;
	as = req.as;
	ptp_registry_add(as);
	pthread_mutex_lock(&p->lock);
	p->nlive++;
	p->as_created++;
	pthread_mutex_unlock(&p->lock);
	*out = as;
	return 0;
}

/* Kills the stub process and reaps every thread of it: the leader is the
 * service thread's tracee, the others other tracer threads', but any thread
 * of the tracer may wait for them. */
void ptp_as_destroy(struct ptp_as *as)
{
	struct ptp_traced *threads, *t;

	pthread_mutex_lock(&ptp_registry_lock);
	ptp_registry_remove(as);
	threads = as->threads;
	as->threads = NULL;
	as->nthreads = 0;
	for (t = threads; t; t = t->next_in_as)
		as->p->ops->thread_leaving(t, false);
	pthread_mutex_unlock(&ptp_registry_lock);

	kill(as->pid, SIGKILL);
	while (threads) {
		t = threads;
		threads = t->next_in_as;
		ptp_reap(t->tid);
		if (t->mem_fd >= 0)
			close(t->mem_fd);
		free(t);
	}
	ptp_reap(as->pid);
	if (as->p->ops->as_close)
		as->p->ops->as_close(as);
	if (as->leader_mem_fd >= 0)
		close(as->leader_mem_fd);
	pthread_mutex_destroy(&as->batch_lock);
	ptp_fault_as_fini(as);
	free(as);
}

PTP_EXPORT void ptp_as_release(struct ptp_as *as)
{
	struct ptp_platform *p;
	bool pooled = false;

	if (!as || ptp_forked_away(as->p->self))
		return;
	p = as->p;
	pthread_mutex_lock(&p->lock);
	p->nlive--;
	pthread_mutex_unlock(&p->lock);
	if (p->opts.reuse_pool > 0 && ptp_as_status(as) == 0 &&
	    ptp_svc_call(&p->svc, serve_unmap_all, as) == 0) {
		ptp_as_forget_faults(as, 0, UINTPTR_MAX);
		pthread_mutex_lock(&p->lock);
		if (p->npool < p->opts.reuse_pool) {
			as->next_pool = p->pool;
			p->pool = as;
			p->npool++;
			pooled = true;
		}
		pthread_mutex_unlock(&p->lock);
	}
	if (!pooled)
		ptp_as_destroy(as);
}

PTP_EXPORT void ptp_trim(struct ptp_platform *p)
{
	struct ptp_as *as;

	if (ptp_forked_away(p->self))
		return;
	for (;;) {
		pthread_mutex_lock(&p->lock);
		as = p->pool;
		if (as) {
			p->pool = as->next_pool;
			p->npool--;
		}
		pthread_mutex_unlock(&p->lock);
		if (!as)
			return;
		ptp_as_destroy(as);
	}
}

PTP_EXPORT pid_t ptp_as_pid(const struct ptp_as *as)
{
	return as->pid;
}

PTP_EXPORT int ptp_platform_status(struct ptp_platform *p)
{
	/* The master is the service thread's child and tracee: if it died,
	 * it is a zombie until reaped. */
	if (ptp_forked_away(p->self))
		return -ECHILD;
	if (!atomic_load(&p->dead) && ptp_exited(p->master))
		atomic_store(&p->dead, true);
	return atomic_load(&p->dead) ? -EOWNERDEAD : 0;
}

PTP_EXPORT int ptp_as_status(struct ptp_as *as)
{
	if (ptp_forked_away(as->p->self))
		return -ECHILD;
	if (ptp_platform_status(as->p) < 0)
		return -EOWNERDEAD;
	if (!atomic_load(&as->dead)) {
		/* A killed leader is not reported while its other threads are
		 * unreaped zombies of their tracers: look at every thread. */
		bool dead = ptp_exited(as->pid);

		pthread_mutex_lock(&ptp_registry_lock);
		for (struct ptp_traced *t = as->threads; t && !dead; t = t->next_in_as)
			dead = ptp_exited(t->tid);
		pthread_mutex_unlock(&ptp_registry_lock);
		if (dead)
			ptp_as_mark_dead(as);
	}
	return atomic_load(&as->dead) ? -ESRCH : 0;
}

PTP_EXPORT unsigned int ptp_as_thread_count(struct ptp_as *as)
{
	unsigned int n;

	pthread_mutex_lock(&ptp_registry_lock);
	n = as->nthreads;
	pthread_mutex_unlock(&ptp_registry_lock);
	return n;
}

/* A death seen by an injection: the address space's, or the master's. */
static int injection_died(struct ptp_as *as)
{
	ptp_as_mark_dead(as);
	return ptp_platform_status(as->p) < 0 ? -EOWNERDEAD : -ESRCH;
}

/* The calling thread's traced thread in as, about to take one injection
 * round trip (counted). */
static int injection_thread(struct ptp_as *as, struct ptp_traced **out)
{
	int rc;

	if (ptp_forked_away(as->p->self))
		return -ECHILD;
	if (atomic_load(&as->p->dead))
		return -EOWNERDEAD;
	rc = ptp_tracer_thread(as, out);
	if (rc < 0)
		return rc;
	/* The injection clobbers the GPRs a context left resident. */
	(*out)->gpr_resident = 0;
	atomic_fetch_add(&as->p->injections, 1);
	return 0;
}

/* An injection the service thread makes into the leader, which it traces
 * (backend inject_via_leader). */
struct leader_req {
	struct ptp_as *as;
	long nr;
	const uint64_t *args;
	const uint64_t *records;
	size_t n, done;
	long result;
};

static int serve_leader_inject(void *arg)
{
	struct leader_req *req = arg;
	struct ptp_as *as = req->as;
	int rc;

	if (!req->records)
		return ptp_inject_on(as->p, as->pid, req->nr, req->args, false, 0,
				     &req->result);
	pthread_mutex_lock(&as->batch_lock);
	rc = ptp_inject_batch_on(as->p, as->pid, &as->leader_mem_fd, req->records,
				 req->n, &req->result, &req->done);
	pthread_mutex_unlock(&as->batch_lock);
	return rc;
}

/* 0 if an injection that no traced thread of the caller's makes may go to
 * as, else why not. */
static int injection_live(struct ptp_as *as)
{
	if (ptp_forked_away(as->p->self))
		return -ECHILD;
	if (atomic_load(&as->p->dead))
		return -EOWNERDEAD;
	return atomic_load(&as->dead) ? -ESRCH : 0;
}

static int inject_leader(struct ptp_as *as, struct leader_req *req)
{
	int rc = injection_live(as);

	if (rc < 0)
		return rc;
	atomic_fetch_add(&as->p->injections, 1);
	req->as = as;
	rc = ptp_svc_call(&as->p->svc, serve_leader_inject, req);
	return rc == -ESRCH ? injection_died(as) : rc;
}

static int inject(struct ptp_as *as, long nr, const uint64_t args[6], long *result)
{
	struct ptp_traced *t;
	int rc;

	if (as->p->ops->inject_via_leader) {
		struct leader_req req = { .nr = nr, .args = args };

		rc = inject_leader(as, &req);
		if (rc == 0)
			*result = req.result;
		return rc;
	}
	rc = injection_thread(as, &t);
	if (rc == 0)
		rc = ptp_inject_on(as->p, t->tid, nr, args, false, 0, result);
	return rc == -ESRCH ? injection_died(as) : rc;
}

/* n records in one round trip through the stub's batch routine. */
static int inject_batch(struct ptp_as *as, const uint64_t *records, size_t n,
			long *result, size_t *done)
{
	struct ptp_traced *t;
	int rc;

	if (as->p->ops->map_batch) {
		rc = injection_live(as);
		if (rc < 0)
			return rc;
		atomic_fetch_add(&as->p->injections, 1);
		rc = as->p->ops->map_batch(as, records, n, result, done);
		return rc == -ESRCH ? injection_died(as) : rc;
	}
	if (as->p->ops->inject_via_leader) {
		struct leader_req req = { .records = records, .n = n };

		rc = inject_leader(as, &req);
		if (rc == 0) {
			*result = req.result;
			*done = req.done;
		}
		return rc;
	}
	rc = injection_thread(as, &t);
	if (rc == 0) {
		pthread_mutex_lock(&as->batch_lock);
		rc = ptp_inject_batch_on(as->p, t->tid, &t->mem_fd, records, n, result,
					 done);
		pthread_mutex_unlock(&as->batch_lock);
	}
	return rc == -ESRCH ? injection_died(as) : rc;
}

/* One mmap, munmap or mprotect as a batch of one, with the single form's
 * result: mmap MAP_FIXED's address (the batch checks it), 0, or -errno. */
static int inject_one_record(struct ptp_as *as, long nr, const uint64_t args[6],
			     long *result)
{
	uint64_t record[PTP_STUB_BATCH_WORDS] = { (uint64_t)nr };
	size_t done = 0;
	long res = 0;
	int rc;

	memcpy(&record[1], args, 6 * sizeof(*args));
	rc = inject_batch(as, record, 1, &res, &done);
	if (rc == 0)
		*result = res < 0 ? res : nr == SYS_mmap ? (long)args[0] : 0;
	return rc;
}

PTP_EXPORT int ptp_as_inject(struct ptp_as *as, long nr, const uint64_t args[6],
			     long *result)
{
	static const uint64_t zero[6];

	if (!args)
		args = zero;
	/* Nothing may touch what the backend keeps below the stub either. */
	if (!ptp_filter_allows(as->p->user_end, nr, args))
		return -EPERM;
	/* An fd in its own fd table would be the stub's, not the caller's:
	 * a map of one goes the way ptp_as_map's do, which passes it over. */
	if (as->p->ops->own_fd_table && nr == SYS_mmap && !(args[3] & MAP_ANONYMOUS))
		return inject_one_record(as, nr, args, result);
	return inject(as, nr, args, result);
}

/* A range that is empty, unaligned, or touches the stub or the zero page. */
static int check_range(struct ptp_as *as, uintptr_t addr, size_t len)
{
	struct ptp_platform *p = as->p;
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);

	if (len == 0 || (addr & (pg - 1)) || (len & (pg - 1)) || addr + len < addr)
		return -EINVAL;
	if (addr < p->min_addr || addr + len > p->user_end)
		return -EFAULT;
	return 0;
}

/*
 * The syscall of one operation, after the checks every form of it gets
 * (single or batched): the range, the protections, the flags.
 */
static int op_syscall(struct ptp_as *as, const struct ptp_as_op *op, long *nr,
		      uint64_t args[6])
{
	int rc = check_range(as, op->addr, op->len);

	if (rc < 0)
		return rc;
	memset(args, 0, 6 * sizeof(*args));
	args[0] = op->addr;
	args[1] = op->len;
	switch (op->kind) {
	case PTP_AS_OP_MAP:
		if ((op->flags & ~PTP_MAP_POPULATE) || (op->prot & ~PTP_STUB_PROT_MASK))
			return -EINVAL;
		*nr = SYS_mmap;
		args[2] = (uint64_t)op->prot;
		args[3] = MAP_SHARED | MAP_FIXED |
			  ((op->flags & PTP_MAP_POPULATE) ? MAP_POPULATE : 0);
		args[4] = (uint64_t)(int64_t)op->fd;
		args[5] = (uint64_t)op->offset;
		return 0;
	case PTP_AS_OP_UNMAP:
		*nr = SYS_munmap;
		return 0;
	case PTP_AS_OP_PROTECT:
		if (op->prot & ~PTP_STUB_PROT_MASK)
			return -EINVAL;
		*nr = SYS_mprotect;
		args[2] = (uint64_t)op->prot;
		return 0;
	}
	return -EINVAL;
}

/* What one operation did, for the fault records: after an unmap, a later
 * fault at a remapped address must not look repeated. A map or protect keeps
 * them: the heuristic's dance (a write classified read, made readable,
 * faulting again as a write) runs through either. */
static void op_done(struct ptp_as *as, const struct ptp_as_op *op)
{
	if (op->kind == PTP_AS_OP_UNMAP)
		ptp_as_forget_faults(as, op->addr, op->addr + op->len);
}

static int run_op(struct ptp_as *as, const struct ptp_as_op *op)
{
	uint64_t args[6];
	long nr, res;
	int rc;

	rc = op_syscall(as, op, &nr, args);
	if (rc == 0)
		rc = as->p->ops->map_batch ? inject_one_record(as, nr, args, &res)
					   : inject(as, nr, args, &res);
	if (rc == 0 && res < 0)
		rc = (int)res;
	if (rc == 0)
		op_done(as, op);
	return rc;
}

PTP_EXPORT int ptp_as_map(struct ptp_as *as, uintptr_t addr, size_t len, int prot,
			  int fd, off_t offset, unsigned int flags)
{
	const struct ptp_as_op op = { .kind = PTP_AS_OP_MAP, .addr = addr, .len = len,
				      .prot = prot, .fd = fd, .offset = offset,
				      .flags = flags };

	return run_op(as, &op);
}

PTP_EXPORT int ptp_as_unmap(struct ptp_as *as, uintptr_t addr, size_t len)
{
	const struct ptp_as_op op = { .kind = PTP_AS_OP_UNMAP, .addr = addr, .len = len };

	return run_op(as, &op);
}

PTP_EXPORT int ptp_as_protect(struct ptp_as *as, uintptr_t addr, size_t len, int prot)
{
	const struct ptp_as_op op = { .kind = PTP_AS_OP_PROTECT, .addr = addr, .len = len,
				      .prot = prot };

	return run_op(as, &op);
}

/*
 * Up to PTP_AS_BATCH_MAX operations per round trip: each checked here as its
 * single form is, written to the stub's list and checked again by the stub.
 * The first operation that is refused or fails ends the batch, here or in the
 * stub.
 */
PTP_EXPORT int ptp_as_map_batch(struct ptp_as *as, const struct ptp_as_op *ops,
				size_t n, size_t *done)
{
	uint64_t records[PTP_STUB_BATCH_MAX][PTP_STUB_BATCH_WORDS];
	size_t total = 0;
	int rc = 0;

	if (n && !ops)
		rc = -EINVAL;
	while (rc == 0 && total < n) {
		size_t k = 0, did = 0;
		int refused = 0;
		long res = 0;

		for (; k < PTP_STUB_BATCH_MAX && total + k < n; k++) {
			long nr;

			refused = op_syscall(as, &ops[total + k], &nr, &records[k][1]);
			if (refused < 0)
				break;
			records[k][0] = (uint64_t)nr;
		}
		if (k > 0)
			rc = inject_batch(as, records[0], k, &res, &did);
		for (size_t i = 0; rc == 0 && i < did; i++)
			op_done(as, &ops[total + i]);
		total += did;
		if (rc == 0)
			rc = res < 0 ? (int)res : refused;
	}
	if (done)
		*done = total;
	return rc;
}
