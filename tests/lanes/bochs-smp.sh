#!/usr/bin/env bash
# Lane bochs-smp: Bochs with two processors. hapvisor finds both in the MADT, starts the second itself
# (INIT-SIPI-SIPI through its reserved start page), puts it in VMX operation and gives it a vCPU waiting for
# a SIPI; the test kernel (command line `smp`) then starts its second CPU with its own INIT-SIPI-SIPI, which
# hapvisor turns into a SIPI exit. CPU 1 must report from inside hapvisor (hypervisor bit, signature, its
# own APIC ID); the run ends once, with per-CPU statistics and their sum.
#
#   tests/lanes/bochs-smp.sh
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-smp 120 # measured: about 8 s to power-off
lane_iso on_exit=poweroff build/guests/testkernel-mb2.elf "testkernel mb2 smp"
BOCHS_CPUS=2 lane_run_bochs corei7_skylake_x

expect_common
expect_event smp_madt cpus=2 found=1
expect_event smp_start_page 'page=0x[0-9a-f]+'
expect_event vmxon result=ok cpu=1
expect_event cpu_online cpu=1 result=ok
expect_event smp_start cpus=2 online=2 failed=0 absent=0
expect_event vmlaunch cpu=1 vpid=2 activity=wait_for_sipi
expect_event vcpu_sipi cpu=1 vector=0x8
expect_line 'testkernel: check=smp result=pass cpus=2 started=1 '
expect_line '^testkernel: cpu=1 apic_id=1 hypervisor_bit=1 signature="hapvisor' 'CPU 1 speaks from inside hapvisor'
expect_testkernel
expect_event exit_total cpu=1 'count=[1-9][0-9]*'
expect_event exit_total cpu=all vcpus=2 'count=[1-9][0-9]*'
expect_event smp_stop cpu=0 active=1 stopped=1
reject_line 'hapvisor: event=guest_exit cpu=[1-9]' 'one summary, from the CPU that ended the run'
[ "$(grep -c 'hapvisor: event=guest_exit ' "$LANE_SERIAL")" = 1 ] || lane_fail 'not exactly one guest_exit line'

lane_end
