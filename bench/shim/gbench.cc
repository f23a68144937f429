// SPDX-License-Identifier: Apache-2.0
// The C shim over Google Benchmark: one file, extern "C" only.
#include "gbench.h"

#include <benchmark/benchmark.h>

#include <cstdio>

// gb_state and gb_bench stay incomplete: they are only ever pointers to
// benchmark::State and benchmark::internal::Benchmark.
static benchmark::State &S(gb_state *st)
{
	return *reinterpret_cast<benchmark::State *>(st);
}

static benchmark::internal::Benchmark *B(gb_bench *b)
{
	return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

static gb_bench *G(benchmark::internal::Benchmark *b)
{
	return reinterpret_cast<gb_bench *>(b);
}

extern "C" {

gb_bench *gb_register(const char *name, gb_fn fn, void *arg)
{
	return G(benchmark::RegisterBenchmark(name, [fn, arg](benchmark::State &st) {
		fn(reinterpret_cast<gb_state *>(&st), arg);
	}));
}

gb_bench *gb_arg(gb_bench *b, int64_t x) { return G(B(b)->Arg(x)); }
gb_bench *gb_arg_name(gb_bench *b, const char *name) { return G(B(b)->ArgName(name)); }

gb_bench *gb_range(gb_bench *b, int64_t lo, int64_t hi, int mult)
{
	return G(B(b)->RangeMultiplier(mult)->Range(lo, hi));
}

gb_bench *gb_threads(gb_bench *b, int n) { return G(B(b)->Threads(n)); }
gb_bench *gb_use_real_time(gb_bench *b) { return G(B(b)->UseRealTime()); }
gb_bench *gb_use_manual_time(gb_bench *b) { return G(B(b)->UseManualTime()); }

gb_bench *gb_unit(gb_bench *b, char unit)
{
	switch (unit) {
	case 'u':
		return G(B(b)->Unit(benchmark::kMicrosecond));
	case 'm':
		return G(B(b)->Unit(benchmark::kMillisecond));
	default:
		return G(B(b)->Unit(benchmark::kNanosecond));
	}
}

static gb_loop_hook loop_hook;
// The state whose loop the hook has seen start and not yet end.
static gb_state *hooked;

void gb_set_loop_hook(gb_loop_hook hook) { loop_hook = hook; }

bool gb_keep_running_batch(gb_state *st, uint64_t n)
{
	bool more;

	if (!loop_hook || S(st).thread_index() != 0)
		return S(st).KeepRunningBatch(static_cast<benchmark::IterationCount>(n));
	if (hooked != st) {
		loop_hook(st, false);
		hooked = st;
	}
	more = S(st).KeepRunningBatch(static_cast<benchmark::IterationCount>(n));
	if (!more) {
		hooked = nullptr;
		loop_hook(st, true);
	}
	return more;
}

int64_t gb_range_x(gb_state *st, int i) { return S(st).range(static_cast<size_t>(i)); }
int gb_thread_index(gb_state *st) { return S(st).thread_index(); }
int gb_thread_count(gb_state *st) { return S(st).threads(); }
uint64_t gb_iterations(gb_state *st) { return static_cast<uint64_t>(S(st).iterations()); }

void gb_counter(gb_state *st, const char *name, double value, int flags)
{
	S(st).counters[name] =
		benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(flags));
}

void gb_label(gb_state *st, const char *label) { S(st).SetLabel(label); }
void gb_set_iteration_time(gb_state *st, double seconds) { S(st).SetIterationTime(seconds); }
void gb_pause_timing(gb_state *st) { S(st).PauseTiming(); }
void gb_resume_timing(gb_state *st) { S(st).ResumeTiming(); }
void gb_skip_with_error(gb_state *st, const char *msg) { S(st).SkipWithError(msg); }
bool gb_error_occurred(gb_state *st) { return S(st).error_occurred(); }

void gb_context(const char *key, const char *value)
{
	benchmark::AddCustomContext(key, value);
}

// Initialize's help printer takes no argument: the program's part waits
// here.
static void (*own_help_fn)(void);

static void print_help()
{
	benchmark::PrintDefaultHelp();
	if (own_help_fn)
		own_help_fn();
}

int gb_main(int argc, char **argv, void (*own_help)(void))
{
	own_help_fn = own_help;
	benchmark::Initialize(&argc, argv, print_help);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 2;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}

} // extern "C"
