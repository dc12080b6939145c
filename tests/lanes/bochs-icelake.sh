#!/usr/bin/env bash
# Lane bochs-icelake: the bochs lane on corei7_icelake_u, which must report the same optional VT-x features
# as tigerlake (docs/cpu-features.md). Its folder is build/lanes/bochs-corei7_icelake_u/.
exec "$(dirname "$0")/bochs.sh" corei7_icelake_u ept_wb=1 ept_walk4=1 ept_2m=1 ept_1g=1 ept_ad=1 ept_exec_only=1 \
	invept_single=1 invept_all=1 invvpid_addr=1 invvpid_single=1 invvpid_all=1 pml=1
