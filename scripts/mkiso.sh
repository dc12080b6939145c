#!/usr/bin/env bash
# Build the hybrid BIOS+UEFI ISO: scripts/mkiso.sh OUT.iso hapvisor.elf grub.cfg [FILE...]
# Extra FILEs (guest kernels, initrds) go to /boot/ beside hapvisor.elf. The ISO can be written to a
# USB stick as is (dd), see docs/real-hardware.md.
set -euo pipefail
out=$1 elf=$2 cfg=$3
shift 3
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/boot/grub"
cp "$elf" "$stage/boot/hapvisor.elf"
cp "$cfg" "$stage/boot/grub/grub.cfg"
for f in "$@"; do cp "$f" "$stage/boot/"; done
# Only the GRUB modules hapvisor's menu needs: 4.5 MB instead of 20 MB, BIOS and UEFI still boot.
# MKISO_MODULES adds more (the lanes that replace a firmware ACPI table add "acpi").
grub-mkrescue -o "$out" \
	--install-modules="multiboot2 multiboot normal iso9660 part_msdos part_gpt fat configfile serial terminal echo test boot all_video gfxterm video_fb${MKISO_MODULES:+ $MKISO_MODULES}" \
	--fonts= --locales= --themes= \
	"$stage" >"$out.log" 2>&1 || { cat "$out.log" >&2; exit 1; }
rm -f "$out.log"
echo "built $out ($(stat -c %s "$out") bytes)"
