; testkernel: events raised on a chosen stack, and instructions at known addresses (checks_events.c,
; checks_smp.c).
;
; The tk_*_on stubs move RSP to a given stack top and raise one event there without pushing anything first,
; so the event's own frame is the first write to that page (a fresh page: unmapped in the EPT under
; hapvisor's ept=4k; or one write-protected for dirty tracking): the EPT violation then happens during
; event delivery, and the event must still arrive, once, with the frame the CPU would have pushed. The
; labels name the instruction each frame must point at.
;
; The tk_insn_* stubs each execute one instruction hapvisor turns into a fault for the guest (called
; through fault_probe: rdi is the probe's ctx); the label with _at names that instruction, the RIP the
; fault's frame must hold.

global tk_int3_on, tk_int3_insn, tk_intn_on, tk_intn_insn, tk_pf_on, tk_pf_insn, tk_pf_resume
global tk_ipi_on, tk_ipi_wait, tk_ipi_wait_end, tk_storm_on
global tk_insn_vmxon, tk_insn_vmread, tk_insn_vmptrst, tk_insn_invept, tk_insn_mov_cr4
global tk_insn_rdmsr, tk_insn_rdmsr_at, tk_insn_wrmsr, tk_insn_wrmsr_at, tk_insn_xsetbv, tk_insn_xsetbv_at
global tk_insn_ud2
global tk_fresh_gdt, tk_fresh_gdt_end

TK_VEC_SOFT equ 0x41 ; checks_events.c

section .text
bits 64

; void tk_int3_on(uint64_t stack_top)
tk_int3_on:
	mov rax, rsp
	mov rsp, rdi
tk_int3_insn:
	int3
	mov rsp, rax
	ret

; void tk_intn_on(uint64_t stack_top)
tk_intn_on:
	mov rax, rsp
	mov rsp, rdi
tk_intn_insn:
	int TK_VEC_SOFT
	mov rsp, rax
	ret

; void tk_pf_on(uint64_t stack_top, uint64_t addr): a read of the unmapped addr; the #PF handler resumes
; at tk_pf_resume.
tk_pf_on:
	mov rax, rsp
	mov rsp, rdi
tk_pf_insn:
	mov rdx, [rsi]
tk_pf_resume:
	mov rsp, rax
	ret

; void tk_ipi_on(uint64_t stack_top, volatile uint32_t *icr_lo, uint32_t icr, volatile uint32_t *done,
;                uint64_t polls): send the IPI (xAPIC ICR write), enable interrupts and wait until *done
; or polls run out; interrupts off again on return. The interrupt arrives between tk_ipi_wait and
; tk_ipi_wait_end.
tk_ipi_on:
	mov rax, rsp
	mov rsp, rdi
	mov [rsi], edx
	sti
tk_ipi_wait:
	cmp dword [rcx], 0
	jne tk_ipi_wait_end
	dec r8
	jnz tk_ipi_wait
tk_ipi_wait_end:
	cli
	mov rsp, rax
	ret

; void tk_storm_on(uint64_t stack_top, volatile uint32_t *stop, volatile uint32_t *started): CPUID and
; IN AL, 0x64 (two exits under hapvisor) in a loop on the given stack until *stop is nonzero; *started is
; set once RSP is there (checks_smp.c: the NMI storm).
tk_storm_on:
	push rbx
	mov r8, rsp
	mov rsp, rdi
	mov dword [rdx], 1
.loop:
	xor eax, eax
	xor ecx, ecx
	cpuid
	in al, 0x64
	cmp dword [rsi], 0
	je .loop
	mov rsp, r8
	pop rbx
	ret

; VMX instructions: #UD under hapvisor (as on a CPU without VMX). rdi points at a zero qword.
tk_insn_vmxon:
	vmxon [rdi]
	ret
tk_insn_vmread:
	vmread rax, rdi
	ret
tk_insn_vmptrst:
	vmptrst [rdi]
	ret
tk_insn_invept:
	invept rdi, [rdi]
	ret

; MOV to CR4 of the value rdi (CR4.VMXE set: #GP(0)).
tk_insn_mov_cr4:
	mov cr4, rdi
	ret

; RDMSR of MSR edi.
tk_insn_rdmsr:
	mov ecx, edi
tk_insn_rdmsr_at:
	rdmsr
	ret

; WRMSR of 0 to MSR edi.
tk_insn_wrmsr:
	mov ecx, edi
	xor eax, eax
	xor edx, edx
tk_insn_wrmsr_at:
	wrmsr
	ret

; XSETBV of XCR0 = 0 (x87 clear: #GP(0)); needs CR4.OSXSAVE.
tk_insn_xsetbv:
	xor ecx, ecx
	xor eax, eax
	xor edx, edx
tk_insn_xsetbv_at:
	xsetbv
	ret

; UD2: the CPU's own #UD, for comparison.
tk_insn_ud2:
	ud2
	ret

; A copy of entry.asm's GDT on a page of its own that the loader writes and nothing reads until the nmi
; check loads it (LGDT reads only its pointer): the next IRET's descriptor load is then the page's first
; access, an EPT violation during IRET under ept=4k (checks_smp.c).
section .fresh_rodata progbits alloc noexec nowrite align=4096
tk_fresh_gdt:
	dq 0
	dq 0x00AF9A000000FFFF ; GDT_CODE64
	dq 0x00CF9A000000FFFF ; GDT_CODE32
	dq 0x00CF92000000FFFF ; GDT_DATA
tk_fresh_gdt_end:
