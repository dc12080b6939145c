#!/usr/bin/env bash
# Lane bochs-penryn: a CPU with VMX but no EPT, no unrestricted guest and no VPID (core2_penryn_t9600).
# hapvisor runs the test kernel there with shadow paging, chosen by itself (paging=auto), on one CPU,
# without the VMCS's IA32_EFER and IA32_PAT fields; every check that applies passes. Lane
# bochs-penryn-ept keeps the refusal of paging=ept on this CPU.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-penryn 120 # measured: 30 s to power-off
lane_run_bochs core2_penryn_t9600

expect_common
expect_event vmx_probe supported=1 ept=0 vpid=0
expect_event guest_paging mode=shadow reason=no_ept
expect_event vmlaunch cpu=0 vpid=0
expect_shadow_testkernel
# event_delivery's events took exits during their delivery (fresh or tracked stack pages), and each was delivered
# again: the self-IPI, INT3 and INT n, the #PF (docs/architecture.md, "Events for the guest")
expect_event vcpu_events cpu=0 'reinjected_external=[1-9][0-9]*' 'reinjected_hw_exception=[1-9][0-9]*' 'reinjected_soft=[2-9][0-9]*'

lane_end
