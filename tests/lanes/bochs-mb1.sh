#!/usr/bin/env bash
# Lane bochs-mb1: the Multiboot1 variant of the test kernel (ELF32 with a Multiboot1 header, as QEMU
# -kernel takes it) as hapvisor's guest: hapvisor builds Multiboot1 boot information for it.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-mb1 90 # measured: 4.9 s to power-off
lane_iso on_exit=poweroff build/guests/testkernel-mb1.elf "testkernel mb1"
lane_run_bochs corei7_skylake_x

expect_common
expect_event guest_load format=mb1 'entry=0x[0-9a-f]+'
expect_line 'testkernel: check=boot_magic result=pass loader=mb1 '
expect_testkernel

lane_end
