; Multiboot2 header (Multiboot2 specification 1.0, section 3.1). Kept first in the image by linker.ld.
; Every tag except the end tag is optional (flags bit 0), so any Multiboot2 loader, BIOS or UEFI, boots us.
; The framebuffer header tag (type 5, no preferred mode) is what makes GRUB 2.06 on UEFI pass the GOP
; framebuffer on at all (without it GRUB says "no console will be available to OS" and hapvisor has no
; screen, docs/screen.md). Under BIOS it would make GRUB switch to a VBE graphics mode, which crashes GRUB
; under Bochs' BIOS. The multiboot2 command sets gfxpayload=auto for this tag, so each of our menu
; entries sets gfxpayload=text after it under BIOS (boot/grub.cfg, lane_iso in tests/lanes/lib.sh,
; scripts/run.sh): GRUB then stays in VGA text mode and reports it as EGA text.

MB2_MAGIC              equ 0xE85250D6
MB2_ARCH_I386          equ 0
MB2_TAG_OPTIONAL       equ 1

MB2_HTAG_END           equ 0
MB2_HTAG_INFO_REQUEST  equ 1
MB2_HTAG_CONSOLE_FLAGS equ 4
MB2_HTAG_FRAMEBUFFER   equ 5
MB2_HTAG_MODULE_ALIGN  equ 6

; Boot information tag types we ask for (spec 3.6).
MB2_ITAG_CMDLINE       equ 1
MB2_ITAG_MODULE        equ 3
MB2_ITAG_MMAP          equ 6
MB2_ITAG_FRAMEBUFFER   equ 8
MB2_ITAG_ACPI_OLD      equ 14
MB2_ITAG_ACPI_NEW      equ 15
MB2_ITAG_EFI_MMAP      equ 17

MB2_CONSOLE_EGA_TEXT   equ 2           ; "EGA text mode is supported"

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

align 8
.info_request:
	dw MB2_HTAG_INFO_REQUEST, MB2_TAG_OPTIONAL
	dd .info_request_end - .info_request
	dd MB2_ITAG_CMDLINE, MB2_ITAG_MODULE, MB2_ITAG_MMAP, MB2_ITAG_FRAMEBUFFER
	dd MB2_ITAG_ACPI_OLD, MB2_ITAG_ACPI_NEW, MB2_ITAG_EFI_MMAP
.info_request_end:

align 8
	dw MB2_HTAG_CONSOLE_FLAGS, MB2_TAG_OPTIONAL
	dd 12
	dd MB2_CONSOLE_EGA_TEXT

align 8
	dw MB2_HTAG_FRAMEBUFFER, MB2_TAG_OPTIONAL
	dd 20
	dd 0, 0, 0                       ; width, height, depth: no preference

align 8
	dw MB2_HTAG_MODULE_ALIGN, 0
	dd 8

align 8
	dw MB2_HTAG_END, 0
	dd 8
mb2_header_end:
