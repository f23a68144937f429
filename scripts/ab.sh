#!/usr/bin/env bash
# ab.sh: A/B benchmark of two revisions on this machine, interleaved, then
# the statistical gate (bench/compare).
#
#   ab.sh REV_A REV_B [OPTIONS] [-- COMPARE_OPTIONS...]
#   ab.sh --baseline RESULTS_DIR/bench.json [REV] [OPTIONS] [-- COMPARE_OPTIONS...]
#   ab.sh --icount REV_A REV_B [OPTIONS] [-- ICOUNT_OPTIONS...]
#   ab.sh --icount --a-exe EXE --b-exe EXE [OPTIONS] [-- ICOUNT_OPTIONS...]
#
# Two revisions: each is checked out with "git worktree add --detach" into
# .cache/ab/<sha>/ and built there (meson, release, no sanitizers,
# -Dbench=true, in .cache/ab/<sha>/build). Then ptbench-bench of A and of B
# run alternately for N rounds (A B, B A, A B, ...: the order flips every
# round so that a drift of the machine hits both sides alike), each run
# with --benchmark_repetitions=R and the filter. The rounds of each side are
# merged into one Google Benchmark JSON (repetitions concatenated,
# repetition_index renumbered, aggregates recomputed: scripts/gate.py
# merge), so the U test sees all N*R samples of a side, and ptbench-compare
# judges A (base) against B (new).
#
# Stored baseline (--baseline FILE): no A side; REV (default: the work tree,
# uncommitted changes included) is run N rounds and compared with the
# committed run FILE, cut down to the benchmarks of the filter. Figures
# from another machine or kernel mean little: the script warns when the
# host, kernel or cpu of FILE differ from this machine's.
#
# Options:
#   --rounds N       rounds (default 5)
#   --reps N         --benchmark_repetitions per run (default 2)
#   --min-time S     --benchmark_min_time per repetition (default 0.2)
#   --filter REGEX   --benchmark_filter (default: the key set below)
#   --out DIR        where the runs and reports go
#                    (default .cache/ab/runs/<UTC date>)
#   --clean          remove the worktrees under .cache/ab and exit
#   --icount         instruction-path mode, below
#   -- OPTIONS       passed to ptbench-compare (--min-effect, --alpha,
#                    --cv-max, --key, --keys); by default every benchmark
#                    of the filter is key
#
# The default key set: switch/ (faithful, lean), mechanism/sysemu* (the
# three register transfers the core builds on) and map/inject/pages:1.
#
# Instruction-path mode (--icount): the figures of "ptbench kernels", not
# time. Both revisions are built as above (x86_64 only: the host's arch),
# each one's ptbench-bench goes into an initramfs (scripts/vm), and the
# rounds boot them alternately (A B, B A, ...) on one kernel in qemu TCG
# with -icount shift=0,sleep=off: every figure is a guest instruction count,
# unmoved by the load of the host. Options of this mode:
#   --kernel PKG|PATH  the guest kernel (default linux-image-cloud-amd64,
#                      through its meta package; scripts/vm/fetch.sh)
#   --rounds N         boots of each side (default 2; at least 2: the
#                      spread needs two runs)
#   --a-exe/--b-exe EXE  prebuilt ptbench-bench executables instead of
#                      REV_A REV_B (how the mode's controls are run)
#   --filter, --out    as above (--reps and --min-time do not apply: one
#                      repetition of 0.01 s of guest time per boot)
#   -- OPTIONS         to scripts/kernels_report.py icount-compare:
#                      --min-effect PCT (default 1), --k K (default 3)
# Per benchmark: the median of each side, the spread = the larger of the
# two sides' (max - min) / median, the threshold = max(min-effect, k x
# spread); REGRESSION when B is above A by more, INCONCLUSIVE when a side
# errored, or the threshold is above 30%. Writes OUT/rounds/ (each boot's
# console log and JSON), OUT/compare.md and compare.json. Same exit codes.
#
# Writes OUT/A.json and OUT/B.json (merged), OUT/rounds/ (each run's JSON
# and console log), OUT/compare.txt, compare.md, compare.json. Prints the
# comparison and OUT.
#
# The compare tool is the work tree's: $PTBENCH_COMPARE if set, else built
# in .cache/ab/tool. Exit status: ptbench-compare's (0 pass, 1 regression,
# 3 inconclusive, 2 bad input); 2 also for usage, checkout, build and run
# failures.
set -euo pipefail

PTBENCH_PROG=ptbench-ab
# shellcheck source=scripts/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

AB_CACHE=$PTBENCH_ROOT/.cache/ab
GATE_PY=$PTBENCH_ROOT/scripts/gate.py
BENCH_REL=bench/ptbench-bench
release_opts
DEFAULT_FILTER='^(switch/|mechanism/sysemu|map/inject/pages:1/)'




# resolve REV: the full commit sha of REV.
resolve() {
	git -C "$PTBENCH_ROOT" rev-parse --verify --quiet "$1^{commit}" ||
		fail "not a commit: '$1'"
}

# checkout SHA: print the worktree of SHA, adding it if needed.
checkout() {
	local sha=$1 dir=$AB_CACHE/${1:0:12} head
	if [[ -d $dir ]]; then
		head=$(git -C "$dir" rev-parse HEAD 2>/dev/null) ||
			fail "$dir exists but is not a git worktree (remove it, or run: ab.sh --clean)"
		[[ $head == "$sha" ]] ||
			fail "$dir is at $head, not $sha (remove it, or run: ab.sh --clean)"
	else
		mkdir -p "$AB_CACHE"
		info "git worktree add ${dir#"$PTBENCH_ROOT"/} (${sha:0:12})"
		git -C "$PTBENCH_ROOT" worktree add --detach "$dir" "$sha" >&2 </dev/null ||
			fail "git worktree add failed for $sha"
	fi
	printf '%s\n' "$dir"
}

# quiet LOG CMD...: run CMD with its output in LOG; on failure show the
# end of LOG and return its status.
quiet() {
	local log=$1 st=0
	shift
	mkdir -p "$(dirname "$log")"
	"$@" >"$log" 2>&1 </dev/null || st=$?
	if ((st)); then
		tail -n 25 "$log" >&2
		warn "failed: $* (log: $log)"
	fi
	return "$st"
}

# build SRC BUILD: configure (release) and compile; exit 2 on failure.
build() {
	local src=$1 dir=$2
	if [[ ! -f $dir/meson-private/coredata.dat ]]; then
		info "configuring ${dir#"$PTBENCH_ROOT"/}: ${RELEASE_OPTS[*]}"
		quiet "$dir.setup.log" meson setup "$dir" "$src" "${RELEASE_OPTS[@]}" ||
			fail "meson setup failed for $src"
	fi
	info "building ${dir#"$PTBENCH_ROOT"/}"
	quiet "$dir.build.log" meson compile -C "$dir" || fail "build failed in $dir"
	[[ -x $dir/$BENCH_REL ]] || fail "no $BENCH_REL in $dir (does this revision have the benchmarks?)"
}

# build_revisions SHA...: check out and build each revision, appending its
# benchmark executable to the caller's exes array and its short sha to
# commits (bash's dynamic scope: the caller declares both).
build_revisions() {
	local sha dir
	for sha in "$@"; do
		dir=$(checkout "$sha")
		build "$dir" "$dir/build"
		exes+=("$dir/build/$BENCH_REL")
		commits+=("${sha:0:12}")
	done
}

# compare_tool: print the path of ptbench-compare (the work tree's).
compare_tool() {
	if [[ -n ${PTBENCH_COMPARE:-} ]]; then
		[[ -x $PTBENCH_COMPARE ]] || fail "PTBENCH_COMPARE=$PTBENCH_COMPARE is not executable"
		printf '%s\n' "$PTBENCH_COMPARE"
		return 0
	fi
	local dir=$AB_CACHE/tool
	if [[ ! -f $dir/meson-private/coredata.dat ]]; then
		quiet "$dir.setup.log" meson setup "$dir" "$PTBENCH_ROOT" -Dbuildtype=release \
			-Db_sanitize=none -Dbench=false || fail "meson setup failed for the compare tool"
	fi
	quiet "$dir.build.log" meson compile -C "$dir" bench/compare/ptbench-compare ||
		fail "cannot build ptbench-compare"
	printf '%s\n' "$dir/bench/compare/ptbench-compare"
}

# clean: remove every worktree under .cache/ab.
clean() {
	local d n=0
	for d in "$AB_CACHE"/*/; do
		d=${d%/}
		[[ -e $d/.git ]] || continue
		git -C "$PTBENCH_ROOT" worktree remove --force "$d" </dev/null ||
			fail "cannot remove the worktree $d"
		n=$((n + 1))
	done
	git -C "$PTBENCH_ROOT" worktree prune </dev/null
	info "removed $n worktree(s) under ${AB_CACHE#"$PTBENCH_ROOT"/}"
}

# Set by main, read by run_one.
FILTER=$DEFAULT_FILTER
REPS=2
MIN_TIME=0.2
HOST=

# run_one EXE COMMIT OUT.json LOG: one run of the benchmarks; prints its
# wall time in ms.
run_one() {
	local exe=$1 commit=$2 out=$3 log=$4 t0 st=0
	t0=$(now_ms)
	"$exe" --benchmark_filter="$FILTER" --benchmark_repetitions="$REPS" \
		--benchmark_min_time="$MIN_TIME" --benchmark_report_aggregates_only=false \
		--benchmark_format=console --benchmark_out="$out" --benchmark_out_format=json \
		--benchmark_context="commit=$commit" --benchmark_context="host=$HOST" \
		>"$log" 2>&1 </dev/null || st=$?
	((st == 0)) || fail "$exe failed ($(signal_text "$st")); see $log"
	[[ -s $out ]] || fail "$exe ran no benchmark (filter '$FILTER' matches none?); see $log"
	echo $(($(now_ms) - t0))
}

# context_warnings BASE.json NEW.json: warn when they come from different
# machines or kernels, or another pinning, mode or backend (ptfmt.py's
# CONTEXT_KEYS, as ptbench compare does).
context_warnings() {
	"$PTBENCH_PYTHON" "$PTBENCH_ROOT/scripts/ptfmt.py" context-diff "$1" "$2" \
		--prog ptbench-ab --base-label baseline --new-label "this run" || true
}

# icount_side EXE OUT.cpio.gz: an initramfs that runs EXE (ptbench-bench)
# with the filter, and nothing else.
icount_side() {
	bash "$PTBENCH_ROOT/scripts/vm/initramfs.sh" --cmd-timeout 60 --bench "$1" \
		--bench-flags "--benchmark_min_time=0.01 --benchmark_repetitions=1 --benchmark_format=json --benchmark_filter='$FILTER'" \
		x86_64 "$2" "$1" -- true >/dev/null 2>"$2.log" ||
		fail "cannot build the initramfs $2 (see $2.log)"
}

# icount_main ARGS: the instruction-path mode (see the header).
icount_main() {
	local -a pos=() cmp_opts=() exes=() labels=(A B) commits=()
	local rounds=2 out='' kernel=linux-image-cloud-amd64 exe_a='' exe_b='' arg
	if [[ $(uname -m) != x86_64 ]]; then
		fail "--icount boots the host's arch (x86_64) only; this host is $(uname -m)"
	fi
	while (($#)); do
		arg=$1
		case $arg in
		--rounds | --filter | --out | --kernel | --a-exe | --b-exe)
			(($# >= 2)) || fail "$arg needs a value (try: ab.sh --help)"
			case $arg in
			--rounds) rounds=$2 ;;
			--filter) FILTER=$2 ;;
			--out) out=$2 ;;
			--kernel) kernel=$2 ;;
			--a-exe) exe_a=$2 ;;
			--b-exe) exe_b=$2 ;;
			esac
			shift
			;;
		--reps | --min-time | --baseline) fail "$arg does not apply to --icount (try: ab.sh --help)" ;;
		--) shift; cmp_opts=("$@"); break ;;
		-*) fail "unknown option '$arg' (try: ab.sh --help)" ;;
		*) pos+=("$arg") ;;
		esac
		shift
	done
	if ! [[ $rounds =~ ^[0-9]+$ ]] || ((rounds < 2)); then
		fail "--rounds wants at least 2 with --icount (the spread needs two runs a side), not '$rounds'"
	fi
	[[ -n $FILTER && $FILTER != *"'"* ]] || fail "--filter wants a regular expression without single quotes"
	# Everything that can be wrong fails here, before minutes of building
	# and a kernel download.
	[[ -z $out ]] || check_dir_creatable "$out"
	local -a shas=()
	"$PTBENCH_PYTHON" "$PTBENCH_ROOT/scripts/kernels_report.py" icount-compare --check-options \
		--a - --b - "${cmp_opts[@]}" || exit 2
	if [[ -n $exe_a || -n $exe_b ]]; then
		local e
		for e in "$exe_a" "$exe_b"; do
			[[ -x $e ]] || fail "--a-exe and --b-exe want two executables: '$e' is not one"
		done
		((${#pos[@]} == 0)) || fail "give --a-exe/--b-exe or REV_A REV_B, not both"
		exes=("$(readlink -f "$exe_a")" "$(readlink -f "$exe_b")")
		commits=("${exe_a}" "${exe_b}")
	else
		((${#pos[@]} == 2)) || fail "--icount wants REV_A REV_B (or --a-exe EXE --b-exe EXE)"
		shas=("$(resolve "${pos[0]}")" "$(resolve "${pos[1]}")")
	fi
	check_kernel x86_64 "$kernel"
	((${#exes[@]})) || build_revisions "${shas[@]}"
	local vmlinuz
	vmlinuz=$(bash "$PTBENCH_ROOT/scripts/vm/fetch.sh" x86_64 --kernel "$kernel" --print-kernel) ||
		fail "cannot fetch the kernel $kernel"
	[[ -n $out ]] || out=$AB_CACHE/runs/icount-$(date -u +%Y%m%d-%H%M%S)
	make_dir "$out/rounds"
	out=$(cd "$out" && pwd)
	local i r k t0
	for i in 0 1; do
		icount_side "${exes[i]}" "$out/${labels[i]}.cpio.gz"
	done
	info "icount A/B: A ${commits[0]}, B ${commits[1]}; kernel ${vmlinuz##*/}; $rounds boots a side; filter '$FILTER'"
	local -a files_a=() files_b=() order
	for ((r = 1; r <= rounds; r++)); do
		order=(0 1)
		((r % 2 == 0)) && order=(1 0)
		for i in "${order[@]}"; do
			k=${labels[i]}
			t0=$(now_ms)
			bash "$PTBENCH_ROOT/scripts/vm/run.sh" --arch x86_64 --accel icount --timeout 900 \
				--kernel "$vmlinuz" --log "$out/rounds/$k.$r.log" "$out/$k.cpio.gz" \
				>"$out/rounds/$k.$r.console" 2>&1 ||
				fail "the boot of $k round $r failed: $(tail -n 1 "$out/rounds/$k.$r.console")"
			[[ -s $out/rounds/$k.$r.log.bench.json ]] ||
				fail "the boot of $k round $r left no benchmark JSON (see $out/rounds/$k.$r.console)"
			info "round $r/$rounds: $k booted and measured in $((($(now_ms) - t0) / 1000)) s"
			if [[ $k == A ]]; then files_a+=("$out/rounds/$k.$r.log.bench.json"); else files_b+=("$out/rounds/$k.$r.log.bench.json"); fi
		done
	done
	local st=0
	"$PTBENCH_PYTHON" "$PTBENCH_ROOT/scripts/kernels_report.py" icount-compare \
		--a "${files_a[@]}" --b "${files_b[@]}" --out-md "$out/compare.md" \
		--out-json "$out/compare.json" "${cmp_opts[@]}" || st=$?
	printf '%s\n' "$out"
	return "$st"
}

main() {
	local -a pos=() cmp_opts=()
	local baseline='' rounds=5 out='' arg
	while (($#)); do
		arg=$1
		case $arg in
		--rounds | --reps | --min-time | --filter | --out | --baseline)
			(($# >= 2)) || fail "$arg needs a value (try: ab.sh --help)"
			case $arg in
			--rounds) rounds=$2 ;;
			--reps) REPS=$2 ;;
			--min-time) MIN_TIME=$2 ;;
			--filter) FILTER=$2 ;;
			--out) out=$2 ;;
			--baseline) baseline=$2 ;;
			esac
			shift
			;;
		--clean) clean; return 0 ;;
		--icount) shift; icount_main "$@"; return ;;
		-h | --help) usage; return 0 ;;
		--) shift; cmp_opts=("$@"); break ;;
		-*) fail "unknown option '$arg' (try: ab.sh --help)" ;;
		*) pos+=("$arg") ;;
		esac
		shift
	done
	[[ $rounds =~ ^[1-9][0-9]*$ ]] || fail "--rounds wants a positive integer, not '$rounds'"
	[[ $REPS =~ ^[1-9][0-9]*$ ]] || fail "--reps wants a positive integer, not '$REPS'"
	[[ $MIN_TIME =~ ^[0-9]*\.?[0-9]+$ ]] || fail "--min-time wants seconds, not '$MIN_TIME'"
	[[ -n $FILTER ]] || fail "--filter wants a regular expression"
	if [[ -n $baseline ]]; then
		((${#pos[@]} <= 1)) || fail "with --baseline, give at most one revision"
		[[ -s $baseline ]] || fail "no baseline file: $baseline"
		check_json "$baseline"
	else
		((${#pos[@]} == 2)) || fail "give two revisions, REV_A REV_B, or --baseline FILE [REV] (try: ab.sh --help)"
	fi
	((rounds * REPS >= 2)) || fail "rounds x reps must be at least 2 for the U test"
	[[ -z $out ]] || check_dir_creatable "$out"
	((rounds * REPS >= 9)) ||
		warn "$((rounds * REPS)) samples a side: compare.py calls fewer than 9 unreliable"

	HOST=$(uname -n)
	HOST=${HOST//[^A-Za-z0-9._-]/_}
	local rev tool
	local -a shas=()
	for rev in "${pos[@]}"; do
		shas+=("$(resolve "$rev")")
	done
	tool=$(compare_tool)

	# The sides: label, executable, commit.
	local -a labels=() exes=() commits=()
	if [[ -n $baseline ]]; then
		labels=(B)
		if ((${#shas[@]})); then
			build_revisions "${shas[0]}"
		else
			build "$PTBENCH_ROOT" "$AB_CACHE/worktree-build"
			exes=("$AB_CACHE/worktree-build/$BENCH_REL") commits=("$(git_commit)")
		fi
	else
		build_revisions "${shas[@]}"
		labels=(A B)
	fi

	[[ -n $out ]] || out=$AB_CACHE/runs/$(date -u +%Y%m%d-%H%M%S)
	make_dir "$out/rounds"
	out=$(cd "$out" && pwd)

	local load
	read -r load _ </proc/loadavg
	info "load average $load; $rounds rounds of ${labels[*]}; each run: $REPS repetitions of '$FILTER', min time $MIN_TIME s"
	local r i k order ms line total=0
	local -a files_a=() files_b=()
	for ((r = 1; r <= rounds; r++)); do
		if ((${#labels[@]} == 2 && r % 2 == 0)); then
			order=(1 0)
		else
			order=(0 1)
			((${#labels[@]} == 2)) || order=(0)
		fi
		line="round $r/$rounds:"
		for i in "${order[@]}"; do
			k=${labels[i]}
			ms=$(run_one "${exes[i]}" "${commits[i]}" "$out/rounds/$k.$r.json" "$out/rounds/$k.$r.log")
			total=$((total + ms))
			line+=" $k ($((ms / 1000)).$((ms % 1000 / 100)) s)"
			if [[ $k == A ]]; then files_a+=("$out/rounds/$k.$r.json"); else files_b+=("$out/rounds/$k.$r.json"); fi
		done
		info "$line"
	done
	info "benchmarking took $((total / 1000)) s"

	"$PTBENCH_PYTHON" "$GATE_PY" merge "$out/B.json" "${files_b[@]}" \
		--context "ab_side=B" --context "ab_commit=${commits[${#commits[@]} - 1]}" ||
		fail "cannot merge the B runs"
	local base_json
	if [[ -n $baseline ]]; then
		base_json=$out/A.json
		"$PTBENCH_PYTHON" "$GATE_PY" merge "$base_json" "$baseline" --only-in "$out/B.json" \
			--context "ab_side=A (stored baseline $baseline)" ||
			fail "cannot read the baseline $baseline"
		context_warnings "$base_json" "$out/B.json"
		info "A: $baseline; B: ${commits[0]}"
	else
		base_json=$out/A.json
		"$PTBENCH_PYTHON" "$GATE_PY" merge "$base_json" "${files_a[@]}" \
			--context "ab_side=A" --context "ab_commit=${commits[0]}" ||
			fail "cannot merge the A runs"
		info "A: ${pos[0]} (${commits[0]}); B: ${pos[1]} (${commits[1]})"
	fi

	local st=0
	"$tool" "$base_json" "$out/B.json" "${cmp_opts[@]}" --format markdown --out "$out/compare.md" || true
	"$tool" "$base_json" "$out/B.json" "${cmp_opts[@]}" --format json --out "$out/compare.json" || true
	"$tool" "$base_json" "$out/B.json" "${cmp_opts[@]}" --format text --out "$out/compare.txt" || st=$?
	[[ -f $out/compare.txt ]] && cat "$out/compare.txt"
	printf '%s\n' "$out"
	return "$st"
}

main "$@"
