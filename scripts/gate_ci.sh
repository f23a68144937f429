#!/usr/bin/env bash
# gate_ci.sh: the CI performance gate. It compares ratios measured within
# one run (so that a slower or noisier CI machine does not fail a good
# change) with the same ratios of a reference revision measured in the same
# run, with a loose threshold.
#
#   gate_ci.sh [--build-dir DIR] [--no-build] [--baseline FILE] [--stored]
#              [--threshold F] [--cv-max F] [--reps N] [--min-time S]
#   gate_ci.sh --write-baseline RESULTS_DIR/bench.json [--baseline FILE]
#
# Builds DIR (default build/bench: meson, release, no sanitizers,
# -Dbench=true, -Dslowdown_ns=0; reconfigured if it differs) from the work
# tree, and the same from the commit the baseline (default
# results/baseline/ratios.json) was measured at, in a git worktree under
# .cache/gate/<sha>/ (kept between runs). A run of the gate runs the two
# ptbench-bench executables in the order reference, work tree, work tree,
# reference (so that a drift of the machine hits both alike), each time
# on switch/faithful, switch/lean, mechanism/sysemu_regs,
# mechanism/sysemu_gpr, mechanism/inject, map/inject/pages:1,
# map/native/pages:1, and the systrap backend's switch/systrap_futex,
# mechanism/systrap_futex, switch/systrap_spin and mechanism/systrap_spin
# (--reps repetitions, default 3, of --min-time seconds, default 0.1, in
# random interleaving), merges each side's two runs, and computes
# (scripts/gate.py):
#   switch/faithful / mechanism/sysemu_regs
#   switch/lean / mechanism/sysemu_gpr
#   map/inject/pages:1 / (2 x mechanism/inject + map/native/pages:1)
#   switch/systrap_futex / mechanism/systrap_futex
#   switch/systrap_spin / mechanism/systrap_spin
# Each switch over the bare mechanism it is built on: the core's cost
# above its hand-off. The spin ratio needs 2 CPUs online (tracer and stub
# spin on two CPUs): with fewer, its benchmarks are left out and the ratio
# is skipped with that reason. A reference from before the systrap
# backend (the baseline's commit) has none of its benchmarks: those
# ratios are n/a until the baseline is refreshed.
# Each ratio of the work tree is compared with the reference's:
#   worse   ratio above the reference's x (1 + threshold); threshold 0.30
#   noisy   an input's spread, on either side, above --cv-max (0.15);
#           the spread is 1.4826 x the median absolute deviation over the
#           median (the cv of a median: one VM hiccup in a handful of
#           repetitions does not make a figure noisy)
#   ok, better (below the reference's x (1 - threshold): passes; consider
#           a new baseline), n/a (an input missing or skipped)
# If a ratio is worse or noisy, the gate runs once more (one automatic
# rerun). It fails only if a ratio is worse, with quiet inputs, in both
# runs. A noisy verdict never fails.
#
# Why a reference in the same run: the stored ratios do not carry from one
# machine to another. On a Firecracker VM of another host the baseline's
# own commit measured switch/faithful / mechanism/sysemu_regs 1.36 against
# the stored 0.99, and failed the gate that it had set.
#
# --stored: compare with the ratios stored in the baseline file instead
# (no second build; the way the gate worked before). Also what happens,
# with a warning, when the baseline's commit is not in this clone's
# history (a shallow clone).
#
# --write-baseline BENCH.json: write the baseline file from a committed full
# run (gate.py write-baseline) and exit. Its commit becomes the reference.
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
release_opts
RELEASE_OPTS+=(-Dslowdown_ns=0)
# The spin figures only with 2 CPUs online: main() adds them.
FILTER_SWITCH='faithful|lean|systrap_futex'
FILTER_MECH='sysemu_regs|sysemu_gpr|inject|systrap_futex'
FILTER=''



# build DIR [SRC]: configure DIR (from SRC, default the work tree) for the
# benchmarks if needed, then compile.
build() {
	local dir=$1 src=${2:-$PTBENCH_ROOT} log=$1.gate-ci.log
	mkdir -p "$(dirname "$dir")"
	if [[ ! -f $dir/meson-private/coredata.dat ]]; then
		info "configuring $dir: ${RELEASE_OPTS[*]}"
		meson setup "$dir" "$src" "${RELEASE_OPTS[@]}" >"$log" 2>&1 </dev/null ||
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

# reference_tree SHA: print the worktree of SHA under .cache/gate, adding
# it if needed; status 1 (with a warning) if SHA is not in this clone.
reference_tree() {
	local sha dir head
	sha=$(git -C "$PTBENCH_ROOT" rev-parse --verify --quiet "$1^{commit}" 2>/dev/null) || {
		warn "the baseline's commit '$1' is not in this clone's history (shallow?)"
		return 1
	}
	dir=$PTBENCH_ROOT/.cache/gate/${sha:0:12}
	if [[ -d $dir ]]; then
		head=$(git -C "$dir" rev-parse HEAD 2>/dev/null) || head=''
		[[ $head == "$sha" ]] ||
			die -s 2 "$dir is not a worktree at $sha (remove it: git worktree remove --force $dir)"
	else
		mkdir -p "$(dirname "$dir")"
		git -C "$PTBENCH_ROOT" worktree prune 2>/dev/null || true
		git -C "$PTBENCH_ROOT" worktree add --detach "$dir" "$sha" >"$dir.add.log" 2>&1 </dev/null ||
			{ cat "$dir.add.log" >&2; die -s 2 "git worktree add of $sha failed"; }
	fi
	printf '%s\n' "$dir"
}

# bench EXE OUT REPS MIN_TIME: one run of the gate's benchmarks; exit
# status of the executable (0 also needs a non-empty OUT).
bench() {
	local exe=$1 out=$2 st=0
	"$exe" --benchmark_filter="$FILTER" --benchmark_repetitions="$3" \
		--benchmark_min_time="$4" --benchmark_enable_random_interleaving=true \
		--benchmark_report_aggregates_only=false --benchmark_format=console \
		--benchmark_out="$out" --benchmark_out_format=json \
		>"${out%.json}.log" 2>&1 </dev/null || st=$?
	((st == 0)) && [[ -s $out ]] && return 0
	tail -n 15 "${out%.json}.log" >&2
	printf 'gate-ci: FAIL: %s failed (%s)\n' "$exe" "$(signal_text "$st")"
	return 1
}

main() {
	local dir=$PTBENCH_ROOT/build/bench nobuild=0 write='' arg
	local baseline=$PTBENCH_ROOT/results/baseline/ratios.json
	local threshold=0.30 cv_max=0.15 reps=3 min_time=0.1 stored=0
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
		--stored) stored=1 ;;
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

	local t0 exe tmp commit refexe='' refdir cpus
	cpus=$(getconf _NPROCESSORS_ONLN 2>/dev/null) || cpus=1
	[[ $cpus =~ ^[0-9]+$ ]] || cpus=1
	if ((cpus >= 2)); then
		FILTER_SWITCH+='|systrap_spin'
		FILTER_MECH+='|systrap_spin'
	else
		info "$cpus CPU online: the switch/systrap_spin ratio is skipped (the spin hand-off needs 2)"
	fi
	FILTER="^(switch/($FILTER_SWITCH)|mechanism/($FILTER_MECH)|map/(inject|native)/pages:1)/"
	t0=$(now_ms)
	((nobuild)) || build "$dir"
	exe=$dir/$BENCH_REL
	[[ -x $exe ]] || die "no benchmark executable $exe"
	if ((!stored)); then
		commit=$("$PTBENCH_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1])).get("commit") or "")' "$baseline")
		if [[ -z $commit || $commit == unknown ]]; then
			warn "the baseline names no commit: comparing with its stored ratios"
			stored=1
		elif refdir=$(reference_tree "$commit"); then
			info "reference: $commit (the baseline's commit), built in ${refdir#"$PTBENCH_ROOT"/}/build"
			build "$refdir/build" "$refdir"
			refexe=$refdir/build/$BENCH_REL
			[[ -x $refexe ]] || die "no benchmark executable $refexe"
		else
			warn "comparing with the baseline's stored ratios, which need not hold on this machine"
			stored=1
		fi
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/gate-ci.XXXXXX")
	# shellcheck disable=SC2064 # expand $tmp now
	trap "rm -rf '$tmp'" EXIT

	local -a check=("$PTBENCH_PYTHON" "$GATE_PY" ci-check --baseline "$baseline"
		--threshold "$threshold" --cv-max "$cv_max" --cpus-online "$cpus")
	local run st=0 tb=0 t line verdict='' part
	local -a runs=() refs=()
	for run in 1 2; do
		t=$(now_ms)
		if ((stored)); then
			bench "$exe" "$tmp/run$run.json" "$reps" "$min_time" || return 1
		else
			# reference, work tree, work tree, reference
			for part in a b; do
				if [[ $part == a ]]; then
					bench "$refexe" "$tmp/ref$run$part.json" "$reps" "$min_time" || return 1
					bench "$exe" "$tmp/run$run$part.json" "$reps" "$min_time" || return 1
				else
					bench "$exe" "$tmp/run$run$part.json" "$reps" "$min_time" || return 1
					bench "$refexe" "$tmp/ref$run$part.json" "$reps" "$min_time" || return 1
				fi
			done
			"$PTBENCH_PYTHON" "$GATE_PY" merge "$tmp/run$run.json" "$tmp/run${run}a.json" "$tmp/run${run}b.json" ||
				die "gate.py merge failed"
			"$PTBENCH_PYTHON" "$GATE_PY" merge "$tmp/ref$run.json" "$tmp/ref${run}a.json" "$tmp/ref${run}b.json" ||
				die "gate.py merge failed"
			refs+=(--reference "$tmp/ref$run.json")
		fi
		tb=$((tb + $(now_ms) - t))
		runs+=("$tmp/run$run.json")
		st=0
		"${check[@]}" "${refs[@]}" "${runs[@]}" >"$tmp/check" || st=$?
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
