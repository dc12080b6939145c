#!/usr/bin/env bash
# Lane bochs-penryn-ept: paging=ept on a CPU without EPT (core2_penryn_t9600). hapvisor must refuse with a
# sentence naming the missing feature and the way out, launch nothing, and stop cleanly.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-penryn-ept 60 # measured: 3.5 s to power-off
lane_iso "on_exit=poweroff paging=ept" build/guests/testkernel-mb2.elf "testkernel"
lane_run_bochs core2_penryn_t9600

expect_common
expect_event vmx_probe supported=1 ept=0
expect_line 'hapvisor: error: .*lacks EPT .*which paging=ept needs; leave paging=ept out' 'the refusal names the missing feature and the way out'
expect_event vmx_refused reason=no_ept paging=ept
reject_line 'hapvisor: event=vmlaunch' 'nothing may be launched'
expect_line 'hapvisor: event=exit status=error action=poweroff( |$)'

lane_end
