#!/usr/bin/env bash
# Lane bochs-attack-NAME: the test kernel as a hostile guest (tests/guests/README.md, "Attacks"): one
# attack on hapvisor's memory per run. hapvisor must stop the guest with an isolation report, stay
# healthy (the checksum of its code is unchanged) and end the run cleanly; the hypercall attack must
# be contained without a stop (HC_EFAULT).
#
#   tests/lanes/bochs-attack.sh read|write|exec|pagetable|ptstructure|hypercall
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"

attack=${1:?usage: bochs-attack.sh read|write|exec|pagetable|ptstructure|hypercall}
lane_begin "bochs-attack-$attack" 90 # measured: 3-4 s to power-off
lane_iso on_exit=poweroff build/guests/testkernel-mb2.elf "testkernel attack=$attack"
lane_run_bochs corei7_skylake_x

expect_common
expect_line "testkernel: attack=$attack target=0x[0-9a-f]+ starting"
reject_line "testkernel: attack=$attack result=fail" 'the attack was not contained'
expect_event integrity stage=guest_exit match=1
if [ "$attack" = hypercall ]; then
	expect_line 'testkernel: attack=hypercall result=pass contained=HC_EFAULT'
	expect_line 'hapvisor: event=guest_exit cpu=0 status=0 '
	expect_event ept_stats when=guest_exit violations_breach=0
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
	expect_event ept_violation breach=1 "access=$access" "translation=$translation" 'gpa=0x[0-9a-f]+'
	# The 2D walk of the very address the guest used (not just the dump's walk of RIP and RSP).
	gla=$(grep -Eo -m1 'hapvisor: event=ept_violation .*' "$LANE_SERIAL" | grep -Eo 'gla=0x[0-9a-f]+')
	expect_line "hapvisor: event=walk2d ${gla:-gla=missing} " 'the 2D walk of the faulting guest-linear address'
	expect_event ept_stats when=guest_exit violations_breach=1
	expect_line 'hapvisor: event=guest_exit cpu=0 status=1 reason="isolation breach'
	expect_line 'hapvisor: event=exit status=error action=poweroff reason="isolation breach'
fi

lane_end
