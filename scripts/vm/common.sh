# shellcheck shell=bash disable=SC2034 # the VM_* variables are read by the scripts that source this file
# Shared definitions of scripts/vm/*.sh: the per-architecture table and the
# cache layout. Source it after setting PTBENCH_PROG; it defines functions
# and variables and runs nothing.
#
# Cache layout (all under $PTBENCH_ROOT/.cache, ignored by git):
#   debs/ARCH/*.deb              packages fetched with apt-get download
#   sysroot/ARCH/                the -dev and runtime packages, extracted
#   kernels/ARCH/PKG_VERSION/    one extracted kernel package (vmlinuz)
#   kernel-ARCH.txt              the kernel fetch.sh resolved last (key=value)
#   vm/logs/                     console logs kept by run.sh

# shellcheck source=scripts/lib.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../lib.sh"

VM_DIR=$PTBENCH_ROOT/scripts/vm
VM_CACHE=$PTBENCH_ROOT/.cache

# Runtime and -dev packages extracted into the sysroot of a foreign arch:
# what the cross build links against and what the initramfs carries.
# Google Benchmark is only linked by the -Dbench=true build of suite.sh
# --bench, but always fetched (about 160 KB once): one sysroot for both.
# Its libstdc++ and libgcc_s come from the cross toolchain
# (libstdc++6-ARCH-cross, a dependency of g++-TRIPLET).
VM_LIB_PACKAGES=(
	libseccomp2 libseccomp-dev
	libcmocka0 libcmocka-dev
	libjansson4 libjansson-dev
	libbenchmark1debian libbenchmark-dev
)

# The benchmark run of initramfs.sh --bench: quick, one repetition, JSON,
# and each loop's idle time and timer ticks (under -icount sleep=off an
# idle wait counts as instructions: the report takes it out).
VM_BENCH_FLAGS='--benchmark_min_time=0.01 --benchmark_repetitions=1 --benchmark_format=json --ptbench_idle=1'

# vm_arch_setup ARCH: set the VM_* variables of ARCH (aarch64 or x86_64);
# exit 2 on an unknown one.
#   VM_ARCH        the name used in paths (aarch64, x86_64)
#   VM_DEBARCH     Debian's name (arm64, amd64)
#   VM_TRIPLET     GNU triplet and multiarch directory
#   VM_FOREIGN     1 if the arch is not the host's (needs the cross sysroot)
#   VM_KERNEL_META the meta package that names the current kernel
#   VM_QEMU        the qemu binary; VM_QEMU_PKG its Debian package
#   VM_CONSOLE     the serial console device of the guest
#   VM_SYSROOT     where the arch's packages are extracted
#   VM_DEBS        where its .deb files are kept
#   VM_CROSS_LIB   the libc of the cross toolchain (empty if native)
vm_arch_setup() {
	VM_ARCH=$1
	case $VM_ARCH in
	aarch64 | arm64)
		VM_ARCH=aarch64
		VM_DEBARCH=arm64
		VM_TRIPLET=aarch64-linux-gnu
		VM_KERNEL_META=linux-image-cloud-arm64
		VM_QEMU=qemu-system-aarch64
		VM_QEMU_PKG=qemu-system-arm
		VM_CONSOLE=ttyAMA0
		;;
	x86_64 | amd64)
		VM_ARCH=x86_64
		VM_DEBARCH=amd64
		VM_TRIPLET=x86_64-linux-gnu
		VM_KERNEL_META=linux-image-cloud-amd64
		VM_QEMU=qemu-system-x86_64
		VM_QEMU_PKG=qemu-system-x86
		VM_CONSOLE=ttyS0
		;;
	*) die -s 2 "unknown architecture '$1' (known: aarch64, x86_64)" ;;
	esac
	VM_FOREIGN=0
	[[ $VM_DEBARCH == "$(dpkg --print-architecture 2>/dev/null || echo amd64)" ]] ||
		VM_FOREIGN=1
	VM_SYSROOT=$VM_CACHE/sysroot/$VM_ARCH
	VM_DEBS=$VM_CACHE/debs/$VM_ARCH
	VM_CROSS_LIB=
	((VM_FOREIGN)) && VM_CROSS_LIB=/usr/$VM_TRIPLET/lib
	VM_LOGS=$VM_CACHE/vm/logs
}

# vm_lib_dirs: the directories searched for the guest's shared libraries,
# one a line, first match wins: the cross toolchain's libc, then the
# extracted sysroot, then (native arch only) the host's own.
vm_lib_dirs() {
	[[ -n $VM_CROSS_LIB ]] && printf '%s\n' "$VM_CROSS_LIB"
	printf '%s\n' "$VM_SYSROOT/lib/$VM_TRIPLET" "$VM_SYSROOT/usr/lib/$VM_TRIPLET"
	if ((!VM_FOREIGN)); then
		printf '%s\n' "/lib/$VM_TRIPLET" "/usr/lib/$VM_TRIPLET" /lib64 /lib
	fi
}

# vm_kernel_record: path of the file that records the kernel fetch.sh
# resolved last for VM_ARCH.
vm_kernel_record() {
	printf '%s/kernel-%s.txt' "$VM_CACHE" "$VM_ARCH"
}

# vm_record_get FILE KEY: the value of KEY=VALUE in FILE (empty if none).
vm_record_get() {
	local line
	while IFS= read -r line; do
		if [[ $line == "$2="* ]]; then
			printf '%s' "${line#*=}"
			return 0
		fi
	done <"$1"
	return 0
}
