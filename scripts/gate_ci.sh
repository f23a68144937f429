#!/usr/bin/env bash
# gate_ci.sh: the CI performance gate. Machine-independent: it compares
# ratios measured within one run with the same ratios in a committed
# baseline, with a loose threshold, so that a slower or noisier CI machine
# does not fail a good change.
#
#   gate_ci.sh [--build-dir DIR] [--no-build] [--baseline FILE]
#              [--threshold F] [--cv-max F] [--reps N] [--min-time S]
#   gate_ci.sh --write-baseline RESULTS_DIR/bench.json [--baseline FILE]
#
# Builds DIR (default build/bench: meson, release, no sanitizers,
# -Dbench=true, -Dslowdown_ns=0; reconfigured if it differs), then runs
# ptbench-bench once on switch/faithful, switch/lean,
# mechanism/sysemu_regs, mechanism/sysemu_gpr, mechanism/inject,
# map/inject/pages:1 and map/native/pages:1 (--reps repetitions, default
# 5, of --min-time seconds, default 0.1, in random interleaving so that a
# drift hits every figure alike) and computes (scripts/gate.py):
#   switch/faithful / mechanism/sysemu_regs
#   switch/lean / mechanism/sysemu_gpr
#   map/inject/pages:1 / (2 x mechanism/inject + map/native/pages:1)
# Each is compared with the baseline (default results/baseline/ratios.json):
#   worse   ratio above baseline x (1 + threshold); threshold 0.30
#   noisy   an input's coefficient of variation above --cv-max (0.15)
#   ok, better (below baseline x (1 - threshold): passes; consider a new
#           baseline), n/a (an input missing or skipped)
# If a ratio is worse or noisy, the benchmark runs once more (one
# automatic rerun). The gate fails only if a ratio is worse, with quiet
# inputs, in both runs. A noisy verdict never fails.
#
# --write-baseline BENCH.json: write the baseline file from a committed full
# run (gate.py write-baseline) and exit.
#
# Output: one line per ratio and run, then one verdict line
# ("gate-ci: PASS ..." or "gate-ci: FAIL ..."). Exit 0 pass, 1 fail (also
# when ptbench-bench fails), 2 usage or a missing or bad baseline.
set -euo pipefail

PTBENCH_PROG=gate-ci
# shellcheck source=scripts/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

GATE_PY=$PTBENCH_ROOT/scripts/gate.py
BENCH_REL=bench/ptbench-bench
RELEASE_OPTS=(-Dbuildtype=release -Db_sanitize=none -Dbench=true -Dslowdown_ns=0)
FILTER='^(switch/(faithful|lean)|mechanism/(sysemu_regs|sysemu_gpr|inject)|map/(inject|native)/pages:1)/'

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# build DIR: configure DIR for the benchmarks if needed, then compile.
build() {
	local dir=$1 log=$1.gate-ci.log
	mkdir -p "$(dirname "$dir")"
	if [[ ! -f $dir/meson-private/coredata.dat ]]; then
		info "configuring $dir: ${RELEASE_OPTS[*]}"
		meson setup "$dir" "$PTBENCH_ROOT" "${RELEASE_OPTS[@]}" >"$log" 2>&1 </dev/null ||
			{ tail -n 25 "$log" >&2; die "meson setup failed (log: $log)"; }
	elif ! "$PTBENCH_PYTHON" - "$dir/meson-info/intro-buildoptions.json" "${RELEASE_OPTS[@]}" <<'PY'; then
import json, sys
try:
    o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
except Exception:
    sys.exit(1)
for a in sys.argv[2:]:
    k, _, v = a[2:].partition("=")
    h = o.get(k)
    h = ("true" if h else "false") if isinstance(h, bool) else ",".join(h) if isinstance(h, list) else str(h)
    if h != v:
        sys.exit(1)
PY
		info "reconfiguring $dir: ${RELEASE_OPTS[*]}"
		meson configure "$dir" "${RELEASE_OPTS[@]}" >"$log" 2>&1 </dev/null ||
			{ tail -n 25 "$log" >&2; die "meson configure failed (log: $log)"; }
	fi
	meson compile -C "$dir" >>"$log" 2>&1 </dev/null ||
		{ tail -n 25 "$log" >&2; die "build failed in $dir (log: $log)"; }
}

main() {
	local dir=$PTBENCH_ROOT/build/bench nobuild=0 write='' arg
	local baseline=$PTBENCH_ROOT/results/baseline/ratios.json
	local threshold=0.30 cv_max=0.15 reps=5 min_time=0.1
	while (($#)); do
		arg=$1
		case $arg in
		--build-dir | --baseline | --threshold | --cv-max | --reps | --min-time | --write-baseline)
			(($# >= 2)) || die -s 2 "$arg needs a value (try: gate_ci.sh --help)"
			case $arg in
			--build-dir) dir=$2 ;;
			--baseline) baseline=$2 ;;
			--threshold) threshold=$2 ;;
			--cv-max) cv_max=$2 ;;
			--reps) reps=$2 ;;
			--min-time) min_time=$2 ;;
			--write-baseline) write=$2 ;;
			esac
			shift
			;;
		--no-build) nobuild=1 ;;
		-h | --help) usage; return 0 ;;
		*) die -s 2 "unknown argument '$arg' (try: gate_ci.sh --help)" ;;
		esac
		shift
	done
	if [[ -n $write ]]; then
		mkdir -p "$(dirname "$baseline")"
		"$PTBENCH_PYTHON" "$GATE_PY" write-baseline "$write" "$baseline" || exit 2
		info "wrote ${baseline#"$PTBENCH_ROOT"/}"
		return 0
	fi
	[[ $reps =~ ^[1-9][0-9]*$ && $reps -ge 2 ]] || die -s 2 "--reps wants an integer >= 2, not '$reps'"
	[[ $min_time =~ ^[0-9]*\.?[0-9]+$ ]] || die -s 2 "--min-time wants seconds, not '$min_time'"
	[[ $threshold =~ ^[0-9]*\.?[0-9]+$ && $cv_max =~ ^[0-9]*\.?[0-9]+$ ]] ||
		die -s 2 "--threshold and --cv-max want fractions (0.30, 0.15)"
	[[ -s $baseline ]] ||
		die -s 2 "no baseline $baseline (write it: gate_ci.sh --write-baseline RESULTS_DIR/bench.json)"
	check_json "$baseline"

	local t0 exe tmp
	t0=$(now_ms)
	((nobuild)) || build "$dir"
	exe=$dir/$BENCH_REL
	[[ -x $exe ]] || die "no benchmark executable $exe"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/gate-ci.XXXXXX")
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT

	local -a check=("$PTBENCH_PYTHON" "$GATE_PY" ci-check --baseline "$baseline"
		--threshold "$threshold" --cv-max "$cv_max")
	local run st=0 tb=0 t line verdict=''
	local -a runs=()
	for run in 1 2; do
		t=$(now_ms)
		st=0
		"$exe" --benchmark_filter="$FILTER" --benchmark_repetitions="$reps" \
			--benchmark_min_time="$min_time" --benchmark_enable_random_interleaving=true \
			--benchmark_report_aggregates_only=false --benchmark_format=console \
			--benchmark_out="$tmp/run$run.json" --benchmark_out_format=json \
			>"$tmp/run$run.log" 2>&1 </dev/null || st=$?
		tb=$((tb + $(now_ms) - t))
		if ((st != 0)) || [[ ! -s $tmp/run$run.json ]]; then
			tail -n 15 "$tmp/run$run.log" >&2
			printf 'gate-ci: FAIL: ptbench-bench failed (%s) in run %d\n' "$(signal_text "$st")" "$run"
			return 1
		fi
		runs+=("$tmp/run$run.json")
		st=0
		"${check[@]}" "${runs[@]}" >"$tmp/check" || st=$?
		((st == 2)) && exit 2
		verdict=$(tail -n 1 "$tmp/check")
		while IFS= read -r line; do
			# the rerun's report repeats run 1: shown already
			[[ $line == "run 1: "* ]] || printf 'gate-ci: %s\n' "$line"
		done < <(sed '$d' "$tmp/check")
		((run == 1 && st != 0)) || break
		info "${verdict}: one automatic rerun"
	done
	local took="$((($(now_ms) - t0) / 1000)) s, $((tb / 1000)) s of it benchmarking"
	printf 'gate-ci: %s (%d run%s; %s)\n' "$verdict" "${#runs[@]}" \
		"$( ((${#runs[@]} == 1)) || echo s)" "$took"
	((st == 1)) && return 1
	return 0
}

main "$@"
