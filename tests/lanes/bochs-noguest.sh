#!/usr/bin/env bash
# Lane bochs-noguest: hapvisor booted without a guest module: VMX works, but there is nothing to run;
# hapvisor must say what to add to grub.cfg and stop cleanly (status error, powered off).
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-noguest 60 # measured: 2.5 s to power-off
lane_iso on_exit=poweroff
lane_run_bochs corei7_skylake_x

expect_common
expect_line 'hapvisor: event=vmxon result=ok( |$)'
expect_line 'hapvisor: error: .*no guest kernel.*module2' 'the refusal says what to add'
reject_line 'hapvisor: event=vmlaunch' 'nothing may be launched'
expect_line 'hapvisor: event=vmxoff result=ok( |$)'
expect_line 'hapvisor: event=exit status=error action=poweroff reason="no loadable guest kernel"'

lane_end
