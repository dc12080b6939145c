; MSR access that survives a #GP (for MSRs a guest names that this CPU may not have).
; exception_dispatch() recognises a #GP at the RDMSR/WRMSR below and resumes at the fix-up label.
;   int msr_read_safe(uint32_t msr, uint64_t *value)   -> 0, or 1 if RDMSR raised #GP
;   int msr_write_safe(uint32_t msr, uint64_t value)   -> 0, or 1 if WRMSR raised #GP

global msr_read_safe, msr_write_safe, msr_safe_fixups
section .text
msr_read_safe:
	mov ecx, edi
.insn:
	rdmsr
	shl rdx, 32
	or rax, rdx
	mov [rsi], rax
	xor eax, eax
	ret
.fixup:
	mov eax, 1
	ret

msr_write_safe:
	mov ecx, edi
	mov rax, rsi
	mov rdx, rsi
	shr rdx, 32
.insn:
	wrmsr
	xor eax, eax
	ret
.fixup:
	mov eax, 1
	ret

section .rodata
align 8
; Pairs of (faulting instruction, where to resume), ended by a zero pair.
msr_safe_fixups:
	dq msr_read_safe.insn, msr_read_safe.fixup
	dq msr_write_safe.insn, msr_write_safe.fixup
	dq 0, 0
