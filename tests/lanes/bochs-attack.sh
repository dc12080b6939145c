#!/usr/bin/env bash
# Lane bochs-attack-NAME: the test kernel as a hostile guest (tests/guests/README.md, "Attacks"), one
# attack per run.
# - read, write, exec, pagetable, ptstructure: an attack on hapvisor's memory. hapvisor must stop the
#   guest with an isolation report, stay healthy (the checksum of its code is unchanged) and end the run
#   cleanly; hypercall (a hypercall buffer in hapvisor's memory) must be contained without a stop.
# - storm: a million CPUID and I/O exits; every answer right, every exit counted, the run ends normally.
# - spin: interrupts off and a jump to itself forever, under guest_timeout=SPIN_LIMIT: the VMX-preemption
#   timer must stop it with the time-limit report.
# - triplefault: hapvisor must report the guest's triple fault with the guest-state dump and stop cleanly.
# With "shadow" (lanes bochs-shadow-attack-NAME, the attacks on memory): the same attack on Core 2 Penryn,
# which has no EPT, under the shadow MMU hapvisor chooses there; the isolation report must be the same.
#
#   tests/lanes/bochs-attack.sh read|write|exec|pagetable|ptstructure|hypercall|storm|spin|triplefault
#   tests/lanes/bochs-attack.sh read|write|exec|pagetable|ptstructure|hypercall shadow
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

SPIN_LIMIT_MS=100 # 3.5e8 TSC ticks at Skylake's CPUID-0x15 rate: 3.5e8 Bochs instructions, about 4 s
STORM_CPUIDS=800000 STORM_IOS=200000 # tests/guests/testkernel/attack_cpu.c

CASES='read write exec pagetable ptstructure hypercall storm spin triplefault'
SHADOW_CASES='read write exec pagetable ptstructure hypercall' # the attacks on memory
# --cases [shadow]: the attacks this script runs (under shadow paging), for tests/checks/lanes
[ "${1:-}" != --cases ] || { [ "${2:-}" = shadow ] && echo "$SHADOW_CASES" || echo "$CASES"; exit 0; }
attack=${1:-}
paging=${2:-ept}
case $paging in
ept) lane=bochs-attack-$attack cpu=corei7_skylake_x cases=$CASES ;;
shadow) lane=bochs-shadow-attack-$attack cpu=core2_penryn_t9600 cases=$SHADOW_CASES ;;
*) echo "bochs-attack.sh: paging mode must be ept or shadow, not '$paging'" >&2 && exit 2 ;;
esac
[[ " $cases " == *" $attack "* ]] || { echo "usage: bochs-attack.sh ${cases// /|} [$paging]" >&2; exit 2; }
lane_begin "$lane" 90 # measured: 3-4 s to power-off; storm 20 s, spin 9 s
hv_opts=on_exit=poweroff
[ "$attack" = spin ] && hv_opts+=" guest_timeout=${SPIN_LIMIT_MS}ms"
lane_iso "$hv_opts" build/guests/testkernel-mb2.elf "testkernel attack=$attack"
lane_run_bochs $cpu

expect_common
expect_event guest_paging "mode=$paging"
case $attack in
storm | spin | triplefault) expect_line "testkernel: attack=$attack .*starting" ;;
*) expect_line "testkernel: attack=$attack target=0x[0-9a-f]+ starting" ;;
esac
reject_line "testkernel: attack=$attack result=fail" 'the attack was not contained'
expect_event integrity stage=guest_exit match=1
if [ "$attack" = storm ]; then
	expect_line "testkernel: attack=storm result=pass cpuid_exits=$STORM_CPUIDS io_exits=$STORM_IOS wrong_cpuid=0 wrong_io=0 "
	# hapvisor's own statistics: at least the storm's exits (the kernel's other CPUIDs come on top).
	expect_event exit_stats cpu=0 reason=10 name=CPUID "count=([89][0-9]{5}|[0-9]{7,})"
	expect_event exit_stats cpu=0 reason=30 name=IO_INSTRUCTION "count=([2-9][0-9]{5}|[0-9]{7,})"
	expect_line 'hapvisor: event=guest_exit cpu=0 status=0 '
	expect_line 'hapvisor: event=exit status=ok action=poweroff( |$)'
elif [ "$attack" = spin ]; then
	expect_event options "guest_timeout_ms=$SPIN_LIMIT_MS"
	expect_event time_limit when=launch "limit_ms=$SPIN_LIMIT_MS" 'tsc_hz=[1-9][0-9]*' 'timer_units=[1-9][0-9]*'
	expect_line 'hapvisor: error: the guest ran for its whole time limit of [0-9]+ ms' 'the report in words'
	expect_event guest_dump reason=52 name=PREEMPTION_TIMER
	expect_event time_limit when=expired "limit_ms=$SPIN_LIMIT_MS" 'rip=0x[0-9a-f]+'
	expect_event exit_stats cpu=0 reason=52 name=PREEMPTION_TIMER 'count=[1-9][0-9]*'
	expect_line "hapvisor: event=guest_exit cpu=0 status=1 reason=\"time limit of $SPIN_LIMIT_MS ms reached"
	expect_line 'hapvisor: event=exit status=error action=poweroff reason="time limit'
	reject_line '^testkernel: [0-9]+ passed' 'the spinning guest cannot have finished'
elif [ "$attack" = triplefault ]; then
	expect_line 'hapvisor: error: the guest triple-faulted' 'the report in words'
	expect_event guest_dump reason=2 name=TRIPLE_FAULT
	# The crash report shows the code at RIP: the test kernel's UD2 (0f 0b) that could not be delivered.
	expect_event guest_code 'rip=0x[0-9a-f]+' 'bytes=0f0b[0-9a-f]*'
	expect_event guest_triple_fault 'rip=0x[0-9a-f]+'
	expect_line 'hapvisor: event=guest_exit cpu=0 status=1 reason="guest triple fault"'
	expect_line 'hapvisor: event=exit status=error action=poweroff reason="guest triple fault"'
elif [ "$attack" = hypercall ]; then
	expect_line 'testkernel: attack=hypercall result=pass contained=HC_EFAULT'
	expect_line 'hapvisor: event=guest_exit cpu=0 status=0 '
	reject_line 'hapvisor: event=isolation_breach ' 'a contained hypercall is no breach'
	if [ "$paging" = ept ]; then
		expect_event ept_stats when=guest_exit violations_breach=0
	else
		expect_event shadow_stats when=guest_exit
	fi
	expect_line 'hapvisor: event=exit status=ok action=poweroff( |$)'
else
	case $attack in
	read | pagetable) access=read ;;
	write) access=write ;;
	exec) access=fetch ;;
	ptstructure) access='(read|write)' ;; # a guest paging-structure read counts as a write with EPT A/D
	esac
	translation=1
	[ "$attack" = ptstructure ] && translation=0 # the CPU's own walk of the guest tables hit hapvisor
	expect_line 'hapvisor: error: isolation breach: guest .* \(hapvisor.s memory\)' 'the report in words'
	# The same report under EPT (an EPT violation) and shadow paging (the shadow MMU's walk).
	expect_event isolation_breach cpu=0 "paging=$paging" 'gpa=0x[0-9a-f]+' "access=$access" 'gla=0x[0-9a-f]+' \
		gla_valid=1 "translation=$translation"
	# The 2D walk of the very address the guest used (not just the dump's walk of RIP and RSP).
	gla=$(grep -Eo -m1 'hapvisor: event=isolation_breach .*' "$LANE_SERIAL" | grep -Eo 'gla=0x[0-9a-f]+')
	expect_line "hapvisor: event=walk2d ${gla:-gla=missing} " 'the 2D walk of the faulting guest-linear address'
	if [ "$paging" = ept ]; then
		expect_event ept_violation breach=1 "access=$access" "translation=$translation" 'gpa=0x[0-9a-f]+'
		expect_event ept_stats when=guest_exit violations_breach=1
	else
		expect_line "hapvisor: event=walk2d ${gla:-gla=missing} .* ept_refs=0 .* paging=shadow" \
			'the walk of the shadow MMU, which has no EPT'
		expect_event shadow_stats when=guest_exit
		reject_line 'hapvisor: event=ept_' 'no EPT under shadow paging'
	fi
	expect_line 'hapvisor: event=guest_exit cpu=0 status=1 reason="isolation breach'
	expect_line 'hapvisor: event=exit status=error action=poweroff reason="isolation breach'
fi

lane_end
