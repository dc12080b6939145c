/* VMXON / VMXOFF with their preconditions checked (SDM Vol. 3C 24.7-24.8, Vol. 3D 31.5). */
#include "vmx/vmxon.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/caps.h"
#include "vmx/msr.h"
#include "vmx/vmx_ops.h"

uint64_t vmx_region_phys(void)
{
	return this_cpu()->vmxon_pa;
}

/*
 * A control register value conforms to VMX when every bit set in FIXED0 is 1 and every bit clear in
 * FIXED1 is 0 (SDM Vol. 3D A.7, A.8). Returns the bits that violate it (0 when it conforms).
 */
static uint64_t fixed_violations(uint64_t value, uint64_t fixed0, uint64_t fixed1)
{
	return (fixed0 & ~value) | (value & ~fixed1);
}

static bool fail(const char *why_event, const char *fmt, unsigned long long value)
{
	log_error(fmt, value);
	log_event("vmxon result=fail reason=%s", why_event);
	return false;
}

bool vmx_on(void)
{
	const struct vmx_caps *c = &vmx_caps;

	if (c->region_size == 0 || c->region_size > PAGE_SIZE)
		return fail(
			"region_size",
			"VMXON: IA32_VMX_BASIC reports a %llu-byte VMXON region, not 1..4096 bytes; this CPU is not supported",
			c->region_size);
	if (VMX_BASIC_MEMTYPE(c->basic) != VMX_MEMTYPE_WB)
		return fail(
			"memtype",
			"VMXON: VMX structures must be write-back but the CPU requires memory type %llu; this CPU is not supported",
			VMX_BASIC_MEMTYPE(c->basic));

	/* CR0.NE is the one fixed-1 bit an OS may leave clear; set it, then check everything. */
	write_cr0(read_cr0() | CR0_NE);
	uint64_t bad = fixed_violations(read_cr0(), c->cr0_fixed0, c->cr0_fixed1);
	if (bad)
		return fail("cr0_fixed", "VMXON: CR0 bits %#llx violate IA32_VMX_CR0_FIXED0/1", bad);
	write_cr4(read_cr4() | CR4_VMXE);
	bad = fixed_violations(read_cr4(), c->cr4_fixed0, c->cr4_fixed1);
	if (bad) {
		write_cr4(read_cr4() & ~CR4_VMXE);
		return fail("cr4_fixed", "VMXON: CR4 bits %#llx violate IA32_VMX_CR4_FIXED0/1", bad);
	}

	struct percpu *cpu = this_cpu();
	if (!cpu->vmxon_pa) {
		cpu->vmxon_pa = pmm_alloc_frame();
		if (!cpu->vmxon_pa)
			return fail(
				"no_memory",
				"VMXON: no frame for the VMXON region (%llu frames free in hapvisor's pool; boot with a larger hvmem=)",
				0);
	}
	/* SDM Vol. 3C 24.11.5: the region starts with the VMCS revision identifier, bit 31 clear. */
	*(volatile uint32_t *)phys_to_virt(cpu->vmxon_pa) = c->revision;

	enum vmx_insn_result r = vmxon_insn(cpu->vmxon_pa);
	if (r != VMX_INSN_OK) {
		write_cr4(read_cr4() & ~CR4_VMXE);
		log_error("VMXON failed (%s); is another hypervisor already in VMX operation on this CPU?",
			  r == VMX_INSN_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
		log_event("vmxon result=fail reason=%s",
			  r == VMX_INSN_FAIL_INVALID ? "vmfail_invalid" : "vmfail_valid");
		return false;
	}
	log_event("vmxon result=ok cpu=%u region=%#llx revision=%#x", cpu->index,
		  (unsigned long long)cpu->vmxon_pa, c->revision);
	return true;
}

bool vmx_cpu_up(struct percpu *cpu)
{
	return vmx_enable_this_cpu() && vmx_on();
}

bool vmx_off(void)
{
	enum vmx_insn_result r = vmxoff_insn();
	write_cr4(read_cr4() & ~CR4_VMXE);
	log_event("vmxoff result=%s cpu=%u", r != VMX_INSN_OK ? "fail" : "ok", this_cpu()->index);
	return r == VMX_INSN_OK;
}
