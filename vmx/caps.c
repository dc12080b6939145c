/* VMX feature discovery (SDM Vol. 3C 24.6 "Discovering support for VMX", Vol. 3D Appendix A). */
#include "vmx/caps.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "lib/log.h"
#include "vmx/msr.h"

struct vmx_caps vmx_caps;

static bool allowed1(uint64_t ctl_msr_value, uint64_t bit)
{
	return ((ctl_msr_value >> 32) & bit) != 0;
}

static void read_controls(struct vmx_caps *c)
{
	c->basic = rdmsr(MSR_IA32_VMX_BASIC);
	c->revision = (uint32_t)(c->basic & VMX_BASIC_REVISION_MASK);
	c->region_size = (uint32_t)VMX_BASIC_REGION_SIZE(c->basic);
	c->true_ctls = (c->basic & VMX_BASIC_TRUE_CTLS) != 0;
	/* With IA32_VMX_BASIC[55] the TRUE_* MSRs give the real allowed-0 settings (SDM Vol. 3D A.2). */
	c->pinbased = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS : MSR_IA32_VMX_PINBASED_CTLS);
	c->procbased = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS : MSR_IA32_VMX_PROCBASED_CTLS);
	c->exit = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS : MSR_IA32_VMX_EXIT_CTLS);
	c->entry = rdmsr(c->true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS : MSR_IA32_VMX_ENTRY_CTLS);
	c->misc = rdmsr(MSR_IA32_VMX_MISC);
	c->cr0_fixed0 = rdmsr(MSR_IA32_VMX_CR0_FIXED0);
	c->cr0_fixed1 = rdmsr(MSR_IA32_VMX_CR0_FIXED1);
	c->cr4_fixed0 = rdmsr(MSR_IA32_VMX_CR4_FIXED0);
	c->cr4_fixed1 = rdmsr(MSR_IA32_VMX_CR4_FIXED1);

	c->secondary = allowed1(c->procbased, PROC_CTLS_ACTIVATE_SECONDARY);
	if (!c->secondary)
		return;
	c->procbased2 = rdmsr(MSR_IA32_VMX_PROCBASED_CTLS2);
	c->ept = allowed1(c->procbased2, PROC_CTLS2_ENABLE_EPT);
	c->vpid = allowed1(c->procbased2, PROC_CTLS2_ENABLE_VPID);
	c->unrestricted_guest = allowed1(c->procbased2, PROC_CTLS2_UNRESTRICTED_GUEST);
	c->pml = allowed1(c->procbased2, PROC_CTLS2_ENABLE_PML);
	if (!c->ept && !c->vpid)
		return;
	/* IA32_VMX_EPT_VPID_CAP exists only if EPT or VPID can be enabled (SDM Vol. 3D A.10). */
	uint64_t e = c->ept_vpid = rdmsr(MSR_IA32_VMX_EPT_VPID_CAP);
	c->ept_exec_only = (e & EPT_CAP_EXEC_ONLY) != 0;
	c->ept_walk4 = (e & EPT_CAP_WALK_4) != 0;
	c->ept_wb = (e & EPT_CAP_MEMTYPE_WB) != 0;
	c->ept_2m = (e & EPT_CAP_2M_PAGES) != 0;
	c->ept_1g = (e & EPT_CAP_1G_PAGES) != 0;
	c->ept_ad = (e & EPT_CAP_AD_BITS) != 0;
	c->invept = (e & EPT_CAP_INVEPT) != 0;
	c->invept_single = (e & EPT_CAP_INVEPT_SINGLE) != 0;
	c->invept_all = (e & EPT_CAP_INVEPT_ALL) != 0;
	c->invvpid = c->vpid && (e & VPID_CAP_INVVPID);
	c->invvpid_addr = c->vpid && (e & VPID_CAP_INVVPID_ADDR);
	c->invvpid_single = c->vpid && (e & VPID_CAP_INVVPID_SINGLE);
	c->invvpid_all = c->vpid && (e & VPID_CAP_INVVPID_ALL);
}

/* Checks and, if the firmware left it unlocked, sets IA32_FEATURE_CONTROL (SDM Vol. 3C 24.7). */
static bool feature_control_allows_vmx(struct vmx_caps *c)
{
	uint64_t fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	if (!(fc & FEATURE_CONTROL_LOCKED)) {
		wrmsr(MSR_IA32_FEATURE_CONTROL,
		      fc | FEATURE_CONTROL_VMX_OUTSIDE_SMX | FEATURE_CONTROL_LOCKED);
		c->feature_control_locked_by_us = true;
		fc = rdmsr(MSR_IA32_FEATURE_CONTROL);
	}
	return (fc & FEATURE_CONTROL_VMX_OUTSIDE_SMX) != 0;
}

static void report(const struct vmx_caps *c)
{
	log_event(
		"vmx_probe supported=1 revision=%#x true_ctls=%d ept=%d vpid=%d unrestricted_guest=%d ept_wb=%d ept_walk4=%d ept_2m=%d ept_1g=%d ept_ad=%d ept_exec_only=%d invept_single=%d invept_all=%d invvpid_addr=%d invvpid_single=%d invvpid_all=%d pml=%d",
		c->revision, c->true_ctls, c->ept, c->vpid, c->unrestricted_guest, c->ept_wb, c->ept_walk4,
		c->ept_2m, c->ept_1g, c->ept_ad, c->ept_exec_only, c->invept_single, c->invept_all,
		c->invvpid_addr, c->invvpid_single, c->invvpid_all, c->pml);
	log_event(
		"vmx_msrs basic=%#llx pinbased=%#llx procbased=%#llx procbased2=%#llx exit=%#llx entry=%#llx misc=%#llx ept_vpid=%#llx cr0_fixed0=%#llx cr0_fixed1=%#llx cr4_fixed0=%#llx cr4_fixed1=%#llx",
		(unsigned long long)c->basic, (unsigned long long)c->pinbased,
		(unsigned long long)c->procbased, (unsigned long long)c->procbased2,
		(unsigned long long)c->exit, (unsigned long long)c->entry, (unsigned long long)c->misc,
		(unsigned long long)c->ept_vpid, (unsigned long long)c->cr0_fixed0,
		(unsigned long long)c->cr0_fixed1, (unsigned long long)c->cr4_fixed0,
		(unsigned long long)c->cr4_fixed1);
	log_info("VT-x: VMCS revision %#x, EPT %s (2M %s, 1G %s, A/D %s), VPID %s, unrestricted guest %s",
		 c->revision, c->ept ? "yes" : "no", c->ept_2m ? "yes" : "no", c->ept_1g ? "yes" : "no",
		 c->ept_ad ? "yes" : "no", c->vpid ? "yes" : "no", c->unrestricted_guest ? "yes" : "no");
}

bool vmx_probe(void)
{
	struct vmx_caps *c = &vmx_caps;
	struct cpuid_regs id = cpuid(CPUID_LEAF_FEATURES, 0);

	if (!(id.ecx & CPUID1_ECX_VMX)) {
		c->status = VMX_NO_CPUID_BIT;
		log_error(
			"this CPU does not offer Intel VT-x (VMX), which hapvisor needs. On a PC: use an Intel CPU with VT-x. In a VM: enable nested virtualization (for KVM, load kvm_intel with nested=1 and start QEMU with -cpu host,+vmx).");
		log_event("vmx_probe supported=0 reason=no_vmx hypervisor_bit=%d",
			  (id.ecx & CPUID1_ECX_HYPERVISOR) != 0);
		return false;
	}
	if (!feature_control_allows_vmx(c)) {
		c->status = VMX_LOCKED_OFF;
		log_error(
			"VT-x is switched off by the firmware (IA32_FEATURE_CONTROL is locked with VMX disabled). Enable \"Intel Virtualization Technology\" (VT-x) in the BIOS/UEFI setup, then power the machine off and on again.");
		log_event("vmx_probe supported=0 reason=disabled_by_firmware");
		return false;
	}
	read_controls(c);
	c->status = VMX_OK;
	report(c);
	return true;
}

bool vmx_enable_this_cpu(void)
{
	struct vmx_caps scratch = vmx_caps;
	return (cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID1_ECX_VMX) && feature_control_allows_vmx(&scratch);
}
