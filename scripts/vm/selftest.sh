#!/usr/bin/env bash
# selftest.sh [ARCH] [run.sh OPTIONS...]
#
# Tests the VM chain without the project's build: fetches (fetch.sh ARCH),
# compiles scripts/vm/selftest.c for ARCH twice (static, and dynamic so that
# the library copying is exercised), builds an initramfs that runs both, and
# boots it with run.sh. ARCH defaults to aarch64. Prints the time of each
# step; exits with run.sh's status.
set -euo pipefail

PTBENCH_PROG=vm-selftest
# shellcheck source=scripts/vm/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"


# compile_selftest OUTDIR: build vm-selftest-static and vm-selftest-dynamic.
compile_selftest() {
	local out=$1 cc
	if ((VM_FOREIGN)); then
		cc=$VM_TRIPLET-gcc
	else
		cc=gcc
	fi
	command -v "$cc" >/dev/null || die "$cc is not installed (run: bash scripts/vm/fetch.sh $VM_ARCH)"
	mkdir -p "$out"
	"$cc" -std=gnu11 -O2 -Wall -Wextra -Werror -static \
		-o "$out/vm-selftest-static" "$VM_DIR/selftest.c"
	"$cc" -std=gnu11 -O2 -Wall -Wextra -Werror \
		-o "$out/vm-selftest-dynamic" "$VM_DIR/selftest.c"
}

main() {
	local arch=aarch64 t0 t1 t2 t3 rc dir
	if (($#)) && [[ $1 != -* ]]; then
		arch=$1
		shift
	fi
	vm_arch_setup "$arch"
	dir=$VM_CACHE/vm/selftest/$VM_ARCH
	t0=$(now_ms)
	bash "$VM_DIR/fetch.sh" "$VM_ARCH"
	t1=$(now_ms)
	compile_selftest "$dir"
	bash "$VM_DIR/initramfs.sh" "$VM_ARCH" "$dir/initrd.cpio.gz" \
		"$dir/vm-selftest-static" "$dir/vm-selftest-dynamic"
	t2=$(now_ms)
	rc=0
	bash "$VM_DIR/run.sh" --arch "$VM_ARCH" --timeout 120 \
		--log "$dir/console.log" "$@" "$dir/initrd.cpio.gz" || rc=$?
	t3=$(now_ms)
	info "timings: fetch $((t1 - t0)) ms, compile + initramfs $((t2 - t1)) ms, boot to power-off $((t3 - t2)) ms"
	return "$rc"
}

main "$@"
