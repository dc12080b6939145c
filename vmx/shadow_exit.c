/*
 * Shadow paging's exits (see shadow_exit.h): the guest's #PF (KVM's kvm_mmu_page_fault and
 * handle_exception_nmi), INVLPG, the paging-register changes vmx/exit_cr.c commits, the instruction
 * emulation of writes to protected guest tables (KVM's x86_emulate_instruction for that one case), the
 * CR2 and events of a reflected page fault, and the TLB flushes (VPID).
 */
#include "vmx/shadow_exit.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/desc.h"
#include "guest/hypercall_abi.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/controls.h"
#include "vmx/emulate.h"
#include "vmx/events.h"
#include "vmx/gwalk.h"
#include "vmx/shadow.h"
#include "vmx/vmcs_setup.h"
#include "vmx/vmx_ops.h"

#define SHADOW_PAGES_MAX 4096u	      /* 16 MiB of tables: more than a Linux boot to /init uses */
#define SHADOW_PAGES_MIN 64u	      /* below this the pool is too small to be worth starting */
#define SHADOW_POOL_RESERVE 256u      /* frames left to everything else (pte-list nodes come from here too) */
#define SHADOW_RMAP_BYTES_PER_FRAME 5 /* the reverse map and protection count per guest frame */

/* #PF error code bits as the CPU reports them in the exit (SDM Vol. 3A 4.7). */
#define PFEC_WRITE BIT(1)
#define PFEC_USER BIT(2)
#define PFEC_FETCH BIT(4)

#define INTERRUPTIBILITY_STI_MOVSS (BIT(0) | BIT(1))
#define PENDING_DBG_BS BIT(14) /* a single-step trap is pending (SDM Vol. 3C 25.4.2) */
#define RFLAGS_TF BIT(8)

/* ---- set-up -------------------------------------------------------------------------------------------- */

/* The end of the guest's RAM (the highest byte a guest page table can lie in, plus one). */
static uint64_t guest_ram_top(const struct memmap *map)
{
	uint64_t top = 0;
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->ranges[i];
		if (guest_mem_is_ram(r->base, r->size))
			top = MAX(top, r->base + r->size);
	}
	return top;
}

bool shadow_exit_setup(const struct memmap *map, const struct mtrr_state *mtrr)
{
	struct pmm_stats ps;
	pmm_get_stats(&ps);
	uint64_t ram_top = guest_ram_top(map);
	uint64_t rmap_frames = ((ram_top >> PAGE_SHIFT) * SHADOW_RMAP_BYTES_PER_FRAME) / PAGE_SIZE + 8;
	uint64_t room =
		ps.free > rmap_frames + SHADOW_POOL_RESERVE ? ps.free - rmap_frames - SHADOW_POOL_RESERVE : 0;
	unsigned pages = (unsigned)MIN(room / 2, (uint64_t)SHADOW_PAGES_MAX);
	if (pages < SHADOW_PAGES_MIN) {
		log_error(
			"paging=shadow: hapvisor's memory pool is too small for the shadow page tables of %llu MiB of guest RAM; boot with a larger hvmem= (64M or more)",
			(unsigned long long)(ram_top >> 20));
		return false;
	}
	struct shadow_config cfg = {
		.mtrr = mtrr,
		.ram_top = ram_top,
		.pages = pages,
		.maxphyaddr = cpu_maxphyaddr(),
		.gbpages = cpu_has_gbpages(),
		.la57 = (vmx_caps.cr4_fixed1 & CR4_LA57) != 0,
	};
	if (!shadow_init(&cfg))
		return false;
	shadow_log_stats("launch");
	return true;
}

/* ---- the CPU's IA32_EFER, CR3 and TLB ------------------------------------------------------------------ */

/*
 * The IA32_EFER the CPU runs the guest with (vmcs_efer_real): through the VMCS where the entry control
 * loads it; otherwise (Core 2) in the MSR itself, which VM entry and exit change only in LMA and LME (SDM
 * Vol. 3C 27.3.2.1, 28.5.1): its NXE stays on for hapvisor and the guest alike, SCE is the guest's.
 */
static void set_real_efer(uint64_t guest_efer)
{
	uint64_t real = vmcs_efer_real(guest_efer);
	if (vmcs_read32(VM_ENTRY_CONTROLS) & ENTRY_LOAD_IA32_EFER) {
		vmcs_write64(GUEST_IA32_EFER, real);
		return;
	}
	uint64_t now = rdmsr(MSR_IA32_EFER), keep = EFER_LME | EFER_LMA; /* hapvisor's own, in root */
	if ((now & ~keep) != (real & ~keep))
		wrmsr(MSR_IA32_EFER, (now & keep) | (real & ~keep));
}

void shadow_before_entry(struct vcpu *v)
{
	if (shadow_take_flush())
		vpid_sync_context(v->vpid);
	uint64_t hw = shadow_root_hpa();
	if (hw != v->paging.hw_cr3) {
		vmcs_writenat(GUEST_CR3, hw);
		v->paging.hw_cr3 = hw;
	}
}

/* Switch the shadow to the guest's current address space; the guest's TLB for the old one goes. */
static void load_root(struct vcpu *v)
{
	struct gwalk_cpu cpu;
	vcpu_guest_paging(v, &cpu, NULL);
	shadow_load_root(&cpu, v->paging.pdptes);
	vpid_sync_context(v->vpid); /* MOV to CR3 flushes non-global entries; over-flushing is allowed */
}

uint64_t shadow_vcpu_start(struct vcpu *v)
{
	v->shadow = true;
	v->paging = (struct vcpu_paging){0};
	struct gwalk_cpu cpu = {.cr0 = CR0_PE}; /* the entry state: protected mode, paging off */
	v->paging.hw_cr3 = shadow_load_root(&cpu, v->paging.pdptes);
	return v->paging.hw_cr3; /* IA32_EFER at entry: vmcs_setup writes vmcs_efer_real(0) */
}

/* Bits that decide how the guest's tables translate, or with what rights: a change drops the shadow. */
#define MODE_CR0 (CR0_PG | CR0_WP)
#define MODE_CR4 (CR4_PAE | CR4_PSE | CR4_SMEP | CR4_SMAP | CR4_LA57)
#define MODE_EFER (EFER_NXE | EFER_LMA)

void shadow_paging_changed(struct vcpu *v, const struct vcpu_paging_regs *old,
			   const struct vcpu_paging_regs *new, const uint64_t *pdptes)
{
	v->paging.cr3 = new->cr3;
	v->paging.efer = new->efer;
	if (pdptes)
		memcpy(v->paging.pdptes, pdptes, sizeof(v->paging.pdptes));
	set_real_efer(new->efer);
	bool mode = ((old->cr0 ^ new->cr0) & MODE_CR0) || ((old->cr4 ^ new->cr4) & MODE_CR4) ||
		    ((old->efer ^ new->efer) & MODE_EFER);
	if (mode)
		shadow_reset("the guest's paging mode changed");
	if (mode || pdptes || new->cr3 != old->cr3)
		load_root(v);
	else if ((old->cr4 ^ new->cr4) & CR4_PGE)
		vpid_sync_context(v->vpid); /* global entries go too (SDM Vol. 3A 4.10.4.1) */
}

void shadow_real_mode(struct vcpu *v, uint64_t cr0)
{
	log_error(
		"the guest cleared CR0.PE (MOV to CR0 of %#llx) to run in real mode; paging=shadow cannot run real mode (VMX needs unrestricted guest for it, which needs EPT); use paging=ept on a CPU with EPT",
		(unsigned long long)cr0);
	log_event("shadow_unsupported what=real_mode cr0=%#llx rip=%#llx", (unsigned long long)cr0,
		  (unsigned long long)vmcs_readnat(GUEST_RIP));
	vcpu_dump(v, "real mode under paging=shadow");
	vcpu_stop(v, 1, "the guest entered real mode, which paging=shadow cannot run");
}

struct cpuid_regs shadow_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_regs r)
{
	if (leaf == HV_CPUID_LEAF_FEATURES) { /* no EPT: its functions are absent (docs/hypercalls.md) */
		r.ebx &= ~(uint32_t)HC_EPT_FUNCTIONS;
		r.ecx |= HV_FEATURE_SHADOW_PAGING;
	} else if (leaf == CPUID_LEAF_FEATURES) {
		r.ecx &= ~(uint32_t)CPUID1_ECX_PCID; /* PCIDs would tag the shadow's TLB entries: hidden */
	} else if (leaf == CPUID_LEAF_STRUCTURED_EXT && subleaf == 0) {
		r.ebx &= ~(uint32_t)CPUID7_EBX_INVPCID;
		/* Protection keys and shadow stacks are not in the guest walker (vmx/gwalk.h): hidden. */
		r.ecx &= ~(uint32_t)(CPUID7_ECX_PKU | CPUID7_ECX_CET_SS);
		if (!(vmx_caps.cr4_fixed1 & CR4_LA57))
			r.ecx &= ~(uint32_t)CPUID7_ECX_LA57;
	}
	return r;
}

/* ---- INVLPG -------------------------------------------------------------------------------------------- */

/* INVLPG (SDM Vol. 2A): the shadow holds no stale entry (vmx/shadow.h); the CPU's cached ones go. */
void exit_invlpg(struct vcpu *v)
{
	if (!v->shadow) {
		exit_unknown(v);
		return;
	}
	shadow_invlpg(v->exit_qualification);
	vpid_sync_vcpu_addr(v->vpid, v->exit_qualification);
	vcpu_skip_instruction(v);
}

/* ---- events around a page-fault exit ------------------------------------------------------------------- */

static bool contributory(unsigned vector)
{
	return vector == EXC_DE || (vector >= EXC_TS && vector <= EXC_GP); /* SDM Vol. 3A Table 6-4 */
}

/*
 * Deliver the #PF the guest's own tables raise, with CR2 = gla (the CPU does not write CR2 for a #PF that
 * exits, SDM Vol. 3C 28.1). If it happened while the CPU delivered another event (IDT-vectoring
 * information), combine the two as the CPU does (SDM Vol. 3A Table 6-5): after a #PF or a contributory
 * exception, #DF; after #DF, a triple fault; after a software interrupt or a benign exception, the #PF
 * (the instruction runs again after the handler). An external interrupt or NMI cannot be held back here
 * (no event queue yet): the run stops with a sentence rather than lose it.
 */
static void reflect_page_fault(struct vcpu *v, uint64_t gla, uint32_t error, uint32_t vectoring)
{
	if (vectoring & INTR_INFO_VALID) {
		uint32_t type = vectoring & INTR_TYPE_MASK, vector = vectoring & INTR_INFO_VECTOR_MASK;
		if (type == INTR_TYPE_HARD_EXCEPTION && vector == EXC_DF) {
			exit_triple_fault(v);
			return;
		}
		if (type == INTR_TYPE_HARD_EXCEPTION && (vector == EXC_PF || contributory(vector))) {
			vcpu_inject_exception(v, EXC_DF, true, 0);
			return;
		}
		if (type == INTR_TYPE_EXTERNAL || type == INTR_TYPE_NMI) {
			log_error(
				"the guest's own page tables raised #PF at %#llx while its CPU delivered %s %u; paging=shadow cannot deliver both yet",
				(unsigned long long)gla, type == INTR_TYPE_NMI ? "an NMI" : "interrupt",
				vector);
			vcpu_dump(v, "page fault during event delivery");
			vcpu_stop(v, 1, "a guest page fault during an external interrupt's delivery");
			return;
		}
	}
	write_cr2(gla);
	vcpu_inject_exception(v, EXC_PF, true, error);
}

/* ---- emulating a write to a protected guest table ------------------------------------------------------ */

static enum x86_mode code_mode(void)
{
	uint32_t cs = vmcs_read32(GUEST_CS_AR_BYTES);
	if (vcpu_long_mode())
		return X86_MODE_64;
	return (cs & AR_DB) ? X86_MODE_32 : X86_MODE_16;
}

static void read_regs(const struct vcpu *v, struct x86_regs *r)
{
	static const enum vmcs_field bases[X86_SEG_COUNT] = {GUEST_ES_BASE, GUEST_CS_BASE, GUEST_SS_BASE,
							     GUEST_DS_BASE, GUEST_FS_BASE, GUEST_GS_BASE};
	memcpy(r->gpr, v->regs.gpr, sizeof(r->gpr));
	r->gpr[GPR_RSP] = vmcs_readnat(GUEST_RSP);
	r->rip = vmcs_readnat(GUEST_RIP);
	r->rflags = vmcs_readnat(GUEST_RFLAGS);
	for (unsigned i = 0; i < X86_SEG_COUNT; i++)
		r->seg_base[i] = vmcs_read_raw(bases[i]);
	r->mode = code_mode();
}

/* Guest RAM through a guest walk, for the guest's own access: false when any byte is not reachable. */
static bool read_guest_ram(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (!guest_mem_is_ram(gpa, len))
		return false;
	memcpy(dst, phys_to_virt(gpa), len);
	return true;
}

/* Up to n bytes of the guest's code at linear address la (a fetch at its CPL), page by page. */
static size_t fetch_code(const struct vcpu *v, uint64_t la, uint8_t *buf, size_t n)
{
	struct gwalk_cpu cpu;
	uint64_t pdptes[VCPU_PAE_PDPTES];
	bool pae = vcpu_guest_paging(v, &cpu, pdptes);
	struct gwalk_env env = {cpu_maxphyaddr(), cpu_has_gbpages(), pae ? pdptes : NULL, read_guest_ram,
				NULL};
	size_t got = 0;
	while (got < n) {
		struct gwalk_walk w;
		if (gwalk_translate(&cpu, &env, la + got, GWALK_ACC_FETCH, &w) != GWALK_OK)
			break;
		size_t chunk = MIN(n - got, PAGE_SIZE - (size_t)(w.gpa & (PAGE_SIZE - 1)));
		if (!read_guest_ram(NULL, w.gpa, buf + got, chunk))
			break;
		got += chunk;
	}
	return got;
}

/*
 * Emulate the instruction at the guest's RIP whose write to a protected guest table at gla (guest-physical
 * gpa) faulted: decode it, check that its memory operand is that write, within one page; perform it
 * through shadow_write_guest (which drops the shadow entries it makes stale) and update the registers, RIP
 * and RFLAGS (a pending single step if TF was set). False, changing nothing, for anything else.
 */
static bool emulate_write(struct vcpu *v, uint64_t gla, uint64_t gpa)
{
	struct x86_regs r;
	read_regs(v, &r);
	uint64_t code_la = r.mode == X86_MODE_64 ? r.rip : (r.seg_base[X86_SEG_CS] + r.rip) & 0xFFFFFFFFull;
	uint8_t code[X86_INSN_MAX_LEN];
	size_t n = fetch_code(v, code_la, code, sizeof(code));
	struct x86_insn insn;
	if (x86_decode_insn(code, n, &r, &insn) != X86_DECODE_OK)
		return false;
	uint64_t end = insn.gla + insn.size;
	if (gla < insn.gla || gla >= end || (insn.gla >> PAGE_SHIFT) != ((end - 1) >> PAGE_SHIFT))
		return false;
	uint64_t at = gpa - (gla - insn.gla);
	if (!guest_mem_is_ram(at, insn.size))
		return false;
	uint8_t old[X86_OPERAND_MAX], new[X86_OPERAND_MAX];
	memcpy(old, phys_to_virt(at), insn.size);
	bool single_step = r.rflags & RFLAGS_TF;
	x86_emulate_insn(&insn, &r, old, new);
	if (memcmp(old, new, insn.size))
		shadow_write_guest(at, new, insn.size);
	memcpy(v->regs.gpr, r.gpr, sizeof(v->regs.gpr));
	vmcs_writenat(GUEST_RSP, r.gpr[GPR_RSP]);
	vmcs_writenat(GUEST_RIP, r.rip);
	vmcs_writenat(GUEST_RFLAGS, r.rflags);
	uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	if (intr & INTERRUPTIBILITY_STI_MOVSS) /* the instruction completed (SDM Vol. 3C 25.4.2) */
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(uint32_t)INTERRUPTIBILITY_STI_MOVSS);
	if (single_step)
		vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS,
			      vmcs_readnat(GUEST_PENDING_DBG_EXCEPTIONS) | PENDING_DBG_BS);
	return true;
}

/* ---- the page-fault exit ------------------------------------------------------------------------------- */

/* The access kind of a #PF the CPU raised, from its error code (SDM Vol. 3A 4.7) and the CPL. */
static unsigned fault_access(uint32_t error, unsigned cpl)
{
	unsigned access = (error & PFEC_WRITE) ? GWALK_ACC_WRITE : (error & PFEC_FETCH) ? GWALK_ACC_FETCH : 0;
	if (error & PFEC_USER)
		access |= GWALK_ACC_USER;
	else if (cpl == 3 && !(access & GWALK_ACC_FETCH))
		access |= GWALK_ACC_IMPLICIT; /* a supervisor access at CPL 3: GDT, IDT, TSS (SDM Vol. 3A 4.6)
					       */
	return access;
}

static unsigned hc_access(unsigned access)
{
	return (access & GWALK_ACC_WRITE)   ? HC_ACCESS_WRITE
	       : (access & GWALK_ACC_FETCH) ? HC_ACCESS_FETCH
					    : HC_ACCESS_READ;
}

static void page_fault(struct vcpu *v, uint32_t intr_info)
{
	uint64_t gla = v->exit_qualification;
	uint32_t error = vmcs_read32(VM_EXIT_INTR_ERROR_CODE), vectoring = vmcs_read32(IDT_VECTORING_INFO);
	unsigned access = fault_access(error, vcpu_cpl());
	struct gwalk_cpu cpu;
	vcpu_guest_paging(v, &cpu, NULL);
	struct shadow_fault f;
	switch (shadow_page_fault(&cpu, gla, access, &f)) {
	case SHADOW_FIXED:
		break;
	case SHADOW_SPURIOUS: /* this CPU cached the entry before it gained the right */
		vpid_sync_vcpu_addr(v->vpid, gla);
		break;
	case SHADOW_TRACKED_WRITE:
		/* A write by an instruction, not by the CPU delivering an event, can be emulated. */
		if (!(vectoring & INTR_INFO_VALID)) {
			bool emulated = emulate_write(v, gla, f.gpa);
			shadow_count_emulation(emulated);
			if (emulated)
				return;
		}
		shadow_unprotect(f.gpa >> PAGE_SHIFT); /* the instruction runs again, unhindered */
		break;
	case SHADOW_GUEST_FAULT:
		reflect_page_fault(v, gla, f.walk.pf_error, vectoring);
		return;
	case SHADOW_BREACH:
		vcpu_report_breach(v, "shadow", f.gpa, hc_access(access), gla, true, !f.in_table);
		vcpu_stop(v, 1, "isolation breach: the guest touched hapvisor's memory");
		return;
	case SHADOW_BAD_TABLE:
		log_error(
			"the guest's page table at %#llx (walking %#llx) is not RAM but a device or a hole; paging=shadow reads page tables only from RAM: use paging=ept",
			(unsigned long long)f.gpa, (unsigned long long)gla);
		vcpu_dump(v, "guest page table outside RAM");
		vcpu_stop(v, 1, "a guest page table outside RAM under paging=shadow");
		return;
	case SHADOW_NO_MEMORY:
		vcpu_stop(v, 1, "hapvisor's pool is exhausted (shadow paging); boot with a larger hvmem=");
		return;
	case SHADOW_NONCANONICAL:
		log_error("#PF exit at non-canonical %#llx (a hapvisor bug)", (unsigned long long)gla);
		vcpu_dump(v, "page fault at a non-canonical address");
		vcpu_stop(v, 1, "page fault at a non-canonical address");
		return;
	}
	/* The guest resumes where it faulted. An event it was delivering goes again after this handler
	 * (vcpu_complete_interrupts); an IRET that had unblocked NMIs blocks them again, since it runs again.
	 */
	vcpu_nmi_iret_unblocking(v, intr_info);
}

void shadow_exception(struct vcpu *v, uint32_t info)
{
	bool pf = (info & INTR_TYPE_MASK) == INTR_TYPE_HARD_EXCEPTION &&
		  (info & INTR_INFO_VECTOR_MASK) == EXC_PF;
	if (v->shadow && pf)
		page_fault(v, info);
	else
		exit_unknown(v);
}
