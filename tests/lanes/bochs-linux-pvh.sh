#!/usr/bin/env bash
# Lane bochs-linux-pvh: Debian Linux through its PVH entry (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" pvh "$@"
