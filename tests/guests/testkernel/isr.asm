; testkernel: interrupt entry stubs and the fault probe (C side: idt.c, idt.h).
;
; Each vector below TK_IDT_VECTORS (the 32 exceptions of SDM Vol. 3A table 6-1, then the few interrupt
; vectors the checks use) has a stub that pushes a zero error code where the CPU pushes none, then the
; vector, then jumps to isr_common, which saves the general registers as a struct trap_frame (idt.h) and
; calls idt_dispatch(frame). The handler may rewrite the frame (RIP, RSP, RAX): the registers are reloaded
; from it, and IRETQ resumes wherever it says. idt_dispatch returns where the 5-word IRET frame is: normally
; &frame->rip; a handler may copy it elsewhere (the nmi check IRETs from a page hapvisor has not mapped yet).

global isr_stub_table
global tk_isr_iret
global fault_probe
global fault_probe_recover
global fault_probe_rsp
extern idt_dispatch

; Vectors for which the CPU pushes an error code (SDM Vol. 3A 6.13, table 6-1).
%define HAS_ERROR_CODE(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || \
	(v) == 29 || (v) == 30)

section .text
bits 64

TK_IDT_VECTORS equ 80 ; idt.h

%assign vec 0
%rep TK_IDT_VECTORS
isr_stub_ %+ vec:
%if !HAS_ERROR_CODE(vec)
	push 0
%endif
	push vec
	jmp isr_common
%assign vec vec + 1
%endrep

; On entry: [rsp] = vector, then error code, RIP, CS, RFLAGS, RSP, SS (SDM Vol. 3A 6.14.2). The CPU
; aligned RSP to 16 before pushing its 5 words; 2 + 15 more pushes keep the call below aligned.
isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	cld
	call idt_dispatch
	mov [rsp + 16 * 8], rax ; the error-code slot now holds where the IRET frame is
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 8 ; vector
	pop rsp    ; the IRET frame (normally right here)
tk_isr_iret:
	iretq

; int fault_probe(void (*fn)(void *ctx), void *ctx)
; Calls fn(ctx). Returns -1 when fn returns normally, or the vector of the first exception fn raises:
; idt_dispatch sees fault_probe_rsp != 0, and resumes at fault_probe_recover with RSP = fault_probe_rsp
; and RAX = vector, abandoning fn's frame. Not reentrant (fn must not call fault_probe).
fault_probe:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	sub rsp, 8 ; keep the call to fn 16-byte aligned
	mov [fault_probe_rsp], rsp
	mov rax, rdi
	mov rdi, rsi
	call rax
	mov qword [fault_probe_rsp], 0
	mov eax, -1
fault_probe_recover:
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret

section .rodata
align 8
isr_stub_table:
%assign vec 0
%rep TK_IDT_VECTORS
	dq isr_stub_ %+ vec
%assign vec vec + 1
%endrep

section .bss
align 8
fault_probe_rsp: resq 1 ; the RSP to resume at while a probe runs; 0 when none does
