; /bin/bochs-mark of the test initramfs: executes Bochs's magic breakpoint instruction (xchg bx, bx) and
; exits. /init runs it first, so a Bochs run with `magic_break: enabled=1` stops there and its debugger can
; print the instruction count at /init (`ptime`: make bench, scripts/bench.sh). Without that bochsrc line,
; and on any real CPU, xchg bx, bx is a no-op.
;
; A whole static ELF executable written by hand (nasm -f bin; scripts/linux-assets.sh assembles it): ELF
; header, one PT_LOAD program header for the file itself, the code. No libc, no compiler needed.
; ELF64 for x86-64 by default; with -DELF32 an ELF32 for i386 (the 32-bit kernels' initramfs).
LOAD_ADDR	equ 0x400000
ET_EXEC		equ 2
EV_CURRENT	equ 1
PT_LOAD		equ 1
PF_X		equ 1
PF_R		equ 4
%ifdef ELF32
BITS 32
ELFCLASS	equ 1
EM_MACHINE	equ 3		; EM_386
SYS_EXIT_GROUP	equ 252		; i386 (int 0x80)
%define ADDR dd
%else
BITS 64
ELFCLASS	equ 2
EM_MACHINE	equ 62		; EM_X86_64
SYS_EXIT_GROUP	equ 231		; x86-64 (syscall)
%define ADDR dq
%endif
	org LOAD_ADDR

elf_header:
	db 0x7F, "ELF"		; e_ident: magic
	db ELFCLASS, 1, EV_CURRENT, 0 ; class, ELFDATA2LSB, version, ELFOSABI_SYSV
	times 8 db 0		;   padding
	dw ET_EXEC		; e_type
	dw EM_MACHINE		; e_machine
	dd EV_CURRENT		; e_version
	ADDR start		; e_entry
	ADDR program_header - $$ ; e_phoff
	ADDR 0			; e_shoff: no sections
	dd 0			; e_flags
	dw ELF_HEADER_SIZE	; e_ehsize
	dw PROGRAM_HEADER_SIZE	; e_phentsize
	dw 1			; e_phnum
	dw 0, 0, 0		; e_shentsize, e_shnum, e_shstrndx
ELF_HEADER_SIZE equ $ - elf_header

program_header:			; the fields' order differs between the classes (p_flags)
	dd PT_LOAD		; p_type
%ifndef ELF32
	dd PF_R | PF_X		; p_flags
%endif
	ADDR 0			; p_offset: the whole file ...
	ADDR $$			; p_vaddr   ... at LOAD_ADDR
	ADDR $$			; p_paddr
	ADDR FILE_SIZE		; p_filesz
	ADDR FILE_SIZE		; p_memsz
%ifdef ELF32
	dd PF_R | PF_X		; p_flags
%endif
	ADDR 0x1000		; p_align
PROGRAM_HEADER_SIZE equ $ - program_header

start:
	xchg bx, bx		; Bochs magic breakpoint
	mov eax, SYS_EXIT_GROUP
%ifdef ELF32
	xor ebx, ebx		; status 0
	int 0x80
%else
	xor edi, edi		; status 0
	syscall
%endif
FILE_SIZE equ $ - $$
