/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rel-tracer-death: SIGKILLs a tracer at random points of its work (opening
 * the platform, creating an address space, mapping, switching, injecting,
 * releasing) and checks that every stub process dies with it. The tracer is
 * a forked child (now and then it also opens and closes a second
 * platform); this process is a subreaper, so every stub it leaves
 * (master, address spaces with their traced threads) becomes our child: any
 * child still alive after the grace period outlived its tracer.
 *
 * Usage: rel-tracer-death [--kills N] [--seed S] [--max-delay-ms M]
 *        [--grace-ms G] [--backend ptrace|systrap] [--mode faithful|lean]
 *        [--plant-orphan]
 *        [--expect clean|leftover] [--json FILE|-]
 * --plant-orphan is the positive control: the tracer also forks a plain
 * child without PDEATHSIG, which must be reported as a leftover each time.
 * Exit: 0 when the verdict is the expected one, 1 when not, 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"
#include "relutil.h"

#define PROG "rel-tracer-death"

enum phase {
	PH_START,   /* forked, platform not open yet */
	PH_OPEN,
	PH_AS_NEW,
	PH_MAP,
	PH_SWITCH,
	PH_INJECT,
	PH_RELEASE,
	PH_TRIM,
	PH_CLOSE,
	PH_COUNT
};

static const char *const phase_names[PH_COUNT] = {
	"not_started", "open", "as_new", "map", "switch", "inject", "release", "trim", "close",
};

#define WORKERS 2
#define SLOTS (1 + WORKERS)

/* Shared with the tracer child: what each of its threads is doing. */
struct shared {
	_Atomic int phase[SLOTS];
	_Atomic int planted; /* pid of the positive control's orphan */
};

static struct shared *sh;
static enum ptp_switch_mode mode;
static enum ptp_backend backend;

struct worker_arg {
	struct ptp_platform *p;
	struct ptp_as *as;
	int slot;
	uint64_t seed;
};

static pid_t master_pid;

static __attribute__((noreturn)) void tracer_failed(int code, const char *what, int rc)
{
	fprintf(stderr, "# tracer %d: %s: %d (%s); master %d state %c\n", (int)getpid(),
		what, rc, strerror(-rc), master_pid, ps_state(master_pid) ?: '-');
	_exit(code);
}

/* One tracer thread's cycle: maybe a fresh address space, a few switches
 * and injections in it, and its release. Failures end the tracer: nothing
 * here may fail while it is alive. */
static void work_cycle(struct ptp_platform *p, struct ptp_as *shared_as, int slot,
		       uint64_t *rng, struct ptp_ctx *ctx)
{
	_Atomic int *ph = &sh->phase[slot];
	bool own = rel_rand(rng) % 2 == 0 || !shared_as;
	struct ptp_as *as = shared_as;
	struct ptp_event ev;
	long res;
	int n = 1 + (int)(rel_rand(rng) % 20);

	int rc;

	if (own) {
		atomic_store(ph, PH_AS_NEW);
		if ((rc = ptp_as_new(p, &as)) < 0)
			tracer_failed(10, "ptp_as_new", rc);
		atomic_store(ph, PH_MAP);
		if ((rc = rel_load_loop(as)) < 0)
			tracer_failed(11, "map", rc);
	}
	ptp_ctx_set_ip(ctx, REL_CODE);
	for (int i = 0; i < n; i++) {
		atomic_store(ph, PH_SWITCH);
		if ((rc = ptp_switch(ctx, as, &ev)) < 0)
			tracer_failed(12, "ptp_switch", rc);
		if (ev.kind != PTP_EV_SYSCALL)
			tracer_failed(12, "ptp_switch's event", -(int)ev.kind);
		atomic_store(ph, PH_INJECT);
		if ((rc = ptp_as_inject(as, SYS_getpid, NULL, &res)) < 0)
			tracer_failed(13, "ptp_as_inject", rc);
	}
	if (own) {
		atomic_store(ph, PH_RELEASE);
		ptp_as_release(as);
	}
	if (rel_rand(rng) % 16 == 0) {
		atomic_store(ph, PH_TRIM);
		ptp_trim(p);
	}
}

static void *worker_main(void *arg)
{
	struct worker_arg *w = arg;
	uint64_t rng = w->seed;
	struct ptp_ctx *ctx;

	if (ptp_ctx_new(w->p, &ctx) < 0)
		_exit(14);
	for (;;)
		work_cycle(w->p, w->as, w->slot, &rng, ctx);
	return NULL;
}

/* A second platform's whole life, so that kills also land in ptp_open and
 * ptp_close while another platform is busy. */
static void side_platform(uint64_t *rng)
{
	struct ptp_platform *p;
	struct ptp_options o;
	struct ptp_ctx *ctx;
	int rc;

	atomic_store(&sh->phase[0], PH_OPEN);
	ptp_options_default(&o);
	o.mode = mode;
	o.backend = backend;
	if ((rc = ptp_open(&o, &p)) < 0)
		tracer_failed(20, "ptp_open", rc);
	if ((rc = ptp_ctx_new(p, &ctx)) < 0)
		tracer_failed(21, "ptp_ctx_new", rc);
	work_cycle(p, NULL, 0, rng, ctx);
	atomic_store(&sh->phase[0], PH_CLOSE);
	ptp_close(p);
	ptp_ctx_free(ctx);
}

__attribute__((noreturn)) static void tracer_main(uint64_t seed, bool plant)
{
	struct worker_arg w[WORKERS];
	struct ptp_platform *p;
	struct ptp_options o;
	struct ptp_as *shared_as;
	struct ptp_ctx *ctx;
	uint64_t rng = seed;
	pthread_t th;

	if (plant) {
		/* A child that ignores its parent's death: what a stub without
		 * PDEATHSIG and EXITKILL would be. */
		pid_t orphan = fork();

		if (orphan == 0) {
			for (;;)
				pause();
		}
		atomic_store(&sh->planted, orphan);
	}
	atomic_store(&sh->phase[0], PH_OPEN);
	ptp_options_default(&o);
	o.mode = mode;
	o.backend = backend;
	if (ptp_open(&o, &p) < 0)
		_exit(15);
	master_pid = ptp_master_pid(p);
	atomic_store(&sh->phase[0], PH_AS_NEW);
	if (ptp_as_new(p, &shared_as) < 0)
		_exit(16);
	atomic_store(&sh->phase[0], PH_MAP);
	if (rel_load_loop(shared_as) < 0)
		_exit(17);
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker_arg){ p, shared_as, 1 + i, rel_rand(&rng) };
		if (pthread_create(&th, NULL, worker_main, &w[i]))
			_exit(18);
	}
	if (ptp_ctx_new(p, &ctx) < 0)
		_exit(19);
	for (;;) {
		work_cycle(p, NULL, 0, &rng, ctx);
		if (rel_rand(&rng) % 8 == 0)
			side_platform(&rng);
	}
}

struct kill_record {
	long delay_us;
	int phase[SLOTS];
	int exit_status; /* the tracer's wait status */
	int leftovers;
	long gone_us; /* time until every descendant was gone */
};

/* The tracer ended before the kill: its exit code says where it failed. */
static const char *exit_note(int status)
{
	static char buf[64];

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return "";
	if (WIFEXITED(status))
		snprintf(buf, sizeof(buf), "; the tracer EXITED with %d first",
			 WEXITSTATUS(status));
	else
		snprintf(buf, sizeof(buf), "; the tracer died of signal %d first",
			 WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	return buf;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

static long percentile(const long *sorted, int n, double q)
{
	int i = (int)(q * (n - 1) + 0.5);

	return n ? sorted[i] : 0;
}

/* Waits until this process has no live child left, reaping as it goes;
 * returns how many are left after grace_us, and kills those (reported). */
static int wait_no_children(long grace_us, long *gone_us, json_t *left_list)
{
	long t0 = ps_now_us();
	pid_t pids[64];
	int n;

	for (;;) {
		ps_reap_exited();
		n = ps_descendants(getpid(), pids, 64, NULL);
		if (n == 0) {
			*gone_us = ps_now_us() - t0;
			return 0;
		}
		if (ps_now_us() - t0 > grace_us)
			break;
		usleep(1000);
	}
	*gone_us = ps_now_us() - t0;
	for (int i = 0; i < n && i < 64; i++) {
		char comm[64], st[2] = { ps_state(pids[i]), 0 };

		ps_comm(pids[i], comm, sizeof(comm));
		json_array_append_new(left_list,
				      json_pack("{s:i,s:s,s:s,s:i}", "pid", pids[i],
						"comm", comm, "state", st, "ppid",
						ps_ppid(pids[i])));
		kill(pids[i], SIGKILL);
	}
	for (long t = ps_now_us(); ps_now_us() - t < 2000000 &&
				   ps_descendants(getpid(), pids, 64, NULL) > 0;) {
		ps_reap_exited();
		usleep(1000);
	}
	return n;
}

static __attribute__((noreturn)) void usage(const char *msg, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s (usage: %s [--kills N] [--seed S] [--max-delay-ms M] "
		"[--grace-ms G] [--backend ptrace|systrap] [--mode faithful|lean] [--plant-orphan] "
		"[--expect clean|leftover] [--json FILE|-])\n", PROG, msg, arg ? ": " : "", arg ? arg : "", PROG);
	exit(2);
}

int main(int argc, char **argv)
{
	unsigned long kills = 20, max_delay_ms = 60, grace_ms = 2000, early_ms = 4;
	unsigned long seed = (unsigned long)time(NULL);
	const char *json_path = NULL, *expect = "clean";
	bool plant = false;
	struct kill_record *rec;
	long *gone;
	int total_left = 0, kills_with_left = 0, detected_plants = 0, planted_kills = 0;
	int unexpected_exits = 0;
	int by_phase[PH_COUNT] = { 0 }, any_phase[PH_COUNT] = { 0 };
	json_t *root, *phases, *any, *left_list = json_array();
	uint64_t rng;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "--plant-orphan") == 0) {
			plant = true;
			continue;
		}
		if (!v)
			usage("missing value or unknown option", a);
		i++;
		if (strcmp(a, "--kills") == 0 ? !rel_parse_ulong(v, 100000, &kills) || !kills :
		    strcmp(a, "--seed") == 0 ? !rel_parse_ulong(v, ~0ul, &seed) :
		    strcmp(a, "--max-delay-ms") == 0 ? !rel_parse_ulong(v, 60000, &max_delay_ms) :
		    strcmp(a, "--grace-ms") == 0 ? !rel_parse_ulong(v, 60000, &grace_ms) :
		    strcmp(a, "--mode") == 0 ? ptp_mode_parse(v, &mode) < 0 :
		    strcmp(a, "--backend") == 0 ? ptp_backend_parse(v, &backend) < 0 :
		    strcmp(a, "--expect") == 0 ? (expect = v, strcmp(v, "clean") && strcmp(v, "leftover")) :
		    strcmp(a, "--json") == 0 ? (json_path = v, false) : true)
			usage("bad option or value", a);
	}
	if (json_path && !rel_json_path_ok(json_path, PROG))
		return 2;
	if (payload_get(PAYLOAD_SYSCALL_LOOP)->size == 0) {
		printf("1..0 # SKIP no syscall_loop payload on this arch\n");
		return 0;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		fprintf(stderr, "%s: cannot become a subreaper: %s\n", PROG, strerror(errno));
		return 1;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		  -1, 0);
	rec = calloc(kills, sizeof(*rec));
	gone = calloc(kills, sizeof(*gone));
	if (sh == MAP_FAILED || !rec || !gone) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		return 1;
	}
	rng = seed;
	for (unsigned long k = 0; k < kills; k++) {
		struct kill_record *r = &rec[k];
		uint64_t child_seed = rel_rand(&rng);
		struct timespec ts;
		pid_t child;

		memset(sh, 0, sizeof(*sh));
		/* A third of the kills land in the first few ms: the platform
		 * opens (probe, master) in about that time. */
		r->delay_us = (long)(rel_rand(&rng) %
				     ((k % 3 == 0 ? early_ms : max_delay_ms) * 1000 + 1));
		fflush(NULL);
		child = fork();
		if (child < 0) {
			fprintf(stderr, "%s: fork: %s\n", PROG, strerror(errno));
			return 1;
		}
		if (child == 0)
			tracer_main(child_seed, plant);
		ts = (struct timespec){ r->delay_us / 1000000, r->delay_us % 1000000 * 1000 };
		nanosleep(&ts, NULL);
		kill(child, SIGKILL);
		waitpid(child, &r->exit_status, 0);
		for (int s = 0; s < SLOTS; s++) {
			r->phase[s] = atomic_load(&sh->phase[s]);
			any_phase[r->phase[s]]++;
		}
		by_phase[r->phase[0]]++;
		/* A tracer that exited on its own hit an error: a finding. */
		if (!WIFSIGNALED(r->exit_status) || WTERMSIG(r->exit_status) != SIGKILL)
			unexpected_exits++;
		r->leftovers = wait_no_children((long)grace_ms * 1000, &r->gone_us, left_list);
		gone[k] = r->gone_us;
		total_left += r->leftovers;
		kills_with_left += r->leftovers > 0;
		/* A kill may land before the orphan is forked. */
		planted_kills += atomic_load(&sh->planted) > 0;
		detected_plants += r->leftovers > 0 && atomic_load(&sh->planted) > 0;
		fprintf(stderr, "# kill %lu: after %ld us, main thread in %s, %d left, "
			"all gone in %ld us%s\n", k, r->delay_us, phase_names[r->phase[0]],
			r->leftovers, r->gone_us, exit_note(r->exit_status));
	}
	qsort(gone, kills, sizeof(*gone), cmp_long);

	const char *verdict = total_left ? "leftover" : "clean";
	bool ok = strcmp(verdict, expect) == 0 && unexpected_exits == 0;

	/* The control must be caught at every kill, not just once. */
	if (plant)
		ok = ok && planted_kills > 0 && detected_plants == planted_kills;
	phases = json_object();
	any = json_object();
	for (int i = 0; i < PH_COUNT; i++) {
		json_object_set_new(phases, phase_names[i], json_integer(by_phase[i]));
		json_object_set_new(any, phase_names[i], json_integer(any_phase[i]));
	}
	root = json_pack("{s:s,s:s,s:s,s:I,s:i,s:i,s:b,s:i,s:i,s:i,s:i,s:i,s:o,s:o,s:{s:I,s:I,s:I,s:I},s:o,s:s,s:b}",
			 "program", PROG, "backend", ptp_backend_name(backend),
			 "mode", ptp_mode_name(mode),
			 "seed", (json_int_t)seed, "kills", (int)kills,
			 "max_delay_ms", (int)max_delay_ms, "plant_orphan", plant,
			 "leftover_processes", total_left,
			 "kills_with_a_leftover", kills_with_left,
			 "kills_after_the_orphan_was_planted", planted_kills,
			 "kills_with_the_orphan_detected", detected_plants,
			 "tracer_exits_not_by_the_kill", unexpected_exits,
			 "main_thread_phase_at_kill", phases,
			 "any_thread_phase_at_kill", any,
			 "time_to_gone_us", "p50", (json_int_t)percentile(gone, (int)kills, 0.5),
			 "p90", (json_int_t)percentile(gone, (int)kills, 0.9),
			 "p99", (json_int_t)percentile(gone, (int)kills, 0.99),
			 "max", (json_int_t)gone[kills - 1],
			 "leftovers", left_list, "verdict", verdict, "as_expected", ok);
	if (json_path && rel_write_json(root, json_path, PROG) < 0)
		ok = false;
	/* With the JSON on stdout, the summary line goes to stderr. */
	fprintf(json_path && strcmp(json_path, "-") == 0 ? stderr : stdout,
		"%s: %lu kills (seed %lu): %d leftover process(es), %d tracer exit(s) "
	       "not by the kill; descendants gone in p50 %ld us, max %ld us; "
	       "verdict %s (expected %s)\n", PROG, kills, seed, total_left,
	       unexpected_exits, percentile(gone, (int)kills, 0.5), gone[kills - 1],
	       verdict, expect);
	json_decref(root);
	free(rec);
	free(gone);
	return ok ? 0 : 1;
}
