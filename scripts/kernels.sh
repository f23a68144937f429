#!/usr/bin/env bash
# kernels.sh: the kernel-version matrix. Boots each KERNEL in qemu, runs the
# feature probe, the conformance suite (both modes) and the quick
# benchmarks inside, and compares the kernels.
#
#   kernels.sh [OPTIONS] KERNEL...
#   kernels.sh [OPTIONS] --manifest FILE
#   kernels.sh [OPTIONS]            (no KERNEL: the default matrix,
#                                    scripts/kernels-default.tsv: 5.10 to the
#                                    newest 7.x, resolved at run time)
#
# KERNEL is [ARCH:]SPEC; ARCH (x86_64 or aarch64) defaults to --arch. SPEC:
#   linux-image-...      a Debian kernel package of ARCH, exact or meta
#                        (meta packages are followed to the exact one),
#                        fetched with apt-get download (scripts/vm/fetch.sh)
#   6.12.117+deb12-rt-amd64, 6.1.0-56-cloud-arm64, ...
#                        the same, "linux-image-" added
#   PATH                 a kernel image (anything with a / or an existing
#                        file): booted as is, no package version recorded
#
# Options:
#   --arch A        x86_64 (default) or aarch64: the arch of KERNELs given
#                   without an ARCH: prefix
#   --accel X       icount (the default unless the CPU has vmx or svm and
#                   /dev/kvm is writable, then kvm): qemu TCG with -icount
#                   shift=0,sleep=off, one guest instruction per guest
#                   nanosecond, so every figure is an instruction path
#                   length ("instructions (emulated)"), repeatable;
#                   kvm: real time, on hardware virtualization only (a
#                   kernel that does not boot is reported, the others go
#                   on; a kernel of a foreign arch runs under tcg instead,
#                   and says so); tcg: function only, no figure means
#                   anything
#   --runs N        boots with figures per kernel (default 3 with icount,
#                   else 1): the run-to-run spread of every figure comes
#                   from them. They boot one image that runs the probe and
#                   the benchmarks only, and one more boot per kernel, the
#                   first, runs the probe and the conformance suite: boots
#                   of one image give the same figures, a bigger image
#                   moves them (see boot_kind below)
#   --all-full      every boot runs the benchmarks, then the conformance
#                   suite (N boots of one image; no suite boot of its own)
#   --jobs N        boots at a time (default: the host's CPUs under icount,
#                   whose figures do not depend on host load; 1 otherwise).
#                   Each boot is one qemu process; the initramfs of each
#                   arch and kind is built once, before the boots
#   --append ARGS   extra kernel command line of every boot (run.sh
#                   --append; repeatable, joined with spaces), after the
#                   defaults
#   --qemu-opt OPT  extra qemu arguments of every boot, split at blanks
#                   (run.sh --qemu-opt; repeatable, in order), after the
#                   defaults
#   --no-boot-defaults
#                   boot without the default options, which make the
#                   figures repeatable (PTBENCH_VM_BOOT_APPEND and
#                   PTBENCH_VM_BOOT_QEMU_OPTS in scripts/lib.sh: a fixed
#                   qemu -seed and -rtc, nokaslr, norandmaps,
#                   cryptomgr.notests; each measured
#                   in results/kernels/determinism/)
#   --timeout S     seconds per boot before qemu is killed (default 1500)
#   --bench-filter REGEX
#                   --benchmark_filter of the benchmarks in the guest
#                   (default: all of them)
#   --no-bench      probe and conformance only, in N boots
#   --bench-only    probe and benchmarks only, in N boots (suite.sh
#                   --bench-only: no suite boot; quick boots for A/B runs of
#                   a boot option)
#   --manifest FILE the kernels of FILE (manifest.tsv of a run: arch,
#                   package, version): exact versions; one that the archive
#                   no longer has (and the cache lacks) is reported GONE
#   --out DIR       the report folder (default results/kernels/<UTC date>)
#   --bisect FIGURE FIRST LAST
#                   the point-release bisection: which build of a kernel
#                   series from FIRST to LAST first moved FIGURE
#                   (scripts/kernels_bisect.sh --help: its own options)
#
# Writes into DIR: manifest.tsv (what was asked and what was booted:
# package, exact version, sha256 of the .deb, status, and the append and
# qemu_opts each kernel was booted with), run.info (the options, the same
# append= and qemu_opts=, and the command that runs it all again), raw/LABEL/runN.log
# with run.sh's .info, .runs.tsv and .bench.json beside it, and through
# scripts/kernels_report.py: features.tsv, conformance.tsv, bench.tsv,
# report.md, kernels.json and plots/; results/kernels/README.md is the
# newest report. Prints DIR last.
#
# Exit status: 0 every kernel booted and passed; 1 a kernel failed to
# boot, failed a conformance run or is gone (the others still ran and are
# reported); 2 usage or bad input (a KERNEL image that is not there, a
# package apt does not know, a bad manifest or --out: before any boot).
set -euo pipefail

PTBENCH_PROG=ptbench-kernels
# shellcheck source=scripts/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

VM_DIR=$PTBENCH_ROOT/scripts/vm
REPORT_PY=$PTBENCH_ROOT/scripts/kernels_report.py
KERNELS_ROOT=$PTBENCH_ROOT/results/kernels



# boot_progress LABEL RUN RUNS DONE BOOTS CONSOLE LAST_MS ELAPSED_S: one
# progress line of a boot: the kernel, its boot k/N, how many of all the
# boots are done, the guest's step (its last "PTBENCH-VM: BEGIN i/N name"
# line so far, or the benchmarks before it) and an ETA from the length of
# the last boot of that arch and kind.
boot_progress() {
	local lab=$1 run=$2 runs=$3 ndone=$4 boots=$5 console=$6 last_ms=$7 elapsed=$8 step eta
	step=$(grep -a '^PTBENCH-VM: BEGIN ' "$console" 2>/dev/null | tail -n 1 | cut -d' ' -f3-) || step=''
	if [[ -z $step ]] && grep -aq '^PTBENCH-VM: BENCH BEGIN ' "$console" 2>/dev/null; then
		step="benchmarks"
	fi
	[[ -n $step ]] || step="booting (qemu start, kernel boot)"
	if ((last_ms > 0)); then
		local left=$((last_ms / 1000 - elapsed))
		((left > 0)) || left=0
		eta="ETA about $(duration_text "$left") (the last boot took $(duration_text $((last_ms / 1000))))"
	else
		eta="ETA unknown (first boot)"
	fi
	printf '%s boot %d/%d (%d of %d boots done): guest step %s; %s elapsed, %s\n' \
		"$lab" "$run" "$runs" "$ndone" "$boots" "$step" "$(duration_text "$elapsed")" "$eta"
}

# norm_arch A: x86_64 or aarch64, else exit 2.
norm_arch() {
	case $1 in
	x86_64 | amd64) echo x86_64 ;;
	aarch64 | arm64) echo aarch64 ;;
	*) die -s 2 "unknown arch '$1' (x86_64, aarch64)" ;;
	esac
}

# The kernels, one entry per index: arch, spec, pinned version ("" if none).
K_ARCH=() K_SPEC=() K_PIN=()

# add_kernel DEFAULT_ARCH [ARCH:]SPEC [VERSION]
add_kernel() {
	local arch=$1 spec=$2
	# The innermost prefix wins: main prefixes the --arch in force.
	while [[ $spec =~ ^(x86_64|amd64|aarch64|arm64):(.+)$ ]]; do
		arch=${BASH_REMATCH[1]}
		spec=${BASH_REMATCH[2]}
	done
	[[ -n $spec ]] || die -s 2 "empty kernel name"
	[[ $spec == */* || $spec != *:* ]] ||
		die -s 2 "unknown arch prefix in '$2' (x86_64, aarch64, amd64, arm64)"
	if [[ $spec != */* && ! -f $spec && $spec != linux-image-* ]]; then
		spec=linux-image-$spec
	fi
	K_ARCH+=("$(norm_arch "$arch")")
	K_SPEC+=("$spec")
	K_PIN+=("${3:-}")
}

# read_manifest FILE: add its kernels (columns by the header's names).
read_manifest() {
	local file=$1 n=0 rows
	[[ -s $file ]] || die -s 2 "no manifest $file"
	rows=$("$PTBENCH_PYTHON" - "$file" <<'PY'
import csv, sys
try:
    rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8"), delimiter="\t"))
except (OSError, UnicodeDecodeError, csv.Error) as e:
    sys.exit(f"ptbench-kernels: cannot read the manifest {sys.argv[1]}: {e}")
for r in rows:
    if not all(r.get(k) for k in ("arch", "package")):
        sys.exit(f"ptbench-kernels: manifest {sys.argv[1]}: a line lacks arch or package")
    print(f"{r['arch']}\t{r['package']}\t{r.get('version') or r.get('image') or ''}")
PY
	) || exit 2
	while IFS=$'\t' read -r arch package version; do
		[[ -n $arch ]] || continue
		if [[ $package == '(file)' ]]; then
			warn "manifest $file: a kernel image file ($version) cannot be fetched again: left out"
			continue
		fi
		add_kernel "$arch" "$package" "$version"
		n=$((n + 1))
	done <<<"$rows"
	((n)) || die -s 2 "manifest $file names no kernel"
}

# DEFAULT_LIST: the default matrix, name patterns resolved at run time.
DEFAULT_LIST=$PTBENCH_ROOT/scripts/kernels-default.tsv

# read_default_list: add the newest package of the kernel archive that
# matches each pattern of DEFAULT_LIST, pinned to its version; a pattern
# that matches nothing is an error (exit 2: the archive moved on).
read_default_list() {
	local arch pattern line pkg ver suite
	kapt_setup
	while IFS=$'\t' read -r arch pattern line; do
		[[ -n $arch && $arch != \#* && $arch != arch ]] || continue
		IFS=$'\t' read -r pkg ver suite < <(kapt_list "$arch" "$pattern" | tail -n 1) || true
		[[ -n ${pkg:-} ]] ||
			die -s 2 "$DEFAULT_LIST: no $arch package of the kernel archive matches $pattern ($line)"
		info "default matrix: $line: $arch $pkg $ver ($suite)"
		add_kernel "$arch" "$pkg" "$ver"
		pkg=''
	done <"$DEFAULT_LIST"
}

# Set by resolve: the image, its package and version, the .deb's sha256,
# and a status (ok, gone, fetch-failed).
R_IMAGE='' R_PACKAGE='' R_VERSION='' R_SHA='' R_STATUS='' R_NOTE=''

# resolve I: fetch kernel I (cached) and fill R_*.
resolve() {
	local i=$1 arch=${K_ARCH[$1]} spec=${K_SPEC[$1]} pin=${K_PIN[$1]} rc=0 record err
	R_IMAGE='' R_PACKAGE='' R_VERSION='' R_SHA='' R_STATUS=ok R_NOTE=''
	if [[ $spec == */* || -f $spec ]]; then
		if [[ -f $spec ]]; then
			R_IMAGE=$(readlink -f "$spec") R_PACKAGE='(file)' R_VERSION=$R_IMAGE
			R_SHA=$(sha256sum "$R_IMAGE" | cut -d' ' -f1)
		else
			R_STATUS=fetch-failed R_NOTE="no kernel image $spec"
		fi
		return 0
	fi
	local -a args=("$arch" --kernel "$spec" --print-kernel)
	[[ -n $pin ]] && args+=(--version "$pin")
	err=$(mktemp)
	R_IMAGE=$(bash "$VM_DIR/fetch.sh" "${args[@]}" 2>"$err") || rc=$?
	if ((rc)); then
		R_STATUS=fetch-failed
		((rc == 3)) && R_STATUS=gone
		R_NOTE=$(grep -v '^E: ' "$err" | tail -n 1)
		R_PACKAGE=$spec R_VERSION=$pin
		cat "$err" >&2
		rm -f "$err"
		return 0
	fi
	rm -f "$err"
	record=$PTBENCH_ROOT/.cache/kernel-$arch-$spec${pin:+=$pin}.txt
	[[ -f $record ]] || record=$PTBENCH_ROOT/.cache/kernel-$arch.txt
	R_PACKAGE=$(sed -n 's/^package=//p' "$record")
	R_VERSION=$(sed -n 's/^version=//p' "$record")
	local deb
	deb=$(sed -n 's/^deb=//p' "$record")
	[[ -f $deb ]] && R_SHA=$(sha256sum "$deb" | cut -d' ' -f1)
	return 0
}

# default_accel: kvm where there is real hardware virtualization (vmx or
# svm in the CPU flags and a writable /dev/kvm), else icount. A software
# hypervisor behind /dev/kvm (as on this project's machine) has neither.
default_accel() {
	if [[ -w /dev/kvm ]] && grep -qw -e vmx -e svm /proc/cpuinfo 2>/dev/null; then
		echo kvm
	else
		echo icount
	fi
}

# label ARCH PACKAGE: the folder name of a kernel's runs.
label() {
	local name=${2#linux-image-}
	[[ $2 == '(file)' ]] && name=file-$(basename "$R_IMAGE")
	printf '%s-%s' "$1" "${name//[^A-Za-z0-9.+_-]/_}"
}

# Set by resolve_all, one entry per kernel: resolve's R_* and the label
# and accel of its boots.
RES_IMAGE=() RES_PACKAGE=() RES_VERSION=() RES_SHA=() RES_STATUS=() RES_NOTE=()
RES_LABEL=() RES_ACCEL=()

# resolve_all ACCEL: fetch every kernel first (cached), so that the boots
# can run side by side and a kernel that cannot be had is known at once.
resolve_all() {
	local accel=$1 i
	for i in "${!K_SPEC[@]}"; do
		resolve "$i"
		RES_IMAGE[i]=$R_IMAGE RES_PACKAGE[i]=${R_PACKAGE:-${K_SPEC[i]}} RES_VERSION[i]=$R_VERSION
		RES_SHA[i]=$R_SHA RES_STATUS[i]=$R_STATUS RES_NOTE[i]=$R_NOTE
		RES_LABEL[i]=$(label "${K_ARCH[i]}" "${RES_PACKAGE[i]}")
		RES_ACCEL[i]=$accel
		if [[ $accel == kvm && ${K_ARCH[i]} != "$(uname -m)" ]]; then
			RES_ACCEL[i]=tcg
			RES_NOTE[i]="kvm impossible for a foreign arch: ran under tcg (function only)"
		fi
	done
}

# boots_per_kernel RUNS: by default one "suite" boot and RUNS "bench"
# boots; with --no-bench, --bench-only or --all-full RUNS boots of one
# kind. Reads main's bench and all_full.
boots_per_kernel() {
	if ((bench == 1 && !all_full)); then
		echo $(($1 + 1))
	else
		echo "$1"
	fi
}

# boot_kind BOOT: what boot BOOT of a kernel runs: "suite" (the probe and
# the conformance suite), "bench" (the probe and the benchmarks) or "full"
# (both, the benchmarks first; --all-full). By default boot 1 is the suite
# and every figure comes from the bench boots, which boot one and the same
# image: boots of one image gave identical figures (0.00% apart, in 7 of 8
# kernels), while a full boot's figures, from a bigger image, differed from
# them by up to 40% (results/kernels/20261204-193656, section "Boot
# images" of its README). Reads main's bench and all_full.
boot_kind() {
	if ((bench == 2)); then
		echo bench
	elif ((bench == 0)); then
		echo suite
	elif ((all_full)); then
		echo full
	elif (($1 == 1)); then
		echo suite
	else
		echo bench
	fi
}

# kind_opts KIND: suite.sh's options that make an initramfs of KIND.
kind_opts() {
	case $1 in
	bench) echo --bench-only ;;
	full) echo --bench ;;
	esac
}

# Running boots: pid -> "I RUN KIND T0_MS".
declare -A BOOTS_RUNNING=()

# stop_all_boots: the INT/TERM trap: no qemu (and so no stub) outlives
# the matrix.
stop_all_boots() {
	local pid
	for pid in "${!BOOTS_RUNNING[@]}"; do
		kill_tree "$pid"
	done
	wait 2>/dev/null
	exit 130
}

# boot_one I RUN KIND INITRD: boot RUN of kernel I from INITRD (suite.sh
# --boot), console and log in its raw folder; suite.sh's status. Run in the
# background. Reads main's suite_opts.
boot_one() {
	local i=$1 r=$2 kind=$3 initrd=$4 dir rc=0
	dir=$out/raw/${RES_LABEL[i]}
	nice bash "$VM_DIR/suite.sh" --arch "${K_ARCH[i]}" --kernel "${RES_IMAGE[i]}" \
		--accel "${RES_ACCEL[i]}" "${suite_opts[@]}" --boot "$initrd" --log "$dir/run$r.log" \
		>"$dir/run$r.console" 2>&1 </dev/null || rc=$?
	[[ ! -f $dir/run$r.log.info ]] || printf 'boot_kind=%s\n' "$kind" >>"$dir/run$r.log.info"
	return "$rc"
}

main() {
	local a
	for a in "$@"; do
		# The point-release bisection is a program of its own.
		[[ $a == --bisect ]] && exec bash "$PTBENCH_ROOT/scripts/kernels_bisect.sh" "$@"
	done
	local arch=x86_64 accel='' runs='' timeout=1500 filter='' bench=1 manifest='' out='' append=''
	local -a specs=() qemu_opts=()
	local defaults=1 jobs='' all_full=0
	while (($#)); do
		case $1 in
		--arch | --accel | --runs | --timeout | --bench-filter | --manifest | --out | --append | --qemu-opt | --jobs)
			(($# >= 2)) || die -s 2 "$1 needs a value (try: kernels.sh --help)"
			case $1 in
			--arch) arch=$(norm_arch "$2") ;;
			--accel) accel=$2 ;;
			--runs) runs=$2 ;;
			--timeout) timeout=$2 ;;
			--bench-filter) filter=$2 ;;
			--manifest) manifest=$2 ;;
			--out) out=$2 ;;
			--append) append+=${append:+ }$2 ;;
			--qemu-opt) qemu_opts+=("$2") ;;
			--jobs) jobs=$2 ;;
			esac
			shift
			;;
		--no-boot-defaults) defaults=0 ;;
		--no-bench) bench=0 ;;
		--bench-only) bench=2 ;;
		--all-full) all_full=1 ;;
		-h | --help) usage; return 0 ;;
		-*) die -s 2 "unknown option '$1' (try: kernels.sh --help)" ;;
		*) specs+=("$arch:$1") ;;
		esac
		shift
	done
	[[ -n $accel ]] || accel=$(default_accel)
	case $accel in
	icount | kvm | tcg) ;;
	*) die -s 2 "unknown --accel '$accel' (icount, kvm, tcg)" ;;
	esac
	[[ -z $runs ]] && runs=1 && [[ $accel == icount ]] && runs=3
	[[ $runs =~ ^[1-9][0-9]*$ ]] || die -s 2 "--runs wants a positive integer, not '$runs'"
	[[ $timeout =~ ^[1-9][0-9]*$ ]] || die -s 2 "--timeout wants seconds, not '$timeout'"
	# Under icount a figure counts guest instructions, whatever else the
	# host runs: boots may share it. Otherwise they measure time: one.
	if [[ -z $jobs ]]; then
		jobs=1
		[[ $accel == icount ]] && jobs=$(nproc)
	fi
	[[ $jobs =~ ^[1-9][0-9]*$ ]] || die -s 2 "--jobs wants a positive integer, not '$jobs'"
	# The filter travels to the guest inside single quotes.
	[[ $filter != *"'"* ]] || die -s 2 "--bench-filter wants a regular expression without single quotes"
	# What the user added goes after the defaults (run.info's command
	# gives the user's part: the defaults apply again).
	local user_append=$append
	local -a user_qemu=("${qemu_opts[@]}")
	if ((defaults)); then
		append=$PTBENCH_VM_BOOT_APPEND${append:+ $append}
		qemu_opts=("${PTBENCH_VM_BOOT_QEMU_OPTS[@]}" "${qemu_opts[@]}")
	fi
	# The same quotes hold them in run.info's command; a qemu option that
	# is not an option would shift every later word.
	[[ $append != *[$'\'\n\t']* ]] || die -s 2 "--append wants one line of kernel arguments without quotes or tabs"
	local opt
	for opt in "${qemu_opts[@]}"; do
		[[ $opt != *[$'\'\n\t']* ]] || die -s 2 "--qemu-opt wants one line without quotes or tabs, not '$opt'"
		[[ $opt =~ ^[[:space:]]*- ]] || die -s 2 "--qemu-opt '$opt' must start with a qemu option (-...)"
	done
	if [[ -n $manifest && ${#specs[@]} -gt 0 ]]; then
		die -s 2 "give KERNELs or --manifest, not both"
	fi
	[[ -z $out ]] || check_dir_creatable "$out"
	local spec i
	for spec in "${specs[@]}"; do
		add_kernel "$arch" "$spec"
	done
	# A kernel named on the command line that cannot exist is a typo: it
	# fails here, not as a "fetch-failed" row after the other boots.
	for i in "${!K_SPEC[@]}"; do
		check_kernel "${K_ARCH[i]}" "${K_SPEC[i]}"
	done
	if ((${#specs[@]} == 0)); then
		if [[ -n $manifest ]]; then
			read_manifest "$manifest"
			info "kernels of $manifest"
		else
			read_default_list
		fi
	fi

	local t_start stamp commit
	t_start=$(now_ms)
	# Before the boots: what ran, even if the tree changes meanwhile.
	commit=$(git_commit)
	stamp=$(date -u +%Y%m%d-%H%M%S)
	[[ -n $out ]] || out=$KERNELS_ROOT/$stamp
	make_dir "$out/raw"
	out=$(cd "$out" && pwd)

	local -a suite_opts=(--timeout "$timeout")
	[[ -n $filter ]] && suite_opts+=(--bench-flags "--benchmark_filter='$filter'")
	[[ -n $append ]] && suite_opts+=(--append "$append")
	for opt in "${qemu_opts[@]}"; do
		suite_opts+=(--qemu-opt "$opt")
	done
	local qemu_text=${qemu_opts[*]}
	local mtmp=$out/tmp.manifest.tsv r lab dir status rc ms failed=0 boots=0 kind key
	local nper
	nper=$(boots_per_kernel "$runs")
	resolve_all "$accel"

	# One initramfs per arch and kind, built before any boot: the boots
	# then share nothing but the read-only image.
	local initrd_dir=$PTBENCH_ROOT/.cache/vm/kernels-initrd/$stamp
	local -A initrd=()
	# Expanded now: the EXIT trap runs after main's locals are gone.
	# shellcheck disable=SC2064
	trap "rm -rf '$initrd_dir'" EXIT
	trap stop_all_boots INT TERM
	for i in "${!K_SPEC[@]}"; do
		[[ ${RES_STATUS[i]} == ok ]] || continue
		for ((r = 1; r <= nper; r++)); do
			kind=$(boot_kind "$r")
			key="${K_ARCH[i]} $kind"
			[[ -z ${initrd[$key]:-} ]] || continue
			initrd[$key]=$initrd_dir/${K_ARCH[i]}-$kind.cpio.gz
			info "preparing the ${K_ARCH[i]} initramfs of the $kind boots"
			# shellcheck disable=SC2046 # kind_opts is a word list
			bash "$VM_DIR/suite.sh" --arch "${K_ARCH[i]}" $(kind_opts "$kind") "${suite_opts[@]}" \
				--prepare-only "${initrd[$key]}" </dev/null >&2 ||
				die "could not prepare the ${K_ARCH[i]} initramfs of the $kind boots"
		done
	done

	# The boots, --jobs at a time: every kernel's first boot (the long
	# suite boots) before any later boot.
	local -a queue=() no_boot=() nboots=() kfailed=()
	local -A last_ms=()
	for ((r = 1; r <= nper; r++)); do
		for i in "${!K_SPEC[@]}"; do
			[[ ${RES_STATUS[i]} == ok ]] && queue+=("$i $r")
		done
	done
	local total_boots=${#queue[@]} pid t0 next_progress elapsed
	info "$total_boots boot(s), $jobs at a time"
	next_progress=$(($(now_ms) + PTBENCH_PROGRESS_S * 1000))
	while ((${#queue[@]} || ${#BOOTS_RUNNING[@]})); do
		while ((${#BOOTS_RUNNING[@]} < jobs && ${#queue[@]})); do
			read -r i r <<<"${queue[0]}"
			queue=("${queue[@]:1}")
			if [[ -n ${no_boot[i]:-} ]]; then
				info "${RES_LABEL[i]} run $r: not booted (an earlier boot of it did not complete)"
				continue
			fi
			kind=$(boot_kind "$r")
			dir=$out/raw/${RES_LABEL[i]}
			mkdir -p "$dir"
			info "== ${RES_LABEL[i]} boot $r/$nper ($kind), accel ${RES_ACCEL[i]}: ${RES_PACKAGE[i]} ${RES_VERSION[i]}"
			boot_one "$i" "$r" "$kind" "${initrd[${K_ARCH[i]} $kind]}" &
			BOOTS_RUNNING[$!]="$i $r $kind $(now_ms)"
			nboots[i]=$((${nboots[i]:-0} + 1))
		done
		sleep 1
		for pid in "${!BOOTS_RUNNING[@]}"; do
			kill -0 "$pid" 2>/dev/null && continue
			# bash keeps an ended job's status until it is waited for.
			rc=0
			wait "$pid" 2>/dev/null || rc=$?
			read -r i r kind t0 <<<"${BOOTS_RUNNING[$pid]}"
			unset "BOOTS_RUNNING[$pid]"
			boots=$((boots + 1))
			lab=${RES_LABEL[i]}
			dir=$out/raw/$lab
			ms=$(($(now_ms) - t0))
			last_ms["${K_ARCH[i]} $kind"]=$ms
			info "$lab run $r ($kind): status $rc, $ms ms ($(tail -n 1 "$dir/run$r.console" 2>/dev/null))"
			((rc == 0)) && continue
			failed=1
			kfailed[i]=1
			if ! grep -q '^PTBENCH-VM: RESULT ' "$dir/run$r.log" 2>/dev/null; then
				no_boot[i]=1
				RES_NOTE[i]=$(grep 'vm-run: ' "$dir/run$r.console" | tail -n 1)
				RES_NOTE[i]="${RES_NOTE[i]//"$out"\//}; log starts: $(head -n 1 "$dir/run$r.log" 2>/dev/null)"
				info "$lab did not complete a run: no further runs of it"
			fi
		done
		if (($(now_ms) >= next_progress)); then
			for pid in "${!BOOTS_RUNNING[@]}"; do
				read -r i r kind t0 <<<"${BOOTS_RUNNING[$pid]}"
				elapsed=$((($(now_ms) - t0) / 1000))
				info "$(boot_progress "${RES_LABEL[i]}" "$r" "$nper" "$boots" "$total_boots" \
					"$out/raw/${RES_LABEL[i]}/run$r.console" "${last_ms["${K_ARCH[i]} $kind"]:-0}" "$elapsed")"
			done
			next_progress=$(($(now_ms) + PTBENCH_PROGRESS_S * 1000))
		fi
	done
	trap - INT TERM

	printf 'arch\tpackage\tversion\tspec\tsha256\tstatus\tlabel\truns\taccel\tnote\tappend\tqemu_opts\n' >"$mtmp"
	for i in "${!K_SPEC[@]}"; do
		status=${RES_STATUS[i]}
		if [[ $status == ok ]]; then
			[[ -n ${kfailed[i]:-} ]] && status=fail
			[[ -n ${no_boot[i]:-} ]] && status=no-boot
		else
			failed=1
			warn "${RES_LABEL[i]}: $status: ${RES_NOTE[i]}"
		fi
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "${K_ARCH[i]}" "${RES_PACKAGE[i]}" \
			"${RES_VERSION[i]}" "${K_SPEC[i]}" "${RES_SHA[i]}" "$status" "${RES_LABEL[i]}" "${nboots[i]:-0}" \
			"${RES_ACCEL[i]}" "${RES_NOTE[i]//$'\t'/ }" "$append" "$qemu_text" >>"$mtmp"
	done
	mv "$mtmp" "$out/manifest.tsv"
	local total=$(($(now_ms) - t_start))
	# The one command that runs these kernels again, options and all.
	local again="scripts/ptbench kernels --manifest ${out#"$PTBENCH_ROOT"/}/manifest.tsv"
	again+=" --accel $accel --runs $runs --timeout $timeout --jobs $jobs"
	((all_full)) && again+=" --all-full"
	[[ -n $filter ]] && again+=" --bench-filter '$filter'"
	((defaults)) || again+=" --no-boot-defaults"
	[[ -n $user_append ]] && again+=" --append '$user_append'"
	for opt in "${user_qemu[@]}"; do
		again+=" --qemu-opt '$opt'"
	done
	((bench)) || again+=" --no-bench"
	((bench == 2)) && again+=" --bench-only"
	printf 'append=%s\nqemu_opts=%s\nboot_defaults=%s\njobs=%s\nall_full=%s\n' "$append" "$qemu_text" \
		"$( ((defaults)) && echo on || echo off)" "$jobs" "$all_full" >"$out/tmp.run.info"
	printf 'accel=%s\nruns=%s\nboots=%s\ntotal_ms=%s\nstarted=%s\nhost=%s\nhost_kernel=%s\nqemu_x86_64=%s\nqemu_aarch64=%s\ncommit=%s\ncommand=%s\n' \
		"$accel" "$runs" "$boots" "$total" "$stamp" "$(uname -n)" "$(uname -r)" \
		"$(qemu-system-x86_64 --version 2>/dev/null | head -n 1)" \
		"$(qemu-system-aarch64 --version 2>/dev/null | head -n 1)" \
		"$commit" "$again" \
		>>"$out/tmp.run.info"
	mv "$out/tmp.run.info" "$out/run.info"
	info "all boots done in $((total / 1000)) s; rendering the report"
	"$PTBENCH_PYTHON" "$REPORT_PY" render "$out" ||
		die "kernels_report.py could not render $out"
	if [[ $out == "$KERNELS_ROOT"/* ]]; then
		"$PTBENCH_PYTHON" "$REPORT_PY" index "$KERNELS_ROOT" || warn "could not write $KERNELS_ROOT/README.md"
	fi
	printf '%s\n' "$out"
	return "$failed"
}

main "$@"
