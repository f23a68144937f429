#!/usr/bin/env bash
# initramfs.sh [--cmd-timeout S] [--no-strip] [--bench EXE [--bench-flags F]
#               [--bench-timeout S] [--bench-app DIR]] [--exec-suite DIR]
#               ARCH OUT EXE...
#               [-- COMMAND...]
#
# Builds a test initramfs for a VM of ARCH (aarch64, x86_64) into OUT (a
# gzip-compressed newc cpio if OUT ends in .gz, else uncompressed: the
# kernel unpacks either, uncompressed a little faster under TCG):
#   /init                  scripts/vm/init.sh (the console protocol is
#                          described there)
#   /bin/busybox, /bin/sh  busybox-static of ARCH (fetch.sh ARCH first)
#   /opt/ptbench/bin/      the EXEs (on PATH), debug info stripped from
#                          the copies unless --no-strip
#   /lib/...               every shared library the EXEs need, followed
#                          recursively through their DT_NEEDED entries, and
#                          the program interpreter at its own path; looked
#                          up in the cross toolchain's libc
#                          (/usr/TRIPLET/lib), then .cache/sysroot/ARCH
#                          (then the host's own dirs for a native ARCH)
#   /dev/console           character device 5:1 (written into the cpio
#                          stream directly: no root needed)
#   /etc/ptbench/commands  one shell command a line, run in order: the
#                          COMMANDs after --, else for every EXE named
#                          conf-* or rel-faults: "X faithful" and "X lean",
#                          and "env H_BACKEND=systrap X faithful" between
#                          them, and for rel-systrap
#                          (systrap's own faults) that line only (each
#                          skips with ptp_open's reason where the backend
#                          cannot run); the last "rel-faults lean" with
#                          PTBENCH_YAMA_RAISE=1: Yama scope 3 is tested
#                          (nothing runs after it: the benchmarks come
#                          first); for any other EXE its bare name;
#                          with --exec-suite also "ptbench-exec-suite M
#                          --share I/3" for M faithful, lean and systrap
#                          (exec-guest.sh: a third of the cases each),
#                          before the first rel-faults run, else last
#   /etc/ptbench/config    CMD_TIMEOUT (--cmd-timeout S, default 600; 0
#                          disables the per-command watchdog); with --bench
#                          also BENCH_TIMEOUT and BENCH_OUT
#   /etc/ptbench/bench     --bench EXE only: the one benchmark command,
#                          "NAME FLAGS --benchmark_out=/tmp/b.json", which
#                          init.sh runs after the commands and their RESULT
#                          line (it does not count towards the verdict)
# --exec-suite DIR  also carry the 'exec' suite for exec-guest.sh: DIR is
#                   what sentry/tests/exec_suite.py --export wrote, plus
#                   DIR/ptbench-exec (the sentry) and DIR/exec-cases (the
#                   runner of the cases), into /opt/ptbench/bin with their
#                   libraries, and DIR/progs/ (static test programs);
#                   the rest goes to /opt/ptbench/exec, and exec-guest.sh
#                   to /opt/ptbench/bin/ptbench-exec-suite
# --systrap        the build has the systrap backend (its meson tests name
#                   GROUP/systrap variants): run its variants too
# --bench EXE       also carry EXE (a Google Benchmark executable, with its
#                   libraries) and run it as above
# --bench-flags F   its flags, one string (default: VM_BENCH_FLAGS of common.sh)
# --bench-timeout S its watchdog in seconds (default 300)
# --bench-app DIR   with --bench: DIR/ptbench-exec and DIR/hashfiles (the
#                   bench build's sentry and pthread program) into
#                   /opt/ptbench/app, and the benchmark command runs with
#                   PTBENCH_SENTRY, PTBENCH_APP_THREADS_PROG, PTBENCH_BUSYBOX
#                   (the guest's /bin/busybox) and PTBENCH_APP_DIR set and
#                   --ptbench_app_size=guest: the app family in the guest
set -euo pipefail

PTBENCH_PROG=vm-initramfs
# shellcheck source=scripts/vm/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"


# Conformance executables are run once per switch mode.
SWITCH_MODES=(faithful lean)
# The exec suite's runs, each with its share of the cases:
# exec-guest.sh's modes (systrap falls back to ptrace faithful where that
# backend cannot run, so each case still runs once on the arch).
EXEC_RUNS=(faithful lean systrap)

# The benchmark run of --bench: VM_BENCH_FLAGS (common.sh); JSON on stdout
# and in BENCH_OUT, which init.sh prints between its BENCH JSON markers.
BENCH_OUT=/tmp/b.json

# tool NAME: the cross binutils tool of ARCH if installed, else NAME.
tool() {
	if command -v "$VM_TRIPLET-$1" >/dev/null; then
		printf '%s' "$VM_TRIPLET-$1"
	else
		printf '%s' "$1"
	fi
}

# elf_needed FILE: its DT_NEEDED names, one a line.
elf_needed() {
	"$READELF" -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'
}

# elf_interp FILE: its program interpreter (empty for a static file).
elf_interp() {
	"$READELF" -l "$1" | sed -n 's/.*\[Requesting program interpreter: \(.*\)\]$/\1/p'
}

# check_elf FILE: die unless FILE is an ELF file of ARCH.
check_elf() {
	local machine want
	machine=$("$READELF" -h "$1" 2>/dev/null | sed -n 's/^ *Machine: *//p') ||
		true
	case $VM_ARCH in
	aarch64) want=AArch64 ;;
	x86_64) want='Advanced Micro Devices X86-64' ;;
	esac
	[[ $machine == "$want" ]] ||
		die "$1 is not an ELF file for $VM_ARCH (machine: ${machine:-none})"
}

# find_lib NAME: the first file NAME in vm_lib_dirs; die if none.
find_lib() {
	local dir
	for dir in "${LIB_DIRS[@]}"; do
		if [[ -e $dir/$1 ]]; then
			printf '%s' "$dir/$1"
			return 0
		fi
	done
	die "shared library $1 (needed by $2) not found in: ${LIB_DIRS[*]}"
}

# copy_file SRC DEST: copy (following links) into the tree, strip the copy.
copy_file() {
	local src=$1 dest=$ROOT$2
	mkdir -p "${dest%/*}"
	cp -L "$src" "$dest"
	chmod u+w "$dest"
	if ((STRIP)); then
		"$STRIP_TOOL" --strip-debug "$dest" 2>/dev/null ||
			warn "could not strip $2 (kept as is)"
	fi
}

# add_libraries FILE...: copy the interpreter and every needed library,
# recursively.
add_libraries() {
	local -a queue=("$@")
	local -A seen=()
	local file name path interp
	while ((${#queue[@]})); do
		file=${queue[0]}
		queue=("${queue[@]:1}")
		interp=$(elf_interp "$file")
		if [[ -n $interp && -z ${seen["$interp"]:-} ]]; then
			seen["$interp"]=1
			path=$(find_lib "${interp##*/}" "$file")
			copy_file "$path" "$interp"
		fi
		while IFS= read -r name; do
			[[ -n $name && -z ${seen["/lib/$name"]:-} ]] || continue
			seen["/lib/$name"]=1
			path=$(find_lib "$name" "$file")
			copy_file "$path" "/lib/$name"
			queue+=("$path")
		done < <(elf_needed "$file")
	done
	LIB_COUNT=${#seen[@]}
}

# add_exec_suite DIR: the files of --exec-suite DIR (see the header).
add_exec_suite() {
	local dir=$1 prog
	for prog in "$dir/ptbench-exec" "$dir/exec-cases" "$dir/cases" "$dir/skips" "$dir/fixtures"; do
		[[ -e $prog ]] || die "--exec-suite $dir: no ${prog##*/} (exec_suite.py --export, then the sentry)"
	done
	for prog in ptbench-exec exec-cases; do
		check_elf "$dir/$prog"
		copy_file "$dir/$prog" "/opt/ptbench/bin/$prog"
		chmod 0755 "$ROOT/opt/ptbench/bin/$prog"
	done
	install -m 0755 "$VM_DIR/exec-guest.sh" "$ROOT/opt/ptbench/bin/ptbench-exec-suite"
	mkdir -p "$ROOT/opt/ptbench/exec/progs"
	cp -a "$dir/cases" "$dir/skips" "$dir/fixtures" "$ROOT/opt/ptbench/exec/"
	[[ -d $dir/stdin ]] && cp -a "$dir/stdin" "$ROOT/opt/ptbench/exec/"
	for prog in "$dir"/progs/*; do
		[[ -f $prog ]] || continue
		check_elf "$prog"
		[[ -z $(elf_interp "$prog") ]] || die "$prog is not static (the sentry runs static programs)"
		copy_file "$prog" "/opt/ptbench/exec/progs/${prog##*/}"
		chmod 0755 "$ROOT/opt/ptbench/exec/progs/${prog##*/}"
	done
}

# default_commands EXE...: the command lines run when none are given.
# The systrap variant comes before the last mode: rel-faults lean must stay
# last (see main).
default_commands() {
	local exe name mode
	for exe in "$@"; do
		name=${exe##*/}
		if [[ $name == conf-* || $name == rel-faults ]]; then
			for mode in "${SWITCH_MODES[@]}"; do
				# The systrap backend (faithful only) before lean.
				[[ $mode == "${SWITCH_MODES[-1]}" ]] &&
					printf 'env H_BACKEND=systrap %s faithful\n' "$name"
				printf '%s %s\n' "$name" "$mode"
			done
		elif [[ $name == rel-systrap ]]; then
			printf 'env H_BACKEND=systrap %s faithful\n' "$name"
		else
			printf '%s\n' "$name"
		fi
	done
}

# cpio_entry NAME MODE RDEVMAJOR RDEVMINOR: one newc header for a file
# without data (a device node or directory), owned by root.
cpio_entry() {
	local name=$1 namesize pad
	namesize=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		0 "$2" 0 0 1 0 0 0 0 "$3" "$4" "$namesize" 0
	printf '%s\0' "$name"
	pad=$(((4 - (110 + namesize) % 4) % 4))
	head -c "$pad" /dev/zero
}

# write_cpio OUT: the tree as a newc cpio (gzip if OUT ends in .gz), then
# /dev/console, then a trailer.
write_cpio() {
	local out=$1 tmp
	tmp=$out.tmp.$$
	{
		(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
			cpio -o -H newc -R 0:0 --reproducible --quiet)
		cpio_entry dev/console $((8#020600)) 5 1
		cpio_entry TRAILER!!! 0 0 0
	} | if [[ $out == *.gz ]]; then gzip -n -1; else cat; fi >"$tmp"
	mv "$tmp" "$out"
}

main() {
	local cmd_timeout=600 arch out exe bench='' bench_flags=$VM_BENCH_FLAGS bench_timeout=300
	local exec_suite='' mode bench_app='' bench_env=''
	local -a exes=() commands=() all=()
	STRIP=1
	while (($#)); do
		case $1 in
		--cmd-timeout | --bench-timeout)
			[[ ${2:-} =~ ^[0-9]+$ ]] || die -s 2 "$1 needs seconds"
			if [[ $1 == --cmd-timeout ]]; then cmd_timeout=$2; else bench_timeout=$2; fi
			shift
			;;
		--bench | --bench-flags)
			(($# >= 2)) || die -s 2 "$1 needs a value"
			if [[ $1 == --bench ]]; then bench=$2; else bench_flags=$2; fi
			shift
			;;
		--exec-suite)
			[[ -d ${2:-} ]] || die -s 2 "$1 needs the directory of exec_suite.py --export"
			exec_suite=$2
			shift
			;;
		--bench-app)
			[[ -x ${2:-}/ptbench-exec && -x ${2:-}/hashfiles ]] ||
				die -s 2 "$1 needs a folder with ptbench-exec and hashfiles (the bench build's sentry/)"
			bench_app=$2
			shift
			;;
		--no-strip) STRIP=0 ;;
		-h | --help) usage; exit 0 ;;
		-*) die -s 2 "unknown option '$1' (try: --help)" ;;
		*) break ;;
		esac
		shift
	done
	(($# >= 3)) || die -s 2 "usage: initramfs.sh [OPTIONS] ARCH OUT EXE... [-- COMMAND...]"
	arch=$1 out=$2
	shift 2
	while (($#)) && [[ $1 != -- ]]; do
		exes+=("$1")
		shift
	done
	if (($#)); then
		shift
		commands=("$@")
	fi
	((${#exes[@]})) || die -s 2 "no executable given"
	vm_arch_setup "$arch"
	command -v cpio >/dev/null || die "cpio is not installed (run: bash scripts/vm/fetch.sh $VM_ARCH)"
	[[ -x $VM_SYSROOT/bin/busybox ]] ||
		die "no busybox for $VM_ARCH in $VM_SYSROOT (run: bash scripts/vm/fetch.sh $VM_ARCH)"
	READELF=$(tool readelf)
	STRIP_TOOL=$(tool strip)
	mapfile -t LIB_DIRS < <(vm_lib_dirs)
	if ! ((${#commands[@]})); then
		mapfile -t commands < <(default_commands "${exes[@]}")
		# The guest is thrown away: the last run may raise Yama's ptrace
		# scope to 3 (rel-faults' last case), which stays until power-off;
		# nothing runs after it (init.sh runs the benchmarks first).
		if [[ ${commands[-1]} == "rel-faults lean" ]]; then
			commands[-1]="env PTBENCH_YAMA_RAISE=1 rel-faults lean"
		fi
		# After the conformance groups (they run as they did without it),
		# before rel-faults, which may raise Yama's scope and so deny the
		# sentry its ptrace. Each mode runs its share of the busybox cases
		# (a case costs seconds under TCG): every case runs once on the
		# arch, and each mode runs half of them.
		if [[ -n $exec_suite ]]; then
			# With systrap a third share: the time stays, and each
			# backend and mode runs a third of the cases.
			local -a with=()
			local share=0 cmd placed=0
			for cmd in "${commands[@]}" ''; do
				if ((!placed)) && [[ -z $cmd || $cmd == *rel-faults* ]]; then
					for mode in "${EXEC_RUNS[@]}"; do
						with+=("ptbench-exec-suite $mode --share $share/${#EXEC_RUNS[@]}")
						share=$((share + 1))
					done
					placed=1
				fi
				[[ -n $cmd ]] && with+=("$cmd")
			done
			commands=("${with[@]}")
		fi
	fi

	ROOT=$(mktemp -d "${TMPDIR:-/tmp}/ptbench-initramfs.XXXXXX")
	trap 'rm -rf "$ROOT"' EXIT
	mkdir -p "$ROOT"/{bin,sbin,dev,proc,sys,tmp,lib,etc/ptbench,opt/ptbench/bin}
	cp "$VM_SYSROOT/bin/busybox" "$ROOT/bin/busybox"
	ln -s busybox "$ROOT/bin/sh"
	install -m 0755 "$VM_DIR/init.sh" "$ROOT/init"
	all=("${exes[@]}")
	[[ -n $bench ]] && all+=("$bench")
	for exe in "${all[@]}"; do
		[[ -f $exe ]] || die "no such executable: $exe"
		check_elf "$exe"
		copy_file "$exe" "/opt/ptbench/bin/${exe##*/}"
		chmod 0755 "$ROOT/opt/ptbench/bin/${exe##*/}"
	done
	if [[ -n $exec_suite ]]; then
		add_exec_suite "$exec_suite"
		all+=("$exec_suite/ptbench-exec" "$exec_suite/exec-cases")
	fi
	if [[ -n $bench && -n $bench_app ]]; then
		mkdir -p "$ROOT/opt/ptbench/app"
		for exe in ptbench-exec hashfiles; do
			check_elf "$bench_app/$exe"
			copy_file "$bench_app/$exe" "/opt/ptbench/app/$exe"
			chmod 0755 "$ROOT/opt/ptbench/app/$exe"
		done
		all+=("$bench_app/ptbench-exec")
		bench_env="env PTBENCH_SENTRY=/opt/ptbench/app/ptbench-exec"
		bench_env+=" PTBENCH_APP_THREADS_PROG=/opt/ptbench/app/hashfiles"
		bench_env+=" PTBENCH_BUSYBOX=/bin/busybox PTBENCH_APP_DIR=/tmp/ptbench-app "
		bench_flags+=" --ptbench_app_size=guest"
	fi
	add_libraries "${all[@]}"
	printf '%s\n' "${commands[@]}" >"$ROOT/etc/ptbench/commands"
	printf 'CMD_TIMEOUT=%s\n' "$cmd_timeout" >"$ROOT/etc/ptbench/config"
	if [[ -n $bench ]]; then
		printf '%s%s %s --benchmark_out=%s\n' "$bench_env" "${bench##*/}" "$bench_flags" "$BENCH_OUT" \
			>"$ROOT/etc/ptbench/bench"
		printf 'BENCH_TIMEOUT=%s\nBENCH_OUT=%s\n' "$bench_timeout" "$BENCH_OUT" \
			>>"$ROOT/etc/ptbench/config"
	fi
	mkdir -p "$(dirname "$out")"
	write_cpio "$out"
	info "$out: ${#all[@]} executable(s), $LIB_COUNT librar(y/ies), ${#commands[@]} command(s)${bench:+ + benchmark ${bench##*/}}, $(du -h "$out" | cut -f1)"
}

main "$@"
