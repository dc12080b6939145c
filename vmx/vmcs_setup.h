/* Filling a fresh VMCS: controls from the capability MSRs, host state, and the guest's entry state. */
#ifndef HV_VMX_VMCS_SETUP_H
#define HV_VMX_VMCS_SETUP_H

#include "lib/types.h"
#include "vmx/vcpu.h"

struct vmcs_config {
	uint64_t eptp;
	uint16_t vpid;	     /* 0: no VPID */
	uint64_t msr_bitmap; /* physical addresses of 4 KiB frames */
	uint64_t io_bitmap_a, io_bitmap_b;
	uint32_t entry_eip;    /* 32-bit protected-mode entry point, paging off (Multiboot machine state) */
	uint16_t cs_sel;       /* guest CS selector; 0: 0x08 */
	uint16_t ds_sel;       /* guest DS/ES/FS/GS/SS selector; 0: 0x10 */
	uint32_t gdtr_base;    /* guest GDTR, used when gdtr_limit != 0 */
	uint16_t gdtr_limit;   /* 0: GDTR base 0 limit 0xFFFF */
	bool preemption_timer; /* activate the VMX-preemption timer and save its value on exit (time_limit.c)
				*/
};

/*
 * vmcs_setup: write every field of the current VMCS.
 * - controls: what hapvisor needs, plus the bits the CPU requires (allowed-0 settings of the TRUE_* MSRs
 *   when IA32_VMX_BASIC[55], SDM Vol. 3D A.2-A.5); a needed control the CPU lacks is refused with a
 *   sentence naming it;
 * - host state: this CPU's current CR0/CR3/CR4, segments, GDTR/IDTR/TR, EFER, PAT (SDM Vol. 3C 25.5);
 * - guest state: the Multiboot i386 machine state (flat 32-bit CS/DS, CR0.PE=1, paging off, EFLAGS with
 *   IF=0) at cfg->entry_eip, with the selectors and GDTR of cfg (the Linux 32-bit boot protocol gives
 *   its own); EAX/EBX/ESI are the caller's, in the vcpu's registers.
 * Returns false (logged) if a required control is missing.
 */
bool vmcs_setup(const struct vmcs_config *cfg);

/*
 * vmcs_guest_init_state: set the current VMCS's guest state to a processor's state after INIT (SDM Vol. 3A
 * Table 10-1: real mode, CS 0xF000 with base 0xFFFF0000, RIP 0xFFF0, CR0 CD|NW|ET, everything else at its
 * reset value) in the wait-for-SIPI activity state (SDM Vol. 3C 25.4.2). The general-purpose registers are
 * the caller's (EDX = the CPU signature, the others 0). Needs: vmcs_setup() done on this VMCS and
 * vmcs_wait_for_sipi_supported().
 */
void vmcs_guest_init_state(void);

/* IA32_VMX_MISC bit 8: the wait-for-SIPI activity state may be entered (SDM Vol. 3D A.6). */
bool vmcs_wait_for_sipi_supported(void);

/* The CR0/CR4 bits hapvisor owns (guest/host masks): the guest sees its own value through the shadow. */
uint64_t vmcs_cr0_host_owned(void);
uint64_t vmcs_cr4_host_owned(void);

#endif
