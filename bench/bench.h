/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the benchmark families: registration hooks, pinning, timing,
 * latency samples, the overhead-over-native counters, forked helper
 * processes, and (last section, core families only) the platform core
 * set-up. Every includer defines _GNU_SOURCE first (cpu_set_t). */
#ifndef BENCH_H
#define BENCH_H

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "shim/gbench.h"

/* One per family file; main.c calls them all. */
void bench_register_native(void);
void bench_register_mechanism(void);
void bench_register_floor(void);
void bench_register_systrap(void);
void bench_register_mem(void);
void bench_register_switch(void);
void bench_register_map(void);
void bench_register_pool(void);
void bench_register_interrupt(void);
void bench_register_app(void);

/* Run-wide settings (from --ptbench_backend=, --ptbench_mode=,
 * --ptbench_pin=, --ptbench_app_size=, --ptbench_idle=). */
struct bench_config {
	const char *backend; /* "ptrace" or "systrap": the core families' */
	const char *mode; /* "faithful" or "lean": core benchmarks that are
			   * not per-mode use it */
	bool pin;         /* pin traced threads (core option) and the
			   * benchmark's own processes as each family says */
	const char *app_size; /* "full" or "quick": the app family's inputs */
	bool idle;        /* the idle and timer-tick counters of each loop */
};
extern struct bench_config bench_config;

/* --ptbench_idle=1 (bench/idle.c): every benchmark's loop gets the
 * counters idle_ns, idle_sleeps and timer_ticks per iteration (where the
 * kernel shows them). */
void bench_idle_counters_enable(void);

uint64_t bench_now_ns(void);
/* Pins the calling thread (or pid, 0 = self) to one CPU; 0 or -errno. */
int bench_pin(pid_t tid, int cpu);
int bench_current_cpu(void);
int bench_ncpus(void);
/* Time on CPU of thread tid of process pid, in ns (schedstat's first
 * field); 0 if it cannot be read. */
uint64_t bench_thread_cpu_ns(pid_t pid, pid_t tid);
/* Reports tracer_cpu_ns and stub_cpu_ns, the time on CPU per round trip
 * of each side between two samples of bench_thread_cpu_ns ({tracer,
 * stub} before and after n round trips); a side that could not be read
 * (0) is left out. A latency alone would flatter a hand-off that spins on
 * a second CPU. */
void bench_cpu_counters(gb_state *st, const uint64_t before[2], const uint64_t after[2],
			uint64_t n);
struct ptp_stats;
/* Reports spin_share, the hand-offs between two ptp_stats samples (both
 * sides) that ended within the spin; nothing where none were counted
 * (the ptrace backend hands off through ptrace stops). */
void bench_spin_share_counter(gb_state *st, const struct ptp_stats *before,
			      const struct ptp_stats *after);

/* ---- Pinning the benchmark's own thread, and putting it back ---------
 * Google Benchmark runs every benchmark on the same main thread, one after
 * another: a benchmark that pins it must restore its affinity, or the
 * next benchmark would inherit the pin. */

/* The first max CPUs of the calling thread's affinity mask, in order; how
 * many (0 with errno set when the mask cannot be read). */
int bench_allowed_cpus(int *out, int max);
/* The lowest allowed CPU, which the independent families pin to; -1 with
 * errno set when the mask cannot be read. */
int bench_first_allowed_cpu(void);

/* A zeroed one has nothing to restore. */
struct bench_pinning {
	cpu_set_t saved; /* the affinity before pinning */
	bool restore;    /* pinned: bench_unpin_self puts saved back */
	int cpu;         /* the CPU pinned to; meaningful while restore */
};

/* Saves the calling thread's affinity and pins it to cpu. 0, or -errno
 * with "sched_getaffinity: ..." / "pin to cpuN: ..." in msg (when msg is
 * not NULL) and nothing to restore. */
int bench_pin_self_saving(struct bench_pinning *ps, int cpu, char *msg, size_t msglen);
/* Puts the saved affinity back, if pinned; safe to call twice. */
void bench_unpin_self(struct bench_pinning *ps);
/* The core families' pinning: only with --ptbench_pin on, to cpu (< 0: the
 * CPU the thread is on now, where the core will pin the traced thread
 * beside it). A failure leaves the thread unpinned and is not an error:
 * the benchmark then runs unpinned, as it would with pinning off. */
void bench_pin_self_if_enabled(struct bench_pinning *ps, int cpu);
/* The independent families' pinning (native, mechanism, mem): only with
 * --ptbench_pin on, to the first allowed CPU. Writes the label "unpinned"
 * or "pinned cpuN"; -1 with the reason in msg when pinning fails. */
int bench_pin_self_first_cpu(struct bench_pinning *ps, char *label, size_t labellen,
			     char *msg, size_t msglen);

/* ---- Forked helper processes (floor, mem, mechanism) ------------------ */

/* First thing in a forked child: die with the benchmark process (so that
 * no child outlives a crashed run), default signal dispositions and an
 * empty mask (the child must not run the parent's handlers). A fork keeps
 * the parent's memory, so glibc's rseq area stays valid and needs no
 * unregistration; only async-signal-safe calls are made. _exit(111) when
 * the parent is already gone. */
void bench_child_prologue(pid_t parent);
/* Installs a seccomp filter on the calling thread that gives this arch's
 * getpid the action and allows everything else (bench/mechanism.c):
 * seccomp(2)'s result, -1 with errno on failure. */
long bench_filter_getpid(uint32_t action, unsigned int flags);
/* Kills and waits for a child (traced or not); pid <= 0: nothing to do. */
void bench_reap(pid_t pid);

/* A memfd of len bytes (named name, as /proc shows it), starting with
 * srclen bytes of src when src is not NULL: what a mapping benchmark maps.
 * The fd, or -errno with "memfd NAME: ..." in err. */
int bench_memfd(const char *name, size_t len, const void *src, size_t srclen, char *err,
		size_t errlen);

/* Native getpid cost in ns, measured once at start-up (the yardstick for
 * the overhead counters). */
extern double bench_native_ns;
double bench_measure_native_ns(void);

/*
 * Ends a benchmark whose loop the caller timed: total_ns over iterations.
 * Adds the counters over_native_x and over_native_ns, and the label (the
 * pinning, and the mode where given).
 */
void bench_finish(gb_state *st, uint64_t total_ns, uint64_t iterations,
		  const char *label);

/* Latency samples for percentiles: ns values, fixed capacity. */
struct bench_samples {
	uint64_t *v;
	size_t n, cap;
};
int bench_samples_init(struct bench_samples *s, size_t cap);
void bench_samples_add(struct bench_samples *s, uint64_t ns);
/* Adds p50_ns, p99_ns, p999_ns counters and, when PTBENCH_SAMPLES_DIR is
 * set, writes the samples to DIR/<name with / as _>.txt (one per line). */
void bench_samples_report(gb_state *st, struct bench_samples *s, const char *name);
void bench_samples_free(struct bench_samples *s);

/* ---- The platform core's set-up (core_env.c) ---------------------------
 * Only the core families (switch, map, pool, interrupt) use this section;
 * core_env.c is the only shared file that includes ptplat.h, so that the
 * native, mechanism, floor and mem families stay independent of the core.
 * Errors are -errno with the failing step and its reason in err. */
struct ptp_platform;
struct ptp_as;
struct ptp_ctx;
struct payload;

/* The core families' label: "mode=MODE pin=on|off"; mode NULL is
 * --ptbench_mode. */
void bench_core_label(char *buf, size_t len, const char *mode);

/* A platform in mode ("faithful" / "lean"; NULL: --ptbench_mode), pinning
 * traced threads as --ptbench_pin says. reuse_pool false turns the
 * address-space reuse pool off (a release destroys at once); true keeps
 * the core's default pool. *p is NULL on failure. */
/* backend NULL: --ptbench_backend. */
int bench_core_open_backend(const char *mode, const char *backend, bool reuse_pool,
			    struct ptp_platform **p, char *err, size_t errlen);
int bench_core_open(const char *mode, bool reuse_pool, struct ptp_platform **p, char *err,
		    size_t errlen);
/* A one-page memfd holding the payload; the fd. Fails with -ENOSYS when
 * the payload is empty (this arch cannot express it). */
int bench_core_payload_fd(const struct payload *pl, char *err, size_t errlen);
/* Maps one page of fd, read + exec, at code in as. */
int bench_core_map_payload(struct ptp_as *as, uintptr_t code, int fd, char *err,
			   size_t errlen);

/* What most core benchmarks start from: a platform, one address space and,
 * with a payload, one context about to run that payload. */
struct bench_core_env {
	struct ptp_platform *p;
	struct ptp_as *as;
	struct ptp_ctx *ctx; /* NULL without a payload */
};

struct bench_core_env_spec {
	const char *mode; /* NULL: --ptbench_mode */
	const char *backend; /* NULL: --ptbench_backend */
	bool reuse_pool;  /* as for bench_core_open */
	/* NULL: an empty address space and no context (the benchmark maps
	 * its own memory); else mapped at code, the context's IP. */
	const struct payload *payload;
	uintptr_t code;
};

/* On failure everything opened so far is closed again and e is zeroed. */
int bench_core_env_open(struct bench_core_env *e, const struct bench_core_env_spec *spec,
			char *err, size_t errlen);
/* Frees the context, releases the address space, closes the platform;
 * safe on a zeroed or already closed e. */
void bench_core_env_close(struct bench_core_env *e);

#endif /* BENCH_H */
