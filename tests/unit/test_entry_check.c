/*
 * The VM-entry checker (vmx/entry_check.c) on hand-made VMCS snapshots: hapvisor's own launch image (the
 * VMCS vmx/vmcs_setup.c writes, with the capability MSRs Bochs's Skylake model reports) and its variants
 * in IA-32e, PAE, real and virtual-8086 mode pass with no failure; then one case per rule breaks exactly
 * that rule and the checker must name it and no other. A last test asks for a case for every rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "tests/unit/host_stubs.h"
#include "vmx/controls.h"
#include "vmx/entry_check.h"
#include "vmx/msr.h"

/* Bochs 2.7 corei7_skylake_x (build/lanes/bochs/serial.log, event=vmx_msrs). */
#define SKL_PINBASED 0x7f00000016ull
#define SKL_PROCBASED 0xf7f9fffe04006172ull
#define SKL_PROCBASED2 0x2177fff00000000ull
#define SKL_EXIT 0x7fffff00036dfbull
#define SKL_ENTRY 0xffff000011fbull
#define SKL_MISC 0x600401e0ull
#define SKL_EPT_VPID 0xf0106334141ull
#define SKL_CR0_FIXED0 0x80000021ull
#define SKL_CR0_FIXED1 0xffffffffull
#define SKL_CR4_FIXED0 0x2000ull
#define SKL_CR4_FIXED1 0x3727ffull
#define SKL_MAXPHYADDR 40
#define LINEAR_WIDTH 48
/* What vmx/vmcs_setup.c wrote there (event=vmcs_controls, vmlaunch). */
#define HV_PIN 0x3eu /* NMI exiting and virtual NMIs (vmx/events.h) */
#define HV_CPU 0x96006172u
#define HV_CPU2 0x1010aau
#define HV_EXIT 0x3f6fffu
#define HV_ENTRY 0xd1ffu
#define HV_EPTP 0x1de0905eull
#define HV_CODE_AR (AR_TYPE_CODE_RX_ACCESSED | AR_S | AR_P | AR_DB | AR_G)
#define HV_DATA_AR (AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P | AR_DB | AR_G)
#define HOST_CR0_VALUE (CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG)
#define HOST_CR4_VALUE (CR4_PAE | CR4_PGE | CR4_OSFXSR | CR4_VMXE | CR4_OSXSAVE)
#define HOST_EFER_VALUE (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
#define PAT_DEFAULT 0x0007040600070406ull
#define KERNEL_VA 0xffffffff80000000ull
#define NONCANONICAL 0x0000800000000000ull
#define ABOVE_MAXPHYADDR BIT(SKL_MAXPHYADDR)
#define FLAT_LIMIT 0xFFFFFFFFull
#define TABLE_LIMIT 0xFFFFull
#define V86_AR_VALUE 0xF3u
#define PDPTE_VALID(n) (0x10000ull + (n)*0x1000ull + 1) /* present, no reserved bit */
#define AR_DPL(n) ((uint64_t)(n) << AR_DPL_SHIFT)
#define SEL_TI_VALUE 0x4 /* selector bit 2: the LDT */
#define V86_LIMIT_VALUE 0xFFFFu
#define RFLAGS_TF_VALUE BIT(8)

static struct vmcs_snapshot snap;
static struct entry_check_caps caps;
static struct entry_check_result result;

/* hapvisor's launch image: Multiboot i386 state, flat 32-bit segments, paging off, unrestricted guest. */
static void base_image(void)
{
	memset(&snap, 0, sizeof(snap));
	caps = (struct entry_check_caps){
		.pinbased = SKL_PINBASED,
		.procbased = SKL_PROCBASED,
		.procbased2 = SKL_PROCBASED2,
		.exit = SKL_EXIT,
		.entry = SKL_ENTRY,
		.cr0_fixed0 = SKL_CR0_FIXED0,
		.cr0_fixed1 = SKL_CR0_FIXED1,
		.cr4_fixed0 = SKL_CR4_FIXED0,
		.cr4_fixed1 = SKL_CR4_FIXED1,
		.misc = SKL_MISC,
		.ept_vpid = SKL_EPT_VPID,
		.maxphyaddr = SKL_MAXPHYADDR,
		.linear_width = LINEAR_WIDTH,
		.host_ia32e = true,
	};
	struct vmcs_snapshot *s = &snap;
	EC(s, PIN_BASED_VM_EXEC_CONTROL) = HV_PIN;
	EC(s, CPU_BASED_VM_EXEC_CONTROL) = HV_CPU;
	EC(s, SECONDARY_VM_EXEC_CONTROL) = HV_CPU2;
	EC(s, VM_EXIT_CONTROLS) = HV_EXIT;
	EC(s, VM_ENTRY_CONTROLS) = HV_ENTRY;
	EC(s, IO_BITMAP_A) = 0x1de0a000;
	EC(s, IO_BITMAP_B) = 0x1de0b000;
	EC(s, MSR_BITMAP) = 0x1de0c000;
	EC(s, EPT_POINTER) = HV_EPTP;
	EC(s, VIRTUAL_PROCESSOR_ID) = 1;
	EC(s, HOST_CR0) = HOST_CR0_VALUE;
	EC(s, HOST_CR3) = 0x1dc01000;
	EC(s, HOST_CR4) = HOST_CR4_VALUE;
	EC(s, HOST_IA32_PAT) = PAT_DEFAULT;
	EC(s, HOST_IA32_EFER) = HOST_EFER_VALUE;
	EC(s, HOST_CS_SELECTOR) = 0x08;
	EC(s, HOST_SS_SELECTOR) = EC(s, HOST_DS_SELECTOR) = EC(s, HOST_ES_SELECTOR) = 0x10;
	EC(s, HOST_TR_SELECTOR) = 0x28;
	EC(s, HOST_TR_BASE) = KERNEL_VA + 0x5000;
	EC(s, HOST_GDTR_BASE) = KERNEL_VA + 0x6000;
	EC(s, HOST_IDTR_BASE) = KERNEL_VA + 0x7000;
	EC(s, HOST_RIP) = KERNEL_VA + 0x1234;

	EC(s, GUEST_CR0) = CR0_PE | CR0_ET | CR0_NE;
	EC(s, GUEST_CR4) = CR4_VMXE;
	EC(s, GUEST_DR7) = 0x400;
	EC(s, GUEST_IA32_PAT) = PAT_DEFAULT;
	static const enum entry_check_field data_sel[] = {EC_GUEST_DS_SELECTOR, EC_GUEST_ES_SELECTOR,
							  EC_GUEST_FS_SELECTOR, EC_GUEST_GS_SELECTOR,
							  EC_GUEST_SS_SELECTOR};
	static const enum entry_check_field data_limit[] = {EC_GUEST_DS_LIMIT, EC_GUEST_ES_LIMIT,
							    EC_GUEST_FS_LIMIT, EC_GUEST_GS_LIMIT,
							    EC_GUEST_SS_LIMIT};
	static const enum entry_check_field data_ar[] = {EC_GUEST_DS_AR_BYTES, EC_GUEST_ES_AR_BYTES,
							 EC_GUEST_FS_AR_BYTES, EC_GUEST_GS_AR_BYTES,
							 EC_GUEST_SS_AR_BYTES};
	for (size_t i = 0; i < ARRAY_SIZE(data_sel); i++) {
		s->value[data_sel[i]] = 0x10;
		s->value[data_limit[i]] = FLAT_LIMIT;
		s->value[data_ar[i]] = HV_DATA_AR;
	}
	EC(s, GUEST_CS_SELECTOR) = 0x08;
	EC(s, GUEST_CS_LIMIT) = FLAT_LIMIT;
	EC(s, GUEST_CS_AR_BYTES) = HV_CODE_AR;
	EC(s, GUEST_TR_LIMIT) = TABLE_LIMIT;
	EC(s, GUEST_TR_AR_BYTES) = AR_TYPE_TSS32_BUSY | AR_P;
	EC(s, GUEST_LDTR_AR_BYTES) = AR_UNUSABLE;
	EC(s, GUEST_GDTR_LIMIT) = TABLE_LIMIT;
	EC(s, GUEST_IDTR_LIMIT) = TABLE_LIMIT;
	EC(s, GUEST_RIP) = 0x100028;
	EC(s, GUEST_RFLAGS) = RFLAGS_FIXED;
	EC(s, VMCS_LINK_POINTER) = ~0ull;
}

/* A 64-bit guest: IA-32e mode guest, EFER.LME/LMA, CR0.PG, CR4.PAE, a 64-bit CS. */
static void mode_long(void)
{
	struct vmcs_snapshot *s = &snap;
	EC(s, VM_ENTRY_CONTROLS) |= ENTRY_IA32E_MODE_GUEST;
	EC(s, GUEST_IA32_EFER) = EFER_LME | EFER_LMA;
	EC(s, GUEST_CR0) |= CR0_PG;
	EC(s, GUEST_CR4) |= CR4_PAE;
	EC(s, GUEST_CR3) = 0x1000;
	EC(s, GUEST_CS_AR_BYTES) = (HV_CODE_AR & ~AR_DB) | AR_L;
}

/* 32-bit PAE paging; the PDPTEs in the VMCS (EPT). */
static void mode_pae(void)
{
	struct vmcs_snapshot *s = &snap;
	EC(s, GUEST_CR0) |= CR0_PG;
	EC(s, GUEST_CR4) |= CR4_PAE;
	EC(s, GUEST_CR3) = 0x2000;
	EC(s, GUEST_PDPTE0) = PDPTE_VALID(0);
	EC(s, GUEST_PDPTE1) = PDPTE_VALID(1);
	EC(s, GUEST_PDPTE2) = 0;
	EC(s, GUEST_PDPTE3) = PDPTE_VALID(3);
}

/* PAE paging, EPT but no unrestricted guest: the CPU's CR0.PE/PG and segment rules apply in full. */
static void mode_pae_restricted(void)
{
	mode_pae();
	EC(&snap, SECONDARY_VM_EXEC_CONTROL) &= ~(uint64_t)CPU2_UNRESTRICTED_GUEST;
}

/* PAE paging without EPT (nor unrestricted guest): the PDPTEs come from memory. */
static void mode_pae_no_ept(void)
{
	mode_pae();
	EC(&snap, SECONDARY_VM_EXEC_CONTROL) &= ~(uint64_t)(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
	for (unsigned i = 0; i < PAE_PDPTES; i++)
		snap.pdpte_memory[i] = PDPTE_VALID(i);
	snap.pdpte_memory_valid = true;
}

static void mode_pae_no_ept_bad_memory(void)
{
	mode_pae_no_ept();
	snap.pdpte_memory[2] |= BIT(5); /* reserved in a PAE PDPTE */
}

/* Real mode (unrestricted guest, CR0.PE=0). */
static void mode_real(void)
{
	EC(&snap, GUEST_CR0) &= ~(uint64_t)CR0_PE;
}

/* Virtual-8086 mode: RFLAGS.VM, segments as the 8086 had them. */
static void mode_v86(void)
{
	static const enum entry_check_field sel[] = {EC_GUEST_ES_SELECTOR, EC_GUEST_CS_SELECTOR,
						     EC_GUEST_SS_SELECTOR, EC_GUEST_DS_SELECTOR,
						     EC_GUEST_FS_SELECTOR, EC_GUEST_GS_SELECTOR};
	struct vmcs_snapshot *s = &snap;
	EC(s, GUEST_RFLAGS) |= RFLAGS_VM;
	for (size_t i = 0; i < ARRAY_SIZE(sel); i++) {
		s->value[sel[i]] = 0x1000 + i;
		s->value[sel[i] + (EC_GUEST_ES_BASE - EC_GUEST_ES_SELECTOR)] = (0x1000 + i) << 4;
		s->value[sel[i] + (EC_GUEST_ES_LIMIT - EC_GUEST_ES_SELECTOR)] = V86_LIMIT_VALUE;
		s->value[sel[i] + (EC_GUEST_ES_AR_BYTES - EC_GUEST_ES_SELECTOR)] = V86_AR_VALUE;
	}
}

/* A 32-bit host (host address-space size=0), still on a CPU in IA-32e mode. */
static void fix_host32(void)
{
	struct vmcs_snapshot *s = &snap;
	EC(s, VM_EXIT_CONTROLS) &= ~(uint64_t)EXIT_HOST_ADDR_SPACE_SIZE;
	EC(s, HOST_IA32_EFER) &= ~(uint64_t)(EFER_LMA | EFER_LME);
	EC(s, HOST_RIP) = 0x101234;
}

/* A 32-bit host on a CPU outside IA-32e mode. */
static void fix_host32_cpu(void)
{
	fix_host32();
	caps.host_ia32e = false;
}

static void fix_long_host32_cpu(void)
{
	mode_long();
	fix_host32_cpu();
}

static void fix_allow_posted(void)
{
	caps.pinbased |= (uint64_t)PIN_POSTED_INTERRUPTS << 32;
}

static void fix_allow_mode_based(void)
{
	mode_long();
	EC(&snap, SECONDARY_VM_EXEC_CONTROL) &= ~(uint64_t)(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
	caps.procbased2 |= (uint64_t)CPU2_MODE_BASED_EPT_EXEC << 32;
}

static void fix_no_ept_ad(void)
{
	caps.ept_vpid &= ~(uint64_t)EPT_CAP_AD_BITS;
}

static void fix_long_no_ept(void)
{
	mode_long();
	EC(&snap, SECONDARY_VM_EXEC_CONTROL) &= ~(uint64_t)(CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST);
}

static void fix_long_no_ept_keep_ug(void)
{
	mode_long();
	EC(&snap, SECONDARY_VM_EXEC_CONTROL) &= ~(uint64_t)CPU2_ENABLE_EPT;
}

enum op { OP_NONE, OP_SET, OP_OR, OP_CLR };
struct edit {
	enum op op;
	enum entry_check_field field;
	uint64_t value;
};
struct rule_case {
	const char *name; /* the cmocka test name; the rule unless it says more */
	const char *rule; /* the one rule that must fail */
	void (*setup)(void);
	struct edit edits[4];
};
#define SET(f, v)                                                                                            \
	{                                                                                                    \
		OP_SET, EC_##f, (uint64_t)(v)                                                                \
	}
#define OR(f, v)                                                                                             \
	{                                                                                                    \
		OP_OR, EC_##f, (uint64_t)(v)                                                                 \
	}
#define CLR(f, v)                                                                                            \
	{                                                                                                    \
		OP_CLR, EC_##f, (uint64_t)(v)                                                                \
	}
#define CASE(r, ...)                                                                                         \
	{                                                                                                    \
#r, #r, NULL,                                                                                \
		{                                                                                            \
			__VA_ARGS__                                                                          \
		}                                                                                            \
	}
#define CASE_IN(r, fn, ...)                                                                                  \
	{                                                                                                    \
#r, #r, fn,                                                                                  \
		{                                                                                            \
			__VA_ARGS__                                                                          \
		}                                                                                            \
	}
#define INJECT(type, vector) (INTR_INFO_VALID | (type) | (vector))

static const struct rule_case cases[] = {
	/* 26.2.1.1 */
	CASE(pin_controls, CLR(PIN_BASED_VM_EXEC_CONTROL, BIT(1))),
	CASE(proc_controls, OR(CPU_BASED_VM_EXEC_CONTROL, BIT(0))),
	CASE(proc2_controls, OR(SECONDARY_VM_EXEC_CONTROL, BIT(31))),
	CASE(cr3_target_count, SET(CR3_TARGET_COUNT, 5)),
	CASE(io_bitmap_addr, SET(IO_BITMAP_A, 0x1de0a001)),
	CASE(msr_bitmap_addr, SET(MSR_BITMAP, ABOVE_MAXPHYADDR)),
	CASE(virtual_nmis_need_nmi_exiting, CLR(PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING)),
	CASE(nmi_window_needs_virtual_nmis, CLR(PIN_BASED_VM_EXEC_CONTROL, PIN_VIRTUAL_NMIS),
	     OR(CPU_BASED_VM_EXEC_CONTROL, CPU_NMI_WINDOW_EXITING)),
	CASE(virtual_apic_addr, OR(CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TPR_SHADOW),
	     SET(VIRTUAL_APIC_PAGE_ADDR, 0x5004)),
	CASE(tpr_threshold, OR(CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TPR_SHADOW),
	     SET(VIRTUAL_APIC_PAGE_ADDR, 0x5000), SET(TPR_THRESHOLD, 0x10)),
	CASE(apic_virt_needs_tpr_shadow, OR(SECONDARY_VM_EXEC_CONTROL, CPU2_APIC_REGISTER_VIRT)),
	CASE(x2apic_excludes_apic_access, OR(CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TPR_SHADOW),
	     SET(VIRTUAL_APIC_PAGE_ADDR, 0x5000),
	     OR(SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUALIZE_X2APIC | CPU2_VIRTUALIZE_APIC_ACCESSES),
	     SET(APIC_ACCESS_ADDR, 0x6000)),
	CASE(vid_needs_external_exiting, OR(CPU_BASED_VM_EXEC_CONTROL, CPU_USE_TPR_SHADOW),
	     SET(VIRTUAL_APIC_PAGE_ADDR, 0x5000), OR(SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUAL_INTR_DELIVERY)),
	CASE_IN(posted_interrupts, fix_allow_posted, OR(PIN_BASED_VM_EXEC_CONTROL, PIN_POSTED_INTERRUPTS)),
	CASE(apic_access_addr, OR(SECONDARY_VM_EXEC_CONTROL, CPU2_VIRTUALIZE_APIC_ACCESSES),
	     SET(APIC_ACCESS_ADDR, 0x6001)),
	CASE(vpid_nonzero, SET(VIRTUAL_PROCESSOR_ID, 0)),
	CASE(ept_memtype, SET(EPT_POINTER, (HV_EPTP & ~0x7ull) | 1)),
	CASE(ept_walk_length, SET(EPT_POINTER, (HV_EPTP & ~(uint64_t)EPTP_WALK_LENGTH_MASK) | (4u << 3))),
	CASE_IN(ept_ad, fix_no_ept_ad),
	CASE(ept_reserved, OR(EPT_POINTER, BIT(8))),
	CASE_IN(pml_needs_ept, fix_long_no_ept, OR(SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_PML),
		SET(PML_ADDRESS, 0x7000)),
	CASE(pml_addr, OR(SECONDARY_VM_EXEC_CONTROL, CPU2_ENABLE_PML), SET(PML_ADDRESS, 0x7001)),
	CASE_IN(unrestricted_guest_needs_ept, fix_long_no_ept_keep_ug),
	CASE_IN(mode_based_exec_needs_ept, fix_allow_mode_based,
		OR(SECONDARY_VM_EXEC_CONTROL, CPU2_MODE_BASED_EPT_EXEC)),
	/* 26.2.1.2 */
	CASE(exit_controls, CLR(VM_EXIT_CONTROLS, BIT(0))),
	CASE(exit_preemption_timer_save, OR(VM_EXIT_CONTROLS, EXIT_SAVE_PREEMPTION_TIMER)),
	CASE(exit_msr_store_addr, SET(VM_EXIT_MSR_STORE_COUNT, 1), SET(VM_EXIT_MSR_STORE_ADDR, 0x1008)),
	CASE(exit_msr_load_addr, SET(VM_EXIT_MSR_LOAD_COUNT, 2),
	     SET(VM_EXIT_MSR_LOAD_ADDR, ABOVE_MAXPHYADDR - 16)),
	/* 26.2.1.3 */
	CASE(entry_controls, CLR(VM_ENTRY_CONTROLS, BIT(0))),
	CASE(entry_smm_outside_smm, OR(VM_ENTRY_CONTROLS, ENTRY_DEACTIVATE_DUAL_MONITOR)),
	CASE(entry_msr_load_addr, SET(VM_ENTRY_MSR_LOAD_COUNT, 1), SET(VM_ENTRY_MSR_LOAD_ADDR, 0x1004)),
	CASE(entry_intr_type, SET(VM_ENTRY_INTR_INFO, INJECT(1u << 8, 0))),
	CASE(entry_intr_vector, SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_NMI, 3))),
	CASE(entry_intr_error_code, SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_HARD_EXCEPTION, 13))),
	CASE(entry_intr_reserved, SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_HARD_EXCEPTION, 3) | BIT(12))),
	CASE(entry_error_code_reserved,
	     SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_HARD_EXCEPTION, 13) | INTR_INFO_DELIVER_ERROR_CODE),
	     SET(VM_ENTRY_EXCEPTION_ERROR_CODE, 0x10000)),
	CASE(entry_instruction_length, SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_SOFT_EXCEPTION, 3)),
	     SET(VM_ENTRY_INSTRUCTION_LEN, 16)),
	/* 26.2.2 */
	CASE(host_cr0_fixed, CLR(HOST_CR0, CR0_NE)),
	CASE(host_cr4_fixed, CLR(HOST_CR4, CR4_VMXE)),
	CASE(host_cr3_reserved, OR(HOST_CR3, BIT(45))),
	CASE(host_sysenter_canonical, SET(HOST_IA32_SYSENTER_EIP, NONCANONICAL)),
	CASE(host_pat, SET(HOST_IA32_PAT, 0x0007040600070402ull)),
	CASE(host_efer_reserved, OR(HOST_IA32_EFER, BIT(9))),
	CASE(host_efer_lma_lme, CLR(HOST_IA32_EFER, EFER_LMA)),
	/* 26.2.3, 26.2.4 */
	CASE(host_selector_rpl_ti, SET(HOST_DS_SELECTOR, 0x13)),
	CASE(host_cs_nonzero, SET(HOST_CS_SELECTOR, 0)),
	CASE(host_tr_nonzero, SET(HOST_TR_SELECTOR, 0)),
	CASE_IN(host_ss_nonzero, fix_host32_cpu, SET(HOST_SS_SELECTOR, 0)),
	CASE(host_base_canonical, SET(HOST_GDTR_BASE, NONCANONICAL + 0x1000)),
	CASE_IN(host_address_space_size, fix_host32),
	CASE_IN(host_32bit_no_ia32e_guest, fix_long_host32_cpu),
	CASE(host_64bit_cr4_pae, CLR(HOST_CR4, CR4_PAE)),
	CASE(host_rip, SET(HOST_RIP, NONCANONICAL)),
	/* 26.3.1.1 */
	CASE(guest_cr0_fixed, CLR(GUEST_CR0, CR0_NE)),
	CASE(guest_cr0_pg_pe, SET(GUEST_CR0, CR0_PG | CR0_ET | CR0_NE)),
	CASE(guest_cr4_fixed, CLR(GUEST_CR4, CR4_VMXE)),
	CASE_IN(guest_ia32e_cr0_pg, mode_long, CLR(GUEST_CR0, CR0_PG)),
	CASE_IN(guest_ia32e_cr4_pae, mode_long, CLR(GUEST_CR4, CR4_PAE)),
	CASE(guest_cr4_pcide, OR(GUEST_CR4, CR4_PCIDE)),
	CASE(guest_cr3_reserved, SET(GUEST_CR3, ABOVE_MAXPHYADDR)),
	CASE(guest_debugctl_reserved, SET(GUEST_IA32_DEBUGCTL, BIT(3))),
	CASE(guest_dr7_high, SET(GUEST_DR7, 0x100000400ull)),
	CASE(guest_sysenter_canonical, SET(GUEST_SYSENTER_ESP, BIT(63))),
	CASE(guest_pat, SET(GUEST_IA32_PAT, 0x0007040600070408ull)),
	CASE(guest_efer_reserved, SET(GUEST_IA32_EFER, BIT(2))),
	CASE(guest_efer_lma, SET(GUEST_IA32_EFER, EFER_LMA)),
	CASE_IN(guest_efer_lme, mode_pae, SET(GUEST_IA32_EFER, EFER_LME)),
	/* 26.3.1.2 */
	CASE(guest_tr_ti, SET(GUEST_TR_SELECTOR, SEL_TI_VALUE)),
	CASE(guest_ldtr_ti, SET(GUEST_LDTR_AR_BYTES, AR_TYPE_LDT | AR_P),
	     SET(GUEST_LDTR_SELECTOR, SEL_TI_VALUE)),
	CASE_IN(guest_ss_rpl, mode_pae_restricted, SET(GUEST_CS_SELECTOR, 0x0B)),
	CASE_IN(guest_v86_base, mode_v86, SET(GUEST_DS_BASE, 1)),
	CASE_IN(guest_v86_limit, mode_v86, SET(GUEST_FS_LIMIT, 0xFFFFF)),
	CASE_IN(guest_v86_ar, mode_v86, SET(GUEST_GS_AR_BYTES, 0xF2)),
	CASE(guest_base_canonical, SET(GUEST_FS_BASE, NONCANONICAL)),
	CASE(guest_base_high, SET(GUEST_DS_BASE, BIT(32))),
	CASE(guest_cs_type, CLR(GUEST_CS_AR_BYTES, AR_TYPE_ACCESSED)),
	CASE(guest_ss_type, CLR(GUEST_SS_AR_BYTES, AR_TYPE_READABLE)),
	CASE(guest_data_seg_type, CLR(GUEST_DS_AR_BYTES, AR_TYPE_ACCESSED)),
	CASE(guest_seg_s, CLR(GUEST_ES_AR_BYTES, AR_S)),
	CASE(guest_cs_dpl, OR(GUEST_CS_AR_BYTES, AR_DPL(1))),
	CASE(guest_ss_dpl, SET(GUEST_CS_AR_BYTES, HV_DATA_AR), OR(GUEST_SS_AR_BYTES, AR_DPL(3))),
	CASE_IN(guest_data_seg_dpl, mode_pae_restricted, SET(GUEST_DS_SELECTOR, 0x13)),
	CASE(guest_seg_present, CLR(GUEST_GS_AR_BYTES, AR_P)),
	CASE(guest_seg_ar_reserved, OR(GUEST_FS_AR_BYTES, BIT(8))),
	CASE_IN(guest_cs_l_db, mode_long, OR(GUEST_CS_AR_BYTES, AR_DB)),
	CASE(guest_seg_granularity, SET(GUEST_DS_LIMIT, 0xFFFFF000)),
	CASE(guest_tr_type, SET(GUEST_TR_AR_BYTES, 0x9 | AR_P)),
	CASE(guest_sys_seg_s, OR(GUEST_TR_AR_BYTES, AR_S)),
	CASE(guest_tr_usable, OR(GUEST_TR_AR_BYTES, AR_UNUSABLE)),
	CASE(guest_ldtr_type, SET(GUEST_LDTR_AR_BYTES, AR_TYPE_TSS16_BUSY | AR_P)),
	/* 26.3.1.3, 26.3.1.4 */
	CASE(guest_dtr_base_canonical, SET(GUEST_IDTR_BASE, NONCANONICAL)),
	CASE(guest_dtr_limit, SET(GUEST_GDTR_LIMIT, 0x10000)),
	CASE(guest_rip_high, SET(GUEST_RIP, BIT(32))),
	CASE_IN(guest_rip_canonical, mode_long, SET(GUEST_RIP, NONCANONICAL)),
	CASE(guest_rflags_reserved, SET(GUEST_RFLAGS, 0)),
	CASE_IN(guest_rflags_vm, mode_v86, CLR(GUEST_CR0, CR0_PE)),
	CASE(guest_rflags_if, SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_EXTERNAL, 0x20))),
	/* 26.3.1.5 */
	CASE(guest_activity_state, SET(GUEST_ACTIVITY_STATE, 4)),
	CASE(guest_activity_hlt_dpl, SET(GUEST_ACTIVITY_STATE, ACTIVITY_HLT),
	     OR(GUEST_CS_AR_BYTES, AR_TYPE_CONFORMING), OR(GUEST_SS_AR_BYTES, AR_DPL(3))),
	CASE(guest_activity_blocking, SET(GUEST_ACTIVITY_STATE, ACTIVITY_HLT),
	     SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS)),
	CASE(guest_activity_event, SET(GUEST_ACTIVITY_STATE, ACTIVITY_SHUTDOWN),
	     SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_HARD_EXCEPTION, 3))),
	CASE(guest_intr_reserved, SET(GUEST_INTERRUPTIBILITY_INFO, BIT(5))),
	CASE(guest_intr_sti_movss,
	     SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS),
	     OR(GUEST_RFLAGS, RFLAGS_IF)),
	CASE(guest_intr_sti_if, SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_STI)),
	CASE(guest_intr_external, SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_EXTERNAL, 0x20)),
	     OR(GUEST_RFLAGS, RFLAGS_IF), SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS)),
	CASE(guest_intr_nmi_movss, SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_NMI, 2)),
	     SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS)),
	CASE(guest_intr_smi, SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_SMI)),
	CASE(guest_intr_vnmi, OR(PIN_BASED_VM_EXEC_CONTROL, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS),
	     SET(VM_ENTRY_INTR_INFO, INJECT(INTR_TYPE_NMI, 2)),
	     SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_NMI)),
	CASE(guest_pending_dbg_reserved, SET(GUEST_PENDING_DBG_EXCEPTIONS, BIT(4))),
	CASE(guest_pending_dbg_bs, SET(GUEST_INTERRUPTIBILITY_INFO, INTERRUPTIBILITY_MOV_SS),
	     OR(GUEST_RFLAGS, RFLAGS_TF_VALUE)),
	CASE(guest_vmcs_link, SET(VMCS_LINK_POINTER, 0x1234)),
	/* 26.3.1.6 */
	CASE_IN(guest_pdpte_reserved, mode_pae, SET(GUEST_PDPTE1, PDPTE_VALID(1) | BIT(1))),
	{"guest_pdpte_reserved_above_maxphyaddr",
	 "guest_pdpte_reserved",
	 mode_pae,
	 {SET(GUEST_PDPTE3, ABOVE_MAXPHYADDR | 1)}},
	{"guest_pdpte_reserved_in_memory", "guest_pdpte_reserved", mode_pae_no_ept_bad_memory, {}},
};

static void apply(const struct edit *e)
{
	uint64_t *v = &snap.value[e->field];
	switch (e->op) {
	case OP_NONE:
		break;
	case OP_SET:
		*v = e->value;
		break;
	case OP_OR:
		*v |= e->value;
		break;
	case OP_CLR:
		*v &= ~e->value;
		break;
	}
}

/* "rule@FIELD rule@FIELD ..." of a result, for messages. */
static const char *describe(const struct entry_check_result *r)
{
	static char buf[1024];
	size_t len = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < r->failed && i < ENTRY_CHECK_MAX_FAILURES && len < sizeof(buf); i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s@%s ",
					entry_check_rule_name(r->failures[i].rule),
					entry_check_field_name(r->failures[i].field));
	return buf;
}

static bool run(void)
{
	return entry_check_run(&snap, &caps, &result);
}

static void assert_passes(void (*mode)(void))
{
	base_image();
	if (mode)
		mode();
	bool ok = run();
	if (!ok)
		fail_msg("expected no failure, got %u: %s", result.failed, describe(&result));
	assert_int_equal(result.failed, 0);
	assert_true(result.rules > 0);
}

/* hapvisor's own image, and its variants in every guest mode, break no rule. */
static void test_baselines_pass(void **state)
{
	assert_passes(NULL);
	unsigned launch_rules = result.rules;
	assert_passes(mode_long);
	assert_passes(mode_pae);
	assert_passes(mode_pae_restricted);
	assert_passes(mode_pae_no_ept);
	assert_passes(mode_real);
	assert_passes(mode_v86);
	/* the rules that apply to hapvisor's image (a lane shows the same number from Bochs) */
	base_image();
	run();
	assert_int_equal(result.rules, launch_rules);
	print_message("hapvisor's launch image: %u rules apply, of %u\n", launch_rules,
		      (unsigned)EC_RULE_COUNT);
}

/* One rule broken: the checker names it, and only it. */
static void run_case(void **state)
{
	const struct rule_case *c = *state;
	base_image();
	if (c->setup)
		c->setup();
	for (size_t i = 0; i < ARRAY_SIZE(c->edits); i++)
		apply(&c->edits[i]);
	assert_false(run());
	bool named = false, others = false;
	for (unsigned i = 0; i < result.failed && i < ENTRY_CHECK_MAX_FAILURES; i++) {
		if (strcmp(entry_check_rule_name(result.failures[i].rule), c->rule) == 0)
			named = true;
		else
			others = true;
	}
	if (!named || others)
		fail_msg("case %s: expected only rule %s, got: %s", c->name, c->rule, describe(&result));
}

/* The error sentence and the structured lines, as docs/events.md shows them. */
static void test_report_lines(void **state)
{
	base_image();
	EC(&snap, GUEST_CR0) = CR0_PG | CR0_NE | CR0_ET; /* 0x80000030: paging without protection */
	host_console_reset();
	assert_false(run());
	entry_check_report(&result, "launch", 1234);
	char expect[512];
	snprintf(expect, sizeof(expect),
		 "hapvisor: error: VM-entry check failed: SDM 26.3.1.1: CR0.PG=1 requires CR0.PE=1 "
		 "(GUEST_CR0=0x80000030)\n"
		 "hapvisor: event=entry_check cpu=0 result=fail rule=guest_cr0_pg_pe section=26.3.1.1 "
		 "field=GUEST_CR0 "
		 "value=0x80000030 bad=0x0 when=launch\n"
		 "hapvisor: event=entry_check cpu=0 result=fail rules=%u failed=1 cycles=1234 when=launch\n",
		 result.rules);
	host_console_buf[host_console_len] = '\0';
	assert_string_equal(host_console_buf, expect);

	assert_passes(NULL);
	host_console_reset();
	entry_check_report(&result, "launch", 99);
	snprintf(expect, sizeof(expect),
		 "hapvisor: event=entry_check cpu=0 result=pass rules=%u failed=0 cycles=99 when=launch\n",
		 result.rules);
	host_console_buf[host_console_len] = '\0';
	assert_string_equal(host_console_buf, expect);
}

/* Every failure is reported, not only the first; past the record limit they are still counted. */
static void test_every_failure_reported(void **state)
{
	base_image();
	EC(&snap, VIRTUAL_PROCESSOR_ID) = 0;
	EC(&snap, HOST_CS_SELECTOR) = 0x0B;
	EC(&snap, GUEST_TR_AR_BYTES) = 0x9 | AR_P;
	assert_false(run());
	assert_int_equal(result.failed, 3);
	assert_int_equal(result.failures[0].rule, EC_RULE_vpid_nonzero);
	assert_int_equal(result.failures[1].rule, EC_RULE_host_selector_rpl_ti);
	assert_int_equal(result.failures[1].bad, 3);
	assert_int_equal(result.failures[2].rule, EC_RULE_guest_tr_type);

	base_image();
	memset(snap.value, 0xFF, sizeof(snap.value)); /* everything wrong */
	assert_false(run());
	assert_true(result.failed > ENTRY_CHECK_MAX_FAILURES);
	host_console_reset();
	entry_check_report(&result, "launch", 0);
	host_console_buf[host_console_len] = '\0';
	assert_non_null(strstr(host_console_buf, "more failures not shown"));
}

/* Every rule has a case above that breaks it. */
static void test_every_rule_has_a_case(void **state)
{
	for (unsigned r = 0; r < EC_RULE_COUNT; r++) {
		bool found = false;
		for (size_t i = 0; i < ARRAY_SIZE(cases) && !found; i++)
			found = strcmp(cases[i].rule, entry_check_rule_name((enum entry_check_rule)r)) == 0;
		if (!found)
			fail_msg("rule %s has no test case", entry_check_rule_name((enum entry_check_rule)r));
	}
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool known = false;
		for (unsigned r = 0; r < EC_RULE_COUNT && !known; r++)
			known = strcmp(cases[i].rule, entry_check_rule_name((enum entry_check_rule)r)) == 0;
		if (!known)
			fail_msg("case %s names no rule", cases[i].name);
	}
}

int main(void)
{
	static struct CMUnitTest rule_tests[ARRAY_SIZE(cases)];
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		rule_tests[i] = (struct CMUnitTest){
			.name = cases[i].name, .test_func = run_case, .initial_state = (void *)&cases[i]};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baselines_pass),
		cmocka_unit_test(test_report_lines),
		cmocka_unit_test(test_every_failure_reported),
		cmocka_unit_test(test_every_rule_has_a_case),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	failed +=
		_cmocka_run_group_tests("entry_check_rules", rule_tests, ARRAY_SIZE(rule_tests), NULL, NULL);
	return failed;
}
