#!/usr/bin/env bash
# Lane bochs-4k: ept=4k, lazy filling with 4 KiB pages only (the comparison policy): no large page is
# ever mapped, and the fill count is the number of distinct pages the guest touched.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-4k 180 # measured: 8 s to power-off
lane_iso "on_exit=poweroff ept=4k" build/guests/testkernel-mb2.elf "testkernel 4k"
lane_run_bochs corei7_skylake_x

expect_common
expect_event ept_stats when=guest_exit policy=4k 'violations_fill=[0-9]{5,}' pages_2m=0 pages_1g=0
expect_testkernel
# event_delivery's events took exits during their delivery (fresh or tracked stack pages), and each was delivered
# again: the self-IPI, INT3 and INT n, the #PF (docs/architecture.md, "Events for the guest")
expect_event vcpu_events cpu=0 'reinjected_external=[1-9][0-9]*' 'reinjected_hw_exception=[1-9][0-9]*' 'reinjected_soft=[2-9][0-9]*'

lane_end
