# shellcheck shell=bash
# Shared helpers for the boot lanes (sourced, not run). A lane script reads like this:
#
#   . "$(dirname "$0")/lib.sh"
#   lane_begin qemu-bios 15               # fresh build/lanes/qemu-bios/, checks the ISO; 15 s limit
#   lane_run_qemu bios                    # boots the ISO under `timeout`, serial to serial.log
#   expect_common                         # the lines every lane needs, the panic/exception rejections
#   expect_line 'hapvisor: event=boot_info firmware=bios( |$)'
#   expect_event vmx_probe supported=1 ept=1
#   lane_end                              # prints "lane NAME: PASS (S s)" or "lane NAME: FAIL: ...", exits
#
# Decisions come from the serial log only (plus the emulators' own logs for triple faults); the serial log
# is kept as the emulator wrote it in serial.raw and cleaned (no CRs, no terminal escapes) in serial.log.
#
# Environment:
#   HV_ISO          the ISO to boot (default build/hapvisor.iso)
#   LANE_HV_ELF     the hypervisor lane_iso puts on a lane's own ISO (default build/hapvisor.elf, the release
#                   image; the lanes that need test hooks use build/test/hapvisor.elf)
#   LANES_OUT       the folder that holds the lanes' folders (default build/lanes; scripts/boot-smoke.sh)
#   LANE_TIMEOUT    wall-clock limit of one emulator run, seconds (default: the lane's, from lane_begin)
#   LANE_HV_LIMIT   when set: a second limit, in seconds counted from hapvisor's first serial line, so that
#                   slow firmware and GRUB (a busy machine) are not charged to it (scripts/boot-smoke.sh)
#   POWEROFF_GRACE  seconds allowed between the exit line and the emulator ending (default 10)
#   BOCHS_MEMORY_MIB  RAM of the Bochs machine, MiB (default 512)
#   BOCHS_MAGIC_PTIME set: print Bochs's instruction count at the guest's magic breakpoint (make bench)
#   BOCHS_QUANTUM   with BOCHS_CPUS > 1: instructions each CPU runs before Bochs switches to the next (its
#                   default 16); 1 makes the TSC (one tick per round of all CPUs) an exact per-CPU
#                   instruction count, at some cost in speed (make bench)

LANES_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HV_ISO=${HV_ISO:-$LANES_ROOT/build/hapvisor.iso}
LANE_HV_ELF=${LANE_HV_ELF:-$LANES_ROOT/build/hapvisor.elf}
POWEROFF_GRACE=${POWEROFF_GRACE:-10}
LANE_TAIL_LINES=40

# Log lines after which the run cannot succeed: the emulator is stopped early (after a short grace for the
# rest of the report) instead of waiting for the timeout. "FILE<tab>REGEX"; lane_begin resets the list to
# the serial-log entry, the emulator runners add their firmware's "nothing to boot" lines.
LANE_STOP_SERIAL='hapvisor: event=(panic|exception)( |$)'
# Any exit line, status ok or error: the machine must power off within POWEROFF_GRACE seconds of it.
LANE_EXIT_LINE='hapvisor: event=exit( |$)'

_now_us() { echo "${EPOCHREALTIME//[!0-9]/}"; } # microseconds, whatever the locale's decimal point
_secs() { awk -v us="$1" 'BEGIN { printf "%.1f", us / 1e6 }'; }

# lane_begin NAME LIMIT_S: start a lane whose emulator run may take LIMIT_S seconds (about 3x the measured
# run, see docs/testing.md; LANE_TIMEOUT overrides), in a fresh folder LANES_OUT/NAME.
lane_begin() {
	LANE=$1
	LANE_LIMIT=${LANE_TIMEOUT:-${2:-60}}
	LANE_DIR=${LANES_OUT:-$LANES_ROOT/build/lanes}/$LANE
	LANE_SERIAL_RAW=$LANE_DIR/serial.raw
	LANE_SERIAL=$LANE_DIR/serial.log
	LANE_FAILS=()
	LANE_PID=
	LANE_RUN_US=0
	LANE_TIMED_OUT=0
	LANE_CENTRY_US=
	LANE_HV_START_US=
	LANE_EXTRA_LOGS=()
	LANE_STOP_WATCH=("$LANE_SERIAL"$'\t'"$LANE_STOP_SERIAL")
	rm -rf "$LANE_DIR"
	mkdir -p "$LANE_DIR"
	: >"$LANE_SERIAL_RAW"
	: >"$LANE_SERIAL"
	trap _lane_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

# lane_check_iso: fail the lane at once (exit 1) when HV_ISO is not a usable ISO (lane_run calls it
# before it starts an emulator, so that lanes which build their own ISO need no default one).
lane_check_iso() {
	local sig
	[ -e "$HV_ISO" ] || lane_abort "ISO $HV_ISO does not exist (run 'make iso')"
	[ -s "$HV_ISO" ] || lane_abort "ISO $HV_ISO is empty (a failed 'make iso'?)"
	sig=$(dd if="$HV_ISO" bs=1 skip=32769 count=5 2>/dev/null)
	[ "$sig" = CD001 ] || lane_abort "$HV_ISO is not an ISO 9660 image (no CD001 at byte 32769)"
}

# lane_need_tool CMD-OR-FILE...: fail at once when one is missing.
lane_need_tool() {
	local t
	for t in "$@"; do
		if [[ $t == /* ]]; then [ -e "$t" ] && continue; else command -v "$t" >/dev/null && continue; fi
		lane_abort "$t is missing: run 'scripts/deps.sh test'"
	done
}

# lane_abort MESSAGE: fail the lane now, before or instead of a run.
lane_abort() {
	echo "lane $LANE: FAIL: $1"
	exit 1
}

lane_fail() { LANE_FAILS+=("$1"); }

_lane_clean_serial() {
	sed -e 's/\x1b\[[0-9;=?]*[A-Za-z]//g' -e 's/\x1b[()][0-9A-Za-z]//g' -e 's/\r//g' \
		"$LANE_SERIAL_RAW" >"$LANE_SERIAL.tmp" && mv "$LANE_SERIAL.tmp" "$LANE_SERIAL"
}

_lane_cleanup() {
	# Never leave an emulator behind: `timeout` leads its own process group, which holds the emulator.
	if [ -n "${LANE_PID:-}" ] && kill -0 "$LANE_PID" 2>/dev/null; then
		kill -TERM -- "-$LANE_PID" 2>/dev/null
		sleep 1
		kill -KILL -- "-$LANE_PID" 2>/dev/null
	fi
}

# _lane_stop: end the running emulator (TERM, then KILL after 5 s).
_lane_stop() {
	kill -TERM -- "-$LANE_PID" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 "$LANE_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL -- "-$LANE_PID" 2>/dev/null
}

_lane_stop_seen() {
	local w
	for w in "${LANE_STOP_WATCH[@]}"; do
		[ -f "${w%%$'\t'*}" ] && grep -Eq -- "${w#*$'\t'}" "${w%%$'\t'*}" && return 0
	done
	return 1
}

# lane_run CMD...: run one emulator under `timeout` (LANE_LIMIT seconds), its stdout+stderr in
# emulator.log, and watch its logs: note when hapvisor's first line (LANE_HV_START_US) and c_entry appear,
# stop early after a panic/exception line (or a LANE_STOP_WATCH line), stop a machine that printed the exit
# line but does not power off, and with LANE_HV_LIMIT stop it that many seconds after hapvisor's first line.
# Records a failure (and LANE_TIMED_OUT=1) on either timeout. The command must write the serial port to
# $LANE_SERIAL_RAW.
lane_run() {
	local limit=$LANE_LIMIT start now stop_at='' exit_at='' hv_deadline='' why=''
	lane_check_iso
	start=$(_now_us)
	timeout -k 5 "$limit" "$@" </dev/null >"$LANE_DIR/emulator.log" 2>&1 &
	LANE_PID=$!
	while kill -0 "$LANE_PID" 2>/dev/null; do
		sleep 0.1
		now=$(_now_us)
		_lane_clean_serial
		if [ -z "$LANE_HV_START_US" ] && grep -q '^hapvisor: ' "$LANE_SERIAL"; then
			LANE_HV_START_US=$((now - start))
			[ -z "${LANE_HV_LIMIT:-}" ] || hv_deadline=$((now + LANE_HV_LIMIT * 1000000))
		fi
		if [ -z "$LANE_CENTRY_US" ] && grep -q 'hapvisor: event=boot stage=c_entry' "$LANE_SERIAL"; then
			LANE_CENTRY_US=$((now - start))
		fi
		if [ -z "$stop_at" ] && _lane_stop_seen; then
			stop_at=$((now + 3000000)) # let the report finish and on_exit run
		fi
		if [ -z "$exit_at" ] && grep -Eq "$LANE_EXIT_LINE" "$LANE_SERIAL"; then
			exit_at=$((now + POWEROFF_GRACE * 1000000))
		fi
		if [ -n "$stop_at" ] && [ "$now" -ge "$stop_at" ]; then
			why=stopped
			break
		fi
		if [ -n "$exit_at" ] && [ "$now" -ge "$exit_at" ]; then
			lane_fail "the exit line was printed but the machine did not power off within ${POWEROFF_GRACE} s"
			why=stopped
			break
		fi
		if [ -n "$hv_deadline" ] && [ "$now" -ge "$hv_deadline" ]; then
			LANE_TIMED_OUT=1
			lane_fail "timed out ${LANE_HV_LIMIT} s after hapvisor's first line (no power-off; hung or looping)"
			why=stopped
			break
		fi
	done
	[ -n "$why" ] && _lane_stop
	wait "$LANE_PID"
	LANE_RC=$?
	LANE_PID=
	LANE_RUN_US=$(($(_now_us) - start))
	_lane_clean_serial
	if [ -z "$why" ] && { [ "$LANE_RC" -eq 124 ] || [ "$LANE_RC" -eq 137 ]; }; then
		# shellcheck disable=SC2034 # for the lane scripts (scripts/boot-smoke.sh)
		LANE_TIMED_OUT=1
		lane_fail "timed out after ${limit} s (no power-off; hung or looping)"
	fi
}

# lane_acpi_table FILE [EXCLUDE]: have the lane's GRUB entry (lane_iso, call before it) replace firmware ACPI
# tables: `acpi --exclude=EXCLUDE FILE` builds a new RSDP, RSDT and XSDT listing the firmware's tables but
# EXCLUDE (e.g. apic) and FILE (an ACPI table, e.g. from tests/lanes/madt.py) before hapvisor starts.
LANE_ACPI_TABLES=()
LANE_ACPI_EXCLUDE=
lane_acpi_table() {
	LANE_ACPI_TABLES+=("$1")
	LANE_ACPI_EXCLUDE=${2:-$LANE_ACPI_EXCLUDE}
}

# lane_iso HV-OPTIONS [MODULE [GUEST-CMDLINE [MODULE2 [CMDLINE2]]...]]: build this lane's own ISO
# (build/lanes/LANE/boot.iso) whose only menu entry boots hapvisor with HV-OPTIONS and, if given, MODULE (a
# path under the repository, or absolute) as the guest with GUEST-CMDLINE, then further modules in order
# (a Linux guest's initramfs); use it for this lane (call after lane_begin, before lane_run_*).
lane_iso() {
	local opts=$1 cfg=$LANE_DIR/grub.cfg files=() i
	shift
	local -a args=("$@")
	for ((i = 0; i < ${#args[@]}; i += 2)); do
		[[ ${args[i]} == /* ]] || args[i]=$LANES_ROOT/${args[i]}
		files+=("${args[i]}")
	done
	{
		echo 'set timeout=0'
		echo 'set default=0'
		echo 'serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1'
		echo 'terminal_input serial console'
		echo 'terminal_output serial console'
		echo 'insmod all_video' # as boot/grub.cfg: the GOP framebuffer under UEFI, VGA text under BIOS
		echo "menuentry \"lane $LANE\" {"
		if [ ${#LANE_ACPI_TABLES[@]} -gt 0 ]; then
			echo '	insmod acpi'
			echo "	acpi ${LANE_ACPI_EXCLUDE:+--exclude=$LANE_ACPI_EXCLUDE }$(for f in "${LANE_ACPI_TABLES[@]}"; do printf '/boot/%s ' "$(basename "$f")"; done)"
		fi
		echo "	multiboot2 /boot/hapvisor.elf $opts"
		# shellcheck disable=SC2016 # GRUB's variable
		echo '	if [ "$grub_platform" = "pc" ]; then set gfxpayload=text; fi'
		for ((i = 0; i < ${#args[@]}; i += 2)); do
			echo "	module2 /boot/$(basename "${args[i]}")${args[i + 1]:+ ${args[i + 1]}}"
		done
		echo '	boot'
		echo '}'
	} >"$cfg"
	[ -e "$LANE_HV_ELF" ] || lane_abort "$LANE_HV_ELF does not exist (run 'make', or 'make hv-test-build' for the test build)"
	files+=(${LANE_ACPI_TABLES[@]+"${LANE_ACPI_TABLES[@]}"})
	MKISO_MODULES=${LANE_ACPI_TABLES[0]:+acpi} "$LANES_ROOT/scripts/mkiso.sh" "$LANE_DIR/boot.iso" "$LANE_HV_ELF" \
		"$cfg" ${files[@]+"${files[@]}"} >/dev/null || lane_abort "could not build the lane's ISO"
	HV_ISO=$LANE_DIR/boot.iso
}

# lane_iso_readme HV-OPTIONS KERNEL GUEST-CMDLINE INITRD: build this lane's ISO from the GRUB menu entry
# README.md shows users (the code block after "GRUB convention"), word for word but for its placeholders:
# HAPVISOR-OPTIONS, KERNEL, GUEST-CMDLINE and INITRD (KERNEL and INITRD: files, put in /boot/). So a lane
# booting it proves the convention users copy works as written.
lane_iso_readme() {
	local opts=$1 kernel=$2 cmdline=$3 initrd=$4 cfg=$LANE_DIR/grub.cfg entry
	[[ $kernel == /* ]] || kernel=$LANES_ROOT/$kernel
	[[ $initrd == /* ]] || initrd=$LANES_ROOT/$initrd
	entry=$(awk '/GRUB convention/ { found = 1 } found && /^```/ { if (inside) exit; inside = 1; next }
		inside { print }' "$LANES_ROOT/README.md")
	[ -n "$entry" ] || lane_abort "README.md has no code block after 'GRUB convention'"
	{
		echo 'set timeout=0'
		echo 'set default=0'
		# Placeholders -> this lane's values (| as the sed separator: options and paths have none).
		sed -e "s|HAPVISOR-OPTIONS|$opts|" -e "s|/boot/KERNEL|/boot/$(basename "$kernel")|" \
			-e "s|GUEST-CMDLINE|$cmdline|" -e "s|/boot/INITRD|/boot/$(basename "$initrd")|" <<<"$entry"
	} >"$cfg"
	"$LANES_ROOT/scripts/mkiso.sh" "$LANE_DIR/boot.iso" "$LANE_HV_ELF" "$cfg" "$kernel" \
		"$initrd" >/dev/null || lane_abort "could not build the lane's ISO"
	HV_ISO=$LANE_DIR/boot.iso
}

# ---- expectations: one call per line in the lane scripts ---------------------------------------------

# expect_line REGEX [WHY]: some serial line matches the extended regex REGEX. When it is missing but the
# same event came with other values, the failure shows the line that came.
expect_line() {
	local ev got=
	grep -Eq -- "$1" "$LANE_SERIAL" && return 0
	ev=$(grep -Eo '^hapvisor: event=[a-z0-9_]+' <<<"$1") &&
		got=$(grep -E -m1 -- "$ev( |$)" "$LANE_SERIAL")
	lane_fail "missing line /$1/${2:+ ($2)}${got:+; got: $got}"
}

# reject_line REGEX [WHY]: no serial line matches REGEX.
reject_line() {
	local m
	m=$(grep -E -m1 -- "$1" "$LANE_SERIAL") && lane_fail "${2:-rejected line}: $m"
	return 0
}

# expect_event NAME FIELD-REGEX...: one line "hapvisor: event=NAME ..." carries every field, in any order.
# Each FIELD-REGEX matches one whole space-separated field: expect_event vmxon result=ok,
# expect_event region 'base=0x[0-9a-f]+' 'size=(0x)?[0-9a-f]+'.
expect_event() {
	local name=$1 f lines
	shift
	lines=$(grep -E -- "hapvisor: event=$name( |$)" "$LANE_SERIAL")
	for f in "$@"; do
		lines=$(grep -E -- " $f( |$)" <<<"$lines")
	done
	[ -n "$lines" ] && return 0
	lines=$(grep -E -m1 -- "hapvisor: event=$name( |$)" "$LANE_SERIAL")
	lane_fail "missing line 'hapvisor: event=$name${*:+ ... }$*'${lines:+; got: $lines}"
}

# reject_in_file FILE REGEX WHY [ALLOWED-REGEX]: a failure if an emulator log has a line matching REGEX
# (and not ALLOWED-REGEX): triple faults, emulator panics.
reject_in_file() {
	local m
	[ -f "$1" ] || return 0
	m=$(grep -E -- "$2" "$1" | { if [ -n "${4:-}" ]; then grep -Ev -- "$4"; else cat; fi; } | head -n 1)
	[ -z "$m" ] || lane_fail "$3: $m"
}

# expect_common: what every lane requires from every boot (each lane states its exit line itself).
expect_common() {
	reject_line 'hapvisor: event=panic( |$)' 'hapvisor panicked'
	reject_line 'hapvisor: event=exception( |$)' 'unexpected CPU exception in hapvisor'
	expect_line 'hapvisor: event=boot stage=c_entry( |$)'
	expect_line 'hapvisor: event=options( |$)'
	expect_line 'hapvisor: event=memmap map=firmware '
	expect_line 'hapvisor: event=memmap_total map=firmware( |$)'
	expect_event region 'base=0x[0-9a-fA-F]+' 'size=[0-9a-fA-Fx]+' # hapvisor's own region
}

# expect_testkernel: the test guest (tests/guests) ran every check it announced and all passed, reported
# through the hypercall, and hapvisor ended the run cleanly with its exit statistics.
expect_testkernel() {
	local announced summary
	reject_line 'testkernel: check=[a-z0-9_]+ result=fail' 'a test-kernel check failed'
	reject_line 'testkernel: unexpected exception' 'the test kernel took an unexpected exception'
	announced=$(grep -Eo -m1 '^testkernel: start, [0-9]+ checks' "$LANE_SERIAL" | grep -Eo '[0-9]+')
	summary=$(grep -E -m1 '^testkernel: [0-9]+ passed, [0-9]+ failed$' "$LANE_SERIAL")
	if [ -z "$announced" ] || [ "$summary" != "testkernel: $announced passed, 0 failed" ]; then
		lane_fail "test kernel: announced ${announced:-no} checks, summary '${summary:-none}'"
	fi
	expect_event guest_result 'passed=[1-9][0-9]*' failed=0
	expect_event entry_check cpu=0 result=pass failed=0 when=launch # vmx/entry_check.c found no broken rule
	expect_event vmlaunch cpu=0
	expect_event exit_stats cpu=0 reason=10 name=CPUID 'count=[1-9][0-9]*'
	expect_event exit_stats cpu=0 reason=18 name=VMCALL 'count=[1-9][0-9]*'
	expect_event exit_total cpu=0 'count=[1-9][0-9]*'
	if grep -q 'hapvisor: event=guest_paging mode=shadow ' "$LANE_SERIAL"; then
		expect_line '^testkernel: paging=shadow: ' 'the test kernel saw hapvisor say shadow paging'
		expect_event shadow_stats when=guest_exit 'fills=[1-9][0-9]*' relinks=0
	else
		expect_event ept_stats when=guest_exit violations_breach=0 misconfigs=0
	fi
	expect_event integrity stage=guest_exit match=1
	expect_event guest_mode cpu=0 paging=4-level # the test kernel runs in long mode (docs/guests.md)
	expect_line 'hapvisor: event=guest_exit cpu=0 status=0 ' 'the guest ended the run itself, with success'
	expect_line 'hapvisor: event=vmxoff result=ok( |$)'
	expect_line 'hapvisor: event=exit status=ok action=poweroff( |$)'
}

# expect_shadow_testkernel: the test kernel ran under shadow paging and its paging checks went through every
# part of the shadow MMU (docs/architecture.md): #PF exits filled and reflected, INVLPG and CR3 exits, writes
# to protected guest tables emulated, a table zeroed by REP STOSQ unprotected, kept roots found again.
expect_shadow_testkernel() {
	expect_event guest_paging mode=shadow
	expect_event vmlaunch cpu=0 paging=shadow eptp=0
	expect_testkernel
	expect_line '^testkernel: check=paging_table_writes result=pass'
	expect_event shadow_stats when=guest_exit 'guest_faults=[1-9][0-9]*' 'emulated_writes=[1-9][0-9]*' 'insn_emulation=[1-9][0-9]*' \
		'unprotects=[1-9][0-9]*' 'root_hits=[1-9][0-9]*' 'invlpgs=[1-9][0-9]*' relinks=0
	expect_event exit_stats cpu=0 reason=0 name=EXCEPTION_NMI 'count=[1-9][0-9]*'
	expect_event exit_stats cpu=0 reason=14 name=INVLPG 'count=[1-9][0-9]*'
	expect_event exit_stats cpu=0 reason=28 name=CR_ACCESS 'count=[1-9][0-9]*'
	reject_line 'hapvisor: event=ept_stats ' 'no EPT under shadow paging'
}

# ---- emulators -----------------------------------------------------------------------------------------

# lane_run_qemu bios|uefi [QEMU-ARGS...]: boot the ISO in QEMU TCG (LANE_QEMU_ACCEL=kvm: KVM, with
# -cpu host,+vmx among QEMU-ARGS); -no-reboot turns a triple fault into the end of the run, and
# -d cpu_reset logs it ("Triple fault") to qemu-debug.log.
lane_run_qemu() {
	local fw=$1 args
	shift
	lane_need_tool qemu-system-x86_64
	# shellcheck disable=SC2054 # the commas belong to QEMU options
	args=(-accel "${LANE_QEMU_ACCEL:-tcg}" -m 512 -cdrom "$HV_ISO" -display none -monitor none -nic none -no-reboot
		-serial "file:$LANE_SERIAL_RAW" -d cpu_reset,guest_errors -D "$LANE_DIR/qemu-debug.log"
		-chardev "file,id=fwlog,path=$LANE_DIR/firmware.log" -device isa-debugcon,iobase=0x402,chardev=fwlog)
	if [ "$fw" = uefi ]; then
		lane_need_tool /usr/share/OVMF/OVMF_CODE_4M.fd /usr/share/OVMF/OVMF_VARS_4M.fd
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$LANE_DIR/OVMF_VARS_4M.fd"
		# shellcheck disable=SC2054
		args+=(-machine q35
			-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive "if=pflash,format=raw,unit=1,file=$LANE_DIR/OVMF_VARS_4M.fd")
	fi
	LANE_STOP_WATCH+=("$LANE_DIR/firmware.log"$'\t''No bootable device'
		"$LANE_SERIAL"$'\t''BdsDxe: failed to load Boot[0-9A-F]+ "UEFI QEMU DVD-ROM')
	lane_run qemu-system-x86_64 "${args[@]}" "$@"
	LANE_EXTRA_LOGS=("$LANE_DIR/emulator.log")
	if [ "$LANE_RC" -ne 0 ] && [ "$LANE_RC" -ne 124 ] && [ "$LANE_RC" -ne 143 ] && [ "$LANE_RC" -ne 137 ]; then
		lane_fail "qemu-system-x86_64 failed (rc $LANE_RC): $(tail -n 1 "$LANE_DIR/emulator.log")"
	fi
	reject_in_file "$LANE_DIR/qemu-debug.log" 'Triple fault' 'triple fault (QEMU, see qemu-debug.log)'
	reject_in_file "$LANE_DIR/firmware.log" 'No bootable device' 'SeaBIOS found nothing to boot'
	reject_line 'BdsDxe: failed to load Boot[0-9A-F]+ "UEFI QEMU DVD-ROM' 'OVMF could not boot the CD'
}

# kvm_vmx_unusable: print why this host cannot run hapvisor in QEMU + KVM, which needs nested VMX (a
# usable /dev/kvm, vmx in /proc/cpuinfo, kvm_intel nested=Y); print nothing when it can. Used by
# scripts/run.sh and scripts/boot-smoke.sh.
kvm_vmx_unusable() {
	local nested
	if [ ! -c /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "no usable /dev/kvm"
	elif ! grep -qw vmx /proc/cpuinfo; then
		echo "this CPU has no VT-x (no vmx in /proc/cpuinfo)"
	else
		nested=$(cat /sys/module/kvm_intel/parameters/nested 2>/dev/null || echo missing)
		case $nested in
		Y | y | 1) ;;
		missing) echo "kvm_intel is not loaded" ;;
		*) echo "kvm_intel nested=$nested (modprobe kvm_intel nested=1 to enable)" ;;
		esac
	fi
}

# bochs_config CPU-MODEL ISO SERIAL-FILE LOG-FILE [EXTRA-LINE...]: print a bochsrc (TESTBED.md recipe) that
# boots ISO from CD with COM1 written to SERIAL-FILE; BOCHS_CPUS=N emulates N processors (default 1),
# BOCHS_QUANTUM=N sets how many instructions each runs in turn.
# Also used by scripts/run.sh.
bochs_config() {
	local model=$1 iso=$2 serial=$3 log=$4 line
	shift 4
	echo 'display_library: rfb, options="timeout=0"'
	echo "romimage: file=$BOCHS_ROM, options=fastboot"
	echo "vgaromimage: file=$BOCHS_VGAROM"
	# Bochs's default VGA has VBE, and a VBE mode set by GRUB (for hapvisor's Multiboot2 framebuffer
	# header tag, unless the menu entry sets gfxpayload=text after multiboot2) triple-faults inside GRUB;
	# the lane keeps that default so it catches the regression.
	# BOCHS_VGA=none (plain VGA) is the way round it when looking at something else.
	[ -z "${BOCHS_VGA:-}" ] || echo "vga: extension=$BOCHS_VGA"
	echo "cpu: model=$model, count=${BOCHS_CPUS:-1}, ips=100000000, reset_on_triple_fault=0, ignore_bad_msrs=0${BOCHS_QUANTUM:+, quantum=$BOCHS_QUANTUM}"
	echo "memory: guest=${BOCHS_MEMORY_MIB:-512}, host=${BOCHS_MEMORY_MIB:-512}"
	echo "ata0-master: type=cdrom, path=\"$iso\", status=inserted"
	echo 'boot: cdrom'
	echo "com1: enabled=1, mode=file, dev=\"$serial\""
	echo 'port_e9_hack: enabled=1'
	echo 'clock: sync=none'
	echo 'panic: action=fatal'
	echo 'error: action=report'
	echo "log: \"$log\""
	for line in "$@"; do echo "$line"; done
}

# The ROM images the source package lacks, from Debian 12's bochsbios and vgabios packages.
BOCHS_ROM=/usr/share/bochs/BIOS-bochs-latest
BOCHS_VGAROM=/usr/share/vgabios/vgabios.bin

# bochs_find: set BOCHS to the project's Bochs (scripts/bochs-build.sh: Bochs 3.0 from Debian 13's source,
# which delivers INIT as the SDM says; docs/testing.md, "The Bochs test bed"), or return 1 with the reason
# in BOCHS_MISSING. Never another Bochs: Debian 12's 2.7 cannot start an SMP guest's APs. HAPVISOR_BOCHS
# names a binary to use instead (a Bochs of the same or a later version, built with the same options).
bochs_find() {
	BOCHS=${HAPVISOR_BOCHS:-$("$LANES_ROOT/scripts/bochs-build.sh" --path)}
	BOCHS_MISSING=
	[ -x "$BOCHS" ] && return 0
	BOCHS_MISSING="the project's Bochs ($BOCHS) is not built: run 'scripts/deps.sh test' (it builds Bochs 3.0 from Debian's source package once; Debian 12's own Bochs 2.7 cannot run SMP guests)"
	return 1
}

# lane_run_bochs [CPU-MODEL] [EXTRA-BOCHSRC-LINE...]: boot the ISO in Bochs (default corei7_skylake_x).
# Every Bochs exit returns 1, so only bochs.log says how it ended: ">>PANIC<<" covers a triple fault
# ("3rd (13) exception with no resolution"), "No bootable device" and configuration errors, and also
# the normal power-off, which is allowed.
lane_run_bochs() {
	local model=${1:-corei7_skylake_x}
	shift || true
	bochs_find || lane_abort "$BOCHS_MISSING"
	lane_need_tool "$BOCHS_ROM" "$BOCHS_VGAROM"
	local debugger=()
	if [ -n "${BOCHS_MAGIC_PTIME:-}" ]; then
		# make bench: stop at the guest's magic breakpoint (xchg bx, bx; tests/linux/bochs-mark.asm), print
		# the instruction count there ("ptime: N" in emulator.log, bochs_ptime_at_magic), run on. Bochs 3.0
		# honours magic breakpoints only with its debugger active (-dbg; cpu/data_xfer16.cc), 2.7 always.
		bochs_config "$model" "$HV_ISO" "$LANE_SERIAL_RAW" "$LANE_DIR/bochs.log" "$@" \
			'magic_break: enabled=1' >"$LANE_DIR/bochsrc"
		printf 'c\nptime\nc\nquit\n' >"$LANE_DIR/bochs.rc"
		debugger=(-dbg)
	else
		bochs_config "$model" "$HV_ISO" "$LANE_SERIAL_RAW" "$LANE_DIR/bochs.log" "$@" >"$LANE_DIR/bochsrc"
		printf 'c\nquit\n' >"$LANE_DIR/bochs.rc"
	fi
	lane_run "$BOCHS" -q "${debugger[@]}" -f "$LANE_DIR/bochsrc" -rc "$LANE_DIR/bochs.rc"
	LANE_EXTRA_LOGS=("$LANE_DIR/bochs.log")
	reject_in_file "$LANE_DIR/bochs.log" 'exception with no resolution' 'triple fault (Bochs, see bochs.log)'
	reject_in_file "$LANE_DIR/bochs.log" '>>PANIC<<' 'Bochs stopped (see bochs.log)' \
		'ACPI control: soft power off|Shutdown port: shutdown requested|exception with no resolution'
}

# bochs_ptime_at_magic LANE-DIR: the instruction count Bochs printed at the magic breakpoint of a run with
# BOCHS_MAGIC_PTIME=1 (empty if the guest never reached it).
bochs_ptime_at_magic() {
	grep -aEo -m1 'ptime: [0-9]+' "$1/emulator.log" 2>/dev/null | grep -Eo '[0-9]+'
}

# ---- verdict -------------------------------------------------------------------------------------------

# lane_end: print the verdict line, "lane NAME: ..." (LANE_WORD replaces "lane"), and on failure the
# other failures and the serial tail; exit 0 or 1.
lane_end() {
	local rel=${LANE_DIR#"$LANES_ROOT"/} f centry=never
	[ -n "$LANE_CENTRY_US" ] && centry="$(_secs "$LANE_CENTRY_US") s"
	printf 'run %s s, c_entry after %s, rc %s\n' "$(_secs "$LANE_RUN_US")" "$centry" "${LANE_RC:-}" \
		>"$LANE_DIR/timing"
	if [ ${#LANE_FAILS[@]} -eq 0 ]; then
		echo "${LANE_WORD:-lane} $LANE: PASS ($(_secs "$LANE_RUN_US") s)"
		exit 0
	fi
	echo "${LANE_WORD:-lane} $LANE: FAIL: ${LANE_FAILS[0]}"
	for f in "${LANE_FAILS[@]:1}"; do echo "    also: $f"; done
	echo "    run $(_secs "$LANE_RUN_US") s (limit ${LANE_LIMIT:-?} s), c_entry after $centry; logs in $rel/"
	if [ -s "$LANE_SERIAL" ]; then
		echo "    --- last $LANE_TAIL_LINES lines of $rel/serial.log ---"
		tail -n "$LANE_TAIL_LINES" "$LANE_SERIAL" | awk '{ print "    | " $0 }'
	else
		echo "    --- serial log is empty; last lines of the emulator's log ---"
		for f in "${LANE_EXTRA_LOGS[@]}"; do
			[ -f "$f" ] && grep -v '^\(00000000000i\|ALSA\)' "$f" | tail -n 15 | awk '{ print "    | " $0 }'
		done
	fi
	exit 1
}
