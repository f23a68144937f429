/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The contract between the generic core and a platform backend, chosen at
 * ptp_open. Generic code owns what means the same on every backend: dead
 * checks, the fault record, the CPUID loop, interrupts pending before a
 * switch, events. A backend owns how state moves, how the app is resumed
 * and where its threads run.
 *
 * The ops are the only calls from the generic layers up into a backend (nm
 * cannot see them; the README lists them). The switch path makes one
 * indirect call: resume.
 */
#ifndef PTP_BACKEND_H
#define PTP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptplat.h"

struct ptp_as;
struct ptp_ctx;
struct ptp_traced;
struct ptp_syscall_rule;

struct ptp_backend_ops {
	/* 0 if the backend can honour opts, else -EINVAL (with the open
	 * error set): for example a switch mode it has no meaning for. */
	int (*check_options)(const struct ptp_options *opts);
	/* Runs ctx on t, a thread of the calling tracer thread, until an
	 * event worth reporting: places t, moves ctx's state in, resumes the
	 * app, moves the state out and fills ev. 0 or -errno (-ESRCH: t's
	 * address space died; -ENOEXEC: it left the register layout). */
	int (*resume)(struct ptp_ctx *ctx, struct ptp_traced *t, struct ptp_event *ev);
	/* Brings ctx's state home where the backend left it elsewhere (with
	 * ctx->fp_valid false): 0, or -EXDEV if only another tracer thread can
	 * reach it. */
	int (*ctx_pull)(struct ptp_ctx *ctx);
	/* ctx is being freed, or its state overwritten whole: forget every
	 * place that refers to it (state held there is dropped), so that
	 * ctx's own copy is authoritative (ctx->fp_valid). */
	void (*ctx_release)(struct ptp_ctx *ctx);
	/* t leaves its address space, under ptp_registry_lock. fetch: t is
	 * retired alive by its own tracer thread, so state it alone holds can
	 * still be saved; else it died with its address space. */
	void (*thread_leaving)(struct ptp_traced *t, bool fetch);
	/* Ends t, alive and left by thread_leaving(t, true), from its own
	 * tracer thread (registry lock held): 0 or -errno. */
	int (*retire)(struct ptp_traced *t);
	/* NULL, or run once on a new traced thread t (attached to the calling
	 * tracer thread, in a ptrace stop, not yet in the registry) before
	 * its first switch: 0, or -errno with t still attached. -EAGAIN
	 * promises that nothing of t was changed (a limit of the backend's,
	 * such as its slots): the generic layer then retires t and the
	 * address space lives on; any other error costs the address space. */
	int (*thread_setup)(struct ptp_traced *t);
	/* NULL, or under pinning the CPU the backend places a traced thread
	 * of a tracer thread on tracer_cpu at its first switch (where the
	 * core creates the thread, so that it does not move). NULL: the
	 * tracer thread's own CPU. */
	int (*thread_cpu)(const struct ptp_platform *p, int tracer_cpu);
	/* NULL, or the backend's part of a new address space, on the service
	 * thread: as_open before the clone (as->pid still 0), as_setup after
	 * it, with the leader traced and stopped and nothing else mapped;
	 * as_close when it is destroyed (once as_open succeeded). 0 or
	 * -errno. */
	int (*as_open)(struct ptp_as *as);
	int (*as_setup)(struct ptp_as *as);
	void (*as_close)(struct ptp_as *as);
	/* NULL, or how ptp_as_map and the rest reach the address space: n
	 * records of stub/stub-abi.h's batch list, each already checked, their
	 * mmap fds the tracer's; *result and *done as the stub's batch routine
	 * gives them. 0 or -errno (-ESRCH: the address space is dead). */
	int (*map_batch)(struct ptp_as *as, const uint64_t *records, size_t n,
			 long *result, size_t *done);

	/* Data rather than calls: what the generic layers arrange for the
	 * backend at open and in injections. */
	/* Injections (ptp_as_map and the rest) go to the address space's
	 * traced leader through the service thread, not to the calling
	 * tracer thread's thread, which the backend does not keep traced. */
	bool inject_via_leader;
	/* The address space does not share the tracer's fd table: it is
	 * cloned without CLONE_FILES, and an fd it maps must be passed over
	 * (map_batch). */
	bool own_fd_table;
	/* ptp_caps' fields of the same names. */
	bool app_traced;
	bool syscall_nr_whole_register;
	bool fault_access_exact;
	/* Bytes right below the stub the backend keeps for itself in every
	 * address space (ptp_max_user_address is that much lower). */
	uintptr_t reserved_below_stub;
	/* The stub filter's default is SECCOMP_RET_TRAP rather than a kill
	 * (a kill in the stack would outrank every thread's own TRAP), and it
	 * also allows these syscalls, which the backend's threads make. */
	bool filter_trap_default;
	const struct ptp_syscall_rule *filter_rules;
	size_t nfilter_rules;
};

/* core/backend/ptrace/: PTRACE_SYSEMU stops, faithful and lean modes. */
extern const struct ptp_backend_ops ptp_backend_ptrace;
/* core/backend/systrap/: the app runs untraced, its syscalls and faults
 * caught by a SIGSYS/SIGSEGV handler in the stub that hands its state over
 * through a page shared with the tracer. */
extern const struct ptp_backend_ops ptp_backend_systrap;

#endif /* PTP_BACKEND_H */
