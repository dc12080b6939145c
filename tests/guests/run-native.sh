#!/usr/bin/env bash
# Boot the test kernel without hapvisor, to check its own mechanics (fault probes, memory test, output,
# power-off fallback). The hypervisor checks fail there by design.
#
#   tests/guests/run-native.sh qemu-mb1     QEMU TCG, -kernel testkernel-mb1.elf (Multiboot1)
#   tests/guests/run-native.sh qemu-iso     QEMU TCG, BIOS, GRUB ISO with the Multiboot2 variant
#   tests/guests/run-native.sh bochs-iso    the project's Bochs (scripts/bochs-build.sh), same ISO, 512 MiB
#
# Needs `make guests` first. Output in build/guests/native/MODE/ (serial.log, emulator.log). Exit 0 when
# the summary line was printed and the emulator powered off by itself within TIMEOUT (default 60) s.
set -uo pipefail
mode=${1:?usage: $0 qemu-mb1|qemu-iso|bochs-iso}
limit=${TIMEOUT:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
img=$root/build/guests
out=$img/native/$mode
rm -rf "$out"
mkdir -p "$out"

iso() {
	local cfg=$root/tests/guests/grub-native.cfg
	"$root/scripts/mkiso.sh" "$out/tk.iso" "$img/testkernel-mb2.elf" "$cfg" >/dev/null
}

start=$EPOCHREALTIME
case $mode in
qemu-mb1)
	timeout "$limit" qemu-system-x86_64 -accel tcg -m 512 -kernel "$img/testkernel-mb1.elf" \
		-append "native-run tk.test=1" -serial "file:$out/serial.log" -display none -no-reboot \
		</dev/null >"$out/emulator.log" 2>&1
	rc=$?
	;;
qemu-iso)
	iso || exit 1
	timeout "$limit" qemu-system-x86_64 -accel tcg -m 512 -cdrom "$out/tk.iso" -boot d \
		-serial "file:$out/serial.log" -display none -no-reboot </dev/null >"$out/emulator.log" 2>&1
	rc=$?
	;;
bochs-iso)
	# shellcheck source=tests/lanes/lib.sh
	. "$root/tests/lanes/lib.sh"
	bochs_find || { echo "run-native $mode: FAIL: $BOCHS_MISSING"; exit 1; }
	iso || exit 1
	cpu="model=${BOCHS_CPU:-corei7_skylake_x}, count=1, ips=100000000, reset_on_triple_fault=0"
	cpu+=", ignore_bad_msrs=0"
	cat >"$out/bochsrc" <<-RC
		display_library: rfb, options="timeout=0"
		romimage: file=$BOCHS_ROM, options=fastboot
		vgaromimage: file=$BOCHS_VGAROM
		cpu: $cpu
		memory: guest=512, host=512
		ata0-master: type=cdrom, path="$out/tk.iso", status=inserted
		boot: cdrom
		com1: enabled=1, mode=file, dev="$out/serial.log"
		clock: sync=none
		speaker: enabled=0
		panic: action=fatal
		error: action=report
		log: "$out/bochs.log"
	RC
	printf 'c\nquit\n' >"$out/bochs.rc"
	timeout "$limit" "$BOCHS" -q -f "$out/bochsrc" -rc "$out/bochs.rc" </dev/null >"$out/emulator.log" 2>&1
	rc=$?
	# Every Bochs exit is rc 1; only a power-off is a clean end.
	grep -qE 'ACPI control: soft power off|Shutdown port: shutdown requested' "$out/bochs.log" && rc=0
	;;
*)
	echo "unknown mode '$mode'" >&2
	exit 2
	;;
esac
secs=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
tr -d '\r' <"$out/serial.log" | grep '^testkernel: ' || true
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "run-native $mode: FAIL: no power-off within $limit s"
	exit 1
fi
if ! tr -d '\r' <"$out/serial.log" | grep -qE '^testkernel: [0-9]+ passed, [0-9]+ failed$'; then
	echo "run-native $mode: FAIL: no summary line (rc $rc, logs in $out)"
	exit 1
fi
echo "run-native $mode: powered off after $secs s (rc $rc)"
