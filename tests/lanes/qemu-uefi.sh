#!/usr/bin/env bash
# Lane qemu-uefi: QEMU TCG (q35), OVMF -> GRUB (x86_64-efi) -> Multiboot2 -> long mode -> C core.
# Proves the UEFI boot path and the EFI memory map, and the same clean refusal without VMX.
set -uo pipefail
# shellcheck source=tests/lanes/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/lanes/screen.sh
. "$(dirname "$0")/screen.sh"

lane_begin qemu-uefi 60 # measured: 5.1-5.4 s to power-off
screen_capture_begin
lane_run_qemu uefi "${SCREEN_QEMU_ARGS[@]}"

expect_common
expect_line 'hapvisor: event=boot_info firmware=uefi( |$)'
expect_line 'hapvisor: event=vmx_probe supported=0 reason=no_vmx( |$)'
expect_line 'hapvisor: error: .*VT-x' 'the refusal in words'
expect_line 'hapvisor: event=exit status=error action=poweroff reason="no usable VT-x"' 'a clean stop (no VT-x is an error)'

expect_event console kind=framebuffer 'width=[0-9]+' 'height=[0-9]+' 'bpp=(16|24|32)' 'cols=[1-9][0-9]*' 'rows=[1-9][0-9]*'
screen_expect # the screendump shows the serial log's text, pixel for pixel (ega_text: glyph for glyph)

lane_end
