#!/usr/bin/env bash
# Lane malformed-CASE: one malformed input booted for real. hapvisor must print the specific sentence for
# it and stop cleanly: the structured exit line with the on_exit action (poweroff here), never a triple
# fault or a panic. The parsers behind each case have host unit tests too (docs/security.md); this lane
# shows the message reaches the console and the machine stops.
#
#   tests/lanes/malformed.sh CASE
#
# Command-line cases are refused before the VMX probe, so they run in QEMU (BIOS, TCG: about 1 s):
#   hvmem         hvmem=lots (not a size)
#   overlong      an ept= value of 300 characters (values are at most 255)
#   timeout       guest_timeout=soon (not a duration)
# Guest-module cases are refused by the guest loader, after VMXON, so they need Bochs (VMX):
#   garbage       module 0 is 32 KiB of gzip output: no kernel format at all
#   truncelf      the Multiboot2 test kernel cut to its first 8 KiB: headers fine, segment past the end
#   oldbzimage    a bzImage setup header of boot protocol 2.11 (hapvisor needs 2.12)
#   shortbzimage  a 520-byte file that ends inside its bzImage setup header (the fuzzing find, booted)
#   nopvh         Debian's 32-bit non-PAE vmlinux (build/linux/vmlinux-686, make linux-assets): an ELF file
#                 with neither a PVH note nor a Multiboot header; the sentence says to boot its bzImage
# The bad images are built here, in build/lanes/malformed-CASE/.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

CASES='hvmem overlong timeout garbage truncelf oldbzimage shortbzimage nopvh'
[ "${1:-}" != --cases ] || { echo "$CASES"; exit 0; } # for tests/checks/lanes
case=${1:-}
[[ " $CASES " == *" $case "* ]] || {
	echo "lane malformed-$case: FAIL: no such case (tests/lanes/malformed.sh CASE, CASE one of: $CASES)"
	exit 1
}
lane_begin "malformed-$case" 60 # measured: QEMU 1 s, Bochs 3 s to power-off
testkernel=build/guests/testkernel-mb2.elf
TRUNCATED_ELF_BYTES=8192
BZ_BOOT_FLAG_OFF=$((0x1FE)) BZ_JUMP_OFF=$((0x200)) BZ_HEADER_OFF=$((0x202)) BZ_VERSION_OFF=$((0x206))
BZ_SHORT_BYTES=520

# put_bytes FILE OFFSET PRINTF-ESCAPES: overwrite bytes of FILE at OFFSET.
put_bytes() {
	# shellcheck disable=SC2059 # the escapes are the point
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# bzimage_header FILE BYTES VERSION-ESCAPES: a zero-filled file with the boot flag, the setup header's
# jump (to 0x268, past init_size, as in real kernels), "HdrS" and the protocol version.
bzimage_header() {
	head -c "$2" /dev/zero >"$1"
	put_bytes "$1" "$BZ_BOOT_FLAG_OFF" '\x55\xaa'
	put_bytes "$1" "$BZ_JUMP_OFF" '\xeb\x66'
	put_bytes "$1" "$BZ_HEADER_OFF" 'HdrS'
	put_bytes "$1" "$BZ_VERSION_OFF" "$3"
}

img=$LANE_DIR/bad-$case.bin
emulator=bochs
case $case in
hvmem)
	emulator=qemu
	lane_iso 'on_exit=poweroff hvmem=lots' "$testkernel" testkernel
	message='option hvmem=lots: expected a size from 4M to 1G with an optional K, M or G suffix, e.g. hvmem=32M'
	;;
overlong)
	emulator=qemu
	long=$(printf 'x%.0s' $(seq 300))
	lane_iso "on_exit=poweroff ept=$long" "$testkernel" testkernel
	message="option ept=${long:0:32}\\.\\.\\.: value longer than 255 characters"
	;;
timeout)
	emulator=qemu
	lane_iso 'on_exit=poweroff guest_timeout=soon' "$testkernel" testkernel
	message='option guest_timeout=soon: expected a duration up to 86400s with an optional unit s or ms'
	;;
garbage)
	seq 1 100000 | gzip -9 -n | head -c 32768 >"$img"
	lane_iso on_exit=poweroff "$img" garbage
	message="module 0 \\(garbage, 32768 bytes\\) is not a kernel hapvisor can boot: no Multiboot1 or Multiboot2 header"
	;;
truncelf)
	head -c "$TRUNCATED_ELF_BYTES" "$LANES_ROOT/$testkernel" >"$img"
	lane_iso on_exit=poweroff "$img" truncated
	message="guest kernel: .*past the end of the $TRUNCATED_ELF_BYTES-byte"
	;;
oldbzimage)
	bzimage_header "$img" 4096 '\x0b\x02'
	lane_iso on_exit=poweroff "$img" old
	message='guest kernel: Linux bzImage: boot protocol 2\.11 is older than 2\.12, which hapvisor needs'
	;;
shortbzimage)
	bzimage_header "$img" "$BZ_SHORT_BYTES" '\x0f\x02'
	lane_iso on_exit=poweroff "$img" short
	message="guest kernel: Linux bzImage: the $BZ_SHORT_BYTES-byte file ends inside its setup header; the module is truncated"
	;;
nopvh)
	img=build/linux/vmlinux-686
	[ -s "$LANES_ROOT/$img" ] || lane_abort "$img is missing: run 'make linux-assets' (scripts/linux-assets.sh)"
	lane_iso on_exit=poweroff "$img" vmlinux-686
	message="module 0 \\(vmlinux-686, $(stat -c %s "$LANES_ROOT/$img") bytes\\) is an ELF file with neither a PVH entry note nor a Multiboot header, so hapvisor cannot enter it: .* boots from its bzImage"
	;;
esac

if [ "$emulator" = qemu ]; then
	lane_run_qemu bios
else
	lane_run_bochs corei7_skylake_x
fi

expect_line "hapvisor: error: $message" 'the specific sentence'
if [ "$emulator" = qemu ]; then
	# Refused right after parsing, before the memory map and region (so not expect_common): the bad
	# option at its default in event=options, nothing probed.
	reject_line 'hapvisor: event=(panic|exception)( |$)' 'hapvisor panicked or faulted'
	expect_line 'hapvisor: event=boot stage=c_entry( |$)'
	expect_line 'hapvisor: event=options on_exit=poweroff '
	reject_line 'hapvisor: event=vmx_probe' 'a bad command line must stop before the VMX probe'
	expect_line 'hapvisor: event=exit status=error action=poweroff reason="bad command line"'
else
	expect_common
	expect_line 'hapvisor: event=vmxon result=ok( |$)'
	reject_line 'hapvisor: event=guest_load ' 'the bad module must not load'
	reject_line 'hapvisor: event=vmlaunch' 'nothing may be launched'
	expect_line 'hapvisor: event=vmxoff result=ok( |$)'
	expect_line 'hapvisor: event=exit status=error action=poweroff reason="no loadable guest kernel"'
fi

lane_end
