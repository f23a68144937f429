#!/usr/bin/env bash
# gate_selftest.sh: prove the regression gate on itself (run by hand, on an
# otherwise idle machine; not in CI). Takes about 15 minutes with the
# defaults on a 2-core VM.
#
#   gate_selftest.sh [--trials N] [--rounds N] [--reps N] [--min-time S]
#                    [--slowdown-pct P] [--out DIR] [--keep]
#
# Builds, from the work tree, in .cache/gate/ (meson, release, no
# sanitizers, -Dbench=true):
#   base-a, base-b   -Dslowdown_ns=0: two identical builds
#   slow             -Dslowdown_ns=N, N = P% (default 10) of the median of
#                    switch/faithful measured on base-a here (printed)
# then runs N trials (default 40) of each kind, the kinds alternating:
#   identical   base-a against base-b: a flag is a false alarm
#   slowed      base-a against slow: a flag is a detection
# Each trial benchmarks switch/faithful only: --rounds rounds (default 9)
# of one run of each build, the order flipping every round (A B, B A,
# ...), each run --benchmark_repetitions=R (default 1) with
# --benchmark_min_time=S (default 0.2); the runs of a side are merged
# (scripts/gate.py merge), so each side has rounds x reps samples from as
# many processes. The gate is the project's: ptbench-compare --key
# switch/faithful with its defaults (two-sided Mann-Whitney U, alpha 0.05,
# minimum effect 5%, cv max 10%). Each trial records the gate's exit code,
# p-value, change and the wall time of its benchmark runs (must stay under
# 60 s; the script warns otherwise).
#
# Writes results/gate-selftest/<UTC date>/ (or --out DIR): summary.md and
# summary.json (false-alarm rate: identical flagged with exit 1; detection
# rate: slowed flagged with exit 1; each with its Wilson 95% interval; the
# inconclusive trials, exit 3, and errors, exit 2), trials.tsv and
# meta.json; prints summary.md. The per-trial JSONs stay in
# .cache/gate/trials/<date>/ with --keep.
#
# Exit status: 0 when the self-test ran (whatever the rates), 2 on a usage,
# build or benchmark failure.
set -euo pipefail

PTBENCH_PROG=gate-selftest
# shellcheck source=scripts/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

GATE_CACHE=$PTBENCH_ROOT/.cache/gate
GATE_PY=$PTBENCH_ROOT/scripts/gate.py
BENCH_REL=bench/ptbench-bench
COMPARE_REL=bench/compare/ptbench-compare
KEY=switch/faithful
FILTER='^switch/faithful/'
release_opts




# build NAME SLOWDOWN_NS: configure .cache/gate/NAME from the work tree
# (reconfigure if its slowdown_ns differs) and compile it, quietly.
build() {
	local dir=$GATE_CACHE/$1 ns=$2 log=$GATE_CACHE/$1.log have
	mkdir -p "$GATE_CACHE"
	if [[ ! -f $dir/meson-private/coredata.dat ]]; then
		info "configuring .cache/gate/$1: ${RELEASE_OPTS[*]} -Dslowdown_ns=$ns"
		meson setup "$dir" "$PTBENCH_ROOT" "${RELEASE_OPTS[@]}" "-Dslowdown_ns=$ns" \
			>"$log" 2>&1 </dev/null || { tail -n 25 "$log" >&2; fail "meson setup failed (log: $log)"; }
	else
		have=$("$PTBENCH_PYTHON" -c '
import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
print(o.get("slowdown_ns"), o.get("buildtype"), o.get("b_sanitize"))' \
			"$dir/meson-info/intro-buildoptions.json") || fail "cannot read the options of $dir"
		if [[ $have != "$ns release none" ]]; then
			info "reconfiguring .cache/gate/$1 (was: $have): -Dslowdown_ns=$ns"
			meson configure "$dir" "${RELEASE_OPTS[@]}" "-Dslowdown_ns=$ns" \
				>"$log" 2>&1 </dev/null || { tail -n 25 "$log" >&2; fail "meson configure failed (log: $log)"; }
		fi
	fi
	meson compile -C "$dir" >>"$log" 2>&1 </dev/null ||
		{ tail -n 25 "$log" >&2; fail "build failed in $dir (log: $log)"; }
	[[ -x $dir/$BENCH_REL ]] || fail "no $BENCH_REL in $dir"
}

# Set by main.
REPS=1
MIN_TIME=0.2

# bench EXE OUT.json [REPS]: one run of switch/faithful; prints its wall
# time in ms.
bench() {
	local exe=$1 out=$2 reps=${3:-$REPS} t0 st=0
	t0=$(now_ms)
	"$exe" --benchmark_filter="$FILTER" --benchmark_repetitions="$reps" \
		--benchmark_min_time="$MIN_TIME" --benchmark_report_aggregates_only=false \
		--benchmark_format=console --benchmark_out="$out" --benchmark_out_format=json \
		>"$out.log" 2>&1 </dev/null || st=$?
	if ((st != 0)) || [[ ! -s $out ]]; then
		fail "$exe failed ($(signal_text "$st")); see $out.log"
	fi
	echo $(($(now_ms) - t0))
}

# trial N KIND X_EXE Y_EXE DIR: one interleaved comparison; appends a line
# to TRIALS and prints a one-line account.
TRIALS=
COMPARE=
ROUNDS=9
NTRIALS=40
trial() {
	local n=$1 kind=$2 xe=$3 ye=$4 dir=$5 r ms total=0 st=0 fields
	local -a xs=() ys=()
	mkdir -p "$dir"
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then
			ms=$(bench "$xe" "$dir/x.$r.json"); total=$((total + ms))
			ms=$(bench "$ye" "$dir/y.$r.json"); total=$((total + ms))
		else
			ms=$(bench "$ye" "$dir/y.$r.json"); total=$((total + ms))
			ms=$(bench "$xe" "$dir/x.$r.json"); total=$((total + ms))
		fi
		xs+=("$dir/x.$r.json")
		ys+=("$dir/y.$r.json")
	done
	"$PTBENCH_PYTHON" "$GATE_PY" merge "$dir/base.json" "${xs[@]}" || fail "merge failed in $dir"
	"$PTBENCH_PYTHON" "$GATE_PY" merge "$dir/new.json" "${ys[@]}" || fail "merge failed in $dir"
	((KEEP)) || rm -f "${xs[@]}" "${ys[@]}" "$dir"/*.json.log
	"$COMPARE" "$dir/base.json" "$dir/new.json" --key "$KEY" --format json \
		--out "$dir/compare.json" 2>"$dir/compare.err" || st=$?
	fields=$("$PTBENCH_PYTHON" "$GATE_PY" compare-fields "$dir/compare.json" "$KEY" 2>/dev/null) ||
		fields="error nan nan nan nan"
	local secs
	secs=$((total / 1000)).$(printf '%03d' $((total % 1000)))
	printf '%d\t%s\t%d\t%s\t%s\n' "$n" "$kind" "$st" "$secs" "${fields// /$'\t'}" >>"$TRIALS"
	local verdict p change
	read -r verdict p change _ <<<"$fields"
	info "$(printf 'trial %2d/%d %-9s exit %d %-10s p %-9s change %+6.2f%%  (%s s of benchmarks)' \
		"$n" "$NTRIALS" "$kind" "$st" "$verdict" "$p" \
		"$(awk -v c="$change" 'BEGIN { printf "%.2f", 100 * c }')" "$secs")"
	if ((total >= 60000)); then
		warn "trial $n used $secs s of benchmarking (the budget is 60 s)"
	fi
	((st != 2)) || warn "trial $n: ptbench-compare said: $(head -n 1 "$dir/compare.err")"
}

KEEP=0

main() {
	local pct=10 out='' arg
	while (($#)); do
		arg=$1
		case $arg in
		--trials | --rounds | --reps | --min-time | --slowdown-pct | --out)
			(($# >= 2)) || fail "$arg needs a value (try: gate_selftest.sh --help)"
			case $arg in
			--trials) NTRIALS=$2 ;;
			--rounds) ROUNDS=$2 ;;
			--reps) REPS=$2 ;;
			--min-time) MIN_TIME=$2 ;;
			--slowdown-pct) pct=$2 ;;
			--out) out=$2 ;;
			esac
			shift
			;;
		--keep) KEEP=1 ;;
		-h | --help) usage; return 0 ;;
		*) fail "unknown argument '$arg' (try: gate_selftest.sh --help)" ;;
		esac
		shift
	done
	local v
	for v in "$NTRIALS" "$ROUNDS" "$REPS" "$pct"; do
		[[ $v =~ ^[1-9][0-9]*$ ]] || fail "not a positive integer: '$v'"
	done
	[[ $MIN_TIME =~ ^[0-9]*\.?[0-9]+$ ]] || fail "--min-time wants seconds, not '$MIN_TIME'"
	((ROUNDS * REPS >= 3)) || fail "rounds x reps must be at least 3 (no p below 0.05 exists with fewer)"

	local stamp t_start
	stamp=$(date -u +%Y%m%d-%H%M%S)
	t_start=$(now_ms)
	[[ -n $out ]] || out=$PTBENCH_ROOT/results/gate-selftest/$stamp
	[[ ! -e $out/summary.md ]] || fail "$out already holds a summary"
	make_dir "$out"

	local load
	read -r load _ </proc/loadavg
	info "load average $load (run this on an otherwise idle machine)"
	build base-a 0
	build base-b 0
	local same=different
	cmp -s "$GATE_CACHE/base-a/$BENCH_REL" "$GATE_CACHE/base-b/$BENCH_REL" && same=byte-identical
	info "base-a and base-b built (their ptbench-bench executables are $same)"
	COMPARE=$GATE_CACHE/base-a/$COMPARE_REL
	[[ -x $COMPARE ]] || fail "no $COMPARE"

	# Calibrate: the median of switch/faithful on the baseline build.
	local tdir=$GATE_CACHE/trials/$stamp median ns
	mkdir -p "$tdir"
	bench "$GATE_CACHE/base-a/$BENCH_REL" "$tdir/calibrate.json" 15 >/dev/null
	median=$("$PTBENCH_PYTHON" "$GATE_PY" median "$tdir/calibrate.json" "$KEY") ||
		fail "cannot read the calibration run"
	ns=$(awk -v m="$median" -v p="$pct" 'BEGIN { printf "%d", m * p / 100 + 0.5 }')
	info "switch/faithful median on base-a: $median ns; slowed build: -Dslowdown_ns=$ns ($pct%)"
	build slow "$ns"

	TRIALS=$out/tmp.trials.tsv
	printf '# trial\tkind\texit\tseconds\tverdict\tp\tchange\tbase_ns\tnew_ns\n' >"$TRIALS"
	local n
	local a=$GATE_CACHE/base-a/$BENCH_REL b=$GATE_CACHE/base-b/$BENCH_REL s=$GATE_CACHE/slow/$BENCH_REL
	for ((n = 1; n <= NTRIALS; n++)); do
		if ((n % 2)); then
			trial "$n" identical "$a" "$b" "$tdir/$n-identical"
			trial "$n" slowed "$a" "$s" "$tdir/$n-slowed"
		else
			trial "$n" slowed "$a" "$s" "$tdir/$n-slowed"
			trial "$n" identical "$a" "$b" "$tdir/$n-identical"
		fi
	done

	local commit host kernel cpu
	commit=$(git_commit)
	host=$(uname -n)
	kernel=$(uname -r)
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	"$PTBENCH_PYTHON" - "$out/meta.json" <<PY || fail "cannot write meta.json"
import json, sys
json.dump({
    "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
    "host": "$host", "kernel": "$kernel", "cpu_model": "$cpu", "commit": "$commit",
    "nproc": $(nproc),
    "gate": "ptbench-compare --key $KEY (defaults: two-sided Mann-Whitney U, alpha 0.05, min effect 5%, cv max 10%)",
    "bench_flags": "--benchmark_filter=$FILTER --benchmark_repetitions=$REPS --benchmark_min_time=$MIN_TIME",
    "design": "$ROUNDS rounds per trial, one run of each build per round, order flipped every round; $((ROUNDS * REPS)) samples a side; trials of the two kinds alternate",
    "base_median_ns": $median, "slowdown_pct": $pct, "slowdown_ns": $ns,
    "identical_builds": "$same",
    "total_minutes": round(($(now_ms) - $t_start) / 60000, 1),
}, open(sys.argv[1], "w"), indent=2)
PY
	mv -f "$TRIALS" "$out/trials.tsv"
	"$PTBENCH_PYTHON" "$GATE_PY" selftest-summary "$out/trials.tsv" "$out" --meta "$out/meta.json" ||
		fail "cannot summarize"
	((KEEP)) || rm -rf "$tdir"
	printf '%s\n' "$out"
}

main "$@"
