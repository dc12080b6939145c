#!/usr/bin/env bash
# Lane bochs: Bochs 2.7 emulating a CPU with VMX + EPT: the only place VMX code runs on these machines.
# hapvisor probes VT-x, enters VMX operation, loads the Multiboot2 test kernel (the ISO's default entry),
# runs it under EPT and handles its exits; the test kernel checks what a guest must see and powers off.
#
#   tests/lanes/bochs.sh [CPU-MODEL [PROBE-FIELD...]]   (or BOCHS_CPU=MODEL; default corei7_skylake_x)
# A model other than the default is its own lane, bochs-MODEL, with its own build/lanes/ folder.
# PROBE-FIELDs (e.g. ept_1g=1 pml=1) are what the model's event=vmx_probe line must also say
# (docs/cpu-features.md); whatever the probe says, hapvisor must use what it found (expect_uses_probed).
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

model=${1:-${BOCHS_CPU:-corei7_skylake_x}}
shift $(($# > 0 ? 1 : 0))
name=bochs
[ "$model" = corei7_skylake_x ] || name=bochs-$model

lane_begin "$name" 90 # measured: 4.9 s to power-off
lane_run_bochs "$model"

expect_common
expect_line 'hapvisor: event=boot_info firmware=bios( |$)'
expect_event console kind=ega_text cols=80 rows=25 # GRUB stayed in VGA text mode (no VBE switch)
expect_event vmx_probe supported=1 ept=1 vpid=1 unrestricted_guest=1 "$@"
expect_line 'hapvisor: event=vmxon result=ok( |$)'
# The TSC's rate (arch/x86/tsc.c), found once: CPUID leaf 0x16 on Skylake and later models, one calibration
# against the PIT (which Bochs runs at ips=100M) on the older ones; never assumed, and the PM timer is found.
case $model in
corei7_sandy_bridge* | corei7_ivy_bridge* | corei7_haswell* | broadwell*) expect_event tsc source=pit 'hz=(99|100)[0-9]{6}' ;;
corei7_skylake_x) expect_event tsc source=cpuid16 hz=3500000000 ;;
*) expect_event tsc 'source=cpuid1[56]' ;;
esac
expect_event tsc pm_timer=0xb008
expect_event guest_load format=mb2 'entry=0x[0-9a-f]+'
expect_event ept_stats when=launch policy=lazy violations_fill=0 table_pages=1 # the EPT starts empty
expect_event ept_stats when=guest_exit policy=lazy 'violations_fill=[1-9][0-9]*' 'pages_2m=[1-9][0-9]*'
expect_testkernel

# expect_uses_probed: the optional features hapvisor uses follow the vmx_probe line: EPT A/D bits, PML for
# dirty tracking (else write protection), a VPID for the guest.
expect_uses_probed() {
	local probe
	probe=" $(grep -E -m1 'hapvisor: event=vmx_probe ' "$LANE_SERIAL") "
	has() { [[ $probe == *" $1=1 "* ]]; }
	if has ept_ad; then expect_event ept_stats when=launch ad=1; else expect_event ept_stats when=launch ad=0; fi
	if has pml && has ept_ad; then
		expect_event dirty_track method=pml
	else
		expect_event dirty_track method=write-protect
	fi
	if has vpid; then expect_event vmlaunch cpu=0 'vpid=[1-9][0-9]*'; else expect_event vmlaunch cpu=0 vpid=0; fi
}
expect_uses_probed

lane_end
