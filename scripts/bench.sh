#!/usr/bin/env bash
# make bench: run the benchmark lanes in Bochs (where RDTSC counts instructions retired, so every figure
# is an exact, repeatable instruction count) and write docs/performance.md from their structured lines.
#
#   scripts/bench.sh [--no-run]     --no-run: only regenerate the document from the last lane logs
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lanes=(bochs bochs-eager bochs-4k bochs-sandy bochs-shadow bochs-penryn)
# Linux to /init, under hapvisor (PVH and bzImage with EPT, PVH under the shadow MMU on Skylake and on
# Penryn) and natively (GRUB boots the bzImage), on a 256 MiB machine, each run stopping at /init's magic
# breakpoint to print the instruction count (tests/linux/); bochs-linux-pvh with the default ept=lazy
# (make test runs it under ept=4k).
# bochs-linux-pvh-parked: the PVH boot on a two-CPU machine with cpus=1 (the guest's MADT disables CPU 1).
linux_lanes=(bochs-linux-pvh bochs-linux-bzimage native-linux bochs-linux-shadow bochs-linux-penryn bochs-linux-pvh-parked)
linux_mib=256
# SMP: the test kernel restarting CPU 1 with Linux's INIT-SIPI-SIPI timing, on two CPUs with `cpu: quantum=1`
# (each CPU runs one instruction in turn, so the TSC counts CPU 1's instructions exactly; tests/lanes/lib.sh
# BOCHS_QUANTUM); and Linux on two CPUs (PVH, CPU 1 offline and online 20 times) for the per-CPU exits.
smp_lanes=(bochs-smp-init)
linux_smp_lanes=(bochs-linux-pvh-smp2-replug)
linux=0
[ -f build/linux/vmlinux ] && [ -f build/linux/bzImage ] && linux=1
if [ "${1:-}" != --no-run ]; then
	BOCHS_QUANTUM=1 LANE_TIMEOUT=${LANE_TIMEOUT:-1800} tests/lanes/run-all.sh "${smp_lanes[@]}" ||
		echo "bench: the SMP lane failed; its figures come from what ran" >&2
	tests/lanes/run-all.sh "${lanes[@]}" || echo "bench: some lanes failed; the figures below come from what ran" >&2
	if [ "$linux" = 1 ]; then
		BOCHS_MAGIC_PTIME=1 BOCHS_MEMORY_MIB=$linux_mib LINUX_PVH_EPT=lazy tests/lanes/run-all.sh \
			"${linux_smp_lanes[@]}" "${linux_lanes[@]}" ||
			echo "bench: some Linux lanes failed; the figures below come from what ran" >&2
	else
		echo "bench: no Linux assets ('make linux-assets'): the Linux rows are left out" >&2
	fi
fi
lanes+=("${smp_lanes[@]}")
[ "$linux" = 1 ] && lanes+=("${linux_lanes[@]}" "${linux_smp_lanes[@]}")

log() { echo "build/lanes/$1/serial.log"; }
# field LANE EVENT-REGEX KEY: the value of KEY on the first line matching EVENT-REGEX in LANE's log
field() {
	grep -aEm1 -- "$2" "$(log "$1")" 2>/dev/null | grep -oE "(^| )$3=[^ ]+" | head -1 | cut -d= -f2
}
measure() { # measure LANE NAME: per_op of a test-kernel measurement line
	grep -aEm1 "testkernel: measure=$2 " "$(log "$1")" 2>/dev/null | grep -oE 'per_op=[0-9]+' | cut -d= -f2
}
startup() { # instructions from the 32-bit entry to VMLAUNCH, without the console's UART waits
	local e l c
	e=$(field "$1" 'event=boot stage=c_entry' tsc_entry)
	l=$(field "$1" 'event=vmlaunch cpu=0' tsc)
	c=$(field "$1" 'event=vmlaunch cpu=0' tsc_console)
	[ -n "$e" ] && [ -n "$l" ] && [ -n "$c" ] && echo "$((l - e - c)) ($((l - e)) with the console)"
}
startup_n() { startup "$1" | cut -d' ' -f1; } # the first number of startup
ept_row() { # ept_row LANE LABEL
	local s='event=ept_stats when=guest_exit'
	printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$2" "$(field "$1" "$s" violations_fill)" \
		"$(field "$1" "$s" table_pages)" "$(field "$1" "$s" pages_4k)" "$(field "$1" "$s" pages_2m)" \
		"$(field "$1" "$s" pages_1g)" "$(field "$1" 'event=exit_total cpu=0' count)"
}
exits() { # exits LANE: the exit_stats lines as table rows
	grep -aE 'hapvisor: event=exit_stats ' "$(log "$1")" 2>/dev/null |
		sed -E 's/.* name=([A-Z_]+) count=([0-9]+) cycles=([0-9]+) avg_cycles=([0-9]+).*/| \1 | \2 | \4 |/'
}
# paging_op LANE NAME: "instructions per op (exits per op: #PF, CR, INVLPG)" of a paging measurement
paging_op() {
	local line
	line=$(grep -aEm1 "testkernel: measure=$2 " "$(log "$1")" 2>/dev/null) || { echo '?'; return; }
	echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
		n = v["iterations"]; printf "%s (%.2f: %.2f #PF, %.2f CR, %.2f INVLPG)", v["per_op"], v["exits"] / n,
		v["pf_exits"] / n, v["cr_exits"] / n, v["invlpg_exits"] / n }'
}
# walk_refs LANE: guest + EPT references of the test kernel's 2D walk of its 4-level 4 KiB mapping (HC_WALK)
walk_refs() {
	local g e
	g=$(field "$1" 'event=walk2d gla=0x500000000238 ' guest_refs)
	e=$(field "$1" 'event=walk2d gla=0x500000000238 ' ept_refs)
	[ -n "$g" ] && [ -n "$e" ] && echo "$((g + e)) ($g guest + $e EPT)" || echo '?'
}
# linux_row LANE LABEL: a Linux boot's whole run: exits, instructions in hapvisor's handlers, per exit
linux_row() {
	local n c
	n=$(field "$1" 'event=exit_total cpu=0' count)
	c=$(field "$1" 'event=exit_total cpu=0' cycles)
	printf '| %s | %s | %s | %s |\n' "$2" "${n:-?}" "${c:-?}" "$([ -n "$n" ] && [ -n "$c" ] && echo $((c / n)) || echo '?')"
}
# shadow_vs_ept: instructions to /init under paging=shadow over those under EPT (PVH, Skylake)
shadow_vs_ept() {
	local e s
	e=$(at_init bochs-linux-pvh)
	s=$(at_init bochs-linux-shadow)
	[ -n "$e" ] && [ -n "$s" ] && awk -v a="$s" -v b="$e" 'BEGIN { printf "%.3f times", a / b }' || echo '?'
}
# shadow_row LANE LABEL: the shadow MMU's statistics at the guest's exit
shadow_row() {
	local s='event=shadow_stats when=guest_exit' k out="| $2 |"
	for k in fills guest_faults tracked_writes insn_emulation emulated_writes unprotects floods root_loads \
		root_hits invlpgs resets pages_peak; do
		out+=" $(field "$1" "$s" "$k") |"
	done
	echo "$out"
}

# exits_per_cpu LANE CPUS: one row per exit reason (in reason order), count and average per CPU
exits_per_cpu() {
	awk -v n="$2" '
		/hapvisor: event=exit_stats / {
			delete f
			for (i = 1; i <= NF; i++) if (split($i, kv, "=") == 2) f[kv[1]] = kv[2]
			r = f["reason"] + 0; name[r] = f["name"]; c[r, f["cpu"]] = f["count"]; a[r, f["cpu"]] = f["avg_cycles"]
		}
		END {
			for (r = 0; r < 80; r++) {
				if (!(r in name)) continue
				line = "| " name[r]
				for (cpu = 0; cpu < n; cpu++)
					line = line " | " ((r, cpu) in c ? c[r, cpu] : "-") " | " ((r, cpu) in a ? a[r, cpu] : "-")
				print line " |"
			}
		}' "$(log "$1")" 2>/dev/null
}
# moved OLD NEW: the change from OLD to NEW, "+N (+P %)" ("0" when equal; "?" when NEW is missing)
moved() {
	[ -n "$2" ] || { echo '?'; return; }
	awk -v o="$1" -v n="$2" 'BEGIN { d = n - o; if (d == 0) { print "0"; exit }
		printf "%+d (%+.2f %%)\n", d, 100 * d / o }'
}
# grep_count LANE REGEX: how many serial lines match
grep_count() { grep -acE -- "$2" "$(log "$1")" 2>/dev/null; }

# at_init LANE: Bochs's instruction count at /init (the magic breakpoint), from the lane's emulator log
at_init() {
	grep -aEo -m1 'ptime: [0-9]+' "build/lanes/$1/emulator.log" 2>/dev/null | grep -Eo '[0-9]+'
}
# init_row LANE LABEL: instructions and wall seconds to /init, and the ratio to the native run
init_row() {
	local n native secs ratio=?
	n=$(at_init "$1")
	native=$(at_init native-linux)
	secs=$(awk '/Run \/init as init process/ { print $1; exit }' "build/lanes/$1/marks" 2>/dev/null)
	[ -n "$n" ] && [ -n "$native" ] && ratio=$(awk -v a="$n" -v b="$native" 'BEGIN { printf "%.3f", a / b }')
	printf '| %s | %s | %s s | %s |\n' "$2" "${n:-?}" "${secs:-?}" "$ratio"
}

cpuid=$(measure bochs cpuid_loop)
vmcall=$(measure bochs vmcall_loop)
out=$(measure bochs out_loop)
fill_4k=$(measure bochs-4k ept_fill_loop)
fill_native=$(measure bochs-eager ept_fill_loop) # the same loop with every page already mapped
fills_4k=$(grep -aEm1 'testkernel: measure=ept_fill_loop ' "$(log bochs-4k)" 2>/dev/null | grep -oE 'fills=[0-9]+' | cut -d= -f2)
init_avg=$(field bochs-smp-init 'event=exit_stats cpu=1 reason=3 ' avg_cycles)
sipi_avg=$(field bochs-smp-init 'event=exit_stats cpu=1 reason=4 ' avg_cycles)
cpuid_handler=$(field bochs 'exit_stats cpu=0 reason=10 ' avg_cycles)
# The part of an exit round trip outside the handler's two RDTSCs (VM exit and entry, the trampoline, the
# handler's frame, the checks before the entry): the CPUID round trip less its handler and its 5-instruction loop.
fixed=$(( ${cpuid:-0} - ${cpuid_handler:-0} - 5 ))
image=$(field bochs 'event=region' image)
pool_peak=$(field bochs 'event=pmm' frames_peak_used)
{
	cat <<EOT
# hapvisor performance

Generated by \`make bench\` (scripts/bench.sh) on $(date -u +%Y-%m-%d) from the structured serial lines of
the lanes $(printf '`%s` ' "${lanes[@]}")(build/lanes/*/serial.log). In Bochs, RDTSC counts instructions
retired, so every count below is exact and repeatable: rerun \`make bench\` to reproduce it.

## Bochs 3.0 against the Bochs 2.7 figures

Until 2026-12 these figures came from Debian 12's Bochs 2.7 (the last such run: 2026-11-27); since then
every lane runs the test bed's Bochs 3.0 (docs/testing.md, "The Bochs test bed"). What moved:

| figure | Bochs 2.7, 2026-11-27 | now, Bochs 3.0 | moved |
|---|---|---|---|
| CPUID round trip | 173 | ${cpuid:-?} | $(moved 173 "$cpuid") |
| OUT round trip | 196 | ${out:-?} | $(moved 196 "$out") |
| VMCALL round trip | 176 | ${vmcall:-?} | $(moved 176 "$vmcall") |
| EPT-violation fill round trip (ept=4k) | 905 | ${fill_4k:-?} | $(moved 905 "$fill_4k") |
| start-up to VMLAUNCH, lazy | 773846 | $(startup_n bochs) | $(moved 773846 "$(startup_n bochs)") |
| start-up to VMLAUNCH, eager | 1041167 | $(startup_n bochs-eager) | $(moved 1041167 "$(startup_n bochs-eager)") |
| start-up to VMLAUNCH, 4k | 774331 | $(startup_n bochs-4k) | $(moved 774331 "$(startup_n bochs-4k)") |
| test kernel VM exits, lazy | 3075 | $(field bochs 'event=exit_total cpu=0' count) | $(moved 3075 "$(field bochs 'event=exit_total cpu=0' count)") |
| test kernel EPT fills, 4k | 122254 | $(field bochs-4k 'event=ept_stats when=guest_exit' violations_fill) | $(moved 122254 "$(field bochs-4k 'event=ept_stats when=guest_exit' violations_fill)") |
EOT
	if [ "$linux" = 1 ]; then
		cat <<EOT
| Linux to /init, native | 6605597638 | $(at_init native-linux) | $(moved 6605597638 "$(at_init native-linux)") |
| Linux to /init, hapvisor, bzImage | 6599084683 | $(at_init bochs-linux-bzimage) | $(moved 6599084683 "$(at_init bochs-linux-bzimage)") |
| Linux to /init, hapvisor, PVH | 2702661407 | $(at_init bochs-linux-pvh) | $(moved 2702661407 "$(at_init bochs-linux-pvh)") |
| Linux VM exits, PVH | 5290 | $(field bochs-linux-pvh 'event=exit_total cpu=0' count) | $(moved 5290 "$(field bochs-linux-pvh 'event=exit_total cpu=0' count)") |
| Linux VM exits, bzImage | 5582 | $(field bochs-linux-bzimage 'event=exit_total cpu=0' count) | $(moved 5582 "$(field bochs-linux-bzimage 'event=exit_total cpu=0' count)") |
EOT
	fi
	cat <<EOT

The exit paths did not move with Bochs: main at commit b9b2fd1 measured the CPUID, OUT and VMCALL round
trips at 173, 196 and 176 on Bochs 3.0, as on 2.7; they moved with the code since (the history under "Exit
path length"). The other rows hold the code's changes since 2026-11-27 as much as Bochs's; for the same code
the two Bochs versions count the same instructions.

## Exit path length (test kernel, corei7_skylake_x)

The test kernel times 1000 iterations of each operation with RDTSC (\`testkernel: measure=...\`). The
native loop is what the same loop costs without an exit (CPUID and OUT: counted from the loop's code, the
instruction itself included; the fill loop: measured under ept=eager, where nothing faults); the rest is
the VM exit, hapvisor's handler and the VM entry. Under the default lazy policy the fill loop takes no
fill at all: fault-around mapped its pages with the first violation of the boot.

| operation | instructions per round trip | native loop | hapvisor's share | target |
|---|---|---|---|---|
| CPUID (leaf 0) | ${cpuid:-?} | 5 | $(( ${cpuid:-5} - 5 )) | at most 80 |
| OUT to a caught port (0xCF9, value 0) | ${out:-?} | 4 | $(( ${out:-4} - 4 )) | |
| VMCALL (HC_VERSION) | ${vmcall:-?} | - | ${vmcall:-?} | |
| EPT-violation fill (ept=4k, one read per untouched page; ${fills_4k:-?} fills) | ${fill_4k:-?} | ${fill_native:-?} (ept=eager: no fill) | $(( ${fill_4k:-0} - ${fill_native:-0} )) | |

The CPUID target is not met. hapvisor's share of the round trip is the VM exit, the trampoline
(vmx/entry.asm: 16 stores and 15 loads of the guest's registers, the call into C, VMRESUME), the C
handler (its frame, the exit reason, the dispatch, the statistics with two RDTSCs: the table below
says $(field bochs 'exit_stats cpu=0 reason=10 ' avg_cycles) instructions from its first RDTSC to its last)
and exit_cpuid (the real CPUID, the leaf edits, the instruction skip: VMREADs of the length, RIP and
interruptibility, a VMWRITE of RIP). Reaching 80 would take an assembly-only CPUID path that answers
without the C handler, a second copy of what exit_cpuid.c decides the guest sees; hapvisor keeps one.
Measured history: 224 at first, 183 with inline VMREAD/VMWRITE, 171 with exits resumed from the
trampoline (no return through vmx_enter per exit), 155 with one-jump VMfail checks, then SMP added
per-exit work (the vCPU's end-of-run and SIPI bookkeeping, the Bochs SMI-blocking fix-up before each
entry): 173; the exit table (one row per reason): 181, then 175 with one lookup per exit; shadow paging's
per-exit checks: 183; the NMI check before VMRESUME (three instructions, docs/architecture.md "Events for the
guest"): 186; the test of the vCPU's deferred-line flag after each exit (vmx/run.c, docs/architecture.md
"SMP"): now ${cpuid:-?}. Exits with a qualification (OUT, EPT violations) also read the IDT-vectoring
information, one VMREAD more: OUT went from 196 to 211 with it and the NMI check.

## Start-up

Instructions from hapvisor's 32-bit entry to the first VMLAUNCH (test kernel guest), leaving out the time
the console spends waiting for the UART (hapvisor counts those RDTSC ticks apart; in Bochs a 115200-baud
byte costs about 8700 instructions of waiting):

| EPT policy | instructions to VMLAUNCH | target |
|---|---|---|
| lazy | $(startup bochs) | under 1 million |
| eager | $(startup bochs-eager) | under 1 million |
| 4k | $(startup bochs-4k) | under 1 million |

\`eager\` builds the whole EPT before VMLAUNCH (the first 2 MiB alone take 512 4 KiB entries, each with
its MTRR type looked up), which puts it over the target; \`lazy\` and \`4k\` meet it.

## EPT policy comparison (test kernel, 512 MiB machine)

| policy | EPT violations (fills) | EPT table pages | 4 KiB leaves | 2 MiB leaves | 1 GiB leaves | VM exits |
|---|---|---|---|---|---|---|
$(ept_row bochs lazy)
$(ept_row bochs-eager eager)
$(ept_row bochs-4k 4k)
$(ept_row bochs-sandy 'eager, no 1 GiB EPT pages (Sandy Bridge)')

## Exits by reason (test kernel, lazy)

Averages include hapvisor's console output where a handler prints (the VMCALL console hypercall, the
warning for the guest's CR4.VMXE probe), so they are large for those reasons.

| reason | count | average instructions in hapvisor |
|---|---|---|
$(exits bochs)

## Restarting a CPU (test kernel, two CPUs, \`cpu: quantum=1\`)

Lane \`bochs-smp-init\`: the test kernel starts CPU 1 with INIT-SIPI-SIPI, then 5 more times with Linux
6.1's timing (INIT, a SIPI at once, a second SIPI 10 us = 35000 ticks later). With two CPUs Bochs's TSC
advances once per round of the CPUs, so \`make bench\` runs this lane with \`cpu: quantum=1\` (one instruction
per CPU per round): the TSC then counts each CPU's instructions exactly.

| exit on CPU 1 | count | average instructions in hapvisor |
|---|---|---|
| INIT (5 back to wait-for-SIPI, 1 held during wait-for-SIPI and dropped after the first SIPI, 1 that stops the vCPU at the end) | $(field bochs-smp-init 'event=exit_stats cpu=1 reason=3 ' count) | ${init_avg:-?} |
| SIPI | $(field bochs-smp-init 'event=exit_stats cpu=1 reason=4 ' count) | ${sipi_avg:-?} |

The window from an INIT exit to the VM entry in wait-for-SIPI is that handler average plus the fixed part
of every round trip outside the handler's two RDTSCs (the VM exit and entry, vmx/entry.asm, the handler's
frame and the checks before the entry: the CPUID round trip ${cpuid:-?} less its handler ${cpuid_handler:-?} and its loop 5, that is
${fixed}), plus the SMI-blocking fix-up every AP's vCPU makes before its entries (vmx/run.c before_entry: a
VMREAD, a test and a VMWRITE, at most 11 instructions more than on the BSP): at most $(( ${init_avg:-0} + fixed + 11 )) instructions.
Before the INIT exit deferred its line it printed it there: 86 characters, each a UART wait of about 8700
instructions in Bochs (about 750,000 in all; 7.5 ms at 115200 baud on hardware), so no SIPI sent within
microseconds of the INIT could find the vCPU waiting. The first SIPI of Linux's pair still comes too
early (Bochs delivers it 63 instructions after the INIT, while hapvisor handles the INIT exit) and is
discarded, as a busy processor would discard it; the second starts the CPU.
EOT
	if [ "$linux" = 1 ]; then
		cat <<EOT

## Linux (Debian $(awk '{ print $2 }' build/linux/kernel.txt 2>/dev/null | head -1 | cut -d= -f2), busybox initramfs): power-on to /init

Bochs, corei7_skylake_x, ${linux_mib} MiB, the same kernel package and initramfs in each run. The count is
Bochs's instructions retired from power-on (BIOS, GRUB, hapvisor, the kernel) to the first instruction of
/init's first command (tests/linux/bochs-mark.asm, a magic breakpoint); wall time is the \`Run /init\` line
on the serial port, seconds from the emulator's start, on this machine under whatever else ran (not exact).

| run | instructions to /init | wall time to /init | ratio to native |
|---|---|---|---|
$(init_row native-linux 'native: GRUB boots the bzImage, no hapvisor')
$(init_row bochs-linux-bzimage 'hapvisor, bzImage (boot protocol, the kernel decompresses itself)')
$(init_row bochs-linux-pvh 'hapvisor, PVH (the uncompressed vmlinux, no decompressor)')
$(init_row bochs-linux-shadow 'hapvisor, PVH, paging=shadow')
$(init_row bochs-linux-penryn 'hapvisor, PVH, Core 2 Penryn (no EPT: shadow paging; native runs on Skylake)')
$(init_row bochs-linux-pvh-parked 'hapvisor, PVH, two CPUs with cpus=1 (CPU 1 parked)')

Target ratio at most 1.01. The ratio compares whole boots, so it also holds what differs outside the
kernel: GRUB reads a different ISO (hapvisor's, plus the guest files as modules) and hapvisor's start-up
and guest loading replace GRUB's own Linux loader. Under hapvisor, Linux itself runs at native instruction
counts apart from its VM exits (below); an exit costs hapvisor a few hundred instructions.

EPT for that boot (lazy; the run goes on to the checks and power-off, which add little):

| policy | EPT violations (fills) | EPT table pages | 4 KiB leaves | 2 MiB leaves | 1 GiB leaves | VM exits |
|---|---|---|---|---|---|---|
$(ept_row bochs-linux-pvh 'lazy, PVH')
$(ept_row bochs-linux-bzimage 'lazy, bzImage')

**A parked CPU: Linux waits for nothing** (\`bochs-linux-pvh-parked\` against \`bochs-linux-pvh\`): hapvisor
gives Linux a copy of the MADT with the parked CPU marked disabled (docs/architecture.md, "The guest's ACPI
tables"), so Linux brings up one CPU and never sends the other INIT-SIPI-SIPI. Before the copies, Linux
found CPU 1 enabled in the firmware's MADT and tried it; on hardware it gives up after 10 s
(\`smpboot: do_boot_cpu failed(-1) to wakeup CPU#1\`). Measured by hand in this lane with hapvisor from
main at eeb25b2 (before the copies): Linux never reached /init; after 25 billion instructions (30
minutes of wall time) it still sat after \`x86: Booting SMP configuration:\`. With the copies (measured
by hand, same kernel and initramfs, 256 MiB): Linux's own clock (TSC-based, so instructions / 3.5e9 on
this model) says \`Run /init\` at 1.05 s with one CPU and 1.73 s on the two-CPU machine with CPU 1 parked.
The 0.68 s are not a wait for CPU 1 (Linux logs \`smp: Brought up 1 node, 1 CPU\` right after
\`Bringing up secondary CPUs\`); they come earlier, before Linux looks at its CPUs at all
(\`clocksource: Switched to clocksource tsc-early\` at 0.66 s against 1.19 s), where Linux times its
calibrations against the PIT and the HPET in Bochs's emulated time, and on Bochs's two-CPU machine those
took more of the boot CPU's instructions (not investigated further; the parked CPU makes no VM exit).
hapvisor's own share: the AP's start-up,
\`smp_start ... tsc=36403961\` (one 10 ms INIT wait at the 3.5 GHz CPUID 0x16 gives).

Target for Linux to /init with \`lazy\` in a 256 MiB guest: at most 48 EPT violations. Lazy fills fault
around (docs/architecture.md): one violation maps the whole EPT table that holds the faulting page.

Exits by reason (PVH boot, whole run):

| reason | count | average instructions in hapvisor |
|---|---|---|
$(exits bochs-linux-pvh)

Exits by reason (bzImage boot, whole run):

| reason | count | average instructions in hapvisor |
|---|---|---|
$(exits bochs-linux-bzimage)

### EPT and shadow paging, the same Linux boot

The PVH boot under each MMU (whole run: to /init, the checks, power-off). Instructions in hapvisor are the
sum over every exit of its handler's RDTSC span (\`exit_total cycles\`): what hapvisor itself executes; the
VM exits and entries themselves are single steps in Bochs (below).

| run | VM exits | instructions in hapvisor | per exit |
|---|---|---|---|
$(linux_row bochs-linux-pvh 'EPT (Skylake)')
$(linux_row bochs-linux-shadow 'shadow (Skylake, paging=shadow)')
$(linux_row bochs-linux-penryn 'shadow (Penryn, no EPT, no VPID)')

To /init, the shadow MMU's PVH boot on Skylake takes $(shadow_vs_ept) the instructions of the EPT boot (table
above): its VM exits and hapvisor's handlers, and the kernel's own path without PCID, which CPUID hides
under shadow paging (Skylake has PCID: under EPT the kernel's page-table isolation uses it).

Exits by reason (PVH boot under the shadow MMU, Skylake, whole run): every guest #PF exits (EXCEPTION_NMI),
every MOV to or from CR3 (CR_ACCESS; Debian's kernel runs with page-table isolation, so each kernel entry
and exit switches CR3) and every INVLPG.

| reason | count | average instructions in hapvisor |
|---|---|---|
$(exits bochs-linux-shadow)

The shadow MMU's statistics at the end of those runs (\`shadow_stats when=guest_exit\`, docs/events.md):

| run | fills | guest faults reflected | writes to protected tables | instructions emulated | stores made | tables unprotected | of them floods | CR3 loads | kept root found | INVLPG | resets | shadow pages at peak |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
$(shadow_row bochs-linux-shadow 'Skylake')
$(shadow_row bochs-linux-penryn 'Penryn')

Exits by reason and CPU (PVH on two CPUs, lane \`bochs-linux-pvh-smp2-replug\`: Linux starts CPU 1 with
INIT-SIPI-SIPI, /init takes it offline and online again 20 times, then powers off; whole run). Counts are
exact; averages are TSC ticks, which with two CPUs advance once per round of Bochs's 16-instruction quantum,
so each exit's figure can be up to a quantum off (the exact INIT and SIPI costs: the quantum-1 table above):

| reason | CPU 0 count | CPU 0 average | CPU 1 count | CPU 1 average |
|---|---|---|---|---|
$(exits_per_cpu bochs-linux-pvh-smp2-replug 2)

Bochs's ticks at /init on this 2-CPU machine: $(at_init bochs-linux-pvh-smp2-replug || echo ?) (not comparable with the one-CPU counts
above: a tick is a round in which each CPU runs up to 16 instructions).
EOT
	fi
	cat <<EOT

## EPT and shadow paging (test kernel, 512 MiB machine)

The test kernel's paging microbenchmark (tests/guests/testkernel/measure_paging.c), 256 operations each,
in instructions per operation (with the VM exits per operation, from \`HC_EXIT_STATS\` before and after):
touch a fresh 4 KiB page (its first access), remap a page (a MOV to its PTE, INVLPG, an access through the
new mapping), switch address spaces (a MOV to CR3, alternating between two roots, and an access).

| operation | EPT (Skylake) | shadow (Skylake, \`paging=shadow\`) | shadow (Penryn: no EPT, no VPID) |
|---|---|---|---|
| touch a fresh page | $(paging_op bochs paging_touch_pages) | $(paging_op bochs-shadow paging_touch_pages) | $(paging_op bochs-penryn paging_touch_pages) |
| remap a page | $(paging_op bochs paging_remap) | $(paging_op bochs-shadow paging_remap) | $(paging_op bochs-penryn paging_remap) |
| CR3 switch | $(paging_op bochs paging_cr3_switch) | $(paging_op bochs-shadow paging_cr3_switch) | $(paging_op bochs-penryn paging_cr3_switch) |
| CPUID round trip (no paging work) | $(measure bochs cpuid_loop) | $(measure bochs-shadow cpuid_loop) | $(measure bochs-penryn cpuid_loop) |

Under EPT none of these exits: the guest's page tables are its own business. Under the shadow MMU a first
touch is a #PF exit and a fill, a remap a write to a protected table (emulated) plus an INVLPG exit plus the
fill of the new mapping, a CR3 switch an exit that finds the kept root.

What Bochs cannot show. Bochs charges a VM exit and a VM entry about one instruction each, and a TLB miss
nothing; a real CPU charges hundreds of cycles for each exit-and-entry round trip (measure it with the
test kernel's \`cpuid_loop\` on that CPU, below) and, for a TLB miss, one memory reference per paging-structure
entry it reads. Under EPT a TLB miss walks the guest's tables through the EPT (the 2D walk), under the
shadow MMU only the shadow tables: for the test kernel's 4 KiB page under 4-level guest paging the 2D walk
reads $(walk_refs bochs) entries, the shadow walk $(walk_refs bochs-shadow) (the guest's levels, on the
shadow's tables; \`event=walk2d\`, HC_WALK). Paging-structure caches and the TLB cut both in practice. So
on hardware shadow paging costs its exits times the round-trip latency on top of the instructions above,
and saves the longer 2D walks of TLB misses; the exit counts here are exact and carry over to any CPU.
EOT
	cat <<EOT

## Footprint

| item | size |
|---|---|
| hapvisor.elf image in memory (text, data, bss) | ${image:-?} bytes |
| hapvisor's region (image rounded to 2 MiB + pool) | $(field bochs 'event=region' size) bytes |
| pool frames used at peak (test kernel, lazy) | ${pool_peak:-?} of $(field bochs 'event=pmm' frames_total) |
| EPT table pages (test kernel, lazy) | $(field bochs 'event=ept_stats when=guest_exit' table_pages) (4 KiB each) |

## On real VT-x: cycles instead of instructions

No machine with VT-x was available for these figures (none of the build machines has it, and nested
KVM was not offered), so every number above is a Bochs instruction count. The same test kernel measures
in TSC cycles wherever it runs; to get the exit path in cycles on a given CPU:

- a Linux host with nested KVM (\`kvm_intel nested=Y\`, \`vmx\` in /proc/cpuinfo): \`make run\` boots the
  default ISO in QEMU with \`-accel kvm -cpu host,+vmx\`, or, for a CI log,
  \`scripts/boot-smoke.sh --lane kvm --kernel build/guests/testkernel-mb2.elf --junit out.xml\`
  (docs/ci.md);
- a real PC: write build/hapvisor.iso to a USB stick (docs/real-hardware.md) and read the serial port.

Then take \`testkernel: measure=cpuid_loop ... per_op=N\` (and \`vmcall_loop\`) from the log: N is TSC
cycles per round trip on that CPU (nested: including the outer hypervisor's own exits), and
\`hapvisor: event=exit_stats ... avg_cycles=\` gives hapvisor's handler share per exit reason. Label the
figures with the CPU (\`/proc/cpuinfo\` model name, or the \`vmx_probe\` line).
EOT
} >docs/performance.md
echo "bench: wrote docs/performance.md"
