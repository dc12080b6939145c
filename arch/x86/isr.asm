; Exception entry stubs (SDM Vol. 3A 6.12.1, 6.14.2): every vector gets a uniform frame
; (struct exception_frame in arch/x86/desc.h) and goes to exception_dispatch(), which never returns.

extern exception_dispatch
global isr_stub_table

; Vectors for which the CPU pushes an error code (SDM Vol. 3A Table 6-1).
%define HAS_ERROR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

section .text
%assign v 0
%rep 32
isr_%+v:
%if HAS_ERROR(v) == 0
	push 0                           ; dummy error code keeps the frame uniform
%endif
	push v
	jmp isr_common
%assign v v + 1
%endrep

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
	cld
	mov rdi, rsp
	and rsp, -16                     ; ABI stack alignment for the C handler
	call exception_dispatch
.halt:                                   ; exception_dispatch does not return
	cli
	hlt
	jmp .halt

section .rodata
align 8
isr_stub_table:
%assign v 0
%rep 32
	dq isr_%+v
%assign v v + 1
%endrep
