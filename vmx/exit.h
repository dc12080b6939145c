/* VM-exit dispatch and the helpers exit handlers share (SDM Vol. 3C 28, 27.6 event injection). */
#ifndef HV_VMX_EXIT_H
#define HV_VMX_EXIT_H

#include "lib/types.h"
#include "vmx/controls.h"
#include "vmx/vcpu.h"

typedef void exit_handler_fn(struct vcpu *v);

/* Handle the exit recorded in v (exit_reason, exit_qualification) through the dispatch table. */
void exit_dispatch(struct vcpu *v);

/* Whether exits of this basic reason carry an exit qualification (SDM Vol. 3C 28.2.1). */
static inline bool exit_has_qualification(uint32_t basic)
{
	switch (basic) {
	case EXIT_REASON_CPUID:
	case EXIT_REASON_VMCALL:
	case EXIT_REASON_RDMSR:
	case EXIT_REASON_WRMSR:
	case EXIT_REASON_XSETBV:
	case EXIT_REASON_INVD:
		return false;
	default:
		return true;
	}
}

/* Name of a basic exit reason ("CPUID"), or "unknown". */
const char *exit_reason_name(uint32_t basic);

/* Advance the guest past the exiting instruction (and clear STI/MOV-SS blocking, SDM Vol. 3C 25.4.2). */
void vcpu_skip_instruction(struct vcpu *v);
/* Deliver a hardware exception to the guest on the next entry, as the CPU would have. */
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
/* End the guest: the run loop stops after this exit; status 0 = success. */
void vcpu_stop(struct vcpu *v, int status, const char *reason);
/* Print the guest's full state (registers, control registers, segments, exit information). */
void vcpu_dump(const struct vcpu *v, const char *why);
/* The guest's CPL (SS.DPL, SDM Vol. 3C 25.4.1) and whether it runs in 64-bit mode. */
unsigned vcpu_cpl(void);
bool vcpu_long_mode(void);
/* A register argument as the guest sees it: the low 32 bits outside 64-bit mode. */
uint64_t vcpu_arg(const struct vcpu *v, enum gpr r);

/* Handlers, one file per family. */
exit_handler_fn exit_cpuid, exit_rdmsr, exit_wrmsr, exit_cr_access, exit_io, exit_xsetbv, exit_invd,
	exit_vmx_instruction, exit_triple_fault, exit_vmcall, exit_ept_violation, exit_ept_misconfig,
	exit_init_signal, exit_sipi, exit_unknown;

#endif
