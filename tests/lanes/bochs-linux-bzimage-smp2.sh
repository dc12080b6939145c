#!/usr/bin/env bash
# Lane bochs-linux-bzimage-smp2: Linux through the x86 boot protocol on 2 CPUs, each under hapvisor (see
# bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" bzimage smp2 "$@"
