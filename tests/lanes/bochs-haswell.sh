#!/usr/bin/env bash
# Lane bochs-haswell: the bochs lane on another VT-x CPU model (corei7_haswell_4770), so that controls
# computed from the capability MSRs are exercised on two different sets of them.
exec "$(dirname "$0")/bochs.sh" corei7_haswell_4770
