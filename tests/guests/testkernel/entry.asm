; testkernel: the 32-bit entry and the switch to long mode.
;
; Entered by a Multiboot1 (spec 0.6.96 section 3.2) or Multiboot2 (spec 1.0 section 3.3) loader: 32-bit
; protected mode, paging off, interrupts off, flat CS/DS, EAX = loader magic, EBX = info physical address.
; Nothing else is assumed: no stack, GDT or IDT. The code clears .bss, takes its own stack, checks the
; magic and long-mode support (printing a check line and halting on failure), loads its own GDT, maps the
; first 4 GiB 1:1 with 2 MiB pages (SDM Vol. 3A 4.5) and enters IA-32e mode (SDM Vol. 3A "Initializing
; IA-32e Mode"), then
; calls tk_main(magic, info) in C.

MB1_BOOT_MAGIC equ 0x2BADB002
MB2_BOOT_MAGIC equ 0x36D76289

CR0_PE    equ 1 << 0
CR0_PG    equ 1 << 31
CR4_PAE   equ 1 << 5
MSR_EFER  equ 0xC0000080
EFER_LME  equ 1 << 8
CPUID_EXT_MAX    equ 0x80000000
CPUID_EXT_FEAT   equ 0x80000001
CPUID_EXT_EDX_LM equ 1 << 29

PTE_P   equ 1 << 0
PTE_RW  equ 1 << 1
PTE_PS  equ 1 << 7 ; 2 MiB page in a page-directory entry
PD_ENTRIES   equ 512
PD_COUNT     equ 4  ; 4 page directories x 1 GiB = the first 4 GiB
LARGE_PAGE_SHIFT equ 21
STACK_SIZE   equ 16384

GDT_CODE64 equ 0x08
GDT_CODE32 equ 0x10
GDT_DATA   equ 0x18

COM1     equ 0x3F8
UART_LSR equ 5
LSR_THR_EMPTY equ 0x20

global tk_entry32
global tk_gdt, tk_pml4
global tk_stack_top
global tk_cpuid_count
global tk_boot_magic
global tk_boot_info
extern tk_main
extern __bss_start
extern __bss_end

section .text.entry
bits 32
tk_entry32:
	cli
	cld
	mov ebp, eax ; keep the magic and the info address out of rep stosd's way
	mov esi, ebx
	; .bss holds the stack, the page tables and the counters: clear it (a loader should, but need not
	; have done so for a kernel that did not ask).
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	mov esp, tk_stack_top
	mov [tk_boot_magic], ebp
	mov [tk_boot_info], esi

	cmp ebp, MB2_BOOT_MAGIC
	je .magic_ok
	cmp ebp, MB1_BOOT_MAGIC
	je .magic_ok
	mov esi, msg_bad_magic
	call serial32_puts
	mov eax, ebp
	call serial32_hex
	mov esi, msg_bad_magic_tail
	jmp fail32
.magic_ok:
	; Long mode present? (SDM Vol. 2A CPUID: leaf 0x80000001 EDX bit 29)
	mov eax, CPUID_EXT_MAX
	cpuid
	inc dword [tk_cpuid_count]
	cmp eax, CPUID_EXT_FEAT
	jb .no_long_mode
	mov eax, CPUID_EXT_FEAT
	cpuid
	inc dword [tk_cpuid_count]
	test edx, CPUID_EXT_EDX_LM
	jnz .long_mode_ok
.no_long_mode:
	mov esi, msg_no_long_mode
	jmp fail32
.long_mode_ok:
	lgdt [gdt_ptr]
	jmp GDT_CODE32:.reload_cs
.reload_cs:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax

	; PML4[0] -> PDPT; PDPT[0..3] -> the four page directories; each PD entry maps 2 MiB.
	mov dword [tk_pml4], tk_pdpt + PTE_P + PTE_RW
	xor ecx, ecx
.pdpt_loop:
	mov eax, ecx
	shl eax, 12
	add eax, tk_pd + PTE_P + PTE_RW
	mov [tk_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, PD_COUNT
	jb .pdpt_loop
	xor ecx, ecx
.pd_loop:
	mov eax, ecx
	shl eax, LARGE_PAGE_SHIFT
	or eax, PTE_P + PTE_RW + PTE_PS
	mov edx, ecx
	shr edx, 32 - LARGE_PAGE_SHIFT ; physical address bits 32 and up
	mov [tk_pd + ecx * 8], eax
	mov [tk_pd + ecx * 8 + 4], edx
	inc ecx
	cmp ecx, PD_ENTRIES * PD_COUNT
	jb .pd_loop

	; SDM Vol. 3A "Initializing IA-32e Mode": PAE on, CR3, EFER.LME, then paging on activates IA-32e mode.
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, tk_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_PE
	mov cr0, eax
	jmp GDT_CODE64:long_mode

; fail32: print the string at ESI and the summary line on COM1, then halt. Used before long mode.
fail32:
	call serial32_puts
	mov esi, msg_summary_fail
	call serial32_puts
.halt:
	cli
	hlt
	jmp .halt

; serial32_puts: write the NUL-terminated string at ESI to COM1 (polled; the UART is left as the
; firmware set it, which is 115200 8N1 under GRUB and QEMU). Clobbers EAX, EDX, ESI.
serial32_puts:
	lodsb
	test al, al
	jz .done
	call serial32_putc
	jmp serial32_puts
.done:
	ret

; serial32_putc: write AL to COM1. Clobbers EDX.
serial32_putc:
	push eax
	mov dx, COM1 + UART_LSR
.wait:
	in al, dx
	test al, LSR_THR_EMPTY
	jz .wait
	pop eax
	mov dx, COM1
	out dx, al
	ret

; serial32_hex: write EAX as 8 hex digits to COM1. Clobbers EAX, ECX, EDX.
serial32_hex:
	mov ecx, 8
.digit:
	rol eax, 4
	push eax
	and eax, 0xF
	mov al, [hex_digits + eax]
	call serial32_putc
	pop eax
	loop .digit
	ret

bits 64
long_mode:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov rsp, tk_stack_top
	xor ebp, ebp
	mov edi, [tk_boot_magic]
	mov esi, [tk_boot_info]
	call tk_main ; does not return
.halt:
	cli
	hlt
	jmp .halt

section .rodata
hex_digits: db "0123456789abcdef"
msg_bad_magic:
	db "testkernel: check=boot_magic result=fail magic=0x", 0
msg_bad_magic_tail:
	db " reason=not_a_multiboot_loader (expected EAX=0x36d76289 or 0x2badb002); halting", 13, 10, 0
msg_no_long_mode:
	db "testkernel: check=boot_magic result=fail reason=cpu_has_no_long_mode; halting", 13, 10, 0
msg_summary_fail:
	db "testkernel: 0 passed, 1 failed", 13, 10, 0

align 8
; Flat descriptors (SDM Vol. 3A 3.4.5): 64-bit code (L=1), 32-bit code, data; all base 0, limit 4 GiB.
tk_gdt:
gdt:
	dq 0
	dq 0x00AF9A000000FFFF ; GDT_CODE64
	dq 0x00CF9A000000FFFF ; GDT_CODE32
	dq 0x00CF92000000FFFF ; GDT_DATA
gdt_end:
gdt_ptr:
	dw gdt_end - gdt - 1
	dd gdt

section .data
align 8
tk_boot_magic: dq 0
tk_boot_info:  dq 0

section .bss
align 4096
tk_pml4: resb 4096
tk_pdpt: resb 4096
tk_pd:   resb 4096 * PD_COUNT
align 16
tk_stack: resb STACK_SIZE
tk_stack_top:
tk_cpuid_count: resq 1
