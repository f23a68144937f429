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

# Debian packages the project needs to build, test and report.
# shellcheck disable=SC2034 # used by scripts/ptbench
PTBENCH_PACKAGES=(
	meson ninja-build gcc g++ pkg-config
	libcmocka-dev libseccomp-dev libbenchmark-dev libjansson-dev
	gnuplot-nox python3
	abigail-tools
	clang libclang-rt-14-dev
)

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
# package must be in apt's lists (when the lists know ARCH's kernels at all;
# else fetch.sh updates them). A typo fails before minutes of building.
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
	known=$(apt-cache show --no-all-versions "$spec:$debarch" "linux-image-cloud-$debarch:$debarch" \
		2>/dev/null | sed -n 's/^Package: //p') || true
	grep -qxF -e "$spec" <<<"$known" && return 0
	grep -qxF -e "linux-image-cloud-$debarch" <<<"$known" || return 0
	die -s 2 "unknown kernel '$spec': apt knows no package $spec:$debarch (try: apt-cache search linux-image | grep $debarch)"
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
