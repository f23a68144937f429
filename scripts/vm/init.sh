#!/bin/sh
# shellcheck shell=dash
# /init of the ptbench VM test initramfs (copied in by initramfs.sh; runs
# under busybox sh as pid 1 of the guest). It mounts the kernel file
# systems, prints what the guest is (kernel, CPU features, clocksource,
# mitigations), runs every line of /etc/ptbench/commands as a shell command
# with its output on the console, and powers off.
#
# If /etc/ptbench/bench exists (initramfs.sh --bench), its one command, a
# benchmark run, comes first, before the commands: it never changes the
# verdict, and its figures come from a fresh guest whether the conformance
# suite runs in that boot or not (kernels.sh's full and bench-only boots
# measure the same thing), untouched by what the suite leaves behind (page
# cache, allocator state, rel-faults' raised Yama scope).
#
# Console protocol (read by run.sh; every line starts with "PTBENCH-VM: "):
#   PTBENCH-VM: INFO KEY=VALUE            facts about the guest (boot_ms:
#                                         time from boot to /init)
#   PTBENCH-VM: BEGIN I/N COMMAND         before command I of N
#   PTBENCH-VM: END I/N exit=RC ms=MS COMMAND
#                                         after it (RC 137: killed, e.g. by
#                                         the per-command timeout)
#   PTBENCH-VM: RESULT verdict=PASS|FAIL runs=N failed=F
#                                         after the last command; PASS iff
#                                         every command exited 0
# and, with /etc/ptbench/bench only, before the first BEGIN (the command's stderr between BEGIN and
# END; its stdout is kept out of the console: with --benchmark_format=json
# it is the JSON again):
#   PTBENCH-VM: BENCH BEGIN COMMAND
#   PTBENCH-VM: BENCH END exit=RC ms=MS
#   PTBENCH-VM: BENCH JSON-BEGIN bytes=B  then the file BENCH_OUT as is
#   PTBENCH-VM: BENCH JSON-END            (B = 0: it has none)
# /etc/ptbench/config may set CMD_TIMEOUT (seconds per command, 0 = none),
# BENCH_TIMEOUT (seconds for the benchmark command, 0 = none) and BENCH_OUT
# (the JSON file the benchmark command writes).

PATH=/opt/ptbench/bin:/bin:/sbin:/usr/bin:/usr/sbin
HOME=/
# A conformance case's time limit (the harness's H_TIMEOUT, 60 s natively):
# TCG runs 10-50x slower than the host, and slower still on a loaded one
# (lifecycle/create_release_cycles_no_reuse passed the 60 s under a host
# load of 5). The case's own checks do not depend on it.
H_TIMEOUT=300
export PATH HOME H_TIMEOUT

CMD_TIMEOUT=0
BENCH_TIMEOUT=0
BENCH_OUT=/tmp/b.json

# say WORDS...: one protocol line on the console.
say() {
	echo "PTBENCH-VM: $*"
}

# mount_filesystems: /dev (devtmpfs: the kernel does not mount it in an
# initramfs), /proc, /sys, and tmpfs on /tmp and /dev/shm.
mount_filesystems() {
	/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
	/bin/busybox mount -t proc proc /proc
	/bin/busybox mount -t sysfs sysfs /sys
	/bin/busybox --install -s /bin
	mkdir -p /dev/shm /dev/pts /tmp
	mount -t tmpfs tmpfs /dev/shm
	mount -t tmpfs tmpfs /tmp
}

# uptime_ms: milliseconds since boot, from /proc/uptime (centiseconds).
uptime_ms() {
	read -r up _ </proc/uptime
	s=${up%.*}
	cs=${up#*.}
	cs=${cs#0}
	echo $((s * 1000 + cs * 10))
}

# cpuinfo_field NAME: the value of the first "NAME : value" of /proc/cpuinfo.
cpuinfo_field() {
	sed -n "s/^$1[[:space:]]*: *//p" /proc/cpuinfo | head -n 1
}

# print_info: the INFO lines.
print_info() {
	say "INFO boot_ms=$(uptime_ms)"
	say "INFO kernel=$(uname -r)"
	say "INFO kernel_build=$(uname -v)"
	say "INFO machine=$(uname -m)"
	say "INFO cpus=$(grep -c '^processor' /proc/cpuinfo)"
	case $(uname -m) in
	aarch64)
		say "INFO cpu_implementer=$(cpuinfo_field 'CPU implementer') cpu_part=$(cpuinfo_field 'CPU part')"
		say "INFO cpu_features=$(cpuinfo_field Features)"
		;;
	*)
		say "INFO cpu_model=$(cpuinfo_field 'model name')"
		say "INFO cpu_features=$(cpuinfo_field flags)"
		;;
	esac
	say "INFO mem_total=$(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
	say "INFO clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
	say "INFO seccomp_actions=$(cat /proc/sys/kernel/seccomp/actions_avail 2>/dev/null)"
	for f in /sys/devices/system/cpu/vulnerabilities/*; do
		[ -r "$f" ] && say "INFO vuln_${f##*/}=$(cat "$f")"
	done
	say "INFO cmdline=$(cat /proc/cmdline)"
}

# run_one I N COMMAND: run COMMAND with a watchdog (a sibling, not a child:
# the conformance harness counts its children), print BEGIN and END.
run_one() {
	i=$1 n=$2 cmd=$3
	say "BEGIN $i/$n $cmd"
	t0=$(uptime_ms)
	sh -c "$cmd" </dev/null 2>&1 &
	pid=$!
	dog=
	if [ "$CMD_TIMEOUT" -gt 0 ]; then
		(
			sleep "$CMD_TIMEOUT"
			echo "PTBENCH-VM: TIMEOUT $i/$n after ${CMD_TIMEOUT}s: killing $cmd"
			kill -KILL "$pid"
		) &
		dog=$!
	fi
	wait "$pid"
	rc=$?
	[ -n "$dog" ] && kill "$dog" 2>/dev/null
	t1=$(uptime_ms)
	say "END $i/$n exit=$rc ms=$((t1 - t0)) $cmd"
	return "$rc"
}

# run_commands: every line of /etc/ptbench/commands; print RESULT.
run_commands() {
	n=$(grep -c . /etc/ptbench/commands)
	i=0 failed=0
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		i=$((i + 1))
		run_one "$i" "$n" "$line" || failed=$((failed + 1))
	done </etc/ptbench/commands
	verdict=FAIL
	if [ "$failed" -eq 0 ] && [ "$i" -gt 0 ]; then
		verdict=PASS
	fi
	say "RESULT verdict=$verdict runs=$i failed=$failed"
}

# run_bench: the command of /etc/ptbench/bench with its watchdog, then its
# JSON file between markers (after the command: nothing interleaves).
run_bench() {
	[ -r /etc/ptbench/bench ] || return 0
	IFS= read -r cmd </etc/ptbench/bench
	say "BENCH BEGIN $cmd"
	rm -f "$BENCH_OUT"
	t0=$(uptime_ms)
	sh -c "$cmd" </dev/null >/tmp/bench.stdout &
	pid=$!
	dog=
	if [ "$BENCH_TIMEOUT" -gt 0 ]; then
		(
			sleep "$BENCH_TIMEOUT"
			echo "PTBENCH-VM: BENCH TIMEOUT after ${BENCH_TIMEOUT}s: killing $cmd"
			kill -KILL "$pid"
		) &
		dog=$!
	fi
	wait "$pid"
	rc=$?
	[ -n "$dog" ] && kill "$dog" 2>/dev/null
	t1=$(uptime_ms)
	say "BENCH END exit=$rc ms=$((t1 - t0))"
	bytes=0
	[ -s "$BENCH_OUT" ] && bytes=$(wc -c <"$BENCH_OUT")
	say "BENCH JSON-BEGIN bytes=$bytes"
	if [ "$bytes" -gt 0 ]; then
		cat "$BENCH_OUT"
		# The console protocol is line based: end the last line.
		[ -z "$(tail -c 1 "$BENCH_OUT")" ] || echo
	fi
	say "BENCH JSON-END"
}

main() {
	mount_filesystems
	exec </dev/console >/dev/console 2>&1
	echo 1 >/proc/sys/kernel/printk
	# shellcheck source=/dev/null
	[ -r /etc/ptbench/config ] && . /etc/ptbench/config
	print_info
	run_bench
	run_commands
	sync
	poweroff -f
	echo o >/proc/sysrq-trigger
	sleep 5
}

main
