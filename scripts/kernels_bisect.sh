#!/usr/bin/env bash
# kernels_bisect.sh: the point-release bisection of scripts/kernels.sh
# --bisect (kernels.sh hands every argument over when one is --bisect).
#
#   kernels.sh --bisect FIGURE FIRST LAST [OPTIONS]
#
# Boots the builds of one kernel series from FIRST to LAST (packages of
# the kernel archive, with or without "linux-image-": 6.1.0-47-amd64
# 6.1.0-57-amd64; the series is every package named as both are, with the
# number where they differ, resolved at run time) in qemu with the
# probe and the benchmarks of FIGURE only, and names the first build whose
# FIGURE moved by more than max(1%, 3 x the measured spread), with both
# package versions and the Debian changelog entries between them
# (scripts/kernels_bisect.py; the report says how it decides).
# FIGURE is a benchmark (switch/faithful) or a comma list of them: one
# boot measures them all, and each is bisected on its own.
#
# Options:
#   --arch A        x86_64 (default) or aarch64
#   --runs N        boots per build (default 2): the spread comes from them
#   --jobs N        qemu at once (default 2)
#   --timeout S     seconds per boot (default 900)
#   --sweep         boot every build, not only the ones a bisection needs
#   --control ARGS  the positive control: every position from FIRST to LAST
#                   boots FIRST's kernel, from the middle position on with
#                   the kernel arguments ARGS added (e.g. mitigations=off);
#                   the step found must be the middle one (exit 1 if not)
#   --qemu-opt OPT  extra qemu arguments of every boot (run.sh --qemu-opt)
#   --out DIR       the report folder (default results/kernels/bisect/<UTC date>)
#
# A build of the series whose number is missing from the archive (and from
# .cache/debs) is reported GONE. Writes into DIR: bisect.info, builds.tsv,
# raw/LABEL/runN.log (with run.sh's files), initrd.cpio.gz is left out
# (the build that made it is named in bisect.info), and through
# kernels_bisect.py render: report.md, bisect.tsv, changelog.txt,
# kernels_bisect.json, plots/. Prints DIR last.
# Exit status: 0 done; 1 the control missed its step; 2 usage or bad
# input; 3 inconclusive.
set -euo pipefail

PTBENCH_PROG=ptbench-kernels-bisect
# shellcheck source=scripts/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

VM_DIR=$PTBENCH_ROOT/scripts/vm
BISECT_PY=$PTBENCH_ROOT/scripts/kernels_bisect.py

# series FIRST LAST: "PREFIX<tab>SUFFIX<tab>N1<tab>N2": the common prefix
# and suffix of two package names around the number in which they differ
# (exit 2 if they differ in anything else or N1 > N2).
series() {
	local a=$1 b=$2 p=0 s=0
	while ((p < ${#a} && p < ${#b})) && [[ ${a:p:1} == "${b:p:1}" ]]; do
		p=$((p + 1))
	done
	while [[ $p -gt 0 && ${a:p-1:1} == [0-9] ]]; do
		p=$((p - 1))
	done
	while ((s < ${#a} - p && s < ${#b} - p)) && [[ ${a: -s-1:1} == "${b: -s-1:1}" ]]; do
		s=$((s + 1))
	done
	while [[ $s -gt 0 && ${a: -s:1} == [0-9] ]]; do
		s=$((s - 1))
	done
	local n1=${a:p:${#a}-p-s} n2=${b:p:${#b}-p-s}
	[[ $n1 =~ ^[0-9]+$ && $n2 =~ ^[0-9]+$ ]] ||
		die -s 2 "$a and $b are not two builds of one series (they differ in '$n1' and '$n2', not in one number)"
	((10#$n1 <= 10#$n2)) || die -s 2 "FIRST ($a) comes after LAST ($b)"
	printf '%s\t%s\t%s\t%s\n' "${a:0:p}" "${a:${#a}-s}" "$((10#$n1))" "$((10#$n2))"
}

# ere TEXT: TEXT with the extended-regex characters escaped ("/" is not
# one: an escaped "\/" is an error to Google Benchmark's filter regex).
ere() {
	sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"
}

# set_field DIR INDEX COLUMN VALUE: one cell of DIR/builds.tsv.
set_field() {
	local tsv=$1/builds.tsv
	awk -F'\t' -v OFS='\t' -v i="$2" -v col="$3" -v val="$4" '
		NR == 1 { for (c = 1; c <= NF; c++) if ($c == col) k = c; print; next }
		$1 == i { $k = val } { print }' "$tsv" >"$tsv.tmp"
	mv "$tsv.tmp" "$tsv"
}

# field DIR INDEX COLUMN: one cell of DIR/builds.tsv.
field() {
	awk -F'\t' -v i="$2" -v col="$3" '
		NR == 1 { for (c = 1; c <= NF; c++) if ($c == col) k = c; next }
		$1 == i { print $k }' "$1/builds.tsv"
}

main() {
	local arch=x86_64 runs=2 jobs=2 timeout=900 mode=bisect control='' out='' figs='' first='' last=''
	local -a qemu_opts=()
	while (($#)); do
		case $1 in
		--bisect)
			(($# >= 4)) || die -s 2 "--bisect needs FIGURE FIRST LAST (try: kernels.sh --help)"
			figs=$2 first=$3 last=$4
			shift 3
			;;
		--arch | --runs | --jobs | --timeout | --control | --out | --qemu-opt)
			(($# >= 2)) || die -s 2 "$1 needs a value"
			case $1 in
			--arch) arch=$2 ;;
			--runs) runs=$2 ;;
			--jobs) jobs=$2 ;;
			--timeout) timeout=$2 ;;
			--control) control=$2 ;;
			--out) out=$2 ;;
			--qemu-opt) qemu_opts+=(--qemu-opt "$2") ;;
			esac
			shift
			;;
		--sweep) mode=sweep ;;
		--accel) [[ ${2:-} == icount ]] || die -s 2 "--bisect runs under --accel icount only (instruction counts)"; shift ;;
		-h | --help) usage; return 0 ;;
		*) die -s 2 "--bisect: unknown argument '$1' (try: scripts/kernels_bisect.sh --help)" ;;
		esac
		shift
	done
	[[ -n $figs ]] || die -s 2 "--bisect needs FIGURE FIRST LAST"
	case $arch in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=aarch64 ;;
	*) die -s 2 "unknown arch '$arch' (x86_64, aarch64)" ;;
	esac
	[[ $runs =~ ^[1-9][0-9]*$ && $jobs =~ ^[1-9][0-9]*$ && $timeout =~ ^[1-9][0-9]*$ ]] ||
		die -s 2 "--runs, --jobs and --timeout want positive integers"
	[[ $figs =~ ^[A-Za-z0-9_:/.,-]+$ ]] || die -s 2 "FIGURE wants benchmark names (a comma list), not '$figs'"
	[[ $control != *[$'\'\n\t']* ]] || die -s 2 "--control wants one line of kernel arguments without quotes or tabs"
	[[ $first == linux-image-* ]] || first=linux-image-$first
	[[ $last == linux-image-* ]] || last=linux-image-$last
	local pre suf n1 n2 sr
	sr=$(series "$first" "$last") || exit 2
	IFS=$'\t' read -r pre suf n1 n2 <<<"$sr"
	kapt_setup
	local listed
	listed=$(kapt_list "$arch" "$(ere "$pre")[0-9]+$(ere "$suf")")

	local stamp commit
	stamp=$(date -u +%Y%m%d-%H%M%S)
	commit=$(git_commit)
	[[ -n $out ]] || out=$PTBENCH_ROOT/results/kernels/bisect/$stamp
	check_dir_creatable "$out"
	make_dir "$out/raw"
	out=$(cd "$out" && pwd)

	# The builds, oldest first.
	local n pkg ver suite idx=0 planted='' npos
	{
		printf 'index\tpackage\tversion\tupstream\tsuite\tstatus\tlabel\tappend\tdeb\truns\n'
		if [[ -n $control ]]; then
			read -r pkg ver suite < <(awk -F'\t' -v p="$first" '$1 == p { print $1, $2, $3 }' <<<"$listed")
			[[ -n ${pkg:-} ]] || die -s 2 "the control's kernel $first is not in the kernel archive"
			npos=$((n2 - n1 + 1))
			((npos >= 3)) || die -s 2 "--control needs at least 3 positions from FIRST to LAST"
			planted=$((npos / 2))
			for ((idx = 0; idx < npos; idx++)); do
				local app=''
				((idx >= planted)) && app=$control
				printf '%s\t%s\t%s\t%s\t%s\tok\tpos%02d\t%s\t\t0\n' "$idx" "$pkg" "$ver" \
					"$(upstream_of "$ver")" "$suite" "$idx" "$app"
			done
		else
			for ((n = n1; n <= n2; n++)); do
				pkg=$pre$n$suf
				read -r ver suite < <(awk -F'\t' -v p="$pkg" '$1 == p { print $2, $3 }' <<<"$listed") || true
				if [[ -z ${ver:-} ]]; then
					printf '%s\t%s\t\t\t\tgone\t%s\t\t\t0\n' "$idx" "$pkg" "${pkg#linux-image-}"
				else
					printf '%s\t%s\t%s\t%s\t%s\tok\t%s\t\t\t0\n' "$idx" "$pkg" "$ver" \
						"$(upstream_of "$ver")" "$suite" "${pkg#linux-image-}"
				fi
				ver='' idx=$((idx + 1))
			done
		fi
	} >"$out/builds.tsv"
	local filter
	filter="^($(sed 's/,/|/g' <<<"$(ere "$figs" | sed 's/\\,/,/g')"))(/|\$)"
	{
		printf 'figures=%s\nmode=%s\nruns=%s\naccel=icount\narch=%s\nfirst=%s\nlast=%s\n' \
			"$figs" "$mode" "$runs" "$arch" "$first" "$last"
		printf 'control=%s\nplanted=%s\nbench_filter=%s\nstarted=%s\ncommit=%s\n' \
			"$control" "$planted" "$filter" "$stamp" "$commit"
		printf 'command=scripts/ptbench kernels --bisect %s %s %s --arch %s --runs %s%s%s\n' \
			"$figs" "${first#linux-image-}" "${last#linux-image-}" "$arch" "$runs" \
			"$([[ $mode == sweep ]] && printf ' --sweep')" "${control:+ --control '$control'}"
	} >"$out/bisect.info"
	info "series $pre<N>$suf, N $n1..$n2: $(awk -F'\t' 'NR > 1 && $6 == "ok"' "$out/builds.tsv" | wc -l) build(s) in the archive, $(awk -F'\t' 'NR > 1 && $6 == "gone"' "$out/builds.tsv" | wc -l) GONE"

	local t_start initrd='' boots=0
	t_start=$(now_ms)
	while :; do
		idx=$("$PTBENCH_PYTHON" "$BISECT_PY" next "$out") || die "kernels_bisect.py next $out failed"
		[[ -n $idx ]] || break
		boot_build "$out" "$idx"
	done
	printf 'boots=%s\ntotal_ms=%s\nhost=%s\nqemu=%s\n' "$boots" "$(($(now_ms) - t_start))" "$(uname -n)" \
		"$(qemu-system-"$arch" --version 2>/dev/null | head -n 1)" >>"$out/bisect.info"
	rm -f "$out/initrd.cpio.gz"
	local rc=0
	"$PTBENCH_PYTHON" "$BISECT_PY" render "$out" >&2 || rc=$?
	printf '%s\n' "$out"
	return "$rc"
}

# upstream_of VERSION: 6.1.192-3 -> 6.1.192.
upstream_of() {
	local v=${1#*:}
	v=${v%-*}
	printf '%s' "${v%%[~+]*}"
}

# boot_build DIR INDEX: fetch build INDEX and boot it RUNS times, JOBS at
# once; the first boot of all goes through suite.sh --bench-only (it builds
# the project and the initramfs), the others through run.sh with that
# initramfs. Updates builds.tsv (status, deb, runs). Uses main's locals.
boot_build() {
	local d=$1 i=$2 pkg ver lab app image err rc=0 r
	pkg=$(field "$d" "$i" package) ver=$(field "$d" "$i" version)
	lab=$(field "$d" "$i" label) app=$(field "$d" "$i" append)
	err=$(mktemp)
	image=$(bash "$VM_DIR/fetch.sh" "$arch" --kernel "$pkg" --version "$ver" --print-kernel 2>"$err") || rc=$?
	if ((rc)); then
		grep -v '^W: ' "$err" >&2 || true
		rm -f "$err"
		set_field "$d" "$i" status "$([[ $rc == 3 ]] && echo gone || echo fetch-failed)"
		warn "$pkg $ver: $([[ $rc == 3 ]] && echo GONE || echo "fetch failed")"
		return 0
	fi
	rm -f "$err"
	set_field "$d" "$i" deb "$(sed -n 's/^deb=//p' "$PTBENCH_ROOT/.cache/kernel-$arch-$pkg=$ver.txt")"
	mkdir -p "$d/raw/$lab"
	local -a common=(--arch "$arch" --kernel "$image" --accel icount --timeout "$timeout" "${qemu_opts[@]}")
	[[ -n $app ]] && common+=(--append "$app")
	r=1
	if [[ -z $initrd ]]; then
		info "build $i ($pkg $ver${app:+, append $app}) run 1 through suite.sh --bench-only (builds the initramfs)"
		nice bash "$VM_DIR/suite.sh" "${common[@]}" --bench-only \
			--bench-flags "--benchmark_filter='$filter'" --log "$d/raw/$lab/run1.log" \
			>"$d/raw/$lab/run1.console" 2>&1 </dev/null || warn "$lab run 1: status $? (see $d/raw/$lab/run1.console)"
		initrd=$d/initrd.cpio.gz
		cp "$(suite_build_dir)/vm-initrd.cpio.gz" "$initrd"
		printf 'initrd_sha256=%s\n' "$(sha256sum "$initrd" | cut -d' ' -f1)" >>"$d/bisect.info"
		boots=$((boots + 1)) r=2
	fi
	local -a pids=()
	for (( ; r <= runs; r++)); do
		info "build $i ($pkg $ver${app:+, append $app}) run $r of $runs"
		nice bash "$VM_DIR/run.sh" "${common[@]}" --log "$d/raw/$lab/run$r.log" "$initrd" \
			>"$d/raw/$lab/run$r.console" 2>&1 </dev/null &
		pids+=($!)
		boots=$((boots + 1))
		if ((${#pids[@]} >= jobs)); then
			wait "${pids[0]}" || warn "$lab: a boot ended with status $? (its console is in $d/raw/$lab)"
			pids=("${pids[@]:1}")
		fi
	done
	for r in "${pids[@]}"; do
		wait "$r" || warn "$lab: a boot ended with status $? (its console is in $d/raw/$lab)"
	done
	set_field "$d" "$i" runs "$runs"
}

# suite_build_dir: where suite.sh builds for ARCH (its default_build_dir).
suite_build_dir() {
	if [[ $arch == "$(uname -m)" ]]; then
		printf '%s/build/vm-%s' "$PTBENCH_ROOT" "$arch"
	else
		printf '%s/build/cross-%s' "$PTBENCH_ROOT" "$([[ $arch == aarch64 ]] && echo arm64 || echo amd64)"
	fi
}

main "$@"
