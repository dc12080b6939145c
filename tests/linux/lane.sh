# shellcheck shell=bash
# Helpers of the Linux lanes (tests/lanes/*linux*.sh), sourced after tests/lanes/lib.sh.
#
#   LINUX_KERNEL  the kernel a lane boots (default build/linux/vmlinux or build/linux/bzImage)
#   LINUX_INITRD  the initramfs (default build/linux/initramfs.cpio.gz); its /init must print the
#                 linuxcheck lines of tests/linux/init for the lane to pass

LINUX_DIR=build/linux
LINUX_INITRD=${LINUX_INITRD:-$LINUX_DIR/initramfs.cpio.gz}
# The guest's command line in the Linux lanes; nokaslr keeps runs alike. No panic=-1: Linux's reboot after a
# panic resets the machine through the keyboard controller (port 0x64), hapvisor and all; the lanes stop the
# run at the panic line instead (linux_stop_on_panic).
LINUX_CMDLINE=${LINUX_CMDLINE:-console=ttyS0,115200 earlyprintk=serial,ttyS0,115200 nokaslr}
# Bochs lacks MSRs that Linux reads (IA32_MISC_ENABLE in the decompressor): TESTBED.md. An extra bochsrc
# line for lane_run_bochs; Bochs applies a second cpu: line on top of the first.
# shellcheck disable=SC2034 # used by the lane scripts
LINUX_BOCHS_CPU_LINE='cpu: ignore_bad_msrs=1'

# linux_need FILE...: the Linux assets exist (else fail the lane with the command that builds them).
linux_need() {
	local f
	for f in "$@"; do
		[[ $f == /* ]] || f=$LANES_ROOT/$f
		[ -s "$f" ] || lane_abort "$f is missing: run 'make linux-assets' (scripts/linux-assets.sh)"
	done
}

# linux_stop_on_panic: end the run soon after a kernel panic instead of at the time limit. An exception
# before the kernel's panic machinery is up ("PANIC: early exception") halts the CPU for good.
linux_stop_on_panic() {
	LANE_STOP_WATCH+=("$LANE_SERIAL"$'\t''Kernel panic - not syncing|PANIC: early exception')
}

# linux_marks_start / linux_marks_stop: note when milestones first appear on the serial port, seconds
# from the watch's start (just before the emulator's), in LANE_DIR/marks (timings: tests/linux/README.md).
# The watch ends with the lane's shell, however that ends.
LINUX_MARKS=('hapvisor: event=boot stage=c_entry' 'hapvisor: event=guest_load' 'Linux version'
	'Run /init as init process' 'linuxcheck: start' 'linuxcheck: check=hapvisor_reserved'
	'linuxcheck: check=memory_rw' 'linuxcheck: [0-9]+ passed' 'reboot: Power down' 'hapvisor: event=exit')
linux_marks_start() {
	(
		start=$(_now_us) seen=()
		: >"$LANE_DIR/marks"
		while kill -0 $$ 2>/dev/null && sleep 0.2; do
			for i in "${!LINUX_MARKS[@]}"; do
				[ -z "${seen[$i]:-}" ] || continue
				grep -Eaq -- "${LINUX_MARKS[$i]}" "$LANE_SERIAL_RAW" || continue
				seen[i]=1
				printf '%6s s  %s\n' "$(_secs $(($(_now_us) - start)))" "${LINUX_MARKS[$i]}" >>"$LANE_DIR/marks"
			done
		done
	) &
	LINUX_MARKS_PID=$!
}
linux_marks_stop() {
	sleep 0.3 # one more look at the log
	kill "$LINUX_MARKS_PID" 2>/dev/null
	wait "$LINUX_MARKS_PID" 2>/dev/null
	return 0
}

# expect_linuxcheck CHECK...: /init announced its checks, reported them all, and each CHECK passed; with no
# CHECK every announced check must pass.
# shellcheck disable=SC2120 # expect_linux_guest calls it without arguments
expect_linuxcheck() {
	local announced summary c reported
	announced=$(grep -Eo -m1 '^linuxcheck: start, [0-9]+ checks' "$LANE_SERIAL" | grep -Eo '[0-9]+')
	summary=$(grep -E -m1 '^linuxcheck: [0-9]+ passed, [0-9]+ failed$' "$LANE_SERIAL")
	if [ -z "$announced" ]; then
		lane_fail "Linux's /init never started (no 'linuxcheck: start' line)"
		return
	fi
	[ -n "$summary" ] || lane_fail "/init announced $announced checks but printed no summary"
	if [ $# -eq 0 ]; then
		[ -z "$summary" ] || [ "$summary" = "linuxcheck: $announced passed, 0 failed" ] ||
			lane_fail "Linux checks: announced $announced, summary '$summary'"
		reject_line '^linuxcheck: check=[a-z0-9_]+ result=fail' 'a Linux check failed'
	fi
	for c in "$@"; do
		expect_line "^linuxcheck: check=$c result=pass( |$)" "Linux check $c"
	done
	reported=$(grep -Ec '^linuxcheck: check=[a-z0-9_]+ result=(pass|fail)' "$LANE_SERIAL")
	[ "$reported" -eq "$announced" ] || lane_fail "/init announced $announced checks and reported $reported"
}

# expect_linux_sees_region: hapvisor's region (its event=region line) lies inside a reserved range of the
# memory map Linux got (/init's "linuxcheck: memmap START-END TYPE" lines, inclusive ends).
expect_linux_sees_region() {
	local line base size start end type
	grep -q '^linuxcheck: start' "$LANE_SERIAL" || return 0 # expect_linuxcheck reports it
	line=$(grep -E -m1 'hapvisor: event=region ' "$LANE_SERIAL") || return 0 # expect_common reports it
	base=$(grep -Eo ' base=[0-9a-fA-Fx]+' <<<"$line" | cut -d= -f2)
	size=$(grep -Eo ' size=[0-9a-fA-Fx]+' <<<"$line" | cut -d= -f2)
	[ -n "$base" ] && [ -n "$size" ] || return 0
	while read -r _ _ range type; do
		start=${range%-*} end=${range#*-}
		case $type in [Rr]eserved) ;; *) continue ;; esac
		[ $((start)) -le $((base)) ] && [ $((end)) -ge $((base + size - 1)) ] && return 0
	done < <(grep -E '^linuxcheck: memmap 0x[0-9a-f]+-0x[0-9a-f]+ ' "$LANE_SERIAL")
	lane_fail "Linux's memory map has no reserved range holding hapvisor's region (base=$base size=$size)"
}

# expect_linux_guest: what a Linux lane under hapvisor requires after guest_load: no panic, every /init check
# passed, Linux saw hapvisor's region reserved, powered off through ACPI (not a reset),
# and hapvisor ended the run cleanly with its EPT (or shadow-paging) statistics and integrity check.
expect_linux_guest() {
	# First what ended the guest (a panic, a triple fault): the missing checks below follow from it.
	reject_line 'Kernel panic - not syncing|PANIC: early exception' 'Linux panicked'
	reject_line 'hapvisor: event=guest_exit .*reset' 'Linux reset the machine instead of powering it off'
	expect_line 'hapvisor: event=guest_exit cpu=0 status=0 ' 'Linux powered the machine off (ACPI S5)'
	# shellcheck disable=SC2119
	expect_linuxcheck
	expect_linux_sees_region
	expect_event vmlaunch cpu=0
	if grep -q 'hapvisor: event=guest_paging mode=shadow ' "$LANE_SERIAL"; then
		expect_event shadow_stats when=guest_exit 'fills=[1-9][0-9]*' relinks=0
	else
		expect_event ept_stats when=guest_exit violations_breach=0 misconfigs=0
	fi
	expect_event integrity stage=guest_exit match=1
	expect_line 'hapvisor: event=vmxoff result=ok( |$)'
	expect_line 'hapvisor: event=exit status=ok action=poweroff( |$)'
}

# expect_linux_shadow: Linux ran under the shadow MMU and went through its paths: #PF exits filled and
# reflected (Linux's own demand paging), writes to its page tables emulated and unprotected (fork, exec,
# freed tables reused), CR3 switches finding kept roots (context switches), INVLPGs; no link found stale.
expect_linux_shadow() {
	expect_event guest_paging mode=shadow
	expect_event shadow_stats when=guest_exit 'guest_faults=[1-9][0-9]*' 'emulated_writes=[1-9][0-9]*' 'insn_emulation=[1-9][0-9]*' \
		'unprotects=[1-9][0-9]*' 'root_hits=[1-9][0-9]*' 'invlpgs=[1-9][0-9]*' relinks=0
	expect_event exit_stats cpu=0 reason=0 name=EXCEPTION_NMI 'count=[1-9][0-9]*'
	reject_line 'hapvisor: event=ept_stats ' 'no EPT under shadow paging'
}

# expect_linux_smp N: hapvisor found and started N CPUs, gave each AP a vCPU waiting for a SIPI, Linux
# started every one with its own INIT-SIPI-SIPI, and /init saw all N online, each under hapvisor (the
# hypervisor bit, hapvisor's signature and that CPU's own APIC ID read on it: check cpus_hapvisor).
expect_linux_smp() {
	local n=$1 i online=0
	[ "$n" -le 1 ] || online=0-$((n - 1))
	expect_event smp_madt "cpus=$n" found=1
	expect_event smp_start "cpus=$n" "online=$n" failed=0 absent=0
	for ((i = 1; i < n; i++)); do
		expect_event vmlaunch "cpu=$i" activity=wait_for_sipi
		expect_event vcpu_sipi "cpu=$i" 'vector=0x[0-9a-f]+'
		expect_line "^linuxcheck: info cpu=$i apic_id=[0-9]+ hypervisor_bit=1 signature=hapvisor\$" "CPU $i runs under hapvisor"
		expect_event exit_total "cpu=$i" 'count=[1-9][0-9]*'
	done
	expect_line "^linuxcheck: check=cpus result=pass count=$n online=$online " "Linux brought up all $n CPUs"
	expect_line "^linuxcheck: check=cpus_hapvisor result=pass cpus=$n " "every CPU under hapvisor"
	expect_event exit_total cpu=all "vcpus=$n" 'count=[1-9][0-9]*'
	reject_line 'do_boot_cpu failed|CPU[0-9]+ failed to report alive|smpboot: .* not responding' 'Linux could not start a CPU'
}

# expect_linux_replug CPU CYCLES: /init took CPU offline and online again CYCLES times, and it still runs
# under hapvisor; each online was an INIT exit (the vCPU back to wait-for-SIPI) and a SIPI exit in hapvisor.
expect_linux_replug() {
	local cpu=$1 n=$2 inits sipis
	expect_line "^linuxcheck: check=cpu_replug result=pass cpu=$cpu cycles=$n " "CPU $cpu offline and online $n times"
	inits=$(grep -Ec "hapvisor: event=guest_init_signal cpu=$cpu .*action=wait_for_sipi( |$)" "$LANE_SERIAL")
	sipis=$(grep -Ec "hapvisor: event=vcpu_sipi cpu=$cpu " "$LANE_SERIAL")
	[ "$inits" -ge "$n" ] || lane_fail "hapvisor logged $inits INIT exits of CPU $cpu back to wait-for-SIPI, expected $n or more"
	[ "$sipis" -gt "$n" ] || lane_fail "hapvisor logged $sipis SIPI exits of CPU $cpu, expected more than $n (the first start and each replug)"
}

# expect_linux_attack CPU N: after its checks (all passed) /init read the middle of hapvisor's region from
# CPU through /dev/mem; hapvisor stopped the run there (breach on that CPU, the N-1 others stopped, one
# summary), its code unchanged, and the read never returned.
expect_linux_attack() {
	local cpu=$1 n=$2 line target base size
	# shellcheck disable=SC2119
	expect_linuxcheck
	expect_linux_sees_region
	line=$(grep -E -m1 "^linuxcheck: attack cpu=$cpu target=0x[0-9a-f]+ starting" "$LANE_SERIAL")
	if [ -z "$line" ]; then
		lane_fail "/init never started its attack from CPU $cpu (no 'linuxcheck: attack cpu=$cpu target=... starting')"
	else
		target=$(grep -Eo 'target=0x[0-9a-f]+' <<<"$line" | cut -d= -f2)
		line=$(grep -E -m1 'hapvisor: event=region ' "$LANE_SERIAL")
		base=$(grep -Eo ' base=[0-9a-fA-Fx]+' <<<"$line" | cut -d= -f2)
		size=$(grep -Eo ' size=[0-9a-fA-Fx]+' <<<"$line" | cut -d= -f2)
		if [ -n "$base" ] && [ -n "$size" ] && { [ $((target)) -lt $((base)) ] || [ $((target)) -ge $((base + size)) ]; }; then
			lane_fail "the attack's target $target is not in hapvisor's region (base=$base size=$size)"
		fi
		expect_event ept_violation "cpu=$cpu" breach=1 access=read "gpa=$target"
	fi
	reject_line '^linuxcheck: attack .*result=fail' "the read of hapvisor's memory returned"
	expect_line "hapvisor: error: isolation breach: guest read .* \\(hapvisor.s memory\\)" 'the report in words'
	expect_event ept_stats when=guest_exit violations_breach=1
	expect_event smp_stop "cpu=$cpu" "active=$((n - 1))" "stopped=$((n - 1))"
	expect_line "hapvisor: event=guest_exit cpu=$cpu status=1 reason=\"isolation breach" "the run ends from CPU $cpu"
	[ "$(grep -c 'hapvisor: event=guest_exit ' "$LANE_SERIAL")" = 1 ] || lane_fail 'not exactly one guest_exit line'
	expect_event integrity stage=guest_exit match=1
	expect_line 'hapvisor: event=vmxoff result=ok( |$)'
	expect_line 'hapvisor: event=exit status=error action=poweroff( |$)'
}
