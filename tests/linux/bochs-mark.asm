; /bin/bochs-mark of the test initramfs: executes Bochs's magic breakpoint instruction (xchg bx, bx) and
; exits. /init runs it first, so a Bochs run with `magic_break: enabled=1` stops there and its debugger can
; print the instruction count at /init (`ptime`: make bench, scripts/bench.sh). Without that bochsrc line,
; and on any real CPU, xchg bx, bx is a no-op.
;
; A whole static ELF64 executable written by hand (nasm -f bin; scripts/linux-assets.sh assembles it):
; ELF header, one PT_LOAD program header for the file itself, the code. No libc, no compiler needed.
BITS 64
LOAD_ADDR	equ 0x400000
ET_EXEC		equ 2
EM_X86_64	equ 62
EV_CURRENT	equ 1
PT_LOAD		equ 1
PF_X		equ 1
PF_R		equ 4
SYS_EXIT_GROUP	equ 231
	org LOAD_ADDR

elf_header:
	db 0x7F, "ELF"		; e_ident: magic
	db 2, 1, EV_CURRENT, 0	;   ELFCLASS64, ELFDATA2LSB, version, ELFOSABI_SYSV
	times 8 db 0		;   padding
	dw ET_EXEC		; e_type
	dw EM_X86_64		; e_machine
	dd EV_CURRENT		; e_version
	dq start		; e_entry
	dq program_header - $$	; e_phoff
	dq 0			; e_shoff: no sections
	dd 0			; e_flags
	dw ELF_HEADER_SIZE	; e_ehsize
	dw PROGRAM_HEADER_SIZE	; e_phentsize
	dw 1			; e_phnum
	dw 0, 0, 0		; e_shentsize, e_shnum, e_shstrndx
ELF_HEADER_SIZE equ $ - elf_header

program_header:
	dd PT_LOAD		; p_type
	dd PF_R | PF_X		; p_flags
	dq 0			; p_offset: the whole file ...
	dq $$			; p_vaddr   ... at LOAD_ADDR
	dq $$			; p_paddr
	dq FILE_SIZE		; p_filesz
	dq FILE_SIZE		; p_memsz
	dq 0x1000		; p_align
PROGRAM_HEADER_SIZE equ $ - program_header

start:
	xchg bx, bx		; Bochs magic breakpoint
	mov eax, SYS_EXIT_GROUP
	xor edi, edi		; status 0
	syscall
FILE_SIZE equ $ - $$
