/* What this CPU's VT-x offers, read once from CPUID and the VMX capability MSRs. */
#ifndef HV_VMX_CAPS_H
#define HV_VMX_CAPS_H

#include "lib/types.h"

enum vmx_unavailable {
	VMX_OK,
	VMX_NO_CPUID_BIT,   /* the CPU (or the hypervisor below us) has no VMX */
	VMX_LOCKED_OFF,	    /* IA32_FEATURE_CONTROL locked with VMX disabled by the firmware */
	VMX_NO_TRUE_FEATURE /* reserved for later refusals (no EPT, no unrestricted guest) */
};

struct vmx_caps {
	enum vmx_unavailable status;
	uint64_t basic, misc, ept_vpid;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	/* allowed-0 settings (bits that must be 1) in the low half, allowed-1 in the high half */
	uint64_t pinbased, procbased, procbased2, exit, entry;
	uint32_t revision;
	uint32_t region_size;
	bool true_ctls;
	bool secondary, ept, vpid, unrestricted_guest, pml;
	bool ept_wb, ept_walk4, ept_2m, ept_1g, ept_ad, ept_exec_only;
	bool invept, invept_single, invept_all;
	bool invvpid, invvpid_addr, invvpid_single, invvpid_all;
	bool feature_control_locked_by_us;
};

extern struct vmx_caps vmx_caps;

/*
 * vmx_probe: fill vmx_caps from CPUID and the capability MSRs (reading the MSRs only when CPUID says
 * VMX exists, so it is safe on any x86-64 CPU). If IA32_FEATURE_CONTROL is unlocked, enable VMX outside
 * SMX and lock it, as firmware should have (SDM Vol. 3C 24.7). Prints the clear message for the user
 * and the structured line "event=vmx_probe". Returns true when VMX can be used.
 */
bool vmx_probe(void);

/*
 * vmx_enable_this_cpu: on an application processor, check CPUID.VMX and IA32_FEATURE_CONTROL (each CPU has
 * its own), enabling and locking it as vmx_probe() does when the firmware left it unlocked. vmx_caps stays
 * the BSP's: processors of one machine report the same capabilities. True when VMXON may be tried.
 */
bool vmx_enable_this_cpu(void);

#endif
