; testkernel: the boot-protocol header. Assembled twice: -DTK_MULTIBOOT=1 gives the Multiboot1 variant,
; -DTK_MULTIBOOT=2 the Multiboot2 one; everything else in the kernel is shared. The linker script puts
; .multiboot first, so the header lies in the first 8 KiB (Multiboot 0.6.96 section 3.1.1) and the first
; 32 KiB (Multiboot2 1.0 section 3.1.1) of the file. Both variants are ELF images: the loaders take the
; load addresses and the entry point from the ELF program headers, so no address fields are given.

%ifndef TK_MULTIBOOT
%error "assemble with -DTK_MULTIBOOT=1 or -DTK_MULTIBOOT=2"
%endif

global tk_expected_magic

section .multiboot
%if TK_MULTIBOOT == 1
; Multiboot 0.6.96 section 3.1.2: magic, flags, checksum (the three sum to 0 mod 2^32).
MB1_HEADER_MAGIC     equ 0x1BADB002
MB1_FLAG_PAGE_ALIGN  equ 1 << 0 ; modules on 4 KiB boundaries
MB1_FLAG_MEMORY_INFO equ 1 << 1 ; mem_* and mmap_* fields wanted
MB1_FLAGS            equ MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMORY_INFO

align 4
	dd MB1_HEADER_MAGIC
	dd MB1_FLAGS
	dd -(MB1_HEADER_MAGIC + MB1_FLAGS)
%elif TK_MULTIBOOT == 2
; Multiboot2 1.0 section 3.1: magic, architecture, header length, checksum, then 8-byte aligned tags.
MB2_HEADER_MAGIC      equ 0xE85250D6
MB2_ARCH_I386         equ 0 ; 32-bit protected mode
MB2_HTAG_END          equ 0
MB2_HTAG_INFO_REQUEST equ 1 ; section 3.1.4
MB2_HTAG_OPTIONAL     equ 1 ; tag flags bit 0: the loader may ignore the tag
MB2_TAG_CMDLINE       equ 1 ; boot information tag types (section 3.6)
MB2_TAG_MMAP          equ 6

align 8
mb2_header:
	dd MB2_HEADER_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; The kernel needs the command line and the memory map; the loader gives both anyway.
	align 8
.info_request:
	dw MB2_HTAG_INFO_REQUEST, MB2_HTAG_OPTIONAL
	dd .info_request_end - .info_request
	dd MB2_TAG_CMDLINE, MB2_TAG_MMAP
.info_request_end:
	align 8
	dw MB2_HTAG_END, 0
	dd 8
mb2_header_end:
%else
%error "TK_MULTIBOOT must be 1 or 2"
%endif

section .rodata
; The loader magic (EAX at entry) this variant expects: check boot_magic compares with it.
tk_expected_magic:
%if TK_MULTIBOOT == 1
	dd 0x2BADB002
%else
	dd 0x36D76289
%endif
