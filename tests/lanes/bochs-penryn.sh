#!/usr/bin/env bash
# Lane bochs-penryn: a CPU with VMX but no EPT (core2_penryn_t9600). hapvisor must refuse to run the
# guest with a sentence naming the missing feature, and stop cleanly.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-penryn 60 # measured: 2.6 s to power-off
lane_run_bochs core2_penryn_t9600

expect_common
expect_event vmx_probe supported=1 ept=0
expect_line 'hapvisor: error: .*lacks EPT' 'the refusal names the missing feature'
expect_event vmx_refused reason=no_ept
reject_line 'hapvisor: event=vmlaunch' 'nothing may be launched'
expect_line 'hapvisor: event=exit status=error action=poweroff( |$)'

lane_end
