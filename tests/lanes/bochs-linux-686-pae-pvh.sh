#!/usr/bin/env bash
# Lane bochs-linux-686-pae-pvh: Debian's 32-bit PAE kernel (i386) through its PVH entry (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" 686-pae-pvh "$@"
