#!/usr/bin/env bash
# Lane qemu-bios: QEMU TCG, SeaBIOS -> GRUB (BIOS) -> Multiboot2 -> long mode -> C core.
# Proves the BIOS boot path and the BIOS (E820) memory map, and that hapvisor refuses cleanly, with a
# sentence for the user, on a CPU without VMX (QEMU TCG has none). The screen shows the sentences, not the
# event= lines.
#   tests/lanes/qemu-bios.sh events    lane qemu-bios-events: the same with screen_events=on, so the screen
#                                      shows the event lines too (from the options line on).
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lanes/screen.sh
. "$(dirname "$0")/screen.sh"

mode=${1:-}
case $mode in
'') lane_begin qemu-bios 60 ;; # measured: 0.7-0.8 s to power-off
events)
	lane_begin qemu-bios-events 60
	lane_iso 'on_exit=poweroff screen_events=on'
	;;
*) echo "usage: qemu-bios.sh [events]" >&2 && exit 2 ;;
esac
screen_capture_begin
lane_run_qemu bios "${SCREEN_QEMU_ARGS[@]}"

expect_common
expect_line 'hapvisor: event=boot_info firmware=bios( |$)'
expect_line 'hapvisor: event=vmx_probe supported=0 reason=no_vmx( |$)'
expect_line 'hapvisor: error: .*VT-x' 'the refusal in words'
expect_line 'hapvisor: event=exit status=error action=poweroff reason="no usable VT-x"' 'a clean stop (no VT-x is an error)'

expect_event console kind=ega_text width=80 height=25 bpp=16 cols=80 rows=25 addr=0xb8000
[ "$mode" = events ] && expect_event options screen_events=on
screen_expect # the screendump shows the serial log's text, pixel for pixel (ega_text: glyph for glyph)

lane_end
