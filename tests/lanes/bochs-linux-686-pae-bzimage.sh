#!/usr/bin/env bash
# Lane bochs-linux-686-pae-bzimage: Debian's 32-bit PAE kernel (i386) as a bzImage, x86 boot protocol (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" 686-pae-bzimage "$@"
