#!/usr/bin/env bash
# Boot-smoke runner: boot one guest kernel under hapvisor (VT-x with EPT) in the best emulator this host
# has, wait for an expected serial line or a failure, and report in words, in the exit status and in JUnit
# XML. For other projects' CI: docs/ci.md.
#
#   scripts/boot-smoke.sh --kernel FILE [options]
#
#   --kernel FILE        the guest: Multiboot1/2 ELF, flat Multiboot1 image, Linux PVH vmlinux, bzImage
#   --initrd FILE        a second module for the guest (a Linux initramfs)
#   --cmdline STR        the guest's command line (default "console=ttyS0,115200")
#   --hv-options STR     hapvisor's options (docs/options.md); on_exit=poweroff is added unless on_exit=
#                        is given (default "on_exit=poweroff")
#   --lane auto|kvm|bochs|tcg
#                        auto (default): kvm where this host offers nested VMX, else bochs.
#                        kvm: QEMU -accel kvm -cpu host,+vmx. bochs: the project's Bochs 3.0, emulated VMX + EPT.
#                        tcg: QEMU without VMX, only to check the plumbing (hapvisor refuses: exit 1)
#   --bochs-cpu MODEL    Bochs's CPU model (default $BOCHS_CPU or corei7_skylake_x; docs/cpu-features.md)
#   --memory MIB         guest RAM of the emulated machine (default 512)
#   --expect REGEX       the line that means success (extended regex; default: hapvisor's clean end,
#                        'hapvisor: event=exit status=ok')
#   --fail REGEX         a line that means failure; repeatable. Always failures: hapvisor's panic and
#                        exception lines, its error exit, a guest exit with a nonzero status, and
#                        "Kernel panic - not syncing"
#   --timeout SECONDS    the limit for hapvisor and the guest, counted from hapvisor's first serial line
#                        (default 600); when it fires: "hang"
#   --boot-timeout SECONDS
#                        the limit for the firmware and GRUB to reach hapvisor's first line (default 300;
#                        generous, since a busy machine slows them down); when it fires: "hang" too
#   --junit FILE         write a JUnit XML report there (one testsuite, one testcase)
#   --name NAME          the test case's name and the run's folder (default boot-smoke)
#   --workdir DIR        where the run's folder goes (default build/smoke): DIR/NAME is emptied first
#
# Exit status: 0 the expected line came and no failure line; 1 the boot failed (failure line, hapvisor
# error, hang, expected line missing, emulator crash); 2 nothing was booted (bad usage, a missing file or
# tool, a failed hapvisor or ISO build). The run's files: DIR/NAME/ (serial.log, boot.iso, grub.cfg, the
# emulator's logs), as for the lanes (tests/lanes/lib.sh, docs/testing.md).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=tests/lanes/lib.sh
. "$root/tests/lanes/lib.sh"

SMOKE_DEFAULT_EXPECT='hapvisor: event=exit status=ok( |$)'
# Lines after which the run cannot succeed, whatever --fail says.
SMOKE_BUILTIN_FAILS=(
	'hapvisor: event=(panic|exception)( |$)'
	'hapvisor: event=exit status=error( |$)'
	'hapvisor: event=guest_exit cpu=[0-9]+ status=[1-9]'
	'Kernel panic - not syncing'
)
SMOKE_SUITE=hapvisor-boot-smoke

kernel='' initrd='' cmdline='console=ttyS0,115200' hv_options='on_exit=poweroff' lane=auto
bochs_cpu=${BOCHS_CPU:-corei7_skylake_x} memory=512 expect=$SMOKE_DEFAULT_EXPECT timeout=600 boot_timeout=300
junit='' name=boot-smoke workdir=$root/build/smoke
fails=("${SMOKE_BUILTIN_FAILS[@]}")
lane_why='' # why this lane was chosen
SMOKE_KIND='' # the class of the first failure: hang, fail_line, hapvisor_error, no_expect, emulator

usage() {
	sed -n '2,/^set -uo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# ---- JUnit XML ---------------------------------------------------------------------------------------

# xml_text: stdin as XML character data: valid UTF-8 only, no control characters XML 1.0 forbids, the
# five markup characters escaped.
xml_text() {
	{ iconv -f UTF-8 -t UTF-8 -c 2>/dev/null || true; } | tr -d '\000-\010\013\014\016-\037' |
		sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g' -e "s/'/\&apos;/g"
}
xml_attr() { printf '%s' "$1" | tr '\n\t' '  ' | xml_text; }

# junit_write RESULT KIND MESSAGE DETAIL: write --junit FILE (if given) for one test case whose RESULT is
# pass, failure or error; KIND and MESSAGE name the failure, DETAIL is the failure element's text. The
# serial log (if any) is the test case's system-out, the tail of the emulator's log its system-err.
junit_write() {
	local result=$1 kind=$2 message=$3 detail=$4 secs=0 failures=0 errors=0 serial='' f
	[ -n "$junit" ] || return 0
	[ "$result" = failure ] && failures=1
	[ "$result" = error ] && errors=1
	[ -n "${LANE_RUN_US:-}" ] && secs=$(_secs "$LANE_RUN_US")
	[ -n "${LANE_SERIAL:-}" ] && [ -f "$LANE_SERIAL" ] && serial=$LANE_SERIAL
	mkdir -p "$(dirname "$junit")" 2>/dev/null
	{
		echo '<?xml version="1.0" encoding="UTF-8"?>'
		printf '<testsuite name="%s" tests="1" failures="%s" errors="%s" skipped="0" time="%s" timestamp="%s" hostname="%s">\n' \
			"$SMOKE_SUITE" "$failures" "$errors" "$secs" "$(date -u +%Y-%m-%dT%H:%M:%S)" \
			"$(xml_attr "$(hostname 2>/dev/null || echo unknown)")"
		echo '  <properties>'
		for f in "lane=$lane" "why=$lane_why" "bochs_cpu=$bochs_cpu" "kernel=$kernel" "initrd=$initrd" \
			"cmdline=$cmdline" "hv_options=$hv_options" "expect=$expect" "timeout=$timeout" "boot_timeout=$boot_timeout"; do
			printf '    <property name="%s" value="%s"/>\n' "${f%%=*}" "$(xml_attr "${f#*=}")"
		done
		echo '  </properties>'
		printf '  <testcase classname="%s" name="%s" time="%s">\n' "$SMOKE_SUITE" "$(xml_attr "$name")" "$secs"
		if [ "$result" != pass ]; then
			printf '    <%s type="%s" message="%s">' "$result" "$kind" "$(xml_attr "$message")"
			printf '%s\n' "$detail" | xml_text
			printf '    </%s>\n' "$result"
		fi
		printf '    <system-out>'
		[ -z "$serial" ] || xml_text <"$serial"
		echo '</system-out>'
		printf '    <system-err>'
		for f in ${LANE_EXTRA_LOGS[@]+"${LANE_EXTRA_LOGS[@]}"}; do
			[ -f "$f" ] && { echo "--- last lines of $f ---"; tail -n 30 "$f"; } | xml_text
		done
		echo '</system-err>'
		echo '  </testcase>'
		echo '</testsuite>'
	} >"$junit.tmp" && mv "$junit.tmp" "$junit" || echo "boot-smoke: could not write $junit" >&2
}

# smoke_error MESSAGE: nothing could be booted: say why, write the JUnit error, exit 2.
smoke_error() {
	echo "boot-smoke ${name}: ERROR: $1" >&2
	junit_write error setup "$1" "$1"
	exit 2
}
# A missing tool or a failed ISO build (lib.sh's lane_abort) is a setup error here, not a failed boot.
lane_abort() { smoke_error "$1"; }

# ---- options -----------------------------------------------------------------------------------------

while [ $# -gt 0 ]; do
	opt=$1 val=
	case $opt in
	-h | --help) usage; exit 0 ;;
	--*=*) val=${opt#*=} opt=${opt%%=*} ;;
	--*)
		[ $# -ge 2 ] || { echo "boot-smoke: $opt needs a value (--help)" >&2; exit 2; }
		val=$2
		shift
		;;
	*) echo "boot-smoke: unexpected argument '$opt' (--help)" >&2; exit 2 ;;
	esac
	shift
	case $opt in
	--kernel) kernel=$val ;;
	--initrd) initrd=$val ;;
	--cmdline) cmdline=$val ;;
	--hv-options) hv_options=$val ;;
	--lane) lane=$val ;;
	--bochs-cpu) bochs_cpu=$val ;;
	--memory) memory=$val ;;
	--expect) expect=$val ;;
	--fail) fails+=("$val") ;;
	--timeout) timeout=$val ;;
	--boot-timeout) boot_timeout=$val ;;
	--junit) junit=$val ;;
	--name) name=$val ;;
	--workdir) workdir=$val ;;
	*) echo "boot-smoke: unknown option $opt (--help)" >&2; exit 2 ;;
	esac
done
if ! [[ $name =~ ^[A-Za-z0-9_-][A-Za-z0-9._-]*$ ]]; then
	echo "boot-smoke: --name '$name': letters, digits, '.', '_' and '-' only, not first '.'" >&2
	exit 2
fi
[[ $timeout =~ ^[1-9][0-9]*$ ]] || smoke_error "--timeout '$timeout' is not a number of seconds"
[[ $boot_timeout =~ ^[1-9][0-9]*$ ]] || smoke_error "--boot-timeout '$boot_timeout' is not a number of seconds"
[[ $memory =~ ^[1-9][0-9]*$ ]] || smoke_error "--memory '$memory' is not a number of MiB"
[ -n "$kernel" ] || smoke_error "no --kernel FILE given (--help)"
for f in "$kernel" ${initrd:+"$initrd"}; do
	[ -e "$f" ] || smoke_error "$f does not exist"
	if [ ! -f "$f" ] || [ ! -r "$f" ] || [ ! -s "$f" ]; then smoke_error "$f is not a readable, non-empty file"; fi
done
kernel=$(realpath "$kernel")
workdir=$(realpath -m "$workdir")
[ -z "$initrd" ] || initrd=$(realpath "$initrd")
[[ $hv_options == *on_exit=* ]] || hv_options="on_exit=poweroff${hv_options:+ $hv_options}"
for re in "$expect" "${fails[@]}"; do
	grep -Eq -- "$re" /dev/null 2>/dev/null
	[ $? -le 1 ] || smoke_error "'$re' is not an extended regular expression (grep -E)"
done

# ---- the lane ----------------------------------------------------------------------------------------

case $lane in
auto)
	lane_why=$(kvm_vmx_unusable)
	if [ -z "$lane_why" ]; then
		lane=kvm lane_why="/dev/kvm, vmx and kvm_intel nested=Y are all here"
	else
		lane=bochs
	fi
	;;
kvm)
	lane_why=$(kvm_vmx_unusable)
	[ -z "$lane_why" ] || smoke_error "--lane kvm: $lane_why"
	lane_why="asked for (--lane kvm)"
	;;
bochs | tcg) lane_why="asked for (--lane $lane)" ;;
*) smoke_error "--lane '$lane': auto, kvm, bochs or tcg" ;;
esac

LANES_OUT=$workdir
LANE_WORD=boot-smoke
unset LANE_TIMEOUT
# --timeout counts from hapvisor's first line (lane_run's LANE_HV_LIMIT); the emulator's own limit is the
# sum, the backstop for firmware and GRUB that never reach hapvisor.
LANE_HV_LIMIT=$timeout
lane_begin "$name" $((boot_timeout + timeout))
machine=$lane
[ "$lane" = bochs ] && machine="bochs ($bochs_cpu)"
echo "boot-smoke $name: $(basename "$kernel") under hapvisor in $machine: $lane_why; limit $timeout s" \
	"from hapvisor's start ($boot_timeout s before it); files in ${LANE_DIR#"$root"/}/"

# hapvisor itself, up to date (a no-op when `make` already ran).
make -C "$root" --no-print-directory build/hapvisor.elf >"$LANE_DIR/build.log" 2>&1 ||
	smoke_error "building hapvisor failed (make build/hapvisor.elf; scripts/deps.sh build installs what it needs): $(tail -n 3 "$LANE_DIR/build.log" | tr '\n' ' ')"

# The ISO: one GRUB entry, hapvisor + the guest (lane_iso). Fixed names inside the ISO, so any file name
# works and the kernel and the initrd cannot collide.
lane_need_tool grub-mkrescue xorriso mformat /usr/lib/grub/i386-pc
mkdir -p "$LANE_DIR/guest"
ln -s "$kernel" "$LANE_DIR/guest/kernel"
modules=("$LANE_DIR/guest/kernel" "$cmdline")
if [ -n "$initrd" ]; then
	ln -s "$initrd" "$LANE_DIR/guest/initrd"
	modules+=("$LANE_DIR/guest/initrd" "")
fi
lane_iso "$hv_options" "${modules[@]}"

# Stop the run soon after the expected line or a failure line (lane_run: 3 s for the rest of the report).
for re in "$expect" "${fails[@]}"; do
	LANE_STOP_WATCH+=("$LANE_SERIAL"$'\t'"$re")
done
case $lane in
# Linux reads MSRs Bochs lacks (IA32_MISC_ENABLE): ignore them, as the Linux lanes do (tests/linux/lane.sh).
bochs) lane_run_bochs "$bochs_cpu" 'cpu: ignore_bad_msrs=1' "memory: guest=$memory, host=$memory" ;;
kvm) LANE_QEMU_ACCEL=kvm lane_run_qemu bios -cpu host,+vmx -m "$memory" ;;
tcg) lane_run_qemu bios -m "$memory" ;;
esac

# ---- the verdict -------------------------------------------------------------------------------------

# smoke_fail KIND MESSAGE: record a failure; the first one's KIND is the JUnit failure type.
smoke_fail() {
	[ -n "$SMOKE_KIND" ] || SMOKE_KIND=$1
	lane_fail "$2"
}
last_event=$(grep -E '^hapvisor: event=' "$LANE_SERIAL" | tail -n 1 | cut -c 1-200)
where=${last_event:+; the last hapvisor event: $last_event}
[ -s "$LANE_SERIAL" ] || where="; the serial log is empty (the firmware or GRUB did not get to hapvisor)"
if [ "$LANE_TIMED_OUT" = 1 ]; then
	# lane_run's own "timed out" failure is the first; say it the runner's way.
	SMOKE_KIND=hang
	if [ -n "$LANE_HV_START_US" ]; then
		LANE_FAILS[0]="hang: no /$expect/ line and no power-off within $timeout s of hapvisor's first line (--timeout)$where"
	else
		LANE_FAILS[0]="hang: the firmware and GRUB did not reach hapvisor within $boot_timeout s (--boot-timeout)$where"
	fi
elif [ ${#LANE_FAILS[@]} -gt 0 ]; then
	SMOKE_KIND=emulator # a triple fault, an emulator crash, no power-off after hapvisor's exit line
fi
for re in "${fails[@]:${#SMOKE_BUILTIN_FAILS[@]}}"; do
	m=$(grep -E -m1 -- "$re" "$LANE_SERIAL") && smoke_fail fail_line "failure line (--fail '$re'): $m"
done
m=$(grep -E -m1 -- 'hapvisor: event=(panic|exception)( |$)' "$LANE_SERIAL") &&
	smoke_fail hapvisor_error "hapvisor stopped on an internal error: $m"
m=$(grep -E -m1 -- 'Kernel panic - not syncing' "$LANE_SERIAL") && smoke_fail fail_line "the guest panicked: $m"
m=$(grep -E -m1 -- 'hapvisor: event=guest_exit cpu=[0-9]+ status=[1-9]' "$LANE_SERIAL") &&
	smoke_fail hapvisor_error "the guest ended with a failure: $m"
m=$(grep -E -m1 -- 'hapvisor: event=exit status=error( |$)' "$LANE_SERIAL") &&
	smoke_fail hapvisor_error "hapvisor ended with an error: $m"
grep -Eq -- "$expect" "$LANE_SERIAL" || [ "$LANE_TIMED_OUT" = 1 ] ||
	smoke_fail no_expect "the run ended without a /$expect/ line$where"

if [ ${#LANE_FAILS[@]} -eq 0 ]; then
	junit_write pass '' '' ''
else
	detail=$(printf '%s\n' "${LANE_FAILS[@]}")
	if [ -s "$LANE_SERIAL" ]; then
		detail+=$'\n'"--- last $LANE_TAIL_LINES lines of the serial log ---"$'\n'
		detail+=$(tail -n "$LANE_TAIL_LINES" "$LANE_SERIAL")
	fi
	junit_write failure "$SMOKE_KIND" "${LANE_FAILS[0]}" "$detail"
fi
lane_end
