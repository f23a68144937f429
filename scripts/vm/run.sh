#!/usr/bin/env bash
# run.sh --arch ARCH [--kernel PACKAGE|PATH] [--accel tcg|icount|kvm]
#        [--timeout S] [--log FILE] [--mem MB] [--cpu MODEL] [--smp N]
#        [--append ARGS] [--qemu-opt OPT]... [--dry-run] INITRAMFS
#
# Boots INITRAMFS (from initramfs.sh) in qemu-system-ARCH on a Debian
# kernel, streams the serial console to stdout (without the \r and without
# a benchmark's JSON) and to the log, and exits with the verdict of the
# suite inside.
#   --arch      aarch64 (default) or x86_64
#   --kernel    a kernel package of ARCH, meta (linux-image-cloud-arm64, the
#               default) or exact (linux-image-6.1.0-56-cloud-arm64), fetched
#               through fetch.sh; or the path of a vmlinuz
#   --accel     tcg (default); icount: single-threaded TCG with
#               -icount shift=0,sleep=off (guest time = instruction count,
#               reproducible; slower); kvm: -enable-kvm -cpu host (same
#               arch as the host only; can hang here: the timeout holds)
#   --timeout   seconds from qemu's start to its end (default 300); then
#               qemu is killed
#   --log       the console log (default .cache/vm/logs/ARCH-STAMP.log);
#               beside it LOG.runs.tsv (one line per command: index,
#               verdict, exit, ok, not_ok, skipped, planned, ms, command;
#               see summarize_runs for what passes)
#               LOG.info (key=value: qemu, kernel, CPU features,
#               timings, verdict) and LOG.junit.xml (JUnit for CI: one
#               testsuite per command, skip reasons and times in;
#               scripts/junit.py vm)
#   --mem       guest memory in MiB (default 1024)
#   --smp       vCPUs (default 1; with 2 or more the systrap backend's
#               cross-CPU spin hand-off runs: a correctness check under TCG,
#               whose vCPUs are threads of one busy host)
#   --cpu       qemu's -cpu under tcg/icount (default: max on x86_64, which
#               qemu 7.2 presents as AMD; max,pauth-impdef=on,sve=off,sme=off
#               on aarch64), e.g. max,vendor=GenuineIntel for the Intel-only
#               paths (sysenter in 64-bit mode)
#   --append    extra kernel command line, after the fixed
#               "console=... panic=-1 quiet" (e.g. "nokaslr norandmaps";
#               sysctl.kernel.randomize_va_space=0 sets a sysctl before
#               /init); repeatable, joined with spaces
#   --qemu-opt  extra qemu arguments, split at blanks into words, after
#               the accelerator's (e.g. "-seed 1" or "-rtc
#               base=2026-01-01T00:00:00,clock=vm"); repeatable, in order
#   --dry-run   print the qemu command, one word a line, and exit 0
#               without booting (what the argument handling builds)
# Both go to LOG.info as append= and qemu_opts=, and the guest's
# /proc/cmdline as guest_cmdline=.
# A benchmark run in the guest (initramfs.sh --bench: its BENCH markers
# come before the first command) is extracted to LOG.bench.json and printed as a
# short table labelled emulated, not comparable; its outcome (an error, a
# skipped benchmark, no JSON at all) is reported but never changes the exit
# status, which comes from the commands alone.
# Exit 0: every command exited 0 and its TAP has no failure; 1: a test
# failed, or the boot failed, the kernel panicked, qemu timed out or the
# end marker is missing (one line naming the kept log); 2: bad usage.
# Timings under TCG are emulation time: a correctness check, not a
# performance figure.
set -euo pipefail

PTBENCH_PROG=vm-run
# shellcheck source=scripts/vm/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"


# Kernel chosen by resolve_kernel_image.
KERNEL_IMAGE='' KERNEL_PACKAGE='' KERNEL_VERSION=''

# resolve_kernel_image SPEC: set KERNEL_* from a vmlinuz path, or from a
# package (the record fetch.sh wrote, fetching when it is missing).
resolve_kernel_image() {
	local spec=$1 record
	if [[ $spec == */* || -f $spec ]]; then
		[[ -f $spec ]] || die "no kernel image $spec"
		KERNEL_IMAGE=$(readlink -f "$spec")
		KERNEL_PACKAGE='(file)'
		KERNEL_VERSION=
		return 0
	fi
	record=$(vm_kernel_record)
	[[ $spec == "$VM_KERNEL_META" ]] || record=${record%.txt}-$spec.txt
	if [[ ! -f $record || ! -f $(vm_record_get "$record" vmlinuz) ]]; then
		bash "$VM_DIR/fetch.sh" "$VM_ARCH" --kernel "$spec" >/dev/null ||
			die "could not fetch kernel $spec for $VM_ARCH (see above)"
	fi
	KERNEL_IMAGE=$(vm_record_get "$record" vmlinuz)
	KERNEL_PACKAGE=$(vm_record_get "$record" package)
	KERNEL_VERSION=$(vm_record_get "$record" version)
	[[ -f $KERNEL_IMAGE ]] || die "kernel $spec: no image after fetch.sh ($record)"
}

# Extra kernel command line (--append) and qemu words (--qemu-opt).
APPEND='' QEMU_OPTS=()

# qemu_command ACCEL MEM INITRAMFS SMP [CPU]: fill QEMU_CMD (with APPEND and
# QEMU_OPTS).
qemu_command() {
	local accel=$1 mem=$2 initrd=$3 smp=$4 cpu machine
	case $VM_ARCH in
	aarch64)
		machine=virt
		# pauth-impdef: QARMA pointer auth is slow to emulate; no SVE/SME:
		# NT_PRFPREG then covers the whole FP/SIMD state.
		cpu=max,pauth-impdef=on,sve=off,sme=off
		;;
	x86_64)
		machine=q35
		cpu=max
		;;
	esac
	cpu=${5:-$cpu}
	QEMU_CMD=("$VM_QEMU" -machine "$machine" -m "$mem" -smp "$smp"
		-nographic -no-reboot -nic none
		-kernel "$KERNEL_IMAGE" -initrd "$initrd"
		-append "console=$VM_CONSOLE panic=-1 quiet${APPEND:+ $APPEND}")
	case $accel in
	tcg) QEMU_CMD+=(-accel tcg -cpu "$cpu") ;;
	icount) QEMU_CMD+=(-accel "tcg,thread=single" -icount "shift=0,sleep=off" -cpu "$cpu") ;;
	kvm)
		[[ $VM_ARCH == "$(uname -m)" ]] ||
			die "--accel kvm needs a $VM_ARCH host (this one is $(uname -m))"
		[[ -w /dev/kvm ]] || die "--accel kvm: /dev/kvm is missing or not writable"
		QEMU_CMD+=(-enable-kvm -cpu host)
		;;
	*) die -s 2 "unknown --accel '$accel' (tcg, icount, kvm)" ;;
	esac
	QEMU_CMD+=("${QEMU_OPTS[@]}")
}

# add_qemu_opt OPT: append the words of OPT (split at blanks) to QEMU_OPTS;
# the first must be an option (exit 2 if not: a value without its option
# would shift every later word).
add_qemu_opt() {
	local -a words
	read -r -a words <<<"$1"
	((${#words[@]})) || die -s 2 "--qemu-opt needs a qemu option, e.g. '-seed 1'"
	[[ ${words[0]} == -* ]] || die -s 2 "--qemu-opt '$1' must start with a qemu option (-...)"
	QEMU_OPTS+=("${words[@]}")
}

# boot LOG TIMEOUT: run QEMU_CMD under timeout, console to stdout and LOG;
# set QEMU_STATUS (124: timed out) and BOOT_MS.
boot() {
	local log=$1 timeout=$2 t0 t1
	t0=$(date +%s%N)
	set +e
	# Unbuffered: the console streams. Out go the \r of the serial line and
	# the terminal escapes of the firmware (SeaBIOS clears the screen). A
	# benchmark JSON (between the BENCH JSON markers) goes to the log only.
	timeout --kill-after=5 "$timeout" "${QEMU_CMD[@]}" </dev/null 2>&1 |
		sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' |
		tee "$log" |
		sed -u '/^PTBENCH-VM: BENCH JSON-BEGIN /,/^PTBENCH-VM: BENCH JSON-END$/{/^PTBENCH-VM: /!d}'
	QEMU_STATUS=${PIPESTATUS[0]}
	set -e
	# The console's last line (the kernel's "reboot: Power down") has no \n.
	[[ -z $(tail -c 1 "$log") ]] || echo
	t1=$(date +%s%N)
	BOOT_MS=$(((t1 - t0) / 1000000))
}

# summarize_runs LOG: one TSV line per command from the console log:
# index verdict exit ok not_ok skipped planned ms command (planned -1: no
# plan; ok counts every case that is not a failure, skips and todos too).
# A run passes when it exited 0 and, if it printed any TAP, that TAP has a
# plan, as many test lines as planned, no "not ok" (but for "# SKIP" and
# "# TODO" ones) and no "Bail out!". A run without any TAP line is judged
# by its exit status alone (ptbench-probe, say). awk cuts the log into one
# file per run; scripts/ptfmt.py reads their TAP.
summarize_runs() {
	local dir idx rc ms cmd passed failed skipped todo plan tap _file
	dir=$(mktemp -d "${TMPDIR:-/tmp}/ptbench-runs.XXXXXX") || return 1
	awk -v dir="$dir" '
	function finish(rc, ms) {
		printf "%s\t%s\t%s\t%s\n", idx, rc, ms, cmd >> (dir "/runs")
		close(file); inrun = 0
	}
	/^PTBENCH-VM: BEGIN / {
		if (inrun) finish("none", "-")
		idx = $3; cmd = $0; sub(/^PTBENCH-VM: BEGIN [^ ]+ /, "", cmd)
		n++; file = sprintf("%s/%06d.tap", dir, n); printf "" > file
		inrun = 1; next
	}
	/^PTBENCH-VM: END / && inrun {
		rc = $4; sub(/^exit=/, "", rc); ms = $5; sub(/^ms=/, "", ms)
		finish(rc, ms); next
	}
	inrun { print > file }
	END { if (inrun) finish("none", "-") }
	' "$1"
	if [[ -s $dir/runs ]]; then
		# shellcheck disable=SC2046 # one word per run file, names without spaces
		paste "$dir/runs" <("$PTBENCH_PYTHON" "$PTBENCH_ROOT/scripts/ptfmt.py" tap $(ls "$dir"/*.tap)) |
			while IFS=$'\t' read -r idx rc ms cmd passed failed skipped todo plan tap _file; do
				v=PASS
				[[ $rc == 0 && $tap != fail ]] || v=FAIL
				printf '%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n' "$idx" "$v" "$rc" \
					$((passed + skipped + todo)) "$failed" "$skipped" "$plan" "$ms" "$cmd"
			done
	fi
	rm -rf -- "$dir"
}

# guest_info LOG KEY: the value of "PTBENCH-VM: INFO KEY=..." (first one).
guest_info() {
	sed -n "s/^PTBENCH-VM: INFO $2=//p" "$1" | head -n 1
}

# failure_reason LOG: why the log has no verdict (empty if it has one).
failure_reason() {
	local log=$1 timeout=$2
	if grep -q '^PTBENCH-VM: RESULT ' "$log"; then
		return 0
	fi
	if grep -q 'Kernel panic' "$log"; then
		printf 'kernel panic: %s' "$(grep -m1 'Kernel panic' "$log")"
	elif ((QEMU_STATUS == 124 || QEMU_STATUS == 137)); then
		if grep -q '^PTBENCH-VM: ' "$log"; then
			printf 'timed out after %ss (the last command did not finish: %s)' "$timeout" \
				"$(grep '^PTBENCH-VM: BEGIN ' "$log" | tail -n 1 | cut -d' ' -f4-)"
		else
			printf 'timed out after %ss before /init spoke (boot hung?)' "$timeout"
		fi
	elif ! grep -q '^PTBENCH-VM: ' "$log"; then
		printf 'the guest never reached /init (qemu %s)' "$(signal_text "$QEMU_STATUS")"
	else
		printf 'no end marker: the guest stopped early (qemu %s)' "$(signal_text "$QEMU_STATUS")"
	fi
}

# bench_report LOG ACCEL: if the guest ran a benchmark command, write its
# JSON to LOG.bench.json (removed when there is none), print the table and
# append bench_* keys to LOG.info. Never fails.
bench_report() {
	local log=$1 accel=$2 json=$1.bench.json end exit_rc ms label
	rm -f "$json"
	grep -q '^PTBENCH-VM: BENCH BEGIN ' "$log" || return 0
	end=$(grep '^PTBENCH-VM: BENCH END ' "$log" | tail -n 1)
	exit_rc=$(sed -n 's/.* exit=\([^ ]*\).*/\1/p' <<<"$end")
	ms=$(sed -n 's/.* ms=\([^ ]*\).*/\1/p' <<<"$end")
	sed -n '/^PTBENCH-VM: BENCH JSON-BEGIN /,/^PTBENCH-VM: BENCH JSON-END$/{/^PTBENCH-VM: /d;p}' \
		"$log" >"$json"
	[[ -s $json ]] || rm -f "$json"
	case $accel in
	kvm) label='virtualized (KVM), not comparable' ;;
	icount) label='emulated (TCG, icount), not comparable' ;;
	*) label='emulated (TCG), not comparable' ;;
	esac
	{
		printf 'bench_exit=%s\nbench_ms=%s\n' "${exit_rc:-none}" "${ms:--}"
		printf 'bench_json=%s\n' "$([[ -f $json ]] && printf '%s' "$json")"
	} >>"$log.info"
	if [[ -z $end ]]; then
		warn "benchmarks: no BENCH END marker (the guest stopped or timed out during the run); not part of the verdict"
	elif [[ $exit_rc != 0 ]]; then
		warn "benchmarks: ptbench-bench exited $exit_rc after $ms ms (TCG time); not part of the verdict"
	fi
	if [[ ! -f $json ]]; then
		warn "benchmarks: no JSON on the console; not part of the verdict"
		return 0
	fi
	PTBENCH_ROOT=$PTBENCH_ROOT "$PTBENCH_PYTHON" - "$json" "$label" "$log.info" <<'PY' ||
import os, sys

sys.path.insert(0, os.path.join(os.environ["PTBENCH_ROOT"], "scripts"))
import ptfmt

path, label, info = sys.argv[1:4]
try:
    doc = ptfmt.load_json(path, salvage=False)[0]
except ptfmt.InputError as e:
    print(f"vm-run: warning: benchmarks: {e}; not part of the verdict", file=sys.stderr)
    sys.exit(0)
runs = [b for b in doc.get("benchmarks", [])
        if isinstance(b, dict) and b.get("run_type", "iteration") == "iteration"]
errors = [b for b in runs if b.get("error_occurred")]
ctx = doc.get("context", {})
out = sys.stderr
print(f"vm-run: benchmarks in the guest, {label}:", file=out)
print(f"  {'benchmark':<44} {'iterations':>10} {'time/iter':>14}", file=out)
for b in runs:
    name = b.get("run_name", b.get("name", "?"))
    if b.get("error_occurred"):
        print(f"  {name:<44} {'-':>10} {'-':>14}  error: {b.get('error_message', '')}", file=out)
        continue
    unit = b.get("time_unit", "ns")
    t = f"{b.get('real_time', 0):.4g} {unit}"
    print(f"  {name:<44} {b.get('iterations', 0):>10} {t:>14}", file=out)
print(f"vm-run: {len(runs)} benchmark(s), {len(runs) - len(errors)} ran, {len(errors)} "
      f"error/skip (reported, not part of the verdict); native getpid "
      f"{ctx.get('native_getpid_ns_at_start', '?')} ns at start; {label}; JSON {path}",
      file=out)
with open(info, "a") as f:
    f.write(f"bench_benchmarks={len(runs)}\nbench_errors={len(errors)}\n"
            f"bench_note=timings {label}\n")
PY
		warn "benchmarks: could not render $json"
	return 0
}

main() {
	local arch=aarch64 kernel='' accel=tcg timeout=300 log='' mem=1024 initrd='' cpu='' smp=1
	local runs verdict reason qemu_version line failed_runs dry=0
	while (($#)); do
		case $1 in
		--arch | --kernel | --accel | --timeout | --log | --mem | --cpu | --smp | --append | --qemu-opt)
			(($# >= 2)) || die -s 2 "$1 needs a value"
			case $1 in
			--arch) arch=$2 ;;
			--kernel) kernel=$2 ;;
			--accel) accel=$2 ;;
			--timeout) timeout=$2 ;;
			--log) log=$2 ;;
			--mem) mem=$2 ;;
			--cpu) cpu=$2 ;;
			--append) APPEND+=${APPEND:+ }$2 ;;
			--qemu-opt) add_qemu_opt "$2" ;;
			--smp) smp=$2 ;;
			esac
			shift
			;;
		--dry-run) dry=1 ;;
		-h | --help) usage; exit 0 ;;
		-*) die -s 2 "unknown option '$1' (try: --help)" ;;
		*)
			[[ -z $initrd ]] || die -s 2 "one initramfs only"
			initrd=$1
			;;
		esac
		shift
	done
	[[ -n $initrd ]] || die -s 2 "usage: run.sh --arch ARCH [OPTIONS] INITRAMFS (try: --help)"
	[[ -f $initrd ]] || die "no initramfs $initrd"
	[[ $timeout =~ ^[0-9]+$ && $timeout -gt 0 ]] || die -s 2 "--timeout needs seconds"
	[[ $mem =~ ^[0-9]+$ ]] || die -s 2 "--mem needs MiB"
	[[ $smp =~ ^[1-9][0-9]*$ ]] || die -s 2 "--smp needs a vCPU count (1, 2, ...)"
	[[ -z $cpu || $cpu =~ ^[A-Za-z0-9][A-Za-z0-9_.,=+-]*$ ]] ||
		die -s 2 "--cpu needs a qemu CPU model, e.g. max,vendor=GenuineIntel"
	[[ -z $cpu || $accel != kvm ]] || die -s 2 "--cpu is for tcg and icount (kvm uses -cpu host)"
	[[ $APPEND != *$'\n'* ]] || die -s 2 "--append wants one line of kernel arguments"
	vm_arch_setup "$arch"
	command -v "$VM_QEMU" >/dev/null ||
		die "$VM_QEMU is not installed (run: bash scripts/vm/fetch.sh $VM_ARCH)"
	resolve_kernel_image "${kernel:-$VM_KERNEL_META}"
	qemu_command "$accel" "$mem" "$initrd" "$smp" "$cpu"
	if ((dry)); then
		printf '%s\n' "${QEMU_CMD[@]}"
		return 0
	fi

	if [[ -z $log ]]; then
		mkdir -p "$VM_LOGS"
		log=$VM_LOGS/$VM_ARCH-$(date -u +%Y%m%d-%H%M%S).log
	fi
	mkdir -p "$(dirname "$log")"
	qemu_version=$("$VM_QEMU" --version | head -n 1)
	info "$qemu_version, accel $accel, kernel ${KERNEL_PACKAGE} ${KERNEL_VERSION} (${KERNEL_IMAGE##*/}), timeout ${timeout}s, log $log"
	info "${QEMU_CMD[*]}"
	boot "$log" "$timeout"

	summarize_runs "$log" >"$log.runs.tsv"
	# For CI systems: one testsuite per command, the skip reasons and
	# times in (a log without a single command gives none).
	"$PTBENCH_PYTHON" "$PTBENCH_ROOT/scripts/junit.py" vm "$log" --out "$log.junit.xml" ||
		warn "no JUnit file $log.junit.xml"
	reason=$(failure_reason "$log" "$timeout")
	verdict=$(sed -n 's/^PTBENCH-VM: RESULT verdict=\([A-Z]*\).*/\1/p' "$log" | tail -n 1)
	failed_runs=$(awk -F'\t' '$2 != "PASS"' "$log.runs.tsv" | wc -l)
	if [[ -n $reason ]]; then
		verdict=ERROR
	elif [[ $verdict == PASS ]] && ((failed_runs > 0)); then
		verdict=FAIL
	fi
	{
		printf 'arch=%s\naccel=%s\nsmp=%s\nqemu=%s\n' "$VM_ARCH" "$accel" "$smp" "$qemu_version"
		printf 'kernel_package=%s\nkernel_version=%s\nkernel_image=%s\n' \
			"$KERNEL_PACKAGE" "$KERNEL_VERSION" "$KERNEL_IMAGE"
		printf 'guest_kernel=%s\nguest_cpu_features=%s\nguest_clocksource=%s\n' \
			"$(guest_info "$log" kernel)" "$(guest_info "$log" cpu_features)" \
			"$(guest_info "$log" clocksource)"
		printf 'append=%s\nqemu_opts=%s\nguest_cmdline=%s\n' \
			"$APPEND" "${QEMU_OPTS[*]}" "$(guest_info "$log" cmdline)"
		printf 'guest_boot_ms=%s\nwall_ms=%s\nqemu_status=%s\nverdict=%s\n' \
			"$(guest_info "$log" boot_ms)" "$BOOT_MS" "$QEMU_STATUS" "$verdict"
		printf 'note=timings under TCG are emulation time, not performance figures\n'
	} >"$log.info"

	if grep -q '^PTBENCH-VM: INFO kernel=' "$log"; then
		info "guest kernel $(guest_info "$log" kernel), CPU features: $(guest_info "$log" cpu_features)"
	fi
	while IFS=$'\t' read -r -a line; do
		info "$(printf '[%s] %s: exit %s, %s ok (%s skipped), %s not ok, plan %s, %s ms' \
			"${line[1]}" "${line[8]}" "${line[2]}" "${line[3]}" "${line[5]}" \
			"${line[4]}" "${line[6]}" "${line[7]}")"
	done <"$log.runs.tsv"
	runs=$(wc -l <"$log.runs.tsv")
	bench_report "$log" "$accel"
	if [[ -n $reason ]]; then
		die "$reason; console log kept: $log"
	fi
	info "verdict $verdict: $runs run(s), $failed_runs failed, qemu start to exit ${BOOT_MS} ms (TCG emulation time); log $log"
	[[ $verdict == PASS ]] || exit 1
}

main "$@"
