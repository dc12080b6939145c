/*
 * The VM-entry checker on the current VMCS: the snapshot by VMREAD, the capabilities from vmx_caps and
 * CPUID, and the report (see entry_check.h; docs/architecture.md, "VM-entry checks").
 */
#include "vmx/entry_check_vmcs.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/power.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/entry_check.h"
#include "vmx/vmx_ops.h"
#include "vmx/vmcs_break.h"
#include "vmx/vmxon.h"

static void caps_from_cpu(struct entry_check_caps *c)
{
	const struct vmx_caps *v = &vmx_caps;
	*c = (struct entry_check_caps){
		.pinbased = v->pinbased,
		.procbased = v->procbased,
		.procbased2 = v->procbased2,
		.exit = v->exit,
		.entry = v->entry,
		.cr0_fixed0 = v->cr0_fixed0,
		.cr0_fixed1 = v->cr0_fixed1,
		.cr4_fixed0 = v->cr4_fixed0,
		.cr4_fixed1 = v->cr4_fixed1,
		.misc = v->misc,
		.ept_vpid = v->ept_vpid,
		.maxphyaddr = cpu_maxphyaddr(),
		.linear_width = cpu_linear_width(),
		.host_ia32e = true, /* hapvisor runs in 64-bit mode */
		.in_smm = false,
	};
}

/*
 * Every field by VMREAD; one the CPU does not support (VM-instruction error 12) reads as 0. Without EPT,
 * the PAE PDPTEs come from guest-physical == host-physical memory at CR3 (SDM Vol. 3C 26.3.1.6).
 */
static void snapshot_read(struct vmcs_snapshot *s)
{
	for (unsigned i = 0; i < EC_FIELD_COUNT; i++)
		vmcs_read_safe(entry_check_field_encoding((enum entry_check_field)i), &s->value[i]);
	s->pdpte_memory_valid = false;
	uint32_t cpu = (uint32_t)EC(s, CPU_BASED_VM_EXEC_CONTROL);
	uint32_t cpu2 =
		(cpu & CPU_ACTIVATE_SECONDARY_CONTROLS) ? (uint32_t)EC(s, SECONDARY_VM_EXEC_CONTROL) : 0;
	bool pae_paging = (EC(s, GUEST_CR0) & CR0_PG) && (EC(s, GUEST_CR4) & CR4_PAE) &&
			  !(EC(s, VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST);
	uint64_t pdpt_pa = EC(s, GUEST_CR3) & PAE_CR3_MASK;
	if (pae_paging && !(cpu2 & CPU2_ENABLE_EPT) && pdpt_pa >= PAGE_SIZE) { /* page 0 is not mapped */
		const volatile uint64_t *pdpt = phys_to_virt(pdpt_pa);
		for (unsigned i = 0; i < PAE_PDPTES; i++)
			s->pdpte_memory[i] = pdpt[i];
		s->pdpte_memory_valid = true;
	}
}

bool entry_check_vmcs(const char *when)
{
	static struct vmcs_snapshot snap; /* ~1 KiB each: off the stack */
	static struct entry_check_result result;
	struct entry_check_caps caps;
	uint64_t t0 = rdtsc();
	caps_from_cpu(&caps);
	snapshot_read(&snap);
	bool ok = entry_check_run(&snap, &caps, &result);
	uint64_t cycles = rdtsc() - t0;
	entry_check_report(&result, when, cycles);
	return ok;
}

void entry_check_before_launch(enum entry_check_mode mode, enum vmcs_break vmcs_break,
			       enum on_exit_action on_exit)
{
	vmcs_break_apply(vmcs_break);
	if (mode == ENTRY_CHECK_OFF || entry_check_vmcs("launch"))
		return;
	if (mode == ENTRY_CHECK_WARN) {
		log_warn("entry_check=warn: launching the guest anyway; the CPU will refuse the VM entry");
		return;
	}
	log_error(
		"hapvisor's VMCS breaks the VM-entry rules above, so the guest is not launched (boot with entry_check=warn to let the CPU try)");
	vmx_off();
	hv_finish(on_exit, 1, "VM-entry check failed");
}

void entry_check_after_failure(void)
{
	if (!entry_check_vmcs("entry_failure"))
		return;
	log_warn(
		"the VM-entry checker finds no broken rule: the CPU refused something it does not check (MSR-load entries, the VMCS link pointer's VMCS, the virtual-APIC page, ...)");
}
