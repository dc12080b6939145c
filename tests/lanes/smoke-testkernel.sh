#!/usr/bin/env bash
# Lane smoke-testkernel: the boot-smoke runner for other projects' CI (scripts/boot-smoke.sh, docs/ci.md)
# as they would call it, judged by its exit status and its JUnit report:
#   pass     the Multiboot2 test kernel in Bochs: exit 0, a report without failure, the serial log in
#            system-out, and the log itself passes expect_testkernel
#   hang     a guest that spins forever (tests/guests/spin.asm), --timeout 10: exit 1, failure type hang
#   slowboot the runner's clock, with a stand-in emulator (tests/lanes/replay-emulator.sh) silent for 6 s,
#            as firmware and GRUB on a busy machine, before a hung run's serial log, --timeout 3: the same
#            hang verdict with the serial tail, since --timeout counts from hapvisor's first line
#   noboot   the stand-in silent for good, --boot-timeout 3: a hang that says hapvisor was never reached
#   failline QEMU TCG (no VMX, about 1 s) with --fail on hapvisor's probe line: exit 1, type fail_line
#   nofile   a kernel that does not exist: exit 2, an error element, no emulator started
# Each case's files are in build/lanes/smoke-testkernel/CASE/, its report in CASE.xml, its output in CASE.out;
# the lane's serial.log collects the cases' outputs (the runner prints the serial tail of a failed run).
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

lane_begin smoke-testkernel 90 # each case has its own --timeout; measured: the six in 25-30 s
lane_need_tool xmllint

# smoke CASE WANT-RC ARGS...: run the runner as CASE (folder LANE_DIR/CASE, report LANE_DIR/CASE.xml);
# its exit status must be WANT-RC and its report well-formed XML.
smoke() {
	local case=$1 want=$2 rc
	shift 2
	"$LANES_ROOT/scripts/boot-smoke.sh" --workdir "$LANE_DIR" --name "$case" --junit "$LANE_DIR/$case.xml" \
		"$@" >"$LANE_DIR/$case.out" 2>&1
	rc=$?
	{ echo "=== case $case: exit $rc (want $want)"; cat "$LANE_DIR/$case.out"; } >>"$LANE_DIR/cases.log"
	[ "$rc" -eq "$want" ] || lane_fail "case $case: the runner exited $rc, not $want: $(head -n 2 "$LANE_DIR/$case.out")"
	if [ ! -s "$LANE_DIR/$case.xml" ]; then
		lane_fail "case $case: no JUnit report $case.xml"
	elif ! xmllint --noout "$LANE_DIR/$case.xml" 2>"$LANE_DIR/$case.xmllint"; then
		lane_fail "case $case: $case.xml is not well-formed XML: $(head -n 1 "$LANE_DIR/$case.xmllint")"
	fi
}

# junit_has CASE REGEX WHY / junit_lacks CASE REGEX WHY: the report of CASE has (has no) a line matching REGEX.
junit_has() { grep -Eq -- "$2" "$LANE_DIR/$1.xml" 2>/dev/null || lane_fail "case $1: $1.xml lacks /$2/ ($3)"; }
junit_lacks() {
	! grep -Eq -- "$2" "$LANE_DIR/$1.xml" 2>/dev/null || lane_fail "case $1: $1.xml has /$2/ ($3)"
}

start=$(_now_us)

smoke pass 0 --lane bochs --kernel build/guests/testkernel-mb2.elf --cmdline "testkernel mb2" \
	--fail 'testkernel: check=[a-z0-9_]+ result=fail' --timeout 90
junit_has pass '^<testsuite name="hapvisor-boot-smoke" tests="1" failures="0" errors="0" ' 'one suite, no failure'
junit_has pass '^  <testcase classname="hapvisor-boot-smoke" name="pass" time="[0-9.]+">' 'the test case'
junit_lacks pass '<(failure|error)[ >]' 'a passing run'
junit_has pass '^testkernel: [0-9]+ passed, 0 failed$' 'the serial log in system-out'
junit_has pass '^hapvisor: event=exit status=ok action=poweroff ' 'the serial log in system-out'
# The run itself: its serial log must show a complete, clean test-kernel run.
LANE_SERIAL=$LANE_DIR/pass/serial.log
expect_common
expect_testkernel
LANE_SERIAL=$LANE_DIR/serial.log

smoke hang 1 --lane bochs --kernel build/guests/spin-mb1.bin --timeout 10
junit_has hang 'failures="1" errors="0"' 'one failure'
junit_has hang '<failure type="hang" message="hang: no /hapvisor: event=exit status=ok' 'the hang names the missing line'
junit_has hang '^--- last [0-9]+ lines of the serial log ---$' 'the failure carries the serial tail'
junit_has hang '^spin: spinning with interrupts off, forever' 'the guest ran (system-out)'
grep -q "^boot-smoke hang: FAIL: hang: " "$LANE_DIR/hang.out" || lane_fail "case hang: no 'FAIL: hang:' verdict"

# The clock of --timeout starts at hapvisor's first line, so however long firmware and GRUB take on a busy
# machine, a hang is judged on hapvisor's and the guest's time alone. No emulator: the stand-in replays a
# hung run's lines after 6 s of silence (a clock over the whole run fired at 3 s, on an empty log).
printf '%s\n' 'hapvisor: event=boot stage=entry tsc_entry=1' 'hapvisor: event=vmlaunch cpu=0 rip=0x100000' \
	'spin: spinning with interrupts off, forever' >"$LANE_DIR/replay-serial.log"
HAPVISOR_BOCHS=$LANES_ROOT/tests/lanes/replay-emulator.sh REPLAY_DELAY=6 REPLAY_SERIAL=$LANE_DIR/replay-serial.log \
	smoke slowboot 1 --lane bochs --kernel build/guests/spin-mb1.bin --timeout 3
junit_has slowboot "<failure type=\"hang\" message=\"hang: no /[^\"]* within 3 s of hapvisor(&apos;|')s first line \(--timeout\)" \
	'the hang is counted from hapvisor'"'"'s first line'
junit_has slowboot '^--- last [0-9]+ lines of the serial log ---$' 'the failure carries the serial tail'
junit_has slowboot '^spin: spinning with interrupts off, forever' 'the replayed guest line (system-out)'

HAPVISOR_BOCHS=$LANES_ROOT/tests/lanes/replay-emulator.sh \
	smoke noboot 1 --lane bochs --kernel build/guests/spin-mb1.bin --timeout 3 --boot-timeout 3
junit_has noboot '<failure type="hang" message="hang: the firmware and GRUB did not reach hapvisor within 3 s \(--boot-timeout\)' \
	'a machine that never reaches hapvisor is a hang of its own'

smoke failline 1 --lane tcg --kernel build/guests/testkernel-mb2.elf --timeout 20 \
	--fail 'hapvisor: event=vmx_probe supported=0 '
junit_has failline '<failure type="fail_line" message="failure line \(--fail ' 'the --fail line comes first'
junit_has failline 'hapvisor ended with an error: hapvisor: event=exit status=error' 'hapvisor error exit also listed'

smoke nofile 2 --kernel "$LANE_DIR/no-such-kernel.elf"
junit_has nofile '<error type="setup" message="[^"]*no-such-kernel.elf does not exist"' 'the missing file is named'
[ ! -e "$LANE_DIR/nofile" ] || lane_fail "case nofile: the runner started a run"

LANE_RUN_US=$(($(_now_us) - start))
cp "$LANE_DIR/cases.log" "$LANE_SERIAL"
lane_end
