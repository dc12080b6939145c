#!/usr/bin/env bash
# Run the boot lanes and print "lanes: N passed, N failed"; exit 1 if any failed.
#
#   tests/lanes/run-all.sh [LANE...]     run these lanes (default: every lane of tests/lanes/lanes.list)
#   tests/lanes/run-all.sh --list        print that list
#   LANES_JOBS=N runs up to N lanes side by side (output still in lane order); default: one per CPU, since
#   each emulator keeps one CPU busy. The Linux lanes are the longest and start first, in list order (the
#   list has them longest first, docs/testing.md).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

# The default list: tests/lanes/lanes.list, one lane a line ('#' comments). --list prints it.
default_lanes() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$here/lanes.list"; }
if [ "${1:-}" = --list ]; then
	default_lanes
	exit 0
fi
lanes=("$@")
[ ${#lanes[@]} -gt 0 ] || mapfile -t lanes < <(default_lanes)
jobs=${LANES_JOBS:-$(nproc)}
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

# LANE is tests/lanes/LANE.sh, bochs-attack-NAME for tests/lanes/bochs-attack.sh NAME (bochs-shadow-attack-NAME
# for bochs-attack.sh NAME shadow), bochs-smp-MODE for tests/lanes/bochs-smp.sh MODE (bochs-smp itself:
# tests/lanes/bochs-smp.sh), bochs-entry-check-NAME for tests/lanes/bochs-entry-check.sh NAME, or
# malformed-CASE for tests/lanes/malformed.sh CASE.
run_lane() {
	case $1 in
	bochs-attack-*) "$here/bochs-attack.sh" "${1#bochs-attack-}" ;;
	bochs-shadow-attack-*) "$here/bochs-attack.sh" "${1#bochs-shadow-attack-}" shadow ;;
	bochs-smp-*) "$here/bochs-smp.sh" "${1#bochs-smp-}" ;;
	bochs-entry-check-*) "$here/bochs-entry-check.sh" "${1#bochs-entry-check-}" ;;
	malformed-*) "$here/malformed.sh" "${1#malformed-}" ;;
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
	# Longest first (the Linux lanes), at most $jobs at a time; results are printed in lane order.
	order=()
	for l in "${lanes[@]}"; do [[ $l == bochs-linux-* ]] && order+=("$l"); done
	for l in "${lanes[@]}"; do [[ $l == bochs-linux-* ]] || order+=("$l"); done
	declare -A pid_of
	running=0
	for l in "${order[@]}"; do
		if [ "$running" -ge "$jobs" ]; then
			wait -n
			running=$((running - 1))
		fi
		run_lane "$l" >"$out/$l.out" 2>&1 &
		pid_of[$l]=$!
		pids+=($!)
		running=$((running + 1))
	done
	for l in "${lanes[@]}"; do
		wait "${pid_of[$l]}"
		rc=$?
		cat "$out/$l.out"
		record $rc
	done
fi
echo "lanes: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
