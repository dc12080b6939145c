#!/usr/bin/env bash
# Lane bochs-entry-check-NAME: a deliberately broken VMCS (test-only option vmcs_break=NAME, docs/options.md)
# and the VM-entry checker (vmx/entry_check.c). With the default entry_check=enforce hapvisor must refuse to
# launch and name the broken SDM rule; with entry_check=warn it launches anyway, Bochs must refuse the VM
# entry, and the check after the failure must name the same rule. Either way the run ends cleanly.
#
#   tests/lanes/bochs-entry-check.sh guest_cr0_pg|guest_tr_type|vpid_zero|host_cs_rpl
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

[ "${1:-}" != --cases ] || { echo "guest_cr0_pg guest_tr_type vpid_zero host_cs_rpl"; exit 0; } # tests/checks/lanes
name=${1:?usage: bochs-entry-check.sh guest_cr0_pg|guest_tr_type|vpid_zero|host_cs_rpl}
# NAME -> the rule it breaks, its section and field, the mode, and how the CPU refuses the entry.
case $name in
guest_cr0_pg) rule=guest_cr0_pg_pe section=26.3.1.1 field=GUEST_CR0 mode=enforce ;;
guest_tr_type) rule=guest_tr_type section=26.3.1.2 field=GUEST_TR_AR_BYTES mode=warn
	cpu_refusal='hapvisor: event=vmentry_failure reason=33 ' stop='VM entry failed' ;;
vpid_zero) rule=vpid_nonzero section=26.2.1.1 field=VIRTUAL_PROCESSOR_ID mode=warn
	cpu_refusal='hapvisor: event=vmfail insn=vmlaunch error=7$' stop='VMLAUNCH/VMRESUME failed' ;;
host_cs_rpl) rule=host_selector_rpl_ti section=26.2.3 field=HOST_CS_SELECTOR mode=warn
	cpu_refusal='hapvisor: event=vmfail insn=vmlaunch error=8$' stop='VMLAUNCH/VMRESUME failed' ;;
*) echo "lane bochs-entry-check-$name: FAIL: no such vmcs_break (see tests/lanes/bochs-entry-check.sh)"; exit 1 ;;
esac

lane_begin "bochs-entry-check-$name" 90 # measured: about 3 s to power-off
LANE_HV_ELF=$LANES_ROOT/build/test/hapvisor.elf # vmcs_break= is a test hook: the test build has it
lane_iso "on_exit=poweroff entry_check=$mode vmcs_break=$name" build/guests/testkernel-mb2.elf
lane_run_bochs corei7_skylake_x

expect_common
expect_event vmcs_break "name=$name" "field=$field"
# Before VMLAUNCH: exactly this rule, by name, section, field, and in words.
expect_event entry_check cpu=0 result=fail "rule=$rule" "section=$section" "field=$field" when=launch
expect_event entry_check cpu=0 result=fail failed=1 'rules=[0-9]+' when=launch
expect_line "hapvisor: error: VM-entry check failed: SDM $section: .*\\($field=0x[0-9a-f]+"
others=$(grep -E 'hapvisor: event=entry_check .*result=fail rule=' "$LANE_SERIAL" | grep -v " rule=$rule ")
[ -z "$others" ] || lane_fail "another rule failed: $(head -n 1 <<<"$others")"
if [ "$mode" = enforce ]; then
	reject_line 'hapvisor: event=vmlaunch ' 'the broken VMCS was launched'
	expect_line 'hapvisor: event=vmxoff result=ok( |$)'
	expect_line 'hapvisor: event=exit status=error action=poweroff reason="VM-entry check failed"'
else
	expect_event vmlaunch cpu=0
	expect_line "$cpu_refusal" 'the CPU (Bochs) refused the VM entry'
	expect_event entry_check cpu=0 result=fail "rule=$rule" "section=$section" "field=$field" when=entry_failure
	expect_event entry_check cpu=0 result=fail failed=1 'rules=[0-9]+' when=entry_failure
	reject_line 'testkernel: start' 'the guest ran'
	expect_line "hapvisor: event=guest_exit cpu=0 status=1 reason=\"$stop\""
	expect_line 'hapvisor: event=vmxoff result=ok( |$)'
	expect_line "hapvisor: event=exit status=error action=poweroff reason=\"$stop\""
fi

lane_end
