#!/usr/bin/env bash
# Make sure the Debian 12 packages one mode needs are installed: scripts/deps.sh build|test|run
#
#   build  compile the hypervisor, the ISO and the host unit tests
#   test   build + the boot lanes (QEMU TCG BIOS/UEFI, Bochs) + the clang build check
#   run    build + `make run` / `make debug` (QEMU, Bochs)
#
# For test and run it then builds the project's Bochs once (scripts/bochs-build.sh, cached).
#
# Each package is checked by a command or file it ships, so the check is quiet and fast when all is there.
# Missing packages: as root, `apt-get update` once and install them; otherwise print the command and fail.
set -euo pipefail

mode=${1:-}

# "package:command-or-absolute-path" pairs; "pkg1+pkg2:what" installs both when `what` is missing.
build_needs=(
	make:make gcc:gcc binutils:ld libc6-dev:/usr/include/stdio.h nasm:nasm
	grub-common:grub-mkrescue xorriso:xorriso mtools:mformat
	grub-pc-bin:/usr/lib/grub/i386-pc grub-efi-amd64-bin:/usr/lib/grub/x86_64-efi
	libcmocka-dev:/usr/include/cmocka.h
	# the screen console's font, converted by scripts/psf2c.py (docs/screen.md)
	python3:python3 console-setup-linux:/usr/share/consolefonts/Lat15-VGA16.psf.gz
)
emu_needs=(
	qemu-system-x86:qemu-system-x86_64
	# Bochs itself is built from Debian 13's source package by scripts/bochs-build.sh (Debian 12's 2.7
	# cannot start an SMP guest's APs: docs/testing.md, "The Bochs test bed"); it needs g++ and these.
	g++:g++ xz-utils:xz apt:apt-cache
	# its ROM images (not in the source package)
	bochsbios:/usr/share/bochs/BIOS-bochs-latest vgabios:/usr/share/vgabios
)

case $mode in
build) needs=("${build_needs[@]}") ;;
test) needs=("${build_needs[@]}" "${emu_needs[@]}" ovmf:/usr/share/OVMF/OVMF_CODE_4M.fd
	ovmf:/usr/share/OVMF/OVMF_VARS_4M.fd clang:clang libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a
	xz-utils:xz libxml2-utils:xmllint) ;; # xz: scripts/linux-assets.sh; xmllint: lane smoke-testkernel
run) needs=("${build_needs[@]}" "${emu_needs[@]}" ovmf:/usr/share/OVMF/OVMF_CODE_4M.fd xz-utils:xz) ;;
*)
	echo "usage: $0 build|test|run" >&2
	exit 2
	;;
esac

# bochs_bed: build (or find cached) the project's Bochs for the modes that run it.
bochs_bed() {
	case $mode in
	test | run) "$(dirname "$0")/bochs-build.sh" ;;
	esac
}

missing=()
for need in "${needs[@]}"; do
	pkg=${need%%:*} what=${need#*:}
	if [[ $what == /* ]]; then
		[ -e "$what" ] && continue
	else
		command -v "$what" >/dev/null 2>&1 && continue
	fi
	for p in ${pkg//+/ }; do
		[[ " ${missing[*]-} " == *" $p "* ]] || missing+=("$p")
	done
done
if [ ${#missing[@]} -eq 0 ]; then
	bochs_bed
	exit 0
fi

install=(apt-get install -y --no-install-recommends "${missing[@]}")
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing for '$mode': ${missing[*]}" >&2
	echo "deps: install them with:" >&2
	echo "  sudo ${install[*]}" >&2
	exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing for '$mode': ${missing[*]} (and no apt-get: hapvisor expects Debian 12)" >&2
	exit 1
fi
echo "deps: installing for '$mode': ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
"${install[@]}"
bochs_bed
