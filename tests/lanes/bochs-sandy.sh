#!/usr/bin/env bash
# Lane bochs-sandy: a CPU with EPT but without 1 GiB EPT pages and without EPT A/D flags or PML
# (corei7_sandy_bridge_2600k): the EPT uses 2 MiB pages at most, dirty tracking uses write protection.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-sandy 90 # measured: 5 s to power-off
lane_iso "on_exit=poweroff ept=eager" build/guests/testkernel-mb2.elf "testkernel sandy"
lane_run_bochs corei7_sandy_bridge_2600k

expect_common
expect_event vmx_probe supported=1 ept=1 ept_1g=0 ept_ad=0
expect_event ept_stats when=launch policy=eager pages_1g=0 'pages_2m=[1-9][0-9]*' ad=0
expect_testkernel
# event_delivery's events took exits during their delivery (fresh or tracked stack pages), and each was delivered
# again: the self-IPI, INT3 and INT n, the #PF (docs/architecture.md, "Events for the guest")
expect_event vcpu_events cpu=0 'reinjected_external=[1-9][0-9]*' 'reinjected_hw_exception=[1-9][0-9]*' 'reinjected_soft=[2-9][0-9]*'

lane_end
