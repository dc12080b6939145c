#!/usr/bin/env bash
# Build the Linux test assets from Debian's archive: scripts/linux-assets.sh OUTDIR
#
#   OUTDIR/bzImage                 Debian's 64-bit kernel as shipped (linux-image-6.1.0-NN-amd64, /boot/vmlinuz-*)
#   OUTDIR/vmlinux                 the same kernel uncompressed: an ELF64 with the PVH entry note ("Xen", type 18)
#   OUTDIR/initramfs.cpio.gz       busybox-static (amd64) + tests/linux/init (file list: tests/linux/initramfs.list)
#   OUTDIR/bzImage-686-pae         Debian's 32-bit PAE kernel (linux-image-6.1.0-NN-686-pae, architecture i386)
#   OUTDIR/vmlinux-686-pae         the same uncompressed: an ELF32 with the PVH entry note
#   OUTDIR/bzImage-686             Debian's 32-bit kernel without PAE (linux-image-6.1.0-NN-686, i386)
#   OUTDIR/vmlinux-686             the same uncompressed: an ELF32 without a PVH note (hapvisor refuses it)
#   OUTDIR/initramfs-i386.cpio.gz  busybox-static:i386 + the same /init
#   OUTDIR/kernel.txt              the packages, their versions, the PVH entry points
#
# The .deb files and the extracted kernels are cached in ${HAPVISOR_CACHE:-~/.cache/hapvisor}/linux/, so a
# second run (or one after `make clean`) fetches nothing. Needs apt-get, dpkg-deb, xz, readelf, gzip; no root
# (apt-get download does not need it), and no network once the cache holds the packages.
#
# The i386 packages need i386 in dpkg's architectures, so that apt's lists name them. That is a change to the
# machine's package configuration: as root this script makes it once (`dpkg --add-architecture i386`, then
# `apt-get update`; it installs nothing); otherwise it prints those commands and stops.
#
#   LINUX_ABI=NN   another kernel ABI (linux-image-6.1.0-NN-FLAVOUR); default below, or the newest 6.1.0-NN
#                  the archive has when that one is gone.
#   LINUX_I386=0   skip the i386 assets (the 32-bit lanes then fail with 'make linux-assets').
set -euo pipefail
export LC_ALL=C

# The kernel the lanes were written against. When the archive drops it, the newest 6.1.0-NN is used.
LINUX_ABI_PINNED=56
LINUX_ABI=${LINUX_ABI:-$LINUX_ABI_PINNED}

root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: scripts/linux-assets.sh OUTDIR}
cache=${HAPVISOR_CACHE:-${HOME:-/tmp}/.cache/hapvisor}/linux
list=$root/tests/linux/initramfs.list

die() {
	echo "linux-assets: error: $*" >&2
	exit 1
}
note() { echo "linux-assets: $*"; }

for t in apt-get apt-cache dpkg-deb xz readelf gzip nasm; do
	command -v "$t" >/dev/null ||
		die "$t is missing (Debian packages: apt, dpkg, xz-utils, binutils, gzip, nasm; 'scripts/deps.sh test')"
done
mkdir -p "$cache" "$out"
work=$(mktemp -d "$cache/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# ---- packages --------------------------------------------------------------------------------------

# apt_known PKG[:ARCH]: the package lists name PKG with a version that can be downloaded.
apt_known() {
	local v
	v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ { print $2 }')
	[ -n "$v" ] && [ "$v" != "(none)" ]
}

# newest_kernel FLAVOUR: linux-image-6.1.0-NN-FLAVOUR with the highest NN in the package lists (or empty).
newest_kernel() {
	apt-cache search --names-only "^linux-image-6\.1\.0-[0-9]+-$1\$" 2>/dev/null | awk '{ print $1 }' |
		sort -V | tail -n 1
}

# cached_deb PKG ARCH: the newest PKG_*_ARCH.deb in the cache, if any.
cached_deb() {
	find "$cache" -maxdepth 1 -name "${1}_*_$2.deb" | sort -V | tail -n 1
}

# download PKG ARCH: fetch PKG's .deb for ARCH into the cache (atomically: a broken download leaves nothing).
download() {
	local pkg=$1:$2 dir
	dir=$(mktemp -d "$cache/.dl.XXXXXX")
	chmod 755 "$dir" # lets apt's unprivileged _apt user write there when run as root
	if (cd "$dir" && apt-get download "$pkg") >"$work/apt.log" 2>&1; then
		mv "$dir"/*.deb "$cache/"
		rmdir "$dir"
		return 0
	fi
	rm -rf "$dir"
	return 1
}

# apt_update: refresh stale package lists (root only; otherwise say how).
apt_update() {
	if [ "$(id -u)" -eq 0 ]; then
		note "refreshing the package lists (apt-get update)"
		apt-get update -q >"$work/update.log" 2>&1 || { cat "$work/update.log" >&2; return 1; }
	else
		echo "linux-assets: the package lists may be stale: run 'sudo apt-get update' and try again" >&2
		return 1
	fi
}

# need_arch ARCH: dpkg knows ARCH (the machine's own, or a foreign one added before), so that apt lists
# ARCH's packages. A foreign one is added as root (and the lists refreshed), else the commands are printed.
need_arch() {
	[ "$(dpkg --print-architecture)" = "$1" ] && return 0
	dpkg --print-foreign-architectures | grep -qx "$1" && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "the $1 kernels need $1 packages in apt's lists; as root run: dpkg --add-architecture $1 &&" \
			"apt-get update (or LINUX_I386=0 to skip the 32-bit assets)"
	fi
	note "adding the $1 architecture to dpkg (dpkg --add-architecture $1), so that apt lists $1 packages"
	dpkg --add-architecture "$1" || die "dpkg --add-architecture $1 failed"
	apt_update || die "apt-get update failed after adding $1"
}

# fetch_kernel FLAVOUR ARCH: print the path of the linux-image-6.1.0-NN-FLAVOUR .deb, cached or downloaded.
fetch_kernel() {
	local flavour=$1 arch=$2 pkg="linux-image-6.1.0-$LINUX_ABI-$1" deb attempt newest
	deb=$(cached_deb "$pkg" "$arch")
	[ -n "$deb" ] && { echo "$deb"; return 0; }
	for attempt in 1 2; do
		if ! apt_known "$pkg:$arch"; then
			newest=$(newest_kernel "$flavour")
			if [ -n "$newest" ]; then
				note "$pkg is not in the archive; using the newest 6.1 kernel, $newest" >&2
				pkg=$newest
				deb=$(cached_deb "$pkg" "$arch")
				[ -n "$deb" ] && { echo "$deb"; return 0; }
			fi
		fi
		if apt_known "$pkg:$arch" && download "$pkg" "$arch"; then
			cached_deb "$pkg" "$arch"
			return 0
		fi
		if [ "$attempt" -ne 1 ] || ! apt_update >&2; then break; fi
	done
	[ -s "$work/apt.log" ] && cat "$work/apt.log" >&2
	die "could not download a Debian 6.1 $flavour kernel (tried $pkg:$arch; 'apt-cache search" \
		"linux-image-6.1.0' lists what the archive has; LINUX_ABI=NN picks one)"
}

# fetch_busybox ARCH: print the path of busybox-static's .deb for ARCH, from the cache or downloaded.
fetch_busybox() {
	local deb
	deb=$(cached_deb busybox-static "$1")
	[ -n "$deb" ] && { echo "$deb"; return 0; }
	download busybox-static "$1" || { apt_update >&2 && download busybox-static "$1"; } || {
		cat "$work/apt.log" >&2
		die "could not download busybox-static:$1"
	}
	cached_deb busybox-static "$1"
}

# ---- the kernel: bzImage and vmlinux, extracted once per package version ---------------------------

# pvh_entry VMLINUX: the PVH entry point (XEN_ELFNOTE_PHYS32_ENTRY, "Xen" note type 18), e.g. 0x1000850.
pvh_entry() {
	readelf -nW "$1" | awk '
		$1 == "Xen" && $0 ~ /\(0x00000012\)|PHYS32_ENTRY/ { want = 1 }
		want && /description data:/ {
			sub(/.*description data: */, ""); split($0, b, " ")
			v = ""; for (i = 4; i >= 1; i--) v = v b[i]
			sub(/^0+/, "", v); print "0x" v; exit
		}
		$1 == "Xen" && !($0 ~ /\(0x00000012\)|PHYS32_ENTRY/) { want = 0 }'
}

# extract_vmlinux BZIMAGE OUT: the uncompressed kernel, as the kernel's scripts/extract-vmlinux finds it: try
# each xz stream header (FD 37 7A 58 5A 00) in the bzImage until one decompresses to an ELF file.
extract_vmlinux() {
	local off offsets
	offsets=$(grep -aboP '\xFD7zXZ\x00' "$1" | cut -d: -f1)
	for off in $offsets; do
		# tail ends on SIGPIPE when xz stops at the end of the stream: only xz's status counts
		tail -c "+$((off + 1))" "$1" 2>/dev/null | xz -dc --single-stream >"$2" 2>/dev/null
		[ "${PIPESTATUS[1]}" -eq 0 ] || continue
		readelf -h "$2" >/dev/null 2>&1 && return 0
	done
	return 1
}

# kernel_assets FLAVOUR ARCH PVH=need|none: print the cache folder holding bzImage, vmlinux and release of
# linux-image-6.1.0-NN-FLAVOUR (extracted once). PVH=need: its vmlinux must have the PVH note; none: it
# must not (the kernel a lane shows refused).
kernel_assets() {
	local flavour=$1 arch=$2 pvh=$3 kdeb kname kdir vmlinuz
	kdeb=$(fetch_kernel "$flavour" "$arch")
	kname=$(basename "$kdeb" .deb) # linux-image-6.1.0-56-amd64_6.1.192-2_amd64
	kdir=$cache/$kname
	if [ ! -s "$kdir/vmlinux" ] || [ ! -s "$kdir/bzImage" ]; then
		note "extracting $kname" >&2
		rm -rf "${work:?}/boot"
		dpkg-deb --fsys-tarfile "$kdeb" | tar -xf - -C "$work" --wildcards './boot/vmlinuz-*' ||
			die "$kdeb holds no /boot/vmlinuz-*"
		vmlinuz=$(find "$work/boot" -name 'vmlinuz-*' | head -n 1)
		[ "$(dd if="$vmlinuz" bs=1 skip=514 count=4 2>/dev/null)" = HdrS ] ||
			die "$vmlinuz is not a bzImage (no HdrS at 0x202)"
		extract_vmlinux "$vmlinuz" "$work/vmlinux" ||
			die "no xz stream in $vmlinuz decompresses to an ELF kernel (not an xz-compressed bzImage?)"
		mkdir -p "$kdir"
		cp "$vmlinuz" "$kdir/bzImage.tmp" && mv "$kdir/bzImage.tmp" "$kdir/bzImage"
		mv "$work/vmlinux" "$kdir/vmlinux"
		basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$kdir/release"
	fi
	case $pvh in
	need) [ -n "$(pvh_entry "$kdir/vmlinux")" ] ||
		die "the vmlinux from $kname has no PVH entry note (\"Xen\", type 18: CONFIG_PVH missing?)" ;;
	none) [ -z "$(pvh_entry "$kdir/vmlinux")" ] ||
		die "the vmlinux from $kname has a PVH entry note; its lane expects a kernel without one" ;;
	esac
	echo "$kdir"
}

# ---- the initramfs ---------------------------------------------------------------------------------

# A newc archive (the kernel's initramfs format, Documentation/driver-api/early-userspace/buffer-format.rst)
# written directly, so device nodes need neither root nor fakeroot. Owners come from the list, times are 0:
# the same inputs give the same bytes.
cpio_ino=721
cpio_pad() {
	local n=$(((4 - $1 % 4) % 4))
	[ "$n" -eq 0 ] || head -c "$n" /dev/zero
}
# cpio_header NAME MODE UID GID NLINK SIZE RDEVMAJOR RDEVMINOR
cpio_header() {
	local name=${1#/}
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		$((cpio_ino++)) "$2" "$3" "$4" "$5" 0 "$6" 0 0 "$7" "$8" $((${#name} + 1)) 0
	printf '%s\0' "$name"
	cpio_pad $((110 + ${#name} + 1))
}
# cpio_entry LIST-LINE: one entry of a gen_init_cpio list (Linux usr/gen_init_cpio.c): dir, file, slink, nod.
# Uses $busybox and $asm_flags (nasm options of the architecture: tests/linux/bochs-mark.asm).
cpio_entry() {
	local kind=$1 name=$2 src size
	case $kind in
	dir) cpio_header "$name" $((0040000 | 0$3)) "$4" "$5" 2 0 0 0 ;;
	file)
		src=${3/@BUSYBOX@/$busybox}
		[[ $src == /* ]] || src=$root/$src
		[ -f "$src" ] || die "initramfs: $src (for $name) does not exist"
		if [[ $src == *.asm ]]; then # a hand-written flat binary (tests/linux/bochs-mark.asm)
			# shellcheck disable=SC2086 # asm_flags: several words or none
			nasm -f bin $asm_flags -o "$work/asm.bin" "$src" || die "initramfs: nasm could not assemble $src"
			src=$work/asm.bin
		fi
		size=$(stat -c %s "$src")
		cpio_header "$name" $((0100000 | 0$4)) "$5" "$6" 1 "$size" 0 0
		cat "$src"
		cpio_pad "$size"
		;;
	slink)
		cpio_header "$name" $((0120000 | 0$4)) "$5" "$6" 1 "${#3}" 0 0
		printf '%s' "$3"
		cpio_pad "${#3}"
		;;
	nod)
		[ "$6" = c ] || [ "$6" = b ] || die "initramfs: $name: device type must be c or b"
		local type=0060000
		[ "$6" = c ] && type=0020000
		cpio_header "$name" $((type | 0$3)) "$4" "$5" 1 0 "$7" "$8"
		;;
	*) die "initramfs.list: unknown entry '$kind'" ;;
	esac
}

# initramfs ARCH OUT: busybox-static for ARCH + the list's files as a gzipped newc archive at OUT; prints the
# busybox package's name.
initramfs() {
	local arch=$1 bdeb
	bdeb=$(fetch_busybox "$arch")
	rm -rf "${work:?}/bin"
	dpkg-deb --fsys-tarfile "$bdeb" | tar -xf - -C "$work" ./bin/busybox || die "$bdeb holds no /bin/busybox"
	busybox=$work/busybox-$arch
	mv "$work/bin/busybox" "$busybox"
	readelf -lW "$busybox" | grep -q 'INTERP' && die "$busybox (from $bdeb) is not statically linked"
	asm_flags=
	[ "$arch" = amd64 ] || asm_flags=-DELF32

	grep -Ev '^[[:space:]]*(#|$)' "$list" >"$work/listed"
	# busybox's applets as symlinks to /bin/busybox, where the list has not placed something. The list
	# comes from running the amd64 busybox (built first; the host may not run i386 binaries): Debian
	# builds both architectures' busybox-static from one source and configuration.
	cp "$work/listed" "$work/initramfs.list"
	"$work/busybox-amd64" --list-full | while read -r path; do
		awk -v p="/$path" '$2 == p { found = 1 } END { exit !found }' "$work/listed" ||
			echo "slink /$path /bin/busybox 0777 0 0"
	done >>"$work/initramfs.list"
	[ "$(grep -c '^slink /bin/sh ' "$work/initramfs.list")" -eq 1 ] || die "busybox ($arch) has no sh applet"
	cpio_ino=721
	{
		while read -r -a f; do cpio_entry "${f[@]}"; done <"$work/initramfs.list"
		cpio_header TRAILER!!! 0 0 0 1 0 0 0
	} >"$work/initramfs.cpio"
	gzip -9 -n <"$work/initramfs.cpio" >"$2"
	basename "$bdeb" .deb | sed "s/%3a/:/"
}

# ---- results ---------------------------------------------------------------------------------------

# put SRC DEST: copy into OUTDIR atomically (a lane never sees half a file).
put() {
	cp "$1" "$out/$2.tmp" && mv "$out/$2.tmp" "$out/$2"
}

kdir=$(kernel_assets amd64 amd64 need)
put "$kdir/vmlinux" vmlinux
put "$kdir/bzImage" bzImage
busybox_pkg=$(initramfs amd64 "$work/initramfs.cpio.gz")
put "$work/initramfs.cpio.gz" initramfs.cpio.gz
files=(bzImage vmlinux initramfs.cpio.gz)
kname=$(basename "$kdir")
{
	echo "package=$(cut -d_ -f1 <<<"$kname") version=$(cut -d_ -f2 <<<"$kname") release=$(cat "$kdir/release")"
	echo "pvh_entry=$(pvh_entry "$kdir/vmlinux")"
	echo "busybox=$busybox_pkg"
} >"$work/kernel.txt"
note "$(cut -d_ -f1,2 <<<"$kname"): PVH entry $(pvh_entry "$kdir/vmlinux"); $busybox_pkg"

if [ "${LINUX_I386:-1}" != 0 ]; then
	need_arch i386
	for flavour in 686-pae 686; do
		pvh=need
		[ "$flavour" = 686 ] && pvh=none # Debian's non-PAE kernel is built without CONFIG_PVH
		kdir=$(kernel_assets "$flavour" i386 "$pvh")
		put "$kdir/vmlinux" "vmlinux-$flavour"
		put "$kdir/bzImage" "bzImage-$flavour"
		files+=("bzImage-$flavour" "vmlinux-$flavour")
		kname=$(basename "$kdir")
		entry=$(pvh_entry "$kdir/vmlinux")
		{
			echo "package=$(cut -d_ -f1 <<<"$kname"):i386 version=$(cut -d_ -f2 <<<"$kname")" \
				"release=$(cat "$kdir/release")"
			echo "pvh_entry_$flavour=${entry:-none}"
		} >>"$work/kernel.txt"
		note "$(cut -d_ -f1,2 <<<"$kname") (i386): PVH entry ${entry:-none}"
	done
	busybox_pkg=$(initramfs i386 "$work/initramfs-i386.cpio.gz")
	put "$work/initramfs-i386.cpio.gz" initramfs-i386.cpio.gz
	files+=(initramfs-i386.cpio.gz)
	echo "busybox_i386=$busybox_pkg" >>"$work/kernel.txt"
fi
mv "$work/kernel.txt" "$out/kernel.txt"
for f in "${files[@]}"; do
	printf 'linux-assets:   %-40s %10s bytes\n' "$out/$f" "$(stat -c %s "$out/$f")"
done
