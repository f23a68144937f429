/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fuzzer's engine: runs arbitrary bytes as app code in an address space
 * of the core, classifies how each execution ended, and checks with an
 * oracle that nothing happened on the host side. Shared by the libFuzzer
 * target (clang) and the replay driver (the CI slice). Functions return 0 or
 * -errno and never print or exit.
 */
#ifndef FUZZ_ENGINE_H
#define FUZZ_ENGINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ptplat.h"

enum fz_class {
	FZ_SYSCALLS,    /* reached the stop limit making syscalls (emulated) */
	FZ_FAULT,       /* PTP_EV_FAULT */
	FZ_SIGNAL,      /* PTP_EV_SIGNAL */
	FZ_INTERRUPTED, /* the watchdog ended a runaway payload */
	FZ_REFUSED,     /* the core retired the address space: registers in
			 * a layout it cannot move (-ENOEXEC from ptp_switch) */
	FZ_DIED,        /* the address space died: an escape (see fz_exec) */
	FZ_HUNG,        /* the switch did not return after the watchdog fired */
	FZ_CLASS_COUNT
};

struct fz_outcome {
	enum fz_class cls;
	int signo, code;     /* FZ_FAULT, FZ_SIGNAL */
	unsigned int access; /* FZ_FAULT: PTP_ACCESS_* */
	unsigned int nsyscalls;
	long first_nr;       /* the first syscall's number, -1 if none */
};

struct fz_config {
	enum ptp_switch_mode mode;
	enum ptp_backend backend;
	unsigned int max_stops;  /* syscall stops per execution */
	unsigned int watchdog_ms;/* runaway payloads are interrupted after this */
	unsigned int hang_ms;    /* a switch still running after this: hung */
	/* The positive control: the core resumes with PTRACE_CONT. */
	bool unsafe_cont;
	/* Leave the signals libFuzzer handles itself alone. */
	bool libfuzzer;
	/* Shared with a supervisor process that counts stops of this one
	 * (a SIGSTOP nobody can catch); NULL when there is none. */
	atomic_ulong *tracer_stops;
	/* Called from the watchdog thread when a switch has not returned
	 * hang_ms after the interrupt (the engine thread is stuck: only the
	 * process can end); NULL: the execution ends as FZ_HUNG if it ever
	 * returns. */
	void (*on_hang)(void);
};

void fz_config_default(struct fz_config *cfg);

struct fz_engine;

/*
 * Makes a canary directory (and chdirs into it: the process's cwd is where
 * an escaped open() would create files), the canary pipe and file at their
 * fixed fds, the signal counters, the watchdog thread, a platform and an
 * address space; then takes the oracle's baseline. On failure, err says why.
 */
int fz_engine_open(const struct fz_config *cfg, struct fz_engine **out,
		   char *err, size_t errlen);
void fz_engine_close(struct fz_engine *e);
/* Removes the canary directory and nothing else: for a process about to
 * abort (any thread; the stubs die with the process). */
void fz_engine_abandon(struct fz_engine *e);

/*
 * Runs code (at most FZ_CODE_SIZE bytes; the rest of the page traps) from a
 * fresh context with every GPR pointing into the data page. Syscalls are
 * answered -ENOSYS and never run on the host. FZ_DIED: the address space
 * died, which under SYSEMU only a syscall that ran on the host (and the stub
 * filter killed) can cause; the engine then makes a new address space.
 * Errors: the platform could not be driven (-EOWNERDEAD etc.).
 */
int fz_exec(struct fz_engine *e, const uint8_t *code, size_t len,
	    struct fz_outcome *out);

/*
 * The oracle: 0 when nothing happened on the host side since the baseline,
 * 1 with the first violation in why. The cheap checks (canary pipe and
 * file, signals, supervisor stops, the stub's bytes, platform health) run
 * always; full adds the /proc scans (processes, the stub's threads, fds,
 * mappings, the canary directory).
 */
int fz_oracle(struct fz_engine *e, bool full, char *why, size_t len);
/* After a violation: kill strays, drain canaries, take a new baseline. */
int fz_oracle_rebase(struct fz_engine *e);

/* A stable name for the outcome, e.g. "fault:SEGV_MAPERR:rx". */
void fz_outcome_key(const struct fz_outcome *o, char *buf, size_t len);
const char *fz_class_name(enum fz_class cls);
bool fz_class_escape(enum fz_class cls);

/* Oracle positive controls: each makes one violation from the tracer side,
 * checks that the oracle names it, undoes it and checks the oracle is clean
 * again. Returns how many of *total fired; what failed goes to report(). */
int fz_oracle_selftest(struct fz_engine *e, int *total,
		       void (*report)(const char *name, bool fired,
				      const char *why));

/* Hostile seeds (seeds/seed-list.h) and the payloads in stub/. */
struct fz_seed {
	const char *name;
	const uint8_t *code;
	size_t size;
	bool escapes_without_sysemu;
};
size_t fz_seed_count(void);
const struct fz_seed *fz_seed_get(size_t i);

#endif /* FUZZ_ENGINE_H */
