#!/usr/bin/env bash
# Lane bochs-linux-bzimage: Debian Linux as a bzImage, x86 boot protocol (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" bzimage "$@"
