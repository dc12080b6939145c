#!/usr/bin/env bash
# Boot hapvisor interactively: scripts/run.sh [--debug] ISO   (make run, make debug)
#
#   (default)  QEMU with KVM and nested VMX where the host can run it (/dev/kvm, `vmx` in /proc/cpuinfo,
#              kvm_intel nested=Y), otherwise Bochs (emulated VMX + EPT; see docs/testing.md).
#              Serial on this terminal; GRUB's first entry powers off at the end, so the command returns.
#   --debug    QEMU TCG stopped at the first instruction with its gdbstub on :1234, serial on this terminal.
#
# Environment: HV_MEM (MiB, default 512), BOCHS_CPU (default corei7_skylake_x).
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
qemu_common=(-m "$mem" -cdrom "$iso" -serial stdio -display none -monitor none -nic none -no-reboot)

if [ "$debug" = 1 ]; then
	echo "run: QEMU TCG with gdbstub (--debug), waiting for gdb on :1234; in another terminal:"
	echo "  gdb $elf -ex 'target remote :1234'"
	echo "  (then e.g. 'hbreak hv_main' and 'continue'; Ctrl-C here ends QEMU)"
	exec qemu-system-x86_64 -accel tcg "${qemu_common[@]}" -s -S
fi

# Can this host run hapvisor under KVM? It needs VMX for the guest: KVM with nested VMX on an Intel CPU.
why=
if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
	why="no usable /dev/kvm"
elif ! grep -qw vmx /proc/cpuinfo; then
	why="this CPU has no VT-x (no vmx in /proc/cpuinfo)"
else
	nested=$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null || echo missing)
	case $nested in
	Y | y | 1) ;;
	missing) why="kvm_intel is not loaded" ;;
	*) why="kvm_intel nested=$nested (modprobe kvm_intel nested=1 to enable)" ;;
	esac
fi

if [ -z "$why" ]; then
	echo "run: QEMU + KVM (-cpu host,+vmx): /dev/kvm, vmx and kvm_intel nested=Y are all here"
	exec qemu-system-x86_64 -accel kvm -cpu host,+vmx "${qemu_common[@]}"
fi

model=${BOCHS_CPU:-corei7_skylake_x}
echo "run: Bochs ($model, emulated VMX + EPT) because $why; screen on VNC :5900, Ctrl-C to stop"
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lanes/lib.sh
. "$root/tests/lanes/lib.sh"
dir=$root/build/run
mkdir -p "$dir"
: >"$dir/serial.log"
bochs_config "$model" "$(realpath "$iso")" "$dir/serial.log" "$dir/bochs.log" >"$dir/bochsrc"
printf 'c\nquit\n' >"$dir/bochs.rc"
# Bochs's own chatter (its debugger shares stdout) goes to bochs.out; the serial log is followed live.
bochs -q -f "$dir/bochsrc" -rc "$dir/bochs.rc" </dev/null >"$dir/bochs.out" 2>&1 &
bochs_pid=$!
trap 'kill "$bochs_pid" 2>/dev/null' EXIT
tail -n +1 -s 0.1 -f --pid="$bochs_pid" "$dir/serial.log" || true
wait "$bochs_pid" || true
trap - EXIT
# Bochs exits 1 however it ends, power-off included: tell from its log, and return 0 on a power-off.
echo
if grep -Eq 'ACPI control: soft power off|Shutdown port: shutdown requested' "$dir/bochs.log"; then
	echo "run: powered off"
	exit 0
fi
echo "run: Bochs ended without a power-off: $(grep -m1 '>>PANIC<<' "$dir/bochs.log" ||
	echo "see build/run/bochs.log")" >&2
exit 1
