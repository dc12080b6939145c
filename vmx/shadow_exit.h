/*
 * Shadow paging on VT-x (option paging=shadow): the exits and VMCS state around the shadow MMU of
 * vmx/shadow.h. Every guest #PF exits (exception bitmap) and goes through shadow_page_fault: filled,
 * reflected to the guest with its CR2 and error code, emulated (a write to a protected guest table), or
 * an isolation breach; MOV to/from CR3 and INVLPG exit; the paging bits of CR0/CR4 and IA32_EFER are
 * hapvisor's (vmx/exit_cr.c) and each change switches or resets the shadow. With VPID the guest's cached
 * translations are flushed with INVVPID where the shadow lost a mapping and for the guest's own flushes
 * (MOV to CR3, INVLPG); without VPID every VM entry and exit flushes them.
 *
 * One vCPU: without unrestricted guest an AP cannot start in real mode, so the other processors stay
 * halted in VMX root. Guests enter in protected mode (Multiboot, PVH, the bzImage 32-bit entry) and never
 * go back to real mode (that stops the run with a sentence).
 */
#ifndef HV_VMX_SHADOW_EXIT_H
#define HV_VMX_SHADOW_EXIT_H

#include "arch/x86/cpu.h" /* struct cpuid_regs */
#include "arch/x86/mtrr.h"
#include "lib/types.h"
#include "mm/memmap.h"
#include "vmx/exit.h"

/*
 * shadow_exit_setup: reserve the shadow MMU from the pool (the guest's RAM in map sets the reverse map's
 * size; mtrr the memory types) and log event=shadow_stats when=launch. False (logged) if the pool is
 * too small.
 */
bool shadow_exit_setup(const struct memmap *map, const struct mtrr_state *mtrr);

/* shadow_vcpu_start: v enters with paging off: its paging view reset, the identity root loaded. Returns the
 * CR3 the VMCS must hold at launch. */
uint64_t shadow_vcpu_start(struct vcpu *v);

/*
 * shadow_paging_changed (from vmx/exit_cr.c): the guest's paging registers went from old to new (pdptes:
 * the PAE PDPTEs loaded with them, or NULL). Records them, sets the IA32_EFER the CPU runs with, and
 * switches the shadow root (a new CR3 or PDPTEs), dropping every shadow page first when a bit that decides
 * translations or rights changed (CR0.PG, WP; CR4.PAE, PSE, SMEP, SMAP, LA57; EFER.NXE, LMA). A CR4.PGE
 * change and every root switch flush the guest's TLB (SDM Vol. 3A 4.10.4.1).
 */
void shadow_paging_changed(struct vcpu *v, const struct vcpu_paging_regs *old,
			   const struct vcpu_paging_regs *new, const uint64_t *pdptes);

/* The guest cleared CR0.PE: real mode, which VMX without unrestricted guest cannot run. Stops the run. */
void shadow_real_mode(struct vcpu *v, uint64_t cr0);

/*
 * shadow_exception (from exit_exception_nmi, vmx/events.c): an exception exit, info its VM-exit interruption
 * information (SDM Vol. 3C 28.2.2). Under shadow paging the exception bitmap holds #PF only: filled,
 * reflected, emulated or a breach (see above). Anything else is unexpected (exit_unknown).
 */
void shadow_exception(struct vcpu *v, uint32_t info);

/* shadow_before_entry: flush the guest's cached translations if the shadow lost any; GUEST_CR3 current. */
void shadow_before_entry(struct vcpu *v);

/*
 * CPUID under shadow paging: r (what the guest would see under EPT) without what the shadow MMU does not
 * offer (PCID, INVPCID, protection keys, shadow stacks; LA57 where VMX cannot run it), and hapvisor's
 * leaf 0x40000001 saying shadow paging and without the EPT functions.
 */
struct cpuid_regs shadow_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs r);

#endif
