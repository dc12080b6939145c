#!/usr/bin/env bash
# Lane bochs: Bochs 2.7 emulating a CPU with VMX + EPT: the only place VMX code runs on these machines.
# Proves the VMX capability probe, VMXON and VMXOFF (and, as the core grows, VMCS, exits, EPT, guests).
#
#   tests/lanes/bochs.sh [CPU-MODEL]     (or BOCHS_CPU=MODEL; default corei7_skylake_x, see TESTBED.md)
# A model other than the default is its own lane, bochs-MODEL, with its own build/lanes/ folder.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

model=${1:-${BOCHS_CPU:-corei7_skylake_x}}
name=bochs
[ "$model" = corei7_skylake_x ] || name=bochs-$model

lane_begin "$name" 15 # measured: 2.2-3.1 s to power-off
lane_run_bochs "$model"

expect_common
expect_line 'hapvisor: event=boot_info firmware=bios( |$)'
expect_event vmx_probe supported=1 ept=1 vpid=1 unrestricted_guest=1
expect_line 'hapvisor: event=vmxon result=ok( |$)'
expect_line 'hapvisor: event=vmxoff result=ok( |$)'
expect_line 'hapvisor: event=exit status=ok action=poweroff( |$)'

lane_end
