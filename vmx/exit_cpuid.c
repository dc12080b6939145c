/* CPUID exits (always exit in VMX non-root, SDM Vol. 3C 26.1.2): the real CPU, minus VMX, plus us. */
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "guest/hypercall_abi.h"
#include "vmx/exit.h"
#include "vmx/shadow_exit.h"
#include "vmx/vmx_ops.h"

#define HC_FUNCTION_BITMAP ((1u << HC_FUNCTION_COUNT) - 1)

/* What the guest sees for one CPUID leaf: the hardware's answer, edited. */
static struct cpuid_regs guest_cpuid(uint32_t leaf, uint32_t subleaf)
{
	if (leaf >= CPUID_LEAF_HV_FIRST && leaf <= CPUID_LEAF_HV_LAST) {
		switch (leaf) {
		case HV_CPUID_LEAF_SIGNATURE:
			return (struct cpuid_regs){HV_CPUID_LEAF_FEATURES, HV_CPUID_SIGNATURE_EBX,
						   HV_CPUID_SIGNATURE_ECX, HV_CPUID_SIGNATURE_EDX};
		case HV_CPUID_LEAF_FEATURES:
			return (struct cpuid_regs){HC_ABI_VERSION, HC_FUNCTION_BITMAP, 0, 0};
		default:
			return (struct cpuid_regs){0, 0, 0, 0};
		}
	}
	struct cpuid_regs r = cpuid(leaf, subleaf);
	if (leaf == CPUID_LEAF_FEATURES) {
		uint64_t guest_cr4 = vmcs_readnat(GUEST_CR4);
		r.ecx &= ~(uint32_t)CPUID1_ECX_VMX;	  /* VT-x is hapvisor's */
		r.ecx |= (uint32_t)CPUID1_ECX_HYPERVISOR; /* and the guest may know it runs on one */
		/* OSXSAVE mirrors CR4.OSXSAVE of the CPU that runs CPUID: the guest's, not hapvisor's. */
		r.ecx = (guest_cr4 & CR4_OSXSAVE) ? r.ecx | CPUID1_ECX_OSXSAVE
						  : r.ecx & ~(uint32_t)CPUID1_ECX_OSXSAVE;
	} else if (leaf == CPUID_LEAF_STRUCTURED_EXT && subleaf == 0) {
		uint64_t guest_cr4 = vmcs_readnat(GUEST_CR4);
		r.ecx = (guest_cr4 & CR4_PKE) ? r.ecx | CPUID7_ECX_OSPKE
					      : r.ecx & ~(uint32_t)CPUID7_ECX_OSPKE;
	}
	return r;
}

void exit_cpuid(struct vcpu *v)
{
	uint32_t leaf = (uint32_t)v->regs.gpr[GPR_RAX], subleaf = (uint32_t)v->regs.gpr[GPR_RCX];
	struct cpuid_regs r = guest_cpuid(leaf, subleaf);
	if (v->shadow) /* what shadow paging does not offer, and says so in hapvisor's own leaf */
		r = shadow_cpuid(leaf, subleaf, r);
	v->regs.gpr[GPR_RAX] = r.eax;
	v->regs.gpr[GPR_RBX] = r.ebx;
	v->regs.gpr[GPR_RCX] = r.ecx;
	v->regs.gpr[GPR_RDX] = r.edx;
	vcpu_skip_instruction(v);
}
