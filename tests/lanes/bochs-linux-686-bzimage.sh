#!/usr/bin/env bash
# Lane bochs-linux-686-bzimage: Debian's 32-bit kernel without PAE (i386) as a bzImage, x86 boot protocol (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" 686-bzimage "$@"
