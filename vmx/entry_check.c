/*
 * The VM-entry checks of SDM Vol. 3C 26.2 and 26.3.1 over a VMCS snapshot (see entry_check.h).
 * Each check names one rule of ENTRY_CHECK_RULES; the functions follow the SDM's sections in order.
 */
#include "vmx/entry_check.h"
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "vmx/controls.h"
#include "vmx/msr.h"

/* Bits and values the checks need beyond vmx/controls.h and arch/x86/cpu.h. */
#define CTL_ALLOWED0(cap) ((uint32_t)(cap))		/* bits that must be 1 (SDM Vol. 3D A.3) */
#define CTL_ALLOWED1(cap) ((uint32_t)((cap) >> 32))	/* bits that may be 1 */
#define MISC_CR3_TARGETS(misc) (((misc) >> 16) & 0x1FF) /* IA32_VMX_MISC[24:16] (SDM Vol. 3D A.6) */
#define MISC_ACTIVITY_HLT BIT(6)
#define MISC_ACTIVITY_SHUTDOWN BIT(7)
#define MISC_ACTIVITY_WAIT_SIPI BIT(8)
#define MISC_INJECT_LEN0 BIT(30)
#define PAGE_OFFSET_MASK 0xFFFull
#define MSR_AREA_ALIGN_MASK 0xFull /* 16-byte entries, 16-byte aligned (SDM Vol. 3C 25.7.2) */
#define MSR_AREA_ENTRY_SIZE 16
#define EFER_VALID_BITS (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define PAT_ENTRIES 8
#define PAT_TYPE_VALID_MASK 0xF3u /* types 0, 1, 4, 5, 6, 7 (SDM Vol. 3A 13.12.2) */
#define SEL_RPL_MASK 3u
#define SEL_TI BIT(2)
#define DEBUGCTL_BTF BIT(1)
#define DEBUGCTL_RESERVED (0x3Cull | ~0xFFFFull) /* bits 5:2 and 63:16 */
#define DR7_HIGH_MASK 0xFFFFFFFF00000000ull
#define HIGH32_MASK 0xFFFFFFFF00000000ull
#define RFLAGS_TF BIT(8)
#define RFLAGS_RESERVED0 (~0x3FFFFFull | BIT(15) | BIT(5) | BIT(3))
#define PENDING_DBG_BS BIT(14)
#define PENDING_DBG_RESERVED (0xFF0ull | BIT(13) | BIT(15) | ~0x1FFFFull)
#define INTERRUPTIBILITY_RESERVED (~0x1Full & 0xFFFFFFFFull)
#define INTR_INFO_RESERVED 0x7FFFF000u /* bits 30:12 */
#define INTR_TYPE_RESERVED (1u << 8)
#define ERROR_CODE_RESERVED 0xFFFF0000u
#define INSTRUCTION_LEN_MAX 15
#define TPR_THRESHOLD_RESERVED 0xFFFFFFF0ull
#define VECTOR_NMI 2
#define VECTOR_DB 1
#define VECTOR_MC 18
#define VECTOR_EXCEPTION_MAX 31
/* Hardware exceptions that push an error code: #DF #TS #NP #SS #GP #PF #AC (SDM Vol. 3A 6.3.1). */
#define VECTORS_WITH_ERROR_CODE (BIT(8) | BIT(10) | BIT(11) | BIT(12) | BIT(13) | BIT(14) | BIT(17))
#define LIMIT_LOW_ALL1 0xFFFu
#define LIMIT_HIGH_MASK 0xFFF00000u
#define V86_LIMIT 0xFFFFu
#define V86_AR 0xF3u
#define DTR_LIMIT_RESERVED 0xFFFF0000u
#define VMCS_LINK_NONE (~0ull)
#define EPTP_WALK_4 3u
#define EPTP_WALK_5 4u
#define CODE_ACCESSED (AR_TYPE_CODE | AR_TYPE_ACCESSED)

static const struct {
	const char *name, *section, *text;
} rules[EC_RULE_COUNT] = {
#define EC_RULE_ROW(n, sec, txt) [EC_RULE_##n] = {#n, sec, txt},
	ENTRY_CHECK_RULES(EC_RULE_ROW)
#undef EC_RULE_ROW
};

static const struct {
	const char *name;
	uint32_t encoding;
} fields[EC_FIELD_COUNT] = {
#define EC_FIELD_ROW(f) [EC_##f] = {#f, f},
	ENTRY_CHECK_FIELDS(EC_FIELD_ROW)
#undef EC_FIELD_ROW
};

const char *entry_check_rule_name(enum entry_check_rule rule)
{
	return (unsigned)rule < EC_RULE_COUNT ? rules[rule].name : "?";
}

const char *entry_check_rule_section(enum entry_check_rule rule)
{
	return (unsigned)rule < EC_RULE_COUNT ? rules[rule].section : "?";
}

const char *entry_check_field_name(enum entry_check_field field)
{
	if (field == EC_PDPTE_MEMORY)
		return "PDPTE_IN_MEMORY";
	return (unsigned)field < EC_FIELD_COUNT ? fields[field].name : "?";
}

uint32_t entry_check_field_encoding(enum entry_check_field field)
{
	return (unsigned)field < EC_FIELD_COUNT ? fields[field].encoding : 0;
}

/* The snapshot, the capabilities, the result being filled, and the controls every section needs. */
struct ec {
	const struct vmcs_snapshot *s;
	const struct entry_check_caps *c;
	struct entry_check_result *r;
	uint32_t pin, cpu, cpu2, exit, entry;
	uint64_t cr0, rflags;
	bool ia32e_guest, unrestricted, v86, cs_l, host64;
	uint32_t intr_info; /* 0 unless an event is injected */
};

/* Record rule as applied, and as failed (on `field`, with the offending bits `bad`) unless ok. */
static void rule(struct ec *x, enum entry_check_rule id, bool ok, enum entry_check_field field, uint64_t bad)
{
	struct entry_check_result *r = x->r;
	r->applied[id / 64] |= BIT(id % 64);
	if (ok)
		return;
	if (r->failed < ENTRY_CHECK_MAX_FAILURES) {
		uint64_t value = field < EC_FIELD_COUNT ? x->s->value[field] : bad;
		r->failures[r->failed] = (struct entry_check_failure){id, field, value, bad};
	}
	r->failed++;
}

/* A rule about bits: it holds when `bad` (the offending bits) is 0. */
static void rule_bits(struct ec *x, enum entry_check_rule id, enum entry_check_field field, uint64_t bad)
{
	rule(x, id, bad == 0, field, bad);
}

static bool canonical(uint64_t v, unsigned width)
{
	unsigned shift = 64 - width;
	return (uint64_t)((int64_t)(v << shift) >> shift) == v;
}

static uint64_t above_maxphyaddr(const struct ec *x, uint64_t pa)
{
	return x->c->maxphyaddr >= 64 ? 0 : pa & ~(BIT(x->c->maxphyaddr) - 1);
}

/* A 4-KiB aligned physical address below 2^MAXPHYADDR (bitmaps, APIC pages, PML, VMCS link). */
static bool page_address_ok(const struct ec *x, uint64_t pa)
{
	return (pa & PAGE_OFFSET_MASK) == 0 && above_maxphyaddr(x, pa) == 0;
}

/* Bits of a control value outside its capability MSR's allowed settings. */
static uint64_t control_bad_bits(uint32_t value, uint64_t cap)
{
	return (CTL_ALLOWED0(cap) & ~value) | (value & ~CTL_ALLOWED1(cap));
}

/* An MSR area of `count` 16-byte entries: aligned, and its last byte below 2^MAXPHYADDR (26.2.1.2). */
static void msr_area(struct ec *x, enum entry_check_rule id, enum entry_check_field count_field,
		     enum entry_check_field addr_field)
{
	uint64_t count = x->s->value[count_field], addr = x->s->value[addr_field];
	if (count == 0)
		return;
	uint64_t last = addr + count * MSR_AREA_ENTRY_SIZE - 1;
	rule(x, id, !(addr & MSR_AREA_ALIGN_MASK) && !above_maxphyaddr(x, addr) && !above_maxphyaddr(x, last),
	     addr_field, 0);
}

/* SDM Vol. 3C 26.2.1.1: VM-execution control fields. */
static void check_execution_controls(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	rule_bits(x, EC_RULE_pin_controls, EC_PIN_BASED_VM_EXEC_CONTROL,
		  control_bad_bits(x->pin, x->c->pinbased));
	rule_bits(x, EC_RULE_proc_controls, EC_CPU_BASED_VM_EXEC_CONTROL,
		  control_bad_bits(x->cpu, x->c->procbased));
	if (x->cpu & CPU_ACTIVATE_SECONDARY_CONTROLS)
		rule_bits(x, EC_RULE_proc2_controls, EC_SECONDARY_VM_EXEC_CONTROL,
			  control_bad_bits(x->cpu2, x->c->procbased2));
	rule(x, EC_RULE_cr3_target_count, EC(s, CR3_TARGET_COUNT) <= MISC_CR3_TARGETS(x->c->misc),
	     EC_CR3_TARGET_COUNT, 0);
	if (x->cpu & CPU_USE_IO_BITMAPS) {
		rule(x, EC_RULE_io_bitmap_addr, page_address_ok(x, EC(s, IO_BITMAP_A)), EC_IO_BITMAP_A, 0);
		rule(x, EC_RULE_io_bitmap_addr, page_address_ok(x, EC(s, IO_BITMAP_B)), EC_IO_BITMAP_B, 0);
	}
	if (x->cpu & CPU_USE_MSR_BITMAPS)
		rule(x, EC_RULE_msr_bitmap_addr, page_address_ok(x, EC(s, MSR_BITMAP)), EC_MSR_BITMAP, 0);
	rule(x, EC_RULE_virtual_nmis_need_nmi_exiting,
	     !(x->pin & PIN_VIRTUAL_NMIS) || (x->pin & PIN_NMI_EXITING), EC_PIN_BASED_VM_EXEC_CONTROL, 0);
	rule(x, EC_RULE_nmi_window_needs_virtual_nmis,
	     !(x->cpu & CPU_NMI_WINDOW_EXITING) || (x->pin & PIN_VIRTUAL_NMIS), EC_CPU_BASED_VM_EXEC_CONTROL,
	     0);
	if (x->cpu & CPU_USE_TPR_SHADOW) {
		rule(x, EC_RULE_virtual_apic_addr, page_address_ok(x, EC(s, VIRTUAL_APIC_PAGE_ADDR)),
		     EC_VIRTUAL_APIC_PAGE_ADDR, 0);
		if (!(x->cpu2 & CPU2_VIRTUAL_INTR_DELIVERY))
			rule_bits(x, EC_RULE_tpr_threshold, EC_TPR_THRESHOLD,
				  EC(s, TPR_THRESHOLD) & TPR_THRESHOLD_RESERVED);
	} else {
		rule_bits(x, EC_RULE_apic_virt_needs_tpr_shadow, EC_SECONDARY_VM_EXEC_CONTROL,
			  x->cpu2 & (CPU2_VIRTUALIZE_X2APIC | CPU2_APIC_REGISTER_VIRT |
				     CPU2_VIRTUAL_INTR_DELIVERY));
	}
	rule(x, EC_RULE_x2apic_excludes_apic_access,
	     !(x->cpu2 & CPU2_VIRTUALIZE_X2APIC) || !(x->cpu2 & CPU2_VIRTUALIZE_APIC_ACCESSES),
	     EC_SECONDARY_VM_EXEC_CONTROL, 0);
	rule(x, EC_RULE_vid_needs_external_exiting,
	     !(x->cpu2 & CPU2_VIRTUAL_INTR_DELIVERY) || (x->pin & PIN_EXTERNAL_INTERRUPT_EXITING),
	     EC_PIN_BASED_VM_EXEC_CONTROL, 0);
	rule(x, EC_RULE_posted_interrupts,
	     !(x->pin & PIN_POSTED_INTERRUPTS) ||
		     ((x->cpu2 & CPU2_VIRTUAL_INTR_DELIVERY) && (x->exit & EXIT_ACK_INTERRUPT_ON_EXIT)),
	     EC_PIN_BASED_VM_EXEC_CONTROL, 0);
	if (x->cpu2 & CPU2_VIRTUALIZE_APIC_ACCESSES)
		rule(x, EC_RULE_apic_access_addr, page_address_ok(x, EC(s, APIC_ACCESS_ADDR)),
		     EC_APIC_ACCESS_ADDR, 0);
	if (x->cpu2 & CPU2_ENABLE_VPID)
		rule(x, EC_RULE_vpid_nonzero, EC(s, VIRTUAL_PROCESSOR_ID) != 0, EC_VIRTUAL_PROCESSOR_ID, 0);
}

/* SDM Vol. 3C 26.2.1.1: the EPT pointer, PML and the controls that need EPT. */
static void check_ept_controls(struct ec *x)
{
	uint64_t eptp = EC(x->s, EPT_POINTER), cap = x->c->ept_vpid;
	bool ept = x->cpu2 & CPU2_ENABLE_EPT;
	if (ept) {
		uint64_t type = eptp & EPTP_MEMTYPE_MASK;
		uint64_t walk = (eptp & EPTP_WALK_LENGTH_MASK) >> EPTP_WALK_LENGTH_SHIFT;
		rule(x, EC_RULE_ept_memtype,
		     (type == EPTP_MEMTYPE_UC && (cap & EPT_CAP_MEMTYPE_UC)) ||
			     (type == EPTP_MEMTYPE_WB && (cap & EPT_CAP_MEMTYPE_WB)),
		     EC_EPT_POINTER, 0);
		rule(x, EC_RULE_ept_walk_length,
		     (walk == EPTP_WALK_4 && (cap & EPT_CAP_WALK_4)) ||
			     (walk == EPTP_WALK_5 && (cap & EPT_CAP_WALK_5)),
		     EC_EPT_POINTER, 0);
		rule(x, EC_RULE_ept_ad, !(eptp & EPTP_AD_ENABLE) || (cap & EPT_CAP_AD_BITS), EC_EPT_POINTER,
		     0);
		/* Bit 7 is reserved except where supervisor shadow-stack control exists; hapvisor never sets
		 * it. */
		rule_bits(x, EC_RULE_ept_reserved, EC_EPT_POINTER,
			  (eptp & EPTP_RESERVED_11_7) | above_maxphyaddr(x, eptp));
	}
	if (x->cpu2 & CPU2_ENABLE_PML) {
		rule(x, EC_RULE_pml_needs_ept, ept, EC_SECONDARY_VM_EXEC_CONTROL, 0);
		rule(x, EC_RULE_pml_addr, page_address_ok(x, EC(x->s, PML_ADDRESS)), EC_PML_ADDRESS, 0);
	}
	rule(x, EC_RULE_unrestricted_guest_needs_ept, !(x->cpu2 & CPU2_UNRESTRICTED_GUEST) || ept,
	     EC_SECONDARY_VM_EXEC_CONTROL, 0);
	rule(x, EC_RULE_mode_based_exec_needs_ept, !(x->cpu2 & CPU2_MODE_BASED_EPT_EXEC) || ept,
	     EC_SECONDARY_VM_EXEC_CONTROL, 0);
}

/* SDM Vol. 3C 26.2.1.2: VM-exit control fields. */
static void check_exit_controls(struct ec *x)
{
	rule_bits(x, EC_RULE_exit_controls, EC_VM_EXIT_CONTROLS, control_bad_bits(x->exit, x->c->exit));
	rule(x, EC_RULE_exit_preemption_timer_save,
	     !(x->exit & EXIT_SAVE_PREEMPTION_TIMER) || (x->pin & PIN_PREEMPTION_TIMER), EC_VM_EXIT_CONTROLS,
	     0);
	msr_area(x, EC_RULE_exit_msr_store_addr, EC_VM_EXIT_MSR_STORE_COUNT, EC_VM_EXIT_MSR_STORE_ADDR);
	msr_area(x, EC_RULE_exit_msr_load_addr, EC_VM_EXIT_MSR_LOAD_COUNT, EC_VM_EXIT_MSR_LOAD_ADDR);
}

/* Whether the injected hardware exception must push an error code (26.2.1.3). */
static bool needs_error_code(const struct ec *x, uint32_t type, uint32_t vector)
{
	bool protected_mode = !x->unrestricted || (x->cr0 & CR0_PE);
	return protected_mode && type == INTR_TYPE_HARD_EXCEPTION && vector <= VECTOR_EXCEPTION_MAX &&
	       (VECTORS_WITH_ERROR_CODE & BIT(vector));
}

/* SDM Vol. 3C 26.2.1.3: VM-entry control fields, event injection included. */
static void check_entry_controls(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	rule_bits(x, EC_RULE_entry_controls, EC_VM_ENTRY_CONTROLS, control_bad_bits(x->entry, x->c->entry));
	if (!x->c->in_smm)
		rule_bits(x, EC_RULE_entry_smm_outside_smm, EC_VM_ENTRY_CONTROLS,
			  x->entry & (ENTRY_SMM | ENTRY_DEACTIVATE_DUAL_MONITOR));
	msr_area(x, EC_RULE_entry_msr_load_addr, EC_VM_ENTRY_MSR_LOAD_COUNT, EC_VM_ENTRY_MSR_LOAD_ADDR);
	uint32_t info = x->intr_info;
	if (!(info & INTR_INFO_VALID))
		return;
	uint32_t type = info & INTR_TYPE_MASK, vector = info & INTR_INFO_VECTOR_MASK;
	bool mtf = CTL_ALLOWED1(x->c->procbased) & CPU_MONITOR_TRAP_FLAG;
	rule(x, EC_RULE_entry_intr_type, type != INTR_TYPE_RESERVED && (type != INTR_TYPE_OTHER_EVENT || mtf),
	     EC_VM_ENTRY_INTR_INFO, 0);
	rule(x, EC_RULE_entry_intr_vector,
	     (type != INTR_TYPE_NMI || vector == VECTOR_NMI) &&
		     (type != INTR_TYPE_HARD_EXCEPTION || vector <= VECTOR_EXCEPTION_MAX) &&
		     (type != INTR_TYPE_OTHER_EVENT || vector == 0),
	     EC_VM_ENTRY_INTR_INFO, 0);
	rule(x, EC_RULE_entry_intr_error_code,
	     !!(info & INTR_INFO_DELIVER_ERROR_CODE) == needs_error_code(x, type, vector),
	     EC_VM_ENTRY_INTR_INFO, 0);
	rule_bits(x, EC_RULE_entry_intr_reserved, EC_VM_ENTRY_INTR_INFO, info & INTR_INFO_RESERVED);
	if (info & INTR_INFO_DELIVER_ERROR_CODE)
		rule_bits(x, EC_RULE_entry_error_code_reserved, EC_VM_ENTRY_EXCEPTION_ERROR_CODE,
			  EC(s, VM_ENTRY_EXCEPTION_ERROR_CODE) & ERROR_CODE_RESERVED);
	if (type == INTR_TYPE_SOFT_INTERRUPT || type == INTR_TYPE_PRIV_SOFT_EXCEPTION ||
	    type == INTR_TYPE_SOFT_EXCEPTION) {
		uint64_t len = EC(s, VM_ENTRY_INSTRUCTION_LEN);
		rule(x, EC_RULE_entry_instruction_length,
		     len <= INSTRUCTION_LEN_MAX && (len > 0 || (x->c->misc & MISC_INJECT_LEN0)),
		     EC_VM_ENTRY_INSTRUCTION_LEN, 0);
	}
}

/* CR0/CR4 bits that break IA32_VMX_CRn_FIXED0/FIXED1 (SDM Vol. 3D A.7, A.8), `exempt` bits aside. */
static uint64_t fixed_bad_bits(uint64_t value, uint64_t fixed0, uint64_t fixed1, uint64_t exempt)
{
	return ((fixed0 & ~exempt) & ~value) | (value & ~fixed1);
}

/* Every byte of a PAT value is a valid memory type. */
static uint64_t pat_bad_entries(uint64_t pat)
{
	uint64_t bad = 0;
	for (unsigned i = 0; i < PAT_ENTRIES; i++) {
		unsigned type = (unsigned)(pat >> (8 * i)) & 0xFF;
		if (type >= 8 || !(PAT_TYPE_VALID_MASK & (1u << type)))
			bad |= 0xFFull << (8 * i);
	}
	return bad;
}

/* SDM Vol. 3C 26.2.2: host control registers and MSRs. */
static void check_host_registers(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	const struct entry_check_caps *c = x->c;
	rule_bits(x, EC_RULE_host_cr0_fixed, EC_HOST_CR0,
		  fixed_bad_bits(EC(s, HOST_CR0), c->cr0_fixed0, c->cr0_fixed1, 0));
	rule_bits(x, EC_RULE_host_cr4_fixed, EC_HOST_CR4,
		  fixed_bad_bits(EC(s, HOST_CR4), c->cr4_fixed0, c->cr4_fixed1, 0));
	rule_bits(x, EC_RULE_host_cr3_reserved, EC_HOST_CR3, above_maxphyaddr(x, EC(s, HOST_CR3)));
	rule(x, EC_RULE_host_sysenter_canonical, canonical(EC(s, HOST_IA32_SYSENTER_ESP), c->linear_width),
	     EC_HOST_IA32_SYSENTER_ESP, 0);
	rule(x, EC_RULE_host_sysenter_canonical, canonical(EC(s, HOST_IA32_SYSENTER_EIP), c->linear_width),
	     EC_HOST_IA32_SYSENTER_EIP, 0);
	if (x->exit & EXIT_LOAD_IA32_PAT)
		rule_bits(x, EC_RULE_host_pat, EC_HOST_IA32_PAT, pat_bad_entries(EC(s, HOST_IA32_PAT)));
	if (x->exit & EXIT_LOAD_IA32_EFER) {
		uint64_t efer = EC(s, HOST_IA32_EFER);
		rule_bits(x, EC_RULE_host_efer_reserved, EC_HOST_IA32_EFER, efer & ~EFER_VALID_BITS);
		rule(x, EC_RULE_host_efer_lma_lme,
		     !!(efer & EFER_LMA) == x->host64 && !!(efer & EFER_LME) == x->host64, EC_HOST_IA32_EFER,
		     0);
	}
}

/* SDM Vol. 3C 26.2.3 and 26.2.4: host segment and descriptor-table registers, address-space size. */
static void check_host_segments(struct ec *x)
{
	static const enum entry_check_field selectors[] = {
		EC_HOST_ES_SELECTOR, EC_HOST_CS_SELECTOR, EC_HOST_SS_SELECTOR, EC_HOST_DS_SELECTOR,
		EC_HOST_FS_SELECTOR, EC_HOST_GS_SELECTOR, EC_HOST_TR_SELECTOR};
	static const enum entry_check_field bases[] = {EC_HOST_FS_BASE, EC_HOST_GS_BASE, EC_HOST_TR_BASE,
						       EC_HOST_GDTR_BASE, EC_HOST_IDTR_BASE};
	const struct vmcs_snapshot *s = x->s;
	for (size_t i = 0; i < ARRAY_SIZE(selectors); i++)
		rule_bits(x, EC_RULE_host_selector_rpl_ti, selectors[i],
			  s->value[selectors[i]] & (SEL_RPL_MASK | SEL_TI));
	rule(x, EC_RULE_host_cs_nonzero, EC(s, HOST_CS_SELECTOR) != 0, EC_HOST_CS_SELECTOR, 0);
	rule(x, EC_RULE_host_tr_nonzero, EC(s, HOST_TR_SELECTOR) != 0, EC_HOST_TR_SELECTOR, 0);
	if (!x->host64)
		rule(x, EC_RULE_host_ss_nonzero, EC(s, HOST_SS_SELECTOR) != 0, EC_HOST_SS_SELECTOR, 0);
	for (size_t i = 0; i < ARRAY_SIZE(bases); i++)
		rule(x, EC_RULE_host_base_canonical, canonical(s->value[bases[i]], x->c->linear_width),
		     bases[i], 0);

	if (x->c->host_ia32e)
		rule(x, EC_RULE_host_address_space_size, x->host64, EC_VM_EXIT_CONTROLS, 0);
	if (x->host64) {
		rule(x, EC_RULE_host_64bit_cr4_pae, EC(s, HOST_CR4) & CR4_PAE, EC_HOST_CR4, 0);
		rule(x, EC_RULE_host_rip, canonical(EC(s, HOST_RIP), x->c->linear_width), EC_HOST_RIP, 0);
	} else {
		rule(x, EC_RULE_host_32bit_no_ia32e_guest, !x->ia32e_guest && !(EC(s, HOST_CR4) & CR4_PCIDE),
		     EC_VM_ENTRY_CONTROLS, 0);
		rule_bits(x, EC_RULE_host_rip, EC_HOST_RIP, EC(s, HOST_RIP) & HIGH32_MASK);
	}
}

/* SDM Vol. 3C 26.3.1.1: guest control registers, debug registers and MSRs. */
static void check_guest_registers(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	const struct entry_check_caps *c = x->c;
	uint64_t cr4 = EC(s, GUEST_CR4), efer = EC(s, GUEST_IA32_EFER);
	uint64_t exempt = x->unrestricted ? (CR0_PE | CR0_PG) : 0;
	rule_bits(x, EC_RULE_guest_cr0_fixed, EC_GUEST_CR0,
		  fixed_bad_bits(x->cr0, c->cr0_fixed0, c->cr0_fixed1, exempt));
	rule(x, EC_RULE_guest_cr0_pg_pe, !(x->cr0 & CR0_PG) || (x->cr0 & CR0_PE), EC_GUEST_CR0, 0);
	rule_bits(x, EC_RULE_guest_cr4_fixed, EC_GUEST_CR4,
		  fixed_bad_bits(cr4, c->cr4_fixed0, c->cr4_fixed1, 0));
	if (x->ia32e_guest) {
		rule(x, EC_RULE_guest_ia32e_cr0_pg, x->cr0 & CR0_PG, EC_GUEST_CR0, 0);
		rule(x, EC_RULE_guest_ia32e_cr4_pae, cr4 & CR4_PAE, EC_GUEST_CR4, 0);
	} else {
		rule(x, EC_RULE_guest_cr4_pcide, !(cr4 & CR4_PCIDE), EC_GUEST_CR4, 0);
	}
	rule_bits(x, EC_RULE_guest_cr3_reserved, EC_GUEST_CR3, above_maxphyaddr(x, EC(s, GUEST_CR3)));
	if (x->entry & ENTRY_LOAD_DEBUG_CONTROLS) {
		rule_bits(x, EC_RULE_guest_debugctl_reserved, EC_GUEST_IA32_DEBUGCTL,
			  EC(s, GUEST_IA32_DEBUGCTL) & DEBUGCTL_RESERVED);
		rule_bits(x, EC_RULE_guest_dr7_high, EC_GUEST_DR7, EC(s, GUEST_DR7) & DR7_HIGH_MASK);
	}
	rule(x, EC_RULE_guest_sysenter_canonical, canonical(EC(s, GUEST_SYSENTER_ESP), c->linear_width),
	     EC_GUEST_SYSENTER_ESP, 0);
	rule(x, EC_RULE_guest_sysenter_canonical, canonical(EC(s, GUEST_SYSENTER_EIP), c->linear_width),
	     EC_GUEST_SYSENTER_EIP, 0);
	if (x->entry & ENTRY_LOAD_IA32_PAT)
		rule_bits(x, EC_RULE_guest_pat, EC_GUEST_IA32_PAT, pat_bad_entries(EC(s, GUEST_IA32_PAT)));
	if (x->entry & ENTRY_LOAD_IA32_EFER) {
		rule_bits(x, EC_RULE_guest_efer_reserved, EC_GUEST_IA32_EFER, efer & ~EFER_VALID_BITS);
		rule(x, EC_RULE_guest_efer_lma, !!(efer & EFER_LMA) == x->ia32e_guest, EC_GUEST_IA32_EFER, 0);
		if (x->cr0 & CR0_PG)
			rule(x, EC_RULE_guest_efer_lme, !!(efer & EFER_LME) == x->ia32e_guest,
			     EC_GUEST_IA32_EFER, 0);
	}
}

/* One guest segment register's fields in the snapshot. */
struct ec_seg {
	enum entry_check_field sel, base, limit, ar;
};
enum { SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS, SEG_LDTR, SEG_TR, SEG_COUNT };
static const struct ec_seg segs[SEG_COUNT] = {
#define EC_SEG(n)                                                                                            \
	{                                                                                                    \
		EC_GUEST_##n##_SELECTOR, EC_GUEST_##n##_BASE, EC_GUEST_##n##_LIMIT, EC_GUEST_##n##_AR_BYTES  \
	}
	[SEG_ES] = EC_SEG(ES), [SEG_CS] = EC_SEG(CS), [SEG_SS] = EC_SEG(SS),	 [SEG_DS] = EC_SEG(DS),
	[SEG_FS] = EC_SEG(FS), [SEG_GS] = EC_SEG(GS), [SEG_LDTR] = EC_SEG(LDTR), [SEG_TR] = EC_SEG(TR),
#undef EC_SEG
};

#define SEG_AR(x, i) ((uint32_t)(x)->s->value[segs[i].ar])
#define SEG_SEL(x, i) ((uint32_t)(x)->s->value[segs[i].sel])
#define SEG_TYPE(ar) ((ar)&AR_TYPE_MASK)
#define SEG_DPL(ar) (((ar)&AR_DPL_MASK) >> AR_DPL_SHIFT)

static bool seg_usable(const struct ec *x, unsigned i)
{
	return !(SEG_AR(x, i) & AR_UNUSABLE);
}

/* Access-rights rules every usable segment shares: P, reserved bits, limit vs G. */
static void seg_common(struct ec *x, unsigned i)
{
	uint32_t ar = SEG_AR(x, i), limit = (uint32_t)x->s->value[segs[i].limit];
	bool g = ar & AR_G;
	rule(x, EC_RULE_guest_seg_present, ar & AR_P, segs[i].ar, 0);
	rule_bits(x, EC_RULE_guest_seg_ar_reserved, segs[i].ar, ar & (AR_RESERVED_11_8 | AR_RESERVED_31_17));
	rule(x, EC_RULE_guest_seg_granularity,
	     ((limit & LIMIT_LOW_ALL1) == LIMIT_LOW_ALL1 || !g) && (!(limit & LIMIT_HIGH_MASK) || g),
	     segs[i].ar, 0);
}

/* Virtual-8086 mode: every data and code segment as the 8086 had it (26.3.1.2). */
static void check_v86_segments(struct ec *x)
{
	for (unsigned i = SEG_ES; i <= SEG_GS; i++) {
		rule(x, EC_RULE_guest_v86_base, x->s->value[segs[i].base] == (uint64_t)SEG_SEL(x, i) << 4,
		     segs[i].base, 0);
		rule(x, EC_RULE_guest_v86_limit, x->s->value[segs[i].limit] == V86_LIMIT, segs[i].limit, 0);
		rule(x, EC_RULE_guest_v86_ar, SEG_AR(x, i) == V86_AR, segs[i].ar, 0);
	}
}

/* CS, SS, DS, ES, FS, GS outside virtual-8086 mode: types, S, DPL, P, reserved bits, G (26.3.1.2). */
static void check_code_data_segments(struct ec *x)
{
	uint32_t cs = SEG_AR(x, SEG_CS), ss = SEG_AR(x, SEG_SS);
	unsigned cs_type = SEG_TYPE(cs);
	bool ug = x->unrestricted;
	bool accessed_code = (cs_type & CODE_ACCESSED) == CODE_ACCESSED; /* types 9, 11, 13, 15 */
	rule(x, EC_RULE_guest_cs_type, accessed_code || (ug && cs_type == AR_TYPE_DATA_RW_ACCESSED),
	     EC_GUEST_CS_AR_BYTES, 0);
	rule(x, EC_RULE_guest_seg_s, cs & AR_S, EC_GUEST_CS_AR_BYTES, 0);
	bool cs_dpl_ok = cs_type == AR_TYPE_DATA_RW_ACCESSED ? SEG_DPL(cs) == 0
			 : (cs_type & AR_TYPE_CONFORMING)    ? SEG_DPL(cs) <= SEG_DPL(ss)
							     : SEG_DPL(cs) == SEG_DPL(ss);
	rule(x, EC_RULE_guest_cs_dpl, cs_dpl_ok, EC_GUEST_CS_AR_BYTES, 0);
	seg_common(x, SEG_CS);
	if (x->ia32e_guest && (cs & AR_L))
		rule(x, EC_RULE_guest_cs_l_db, !(cs & AR_DB), EC_GUEST_CS_AR_BYTES, 0);

	if (!ug)
		rule(x, EC_RULE_guest_ss_dpl, SEG_DPL(ss) == (SEG_SEL(x, SEG_SS) & SEL_RPL_MASK),
		     EC_GUEST_SS_AR_BYTES, 0);
	if (cs_type == AR_TYPE_DATA_RW_ACCESSED || !(x->cr0 & CR0_PE))
		rule(x, EC_RULE_guest_ss_dpl, SEG_DPL(ss) == 0, EC_GUEST_SS_AR_BYTES, 0);
	if (seg_usable(x, SEG_SS)) {
		unsigned t = SEG_TYPE(ss);
		/* types 3 and 7: read/write data, expand-up or expand-down, accessed */
		rule(x, EC_RULE_guest_ss_type, (t & ~AR_TYPE_CONFORMING) == AR_TYPE_DATA_RW_ACCESSED,
		     EC_GUEST_SS_AR_BYTES, 0);
		rule(x, EC_RULE_guest_seg_s, ss & AR_S, EC_GUEST_SS_AR_BYTES, 0);
		seg_common(x, SEG_SS);
	}
	static const unsigned data[] = {SEG_DS, SEG_ES, SEG_FS, SEG_GS};
	for (size_t k = 0; k < ARRAY_SIZE(data); k++) {
		unsigned i = data[k];
		if (!seg_usable(x, i))
			continue;
		uint32_t ar = SEG_AR(x, i);
		unsigned t = SEG_TYPE(ar);
		rule(x, EC_RULE_guest_data_seg_type,
		     (t & AR_TYPE_ACCESSED) && (!(t & AR_TYPE_CODE) || (t & AR_TYPE_READABLE)), segs[i].ar,
		     0);
		rule(x, EC_RULE_guest_seg_s, ar & AR_S, segs[i].ar, 0);
		bool conforming_code = (t & AR_TYPE_CODE) && (t & AR_TYPE_CONFORMING); /* types 12-15 */
		if (!ug && !conforming_code)
			rule(x, EC_RULE_guest_data_seg_dpl, SEG_DPL(ar) >= (SEG_SEL(x, i) & SEL_RPL_MASK),
			     segs[i].ar, 0);
		seg_common(x, i);
	}
}

/* TR and LDTR (26.3.1.2). */
static void check_system_segments(struct ec *x)
{
	uint32_t tr = SEG_AR(x, SEG_TR), ldtr = SEG_AR(x, SEG_LDTR);
	unsigned t = SEG_TYPE(tr);
	rule(x, EC_RULE_guest_tr_type,
	     t == AR_TYPE_TSS32_BUSY || (!x->ia32e_guest && t == AR_TYPE_TSS16_BUSY), EC_GUEST_TR_AR_BYTES,
	     0);
	rule(x, EC_RULE_guest_sys_seg_s, !(tr & AR_S), EC_GUEST_TR_AR_BYTES, 0);
	rule(x, EC_RULE_guest_tr_usable, !(tr & AR_UNUSABLE), EC_GUEST_TR_AR_BYTES, 0);
	seg_common(x, SEG_TR);
	if (seg_usable(x, SEG_LDTR)) {
		rule(x, EC_RULE_guest_ldtr_type, SEG_TYPE(ldtr) == AR_TYPE_LDT, EC_GUEST_LDTR_AR_BYTES, 0);
		rule(x, EC_RULE_guest_sys_seg_s, !(ldtr & AR_S), EC_GUEST_LDTR_AR_BYTES, 0);
		seg_common(x, SEG_LDTR);
	}
}

/* SDM Vol. 3C 26.3.1.2: selectors, bases, then access rights by mode. */
static void check_guest_segments(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	unsigned width = x->c->linear_width;
	rule_bits(x, EC_RULE_guest_tr_ti, EC_GUEST_TR_SELECTOR, EC(s, GUEST_TR_SELECTOR) & SEL_TI);
	if (seg_usable(x, SEG_LDTR)) {
		rule_bits(x, EC_RULE_guest_ldtr_ti, EC_GUEST_LDTR_SELECTOR,
			  EC(s, GUEST_LDTR_SELECTOR) & SEL_TI);
		rule(x, EC_RULE_guest_base_canonical, canonical(EC(s, GUEST_LDTR_BASE), width),
		     EC_GUEST_LDTR_BASE, 0);
	}
	if (!x->v86 && !x->unrestricted)
		rule(x, EC_RULE_guest_ss_rpl,
		     (SEG_SEL(x, SEG_SS) & SEL_RPL_MASK) == (SEG_SEL(x, SEG_CS) & SEL_RPL_MASK),
		     EC_GUEST_SS_SELECTOR, 0);
	rule(x, EC_RULE_guest_base_canonical, canonical(EC(s, GUEST_TR_BASE), width), EC_GUEST_TR_BASE, 0);
	rule(x, EC_RULE_guest_base_canonical, canonical(EC(s, GUEST_FS_BASE), width), EC_GUEST_FS_BASE, 0);
	rule(x, EC_RULE_guest_base_canonical, canonical(EC(s, GUEST_GS_BASE), width), EC_GUEST_GS_BASE, 0);
	rule_bits(x, EC_RULE_guest_base_high, EC_GUEST_CS_BASE, EC(s, GUEST_CS_BASE) & HIGH32_MASK);
	static const unsigned high[] = {SEG_SS, SEG_DS, SEG_ES};
	for (size_t k = 0; k < ARRAY_SIZE(high); k++)
		if (seg_usable(x, high[k]))
			rule_bits(x, EC_RULE_guest_base_high, segs[high[k]].base,
				  s->value[segs[high[k]].base] & HIGH32_MASK);
	if (x->v86)
		check_v86_segments(x);
	else
		check_code_data_segments(x);
	check_system_segments(x);
}

/* SDM Vol. 3C 26.3.1.3 and 26.3.1.4: GDTR/IDTR, RIP and RFLAGS. */
static void check_guest_dtr_rip_rflags(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	rule(x, EC_RULE_guest_dtr_base_canonical, canonical(EC(s, GUEST_GDTR_BASE), x->c->linear_width),
	     EC_GUEST_GDTR_BASE, 0);
	rule(x, EC_RULE_guest_dtr_base_canonical, canonical(EC(s, GUEST_IDTR_BASE), x->c->linear_width),
	     EC_GUEST_IDTR_BASE, 0);
	rule_bits(x, EC_RULE_guest_dtr_limit, EC_GUEST_GDTR_LIMIT,
		  EC(s, GUEST_GDTR_LIMIT) & DTR_LIMIT_RESERVED);
	rule_bits(x, EC_RULE_guest_dtr_limit, EC_GUEST_IDTR_LIMIT,
		  EC(s, GUEST_IDTR_LIMIT) & DTR_LIMIT_RESERVED);

	if (x->ia32e_guest && x->cs_l)
		rule(x, EC_RULE_guest_rip_canonical, canonical(EC(s, GUEST_RIP), x->c->linear_width),
		     EC_GUEST_RIP, 0);
	else
		rule_bits(x, EC_RULE_guest_rip_high, EC_GUEST_RIP, EC(s, GUEST_RIP) & HIGH32_MASK);
	rule_bits(x, EC_RULE_guest_rflags_reserved, EC_GUEST_RFLAGS,
		  (x->rflags & RFLAGS_RESERVED0) | (~x->rflags & RFLAGS_FIXED));
	if (x->ia32e_guest || !(x->cr0 & CR0_PE))
		rule(x, EC_RULE_guest_rflags_vm, !(x->rflags & RFLAGS_VM), EC_GUEST_RFLAGS, 0);
	if ((x->intr_info & INTR_INFO_VALID) && (x->intr_info & INTR_TYPE_MASK) == INTR_TYPE_EXTERNAL)
		rule(x, EC_RULE_guest_rflags_if, x->rflags & RFLAGS_IF, EC_GUEST_RFLAGS, 0);
}

/* Whether an event of this type and vector can be injected into this activity state (26.3.1.5). */
static bool event_fits_activity(uint64_t activity, uint32_t type, uint32_t vector)
{
	switch (activity) {
	case ACTIVITY_ACTIVE:
		return true;
	case ACTIVITY_HLT:
		return type == INTR_TYPE_EXTERNAL || type == INTR_TYPE_NMI ||
		       (type == INTR_TYPE_HARD_EXCEPTION && (vector == VECTOR_DB || vector == VECTOR_MC)) ||
		       (type == INTR_TYPE_OTHER_EVENT && vector == 0);
	case ACTIVITY_SHUTDOWN:
		return type == INTR_TYPE_NMI || (type == INTR_TYPE_HARD_EXCEPTION && vector == VECTOR_MC);
	default:
		return false;
	}
}

/* SDM Vol. 3C 26.3.1.5: activity state. */
static void check_guest_activity(struct ec *x)
{
	static const uint64_t misc_bit[] = {[ACTIVITY_HLT] = MISC_ACTIVITY_HLT,
					    [ACTIVITY_SHUTDOWN] = MISC_ACTIVITY_SHUTDOWN,
					    [ACTIVITY_WAIT_SIPI] = MISC_ACTIVITY_WAIT_SIPI};
	uint64_t act = EC(x->s, GUEST_ACTIVITY_STATE), intr = EC(x->s, GUEST_INTERRUPTIBILITY_INFO);
	bool known = act <= ACTIVITY_WAIT_SIPI;
	rule(x, EC_RULE_guest_activity_state,
	     known && (act == ACTIVITY_ACTIVE || (x->c->misc & misc_bit[act])), EC_GUEST_ACTIVITY_STATE, 0);
	if (act == ACTIVITY_HLT)
		rule(x, EC_RULE_guest_activity_hlt_dpl, SEG_DPL(SEG_AR(x, SEG_SS)) == 0, EC_GUEST_SS_AR_BYTES,
		     0);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		rule(x, EC_RULE_guest_activity_blocking, act == ACTIVITY_ACTIVE, EC_GUEST_ACTIVITY_STATE, 0);
	if (known && (x->intr_info & INTR_INFO_VALID))
		rule(x, EC_RULE_guest_activity_event,
		     event_fits_activity(act, x->intr_info & INTR_TYPE_MASK,
					 x->intr_info & INTR_INFO_VECTOR_MASK),
		     EC_GUEST_ACTIVITY_STATE, 0);
}

/* SDM Vol. 3C 26.3.1.5: interruptibility state. */
static void check_guest_interruptibility(struct ec *x)
{
	uint64_t intr = EC(x->s, GUEST_INTERRUPTIBILITY_INFO);
	uint32_t type = x->intr_info & INTR_TYPE_MASK;
	bool injecting = x->intr_info & INTR_INFO_VALID;
	rule_bits(x, EC_RULE_guest_intr_reserved, EC_GUEST_INTERRUPTIBILITY_INFO,
		  intr & INTERRUPTIBILITY_RESERVED);
	rule(x, EC_RULE_guest_intr_sti_movss,
	     (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) !=
		     (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS),
	     EC_GUEST_INTERRUPTIBILITY_INFO, 0);
	rule(x, EC_RULE_guest_intr_sti_if, !(intr & INTERRUPTIBILITY_STI) || (x->rflags & RFLAGS_IF),
	     EC_GUEST_INTERRUPTIBILITY_INFO, 0);
	if (injecting && type == INTR_TYPE_EXTERNAL)
		rule_bits(x, EC_RULE_guest_intr_external, EC_GUEST_INTERRUPTIBILITY_INFO,
			  intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
	if (injecting && type == INTR_TYPE_NMI) {
		rule_bits(x, EC_RULE_guest_intr_nmi_movss, EC_GUEST_INTERRUPTIBILITY_INFO,
			  intr & INTERRUPTIBILITY_MOV_SS);
		if (x->pin & PIN_VIRTUAL_NMIS)
			rule_bits(x, EC_RULE_guest_intr_vnmi, EC_GUEST_INTERRUPTIBILITY_INFO,
				  intr & INTERRUPTIBILITY_NMI);
	}
	if (!x->c->in_smm)
		rule_bits(x, EC_RULE_guest_intr_smi, EC_GUEST_INTERRUPTIBILITY_INFO,
			  intr & INTERRUPTIBILITY_SMI);
}

/* SDM Vol. 3C 26.3.1.5: pending debug exceptions and the VMCS link pointer. */
static void check_guest_pending_and_link(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	uint64_t pending = EC(s, GUEST_PENDING_DBG_EXCEPTIONS), intr = EC(s, GUEST_INTERRUPTIBILITY_INFO);
	rule_bits(x, EC_RULE_guest_pending_dbg_reserved, EC_GUEST_PENDING_DBG_EXCEPTIONS,
		  pending & PENDING_DBG_RESERVED);
	if ((intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS)) ||
	    EC(s, GUEST_ACTIVITY_STATE) == ACTIVITY_HLT) {
		bool single_step = (x->rflags & RFLAGS_TF) && !(EC(s, GUEST_IA32_DEBUGCTL) & DEBUGCTL_BTF);
		rule(x, EC_RULE_guest_pending_dbg_bs, !!(pending & PENDING_DBG_BS) == single_step,
		     EC_GUEST_PENDING_DBG_EXCEPTIONS, 0);
	}
	uint64_t link = EC(s, VMCS_LINK_POINTER);
	if (link != VMCS_LINK_NONE)
		rule(x, EC_RULE_guest_vmcs_link, page_address_ok(x, link), EC_VMCS_LINK_POINTER, 0);
}

/* SDM Vol. 3C 26.3.1.6: PAE paging outside IA-32e mode: the PDPTEs from the VMCS (EPT) or memory. */
static void check_guest_pdptes(struct ec *x)
{
	const struct vmcs_snapshot *s = x->s;
	if (!(x->cr0 & CR0_PG) || !(EC(s, GUEST_CR4) & CR4_PAE) || x->ia32e_guest)
		return;
	bool ept = x->cpu2 & CPU2_ENABLE_EPT;
	if (!ept && !s->pdpte_memory_valid)
		return;
	for (unsigned i = 0; i < PAE_PDPTES; i++) {
		enum entry_check_field f =
			ept ? (enum entry_check_field)(EC_GUEST_PDPTE0 + i) : EC_PDPTE_MEMORY;
		uint64_t e = ept ? s->value[f] : s->pdpte_memory[i];
		if (e & PTE_P)
			rule_bits(x, EC_RULE_guest_pdpte_reserved, f,
				  (e & PAE_PDPTE_RSVD_LOW) | above_maxphyaddr(x, e));
		else
			rule(x, EC_RULE_guest_pdpte_reserved, true, f, 0);
	}
}

bool entry_check_run(const struct vmcs_snapshot *s, const struct entry_check_caps *c,
		     struct entry_check_result *r)
{
	*r = (struct entry_check_result){0};
	struct ec x = {.s = s, .c = c, .r = r};
	x.pin = (uint32_t)EC(s, PIN_BASED_VM_EXEC_CONTROL);
	x.cpu = (uint32_t)EC(s, CPU_BASED_VM_EXEC_CONTROL);
	/* Without "activate secondary controls" the CPU treats them as 0 (SDM Vol. 3C 25.6.2). */
	x.cpu2 = (x.cpu & CPU_ACTIVATE_SECONDARY_CONTROLS) ? (uint32_t)EC(s, SECONDARY_VM_EXEC_CONTROL) : 0;
	x.exit = (uint32_t)EC(s, VM_EXIT_CONTROLS);
	x.entry = (uint32_t)EC(s, VM_ENTRY_CONTROLS);
	x.cr0 = EC(s, GUEST_CR0);
	x.rflags = EC(s, GUEST_RFLAGS);
	x.ia32e_guest = x.entry & ENTRY_IA32E_MODE_GUEST;
	x.unrestricted = x.cpu2 & CPU2_UNRESTRICTED_GUEST;
	x.v86 = x.rflags & RFLAGS_VM;
	x.cs_l = EC(s, GUEST_CS_AR_BYTES) & AR_L;
	x.host64 = x.exit & EXIT_HOST_ADDR_SPACE_SIZE;
	x.intr_info = (uint32_t)EC(s, VM_ENTRY_INTR_INFO);
	if (!(x.intr_info & INTR_INFO_VALID))
		x.intr_info = 0;

	check_execution_controls(&x);
	check_ept_controls(&x);
	check_exit_controls(&x);
	check_entry_controls(&x);
	check_host_registers(&x);
	check_host_segments(&x);
	check_guest_registers(&x);
	check_guest_segments(&x);
	check_guest_dtr_rip_rflags(&x);
	check_guest_activity(&x);
	check_guest_interruptibility(&x);
	check_guest_pending_and_link(&x);
	check_guest_pdptes(&x);

	for (unsigned i = 0; i < EC_RULE_COUNT; i++) /* no popcount: hapvisor has no libgcc */
		r->rules += (r->applied[i / 64] >> (i % 64)) & 1;
	return r->failed == 0;
}

void entry_check_report(const struct entry_check_result *r, const char *when, uint64_t cycles)
{
	unsigned shown = MIN(r->failed, ENTRY_CHECK_MAX_FAILURES);
	for (unsigned i = 0; i < shown; i++) {
		const struct entry_check_failure *f = &r->failures[i];
		const char *field = entry_check_field_name(f->field);
		if (f->bad)
			log_error("VM-entry check failed: SDM %s: %s (%s=0x%llx, bad bits 0x%llx)",
				  rules[f->rule].section, rules[f->rule].text, field,
				  (unsigned long long)f->value, (unsigned long long)f->bad);
		else
			log_error("VM-entry check failed: SDM %s: %s (%s=0x%llx)", rules[f->rule].section,
				  rules[f->rule].text, field, (unsigned long long)f->value);
		log_event(
			"entry_check cpu=0 result=fail rule=%s section=%s field=%s value=0x%llx bad=0x%llx when=%s",
			rules[f->rule].name, rules[f->rule].section, field, (unsigned long long)f->value,
			(unsigned long long)f->bad, when);
	}
	if (r->failed > shown)
		log_error("VM-entry check: %u more failures not shown", r->failed - shown);
	log_event("entry_check cpu=0 result=%s rules=%u failed=%u cycles=%llu when=%s",
		  r->failed ? "fail" : "pass", r->rules, r->failed, (unsigned long long)cycles, when);
}
