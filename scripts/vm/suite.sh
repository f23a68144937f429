#!/usr/bin/env bash
# suite.sh [--arch ARCH] [--build-dir DIR] [--log FILE] [--bench
#          [--bench-flags F]] [run.sh OPTIONS...]
#
# The whole VM step for ARCH (default aarch64): fetch.sh ARCH (cached),
# configure and build the project for ARCH (debug, -Dbench=false; for a
# foreign ARCH with the generated cross file), build an initramfs with
# every conformance executable (each run in both switch modes) and
# ptbench-probe, boot it with run.sh, and print the time of each step.
#   --build-dir  the build tree (default build/cross-arm64 for aarch64,
#                build/vm-x86_64 for x86_64)
#   --log        the console log (default .cache/vm/logs/suite-ARCH-STAMP.log)
#   --bench      also build ptbench-bench (-Dbench=true, release, in
#                DIR-bench: the suite's own build stays debug) and run the
#                quick benchmarks in the guest before the suite, one short
#                repetition each (VM_BENCH_FLAGS in common.sh); run.sh keeps
#                their JSON as LOG.bench.json and prints a table: emulated
#                timings, not comparable with anything. The verdict still
#                comes from the conformance runs alone: a benchmark that
#                errors or skips is reported, not fatal. The app family
#                runs too, with the bench build's sentry and inputs a
#                hundredth of full size (initramfs.sh --bench-app).
#   --bench-flags F  flags added to that run (one string, e.g.
#                --benchmark_filter=REGEX)
#   --bench-only as --bench, but the guest runs only ptbench-probe after
#                the benchmarks (no conformance group, no exec suite): a
#                fresh guest for the figures, a boot of a minute or two
#   --prepare-only FILE
#                fetch, build and write the initramfs to FILE, and stop:
#                no boot (kernels.sh prepares each kind once, then boots
#                it in parallel)
#   --boot FILE  boot the initramfs FILE that --prepare-only wrote, with
#                the same other options: no fetch, build or initramfs step
#                (so boots of one build tree can run at the same time)
# Other options (--kernel, --accel, --timeout, --mem, --cpu, --smp,
# --append ARGS, --qemu-opt OPT, the last two repeatable) go to run.sh;
# --timeout defaults to 1800 here (the suite takes about 400 s of TCG on a
# loaded 2-core host, the exec suite about 2 min more, the systrap variants
# about 6 min more, and 900 s on a busy one: a hang guard, not a budget).
# Exits with run.sh's status (0 pass, 1
# fail or error, 2 usage); the step timings are appended to LOG.info.
set -euo pipefail

PTBENCH_PROG=vm-suite
# shellcheck source=scripts/vm/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"



# default_build_dir: the build tree of VM_ARCH.
default_build_dir() {
	if ((VM_FOREIGN)); then
		printf '%s/build/cross-%s' "$PTBENCH_ROOT" "$VM_DEBARCH"
	else
		printf '%s/build/vm-%s' "$PTBENCH_ROOT" "$VM_ARCH"
	fi
}

# build_project DIR [bench]: meson setup (once) and compile: the suite
# (debug, no benchmarks), or with "bench" only ptbench-bench (release,
# -Dbench=true, as scripts/ptbench bench builds it).
build_project() {
	local dir=$1 what=${2:-suite}
	local -a opts=(-Dbench=false -Dbuildtype=debug) targets=()
	if [[ $what == bench ]]; then
		release_opts
		opts=("${RELEASE_OPTS[@]}")
		# The app family's sentry and pthread program (--bench-app).
		targets=(bench/ptbench-bench sentry/ptbench-exec sentry/hashfiles)
	fi
	((VM_FOREIGN)) && opts+=(--cross-file "$VM_CACHE/cross/$VM_TRIPLET.ini")
	if [[ ! -f $dir/meson-private/coredata.dat ]]; then
		info "configuring $dir: ${opts[*]}"
		meson setup "$dir" "$PTBENCH_ROOT" "${opts[@]}" </dev/null >&2 ||
			die "meson setup failed for $dir"
	fi
	ninja -C "$dir" "${targets[@]}" </dev/null >&2 || die "build failed in $dir"
}

# export_exec_suite DIR OUT: the 'exec' suite for the guest into OUT
# (initramfs.sh --exec-suite): the cases and fixtures of exec_suite.py
# --export, made with the host's busybox-static (gzip, tar and cpio output
# does not depend on the arch), the sentry and its static test programs
# and exec-cases (the guest's runner of the cases) from DIR/sentry. Prints OUT, or nothing when the build has no sentry.
export_exec_suite() {
	local dir=$1 out=$2 busybox exe
	[[ -x $dir/sentry/ptbench-exec ]] || return 0
	busybox=$(bash "$VM_DIR/fetch.sh" "$(uname -m)" --busybox-only) ||
		die "could not fetch the host's busybox-static for the exec suite's fixtures"
	python3 "$PTBENCH_ROOT/sentry/tests/exec_suite.py" --export "$out" --busybox "$busybox" --arch "$VM_ARCH" ||
		die "exec_suite.py --export $out failed"
	cp "$dir/sentry/ptbench-exec" "$dir/sentry/exec-cases" "$out/"
	mkdir -p "$out/progs"
	# The test programs are the other executables there (none in a
	# sanitizer build: they cannot link statically).
	for exe in "$dir"/sentry/*; do
		[[ -f $exe && -x $exe && ${exe##*/} != ptbench-exec && ${exe##*/} != exec-cases ]] &&
			cp "$exe" "$out/progs/"
	done
	printf '%s' "$out"
}

# suite_executables DIR: the executables the initramfs carries.
suite_executables() {
	local dir=$1
	find "$dir/conformance" -maxdepth 1 -type f -name 'conf-*' -perm -u+x | LC_ALL=C sort
	[[ -x $dir/conformance/ptbench-probe ]] && printf '%s\n' "$dir/conformance/ptbench-probe"
	# Unit tests of the core's internals (unit/): the systrap filter's
	# table holds arm64's own syscall-instruction length and audit arch.
	[[ -x $dir/unit/test-systrap-bpf ]] && printf '%s\n' "$dir/unit/test-systrap-bpf"
	# systrap's own faults (it skips where that backend cannot run).
	[[ -x $dir/reliability/rel-systrap ]] && printf '%s\n' "$dir/reliability/rel-systrap"
	# Faults from outside (stubs killed, stopped, ptrace denied, limits),
	# last: its lean run may raise Yama's scope (initramfs.sh).
	[[ -x $dir/reliability/rel-faults ]] && printf '%s\n' "$dir/reliability/rel-faults"
	return 0
}

main() {
	local arch=aarch64 build='' log='' timeout=1800 rc=0 bench=0 bench_ms=0 only=0
	local -a run_opts=()
	local t0 t1 t2 t3 t4 tb bench_flags='' prepare_only='' boot=''
	while (($#)); do
		case $1 in
		--arch | --build-dir | --log | --timeout | --kernel | --accel | --mem | --cpu | --smp | --bench-flags | \
			--append | --qemu-opt | --prepare-only | --boot)
			(($# >= 2)) || die -s 2 "$1 needs a value"
			case $1 in
			--arch) arch=$2 ;;
			--build-dir) build=$2 ;;
			--log) log=$2 ;;
			--timeout) timeout=$2 ;;
			--bench-flags) bench_flags=$2 ;;
			--prepare-only) prepare_only=$2 ;;
			--boot) boot=$2 ;;
			*) run_opts+=("$1" "$2") ;;
			esac
			shift
			;;
		--bench) bench=1 ;;
		--bench-only) bench=1 only=1 ;;
		-h | --help) usage; exit 0 ;;
		*) die -s 2 "unknown argument '$1' (try: --help)" ;;
		esac
		shift
	done
	[[ -z $prepare_only || -z $boot ]] || die -s 2 "--prepare-only and --boot exclude each other"
	[[ -z $boot || -f $boot ]] || die -s 2 "--boot: no initramfs $boot (write it with --prepare-only)"
	vm_arch_setup "$arch"
	build=${build:-$(default_build_dir)}
	if [[ -z $log && -z $prepare_only ]]; then
		mkdir -p "$VM_LOGS"
		log=$VM_LOGS/suite-$VM_ARCH-$(date -u +%Y%m%d-%H%M%S).log
	fi

	t0=$(now_ms)
	local initrd=$boot
	if [[ -n $boot ]]; then
		t1=$t0 t2=$t0 t3=$t0
	else
		bash "$VM_DIR/fetch.sh" "$VM_ARCH"
		t1=$(now_ms)
		initrd=${prepare_only:-$build/vm-initrd.cpio.gz}
		prepare_initrd "$build" "$initrd"
		t3=$(now_ms)
		if [[ -n $prepare_only ]]; then
			info "$VM_ARCH initramfs $prepare_only: fetch $((t1 - t0)) ms, build and initramfs $((t3 - t1)) ms"
			return 0
		fi
	fi
	bash "$VM_DIR/run.sh" --arch "$VM_ARCH" --timeout "$timeout" --log "$log" \
		"${run_opts[@]}" "$initrd" || rc=$?
	t4=$(now_ms)
	if [[ -f $log.info ]]; then
		printf 'step_fetch_ms=%s\nstep_build_ms=%s\nstep_initramfs_ms=%s\nstep_vm_ms=%s\nstep_total_ms=%s\n' \
			$((t1 - t0)) $((t2 - t1)) $((t3 - t2)) $((t4 - t3)) $((t4 - t0)) >>"$log.info"
		((bench)) && printf 'step_build_bench_ms=%s\n' "$bench_ms" >>"$log.info"
		[[ -z $boot ]] || printf 'prepared_initrd=%s\n' "$boot" >>"$log.info"
	fi
	local of_bench=''
	((bench)) && of_bench=" (ptbench-bench $bench_ms ms of it)"
	info "$VM_ARCH step: fetch $((t1 - t0)) ms, build $((t2 - t1)) ms$of_bench, initramfs $((t3 - t2)) ms, boot + suite $((t4 - t3)) ms, total $((t4 - t0)) ms (status $rc)"
	return "$rc"
}

# prepare_initrd BUILD OUT: build the suite (and with --bench the
# benchmarks) in BUILD and write the guest's initramfs to OUT. Uses and
# sets main's locals (bench, only, timeout, bench_flags; t2, bench_ms).
prepare_initrd() {
	local build=$1 out=$2 exec_dir tb
	local -a exes=() bench_opts=() exec_opts=()
	build_project "$build"
	# The core's layering and symbol tests read the objects with the
	# build's (cross) nm, and the ABI check reads the library with abidiff:
	# they run here, not in the guest.
	meson test -C "$build" --no-rebuild --suite layering --suite abi </dev/null >&2 ||
		die "the core's layering, symbol or ABI test failed for $VM_ARCH (see $build/meson-logs/testlog.txt)"
	if ((bench)); then
		tb=$(now_ms)
		build_project "$build-bench" bench
		bench_ms=$(($(now_ms) - tb))
		[[ -x $build-bench/bench/ptbench-bench ]] ||
			die "no $build-bench/bench/ptbench-bench after the build"
		bench_opts=(--bench "$build-bench/bench/ptbench-bench" --bench-app "$build-bench/sentry")
		[[ -n $bench_flags ]] && bench_opts+=(--bench-flags "$VM_BENCH_FLAGS $bench_flags")
	fi
	t2=$(now_ms)
	if ((only)); then
		exes=("$build/conformance/ptbench-probe")
		[[ -x ${exes[0]} ]] || die "no ${exes[0]} after the build"
	else
		mapfile -t exes < <(suite_executables "$build")
		((${#exes[@]})) || die "no conformance executables in $build/conformance"
		exec_dir=$(export_exec_suite "$build" "$build/vm-exec-suite")
		[[ -n $exec_dir ]] && exec_opts=(--exec-suite "$exec_dir")
	fi
	mkdir -p "$(dirname "$out")"
	bash "$VM_DIR/initramfs.sh" --cmd-timeout "$timeout" "${bench_opts[@]}" "${exec_opts[@]}" "$VM_ARCH" \
		"$out" "${exes[@]}"
}

main "$@"
