/*
 * testkernel: VMCALL wrappers for hapvisor's hypercall ABI (guest/hypercall_abi.h). Every VMCALL runs
 * under the fault probe: natively (no hypervisor) VMCALL raises #UD (SDM Vol. 3C, "VMX Instruction
 * Reference", VMCALL outside VMX operation), which the wrappers report instead of dying.
 */
#ifndef TK_HYPERCALL_H
#define TK_HYPERCALL_H

#include "cpu.h"
#include "guest/hypercall_abi.h"

/* Every general register but RSP, in the order vmcall.asm loads and stores them. */
struct hc_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
};
_Static_assert(sizeof(struct hc_regs) == 15 * 8, "struct hc_regs must match vmcall.asm");

struct hc_result {
	int64_t value; /* RAX after the VMCALL (valid when vector == PROBE_NO_FAULT) */
	int vector;    /* PROBE_NO_FAULT, or the exception the VMCALL raised */
};

/* VMCALLs that completed so far (each one is a VMCALL exit to hapvisor). */
extern uint64_t hc_completed;

/* hc_vmcall_regs: load all of *r, VMCALL, store all registers back into *r. Returns the probe result. */
int hc_vmcall_regs(struct hc_regs *r);

/* hc_call: function fn with arguments RBX, RCX, RDX, RSI (hypercall_abi.h). */
struct hc_result hc_call(uint64_t fn, uint64_t rbx, uint64_t rcx, uint64_t rdx, uint64_t rsi);

/* "HC_EFAULT" etc. for a negative result, or NULL. */
const char *hc_error_name(int64_t value);

#endif
