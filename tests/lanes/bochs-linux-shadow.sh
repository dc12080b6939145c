#!/usr/bin/env bash
# Lane bochs-linux-shadow: Debian Linux through its PVH entry under paging=shadow on Skylake (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" pvh corei7_skylake_x shadow "$@"
