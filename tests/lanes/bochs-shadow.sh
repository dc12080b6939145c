#!/usr/bin/env bash
# Lane bochs-shadow: the test kernel under shadow paging (paging=shadow) on a CPU that has EPT
# (corei7_skylake_x, with VPID): every check that applies passes, and the shadow MMU's statistics show
# each of its paths taken (docs/architecture.md, "Shadow paging"). Lane bochs-penryn runs the same on a
# CPU without EPT or VPID.
#
#   tests/lanes/bochs-shadow.sh [CPU-MODEL]
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

model=${1:-corei7_skylake_x}
name=bochs-shadow
[ "$model" = corei7_skylake_x ] || name=bochs-shadow-$model

lane_begin "$name" 120 # measured: 33 s to power-off
lane_iso "on_exit=poweroff paging=shadow" build/guests/testkernel-mb2.elf "testkernel"
lane_run_bochs "$model"

expect_common
expect_event options paging=shadow
expect_event vmx_probe supported=1 ept=1 vpid=1
expect_event guest_paging mode=shadow reason=option
expect_event vmlaunch cpu=0 'vpid=[1-9][0-9]*' # VPID with shadow paging: INVVPID for the guest's flushes
expect_shadow_testkernel
# event_delivery's events took exits during their delivery (fresh or tracked stack pages), and each was delivered
# again: the self-IPI, INT3 and INT n, the #PF (docs/architecture.md, "Events for the guest")
expect_event vcpu_events cpu=0 'reinjected_external=[1-9][0-9]*' 'reinjected_hw_exception=[1-9][0-9]*' 'reinjected_soft=[2-9][0-9]*'

lane_end
