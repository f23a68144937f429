#!/usr/bin/env bash
# trace.sh --arch ARCH --kernel SPEC --bench EXE --filter REGEX [--out DIR]
#          [--events LIST] [--min-time S] [run.sh OPTIONS...]
#
# Where does a benchmark wait? Boots SPEC (as run.sh --kernel takes it) with
# an initramfs that holds only EXE (ptbench-bench), turns on ftrace events in
# the guest, runs the benchmarks that REGEX selects (--ptbench_idle=1: the
# idle and timer-tick counters per iteration), and writes into DIR (default
# .cache/vm/trace/ARCH-STAMP):
#   console.log    the serial console (run.sh's log; the benchmark table,
#                  with its counters, is in it)
#   trace.txt      the guest's ftrace buffer (between the TRACE markers)
# --events         tracefs event names, comma separated (default: the
#                  scheduler's switch, waking and wakeup, hrtimer start and
#                  expiry, and the local timer interrupt of x86; a name the
#                  kernel lacks is skipped in the guest); every switch out
#                  in an uninterruptible sleep also records its kernel stack
# --min-time       --benchmark_min_time of the run (default 0.02: a few
#                  iterations, a trace that stays readable)
# Other options (--accel, --append, --qemu-opt, --cpu, --mem, --timeout) go
# to run.sh. Exit: run.sh's status (the trace is written when the guest
# printed one); 2 on bad usage.
set -euo pipefail

PTBENCH_PROG=vm-trace
# shellcheck source=scripts/vm/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"

DEFAULT_EVENTS=sched/sched_switch,sched/sched_waking,sched/sched_wakeup,timer/hrtimer_start,timer/hrtimer_expire_entry,irq_vectors/local_timer_entry

# guest_command EVENTS EXE FILTER MIN_TIME: the one shell line the guest
# runs (tracefs set up, the benchmark, the buffer between markers).
guest_command() {
	local events=$1 exe=$2 filter=$3 min=$4 e line
	line='T=/sys/kernel/tracing; mount -t tracefs nodev $T 2>/dev/null; echo 16384 >$T/buffer_size_kb'
	for e in ${events//,/ }; do
		line+="; [ -e \$T/events/$e/enable ] && echo 1 >\$T/events/$e/enable"
	done
	# prev_state bit 2 is TASK_UNINTERRUPTIBLE: the sleeps that are no
	# signal or pipe wait.
	line+="; echo 'stacktrace if prev_state & 2' >\$T/events/sched/sched_switch/trigger"
	line+="; echo 1 >\$T/tracing_on; $exe --ptbench_idle=1 --benchmark_min_time=$min"
	line+=" --benchmark_filter='$filter'; rc=\$?; echo 0 >\$T/tracing_on"
	line+="; echo PTBENCH-TRACE-BEGIN; cat \$T/trace; echo PTBENCH-TRACE-END; exit \$rc"
	printf '%s' "$line"
}

main() {
	local arch='' kernel='' bench='' filter='' out='' events=$DEFAULT_EVENTS min=0.02 rc=0
	local -a run_opts=()
	while (($#)); do
		case $1 in
		--arch | --kernel | --bench | --filter | --out | --events | --min-time | --accel | \
			--append | --qemu-opt | --cpu | --mem | --timeout)
			(($# >= 2)) || die -s 2 "$1 needs a value"
			case $1 in
			--arch) arch=$2 ;;
			--kernel) kernel=$2 ;;
			--bench) bench=$2 ;;
			--filter) filter=$2 ;;
			--out) out=$2 ;;
			--events) events=$2 ;;
			--min-time) min=$2 ;;
			*) run_opts+=("$1" "$2") ;;
			esac
			shift
			;;
		-h | --help) usage; exit 0 ;;
		*) die -s 2 "unknown argument '$1' (try: --help)" ;;
		esac
		shift
	done
	[[ -n $arch && -n $kernel && -n $bench && -n $filter ]] ||
		die -s 2 "usage: trace.sh --arch ARCH --kernel SPEC --bench EXE --filter REGEX (try: --help)"
	[[ -x $bench ]] || die -s 2 "--bench $bench is not an executable"
	[[ $filter != *"'"* ]] || die -s 2 "--filter wants a regular expression without single quotes"
	[[ $events =~ ^[a-z0-9_/,]+$ ]] || die -s 2 "--events wants tracefs names like sched/sched_switch, comma separated"
	[[ $min =~ ^[0-9]*\.?[0-9]+$ ]] || die -s 2 "--min-time wants seconds"
	vm_arch_setup "$arch"
	out=${out:-$VM_CACHE/vm/trace/$VM_ARCH-$(date -u +%Y%m%d-%H%M%S)}
	mkdir -p "$out"
	bash "$VM_DIR/initramfs.sh" --cmd-timeout 0 "$VM_ARCH" "$out/initrd.cpio.gz" "$bench" -- \
		"$(guest_command "$events" "${bench##*/}" "$filter" "$min")"
	bash "$VM_DIR/run.sh" --arch "$VM_ARCH" --kernel "$kernel" --log "$out/console.log" \
		"${run_opts[@]}" "$out/initrd.cpio.gz" || rc=$?
	sed -n '/^PTBENCH-TRACE-BEGIN$/,/^PTBENCH-TRACE-END$/{/^PTBENCH-TRACE-/d;p}' \
		"$out/console.log" >"$out/trace.txt"
	rm -f "$out/initrd.cpio.gz"
	# Google Benchmark exits 0 when the filter matches nothing.
	if grep -q '^Failed to match any benchmarks' "$out/console.log"; then
		warn "--filter '$filter' matches no benchmark (names end in /real_time or /manual_time); console $out/console.log"
		((rc)) || rc=1
	fi
	if [[ -s $out/trace.txt ]]; then
		info "trace: $out/trace.txt ($(wc -l <"$out/trace.txt") lines); console $out/console.log"
	else
		rm -f "$out/trace.txt"
		warn "the guest printed no trace; console $out/console.log"
		((rc)) || rc=1
	fi
	return "$rc"
}

main "$@"
