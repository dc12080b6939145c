/* Filling a fresh VMCS: controls from the capability MSRs, host state, and the guest's entry state. */
#ifndef HV_VMX_VMCS_SETUP_H
#define HV_VMX_VMCS_SETUP_H

#include "lib/types.h"
#include "vmx/vcpu.h"

struct vmcs_config {
	bool shadow;	     /* paging=shadow: no EPT; CR3 loads, INVLPG and #PF exit (vmx/shadow_exit.c) */
	uint64_t eptp;	     /* EPT only */
	uint64_t guest_cr3;  /* shadow only: the CR3 the CPU uses for the guest at entry (the shadow root) */
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

/*
 * The CR0/CR4 bits hapvisor owns (guest/host masks, SDM Vol. 3C 25.6.6): the guest reads its own values
 * through the read shadows and exits when it writes a different one. Under EPT: the bits VMX fixes to 1
 * but PE and PG (CR0.NE, CR4.VMXE). Under shadow paging also every bit that decides how the guest's
 * tables translate (CR0.PE, PG, WP; CR4.PAE, PSE, PGE, SMEP, SMAP, LA57) and the features hidden there
 * (CR4.PCIDE, PKE). vmcs_setup() decides which.
 */
uint64_t vmcs_cr0_host_owned(void);
uint64_t vmcs_cr4_host_owned(void);

/*
 * The CR0/CR4 the CPU runs the guest with, for the guest's own value: under EPT its value with the bits
 * VMX fixes to 1; under shadow paging also paging on (PG, PE), CR0.WP on (write protection of the
 * guest's tables must hold for supervisor writes too) and CR4.PAE on, CR4.PCIDE and PKE off.
 */
uint64_t vmcs_cr0_real(uint64_t guest);
uint64_t vmcs_cr4_real(uint64_t guest);

/*
 * The IA32_EFER the CPU runs the guest with, for the guest's own: itself under EPT. Under shadow paging
 * NXE is on whatever the guest set (the shadow entries use XD; the guest's NXE decides only how its own
 * tables read), and LME equals LMA (the CPU's paging is always on, SDM Vol. 3C 26.3.1.1).
 */
uint64_t vmcs_efer_real(uint64_t guest);

/* Whether this CPU's VMCS has the guest/host IA32_EFER and IA32_PAT fields (the load/save controls exist). */
bool vmcs_has_efer_fields(void);
bool vmcs_has_pat_fields(void);

#endif
