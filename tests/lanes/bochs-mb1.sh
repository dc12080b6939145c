#!/usr/bin/env bash
# Lane bochs-mb1: the Multiboot1 variant of the test kernel (ELF32 with a Multiboot1 header, as QEMU
# -kernel takes it) as hapvisor's guest: hapvisor builds Multiboot1 boot information for it. The ISO's
# menu entry is README.md's GRUB convention as users copy it (lane_iso_readme), with a further module: the
# convention itself is tested (without gfxpayload=text under BIOS, GRUB crashes in Bochs before hapvisor).
#
#   tests/lanes/bochs-mb1.sh [CPU-MODEL]   (default corei7_skylake_x; another model is lane bochs-mb1-MODEL)
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

model=${1:-corei7_skylake_x}
name=bochs-mb1
[ "$model" = corei7_skylake_x ] || name=bochs-mb1-$model
lane_begin "$name" 90 # measured: 4.9 s to power-off
echo "a further module, passed on to the guest (README.md's INITRD)" >"$LANE_DIR/readme-module.txt"
lane_iso_readme on_exit=poweroff build/guests/testkernel-mb1.elf "testkernel mb1" "$LANE_DIR/readme-module.txt"
lane_run_bochs "$model"

expect_common
expect_event guest_load format=mb1 'entry=0x[0-9a-f]+'
expect_line 'testkernel: check=boot_magic result=pass loader=mb1 '
expect_line 'testkernel: check=boot_magic result=pass loader=mb1 .* modules=1$' 'the further module reached the guest'
expect_testkernel

lane_end
