#!/bin/sh
# shellcheck shell=dash
# exec-guest.sh MODE [--share I/K]: the 'exec' suite
# (sentry/tests/exec_suite.py) inside the VM guest, which has no python:
# busybox sh and applets only. As TAP, with exec_suite.py's names.
#   MODE         faithful or lean (the ptrace backend), or systrap (that
#                backend, faithful). Where systrap cannot run (not built
#                for the arch, no FSGSBASE in the guest's CPU) a first
#                TAP skip says why and the share runs on ptrace faithful,
#                so every case still runs once on the arch.
#   --share I/K  run only the busybox cases whose index (from 0) is I
#                modulo K; the others are TAP skips naming the share. Under
#                TCG a case costs seconds: suite.sh splits the cases
#                between the three runs (0/3 faithful, 1/3 lean, 2/3
#                systrap), so each runs once on the arch. The negative
#                programs (but in a systrap run fallen back to ptrace:
#                the faithful run ran them) and the leftover check always
#                run.
#
# The initramfs (initramfs.sh --exec-suite) carries, under /opt/ptbench/exec:
#   cases, skips, stdin/, fixtures/  written by exec_suite.py --export
#   progs/                           the sentry's static test programs
# and ptbench-exec and exec-cases on PATH. exec-cases runs each case twice
# in the same fresh copy of the fixtures: natively with the guest's own
# /bin/busybox, then through ptbench-exec --mode MODE (MODE systrap:
# --backend systrap --mode faithful). stdout, stderr, the
# exit status and the folder afterwards (names, types, modes, link targets,
# contents) must agree byte for byte, as in exec_suite.py. The negative
# programs check their
# documented result as exec_suite.py's check_* do; the last test checks
# that no ptbench-exec process is left.

# The guest's paths; the variables let the script be tried on the host.
DATA=${PTBENCH_EXEC_DATA:-/opt/ptbench/exec}
SENTRY=${PTBENCH_EXEC_SENTRY:-/opt/ptbench/bin/ptbench-exec}
BUSYBOX=${PTBENCH_EXEC_BUSYBOX:-/bin/busybox}
WORK=${PTBENCH_EXEC_WORK:-/tmp/ptbench-exec-guest}
N=0
FAILED=0
SHARE_I=0
SHARE_K=1
SINCE=0
FELL_BACK=0

# uptime_ms: milliseconds since boot (/proc/uptime: centiseconds; no fork).
uptime_ms() {
	read -r up _ </proc/uptime
	s=${up%.*} cs=${up#*.}
	echo $((s * 1000 + ${cs#0} * 10))
}

# duration: each case's time, as exec_suite.py prints it (the JUnit
# report reads it): the time since the last result.
duration() {
	now=$(uptime_ms)
	echo "# duration_ms: $((now - SINCE))"
	SINCE=$now
}

# tap_ok GOOD NAME [WHY-FILE]: one TAP result; WHY-FILE's lines as comments.
tap_ok() {
	N=$((N + 1))
	if [ "$1" -eq 1 ]; then
		echo "ok $N - $2"
	else
		FAILED=$((FAILED + 1))
		echo "not ok $N - $2"
	fi
	duration
	[ "$1" -eq 1 ] || { [ -n "${3:-}" ] && [ -s "$3" ] && sed 's/^/  # /' "$3"; }
}

tap_skip() {
	N=$((N + 1))
	echo "ok $N - $1 # SKIP $2"
	duration
}

# busybox_cases: exec-cases (sentry/tests/exec_cases.c) runs the busybox
# cases of this share: the copying and comparing in one process, as a shell
# loop here they cost twice the runs themselves under TCG.
busybox_cases() {
	exec-cases --data "$DATA" --sentry "$SENTRY" --backend "$BACKEND" --mode "$MODE" \
		--busybox "$BUSYBOX" --work "$WORK" --share "$SHARE_I/$SHARE_K"
	rc=$?
	[ "$rc" -le 1 ] || {
		echo "Bail out! exec-cases failed (exit $rc)"
		exit 1
	}
	[ "$rc" -eq 0 ] || FAILED=$((FAILED + 1))
	N=$(grep -c . "$DATA/cases")
	SINCE=$(uptime_ms)
}

# prog NAME [SENTRY-OPTION...]: run progs/NAME natively and through the
# sentry (with --stats and the options) in $WORK; leaves native.*, sentry.*
# and log. 1 if not built.
prog() {
	exe=$DATA/progs/$1
	shift
	[ -x "$exe" ] || return 1
	(cd "$WORK" && exec "$exe" </dev/null >"$WORK/native.out" 2>"$WORK/native.err")
	echo $? >"$WORK/native.rc"
	(cd "$WORK" && exec "$SENTRY" --backend "$BACKEND" --mode "$MODE" --log "$WORK/log" --stats "$@" "$exe" \
		</dev/null >"$WORK/sentry.out" 2>"$WORK/sentry.err")
	echo $? >"$WORK/sentry.rc"
	return 0
}

# prog_why: what the two runs of a program did, for a failure.
prog_why() {
	why=$WORK/why
	{
		echo "native: exit $(cat "$WORK/native.rc"), stdout $(cat "$WORK/native.out")"
		echo "sentry: exit $(cat "$WORK/sentry.rc"), stdout $(cat "$WORK/sentry.out")"
		echo "sentry log:"
		tail -c 300 "$WORK/log"
	} >"$why" 2>&1
	echo "$why"
}

# out_is SIDE TEXT: SIDE.out is exactly TEXT and a newline.
out_is() {
	printf '%s\n' "$2" | cmp -s - "$WORK/$1.out"
}

rc_is() {
	[ "$(cat "$WORK/$1.rc")" = "$2" ]
}

log_has() {
	grep -q -e "$1" "$WORK/log"
}

# negative_cases: exec_suite.py's PROGS, the same checks (a shell's exit
# status of a process killed by signal S is 128 + S).
negative_cases() {
	good=0
	if prog segv; then
		rc_is native 139 && rc_is sentry 139 && log_has SIGSEGV &&
			cmp -s "$WORK/native.out" "$WORK/sentry.out" && good=1
		tap_ok "$good" negative/segv "$(prog_why)"
	else
		tap_skip negative/segv "test program not built"
	fi
	good=0
	if prog enosys; then
		out_is native "prctl: ok" && out_is sentry "prctl: ENOSYS" && rc_is sentry 0 &&
			log_has "prctl (" && ! grep -q prctl "$WORK/sentry.err" && good=1
		tap_ok "$good" negative/enosys "$(prog_why)"
	else
		tap_skip negative/enosys "test program not built"
	fi
	good=0
	if ! prog int80; then
		tap_skip negative/int80 "no int 0x80 test on $(uname -m) (x86 IA32 calls only)"
	elif rc_is native 139; then
		tap_skip negative/int80 "int 0x80 faults natively (no IA32 emulation in this kernel)"
	else
		out_is native "int80: native" && out_is sentry "int80: ENOSYS" && rc_is sentry 0 &&
			log_has "ia32 syscall" && good=1
		tap_ok "$good" negative/int80 "$(prog_why)"
	fi
	good=0
	if prog closefds; then
		rc_is native 42 && rc_is sentry 42 && log_has "ptbench-exec stats" &&
			log_has "dup[23] " && good=1
		tap_ok "$good" negative/closefds "$(prog_why)"
	else
		tap_skip negative/closefds "test program not built"
	fi
	good=0
	if prog threads; then
		out_is native "threads: 4 40000" && same_as_native && good=1
		tap_ok "$good" negative/threads "$(prog_why)"
	else
		tap_skip negative/threads "test program not built"
	fi
	# The programs that catch signals (signal frames, SA_RESTART,
	# sigaltstack, process groups): the native run's output, stderr and
	# exit status (3 for signals).
	for p in signals:3 clonestate:0 restart:0 altstack:0 pgroups:0 lostkick:0; do
		good=0
		# exec_suite.py's PROG_SENTRY_ARGS.
		opts=
		[ "${p%:*}" = lostkick ] && opts="--test-delay-blocking 300"
		# shellcheck disable=SC2086 # opts is a word list
		if prog "${p%:*}" $opts; then
			rc_is native "${p#*:}" && same_as_native && good=1
			tap_ok "$good" "negative/${p%:*}" "$(prog_why)"
		else
			tap_skip "negative/${p%:*}" "test program not built"
		fi
	done
}

# backend_fallback: where the systrap backend cannot run here (ptp_open's
# ENOSYS), one TAP skip with the sentry's reason, and the share goes on
# with ptrace faithful. Any other failure stays a failure: the cases run
# on systrap and fail.
backend_fallback() {
	"$SENTRY" --backend systrap "$BUSYBOX" true >/dev/null 2>"$WORK/probe.err" && return 0
	why=$(tail -n 1 "$WORK/probe.err")
	case $why in
	*"Function not implemented"*)
		tap_skip "backend/systrap" "$why; this share runs on ptrace faithful"
		BACKEND=ptrace
		FELL_BACK=1
		;;
	esac
}

# same_as_native: the sentry's run of the last prog printed and exited as
# the native one.
same_as_native() {
	cmp -s "$WORK/native.out" "$WORK/sentry.out" && cmp -s "$WORK/native.err" "$WORK/sentry.err" &&
		rc_is native "$(cat "$WORK/sentry.rc")"
}

# leftovers: pids whose executable is the sentry.
leftovers() {
	for exe in /proc/[0-9]*/exe; do
		[ "$(readlink "$exe" 2>/dev/null)" = "$SENTRY" ] && echo "${exe%/exe}"
	done
}

main() {
	MODE=${1:-}
	BACKEND=ptrace
	case $MODE in
	faithful | lean) ;;
	systrap) BACKEND=systrap MODE=faithful ;;
	*)
		echo "usage: exec-guest.sh faithful|lean|systrap [--share I/K]" >&2
		exit 2
		;;
	esac
	if [ $# -gt 1 ]; then
		share=${3:-}
		SHARE_I=${share%/*} SHARE_K=${share#*/}
		case $2/$SHARE_I/$SHARE_K in
		--share/*[!0-9]*/* | --share/*/*[!0-9]* | --share//* | --share/*/) share= ;;
		--share/*) [ "$SHARE_I" -lt "$SHARE_K" ] || share= ;;
		*) share= ;;
		esac
		if [ -z "$share" ] || [ $# -ne 3 ]; then
			echo "exec-guest.sh: bad arguments after the mode (want: --share I/K, 0 <= I < K)" >&2
			exit 2
		fi
	fi
	SINCE=$(uptime_ms)
	for f in "$DATA/cases" "$DATA/skips" "$DATA/fixtures" "$SENTRY" "$BUSYBOX"; do
		[ -e "$f" ] || {
			echo "exec-guest.sh: $f is missing (initramfs.sh --exec-suite)" >&2
			exit 2
		}
	done
	ulimit -c 0
	rm -rf "$WORK"
	mkdir -p "$WORK"
	before=$(leftovers)
	if [ "$BACKEND" = systrap ]; then
		backend_fallback
	fi
	busybox_cases
	tab=$(printf '\t')
	while IFS="$tab" read -r name why; do
		tap_skip "$name" "$why"
	done <"$DATA/skips"
	if [ "$FELL_BACK" -eq 1 ]; then
		tap_skip "negative/*" "the systrap backend cannot run here; the faithful run ran them"
	else
		negative_cases
	fi
	left=$(leftovers)
	good=0
	[ "$left" = "$before" ] && good=1
	echo "left: $left" >"$WORK/why"
	tap_ok "$good" "no process of ptbench-exec left behind" "$WORK/why"
	echo "1..$N"
	rm -rf "$WORK"
	[ "$FAILED" -eq 0 ]
}

main "$@"
