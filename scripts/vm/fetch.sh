#!/usr/bin/env bash
# fetch.sh ARCH [--kernel PACKAGE [--version VERSION]] [--print-kernel]
# fetch.sh ARCH --busybox-only
#
# Gets everything the VM tests of ARCH (aarch64, x86_64) need and keeps it
# in .cache/ (see common.sh): installs the host packages (qemu, the cross
# toolchain, cpio) as root, adds the dpkg architecture, and downloads with
# apt-get download, then extracts with dpkg-deb -x:
#   - foreign arch only: the runtime and -dev packages of libseccomp,
#     cmocka, jansson and Google Benchmark (VM_LIB_PACKAGES in common.sh)
#     into .cache/sysroot/ARCH (the cross build's pkg-config looks there,
#     see cross/aarch64-linux-gnu.ini; libstdc++ comes with the cross g++);
#   - busybox-static into .cache/sysroot/ARCH;
#   - the kernel: PACKAGE (default: the meta package linux-image-cloud-arm64
#     or linux-image-cloud-amd64), from the kernel archive (kapt_setup in
#     lib.sh: the suites of kernel-sources.list, bullseye to unstable, with
#     lists of their own in .cache/apt), a meta package followed through its
#     Depends to the exact image package and version, or an exact one, into
#     .cache/kernels/ARCH/PKG_VERSION/; recorded in .cache/kernel-ARCH.txt
#     (key=value: meta, package, version, vmlinuz, release), or for another
#     PACKAGE in .cache/kernel-ARCH-PACKAGE.txt;
#   - foreign arch only: .cache/cross/TRIPLET.ini, the meson cross file
#     cross/TRIPLET.ini with the absolute sysroot filled in.
# Idempotent: what is already downloaded or extracted is skipped; apt-get
# update runs only when the lists lack ARCH or a download fails.
# --version pins the exact version of an exact kernel PACKAGE (what a
# manifest of scripts/kernels.sh records): a .deb of that version already in
# .cache/debs/ARCH is used as is, else apt-get download PACKAGE=VERSION;
# the record is then .cache/kernel-ARCH-PACKAGE=VERSION.txt.
# --print-kernel prints the vmlinuz path (only that) on stdout.
# --busybox-only gets just busybox-static into .cache/sysroot/ARCH (no host
# packages, no kernel) and prints the binary's path on stdout: the
# sentry's 'exec' suite runs it (sentry/meson.build).
# Exit 0 done, 1 error, 2 not root and something must be installed (the
# apt-get line to run is printed), 3 the pinned --version is gone from the
# archive (and not in the cache).
set -euo pipefail

PTBENCH_PROG=vm-fetch
# shellcheck source=scripts/vm/common.sh
source "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/common.sh"


# host_packages: the Debian packages of the host that VM_ARCH needs.
host_packages() {
	local -a pkgs=("$VM_QEMU_PKG" cpio)
	if ((VM_FOREIGN)); then
		pkgs+=("gcc-$VM_TRIPLET" "g++-$VM_TRIPLET" "binutils-$VM_TRIPLET"
			"libc6-dev-$VM_DEBARCH-cross")
	fi
	printf '%s\n' "${pkgs[@]}"
}

# ensure_host_packages: install what is missing (root), else print the
# apt-get line and exit 2.
ensure_host_packages() {
	local -a want
	local missing
	mapfile -t want < <(host_packages)
	missing=$(missing_packages "${want[@]}")
	[[ -z $missing ]] && return 0
	if ((EUID != 0)); then
		info "missing host packages: $missing; as root, run:"
		printf 'sudo apt-get install -y --no-install-recommends %s\n' "$missing" >&2
		exit 2
	fi
	# shellcheck disable=SC2086 # $missing is a space-separated list
	apt_install $missing
}

# ensure_foreign_arch: dpkg --add-architecture for a foreign VM_DEBARCH.
ensure_foreign_arch() {
	((VM_FOREIGN)) || return 0
	if dpkg --print-foreign-architectures | grep -qx "$VM_DEBARCH"; then
		return 0
	fi
	((EUID == 0)) ||
		die -s 2 "dpkg does not know $VM_DEBARCH; as root, run: dpkg --add-architecture $VM_DEBARCH && apt-get update"
	info "dpkg --add-architecture $VM_DEBARCH"
	dpkg --add-architecture "$VM_DEBARCH" || die "dpkg --add-architecture $VM_DEBARCH failed"
}

# APT_OPTS: the options of every apt call below; empty for the host's
# lists (the sysroot), KAPT_OPTS for the kernel (fetch_kernel sets them).
APT_OPTS=()

# apt_update: apt-get update (root), else exit 2 with the line to run; of
# the kernel archive when APT_OPTS are its options.
apt_update() {
	if ((${#APT_OPTS[@]})); then
		kapt_update
		return 0
	fi
	((EUID == 0)) || die -s 2 "apt lists need updating; as root, run: apt-get update"
	info "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update </dev/null >&2 ||
		die "apt-get update failed"
}

# ensure_apt_lists: update when there is no package list for VM_DEBARCH.
ensure_apt_lists() {
	compgen -G "/var/lib/apt/lists/*binary-${VM_DEBARCH}_Packages*" >/dev/null ||
		apt_update
}

# APT_INFO["PKG|FIELD"]: fields of candidate versions read by apt_load
# (one apt-cache call for many packages: each call costs most of a second).
declare -A APT_INFO=()

# Set by fetch_deb, resolve_kernel and fetch_kernel.
DEB='' KPKG='' KVER='' VMLINUZ=''

# apt_load PKG...: read the candidate versions of PKG:VM_DEBARCH into
# APT_INFO; a package apt does not know gets Package="" (so it is not asked
# again).
apt_load() {
	local -a args=()
	local pkg key val line
	for pkg in "$@"; do
		[[ -v APT_INFO["$pkg|Package"] ]] && continue
		APT_INFO["$pkg|Package"]=
		args+=("$pkg:$VM_DEBARCH")
	done
	((${#args[@]})) || return 0
	pkg=
	while IFS= read -r line; do
		[[ $line == [A-Za-z]*": "* ]] || continue
		key=${line%%: *}
		val=${line#*: }
		[[ $key == Package ]] && pkg=$val
		[[ -n $pkg ]] && APT_INFO["$pkg|$key"]=$val
	done < <(apt-cache "${APT_OPTS[@]}" show --no-all-versions "${args[@]}" 2>/dev/null || true)
}

# apt_get VAR PKG FIELD: set VAR to FIELD of the candidate version of
# PKG:VM_DEBARCH (empty if apt knows no such package). No subshell, so that
# APT_INFO keeps what was read.
apt_get() {
	apt_load "$2"
	printf -v "$1" '%s' "${APT_INFO["$2|$3"]:-}"
}

# fetch_deb PKG [VERSION]: download the candidate of PKG:VM_DEBARCH (or
# its VERSION) into VM_DEBS unless it is there (named as apt-get download
# names it, the epoch's colon as %3a); set DEB to its path.
fetch_deb() {
	local pkg=$1 ver arch file
	if [[ -n ${2:-} ]]; then
		fetch_pinned_deb "$pkg" "$2"
		return 0
	fi
	apt_get ver "$pkg" Version
	apt_get arch "$pkg" Architecture
	[[ -n $ver && -n $arch ]] ||
		die "apt knows no package $pkg:$VM_DEBARCH (apt-get update? dpkg --add-architecture $VM_DEBARCH?)"
	file=${pkg}_${ver//:/%3a}_$arch.deb
	mkdir -p "$VM_DEBS"
	if [[ ! -s $VM_DEBS/$file ]]; then
		info "downloading $pkg:$VM_DEBARCH ($file)"
		if ! (cd "$VM_DEBS" && apt-get "${APT_OPTS[@]}" download "$pkg:$VM_DEBARCH" </dev/null >&2); then
			apt_update
			(cd "$VM_DEBS" && apt-get "${APT_OPTS[@]}" download "$pkg:$VM_DEBARCH" </dev/null >&2) ||
				die "apt-get download $pkg:$VM_DEBARCH failed"
			file=$(cd "$VM_DEBS" && compgen -G "${pkg}_*_$arch.deb" | tail -n 1) || true
		fi
		[[ -n $file && -s $VM_DEBS/$file ]] ||
			die "apt-get download $pkg:$VM_DEBARCH left no $VM_DEBS/${pkg}_*.deb"
	fi
	DEB=$VM_DEBS/$file
}

# fetch_pinned_deb PKG VERSION: fetch_deb of an exact version; exit 3 when
# the archive no longer has it and the cache has no copy.
fetch_pinned_deb() {
	local pkg=$1 ver=$2 file listed
	file=${pkg}_${ver//:/%3a}_$VM_DEBARCH.deb
	DEB=$VM_DEBS/$file
	[[ -s $DEB ]] && return 0
	mkdir -p "$VM_DEBS"
	info "downloading $pkg:$VM_DEBARCH=$ver ($file)"
	if (cd "$VM_DEBS" && apt-get "${APT_OPTS[@]}" download "$pkg:$VM_DEBARCH=$ver" </dev/null >&2) && [[ -s $DEB ]]; then
		return 0
	fi
	# Lists older than an hour may name a file the archive has replaced:
	# fetch them again before calling the version gone.
	if ((${#APT_OPTS[@]})) && (($(kapt_age_min) >= 60)); then
		apt_update
		if (cd "$VM_DEBS" && apt-get "${APT_OPTS[@]}" download "$pkg:$VM_DEBARCH=$ver" </dev/null >&2) && [[ -s $DEB ]]; then
			return 0
		fi
	fi
	listed=$(apt-cache "${APT_OPTS[@]}" madison "$pkg:$VM_DEBARCH" 2>/dev/null | awk -F'|' '{gsub(/ /, "", $2); printf "%s ", $2}')
	die -s 3 "GONE: $pkg:$VM_DEBARCH $ver is not in the archive any more and not in $VM_DEBS (apt-cache madison lists: ${listed:-nothing})"
}

# extract_deb DEB DIR: dpkg-deb -x DEB into DIR once (a stamp per .deb).
extract_deb() {
	local deb=$1 dir=$2 stamp
	stamp=$dir/.ptbench-extracted/${deb##*/}
	[[ -e $stamp ]] && return 0
	mkdir -p "$dir/.ptbench-extracted"
	dpkg-deb -x "$deb" "$dir" || die "dpkg-deb -x $deb failed"
	: >"$stamp"
}

# fetch_sysroot: the library packages (foreign arch) and busybox-static.
fetch_sysroot() {
	local -a pkgs=(busybox-static)
	local pkg
	((VM_FOREIGN)) && pkgs+=("${VM_LIB_PACKAGES[@]}")
	for pkg in "${pkgs[@]}"; do
		fetch_deb "$pkg"
		extract_deb "$DEB" "$VM_SYSROOT"
	done
	[[ -x $VM_SYSROOT/bin/busybox ]] || die "busybox-static:$VM_DEBARCH has no bin/busybox"
}

# resolve_kernel PKG: follow meta packages through their Depends to the
# image package (the first linux-image-* dependency); set KPKG and KVER.
resolve_kernel() {
	local deps dep hops=0
	KPKG=$1
	while :; do
		apt_get deps "$KPKG" Depends
		dep=$(tr ',' '\n' <<<"$deps" | sed -n 's/^ *\(linux-image-[^ |]*\).*$/\1/p' | head -n 1)
		[[ -n $dep ]] || break
		KPKG=$dep
		((++hops < 5)) || die "kernel package $1: meta packages nest too deep"
	done
	apt_get KVER "$KPKG" Version
	[[ -n $KVER ]] || die "apt knows no kernel package $KPKG:$VM_DEBARCH"
}

# write_cross_file: for a foreign arch with a committed template
# cross/TRIPLET.ini, write the copy with the absolute sysroot to
# .cache/cross/TRIPLET.ini (only when it changes).
write_cross_file() {
	local template=$PTBENCH_ROOT/cross/$VM_TRIPLET.ini out new
	((VM_FOREIGN)) || return 0
	[[ -f $template ]] || die "no cross file template $template"
	out=$VM_CACHE/cross/$VM_TRIPLET.ini
	mkdir -p "${out%/*}"
	new=$(sed "s|@SYSROOT@|$VM_SYSROOT|g" "$template")
	if [[ ! -f $out || $(<"$out") != "$new" ]]; then
		printf '%s\n' "$new" >"$out.tmp"
		mv "$out.tmp" "$out"
		info "wrote cross file $out"
	fi
}

# boot_deb: from 7.x on, Debian's linux-image-ABI-FLAVOUR holds no kernel:
# it is usr/lib/modules/RELEASE/vmlinuz of the linux-binary-ABI-FLAVOUR it
# depends on (same version). Set DEB to that one then; the record keeps the
# image package's name and version. Sets IMAGE_MEMBER: the image's path in
# the .deb's tar.
IMAGE_MEMBER=''
boot_deb() {
	local bin
	image_member
	[[ -n $IMAGE_MEMBER ]] && return 0
	bin=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed -n 's/^ *\(linux-binary-[^ |]*\).*$/\1/p' | head -n 1)
	[[ -n $bin ]] || die "kernel package $KPKG $KVER holds no vmlinuz and depends on no linux-binary-* package"
	info "$KPKG $KVER holds no vmlinuz: it is in $bin"
	fetch_pinned_deb "$bin" "$KVER"
	image_member
	[[ -n $IMAGE_MEMBER ]] || die "neither $KPKG nor $bin $KVER holds a vmlinuz"
}

# image_member: IMAGE_MEMBER of DEB: ./boot/vmlinuz-RELEASE (up to 6.x) or
# ./usr/lib/modules/RELEASE/vmlinuz (7.x); empty when it has neither.
image_member() {
	# awk reads the whole listing: an early exit would fail the pipe.
	IMAGE_MEMBER=$(dpkg-deb --fsys-tarfile "$DEB" | tar -t 2>/dev/null |
		awk '!m && /^\.\/(boot\/vmlinuz-[^\/]+|usr\/lib\/modules\/[^\/]+\/vmlinuz)$/ { m = $0 } END { print m }')
}

# fetch_kernel PACKAGE [VERSION]: download and extract the image's /boot,
# write the record, set VMLINUZ.
fetch_kernel() {
	local meta=$1 pin=${2:-} known dir release record new
	kapt_setup
	APT_OPTS=("${KAPT_OPTS[@]}")
	if [[ -n $pin ]]; then
		# No apt look-up: a pinned version may be gone from the lists.
		KPKG=$meta KVER=$pin
	else
		apt_get known "$meta" Package
		[[ -n $known ]] ||
			die "no kernel package $meta:$VM_DEBARCH in the kernel archive's lists (scripts/vm/kernel-sources.list; try: scripts/ptbench kernels --list REGEX)"
		resolve_kernel "$meta"
	fi
	fetch_deb "$KPKG" "$pin"
	boot_deb
	dir=$VM_CACHE/kernels/$VM_ARCH/${KPKG}_${KVER//[^A-Za-z0-9.+~-]/_}
	if [[ ! -e $dir/.ptbench-extracted/${DEB##*/} ]]; then
		info "extracting /boot of $KPKG $KVER"
		rm -rf "$dir" "$dir.tmp"
		mkdir -p "$dir.tmp/.ptbench-extracted"
		if [[ $IMAGE_MEMBER == ./boot/* ]]; then
			dpkg-deb --fsys-tarfile "$DEB" | tar -x -C "$dir.tmp" --wildcards './boot/*' ||
				die "extracting /boot of $DEB failed"
		else
			# One name for every kernel: boot/vmlinuz-RELEASE.
			local rel=${IMAGE_MEMBER#./usr/lib/modules/}
			mkdir -p "$dir.tmp/boot"
			dpkg-deb --fsys-tarfile "$DEB" | tar -x -O "$IMAGE_MEMBER" >"$dir.tmp/boot/vmlinuz-${rel%/vmlinuz}" ||
				die "extracting $IMAGE_MEMBER of $DEB failed"
		fi
		: >"$dir.tmp/.ptbench-extracted/${DEB##*/}"
		mv "$dir.tmp" "$dir"
	fi
	VMLINUZ=$(compgen -G "$dir/boot/vmlinuz-*" | head -n 1) ||
		die "kernel package $KPKG has no /boot/vmlinuz-*"
	release=${VMLINUZ##*/vmlinuz-}
	record=$(vm_kernel_record)
	[[ $meta == "$VM_KERNEL_META" && -z $pin ]] || record=${record%.txt}-$meta${pin:+=$pin}.txt
	new=$(printf 'arch=%s\nmeta=%s\npackage=%s\nversion=%s\nrelease=%s\nvmlinuz=%s\ndeb=%s' \
		"$VM_ARCH" "$meta" "$KPKG" "$KVER" "$release" "$VMLINUZ" "$DEB")
	if [[ ! -f $record || $(<"$record") != "$new" ]]; then
		printf '%s\n' "$new" >"$record.tmp"
		mv "$record.tmp" "$record"
	fi
	info "kernel: $meta -> $KPKG $KVER ($VMLINUZ)"
}

main() {
	local arch='' kernel='' version='' print_kernel=0 busybox_only=0
	while (($#)); do
		case $1 in
		--kernel | --version)
			(($# >= 2)) || die -s 2 "$1 needs a value"
			if [[ $1 == --kernel ]]; then kernel=$2; else version=$2; fi
			shift
			;;
		--print-kernel) print_kernel=1 ;;
		--busybox-only) busybox_only=1 ;;
		-h | --help) usage; exit 0 ;;
		-*) die -s 2 "unknown option '$1' (try: --help)" ;;
		*)
			[[ -z $arch ]] || die -s 2 "one architecture only (got '$arch' and '$1')"
			arch=$1
			;;
		esac
		shift
	done
	[[ -n $arch ]] || die -s 2 "usage: fetch.sh ARCH [--kernel PACKAGE [--version VERSION]] [--print-kernel]"
	vm_arch_setup "$arch"
	[[ -z $version || -n $kernel ]] || die -s 2 "--version needs --kernel PACKAGE (an exact package)"
	kernel=${kernel:-$VM_KERNEL_META}

	# Everything but the --print-kernel line goes to stderr.
	exec 3>&1 1>&2
	if ((busybox_only)); then
		[[ -x $VM_SYSROOT/bin/busybox ]] || {
			ensure_apt_lists
			fetch_deb busybox-static
			extract_deb "$DEB" "$VM_SYSROOT"
		}
		[[ -x $VM_SYSROOT/bin/busybox ]] || die "busybox-static:$VM_DEBARCH has no bin/busybox"
		printf '%s\n' "$VM_SYSROOT/bin/busybox" >&3
		return 0
	fi
	ensure_host_packages
	ensure_foreign_arch
	ensure_apt_lists
	apt_load busybox-static "${VM_LIB_PACKAGES[@]}"
	fetch_sysroot
	write_cross_file
	fetch_kernel "$kernel" "$version"
	if ((print_kernel)); then
		printf '%s\n' "$VMLINUZ" >&3
	else
		info "ready: sysroot $VM_SYSROOT, kernel $VMLINUZ"
	fi
}

main "$@"
