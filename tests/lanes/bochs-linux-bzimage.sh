#!/usr/bin/env bash
# Lane bochs-linux-bzimage: the same as bochs-linux-pvh (its comment says what is checked), with Debian's
# kernel as shipped, a bzImage (build/linux/bzImage) booted through the x86 boot protocol: hapvisor fills
# boot_params and enters the 64-bit entry; the kernel's own xz decompressor runs as the guest.
#
#   tests/lanes/bochs-linux-bzimage.sh [CPU-MODEL]   (needs `make linux-assets`; not in run-all's default list)
#   LINUX_KERNEL=path, LINUX_INITRD=path, LINUX_CMDLINE="..." boot other files or options (tests/linux/)
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/linux/lane.sh
. "$(dirname "$0")/../linux/lane.sh"

model=${1:-${BOCHS_CPU:-corei7_skylake_x}}
name=bochs-linux-bzimage
[ "$model" = corei7_skylake_x ] || name=$name-$model
kernel=${LINUX_KERNEL:-$LINUX_DIR/bzImage}

# Linux to /init in Bochs from a bzImage: about 80 s, 56 s of it the xz decompressor (TESTBED.md).
lane_begin "$name" 900
linux_need "$kernel" "$LINUX_INITRD"
lane_iso on_exit=poweroff "$kernel" "$LINUX_CMDLINE" "$LINUX_INITRD" ""
linux_stop_on_panic
linux_marks_start
lane_run_bochs "$model" "$LINUX_BOCHS_CPU_LINE"
linux_marks_stop

expect_common
expect_line 'hapvisor: event=boot_info firmware=bios( |$)'
expect_event vmx_probe supported=1 ept=1
expect_line 'hapvisor: event=vmxon result=ok( |$)'
expect_event guest_load 'format=linux[-_]bzimage' 'entry=0x[0-9a-f]+'
expect_linux_guest

lane_end
