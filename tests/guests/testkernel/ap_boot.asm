; testkernel: the second CPU's start code (check smp, checks_smp.c). checks_smp.c copies
; tk_ap_start..tk_ap_end to TK_AP_PAGE and sends INIT-SIPI-SIPI with vector TK_AP_PAGE >> 12, as a kernel
; starts its processors (SDM Vol. 3A 9.4.4). The CPU starts here in real mode at TK_AP_PAGE:0000 (CS =
; vector << 8, IP 0), enters protected mode with entry.asm's GDT, then long mode on entry.asm's identity
; map, and calls tk_ap_main() on its own stack. Addresses inside the page are TK_AP_PAGE + offset.

TK_AP_PAGE  equ 0x8000               ; keep in step with checks_smp.c
CR0_PE      equ 1 << 0
CR0_NW      equ 1 << 29
CR0_CD      equ 1 << 30
CR0_PG      equ 1 << 31
CR4_PAE     equ 1 << 5
MSR_EFER    equ 0xC0000080
EFER_LME    equ 1 << 8
GDT_CODE64  equ 0x08                 ; entry.asm's GDT
GDT_CODE32  equ 0x10
GDT_DATA    equ 0x18
GDT_BYTES   equ 4 * 8                ; entry.asm's GDT: null, code64, code32, data
AP_STACK_SIZE equ 16384

%define ABS(label) (TK_AP_PAGE + (label) - tk_ap_start)

global tk_ap_start, tk_ap_end, tk_ap_nmi_real, tk_ap_nmi_real_count
extern tk_gdt, tk_pml4, tk_ap_main

section .text
bits 16
tk_ap_start:
	cli
	cld
	xor ax, ax
	mov ds, ax
	o32 lgdt [ABS(ap_gdt_ptr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword GDT_CODE32:ABS(ap_pm32)

bits 32
ap_pm32:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
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
	and eax, ~(CR0_CD | CR0_NW)      ; caches on: INIT leaves them off
	mov cr0, eax
	jmp GDT_CODE64:ABS(ap_lm64)

bits 64
ap_lm64:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	mov rsp, ap_stack_top
	xor ebp, ebp
	mov rax, tk_ap_main
	call rax                         ; does not return
.halt:
	cli
	hlt
	jmp .halt

align 8
ap_gdt_ptr:
	dw GDT_BYTES - 1
	dd tk_gdt

; An NMI that reaches the CPU still in real mode (check smp with smp_nmi sends one while the CPU waits for
; its SIPI; checks_smp.c points the real-mode IVT's vector 2 here, at TK_AP_PAGE >> 4 : offset): count it.
bits 16
tk_ap_nmi_real:
	inc word [cs:tk_ap_nmi_real_count - tk_ap_start]
	iret
tk_ap_nmi_real_count:
	dw 0
tk_ap_end:

section .bss
align 16
ap_stack: resb AP_STACK_SIZE
ap_stack_top:
