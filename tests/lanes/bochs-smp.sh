#!/usr/bin/env bash
# Lanes bochs-smp, bochs-smp-parked, bochs-smp-attack: Bochs with two processors.
#
#   tests/lanes/bochs-smp.sh            hapvisor finds both CPUs in the MADT, starts the second itself
#       (INIT-SIPI-SIPI through its reserved start page), puts it in VMX operation and gives it a vCPU
#       waiting for a SIPI; the test kernel (`smp`) starts its CPU 1 with its own start-up IPIs, which
#       hapvisor turns into a SIPI exit. CPU 1 must report from inside hapvisor (hypervisor bit, signature,
#       its own APIC ID); the run ends once, with per-CPU statistics and their sum.
#   tests/lanes/bochs-smp.sh parked     hapvisor cpus=1: CPU 1 stays parked in VMX root operation, and the
#       guest's start-up IPIs must never make it run the guest's code.
#   tests/lanes/bochs-smp.sh attack     CPU 1 reads hapvisor's region: hapvisor stops the whole run from
#       CPU 1 with a breach report, stops CPU 0 and prints one summary; its code is unchanged.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

[ "${1:-}" != --cases ] || { echo "parked attack"; exit 0; } # bochs-smp-MODE, for tests/checks/lanes
mode=${1:-}
case $mode in
'') name=bochs-smp hv=on_exit=poweroff word=smp ;;
parked) name=bochs-smp-parked hv='on_exit=poweroff cpus=1' word=smp_parked ;;
attack) name=bochs-smp-attack hv=on_exit=poweroff word=smp_attack ;;
*) echo "usage: bochs-smp.sh [parked|attack]" >&2 && exit 2 ;;
esac

lane_begin "$name" 120 # measured: 8-10 s to power-off
lane_iso "$hv" build/guests/testkernel-mb2.elf "testkernel mb2 $word"
BOCHS_CPUS=2 lane_run_bochs corei7_skylake_x

expect_common
expect_event smp_madt cpus=2 found=1
expect_event smp_start_page 'page=0x[0-9a-f]+' 'vector=0x[0-9a-f]+'
expect_event smp_start_page 'page=0x[0-9a-f]+' released=1 # every AP in VMX: the page goes back to the guest
expect_event vmxon result=ok cpu=1
expect_event cpu_online cpu=1 result=ok
expect_event smp_start cpus=2 online=2 failed=0 absent=0
expect_event integrity stage=guest_exit match=1
[ "$(grep -c 'hapvisor: event=guest_exit ' "$LANE_SERIAL")" = 1 ] || lane_fail 'not exactly one guest_exit line'

case $mode in
'')
	expect_event vmlaunch cpu=1 vpid=2 activity=wait_for_sipi
	expect_event vcpu_sipi cpu=1 vector=0x8
	expect_line '^testkernel: cpu=1 apic_id=1 hypervisor_bit=1 signature="hapvisor' 'CPU 1 speaks from inside hapvisor'
	expect_line 'testkernel: check=smp result=pass cpus=2 started=1 .* dirty_start_with_2_cpus=-5' 'HC_EBUSY'
	expect_testkernel
	expect_event exit_total cpu=1 'count=[1-9][0-9]*'
	expect_event exit_total cpu=all vcpus=2 'count=[1-9][0-9]*'
	expect_event smp_stop cpu=0 active=1 stopped=1
	;;
parked)
	expect_event options cpus=1
	expect_event cpu_parked cpu=1 reason=cpus_option
	reject_line 'hapvisor: event=(vmlaunch|vcpu_sipi) cpu=1' 'a parked CPU got a vCPU'
	reject_line '^testkernel: cpu=1 ' 'the parked CPU ran the guest'
	expect_line 'testkernel: check=smp result=pass cpus=2 parked=1 cpu1_alive=0'
	expect_testkernel
	expect_event exit_total cpu=all vcpus=1 'count=[1-9][0-9]*'
	;;
attack)
	expect_event vcpu_sipi cpu=1 vector=0x8
	expect_line '^testkernel: cpu=1 attack=read target=0x[0-9a-f]+ starting'
	reject_line 'testkernel: cpu=1 attack=read result=fail' 'CPU 1 read hapvisor memory'
	expect_line 'hapvisor: error: isolation breach: guest read .* \(hapvisor.s memory\)' 'the report in words'
	expect_event ept_violation cpu=1 breach=1 access=read
	expect_event ept_stats when=guest_exit violations_breach=1
	expect_event smp_stop cpu=1 active=1 stopped=1
	expect_line 'hapvisor: event=guest_exit cpu=1 status=1 reason="isolation breach' 'the run ends from CPU 1'
	expect_line 'hapvisor: event=exit status=error action=poweroff( |$)'
	;;
esac

lane_end
