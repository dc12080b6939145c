; The one VM-entry/VM-exit trampoline (SDM Vol. 3C 27 "VM Entries", 28.5 "Loading Host State").
;
;   int vmx_enter(struct guest_regs *regs, int launched)
;
; Loads the guest's general-purpose registers from regs (struct guest_regs, vmx/vcpu.h: 8 bytes per
; register in SDM register-number order), then VMLAUNCH (launched == 0) or VMRESUME, and runs the vCPU
; until it stops. On each VM exit the CPU starts at vmx_exit_entry with the stack pointer written to
; HOST_RSP below, whose top holds regs: the guest registers are stored there and
;
;   bool vmx_handle_exit(struct guest_regs *regs)      (vmx/run.c)
;
; handles the exit; true resumes the guest at once (VMRESUME from here, without going back through
; vmx_enter's caller: the round trip of an exit is this file plus the handler), false makes vmx_enter
; return 0 to its caller as if it had been an ordinary call. If VMLAUNCH/VMRESUME itself fails,
; vmx_enter returns 1 (VMfailInvalid) or 2 (VMfailValid: see VM_INSTRUCTION_ERROR).
;
; Stack: vmx_enter pushes six callee-saved registers and regs after its return address, so HOST_RSP is
; 16-byte aligned and vmx_exit_entry can call C directly (System V ABI).
;
; NMIs (vmx/events.h): one taken in VMX root operation while the exit is handled only counts up this CPU's
; percpu.nmi_root (arch/x86/nmi.c). After the handler, from vmx_resume_restart to the VMRESUME, the count
; is compared with percpu.nmi_root_seen; a new one is handed to vmx_nmi_before_resume() (vmx/run.c), which
; injects it or opens the NMI window, and the check runs again. An NMI that comes after the compare moves
; the handler's return address back to vmx_resume_restart (nmi_set_restart), so none waits for the next
; exit. The guest's registers are loaded from regs afresh each time, so the restart repeats nothing.

VMCS_HOST_RSP equ 0x6C14
PERCPU_NMI_ROOT equ 8                ; arch/x86/percpu.h
PERCPU_NMI_ROOT_SEEN equ 12

%define REG(n) (n * 8)
R_RAX equ 0
R_RCX equ 1
R_RDX equ 2
R_RBX equ 3
R_RBP equ 5
R_RSI equ 6
R_RDI equ 7

; LOAD_GUEST_REGS: all general-purpose registers from struct guest_regs at rdi (rdi last); keeps the flags.
%macro LOAD_GUEST_REGS 0
	mov rax, [rdi + REG(R_RAX)]
	mov rcx, [rdi + REG(R_RCX)]
	mov rdx, [rdi + REG(R_RDX)]
	mov rbx, [rdi + REG(R_RBX)]
	mov rbp, [rdi + REG(R_RBP)]
	mov rsi, [rdi + REG(R_RSI)]
	mov r8,  [rdi + REG(8)]
	mov r9,  [rdi + REG(9)]
	mov r10, [rdi + REG(10)]
	mov r11, [rdi + REG(11)]
	mov r12, [rdi + REG(12)]
	mov r13, [rdi + REG(13)]
	mov r14, [rdi + REG(14)]
	mov r15, [rdi + REG(15)]
	mov rdi, [rdi + REG(R_RDI)]
%endmacro

global vmx_enter, vmx_exit_entry, vmx_resume_restart, vmx_resume_insn
extern vmx_handle_exit, vmx_nmi_before_resume
section .text
vmx_enter:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi                         ; [rsp] = regs, found again by vmx_exit_entry
	mov eax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe .vmwrite_failed
	test esi, esi                    ; MOVs below keep the flags
	LOAD_GUEST_REGS
	jnz .resume
	vmlaunch
	jmp .failed
.resume:
	vmresume
.failed:                                 ; CF=1: VMfailInvalid, ZF=1: VMfailValid
	mov eax, 1
	jc .out
.vmwrite_failed:
	mov eax, 2
.out:
	pop rdi
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

vmx_exit_entry:
	push rax
	mov rax, [rsp + 8]               ; regs
	mov [rax + REG(R_RCX)], rcx
	mov [rax + REG(R_RDX)], rdx
	mov [rax + REG(R_RBX)], rbx
	mov [rax + REG(R_RBP)], rbp
	mov [rax + REG(R_RSI)], rsi
	mov [rax + REG(R_RDI)], rdi
	mov [rax + REG(8)], r8
	mov [rax + REG(9)], r9
	mov [rax + REG(10)], r10
	mov [rax + REG(11)], r11
	mov [rax + REG(12)], r12
	mov [rax + REG(13)], r13
	mov [rax + REG(14)], r14
	mov [rax + REG(15)], r15
	pop rcx                          ; the guest's rax
	mov [rax + REG(R_RAX)], rcx
	mov rdi, rax
	call vmx_handle_exit
	test al, al
	jz vmx_exit_stopped
vmx_resume_restart:
	mov eax, [gs:PERCPU_NMI_ROOT]
	cmp eax, [gs:PERCPU_NMI_ROOT_SEEN]
	jne vmx_exit_nmi
	mov rdi, [rsp]                   ; regs
	LOAD_GUEST_REGS
vmx_resume_insn:
	vmresume
	jmp vmx_enter.failed             ; flags from VMRESUME: CF or ZF
vmx_exit_nmi:
	mov rdi, [rsp]
	call vmx_nmi_before_resume
	jmp vmx_resume_restart
vmx_exit_stopped:
	xor eax, eax
	jmp vmx_enter.out
