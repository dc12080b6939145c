#!/usr/bin/env bash
# Lane bochs-linux-pvh-smp4-attack: Linux (PVH) on 4 CPUs, then CPU 1 reads hapvisor's region and the breach
# stops the run from CPU 1 (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" pvh smp4-attack "$@"
