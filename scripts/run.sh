#!/usr/bin/env bash
# Boot hapvisor interactively: scripts/run.sh [--debug] ISO   (make run, make debug)
#
#   (default)  QEMU with KVM and nested VMX where the host can run it (/dev/kvm, `vmx` in /proc/cpuinfo,
#              kvm_intel nested=Y), otherwise Bochs (emulated VMX + EPT; see docs/testing.md).
#              Serial console (COM1) on this terminal, input included when stdin is a terminal; the GRUB
#              entry powers off at the end, so the command returns.
#   --debug    QEMU TCG stopped at the first instruction with its gdbstub on :1234, serial on this terminal.
#
# The guest (environment; `make run GUEST=... INITRD=... CMDLINE=...` passes them):
#   GUEST=testkernel     (default) ISO as built: its first GRUB entry, the test kernel
#   GUEST=linux          build/linux/vmlinux (PVH) + build/linux/initramfs.cpio.gz (make linux-assets);
#                        /init runs its checks and then leaves a shell on the serial console
#   GUEST=linux-bzimage  the same with build/linux/bzImage (x86 boot protocol)
#   GUEST=PATH           any kernel hapvisor loads (Multiboot1/2 ELF, PVH vmlinux, bzImage), INITRD=PATH
#                        optional; default CMDLINE "console=ttyS0,115200"
#   INITRD=PATH, CMDLINE="..."  the initrd (second module) and the whole command line of a Linux or PATH guest
#   HV_OPTS="..."        hapvisor's options for those (default on_exit=poweroff; docs/options.md)
# For any guest but the test kernel, run.sh writes build/run/grub.cfg (one entry) and build/run/run.iso.
#
# Other environment: HV_MEM (MiB, default 512), BOCHS_CPU (default corei7_skylake_x).
set -euo pipefail

debug=0
if [ "${1:-}" = --debug ]; then
	debug=1
	shift
fi
iso=${1:?usage: scripts/run.sh [--debug] ISO}
[ -s "$iso" ] || { echo "run: $iso is missing or empty (make iso)" >&2; exit 1; }
elf=$(dirname "$iso")/hapvisor.elf
mem=${HV_MEM:-512}
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build/run
mkdir -p "$dir"

# ---- the guest -----------------------------------------------------------------------------------------
guest=${GUEST:-testkernel}
linux_cmdline='console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 nokaslr'
kernel='' initrd=${INITRD:-} cmdline=${CMDLINE:-}
case $guest in
testkernel)
	[ -z "$initrd$cmdline" ] || echo "run: INITRD and CMDLINE are ignored with GUEST=testkernel" >&2
	what="hapvisor's test kernel (the ISO's first GRUB entry, $iso)"
	;;
linux | linux-bzimage)
	kernel=$root/build/linux/vmlinux
	[ "$guest" = linux ] || kernel=$root/build/linux/bzImage
	initrd=${initrd:-$root/build/linux/initramfs.cpio.gz}
	# linuxcheck.shell=1: tests/linux/init leaves a shell on the console after its checks.
	[ -n "$cmdline" ] || cmdline="$linux_cmdline linuxcheck.shell=1"
	what="Debian Linux $(basename "$kernel") + $(basename "$initrd")"
	;;
*)
	kernel=$guest
	cmdline=${cmdline:-console=ttyS0,115200}
	what="kernel $kernel${initrd:+ + initrd $initrd}"
	;;
esac
if [ -n "$kernel" ]; then
	for f in "$kernel" ${initrd:+"$initrd"}; do
		[ -s "$f" ] && continue
		case $guest in
		linux*) echo "run: $f is missing: make linux-assets (make run GUEST=$guest builds it)" >&2 ;;
		*) echo "run: $f is missing or empty (GUEST=testkernel|linux|linux-bzimage|PATH)" >&2 ;;
		esac
		exit 1
	done
	if [ -n "$initrd" ] && [ "$(basename "$kernel")" = "$(basename "$initrd")" ]; then
		echo "run: the kernel and the initrd must have different file names (both $(basename "$kernel"))" >&2
		exit 1
	fi
	# A one-entry ISO, as the lanes build theirs (tests/lanes/lib.sh, lane_iso).
	{
		echo '# written by scripts/run.sh (make run GUEST=...)'
		echo 'set timeout=0'
		echo 'set default=0'
		echo 'serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1'
		echo 'terminal_input serial console'
		echo 'terminal_output serial console'
		echo 'insmod all_video'
		# shellcheck disable=SC2016 # GRUB's variable
		echo 'if [ "$grub_platform" = "efi" ]; then set gfxpayload=keep; else set gfxpayload=text; fi'
		echo "menuentry \"hapvisor: $(basename "$kernel") (make run)\" {"
		echo "	multiboot2 /boot/hapvisor.elf ${HV_OPTS:-on_exit=poweroff}"
		# shellcheck disable=SC2016 # GRUB's variable; VGA text under BIOS (boot/grub.cfg)
		echo '	if [ "$grub_platform" = "pc" ]; then set gfxpayload=text; fi'
		echo "	module2 /boot/$(basename "$kernel")${cmdline:+ $cmdline}"
		[ -z "$initrd" ] || echo "	module2 /boot/$(basename "$initrd")"
		echo '	boot'
		echo '}'
	} >"$dir/grub.cfg"
	"$root/scripts/mkiso.sh" "$dir/run.iso" "$elf" "$dir/grub.cfg" "$kernel" ${initrd:+"$initrd"} >/dev/null
	iso=$dir/run.iso
	what="$what, command line \"$cmdline\""
fi
echo "run: guest: $what"

qemu_common=(-m "$mem" -cdrom "$iso" -display none -nic none -no-reboot)

if [ "$debug" = 1 ]; then
	echo "run: QEMU TCG with gdbstub (--debug), waiting for gdb on :1234; in another terminal:"
	echo "  gdb $elf -ex 'target remote :1234'"
	echo "  (then e.g. 'hbreak hv_main' and 'continue'; Ctrl-C here ends QEMU)"
	exec qemu-system-x86_64 -accel tcg "${qemu_common[@]}" -serial stdio -monitor none -s -S
fi

# shellcheck source=tests/lanes/lib.sh
. "$root/tests/lanes/lib.sh"
# Can this host run hapvisor under KVM? It needs VMX for the guest: KVM with nested VMX on an Intel CPU.
why=$(kvm_vmx_unusable)

if [ -z "$why" ]; then
	echo "run: QEMU + KVM (-cpu host,+vmx): /dev/kvm, vmx and kvm_intel nested=Y are all here"
	echo "run: serial console on this terminal (keys go to the guest, Ctrl-C included); Ctrl-A x quits QEMU," \
		"Ctrl-A c its monitor; the guest's power-off ends the run"
	# mon:stdio: COM1 and QEMU's monitor share the terminal, which QEMU puts in raw mode.
	exec qemu-system-x86_64 -accel kvm -cpu host,+vmx "${qemu_common[@]}" -serial mon:stdio
fi

model=${BOCHS_CPU:-corei7_skylake_x}
bochs_find || { echo "run: $BOCHS_MISSING" >&2; exit 1; }
echo "run: Bochs ($model, emulated VMX + EPT) because $why; screen on VNC :5900"
extra=("memory: guest=$mem, host=$mem")
# Linux reads MSRs Bochs lacks (IA32_MISC_ENABLE): tests/linux/lane.sh, TESTBED.md. Bochs applies a second
# cpu: (memory:, com1:) line on top of bochs_config's.
[ "$guest" = testkernel ] || extra+=('cpu: ignore_bad_msrs=1')
# COM1: with a terminal on stdin and stdout, Bochs's "term" mode on that terminal (Bochs reads the keys,
# writes the output, and sets the terminal raw itself, keeping Ctrl-C as a signal); otherwise written to
# build/run/serial.log and followed from there, output only.
term=
if [ -t 0 ] && [ -t 1 ] && term=$(tty 2>/dev/null) && [ -c "$term" ]; then
	extra+=("com1: enabled=1, mode=term, dev=\"$term\"")
	echo "run: serial console on this terminal (keys go to the guest, Ctrl-C included); Ctrl-] stops Bochs;" \
		"the guest's power-off ends the run ('poweroff -f' in the Linux guest's shell)"
else
	term=
	echo "run: stdin/stdout is not a terminal: serial output only (build/run/serial.log), no input;" \
		"the guest's power-off or Ctrl-C ends the run"
fi
: >"$dir/serial.log"
bochs_config "$model" "$(realpath "$iso")" "$dir/serial.log" "$dir/bochs.log" "${extra[@]}" >"$dir/bochsrc"
printf 'c\nquit\n' >"$dir/bochs.rc"
# Bochs's own chatter (its debugger shares stdout) goes to bochs.out.
if [ -n "$term" ]; then
	saved=$(stty -g)
	"$BOCHS" -q -f "$dir/bochsrc" -rc "$dir/bochs.rc" </dev/null >"$dir/bochs.out" 2>&1 &
	bochs_pid=$!
	# Bochs leaves the terminal raw when it is killed: put it back however this script ends.
	trap 'kill "$bochs_pid" 2>/dev/null || true; stty "$saved" 2>/dev/null || true' EXIT
	trap 'echo; echo "run: stopped (Ctrl-])"; exit 130' INT
	trap 'exit 143' TERM HUP
	# Bochs sets the terminal fully raw once, as it starts (Ctrl-C, Ctrl-Z and Ctrl-\ go to the guest): then
	# make Ctrl-] the one key that sends SIGINT here, a way out while the guest runs.
	for _ in $(seq 300); do
		[ "$(stty -g)" = "$saved" ] || { stty isig intr '^]' quit undef susp undef; break; }
		kill -0 "$bochs_pid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$bochs_pid" || true
	trap - EXIT INT TERM HUP
	stty "$saved" 2>/dev/null || true
else
	"$BOCHS" -q -f "$dir/bochsrc" -rc "$dir/bochs.rc" </dev/null >"$dir/bochs.out" 2>&1 &
	bochs_pid=$!
	trap 'kill "$bochs_pid" 2>/dev/null || true' EXIT
	tail -n +1 -s 0.1 -f --pid="$bochs_pid" "$dir/serial.log" || true
	wait "$bochs_pid" || true
	trap - EXIT
fi
# Bochs exits 1 however it ends, power-off included: tell from its log, and return 0 on a power-off.
echo
if grep -Eq 'ACPI control: soft power off|Shutdown port: shutdown requested' "$dir/bochs.log"; then
	echo "run: powered off"
	exit 0
fi
echo "run: Bochs ended without a power-off: $(grep -m1 '>>PANIC<<' "$dir/bochs.log" ||
	echo "see build/run/bochs.log")" >&2
exit 1
