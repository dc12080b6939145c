/*
 * Control-register exits (SDM Vol. 3C 26.1.3, exit qualification Table 28-3), and the guest's paging
 * registers as one state (KVM's kvm_set_cr0 / cr3 / cr4 / efer).
 * hapvisor owns the CR0 and CR4 bits VMX fixes to 1 (CR0.NE, CR4.VMXE): the guest reads its own values
 * through the read shadows and exits only when it writes a different value to one of those bits. The
 * guest may then clear CR0.NE in its own view; setting CR4.VMXE raises #GP, as on a CPU without VMX.
 * Under shadow paging hapvisor also owns every paging bit, CR3 and IA32_EFER (vmcs_setup.h): each write
 * exits and the shadow MMU follows it (vmx/shadow_exit.c).
 * Everything the CPU would have done on the write (long-mode activation, PAE PDPTE loads) is done here.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/desc.h"
#include "arch/x86/pgtable_types.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/gwalk.h"
#include "vmx/shadow_exit.h"
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

/*
 * The PAE PDPTEs at cr3, as MOV to CR0, CR3 or CR4 loads them (SDM Vol. 3A 4.4.1): false (the caller raises
 * #GP and changes nothing) when the table is not guest RAM (never hapvisor's memory) or a present entry
 * has a reserved bit set (bits 2:1, 8:5, 63:MAXPHYADDR).
 */
static bool read_pdptes(uint64_t cr3, uint64_t pdptes[PAE_PDPTES])
{
	uint64_t pa = cr3 & PAE_CR3_MASK;
	if (!guest_mem_is_ram(pa, PAE_PDPTES * sizeof(uint64_t))) {
		log_warn("guest PAE page-directory-pointer table at %#llx is not in guest RAM: #GP",
			 (unsigned long long)pa);
		return false;
	}
	uint64_t reserved = PAE_PDPTE_RSVD_LOW | ~(BIT(cpu_maxphyaddr()) - 1);
	memcpy(pdptes, phys_to_virt(pa), PAE_PDPTES * sizeof(uint64_t));
	for (unsigned i = 0; i < PAE_PDPTES; i++) {
		if ((pdptes[i] & PTE_P) && (pdptes[i] & reserved)) {
			log_warn("guest PAE PDPTE %u at %#llx (%#llx) has reserved bits set: #GP", i,
				 (unsigned long long)pa, (unsigned long long)pdptes[i]);
			return false;
		}
	}
	return true;
}

static void read_paging(const struct vcpu *v, struct vcpu_paging_regs *r)
{
	r->cr0 = vcpu_guest_cr0();
	r->cr4 = vcpu_guest_cr4();
	r->cr3 = v->shadow ? v->paging.cr3 : vmcs_readnat(GUEST_CR3);
	r->efer = vcpu_guest_efer(v);
}

/* The bits whose change makes a MOV to CR0 or CR4 reload the PDPTEs under PAE paging (SDM Vol. 3A 4.4.1). */
#define PDPTE_RELOAD_CR0 (CR0_CD | CR0_NW | CR0_PG)
#define PDPTE_RELOAD_CR4 (CR4_PAE | CR4_PGE | CR4_PSE | CR4_SMEP)

/*
 * Make the guest's paging registers *new (they were *old) take effect, as the CPU would on the instruction
 * that changed them (KVM's kvm_set_cr0 / cr3 / cr4 / efer): IA32_EFER.LMA follows LME and CR0.PG (SDM Vol.
 * 3A 10.8.5) and with it the IA-32e mode entry control; PAE PDPTEs are loaded where the CPU loads them;
 * then the VMCS (EPT: the guest's own values) or the shadow MMU (vmx/shadow_exit.c) takes the change.
 * Returns false, having changed nothing, when the CPU would raise #GP (bad PDPTEs).
 */
static bool commit_paging(struct vcpu *v, const struct vcpu_paging_regs *old, struct vcpu_paging_regs *new)
{
	bool lma = (new->efer &EFER_LME) && (new->cr0 &CR0_PG);
	new->efer = lma ? new->efer | EFER_LMA : new->efer & ~EFER_LMA;
	bool pae = (new->cr0 &CR0_PG) && (new->cr4 &CR4_PAE) && !lma;
	bool reload = pae && (new->cr3 != old->cr3 || ((new->cr0 ^ old->cr0) & PDPTE_RELOAD_CR0) ||
			      ((new->cr4 ^ old->cr4) & PDPTE_RELOAD_CR4));
	uint64_t pdptes[PAE_PDPTES] = {0};
	if (reload && !read_pdptes(new->cr3, pdptes))
		return false;
	vmcs_writenat(CR0_READ_SHADOW, new->cr0);
	vmcs_writenat(GUEST_CR0, vmcs_cr0_real(new->cr0));
	vmcs_writenat(CR4_READ_SHADOW, new->cr4);
	vmcs_writenat(GUEST_CR4, vmcs_cr4_real(new->cr4));
	uint32_t entry = vmcs_read32(VM_ENTRY_CONTROLS);
	vmcs_write32(VM_ENTRY_CONTROLS,
		     lma ? entry | ENTRY_IA32E_MODE_GUEST : entry & ~(uint32_t)ENTRY_IA32E_MODE_GUEST);
	if (v->shadow) {
		shadow_paging_changed(v, old, new, reload ? pdptes : NULL);
		return true;
	}
	vmcs_write64(GUEST_IA32_EFER, new->efer);
	vmcs_writenat(GUEST_CR3, new->cr3);
	static const enum vmcs_field fields[PAE_PDPTES] = {GUEST_PDPTE0, GUEST_PDPTE1, GUEST_PDPTE2,
							   GUEST_PDPTE3};
	for (unsigned i = 0; reload && i < PAE_PDPTES; i++)
		vmcs_write_raw(fields[i], pdptes[i]);
	return true;
}

/* Commit, then go past the instruction; or raise #GP. */
static void finish_write(struct vcpu *v, const struct vcpu_paging_regs *old, struct vcpu_paging_regs *new)
{
	if (commit_paging(v, old, new))
		vcpu_skip_instruction(v);
	else
		vcpu_inject_exception(v, EXC_GP, true, 0);
}

static void raise_gp(struct vcpu *v, const char *insn, uint64_t value, const char *why)
{
	log_warn("guest %s of %#llx raises #GP, as on bare metal: %s", insn, (unsigned long long)value, why);
	vcpu_inject_exception(v, EXC_GP, true, 0);
}

/* MOV to CR0 as the CPU performs it (SDM Vol. 2B MOV CR; Vol. 3A 10.8.5 for IA-32e activation). */
static void guest_write_cr0(struct vcpu *v, uint64_t value)
{
	struct vcpu_paging_regs old, new;
	read_paging(v, &old);
	const char *bad =
		(value >> 32)				  ? "reserved bits 63:32 set"
		: ((value & CR0_PG) && !(value & CR0_PE)) ? "PG without PE"
		: ((value & CR0_NW) && !(value & CR0_CD)) ? "NW without CD"
		: ((value & CR0_PG) && !(old.cr0 & CR0_PG) && (old.efer & EFER_LME) && !(old.cr4 & CR4_PAE))
			? "paging with EFER.LME but without CR4.PAE"
		: (!(value & CR0_PG) && vcpu_long_mode()) ? "paging off in 64-bit mode"
							  : NULL;
	if (bad) {
		raise_gp(v, "MOV to CR0", value, bad);
		return;
	}
	if (v->shadow && !(value & CR0_PE)) {
		shadow_real_mode(v, value);
		return;
	}
	new = old;
	new.cr0 = value;
	finish_write(v, &old, &new);
}

/* MOV to CR4 (SDM Vol. 2B MOV CR, "Protected Mode Exceptions"). */
static void guest_write_cr4(struct vcpu *v, uint64_t value)
{
	struct vcpu_paging_regs old, new;
	read_paging(v, &old);
	bool lma = old.efer & EFER_LMA;
	/* VMXE is reserved on a CPU without VMX; so is every bit this CPU cannot set in VMX operation. Shadow
	 * paging hides PCID and protection keys (CPUID), so their bits are reserved too. */
	const char *bad = (value & CR4_VMXE)		   ? "CR4.VMXE, on a CPU without VMX"
			  : (value & ~vmx_caps.cr4_fixed1) ? "a bit this CPU does not support"
			  : (v->shadow && (value & (CR4_PCIDE | CR4_PKE)))
				  ? "CR4.PCIDE or CR4.PKE, which paging=shadow does not offer"
			  : (lma && !(value & CR4_PAE))		    ? "PAE off in IA-32e mode"
			  : (lma && ((value ^ old.cr4) & CR4_LA57)) ? "a change of LA57 in IA-32e mode"
								    : NULL;
	if (bad) {
		raise_gp(v, "MOV to CR4", value, bad);
		return;
	}
	new = old;
	new.cr4 = value;
	finish_write(v, &old, &new);
}

static void guest_write_cr3(struct vcpu *v, uint64_t value)
{
	struct vcpu_paging_regs old, new;
	read_paging(v, &old);
	new = old;
	if (!v->shadow) {
		new.cr3 = value & ~CR3_NO_FLUSH;
		finish_write(v, &old, &new);
		return;
	}
	/* Without PCIDs bit 63 is reserved like the bits above MAXPHYADDR (SDM Vol. 3A 4.5, 4.10.4.1). */
	if ((old.efer & EFER_LMA) && (value >> cpu_maxphyaddr())) {
		raise_gp(v, "MOV to CR3", value, "reserved bits set");
		return;
	}
	new.cr3 = value;
	finish_write(v, &old, &new);
}

bool vcpu_set_efer(struct vcpu *v, uint64_t value)
{
	struct vcpu_paging_regs old, new;
	read_paging(v, &old);
	uint64_t writable = EFER_SCE | EFER_LME | EFER_LMA | (cpu_has_nx() ? EFER_NXE : 0);
	if ((value & ~writable) || (((value ^ old.efer) & EFER_LME) && (old.cr0 & CR0_PG)))
		return false; /* SDM Vol. 3A 10.8.5: LME cannot change while paging is on */
	new = old;
	new.efer = (value & ~EFER_LMA) | (old.efer & EFER_LMA); /* LMA is the CPU's to set */
	return commit_paging(v, &old, &new);
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
		set_gpr(v, CRQ_GPR(q), v->shadow ? v->paging.cr3 : vmcs_readnat(GUEST_CR3));
		vcpu_skip_instruction(v);
		return;
	case CR_ACCESS_CLTS:
		guest_write_cr0(v, vcpu_guest_cr0() & ~CR0_TS);
		return;
	default: /* LMSW: sets PE, MP, EM, TS from the operand, never clears PE */
		guest_write_cr0(v,
				(vcpu_guest_cr0() & ~(LMSW_BITS & ~CR0_PE)) | (CRQ_LMSW_DATA(q) & LMSW_BITS));
		return;
	}
}
