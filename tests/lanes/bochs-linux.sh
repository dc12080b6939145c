#!/usr/bin/env bash
# Lanes bochs-linux-*: unmodified Debian Linux with the test initramfs as hapvisor's guest in Bochs. /init
# (tests/linux/init) checks what the guest sees (hypervisor bit, no VMX, hapvisor's region reserved in its
# memory map, RAM that reads back what was written, CPUs) and powers off through ACPI; hapvisor must then end
# the run cleanly, and report the paging mode the kernel ended in (event=guest_mode).
#   pvh              build/linux/vmlinux, 64-bit, uncompressed, entered through its PVH note (hvm_start_info);
#                    lane bochs-linux-pvh with hapvisor's ept=4k on 256 MiB: every first touch of a 4 KiB page
#                    is an EPT violation, tens of thousands of them, any during the delivery of an interrupt
#                    or exception to be delivered again (docs/architecture.md, "Events for the guest"); the
#                    other lanes keep the default ept=lazy. LINUX_PVH_EPT=lazy (make bench: its PVH rows are
#                    lazy-EPT figures) runs the default instead
#   bzimage          build/linux/bzImage as shipped, through the x86 boot protocol (boot_params, 32-bit
#                    entry); the kernel's own xz decompressor runs as the guest
#   686-pae-pvh      build/linux/vmlinux-686-pae: Debian's 32-bit PAE kernel (i386) through its PVH note
#   686-pae-bzimage  build/linux/bzImage-686-pae: the same kernel through the x86 boot protocol
#   686-bzimage      build/linux/bzImage-686: Debian's 32-bit kernel without PAE (32-bit paging); its
#                    vmlinux has no PVH note (tests/unit/test_pvh.c shows it refused)
#   la57             build/linux/bzImage on a CPU model with LA57 (default sapphire_rapids, the only
#                    Bochs 3.0 model that has it): its decompressor turns 5-level paging on, and /init
#                    checks for la57 in /proc/cpuinfo (linuxcheck.flags=la57). Not in make test: Bochs 3.0
#                    stops it at the first VM exit (docs/guests.md, "5-level paging"); kept for a Bochs
#                    that runs it (HAPVISOR_BOCHS=path).
# The 32-bit kernels boot build/linux/initramfs-i386.cpio.gz (the same /init, busybox-static:i386).
#   VARIANT (none: one CPU), lanes bochs-linux-FORMAT-VARIANT (a script each, e.g. bochs-linux-pvh-smp2-replug.sh)
#   smpN         Bochs with N CPUs (`cpu: count=N`), hapvisor gives each a vCPU and Linux starts them with
#                its own INIT-SIPI-SIPI: every CPU online and under hapvisor (the hypervisor bit and
#                hapvisor's signature read on each, check cpus_hapvisor); clean power-off, the other vCPUs
#                stopped
#   smpN-replug  the same, and before the power-off CPU 1 offline and online again LINUX_REPLUG times
#                (check cpu_replug: INIT-SIPI-SIPI to a vCPU that already ran, restarted in time only when
#                no console output delays the INIT exit)
#   smpN-attack  smpN, then, instead of the power-off, CPU 1 reads hapvisor's region through /dev/mem:
#                hapvisor stops the whole run from CPU 1 with the breach report, its code unchanged
#
#   tests/lanes/bochs-linux.sh FORMAT [smpN|smpN-replug|smpN-attack] [CPU-MODEL [ept|shadow]]   (needs
#   `make linux-assets`)
# With shadow (lane bochs-linux-shadow), or on a CPU without EPT where hapvisor chooses shadow paging
# itself (lane bochs-linux-penryn), the same boot runs under the shadow MMU and must also show its paths
# taken (expect_linux_shadow).
#   LINUX_KERNEL=path, LINUX_INITRD=path, LINUX_CMDLINE="..." boot other files or options (tests/linux/);
#   LINUX_HV_OPTS="..." adds hapvisor options (paging=shadow: lane bochs-linux-shadow)
#   LINUX_REPLUG=N   offline/online cycles of the smpN-replug lanes (default 20)
# Milestone times (hapvisor c_entry, guest_load, Linux banner, /init, checks) land in build/lanes/LANE/marks.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/linux/lane.sh
. "$(dirname "$0")/../linux/lane.sh"

format=${1:?usage: bochs-linux.sh pvh|bzimage|686-pae-pvh|686-pae-bzimage|686-bzimage|la57 [smpN|smpN-replug|smpN-attack] [CPU-MODEL [ept|shadow]]}
variant=
[[ ${2:-} == smp* ]] && variant=$2 && shift
default_model=corei7_skylake_x
[ "$format" = la57 ] && default_model=sapphire_rapids
model=${2:-${BOCHS_CPU:-$default_model}}
paging=${3:-}
name=bochs-linux-$format${variant:+-$variant}
initrd=$LINUX_INITRD
cmdline=$LINUX_CMDLINE
# guest_mode: the paging mode the kernel runs in, as hapvisor reads it when the guest powers off.
case $format in
# Linux to /init in Bochs through PVH: about 40 s, plus 12.6 s for GRUB to read the 66 MB vmlinux.
pvh) kernel=$LINUX_DIR/vmlinux limit=600 guest_mode=4-level ;;
# From a bzImage: about 80 s, 56 s of it the xz decompressor (TESTBED.md).
bzimage) kernel=$LINUX_DIR/bzImage limit=900 guest_mode=4-level ;;
la57)
	kernel=$LINUX_DIR/bzImage limit=900 guest_mode=5-level format=bzimage
	cmdline="$cmdline linuxcheck.flags=la57"
	;;
686-pae-pvh | 686-pae-bzimage | 686-bzimage)
	flavour=${format%-*} kind=${format##*-}
	file=vmlinux limit=600 guest_mode=PAE
	[ "$kind" = pvh ] || file=bzImage limit=900
	[ "$flavour" = 686 ] && guest_mode=32-bit
	kernel=$LINUX_DIR/$file-$flavour initrd=${LINUX_INITRD_I386:-$LINUX_DIR/initramfs-i386.cpio.gz}
	format=$kind
	;;
*) echo "bochs-linux.sh: unknown format '$format' (pvh, bzimage, 686-pae-pvh, 686-pae-bzimage, 686-bzimage, la57)" >&2 && exit 1 ;;
esac
kernel=${LINUX_KERNEL:-$kernel}
cpus=1 attack=0 replug=0
case $variant in
'') ;;
smp[2-8]) cpus=${variant#smp} ;;
smp[2-8]-replug) cpus=${variant:3:1} replug=${LINUX_REPLUG:-20} ;;
smp[2-8]-attack) cpus=${variant:3:1} attack=1 ;;
*) echo "bochs-linux.sh: unknown variant '$variant' (smpN, smpN-replug or smpN-attack, N from 2 to 8)" >&2 && exit 1 ;;
esac
# Limits only catch hangs: every emulated CPU costs Bochs about as much as the first, and 20 replugs about
# as much as a boot (docs/testing.md, timings); a CPU Linux cannot start costs it 10 s of guest time, which
# in Bochs (the 3.5 GHz TSC counts instructions) is minutes.
limit=$((limit * cpus))
[ "$replug" = 0 ] || limit=$((limit + 600))
if [ "$cpus" -gt 1 ]; then
	# memory_rw at 2 MiB: the one-CPU lanes write 8; in Bochs each MiB costs about 2 s per CPU emulated.
	cmdline+=" linuxcheck.cpus=$cpus linuxcheck.mem=2"
	[ "$replug" = 0 ] || cmdline+=" linuxcheck.replug=$replug"
	[ "$attack" = 0 ] || cmdline+=" linuxcheck.attack_cpu=1"
fi
[ "$model" = "$default_model" ] || name=$name-$model
hv_opts=on_exit=poweroff${paging:+ paging=$paging}${LINUX_HV_OPTS:+ $LINUX_HV_OPTS}
case $model/$paging in
# Under the shadow MMU Linux takes about 365,000 exits to /init and power-off (docs/performance.md): the Bochs run took 136 s
# of CPU time against about 92 s for bochs-linux-pvh, and 1035-1079 s wall at a load average of 30.
# Other formats under the shadow MMU run by hand: bochs-linux-FORMAT-shadow, bochs-linux-FORMAT-penryn.
corei7_skylake_x/shadow) name=bochs-linux-shadow limit=2400 ;;
core2_penryn_t9600/*) name=bochs-linux-penryn limit=2400 paging=shadow ;; # no EPT: shadow by itself
esac
case $1/$name in
pvh/*) ;;
*/bochs-linux-shadow | */bochs-linux-penryn) name=bochs-linux-$1-${name#bochs-linux-} ;;
esac
# Lane bochs-linux-pvh runs under ept=4k: about 21,500 EPT violations to /init; 256 MiB keeps /init's memory
# check short. LINUX_PVH_EPT=lazy (make bench) runs it with the default instead.
ept4k=0
if [ "$name" = bochs-linux-pvh ] && [ "${LINUX_PVH_EPT:-4k}" = 4k ]; then
	ept4k=1 hv_opts="$hv_opts ept=4k"
	export BOCHS_MEMORY_MIB=${BOCHS_MEMORY_MIB:-256}
fi

lane_begin "$name" "$limit"
linux_need "$kernel" "$initrd"
lane_iso "$hv_opts" "$kernel" "$cmdline" "$initrd" ""
linux_stop_on_panic
linux_marks_start
BOCHS_CPUS=$cpus lane_run_bochs "$model" "$LINUX_BOCHS_CPU_LINE"
linux_marks_stop

expect_common
expect_line 'hapvisor: event=boot_info firmware=bios( |$)'
if [ "$model" = core2_penryn_t9600 ]; then
	expect_event vmx_probe supported=1 ept=0
else
	expect_event vmx_probe supported=1 ept=1
fi
expect_line 'hapvisor: event=vmxon result=ok( |$)'
expect_event guest_load "format=linux[-_]$format" 'entry=0x[0-9a-f]+'
if [ "$cpus" -gt 1 ]; then
	expect_linux_smp "$cpus"
	[ "$replug" = 0 ] || expect_linux_replug 1 "$replug"
fi
if [ "$attack" = 1 ]; then
	expect_linux_attack 1 "$cpus"
else
	expect_linux_guest
	[ "$cpus" = 1 ] || expect_event smp_stop cpu=0 "active=$((cpus - 1))" "stopped=$((cpus - 1))"
	expect_event guest_mode cpu=0 "paging=$guest_mode" # the paging mode the kernel ran in (SDM Vol. 3A 4.1.1)
fi
[ "$paging" = shadow ] && expect_linux_shadow
if [ "$ept4k" = 1 ]; then
	expect_event ept_stats when=guest_exit policy=4k 'violations_fill=[0-9]{5,}' pages_2m=0 pages_1g=0
	expect_event vcpu_events cpu=0 nmi_pending=0
fi

lane_end
