#!/usr/bin/env bash
# Lane bochs-linux-pvh-parked: Debian Linux (PVH) on a two-CPU Bochs under hapvisor with cpus=1. CPU 1 stays
# parked in VMX root operation, so the guest's ACPI tables must not offer it: hapvisor hands Linux a copy
# of the MADT with CPU 1 disabled (guest/acpi.h). Linux must then see exactly one CPU and never try to
# start the other one (before the copy, it sent INIT-SIPI-SIPI to the parked CPU, waited 10 s and printed
# "do_boot_cpu failed"); /init's checks run as in bochs-linux-pvh. make bench compares its instruction
# count to /init with the one-CPU boot of bochs-linux-pvh.
#
#   tests/lanes/bochs-linux-pvh-parked.sh [CPU-MODEL]   (needs `make linux-assets`)
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/linux/lane.sh
. "$(dirname "$0")/../linux/lane.sh"

model=${1:-${BOCHS_CPU:-corei7_skylake_x}}
kernel=${LINUX_KERNEL:-$LINUX_DIR/vmlinux}
name=bochs-linux-pvh-parked
[ "$model" = corei7_skylake_x ] || name=$name-$model

lane_begin "$name" 600 # as bochs-linux-pvh: about 40 s to /init, 12.6 s for GRUB to read the vmlinux
linux_need "$kernel" "$LINUX_INITRD"
lane_iso 'on_exit=poweroff cpus=1' "$kernel" "$LINUX_CMDLINE linuxcheck.cpus=1" "$LINUX_INITRD" ""
linux_stop_on_panic
linux_marks_start
BOCHS_CPUS=2 lane_run_bochs "$model" "$LINUX_BOCHS_CPU_LINE"
linux_marks_stop

expect_common
expect_event options cpus=1
expect_event smp_madt cpus=2 found=1
expect_event smp_start cpus=2 online=2 failed=0 absent=0
expect_event guest_acpi cpus=1 disabled=1
expect_event guest_load format=linux-pvh 'entry=0x[0-9a-f]+'
expect_event cpu_parked cpu=1 reason=cpus_option
reject_line 'hapvisor: event=(vmlaunch|vcpu_sipi) cpu=1( |$)' 'the parked CPU got a vCPU'
# What Linux did with its CPUs (its own log): one CPU, and no attempt at the parked one.
reject_line 'x86: Booting SMP configuration|smpboot: Booting Node|do_boot_cpu failed|CPU1 failed to report alive|CPU#1' \
	'Linux tried to start the parked CPU'
expect_line 'smp: Brought up 1 node, 1 CPU$' 'Linux brought up exactly one CPU'
expect_line '^linuxcheck: check=cpus result=pass count=1 online=0( |$)' '/proc/cpuinfo lists one CPU, online 0'
expect_linux_guest

lane_end
