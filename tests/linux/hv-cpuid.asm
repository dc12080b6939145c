; /bin/hv-cpuid of the test initramfs: what the CPU it runs on says about the hypervisor under it. /init runs
; it on each CPU in turn (`taskset -c N hv-cpuid`, check cpus_hapvisor) and on a CPU it took offline and
; online again (check cpu_replug). It prints one line and exits 0:
;
;   apic_id=1 hypervisor_bit=1 signature=hapvisor
;
; apic_id: CPUID.1:EBX[31:24], the initial APIC ID of the CPU it ran on, which /init matches with the
; `apicid` of /proc/cpuinfo for processor N; hypervisor_bit: CPUID.1:ECX[31]; signature: the 12 bytes of
; CPUID 0x40000000 EBX, ECX, EDX up to the first NUL, a byte outside printable ASCII shown as '?' (on bare
; metal that leaf returns whatever the CPU holds there).
;
; A whole static ELF64 executable written by hand like bochs-mark.asm (nasm -f bin; scripts/linux-assets.sh
; assembles it): ELF header, one PT_LOAD program header for the file itself, the code. Its buffer is on the
; stack. No libc, no compiler needed.
BITS 64
LOAD_ADDR	equ 0x400000
ET_EXEC		equ 2
EM_X86_64	equ 62
EV_CURRENT	equ 1
PT_LOAD		equ 1
PF_X		equ 1
PF_R		equ 4
SYS_WRITE	equ 1
SYS_EXIT_GROUP	equ 231
STDOUT		equ 1
CPUID_FEATURES	equ 1
CPUID_HV_BASE	equ 0x40000000
APIC_ID_SHIFT	equ 24		; CPUID.1:EBX[31:24]
HV_BIT_SHIFT	equ 31		; CPUID.1:ECX[31]
SIGNATURE_BYTES	equ 12
BUF_BYTES	equ 128
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
	sub rsp, BUF_BYTES + 16		; the line, then the signature at [rsp + BUF_BYTES]
	mov eax, CPUID_FEATURES
	cpuid
	shr ebx, APIC_ID_SHIFT
	mov r12d, ebx
	shr ecx, HV_BIT_SHIFT
	mov r13d, ecx
	mov eax, CPUID_HV_BASE
	xor ecx, ecx
	cpuid
	mov [rsp + BUF_BYTES], ebx
	mov [rsp + BUF_BYTES + 4], ecx
	mov [rsp + BUF_BYTES + 8], edx

	mov rdi, rsp
	lea rsi, [rel s_apic_id]
	call put_str
	mov eax, r12d
	call put_dec
	lea rsi, [rel s_hv_bit]
	call put_str
	mov eax, r13d
	call put_dec
	lea rsi, [rel s_signature]
	call put_str
	lea rsi, [rsp + BUF_BYTES]
	mov ecx, SIGNATURE_BYTES
.sig:	lodsb
	test al, al
	jz .line_end
	cmp al, ' '
	jb .odd
	cmp al, '~'
	jbe .put
.odd:	mov al, '?'
.put:	stosb
	loop .sig
.line_end:
	mov al, 10
	stosb

	mov rdx, rdi
	mov rsi, rsp
	sub rdx, rsi			; length
	mov edi, STDOUT
	mov eax, SYS_WRITE
	syscall
	mov eax, SYS_EXIT_GROUP
	xor edi, edi			; status 0
	syscall

; put_str: copy the NUL-terminated string at rsi to rdi (advanced past it).
put_str:
	lodsb
	test al, al
	jz .done
	stosb
	jmp put_str
.done:	ret

; put_dec: eax in decimal at rdi (advanced past it). Clobbers eax, ecx, edx, r8d.
put_dec:
	mov ecx, 10
	xor r8d, r8d
.div:	xor edx, edx
	div ecx
	add dl, '0'
	push rdx
	inc r8d
	test eax, eax
	jnz .div
.out:	pop rax
	stosb
	dec r8d
	jnz .out
	ret

s_apic_id:	db "apic_id=", 0
s_hv_bit:	db " hypervisor_bit=", 0
s_signature:	db " signature=", 0
FILE_SIZE equ $ - $$
