#!/usr/bin/env bash
# Lane bochs-eager: ept=eager builds the whole EPT before launch; the test kernel then runs without a
# single EPT fill (everything it touches is RAM below 4 GiB, mapped up front).
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin bochs-eager 90 # measured: 5 s to power-off
lane_iso "on_exit=poweroff ept=eager" build/guests/testkernel-mb2.elf "testkernel eager"
lane_run_bochs corei7_skylake_x

expect_common
expect_event ept_stats when=launch policy=eager 'pages_1g=[1-9][0-9]*' 'pages_2m=[1-9][0-9]*'
expect_event ept_stats when=guest_exit policy=eager violations_fill=0
expect_testkernel

lane_end
