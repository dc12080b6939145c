#!/usr/bin/env bash
# Lane bochs-mb1-haswell: the Multiboot1 test kernel on a second VT-x CPU model (corei7_haswell_4770), so
# both test-kernel variants run on at least two CPU models.
exec "$(dirname "$0")/bochs-mb1.sh" corei7_haswell_4770
