; 32-bit entry from a Multiboot2 loader to 64-bit C (Multiboot2 spec 3.3 "I386 machine state";
; SDM Vol. 3A 10.8.5 "Initializing IA-32e Mode").
;
; In:  EAX = 0x36D76289, EBX = physical address of the Multiboot2 information, protected mode, paging off.
; Out: hv_main(magic, info) on the 64-bit stack in .bss, with early page tables that map the first 4 GiB
;      1:1 and the image at HV_VBASE (2 MiB pages). arch/x86/paging.c replaces them.
; Refusals (not Multiboot2, no long mode) are printed on COM1 and the VGA text screen, then the CPU halts.

%include "arch/x86/layout.inc"

MB2_BOOT_MAGIC   equ 0x36D76289
COM1             equ 0x3F8
VGA_TEXT         equ 0xB8000

CR0_PE           equ 1 << 0
CR0_WP           equ 1 << 16
CR0_NW           equ 1 << 29
CR0_CD           equ 1 << 30
CR0_PG           equ 1 << 31
CR4_PAE          equ 1 << 5
MSR_EFER         equ 0xC0000080
EFER_LME         equ 1 << 8
EFER_NXE         equ 1 << 11
CPUID_EXT_LM     equ 1 << 29          ; CPUID 0x80000001 EDX
CPUID_EXT_NX     equ 1 << 20

PTE_P            equ 1 << 0
PTE_W            equ 1 << 1
PTE_PS           equ 1 << 7
EARLY_IDENT_PDS  equ 4                ; 4 page directories of 2 MiB pages: the first 4 GiB

extern hv_main
extern __bss_start, __bss_end
global hv_entry32, boot_magic, boot_info

section .boot.text progbits alloc exec nowrite align=16
bits 32
hv_entry32:
	cli
	cld
	mov esp, early_stack_top
	mov edi, eax                     ; keep the magic: RDTSC clobbers EAX and EDX
	rdtsc                            ; the start of hapvisor, for start-up path length (docs/performance.md)
	mov [boot_tsc], eax
	mov [boot_tsc + 4], edx
	mov eax, edi
	mov [boot_magic], eax
	mov [boot_info], ebx
	call serial_init32

	cmp eax, MB2_BOOT_MAGIC
	mov esi, msg_not_mb2
	jne fail32

	mov eax, 0x80000000               ; extended CPUID leaves present?
	cpuid
	cmp eax, 0x80000001
	mov esi, msg_no_lm
	jb fail32
	mov eax, 0x80000001
	cpuid
	test edx, CPUID_EXT_LM
	jz fail32
	mov [have_nx], edx

	call build_early_tables

	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, early_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	test dword [have_nx], CPUID_EXT_NX
	jz .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP | CR0_PE
	and eax, ~(CR0_CD | CR0_NW)      ; caches on: some firmware (Bochs' BIOS) leaves them off
	mov cr0, eax

	lgdt [early_gdt_ptr]
	jmp EARLY_CS:long_mode_low

; Early page tables: PML4[0] -> 4 GiB identity map; PML4[511] -> PDPT[510] -> the image at HV_VBASE.
build_early_tables:
	mov edi, early_tables
	mov ecx, EARLY_TABLES_SIZE / 4
	xor eax, eax
	rep stosd
	mov dword [early_pml4], early_pdpt_lo + PTE_P + PTE_W
	mov dword [early_pml4 + 511 * 8], early_pdpt_hi + PTE_P + PTE_W
	mov dword [early_pdpt_hi + 510 * 8], early_pd_hi + PTE_P + PTE_W
	xor ecx, ecx
.pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, early_pd_ident + PTE_P + PTE_W
	mov [early_pdpt_lo + ecx * 8], eax
	inc ecx
	cmp ecx, EARLY_IDENT_PDS
	jb .pdpt
	xor ecx, ecx                     ; 2048 identity 2 MiB pages: entry i maps i * 2 MiB
.ident:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_P + PTE_W + PTE_PS
	mov edx, ecx
	shr edx, 11                      ; bits 32+ of i * 2 MiB (always 0 below 4 GiB)
	mov [early_pd_ident + ecx * 8], eax
	mov [early_pd_ident + ecx * 8 + 4], edx
	inc ecx
	cmp ecx, 512 * EARLY_IDENT_PDS
	jb .ident
	xor ecx, ecx                     ; 512 2 MiB pages for the image: HV_VBASE + i * 2 MiB
.hi:
	mov eax, ecx
	shl eax, 21
	add eax, HV_LOAD_PHYS + PTE_P + PTE_W + PTE_PS
	mov [early_pd_hi + ecx * 8], eax
	inc ecx
	cmp ecx, 512
	jb .hi
	ret

; COM1 at 115200 8N1, FIFO on. Harmless without a UART.
serial_init32:
	push eax
	push edx
	mov dx, COM1 + 1
	xor al, al
	out dx, al                       ; no interrupts
	mov dx, COM1 + 3
	mov al, 0x80
	out dx, al                       ; DLAB
	mov dx, COM1
	mov al, 1
	out dx, al                       ; divisor 1 = 115200
	mov dx, COM1 + 1
	xor al, al
	out dx, al
	mov dx, COM1 + 3
	mov al, 0x03
	out dx, al                       ; 8N1
	mov dx, COM1 + 2
	mov al, 0xC7
	out dx, al                       ; FIFO
	mov dx, COM1 + 4
	mov al, 0x03
	out dx, al                       ; DTR, RTS
	pop edx
	pop eax
	ret

; Print the NUL-terminated string at ESI on COM1 and the VGA text screen, then halt forever.
fail32:
	mov edi, VGA_TEXT
.next:
	lodsb
	test al, al
	jz .halt
	mov dx, COM1 + 5
	mov ah, al
.wait:
	in al, dx
	test al, 0x20                    ; transmitter holding register empty
	jnz .send
	dec dword [spin]                 ; no UART: give up waiting after a while
	jnz .wait
.send:
	mov dword [spin], 100000
	mov al, ah
	mov dx, COM1
	out dx, al
	cmp al, 10
	je .next
	mov [edi], al
	mov byte [edi + 1], 0x4F         ; white on red
	add edi, 2
	jmp .next
.halt:
	cli
	hlt
	jmp .halt

bits 64
long_mode_low:
	mov ax, EARLY_DS
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rax, hv_entry64
	jmp rax

section .boot.data progbits alloc noexec write align=16
msg_not_mb2:
	db "hapvisor: error: not started by a Multiboot2 loader (bad magic in EAX).", 13, 10
	db "hapvisor: error: boot hapvisor.elf with GRUB 2: 'multiboot2 /boot/hapvisor.elf' then 'boot'.", 13, 10, 0
msg_no_lm:
	db "hapvisor: error: this CPU has no 64-bit long mode; hapvisor needs an x86-64 CPU with VT-x.", 13, 10, 0
align 4
spin:        dd 100000
have_nx:     dd 0
boot_magic:  dd 0
boot_info:   dd 0
align 8
boot_tsc:    dq 0

EARLY_CS equ 0x08
EARLY_DS equ 0x10
align 16
early_gdt:
	dq 0
	dq 0x00AF9A000000FFFF            ; 64-bit code, DPL 0
	dq 0x00CF92000000FFFF            ; data, DPL 0
early_gdt_end:
early_gdt_ptr:
	dw early_gdt_end - early_gdt - 1
	dd early_gdt

section .boot.bss nobits alloc noexec write align=4096
early_tables:
early_pml4:     resb 4096
early_pdpt_lo:  resb 4096
early_pdpt_hi:  resb 4096
early_pd_hi:    resb 4096
early_pd_ident: resb 4096 * EARLY_IDENT_PDS
EARLY_TABLES_SIZE equ $ - early_tables
early_stack:    resb 4096
early_stack_top:

; ---- 64-bit, linked at HV_VBASE -------------------------------------------------------------------
section .text
global hv_entry64
hv_entry64:
	mov edi, [boot_magic]            ; keep the arguments out of .bss: it is cleared next
	mov esi, [boot_info]
	mov rax, [boot_tsc]
	mov [rel hv_boot_tsc], rax       ; .data: reachable from C (the .boot section is not, -mcmodel=kernel)
	mov r12, rdi
	mov r13, rsi
	mov rdi, __bss_start
	mov rcx, __bss_end
	sub rcx, rdi
	shr rcx, 3                       ; .bss is page aligned (linker.ld)
	xor eax, eax
	rep stosq
	mov rsp, boot_stack_top
	xor ebp, ebp                     ; outermost frame for stack traces
	mov rdi, r12
	mov rsi, r13
	call hv_main
.halt:
	cli
	hlt
	jmp .halt

section .data
align 8
global hv_boot_tsc
hv_boot_tsc:    dq 0

section .bss
align 16
global boot_stack, boot_stack_top
boot_stack:     resb 16384
boot_stack_top:
