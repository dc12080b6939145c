; The application processors' start code (SDM Vol. 3A 9.4.4 "MP Initialization Example", 10.8.5
; "Initializing IA-32e Mode"). arch/x86/smp.c copies ap_tramp_start..ap_tramp_end to one page below 1 MiB
; that hapvisor keeps from the guest, fills in the ap_tramp_* data fields, and sends INIT-SIPI-SIPI with
; that page's number as the vector. The AP starts here in real mode at CS:IP = page:0, then:
;   real mode -> 32-bit protected mode (this page's GDT) -> IA-32e mode on hapvisor's own page tables
;   (CR3 below 4 GiB; smp.c makes this page executable there while APs start) -> 64-bit code, which takes
;   the stack and the per-CPU pointer from the data fields and calls smp_ap_main(percpu).
; Nothing here is position-dependent: EBX holds the page's physical address from the first instructions on,
; and every address that must be absolute is a data field smp.c writes.
; This copy in .rodata is never executed.

CR0_PE      equ 1 << 0
CR0_WP      equ 1 << 16
CR0_NW      equ 1 << 29
CR0_CD      equ 1 << 30
CR0_PG      equ 1 << 31
CR4_PAE     equ 1 << 5
MSR_EFER    equ 0xC0000080

SEL_CODE32  equ 0x08
SEL_DATA    equ 0x10
SEL_CODE64  equ 0x18

%define OFF(label) (label - ap_tramp_start)

global ap_tramp_start, ap_tramp_end, ap_tramp_gdt, ap_tramp_gdtr_base, ap_tramp_far32, ap_tramp_far64
global ap_tramp_pm32, ap_tramp_lm64, ap_tramp_cr3, ap_tramp_efer, ap_tramp_stack, ap_tramp_percpu
global ap_tramp_target

section .rodata
align 16
bits 16
ap_tramp_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4                          ; EBX = this page's physical address
	o32 lgdt [OFF(ap_tramp_gdtr)]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	o32 jmp far [OFF(ap_tramp_far32)]   ; -> ap_tramp_pm32, 32-bit code segment

bits 32
ap_tramp_pm32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [ebx + OFF(ap_tramp_cr3)]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, [ebx + OFF(ap_tramp_efer)]  ; LME and, as on the BSP, NXE
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP | CR0_PE
	and eax, ~(CR0_CD | CR0_NW)         ; caches on: INIT leaves them off (SDM Vol. 3A Table 10-1)
	mov cr0, eax                        ; IA-32e mode active, still in 32-bit (compatibility) code
	jmp far [ebx + OFF(ap_tramp_far64)] ; -> ap_tramp_lm64, 64-bit code segment

bits 64
ap_tramp_lm64:
	mov ebx, ebx                        ; the upper halves are undefined after the mode switch
	mov rsp, [rbx + OFF(ap_tramp_stack)]
	mov rdi, [rbx + OFF(ap_tramp_percpu)]
	mov rax, [rbx + OFF(ap_tramp_target)]
	xor ebp, ebp                        ; outermost frame for stack traces
	call rax                            ; smp_ap_main(percpu) never returns
.hang:
	cli
	hlt
	jmp .hang

align 8
ap_tramp_gdt:
	dq 0
	dq 0x00CF9A000000FFFF               ; 0x08: 32-bit code, base 0, 4 GiB
	dq 0x00CF92000000FFFF               ; 0x10: data, base 0, 4 GiB
	dq 0x00AF9A000000FFFF               ; 0x18: 64-bit code
ap_tramp_gdt_end:
ap_tramp_gdtr:
	dw ap_tramp_gdt_end - ap_tramp_gdt - 1
ap_tramp_gdtr_base:
	dd 0                                ; smp.c: page + OFF(ap_tramp_gdt)
ap_tramp_far32:
	dd 0                                ; smp.c: page + OFF(ap_tramp_pm32)
	dw SEL_CODE32
ap_tramp_far64:
	dd 0                                ; smp.c: page + OFF(ap_tramp_lm64)
	dw SEL_CODE64
align 8
ap_tramp_cr3:
	dd 0                                ; hapvisor's page-table root (below 4 GiB)
ap_tramp_efer:
	dd 0                                ; EFER bits to set: LME | (the BSP's NXE)
ap_tramp_stack:
	dq 0                                ; this AP's stack top
ap_tramp_percpu:
	dq 0                                ; this AP's struct percpu
ap_tramp_target:
	dq 0                                ; smp_ap_main (C)
ap_tramp_end:
