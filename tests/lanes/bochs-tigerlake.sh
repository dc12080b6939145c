#!/usr/bin/env bash
# Lane bochs-tigerlake: the bochs lane on Bochs's newest model (tigerlake), which must report every
# optional VT-x feature hapvisor uses: 2M and 1G EPT pages, EPT A/D bits, execute-only EPT, every INVEPT and
# INVVPID type, PML (docs/cpu-features.md). Its folder is build/lanes/bochs-tigerlake/.
exec "$(dirname "$0")/bochs.sh" tigerlake ept_wb=1 ept_walk4=1 ept_2m=1 ept_1g=1 ept_ad=1 ept_exec_only=1 \
	invept_single=1 invept_all=1 invvpid_addr=1 invvpid_single=1 invvpid_all=1 pml=1
