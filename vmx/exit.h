/* VM-exit dispatch and the helpers exit handlers share (SDM Vol. 3C 28; event injection: vmx/events.h). */
#ifndef HV_VMX_EXIT_H
#define HV_VMX_EXIT_H

#include "lib/types.h"
#include "vmx/controls.h"
#include "vmx/events.h"
#include "vmx/vcpu.h"

/* An exit handler: handle the exit recorded in v (exit_reason, exit_qualification) and return. */
typedef void exit_handler_fn(struct vcpu *v);

/*
 * One row per basic exit reason (SDM Vol. 3D Appendix C), KVM's kvm_vmx_exit_handlers[]: the reason's name
 * ("CPUID", as the events print it), its handler (NULL: hapvisor never expects it, exit_unknown() dumps the
 * guest state and stops the guest), and whether its exits carry no exit qualification (SDM Vol. 3C 28.2.1:
 * the run loop then reads none). Those are all caused by executing an instruction, so they never occur
 * during event delivery either (28.2.4): the run loop reads no IDT-vectoring information for them. Adding an
 * exit is one row in exit_table (vmx/exit.c) and one handler declared below (docs/architecture.md, "Adding an
 * exit").
 */
struct exit_desc {
	exit_handler_fn *handler;
	bool no_qualification;
	const char *name;
} ALIGNED(32); /* a power-of-two row: the run loop indexes it with one shift */

extern const struct exit_desc exit_table[EXIT_REASON_MAX];

/* The row of a basic exit reason; a reason beyond the table gets an empty row (no name, no handler). */
static inline const struct exit_desc *exit_desc(uint32_t basic)
{
	static const struct exit_desc none = {NULL, false, NULL};
	return basic < EXIT_REASON_MAX ? &exit_table[basic] : &none;
}

/* Name of a basic exit reason ("CPUID"), or "unknown". */
const char *exit_reason_name(uint32_t basic);

/* Handle the exit recorded in v by its row's handler, or exit_unknown(). */
void exit_dispatch(struct vcpu *v);

/* Advance the guest past the exiting instruction (and clear STI/MOV-SS blocking, SDM Vol. 3C 25.4.2). */
void vcpu_skip_instruction(struct vcpu *v);
/* End the guest: the run loop stops after this exit; status 0 = success. */
void vcpu_stop(struct vcpu *v, int status, const char *reason);
/* Print the guest's full state (registers, control registers, segments, exit information). */
void vcpu_dump(const struct vcpu *v, const char *why);
/* The guest's CPL (SS.DPL, SDM Vol. 3C 25.4.1) and whether it runs in 64-bit mode. */
unsigned vcpu_cpl(void);
bool vcpu_long_mode(void);
/* A register argument as the guest sees it: the low 32 bits outside 64-bit mode. */
uint64_t vcpu_arg(const struct vcpu *v, enum gpr r);

/* The guest's paging registers as the guest set them (under shadow paging the VMCS holds hapvisor's). */
struct vcpu_paging_regs {
	uint64_t cr0, cr3, cr4, efer;
};
uint64_t vcpu_guest_cr0(void);
uint64_t vcpu_guest_cr4(void);
uint64_t vcpu_guest_efer(const struct vcpu *v);
struct gwalk_cpu;
/*
 * vcpu_guest_paging: the state a walk of the guest's tables needs (vmx/gwalk.h), as the guest set it, and
 * the PAE PDPTEs its CPU holds (from the VMCS under EPT, from the vCPU under shadow paging) into pdptes
 * when not NULL. Returns whether the guest is in PAE paging (the PDPTEs apply).
 */
bool vcpu_guest_paging(const struct vcpu *v, struct gwalk_cpu *cpu, uint64_t pdptes[VCPU_PAE_PDPTES]);
/*
 * vcpu_set_efer (vmx/exit_cr.c): a guest WRMSR to IA32_EFER under shadow paging (where it exits), with the
 * CPU's checks (SDM Vol. 4 IA32_EFER; Vol. 3A 10.8.5). False: the CPU would raise #GP (nothing changed).
 */
bool vcpu_set_efer(struct vcpu *v, uint64_t value);

/*
 * vcpu_report_breach: the isolation-breach report, the same under EPT and shadow paging: the sentence
 * "isolation breach: guest <access> of physical address <gpa> (hapvisor's memory) at guest rip <rip>",
 * event=isolation_breach, the 2D walk of the guest-linear address (when known) and the guest-state dump.
 * access is HC_ACCESS_*; translation is false when gpa held a guest paging-structure entry. The caller
 * stops the vCPU.
 */
void vcpu_report_breach(const struct vcpu *v, const char *paging, uint64_t gpa, unsigned access, uint64_t gla,
			bool gla_valid, bool translation);

/* Every handler of exit_table, one file per family: exit_cpuid.c, exit_msr.c, exit_cr.c, exit_io.c,
 * exit_misc.c, hypercall.c, ept_exit.c, shadow_exit.c, dirty.c, time_limit.c, events.c; exit_unknown in
 * exit.c. */
exit_handler_fn exit_cpuid;
exit_handler_fn exit_rdmsr, exit_wrmsr;
exit_handler_fn exit_cr_access;
exit_handler_fn exit_io;
exit_handler_fn exit_xsetbv, exit_invd, exit_vmx_instruction, exit_triple_fault, exit_init_signal, exit_sipi;
exit_handler_fn exit_vmcall;
exit_handler_fn exit_ept_violation, exit_ept_misconfig;
exit_handler_fn exit_invlpg; /* shadow paging: shadow_exit.c */
exit_handler_fn exit_pml_full;
exit_handler_fn exit_preemption_timer;
exit_handler_fn exit_exception_nmi,
	exit_nmi_window;      /* vmx/events.c (#PF under shadow paging: shadow_exit.c) */
exit_handler_fn exit_unknown; /* any reason without a handler: dump the guest state, stop the guest */

#endif
