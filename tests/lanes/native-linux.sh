#!/usr/bin/env bash
# Lane native-linux: the Linux test kernel and initramfs booted by GRUB directly in Bochs, no hapvisor: the
# baseline for Linux's boot time under hapvisor (bochs-linux-bzimage boots the same files). It requires only
# the checks that hold without hapvisor (memory_rw, cpus; Bochs's CPU shows vmx and no hypervisor bit).
# Milestone times land in build/lanes/native-linux/marks.
#
#   tests/lanes/native-linux.sh [CPU-MODEL]      (needs `make linux-assets`; not in run-all's default list)
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/linux/lane.sh
. "$(dirname "$0")/../linux/lane.sh"

model=${1:-${BOCHS_CPU:-corei7_skylake_x}}
kernel=${LINUX_KERNEL:-$LINUX_DIR/bzImage}
[[ $kernel == /* ]] || kernel=$LANES_ROOT/$kernel
initrd=$LINUX_INITRD
[[ $initrd == /* ]] || initrd=$LANES_ROOT/$initrd

lane_begin native-linux 300 # Linux to /init in Bochs: about 80 s from a bzImage (TESTBED.md)
linux_need "$kernel" "$initrd"
lane_need_tool grub-mkrescue

# GRUB's own Linux loader (scripts/mkiso.sh leaves out the linux module: hapvisor's ISOs need no such thing).
stage=$LANE_DIR/iso
mkdir -p "$stage/boot/grub"
cp "$kernel" "$stage/boot/bzImage"
cp "$initrd" "$stage/boot/initrd.img"
cat >"$stage/boot/grub/grub.cfg" <<CFG
set timeout=0
set default=0
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
menuentry "native Linux" {
	linux /boot/bzImage $LINUX_CMDLINE
	initrd /boot/initrd.img
	boot
}
CFG
grub-mkrescue -o "$LANE_DIR/boot.iso" \
	--install-modules="linux normal iso9660 part_msdos part_gpt fat configfile serial terminal echo test boot all_video" \
	--fonts= --locales= --themes= "$stage" >"$LANE_DIR/mkrescue.log" 2>&1 ||
	lane_abort "grub-mkrescue failed (see $LANE_DIR/mkrescue.log)"
rm -rf "$stage"
HV_ISO=$LANE_DIR/boot.iso

linux_stop_on_panic
linux_marks_start
lane_run_bochs "$model" "$LINUX_BOCHS_CPU_LINE"
linux_marks_stop

expect_linuxcheck memory_rw cpus
expect_line 'reboot: Power down' 'Linux powered the machine off itself'

lane_end
