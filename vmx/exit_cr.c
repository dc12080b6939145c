/*
 * Control-register exits (SDM Vol. 3C 26.1.3, exit qualification Table 28-3).
 * hapvisor owns the CR0 and CR4 bits VMX fixes to 1 (CR0.NE, CR4.VMXE): the guest reads its own values
 * through the read shadows and exits only when it writes a different value to one of those bits. The
 * guest may then clear CR0.NE in its own view; setting CR4.VMXE raises #GP, as on a CPU without VMX.
 * Everything the CPU would have done on the write (long-mode activation, PAE PDPTE loads) is done here.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/pgtable_types.h"
#include "lib/log.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/vmx_ops.h"
#include "vmx/vmcs_setup.h"

#define CRQ_NUMBER(q) ((q)&0xF)
#define CRQ_ACCESS_TYPE(q) (((q) >> 4) & 3)
#define CRQ_GPR(q) ((enum gpr)(((q) >> 8) & 0xF))
#define CRQ_LMSW_DATA(q) (((q) >> 16) & 0xFFFF)
#define CR_ACCESS_MOV_TO 0
#define CR_ACCESS_MOV_FROM 1
#define CR_ACCESS_CLTS 2
#define CR_ACCESS_LMSW 3
#define LMSW_BITS (CR0_PE | CR0_MP | CR0_EM | CR0_TS)
#define CR3_NO_FLUSH BIT(63)

static uint64_t get_gpr(const struct vcpu *v, enum gpr r)
{
	return r == GPR_RSP ? vmcs_readnat(GUEST_RSP) : v->regs.gpr[r];
}

static void set_gpr(struct vcpu *v, enum gpr r, uint64_t value)
{
	if (!vcpu_long_mode())
		value &= 0xFFFFFFFFu;
	if (r == GPR_RSP)
		vmcs_writenat(GUEST_RSP, value);
	else
		v->regs.gpr[r] = value;
}

static uint64_t guest_cr0(void)
{
	uint64_t mask = vmcs_cr0_host_owned();
	return (vmcs_readnat(GUEST_CR0) & ~mask) | (vmcs_readnat(CR0_READ_SHADOW) & mask);
}

static uint64_t guest_cr4(void)
{
	uint64_t mask = vmcs_cr4_host_owned();
	return (vmcs_readnat(GUEST_CR4) & ~mask) | (vmcs_readnat(CR4_READ_SHADOW) & mask);
}

/*
 * With EPT, PAE paging takes its PDPTEs from the VMCS on VM entry (SDM Vol. 3C 27.3.2.4), so an emulated
 * write that enters or stays in PAE paging loads them as the CPU would. The table is read only where the
 * guest has RAM (never hapvisor's memory); returns false when it is elsewhere (the caller raises #GP).
 */
static bool load_pdptes_if_pae(void)
{
	uint64_t cr0 = guest_cr0(), cr4 = guest_cr4(), efer = vmcs_read64(GUEST_IA32_EFER);
	if (!(cr0 & CR0_PG) || !(cr4 & CR4_PAE) || (efer & EFER_LMA))
		return true;
	uint64_t pa = vmcs_readnat(GUEST_CR3) & PAE_CR3_MASK;
	if (!guest_mem_is_ram(pa, PAE_PDPTES * sizeof(uint64_t))) {
		log_warn("guest PAE page-directory-pointer table at %#llx is not in guest RAM: #GP",
			 (unsigned long long)pa);
		return false;
	}
	const uint64_t *pdpt = phys_to_virt(pa);
	static const enum vmcs_field fields[PAE_PDPTES] = {GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2,
							   GUEST_PDPTE3};
	for (unsigned i = 0; i < PAE_PDPTES; i++)
		vmcs_write_raw(fields[i], pdpt[i]);
	return true;
}

/* Finish an emulated control-register write: PDPTEs, then past the instruction (or #GP). */
static void finish_cr_write(struct vcpu *v)
{
	if (load_pdptes_if_pae())
		vcpu_skip_instruction(v);
	else
		vcpu_inject_exception(v, EXC_GP, true, 0);
}

/* MOV to CR0 as the CPU performs it (SDM Vol. 2B MOV CR; Vol. 3A 10.8.5 for IA-32e activation). */
static void guest_write_cr0(struct vcpu *v, uint64_t value)
{
	uint64_t old = guest_cr0();
	uint64_t efer = vmcs_read64(GUEST_IA32_EFER);

	const char *bad =
		(value >> 32)				  ? "reserved bits 63:32 set"
		: ((value & CR0_PG) && !(value & CR0_PE)) ? "PG without PE"
		: ((value & CR0_NW) && !(value & CR0_CD)) ? "NW without CD"
		: ((value & CR0_PG) && !(old & CR0_PG) && (efer & EFER_LME) && !(guest_cr4() & CR4_PAE))
			? "paging with EFER.LME but without CR4.PAE"
		: (!(value & CR0_PG) && vcpu_long_mode()) ? "paging off in 64-bit mode"
							  : NULL;
	if (bad) {
		log_warn("guest MOV to CR0 of %#llx (was %#llx) raises #GP, as on bare metal: %s",
			 (unsigned long long)value, (unsigned long long)old, bad);
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	vmcs_writenat(CR0_READ_SHADOW, value);
	vmcs_writenat(GUEST_CR0, value | vmcs_cr0_host_owned());
	if ((efer & EFER_LME) && ((value ^ old) & CR0_PG)) {
		bool lma = (value & CR0_PG) != 0;
		vmcs_write64(GUEST_IA32_EFER, lma ? efer | EFER_LMA : efer & ~EFER_LMA);
		uint32_t entry = vmcs_read32(VM_ENTRY_CONTROLS);
		vmcs_write32(VM_ENTRY_CONTROLS, lma ? entry | ENTRY_IA32E_MODE_GUEST
						    : entry & ~(uint32_t)ENTRY_IA32E_MODE_GUEST);
	}
	finish_cr_write(v);
}

static void guest_write_cr4(struct vcpu *v, uint64_t value)
{
	/* VMXE is reserved on a CPU without VMX; so is every bit this CPU cannot set in VMX operation. */
	if ((value & CR4_VMXE) || (value & ~vmx_caps.cr4_fixed1)) {
		log_warn("guest MOV to CR4 of %#llx raises #GP, as on a CPU without VMX: %s",
			 (unsigned long long)value,
			 (value & CR4_VMXE) ? "CR4.VMXE" : "a bit this CPU does not support");
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	vmcs_writenat(CR4_READ_SHADOW, value);
	vmcs_writenat(GUEST_CR4, value | vmcs_cr4_host_owned());
	finish_cr_write(v);
}

static void guest_write_cr3(struct vcpu *v, uint64_t value)
{
	vmcs_writenat(GUEST_CR3, value & ~CR3_NO_FLUSH);
	finish_cr_write(v);
}

void exit_cr_access(struct vcpu *v)
{
	uint64_t q = v->exit_qualification;
	unsigned cr = CRQ_NUMBER(q);

	switch (CRQ_ACCESS_TYPE(q)) {
	case CR_ACCESS_MOV_TO: {
		uint64_t value = get_gpr(v, CRQ_GPR(q));
		if (!vcpu_long_mode())
			value &= 0xFFFFFFFFu;
		if (cr == 0)
			guest_write_cr0(v, value);
		else if (cr == 3)
			guest_write_cr3(v, value);
		else if (cr == 4)
			guest_write_cr4(v, value);
		else
			exit_unknown(v);
		return;
	}
	case CR_ACCESS_MOV_FROM:
		if (cr != 3) {
			exit_unknown(v);
			return;
		}
		set_gpr(v, CRQ_GPR(q), vmcs_readnat(GUEST_CR3));
		vcpu_skip_instruction(v);
		return;
	case CR_ACCESS_CLTS:
		guest_write_cr0(v, guest_cr0() & ~CR0_TS);
		return;
	default: /* LMSW: sets PE, MP, EM, TS from the operand, never clears PE */
		guest_write_cr0(v, (guest_cr0() & ~(LMSW_BITS & ~CR0_PE)) | (CRQ_LMSW_DATA(q) & LMSW_BITS));
		return;
	}
}
