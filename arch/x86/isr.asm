; Exception entry stubs (SDM Vol. 3A 6.12.1, 6.14.2): every vector gets a uniform frame
; (struct exception_frame in arch/x86/desc.h) and goes to exception_dispatch(). That returns only when
; the fault hit an instruction with a registered fix-up (arch/x86/msr_safe.asm), having moved RIP there.

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
	mov rbp, rsp                     ; rbp is restored from the frame below
	and rsp, -16                     ; ABI stack alignment for the C handler
	call exception_dispatch
	mov rsp, rbp
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
	add rsp, 16                      ; vector and error code
	iretq

section .rodata
align 8
isr_stub_table:
%assign v 0
%rep 32
	dq isr_%+v
%assign v v + 1
%endrep
