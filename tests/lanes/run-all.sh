#!/usr/bin/env bash
# Run the boot lanes and print "lanes: N passed, N failed"; exit 1 if any failed.
#
#   tests/lanes/run-all.sh [LANE...]     LANE = one of the names below (default: all of them)
#   LANES_JOBS=1 runs them one after another, any other number side by side (output still in order).
#   Default: side by side on 4 or more CPUs (each emulator keeps one busy), else one after another.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

lanes=("$@")
[ ${#lanes[@]} -gt 0 ] || lanes=(qemu-bios qemu-uefi bochs bochs-haswell bochs-mb1 bochs-noguest bochs-penryn bochs-eager bochs-4k bochs-sandy
	bochs-attack-read bochs-attack-write bochs-attack-exec bochs-attack-pagetable bochs-attack-ptstructure
	bochs-attack-hypercall)
jobs=${LANES_JOBS:-$(($(nproc) >= 4 ? ${#lanes[@]} : 1))}
out=$root/build/lanes
mkdir -p "$out"

pids=()
# Interrupted: stop the lanes (each stops its emulator) and give up.
interrupted() {
	local p
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
	wait
	echo "lanes: interrupted"
	exit 130
}
trap interrupted INT TERM HUP

# LANE is tests/lanes/LANE.sh, or bochs-attack-NAME for tests/lanes/bochs-attack.sh NAME.
run_lane() {
	case $1 in
	bochs-attack-*) "$here/bochs-attack.sh" "${1#bochs-attack-}" ;;
	*)
		[ -x "$here/$1.sh" ] || { echo "lane $1: FAIL: no such lane (tests/lanes/$1.sh)"; return 1; }
		"$here/$1.sh"
		;;
	esac
}
passed=0 failed=0
record() {
	if [ "$1" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
if [ "$jobs" -le 1 ]; then
	for l in "${lanes[@]}"; do
		run_lane "$l"
		record $?
	done
else
	for l in "${lanes[@]}"; do
		run_lane "$l" >"$out/$l.out" 2>&1 &
		pids+=($!)
	done
	for i in "${!lanes[@]}"; do
		wait "${pids[$i]}"
		rc=$?
		cat "$out/${lanes[$i]}.out"
		record $rc
	done
fi
echo "lanes: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
