/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rel-soak: the leak oracle. Runs address-space create/release cycles (reuse
 * off, then on) and switches over rounds of fresh tracer threads, samples
 * the tracer's tasks, fds, mappings and RSS and the stubs' processes and
 * threads, and judges each series flat or leaking (the end against the end
 * of a warm-up). Then measures the memory an address space and a traced
 * thread cost. Prints a summary line; --json writes every figure.
 *
 * Usage: rel-soak [--cycles N] [--switches N] [--threads T] [--rounds R]
 *        [--hold N] [--backend ptrace|systrap] [--mode faithful|lean]
 *        [--plant fd|thread|map]
 *        [--plant-every K] [--expect flat|leak] [--json FILE|-]
 * --plant is the positive control: it leaks one fd, thread or mapping every
 * K cycles and once per switch round; --expect leak then passes only if
 * every phase flags the planted resource.
 * Exit: 0 when the verdict is the expected one, 1 when not (or on an
 * error), 2 bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "procstat.h"
#include "relutil.h"

#define PROG "rel-soak"

#ifdef __SANITIZE_ADDRESS__
/* ASan maps its allocator's regions lazily and keeps them, and its
 * quarantine holds freed memory: mappings and RSS are not ours to judge. */
#define UNDER_ASAN 1
#else
#define UNDER_ASAN 0
#endif

enum plant { PLANT_NONE, PLANT_FD, PLANT_THREAD, PLANT_MAP };
static const char *const plant_names[] = { "none", "fd", "thread", "map" };

static struct {
	unsigned long cycles, switches, threads, rounds, hold, plant_every;
	enum ptp_switch_mode mode;
	enum ptp_backend backend;
	enum plant plant;
	const char *expect, *json;
} cfg = {
	.cycles = 10000, .switches = 1000000, .threads = 8, .rounds = 10,
	.hold = 100, .expect = "flat",
};

static unsigned long planted;

static void *planted_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

/* The positive control: one leaked resource of the chosen kind. */
static void plant_one(void)
{
	pthread_t th;
	int fd;

	switch (cfg.plant) {
	case PLANT_NONE:
		return;
	case PLANT_FD:
		if (open("/dev/null", O_RDONLY | O_CLOEXEC) < 0)
			return;
		break;
	case PLANT_THREAD:
		if (pthread_create(&th, NULL, planted_thread, NULL))
			return;
		pthread_detach(th);
		break;
	case PLANT_MAP:
		/* A file mapping of its own: never merged with a neighbour. */
		fd = memfd_create("rel-planted", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 4096) < 0 ||
		    mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0) == MAP_FAILED) {
			if (fd >= 0)
				close(fd);
			return;
		}
		close(fd);
		break;
	}
	planted++;
}

/* One sample of everything the oracle watches. */
enum metric {
	M_TASKS, M_FDS, M_MAPS, M_RSS_KIB, M_STUB_PROCS, M_STUB_TASKS,
	M_TRACED_THREADS, M_COUNT
};
static const char *const metric_names[M_COUNT] = {
	"tracer_tasks", "tracer_fds", "tracer_maps", "tracer_rss_kib",
	"stub_processes", "stub_tasks", "traced_threads",
};

struct sample {
	long at; /* cycle, or round */
	long v[M_COUNT];
};

static void take(struct ptp_platform *p, long at, struct sample *s)
{
	struct ptp_stats st;
	pid_t none[1];
	int tasks = 0;

	s->at = at;
	s->v[M_TASKS] = ps_self_tasks();
	s->v[M_FDS] = ps_self_fds();
	s->v[M_MAPS] = ps_self_maps();
	s->v[M_RSS_KIB] = ps_self_rss_kib();
	s->v[M_STUB_PROCS] = ps_descendants(getpid(), none, 0, &tasks);
	s->v[M_STUB_TASKS] = tasks;
	s->v[M_TRACED_THREADS] = 0;
	if (p) {
		ptp_stats(p, &st);
		s->v[M_TRACED_THREADS] = st.traced_threads;
	}
}

static json_t *sample_json(const struct sample *s)
{
	json_t *o = json_object();

	json_object_set_new(o, "at", json_integer(s->at));
	for (int m = 0; m < M_COUNT; m++)
		json_object_set_new(o, metric_names[m], json_integer(s->v[m]));
	return o;
}

/* How much a series may grow from the warm-up to the end before it is a
 * leak: nothing for countable resources; RSS moves with the allocator, so
 * only a large growth counts (this is a coarse oracle). */
static long tolerance(enum metric m, long base)
{
	switch (m) {
	case M_MAPS:
		return 2; /* glibc may keep one more arena heap or stack */
	case M_RSS_KIB:
		return base / 4 > 4096 ? base / 4 : 4096;
	default:
		return 0;
	}
}

static bool judged(enum metric m)
{
	return !(UNDER_ASAN && (m == M_MAPS || m == M_RSS_KIB));
}

struct phase {
	const char *name;
	struct sample s[64];
	int n, warm; /* samples; index of the end of the warm-up */
	long elapsed_us;
	unsigned long work; /* cycles or switches done */
	long max_traced_threads, bound_traced_threads;
	bool leak[M_COUNT];
	bool bound_broken;
	char error[256];
};

static void add_sample(struct ptp_platform *p, struct phase *ph, long at)
{
	if (ph->n < (int)(sizeof(ph->s) / sizeof(ph->s[0])))
		take(p, at, &ph->s[ph->n++]);
}

static void judge(struct phase *ph)
{
	const struct sample *w = &ph->s[ph->warm], *e = &ph->s[ph->n - 1];

	for (int m = 0; m < M_COUNT; m++)
		ph->leak[m] = judged(m) && e->v[m] - w->v[m] > tolerance(m, w->v[m]);
	ph->bound_broken = ph->max_traced_threads > ph->bound_traced_threads;
}

static int open_platform(unsigned int pool, struct ptp_platform **p)
{
	struct ptp_options o;
	int rc;

	ptp_options_default(&o);
	o.mode = cfg.mode;
	o.backend = cfg.backend;
	o.reuse_pool = pool;
	rc = ptp_open(&o, p);
	if (rc < 0)
		fprintf(stderr, "%s: ptp_open: %s: %s\n", PROG, strerror(-rc),
			ptp_open_error());
	return rc;
}

/* One cycle: a fresh (or pooled) address space, the payload, a switch, and
 * the release. */
static int cycle(struct ptp_platform *p, struct ptp_ctx *ctx, char *err, size_t len)
{
	struct ptp_event ev;
	struct ptp_as *as;
	int rc = ptp_as_new(p, &as);

	if (rc < 0) {
		snprintf(err, len, "ptp_as_new: %s", strerror(-rc));
		return rc;
	}
	rc = rel_load_loop(as);
	ptp_ctx_set_ip(ctx, REL_CODE);
	if (rc == 0)
		rc = ptp_switch(ctx, as, &ev);
	if (rc < 0)
		snprintf(err, len, "load or switch: %s", strerror(-rc));
	else if (ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid)
		snprintf(err, len, "switch: event %d nr %ld", ev.kind, ev.nr);
	ptp_as_release(as);
	return err[0] ? -1 : 0;
}

static void run_cycles(struct phase *ph, unsigned int pool)
{
	unsigned long every = cfg.cycles / 10 ? cfg.cycles / 10 : 1;
	struct ptp_platform *p;
	struct ptp_ctx *ctx;
	long t0 = ps_now_us();

	if (open_platform(pool, &p) < 0 || ptp_ctx_new(p, &ctx) < 0) {
		snprintf(ph->error, sizeof(ph->error), "cannot open the platform");
		return;
	}
	ph->bound_traced_threads = pool ? pool : 1;
	for (unsigned long i = 0; i < cfg.cycles && !ph->error[0]; i++) {
		struct ptp_stats st;

		cycle(p, ctx, ph->error, sizeof(ph->error));
		if (cfg.plant_every && i % cfg.plant_every == cfg.plant_every - 1)
			plant_one();
		ptp_stats(p, &st);
		if ((long)st.traced_threads > ph->max_traced_threads)
			ph->max_traced_threads = st.traced_threads;
		if (i % every == every - 1) {
			/* The first tenth is the warm-up: pool, caches. */
			if (ph->n == 0)
				ph->warm = 0;
			add_sample(p, ph, (long)i + 1);
		}
		ph->work = i + 1;
	}
	ph->elapsed_us = ps_now_us() - t0;
	ptp_ctx_free(ctx);
	ptp_close(p);
}

#define SOAK_AS 2

struct switcher {
	pthread_t th;
	struct ptp_platform *p;
	struct ptp_as **as;
	unsigned long n;
	bool started, joined;
	char error[200];
};

/* One fresh tracer thread: its own contexts, n switches alternating over
 * the address spaces, each checked against the payload's counter. */
static void *switcher_main(void *arg)
{
	struct switcher *w = arg;
	struct ptp_ctx *ctx[SOAK_AS] = { 0 };
	unsigned long done[SOAK_AS] = { 0 };
	struct ptp_event ev;
	int rc;

	for (int a = 0; a < SOAK_AS; a++)
		if ((rc = rel_loop_ctx(w->p, &ctx[a])) < 0)
			snprintf(w->error, sizeof(w->error), "ctx: %s", strerror(-rc));
	for (unsigned long i = 0; i < w->n && !w->error[0]; i++) {
		int a = (int)(i % SOAK_AS);

		rc = ptp_switch(ctx[a], w->as[a], &ev);
		if (rc < 0)
			snprintf(w->error, sizeof(w->error), "switch: %s", strerror(-rc));
		else if (ev.kind != PTP_EV_SYSCALL || ev.nr != SYS_getpid ||
			 ptp_ctx_arg(ctx[a], 5) != done[a])
			snprintf(w->error, sizeof(w->error),
				 "switch %lu: event %d nr %ld count %lu, expected %lu", i,
				 ev.kind, ev.nr, (unsigned long)ptp_ctx_arg(ctx[a], 5),
				 done[a]);
		done[a]++;
	}
	for (int a = 0; a < SOAK_AS; a++)
		ptp_ctx_free(ctx[a]);
	return NULL;
}

static void run_switches(struct phase *ph)
{
	unsigned long per = cfg.switches / (cfg.rounds * cfg.threads);
	struct switcher *w = calloc(cfg.threads, sizeof(*w));
	struct ptp_as *as[SOAK_AS];
	struct ptp_platform *p;
	long t0 = ps_now_us();

	if (!w || open_platform(8, &p) < 0) {
		snprintf(ph->error, sizeof(ph->error), "cannot open the platform");
		free(w);
		return;
	}
	/* One per tracer thread and address space, and the loader's. */
	ph->bound_traced_threads = (long)(cfg.threads * SOAK_AS + SOAK_AS);
	for (int a = 0; a < SOAK_AS; a++)
		if (ptp_as_new(p, &as[a]) < 0 || rel_load_loop(as[a]) < 0)
			snprintf(ph->error, sizeof(ph->error), "cannot set up address spaces");
	for (unsigned long r = 0; r < cfg.rounds && !ph->error[0]; r++) {
		unsigned int running = 0;

		for (unsigned long t = 0; t < cfg.threads; t++) {
			w[t] = (struct switcher){ .p = p, .as = as, .n = per };
			w[t].started = pthread_create(&w[t].th, NULL, switcher_main,
						      &w[t]) == 0;
			running += w[t].started;
		}
		if (running < cfg.threads)
			snprintf(ph->error, sizeof(ph->error), "pthread_create failed");
		/* The traced-thread count while the round runs. */
		for (;;) {
			struct ptp_stats st;
			bool all_done = true;

			ptp_stats(p, &st);
			if ((long)st.traced_threads > ph->max_traced_threads)
				ph->max_traced_threads = st.traced_threads;
			for (unsigned long t = 0; t < cfg.threads; t++) {
				if (w[t].started && !w[t].joined)
					w[t].joined = pthread_tryjoin_np(w[t].th, NULL) == 0;
				all_done &= !w[t].started || w[t].joined;
			}
			if (all_done)
				break;
			usleep(20000);
		}
		for (unsigned long t = 0; t < cfg.threads; t++) {
			if (w[t].error[0] && !ph->error[0])
				snprintf(ph->error, sizeof(ph->error), "thread %lu: %s", t,
					 w[t].error);
			ph->work += per;
		}
		if (cfg.plant != PLANT_NONE)
			plant_one();
		/* The first round is the warm-up: thread stacks, arenas. */
		add_sample(p, ph, (long)r + 1);
	}
	ph->elapsed_us = ps_now_us() - t0;
	for (int a = 0; a < SOAK_AS; a++)
		ptp_as_release(as[a]);
	ptp_close(p);
	free(w);
}

/* Memory an address space and a traced thread cost: hold cfg.hold of each
 * and divide the differences. KernelStack is system-wide (other processes
 * move it too): a rough figure, labelled so. */
struct memcost {
	double as_stub_pss_kib, as_stub_rss_kib, as_page_tables_kib;
	double as_kernel_stack_kib, as_tracer_rss_kib;
	double thread_stub_pss_kib, thread_kernel_stack_kib, thread_tracer_rss_kib;
	unsigned long held_as, held_threads;
	char error[200];
};

struct mem_snapshot {
	long stub_pss, stub_rss, stub_pte, kernel_stack, tracer_rss;
};

/* Sums over every descendant process (the stubs). */
static void snapshot(struct mem_snapshot *m)
{
	pid_t pids[4096];
	int n = ps_descendants(getpid(), pids, 4096, NULL);

	memset(m, 0, sizeof(*m));
	for (int i = 0; i < n && i < 4096; i++) {
		long r, s, pte = ps_status_kib(pids[i], "VmPTE");

		if (ps_rollup_kib(pids[i], &r, &s) == 0) {
			m->stub_pss += s;
			m->stub_rss += r;
		}
		m->stub_pte += pte > 0 ? pte : 0;
	}
	m->kernel_stack = ps_meminfo_kib("KernelStack");
	m->tracer_rss = ps_self_rss_kib();
}

struct holder {
	pthread_t th;
	struct ptp_as *as;
	struct ptp_ctx *ctx;
	pthread_barrier_t *ready, *go;
	int rc;
};

static void *holder_main(void *arg)
{
	struct holder *h = arg;
	struct ptp_event ev;

	h->rc = ptp_switch(h->ctx, h->as, &ev);
	pthread_barrier_wait(h->ready);
	pthread_barrier_wait(h->go);
	return NULL;
}

static void measure_memory(struct memcost *mc)
{
	unsigned long n = cfg.hold;
	struct ptp_as **as = calloc(n, sizeof(*as));
	struct holder *h = calloc(n, sizeof(*h));
	pthread_barrier_t ready, go;
	struct ptp_platform *p;
	struct mem_snapshot m0, m1;
	long pss0, rss0, pss1, rss1;
	unsigned int threads_before;
	double k;

	if (!as || !h || open_platform(0, &p) < 0) {
		snprintf(mc->error, sizeof(mc->error), "cannot open the platform");
		goto out_free;
	}
	snapshot(&m0);
	for (unsigned long i = 0; i < n && !mc->error[0]; i++) {
		if (ptp_as_new(p, &as[i]) < 0)
			snprintf(mc->error, sizeof(mc->error), "ptp_as_new failed");
		else
			mc->held_as++;
	}
	snapshot(&m1);
	if (mc->held_as) {
		k = 1.0 / (double)mc->held_as;
		mc->as_stub_pss_kib = (double)(m1.stub_pss - m0.stub_pss) * k;
		mc->as_stub_rss_kib = (double)(m1.stub_rss - m0.stub_rss) * k;
		mc->as_page_tables_kib = (double)(m1.stub_pte - m0.stub_pte) * k;
		mc->as_kernel_stack_kib = (double)(m1.kernel_stack - m0.kernel_stack) * k;
		mc->as_tracer_rss_kib = (double)(m1.tracer_rss - m0.tracer_rss) * k;
	}

	/* n tracer threads, one traced thread each, all in as[0]. */
	if (!mc->error[0] && rel_load_loop(as[0]) < 0)
		snprintf(mc->error, sizeof(mc->error), "cannot load the payload");
	if (mc->error[0])
		goto out_close;
	pthread_barrier_init(&ready, NULL, (unsigned int)n + 1);
	pthread_barrier_init(&go, NULL, (unsigned int)n + 1);
	/* The loader's traced thread on ptrace; none on systrap, whose loader
	 * injects through the leader. */
	threads_before = ptp_as_thread_count(as[0]);
	ps_rollup_kib(ptp_as_pid(as[0]), &rss0, &pss0);
	snapshot(&m0);
	for (unsigned long i = 0; i < n; i++) {
		h[i] = (struct holder){ .as = as[0], .ready = &ready, .go = &go };
		if (rel_loop_ctx(p, &h[i].ctx) < 0 ||
		    pthread_create(&h[i].th, NULL, holder_main, &h[i])) {
			/* The barriers count on every thread: give up here. */
			fprintf(stderr, "%s: cannot start holder thread %lu\n", PROG, i);
			exit(1);
		}
	}
	pthread_barrier_wait(&ready);
	ps_rollup_kib(ptp_as_pid(as[0]), &rss1, &pss1);
	snapshot(&m1);
	mc->held_threads = ptp_as_thread_count(as[0]) - threads_before;
	if (mc->held_threads) {
		k = 1.0 / (double)mc->held_threads;
		mc->thread_stub_pss_kib = (double)(pss1 - pss0) * k;
		mc->thread_kernel_stack_kib = (double)(m1.kernel_stack - m0.kernel_stack) * k;
		mc->thread_tracer_rss_kib = (double)(m1.tracer_rss - m0.tracer_rss) * k;
	}
	pthread_barrier_wait(&go);
	for (unsigned long i = 0; i < n; i++) {
		pthread_join(h[i].th, NULL);
		if (h[i].rc < 0 && !mc->error[0])
			snprintf(mc->error, sizeof(mc->error), "holder switch: %s",
				 strerror(-h[i].rc));
		ptp_ctx_free(h[i].ctx);
	}
	pthread_barrier_destroy(&ready);
	pthread_barrier_destroy(&go);
out_close:
	for (unsigned long i = 0; i < mc->held_as; i++)
		ptp_as_release(as[i]);
	ptp_close(p);
out_free:
	free(as);
	free(h);
}

static json_t *phase_json(const struct phase *ph)
{
	json_t *o = json_object(), *samples = json_array(), *leaks = json_array();

	for (int i = 0; i < ph->n; i++)
		json_array_append_new(samples, sample_json(&ph->s[i]));
	for (int m = 0; m < M_COUNT; m++)
		if (ph->leak[m])
			json_array_append_new(leaks, json_string(metric_names[m]));
	json_object_set_new(o, "name", json_string(ph->name));
	json_object_set_new(o, "work", json_integer((json_int_t)ph->work));
	json_object_set_new(o, "elapsed_s", json_real(ph->elapsed_us / 1e6));
	json_object_set_new(o, "warmup_sample", json_integer(ph->warm));
	json_object_set_new(o, "max_traced_threads", json_integer(ph->max_traced_threads));
	json_object_set_new(o, "bound_traced_threads", json_integer(ph->bound_traced_threads));
	json_object_set_new(o, "bound_broken", json_boolean(ph->bound_broken));
	json_object_set_new(o, "leaks", leaks);
	json_object_set_new(o, "error", ph->error[0] ? json_string(ph->error) : json_null());
	json_object_set_new(o, "samples", samples);
	return o;
}

static __attribute__((noreturn)) void usage(const char *msg, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s (usage: %s [--cycles N] [--switches N] [--threads T] "
		"[--rounds R] [--hold N] [--backend ptrace|systrap] [--mode faithful|lean] "
		"[--plant fd|thread|map] [--plant-every K] [--expect flat|leak] "
		"[--json FILE|-])\n", PROG, msg, arg ? ": " : "", arg ? arg : "", PROG);
	exit(2);
}

static bool parse_plant(const char *v)
{
	for (int i = PLANT_FD; i <= PLANT_MAP; i++)
		if (strcmp(v, plant_names[i]) == 0) {
			cfg.plant = i;
			return true;
		}
	return false;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!v)
			usage("missing value or unknown option", a);
		i++;
		if (strcmp(a, "--cycles") == 0 ? !rel_parse_ulong(v, 100000000, &cfg.cycles) :
		    strcmp(a, "--switches") == 0 ? !rel_parse_ulong(v, 1000000000, &cfg.switches) :
		    strcmp(a, "--threads") == 0 ? !rel_parse_ulong(v, 256, &cfg.threads) || !cfg.threads :
		    strcmp(a, "--rounds") == 0 ? !rel_parse_ulong(v, 64, &cfg.rounds) || cfg.rounds < 2 :
		    strcmp(a, "--hold") == 0 ? !rel_parse_ulong(v, 2000, &cfg.hold) || !cfg.hold :
		    strcmp(a, "--plant-every") == 0 ? !rel_parse_ulong(v, 100000000, &cfg.plant_every) || !cfg.plant_every :
		    strcmp(a, "--mode") == 0 ? ptp_mode_parse(v, &cfg.mode) < 0 :
		    strcmp(a, "--backend") == 0 ? ptp_backend_parse(v, &cfg.backend) < 0 :
		    strcmp(a, "--plant") == 0 ? !parse_plant(v) :
		    strcmp(a, "--expect") == 0 ? (cfg.expect = v, strcmp(v, "flat") && strcmp(v, "leak")) :
		    strcmp(a, "--json") == 0 ? (cfg.json = v, false) : true)
			usage("bad option or value", a);
	}
	if (cfg.cycles < 10)
		usage("--cycles must be at least 10 (a tenth is the warm-up)", NULL);
	if (cfg.json && !rel_json_path_ok(cfg.json, PROG))
		exit(2);
	if (!judged(M_MAPS) && cfg.plant == PLANT_MAP) {
		printf("%s: SKIP: mappings are not judged under ASan\n", PROG);
		exit(77);
	}
	if (cfg.plant == PLANT_NONE)
		cfg.plant_every = 0;
	else if (!cfg.plant_every)
		cfg.plant_every = cfg.cycles / 50 ? cfg.cycles / 50 : 1;
}

int main(int argc, char **argv)
{
	struct phase ph[3] = {
		{ .name = "cycles_reuse_off" },
		{ .name = "cycles_reuse_on" },
		{ .name = "switches" },
	};
	struct memcost mc = { 0 };
	struct sample before, after;
	bool any_leak = false, all_caught = true, error = false, ok;
	json_t *root, *phases = json_array();
	const char *verdict;
	int planted_metric;

	parse_args(argc, argv);
	if (payload_get(PAYLOAD_SYSCALL_LOOP)->size == 0) {
		printf("%s: SKIP: no syscall_loop payload on this arch\n", PROG);
		return 77;
	}
	planted_metric = cfg.plant == PLANT_FD ? M_FDS : cfg.plant == PLANT_THREAD ? M_TASKS
										: M_MAPS;
	/* The whole run: no platform before or after, so no thread, fd or
	 * stub may be left over (maps and RSS keep what glibc caches). */
	take(NULL, 0, &before);
	run_cycles(&ph[0], 0);
	run_cycles(&ph[1], 8);
	run_switches(&ph[2]);
	measure_memory(&mc);
	take(NULL, 0, &after);
	for (int m = M_TASKS; m <= M_STUB_TASKS; m++) {
		if (m == M_MAPS || m == M_RSS_KIB || after.v[m] == before.v[m])
			continue;
		fprintf(stderr, "%s: %s was %ld before the run, %ld after it\n", PROG,
			metric_names[m], before.v[m], after.v[m]);
		any_leak = true;
	}
	for (int i = 0; i < 3; i++) {
		error |= ph[i].error[0] != 0 || ph[i].n < 2;
		if (ph[i].error[0])
			fprintf(stderr, "%s: %s: %s\n", PROG, ph[i].name, ph[i].error);
		if (ph[i].n >= 2)
			judge(&ph[i]);
		for (int m = 0; m < M_COUNT; m++) {
			any_leak |= ph[i].leak[m];
			if (ph[i].leak[m])
				fprintf(stderr, "%s: %s: %s grew from %ld to %ld\n", PROG,
					ph[i].name, metric_names[m], ph[i].s[ph[i].warm].v[m],
					ph[i].s[ph[i].n - 1].v[m]);
		}
		if (ph[i].bound_broken)
			fprintf(stderr, "%s: %s: %ld traced threads at once, bound %ld\n",
				PROG, ph[i].name, ph[i].max_traced_threads,
				ph[i].bound_traced_threads);
		any_leak |= ph[i].bound_broken;
		if (cfg.plant != PLANT_NONE)
			all_caught &= ph[i].leak[planted_metric];
		json_array_append_new(phases, phase_json(&ph[i]));
	}
	if (mc.error[0]) {
		fprintf(stderr, "%s: memory: %s\n", PROG, mc.error);
		error = true;
	}
	verdict = error ? "error" : any_leak ? "leak" : "flat";
	ok = strcmp(verdict, cfg.expect) == 0 && (cfg.plant == PLANT_NONE || all_caught);
	root = json_pack(
		"{s:s,s:s,s:s,s:{s:I,s:I,s:I,s:I,s:I,s:s,s:I},s:b,s:I,s:o,s:o,s:o,"
		"s:{s:I,s:f,s:f,s:f,s:f,s:f,s:I,s:f,s:f,s:f},s:s,s:s,s:b}",
		"program", PROG, "backend", ptp_backend_name(cfg.backend),
		"mode", ptp_mode_name(cfg.mode),
		"config", "cycles", (json_int_t)cfg.cycles, "switches", (json_int_t)cfg.switches,
		"threads", (json_int_t)cfg.threads, "rounds", (json_int_t)cfg.rounds,
		"hold", (json_int_t)cfg.hold, "plant", plant_names[cfg.plant],
		"plant_every", (json_int_t)cfg.plant_every,
		"asan", UNDER_ASAN, "planted", (json_int_t)planted,
		"before_run", sample_json(&before), "after_run", sample_json(&after),
		"phases", phases,
		"memory", "held_as", (json_int_t)mc.held_as,
		"as_stub_pss_kib", mc.as_stub_pss_kib,
		"as_stub_rss_kib", mc.as_stub_rss_kib,
		"as_page_tables_kib", mc.as_page_tables_kib,
		"as_kernel_stack_kib_systemwide", mc.as_kernel_stack_kib,
		"as_tracer_rss_kib", mc.as_tracer_rss_kib,
		"held_threads", (json_int_t)mc.held_threads,
		"thread_stub_pss_kib", mc.thread_stub_pss_kib,
		"thread_kernel_stack_kib_systemwide", mc.thread_kernel_stack_kib,
		"thread_tracer_rss_kib_with_its_pthread", mc.thread_tracer_rss_kib,
		"verdict", verdict, "expect", cfg.expect, "as_expected", ok);
	if (cfg.json && rel_write_json(root, cfg.json, PROG) < 0)
		ok = false;
	/* With the JSON on stdout, the summary line goes to stderr. */
	fprintf(cfg.json && strcmp(cfg.json, "-") == 0 ? stderr : stdout,
		"%s: %lu cycles x2, %lu switches over %lu threads x %lu rounds: "
	       "verdict %s (expected %s%s); per address space %.1f KiB stub PSS + "
	       "%.1f KiB page tables, per traced thread %.1f KiB kernel stack\n", PROG, cfg.cycles,
	       ph[2].work, cfg.threads, cfg.rounds, verdict, cfg.expect,
	       cfg.plant != PLANT_NONE ? (all_caught ? ", planted leak caught in "
						       "every phase" : ", planted leak MISSED") : "",
	       mc.as_stub_pss_kib, mc.as_page_tables_kib, mc.thread_kernel_stack_kib);
	json_decref(root);
	return ok ? 0 : 1;
}
