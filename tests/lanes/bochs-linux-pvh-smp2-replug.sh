#!/usr/bin/env bash
# Lane bochs-linux-pvh-smp2-replug: Linux (PVH) on 2 CPUs, CPU 1 offline and online again 20 times: Linux's
# INIT-SIPI-SIPI to a vCPU that already ran (see bochs-linux.sh).
exec "$(dirname "$0")/bochs-linux.sh" pvh smp2-replug "$@"
