# shellcheck shell=bash
# Shared helpers for scripts/ptbench (and later scripts/vm/*).
# Source it; it defines functions and a few variables, and runs nothing.
#
# Variables set here:
#   PTBENCH_ROOT    absolute path of the repository (parent of scripts/)
#   PTBENCH_PYTHON  the python interpreter for scripts/*.py (Debian's, not a
#                   pyenv shim that may lack the stdlib modules we expect)

# Name printed in front of every message.
PTBENCH_PROG=${PTBENCH_PROG:-ptbench}

# Repository root: scripts/lib.sh lives in <root>/scripts/.
PTBENCH_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)

# shellcheck disable=SC2034 # used by the scripts that source this file
if [[ -x /usr/bin/python3 ]]; then
	PTBENCH_PYTHON=/usr/bin/python3
else
	PTBENCH_PYTHON=python3
fi

# Debian packages the project needs to build, test and report
# (python3-jsonschema: the KCIDB report's schema check; lava-common: the
# LAVA test definition's schema, in scripts/tests; strace: the app
# benchmarks' syscall counts, checked in scripts/tests/test_app_bench.py;
# libbenchmark-tools, python3-scipy, python3-numpy: Google Benchmark's
# compare.py, which the README runs on our JSON, and the modules it
# imports, checked in scripts/tests/test_setup_packages.py).
# shellcheck disable=SC2034 # used by scripts/ptbench
PTBENCH_PACKAGES=(
	meson ninja-build gcc g++ pkg-config
	libcmocka-dev libseccomp-dev libbenchmark-dev libjansson-dev
	gnuplot-nox python3
	python3-jsonschema lava-common
	abigail-tools strace
	libbenchmark-tools python3-scipy python3-numpy
)

# clang_major: the major version of the clang that is installed, or else
# of the one "apt-get install clang" would install (its clang-N
# dependency); nothing if neither is known.
clang_major() {
	local v
	if command -v clang >/dev/null; then
		v=$(clang -dumpversion 2>/dev/null) && [[ $v =~ ^([0-9]+) ]] && {
			printf '%s\n' "${BASH_REMATCH[1]}"
			return 0
		}
	fi
	v=$(apt-cache depends clang 2>/dev/null | sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n 1)
	[[ -n $v ]] && printf '%s\n' "$v"
}

# fuzz_packages: the Debian packages only "ptbench fuzz" needs (about
# 210 MB), installed on its first run: clang and the fuzzer runtime of
# that clang's version.
fuzz_packages() {
	local n
	n=$(clang_major) || n=''
	[[ -n $n ]] || die "cannot tell which clang version to install (apt-cache depends clang says nothing)"
	printf '%s\n' clang "libclang-rt-$n-dev"
}

# info MSG...: progress message on stderr.
info() {
	printf '%s: %s\n' "$PTBENCH_PROG" "$*" >&2
}

# warn MSG...: non-fatal problem on stderr.
warn() {
	printf '%s: warning: %s\n' "$PTBENCH_PROG" "$*" >&2
}

# die [-s STATUS] MSG...: one-line error on stderr, then exit STATUS (1).
die() {
	local status=1
	if [[ ${1:-} == -s ]]; then
		status=$2
		shift 2
	fi
	printf '%s: %s\n' "$PTBENCH_PROG" "$*" >&2
	exit "$status"
}

# fail MSG...: a usage or input error: one line, exit 2.
fail() {
	die -s 2 "$@"
}

# now_ms: milliseconds since the epoch.
now_ms() {
	echo $(($(date +%s%N) / 1000000))
}

# The longest a long job (fuzz, soak, kernels) stays silent, in seconds.
PTBENCH_PROGRESS_S=${PTBENCH_PROGRESS_S:-10}

# watch_progress PID DESCRIBE [ARGS...]: until PID, a child of this shell,
# ends, print on stderr every PTBENCH_PROGRESS_S seconds the line that
# "DESCRIBE ARGS... ELAPSED_S" prints (whole lines, so a pipe or a log
# reads them as well as a terminal). Then wait for PID; return its status.
watch_progress() {
	local pid=$1 t0 now next line st=0
	shift
	# A background job of a script ignores SIGINT: pass an interrupt on,
	# so that no tracer (and so no stub) outlives the script.
	# shellcheck disable=SC2064 # expand $pid now
	trap "kill_tree $pid; wait $pid 2>/dev/null; exit 130" INT TERM
	t0=$(now_ms)
	next=$((t0 + PTBENCH_PROGRESS_S * 1000))
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		now=$(now_ms)
		((now >= next)) || continue
		line=$("$@" $(((now - t0) / 1000)) 2>/dev/null) || line=''
		[[ -z $line ]] || info "$line"
		next=$((now + PTBENCH_PROGRESS_S * 1000))
	done
	wait "$pid" || st=$?
	trap - INT TERM
	return "$st"
}

# kill_tree PID: SIGTERM to PID and every descendant (listed before any
# is killed, so none escapes by being reparented).
kill_tree() {
	local child
	for child in $(pgrep -P "$1" 2>/dev/null); do
		kill_tree "$child"
	done
	kill -TERM "$1" 2>/dev/null || true
}

# duration_text S: "42s", "3m05s" or "1h02m".
duration_text() {
	local s=$1
	if ((s < 60)); then
		printf '%ds' "$s"
	elif ((s < 3600)); then
		printf '%dm%02ds' $((s / 60)) $((s % 60))
	else
		printf '%dh%02dm' $((s / 3600)) $((s % 3600 / 60))
	fi
}

# eta_text DONE TOTAL ELAPSED_S: "ETA 3m05s" at the rate so far, or "ETA
# unknown" before anything is done.
eta_text() {
	local done=$1 total=$2 elapsed=$3
	if ((done <= 0 || total <= 0)); then
		printf 'ETA unknown'
	elif ((done >= total)); then
		printf 'ETA 0s'
	else
		printf 'ETA %s' "$(duration_text $(((total - done) * elapsed / done)))"
	fi
}

# usage: print the calling script's help, its header comment from line 2
# up to its "set -euo" line, without the comment marks. (scripts/ptbench
# defines its own.)
usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[1]}"
}

# The boot options of every kernel-matrix boot (kernels.sh; --no-boot-defaults
# drops them): what measured best for repeatable instruction counts, each
# with its committed A/B in results/kernels/determinism/ (README.md there).
# The kernel arguments and the qemu options (each split at blanks).
PTBENCH_VM_BOOT_APPEND='nokaslr norandmaps cryptomgr.notests'
PTBENCH_VM_BOOT_QEMU_OPTS=('-seed 1' '-rtc base=2026-01-01T00:00:00,clock=vm')

# The release build's options, written once, as a meson native file.
PTBENCH_RELEASE_INI=$PTBENCH_ROOT/scripts/meson/release.ini

# release_opts: set the array RELEASE_OPTS (the caller's) to the options
# of PTBENCH_RELEASE_INI as -Dkey=value, the form both meson setup and
# meson configure take (configure takes no native file).
release_opts() {
	local line key value
	RELEASE_OPTS=()
	while IFS= read -r line; do
		[[ $line =~ ^[[:space:]]*([a-z_]+)[[:space:]]*=[[:space:]]*(.*[^[:space:]])[[:space:]]*$ ]] || continue
		key=${BASH_REMATCH[1]}
		value=${BASH_REMATCH[2]}
		value=${value#\'}
		value=${value%\'}
		RELEASE_OPTS+=("-D$key=$value")
	done <"$PTBENCH_RELEASE_INI"
	((${#RELEASE_OPTS[@]})) || die "no options in $PTBENCH_RELEASE_INI"
}

# usage_error MSG...: bad command line; exit 2 with a pointer to help.
usage_error() {
	die -s 2 "$* (try: $PTBENCH_PROG help)"
}

# check_dir_creatable DIR: usage error (exit 2) unless DIR is a directory
# or could be made one: its nearest existing ancestor must be a writable
# directory. Lets a bad --out fail before minutes of building.
check_dir_creatable() {
	local dir=$1 up=$1
	while [[ ! -e $up && $up == */* ]]; do
		up=${up%/*}
		up=${up:-/}
	done
	[[ -e $up ]] || up=.
	[[ -d $up ]] || die -s 2 "cannot create $dir: $up is not a directory"
	[[ -w $up ]] || die -s 2 "cannot create $dir: $up is not writable"
}

# check_json FILE: exit 2 with one line unless FILE holds valid JSON, so
# a bad input file fails before minutes of building and benchmarking.
check_json() {
	local err
	err=$("$PTBENCH_PYTHON" - "$1" 2>&1 <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        json.load(f)
except (OSError, ValueError) as e:
    sys.exit(getattr(e, "strerror", None) or str(e))
PY
	) || die -s 2 "$1: not valid JSON: ${err:-empty}"
}

# check_kernel ARCH SPEC: exit 2 unless SPEC, a guest kernel for
# scripts/vm/fetch.sh, can exist: an image path must be a file, a Debian
# package must be in the kernel archive's lists (kapt_setup; when they know
# ARCH's kernels at all). A typo fails before minutes of building.
check_kernel() {
	local spec=$2 debarch
	if [[ $spec == */* || -f $spec ]]; then
		[[ -f $spec ]] || die -s 2 "no kernel image $spec"
		return 0
	fi
	case $1 in
	x86_64) debarch=amd64 ;;
	aarch64) debarch=arm64 ;;
	*) die -s 2 "unknown arch '$1' (x86_64, aarch64)" ;;
	esac
	# One apt-cache call (each costs about a second): SPEC and a kernel
	# that is always there, to tell a typo from empty lists.
	local known
	# No lists yet: fetch.sh gets them (a usage check needs no network).
	kapt_setup --no-update
	kapt_ready || return 0
	known=$(apt-cache "${KAPT_OPTS[@]}" show --no-all-versions "$spec:$debarch" "linux-image-cloud-$debarch:$debarch" \
		2>/dev/null | sed -n 's/^Package: //p') || true
	grep -qxF -e "$spec" <<<"$known" && return 0
	grep -qxF -e "linux-image-cloud-$debarch" <<<"$known" || return 0
	die -s 2 "unknown kernel '$spec': the kernel archive (scripts/vm/kernel-sources.list) has no package $spec:$debarch (try: scripts/ptbench kernels --list REGEX)"
}

# The kernel archive: apt with the suites of scripts/vm/kernel-sources.list
# (bullseye to unstable, amd64 and arm64) and its own state under
# .cache/apt, so the host's sources and lists stay as they are and need none
# of those suites. kapt_setup fills KAPT_OPTS, the options of every apt-get
# and apt-cache call on it. They keep apt's binary cache (pkgcache.bin),
# which a Docker-style apt.conf turns off: without it every call parses ten
# suites' lists again, most of a minute on a loaded host.
KAPT_DIR=$PTBENCH_ROOT/.cache/apt
KAPT_OPTS=()

# kapt_setup [--no-update]: KAPT_OPTS; the config is copied into KAPT_DIR
# when it changed, and the lists are fetched when they are missing or the
# config changed (not with --no-update: kapt_ready then tells).
kapt_setup() {
	local etc=$KAPT_DIR/etc vm=$PTBENCH_ROOT/scripts/vm
	mkdir -p "$etc/sources.list.d" "$etc/preferences.d" "$KAPT_DIR/state/lists/partial" \
		"$KAPT_DIR/cache/archives/partial"
	[[ -f $KAPT_DIR/state/status ]] || : >"$KAPT_DIR/state/status"
	KAPT_OPTS=(-o "Dir::Etc::sourcelist=$etc/sources.list" -o "Dir::Etc::sourceparts=$etc/sources.list.d"
		-o "Dir::Etc::preferences=$etc/preferences" -o "Dir::Etc::preferencesparts=$etc/preferences.d"
		-o "Dir::State=$KAPT_DIR/state" -o "Dir::State::status=$KAPT_DIR/state/status"
		-o "Dir::Cache=$KAPT_DIR/cache" -o "Dir::Cache::pkgcache=pkgcache.bin" -o "Dir::Cache::srcpkgcache=srcpkgcache.bin"
		-o "APT::Architectures::=amd64" -o "APT::Architectures::=arm64"
		-o "Acquire::Languages=none")
	if ! cmp -s "$vm/kernel-sources.list" "$etc/sources.list" || ! cmp -s "$vm/kernel-preferences" "$etc/preferences"; then
		cp "$vm/kernel-sources.list" "$etc/sources.list"
		cp "$vm/kernel-preferences" "$etc/preferences"
		rm -f "$KAPT_DIR/state/updated"
	fi
	[[ ${1:-} == --no-update ]] || kapt_ready || kapt_update
}

# kapt_ready: true when the kernel archive's lists are there.
kapt_ready() {
	[[ -e $KAPT_DIR/state/updated ]]
}

# kapt_update: apt-get update of the kernel archive (no root needed: the
# state is the cache's).
kapt_update() {
	info "apt-get update of the kernel archive (${KAPT_DIR#"$PTBENCH_ROOT"/}, scripts/vm/kernel-sources.list)"
	apt-get "${KAPT_OPTS[@]}" -q update </dev/null >&2 || die "apt-get update of the kernel archive failed"
	: >"$KAPT_DIR/state/updated"
}

# kapt_age_min: minutes since the kernel archive's lists were fetched.
kapt_age_min() {
	local t
	t=$(stat -c %Y "$KAPT_DIR/state/updated" 2>/dev/null) || t=0
	echo $((($(date +%s) - t) / 60))
}

# kapt_list ARCH REGEX: the kernel packages of ARCH (x86_64, aarch64) whose
# whole name matches the extended REGEX, one a line: package, its newest
# version, the suite of that version (tab-separated), sorted by version and
# then by name (sort -V), the newest last. Nothing when none match.
kapt_list() {
	local debarch=amd64 re=$2 name
	[[ $1 == aarch64 || $1 == arm64 ]] && debarch=arm64
	local -a names=()
	while IFS= read -r name; do
		names+=("$name:$debarch")
	done < <(apt-cache "${KAPT_OPTS[@]}" pkgnames linux-image- 2>/dev/null | grep -E "^($re)\$" | LC_ALL=C sort)
	((${#names[@]})) || return 0
	# madison: "PKG[:ARCH] | VERSION | URL SUITE/COMPONENT ARCH Packages"
	apt-cache "${KAPT_OPTS[@]}" madison "${names[@]}" 2>/dev/null |
		awk -F'|' -v a="$debarch" '{
			p = $1; gsub(/ /, "", p); sub(":" a "$", "", p)
			v = $2; gsub(/ /, "", v)
			split($3, u, " "); s = u[2]; sub(/\/.*/, "", s)
			if ($3 !~ (" " a " Packages")) next
			print p "\t" v "\t" s
		}' | sort -t$'\t' -k2,2V -k1,1V | awk -F'\t' '{ last[$1] = $0; order[$1] = NR } END { for (p in last) print order[p] "\t" last[p] }' |
		sort -n | cut -f2-
}

# make_dir DIR: mkdir -p DIR, or exit 2 with mkdir's reason on one line.
make_dir() {
	local err
	err=$(mkdir -p -- "$1" 2>&1) || die -s 2 "cannot create $1: ${err##*: }"
}

# pkg_installed PKG: true if PKG is installed for the native arch (or is
# Architecture: all). A foreign-arch copy alone (e.g. libcmocka-dev:arm64
# for the VM tests) does not count.
pkg_installed() {
	local pkg=$1 native line
	native=$(dpkg --print-architecture)
	while IFS= read -r line; do
		case $line in
		"install ok installed $native" | "install ok installed all")
			return 0
			;;
		esac
	done < <(dpkg-query -W -f='${Status} ${Architecture}\n' "$pkg" 2>/dev/null || true)
	return 1
}

# missing_packages PKG...: print the ones not installed, space-separated.
missing_packages() {
	local pkg missing=()
	for pkg in "$@"; do
		pkg_installed "$pkg" || missing+=("$pkg")
	done
	printf '%s' "${missing[*]}"
}

# apt_lists_present: true if apt has package lists (a fresh container has none).
apt_lists_present() {
	compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

# apt_install PKG...: install as root, non-interactively, with no stdin.
# Updates the package lists first only if there are none, or if the first
# attempt fails (stale lists after a security update, say).
apt_install() {
	local -a apt_cmd=(apt-get install -y --no-install-recommends "$@")
	if ! apt_lists_present; then
		info "apt-get update (no package lists yet)"
		DEBIAN_FRONTEND=noninteractive apt-get update </dev/null ||
			die "apt-get update failed"
	fi
	info "installing: $*"
	if DEBIAN_FRONTEND=noninteractive "${apt_cmd[@]}" </dev/null; then
		return 0
	fi
	info "install failed; running apt-get update and trying again"
	DEBIAN_FRONTEND=noninteractive apt-get update </dev/null ||
		die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive "${apt_cmd[@]}" </dev/null ||
		die "apt-get install failed for: $*"
}

# git_commit: short commit of the work tree, "-dirty" if it has changes,
# "unknown" outside git or before the first commit.
git_commit() {
	local c
	if ! c=$(git -C "$PTBENCH_ROOT" rev-parse --short HEAD 2>/dev/null); then
		printf 'unknown'
		return 0
	fi
	if [[ -n $(git -C "$PTBENCH_ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
		c+=-dirty
	fi
	printf '%s' "$c"
}

# results_name: "<host>-<kernel>-<UTC stamp>" for a results folder, from
# the time in $1 (seconds since the epoch); characters outside
# [A-Za-z0-9._+-] become "_".
results_name() {
	local now=$1 host kernel
	host=$(uname -n)
	kernel=$(uname -r)
	printf '%s-%s-%s' "${host//[^A-Za-z0-9._-]/_}" \
		"${kernel//[^A-Za-z0-9._+-]/_}" "$(date -u -d "@$now" +%Y%m%d-%H%M%S)"
}

# free_results_path PATH: PATH, or PATH-2, PATH-3... if it is taken: two
# runs in the same second (a script calling bench twice) each keep their
# folder.
free_results_path() {
	local path=$1 n=2
	if [[ ! -e $path ]]; then
		printf '%s' "$path"
		return
	fi
	while [[ -e $path-$n ]]; do
		((n++))
	done
	printf '%s-%d' "$path" "$n"
}

# signal_text STATUS: "status N" or "killed by SIGNAME" for a shell status.
signal_text() {
	local s=$1 name
	if ((s > 128 && s < 160)) && name=$(kill -l "$((s - 128))" 2>/dev/null); then
		printf 'killed by SIG%s' "$name"
	else
		printf 'status %d' "$s"
	fi
}

# proc_state PID: the state letter from /proc/PID/stat (R, S, D, Z, t...),
# "?" if the process is gone. The command name in the stat line may hold
# spaces and parentheses: the state follows the last ") ".
proc_state() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
		printf '?'
		return 0
	}
	stat=${stat##*) }
	printf '%s' "${stat%% *}"
}

# proc_start PID: the process start time (field 22 of /proc/PID/stat, in
# clock ticks since boot), which with the pid names one process for good.
proc_start() {
	local stat
	stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	stat=${stat##*) }
	# fields after the comm: state is field 3, starttime field 22
	local -a f
	read -r -a f <<<"$stat"
	printf '%s' "${f[19]}"
}

# build_processes DIR: one line "PID STARTTIME EXE" for every process whose
# executable (/proc/PID/exe) lies under DIR, this shell excluded. Processes
# of other users (unreadable exe) and zombies (no exe) are not seen.
build_processes() {
	local dir=${1%/}/ link pid exe start
	for link in /proc/[0-9]*/exe; do
		pid=${link#/proc/}
		pid=${pid%/exe}
		[[ $pid == "$$" || $pid == "$BASHPID" ]] && continue
		exe=$(readlink "$link" 2>/dev/null) || continue
		[[ $exe == "$dir"* ]] || continue
		start=$(proc_start "$pid") || continue
		printf '%s %s %s\n' "$pid" "$start" "$exe"
	done
}
