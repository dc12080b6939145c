/* VMCS set-up (SDM Vol. 3C 25 "Virtual Machine Control Structures", 26.2-26.3 entry checks). */
#include "vmx/vmcs_setup.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/desc.h"
#include "arch/x86/percpu.h"
#include "lib/log.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/vmx_ops.h"

extern char vmx_exit_entry[];

#define PAT_POWER_ON_DEFAULT 0x0007040600070406ull /* SDM Vol. 3A 13.12.4 */
#define DR7_POWER_ON_DEFAULT 0x400ull
#define FLAT_LIMIT 0xFFFFFFFFu
#define GUEST_CS_SELECTOR_MB 0x08
#define GUEST_DS_SELECTOR_MB 0x10
#define REAL_MODE_TABLE_LIMIT 0xFFFF
#define VMCS_LINK_POINTER_NONE (~0ull)

/* Whether a control may be 1: its bit in the high half (allowed-1 settings) of the capability MSR. */
static bool allowed1_ctl(uint64_t cap, uint32_t bit)
{
	return ((cap >> 32) & bit) != 0;
}

/*
 * A control value the CPU accepts: the bits we want, plus the bits it requires (the allowed-0 settings,
 * low half of the capability MSR), restricted to the bits it allows (allowed-1, high half). `optional`
 * bits are taken only where allowed; a missing `required` bit is a refusal.
 */
static bool adjust(const char *what, uint64_t cap, uint32_t required, uint32_t optional, uint32_t *out)
{
	uint32_t must_be_1 = (uint32_t)cap;
	uint32_t may_be_1 = (uint32_t)(cap >> 32);
	uint32_t missing = required & ~may_be_1;
	if (missing) {
		log_error("this CPU's VT-x lacks %s control bits %#x that hapvisor needs", what, missing);
		return false;
	}
	*out = ((required | optional) & may_be_1) | must_be_1;
	return true;
}

/* Under shadow paging: CR0 bits hapvisor forces on, CR4 bits it owns, forces on or keeps off. */
#define SHADOW_CR0_FORCED (CR0_PE | CR0_PG | CR0_WP)
#define SHADOW_CR4_OWNED (CR4_PAE | CR4_PSE | CR4_PGE | CR4_SMEP | CR4_SMAP | CR4_LA57 | CR4_PCIDE | CR4_PKE)
#define SHADOW_CR4_FORCED CR4_PAE
#define SHADOW_CR4_CLEARED (CR4_PCIDE | CR4_PKE)

static bool shadow_paging; /* set by vmcs_setup() from its config */

uint64_t vmcs_cr0_host_owned(void)
{
	/* Bits VMX fixes to 1 (SDM Vol. 3D A.7), except PE and PG, which unrestricted guests own. */
	if (shadow_paging)
		return vmx_caps.cr0_fixed0 | SHADOW_CR0_FORCED;
	return vmx_caps.cr0_fixed0 & ~(CR0_PE | CR0_PG);
}

uint64_t vmcs_cr4_host_owned(void)
{
	return vmx_caps.cr4_fixed0 | (shadow_paging ? SHADOW_CR4_OWNED : 0); /* CR4.VMXE, and paging */
}

uint64_t vmcs_cr0_real(uint64_t guest)
{
	return guest | vmcs_cr0_host_owned(); /* every owned CR0 bit is forced on */
}

uint64_t vmcs_cr4_real(uint64_t guest)
{
	if (shadow_paging)
		guest = (guest & ~SHADOW_CR4_CLEARED) | SHADOW_CR4_FORCED;
	return guest | vmx_caps.cr4_fixed0;
}

uint64_t vmcs_efer_real(uint64_t guest)
{
	if (!shadow_paging)
		return guest;
	uint64_t lma = (guest & EFER_LMA) ? EFER_LME | EFER_LMA : 0; /* paging is always on: LME == LMA */
	return (guest & ~(EFER_LME | EFER_LMA)) | lma | (cpu_has_nx() ? EFER_NXE : 0);
}

bool vmcs_has_efer_fields(void)
{
	return allowed1_ctl(vmx_caps.entry, ENTRY_LOAD_IA32_EFER) ||
	       allowed1_ctl(vmx_caps.exit, EXIT_SAVE_IA32_EFER);
}

bool vmcs_has_pat_fields(void)
{
	return allowed1_ctl(vmx_caps.entry, ENTRY_LOAD_IA32_PAT) ||
	       allowed1_ctl(vmx_caps.exit, EXIT_SAVE_IA32_PAT);
}

static bool setup_controls(const struct vmcs_config *cfg)
{
	const struct vmx_caps *c = &vmx_caps;
	uint32_t pin, cpu, cpu2, exit, entry;

	/* Interrupts go straight to the guest: it owns the devices. NMIs exit, with virtual NMIs, so that
	 * hapvisor hands the guest each NMI, including those that arrive while hapvisor runs (vmx/events.h).
	 * The VMX-preemption timer only with a time limit (SDM Vol. 3C 25.5.1): it counts while the guest
	 * runs, and its value survives the guest's other exits because the exit control saves it. */
	uint32_t timer_pin = cfg->preemption_timer ? PIN_PREEMPTION_TIMER : 0;
	uint32_t timer_exit = cfg->preemption_timer ? EXIT_SAVE_PREEMPTION_TIMER : 0;
	if (!adjust("pin-based", c->pinbased, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS | timer_pin, 0, &pin))
		return false;
	/*
	 * Shadow paging (SDM Vol. 3C 26.1.3): every MOV to/from CR3 and INVLPG exits, and #PF (exception
	 * bitmap). No EPT, so no unrestricted guest either (SDM Vol. 3C 26.2.1.1). Secondary controls only
	 * for what is optional then. The guest's IA32_EFER is switched by the VMCS where the CPU can (EPT:
	 * required; shadow: else hapvisor keeps the physical EFER right itself, vmx/shadow_exit.c).
	 */
	uint32_t cpu_required =
		CPU_USE_IO_BITMAPS | CPU_USE_MSR_BITMAPS |
		(cfg->shadow ? CPU_CR3_LOAD_EXITING | CPU_CR3_STORE_EXITING | CPU_INVLPG_EXITING
			     : CPU_ACTIVATE_SECONDARY_CONTROLS);
	if (!adjust("processor-based", c->procbased, cpu_required, CPU_ACTIVATE_SECONDARY_CONTROLS, &cpu))
		return false;
	/* RDTSCP, INVPCID, XSAVES, TPAUSE would #UD in the guest unless enabled (SDM Vol. 3C 26.3). Shadow
	 * paging hides PCID, and INVPCID with it. */
	uint32_t cpu2_optional = CPU2_ENABLE_RDTSCP | (cfg->shadow ? 0 : CPU2_ENABLE_INVPCID) |
				 CPU2_ENABLE_XSAVES | CPU2_ENABLE_USER_WAIT_PAUSE |
				 (cfg->vpid ? CPU2_ENABLE_VPID : 0);
	uint32_t cpu2_required = cfg->shadow ? 0 : CPU2_ENABLE_EPT | CPU2_UNRESTRICTED_GUEST;
	cpu2 = 0;
	if ((cpu & CPU_ACTIVATE_SECONDARY_CONTROLS) &&
	    !adjust("secondary processor-based", c->procbased2, cpu2_required, cpu2_optional, &cpu2))
		return false;
	uint32_t efer_exit = EXIT_SAVE_IA32_EFER | EXIT_LOAD_IA32_EFER;
	if (!adjust("VM-exit", c->exit,
		    EXIT_HOST_ADDR_SPACE_SIZE | timer_exit | (cfg->shadow ? 0 : efer_exit),
		    EXIT_SAVE_IA32_PAT | EXIT_LOAD_IA32_PAT | EXIT_SAVE_DEBUG_CONTROLS |
			    (cfg->shadow ? efer_exit : 0),
		    &exit))
		return false;
	if (!adjust("VM-entry", c->entry, cfg->shadow ? 0 : ENTRY_LOAD_IA32_EFER,
		    ENTRY_LOAD_IA32_PAT | ENTRY_LOAD_DEBUG_CONTROLS |
			    (cfg->shadow ? ENTRY_LOAD_IA32_EFER : 0),
		    &entry))
		return false;
	entry &= ~(uint32_t)ENTRY_IA32E_MODE_GUEST; /* the guest starts in 32-bit protected mode */

	vmcs_write32(PIN_BASED_VM_EXEC_CONTROL, pin);
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, cpu);
	if (cpu & CPU_ACTIVATE_SECONDARY_CONTROLS)
		vmcs_write32(SECONDARY_VM_EXEC_CONTROL, cpu2);
	vmcs_write32(VM_EXIT_CONTROLS, exit);
	vmcs_write32(VM_ENTRY_CONTROLS, entry);
	vmcs_write32(EXCEPTION_BITMAP, cfg->shadow ? BIT(EXC_PF) : 0); /* every guest #PF (mask, match 0) */
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write32(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write32(CR3_TARGET_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write32(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write32(VM_ENTRY_INTR_INFO, 0);
	vmcs_write64(IO_BITMAP_A, cfg->io_bitmap_a);
	vmcs_write64(IO_BITMAP_B, cfg->io_bitmap_b);
	vmcs_write64(MSR_BITMAP, cfg->msr_bitmap);
	if (cpu2 & CPU2_ENABLE_EPT)
		vmcs_write64(EPT_POINTER, cfg->eptp);
	if (cpu2 & CPU2_ENABLE_VPID)
		vmcs_write16(VIRTUAL_PROCESSOR_ID, cfg->vpid);
	if (cpu & CPU_USE_TSC_OFFSETTING)
		vmcs_write64(TSC_OFFSET, 0);
	vmcs_writenat(CR0_GUEST_HOST_MASK, vmcs_cr0_host_owned());
	vmcs_writenat(CR4_GUEST_HOST_MASK, vmcs_cr4_host_owned());
	log_event("vmcs_controls pin=%#x cpu=%#x cpu2=%#x exit=%#x entry=%#x", pin, cpu, cpu2, exit, entry);
	return true;
}

/* Host state (SDM Vol. 3C 25.5, checked by 26.2.2-26.2.4): what the CPU loads on every VM exit. */
static void setup_host(void)
{
	struct desc_ptr gdtr = read_gdtr(), idtr = read_idtr();

	vmcs_writenat(HOST_CR0, read_cr0());
	vmcs_writenat(HOST_CR3, read_cr3());
	vmcs_writenat(HOST_CR4, read_cr4());
	vmcs_write16(HOST_CS_SELECTOR, GDT_SEL_CODE);
	vmcs_write16(HOST_SS_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(HOST_DS_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(HOST_ES_SELECTOR, GDT_SEL_DATA);
	vmcs_write16(HOST_FS_SELECTOR, 0);
	vmcs_write16(HOST_GS_SELECTOR, 0);
	vmcs_write16(HOST_TR_SELECTOR, GDT_SEL_TSS);
	vmcs_writenat(HOST_FS_BASE, 0);
	vmcs_writenat(HOST_GS_BASE, (uint64_t)(uintptr_t)this_cpu()); /* per-CPU data (arch/x86/percpu.h) */
	vmcs_writenat(HOST_TR_BASE, tss_base());
	vmcs_writenat(HOST_GDTR_BASE, gdtr.base);
	vmcs_writenat(HOST_IDTR_BASE, idtr.base);
	vmcs_write32(HOST_IA32_SYSENTER_CS, 0);
	vmcs_writenat(HOST_IA32_SYSENTER_ESP, 0);
	vmcs_writenat(HOST_IA32_SYSENTER_EIP, 0);
	if (vmcs_has_efer_fields())
		vmcs_write64(HOST_IA32_EFER, rdmsr(MSR_IA32_EFER));
	if (vmcs_has_pat_fields())
		vmcs_write64(HOST_IA32_PAT, rdmsr(MSR_IA32_PAT));
	vmcs_writenat(HOST_RIP, (uint64_t)(uintptr_t)vmx_exit_entry);
	/* HOST_RSP is written by vmx_enter() on every entry. */
}

static void setup_segment(enum vmcs_field sel, enum vmcs_field base, enum vmcs_field limit,
			  enum vmcs_field ar, uint16_t selector, uint32_t access)
{
	vmcs_write_raw(sel, selector);
	vmcs_write_raw(base, 0);
	vmcs_write_raw(limit, FLAT_LIMIT);
	vmcs_write_raw(ar, access);
}

/*
 * The Multiboot i386 machine state (Multiboot2 spec 3.3, Multiboot 0.6.96 3.2) as guest state; the Linux
 * 32-bit boot protocol differs only in its selectors and GDT (cfg), whose descriptors match these flat ones.
 */
/*
 * The guest registers that are the same at a Multiboot/Linux entry and after INIT (SDM Vol. 3A Table 10-1):
 * RSP 0, RFLAGS only its fixed bit, EFER 0, the power-on PAT, DEBUGCTL and SYSENTER 0, no interruptibility
 * blocking, no pending debug exceptions.
 */
static void write_reset_registers(void)
{
	vmcs_writenat(GUEST_RSP, 0);
	vmcs_writenat(GUEST_RFLAGS, RFLAGS_FIXED);
	if (vmcs_has_efer_fields()) /* shadow paging: NXE, which its shadow entries use (vmcs_efer_real) */
		vmcs_write64(GUEST_IA32_EFER, shadow_paging ? vmcs_efer_real(0) : 0);
	if (vmcs_has_pat_fields())
		vmcs_write64(GUEST_IA32_PAT, PAT_POWER_ON_DEFAULT);
	vmcs_write64(GUEST_IA32_DEBUGCTL, 0);
	vmcs_write32(GUEST_SYSENTER_CS, 0);
	vmcs_writenat(GUEST_SYSENTER_ESP, 0);
	vmcs_writenat(GUEST_SYSENTER_EIP, 0);
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_writenat(GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

static void setup_guest(const struct vmcs_config *cfg)
{
	uint32_t code = AR_TYPE_CODE_RX_ACCESSED | AR_S | AR_P | AR_DB | AR_G;
	uint32_t data = AR_TYPE_DATA_RW_ACCESSED | AR_S | AR_P | AR_DB | AR_G;
	uint64_t cr0 = CR0_PE | CR0_ET | CR0_NE;
	uint16_t cs = cfg->cs_sel ? cfg->cs_sel : GUEST_CS_SELECTOR_MB;
	uint16_t ds = cfg->ds_sel ? cfg->ds_sel : GUEST_DS_SELECTOR_MB;

	vmcs_writenat(GUEST_CR0, vmcs_cr0_real(cr0));
	vmcs_writenat(CR0_READ_SHADOW, cr0);
	vmcs_writenat(GUEST_CR3, cfg->shadow ? cfg->guest_cr3 : 0);
	vmcs_writenat(GUEST_CR4, vmcs_cr4_real(0));
	vmcs_writenat(CR4_READ_SHADOW, 0);
	vmcs_writenat(GUEST_DR7, DR7_POWER_ON_DEFAULT);

	setup_segment(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, cs, code);
	setup_segment(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, ds, data);
	setup_segment(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, ds, data);
	setup_segment(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, ds, data);
	setup_segment(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, ds, data);
	setup_segment(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, ds, data);
	/* TR must be a usable busy TSS even when the guest never uses it (SDM Vol. 3C 26.3.1.2). */
	vmcs_write16(GUEST_TR_SELECTOR, 0);
	vmcs_writenat(GUEST_TR_BASE, 0);
	vmcs_write32(GUEST_TR_LIMIT, REAL_MODE_TABLE_LIMIT);
	vmcs_write32(GUEST_TR_AR_BYTES, AR_TYPE_TSS32_BUSY | AR_P);
	vmcs_write16(GUEST_LDTR_SELECTOR, 0);
	vmcs_writenat(GUEST_LDTR_BASE, 0);
	vmcs_write32(GUEST_LDTR_LIMIT, 0);
	vmcs_write32(GUEST_LDTR_AR_BYTES, AR_UNUSABLE);
	/* GDTR and IDTR are undefined for a Multiboot kernel: an empty real-mode-sized table. */
	vmcs_writenat(GUEST_GDTR_BASE, cfg->gdtr_limit ? cfg->gdtr_base : 0);
	vmcs_write32(GUEST_GDTR_LIMIT, cfg->gdtr_limit ? cfg->gdtr_limit : REAL_MODE_TABLE_LIMIT);
	vmcs_writenat(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, REAL_MODE_TABLE_LIMIT);

	vmcs_writenat(GUEST_RIP, cfg->entry_eip);
	write_reset_registers();
	vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	vmcs_write64(VMCS_LINK_POINTER, VMCS_LINK_POINTER_NONE);
}

bool vmcs_setup(const struct vmcs_config *cfg)
{
	shadow_paging = cfg->shadow;
	if (!setup_controls(cfg))
		return false;
	setup_host();
	setup_guest(cfg);
	return true;
}

/* Processor state after INIT (SDM Vol. 3A 10.1.1, Table 10-1 "IA-32 and Intel 64 Processor States
 * Following Power-up, Reset, or INIT"). */
#define INIT_CR0 (CR0_CD | CR0_NW | CR0_ET)
#define INIT_CS_SELECTOR 0xF000
#define INIT_CS_BASE 0xFFFF0000ull
#define INIT_RIP 0xFFF0
#define REAL_MODE_SEGMENT_LIMIT 0xFFFF

/* A real-mode segment: base = selector << 4 for the data segments, read/write (code: execute/read). */
static void init_segment(enum vmcs_field sel, enum vmcs_field base, enum vmcs_field limit, enum vmcs_field ar,
			 uint16_t selector, uint64_t seg_base, uint32_t type)
{
	vmcs_write_raw(sel, selector);
	vmcs_write_raw(base, seg_base);
	vmcs_write_raw(limit, REAL_MODE_SEGMENT_LIMIT);
	vmcs_write_raw(ar, type | AR_S | AR_P);
}

void vmcs_guest_init_state(void)
{
	uint32_t data = AR_TYPE_DATA_RW_ACCESSED, code = AR_TYPE_CODE_RX_ACCESSED;

	/* Unrestricted guest: CR0.PE and PG may be 0; NE stays host-owned (1), the shadow shows the INIT
	 * value. */
	vmcs_writenat(GUEST_CR0, INIT_CR0 | vmcs_cr0_host_owned());
	vmcs_writenat(CR0_READ_SHADOW, INIT_CR0);
	vmcs_writenat(GUEST_CR3, 0);
	vmcs_writenat(GUEST_CR4, vmx_caps.cr4_fixed0);
	vmcs_writenat(CR4_READ_SHADOW, 0);
	vmcs_writenat(GUEST_DR7, DR7_POWER_ON_DEFAULT);
	init_segment(GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES, INIT_CS_SELECTOR,
		     INIT_CS_BASE, code);
	init_segment(GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES, 0, 0, data);
	init_segment(GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES, 0, 0, data);
	init_segment(GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES, 0, 0, data);
	init_segment(GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES, 0, 0, data);
	init_segment(GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES, 0, 0, data);
	vmcs_write16(GUEST_TR_SELECTOR, 0);
	vmcs_writenat(GUEST_TR_BASE, 0);
	vmcs_write32(GUEST_TR_LIMIT, REAL_MODE_TABLE_LIMIT);
	vmcs_write32(GUEST_TR_AR_BYTES, AR_TYPE_TSS32_BUSY | AR_P);
	vmcs_write16(GUEST_LDTR_SELECTOR, 0);
	vmcs_writenat(GUEST_LDTR_BASE, 0);
	vmcs_write32(GUEST_LDTR_LIMIT, REAL_MODE_TABLE_LIMIT);
	vmcs_write32(GUEST_LDTR_AR_BYTES, AR_TYPE_LDT | AR_P);
	vmcs_writenat(GUEST_GDTR_BASE, 0);
	vmcs_write32(GUEST_GDTR_LIMIT, REAL_MODE_TABLE_LIMIT);
	vmcs_writenat(GUEST_IDTR_BASE, 0);
	vmcs_write32(GUEST_IDTR_LIMIT, REAL_MODE_TABLE_LIMIT);
	vmcs_writenat(GUEST_RIP, INIT_RIP);
	write_reset_registers();
	vmcs_write32(VM_ENTRY_INTR_INFO, 0);
	vmcs_write32(VM_ENTRY_CONTROLS, vmcs_read32(VM_ENTRY_CONTROLS) & ~(uint32_t)ENTRY_IA32E_MODE_GUEST);
	/* SDM Vol. 3C 25.4.2: the CPU waits for a start-up IPI; the SIPI exit (vmx/exit_misc.c) ends that. */
	vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_SIPI);
}

bool vmcs_wait_for_sipi_supported(void)
{
	return (vmx_caps.misc & VMX_MISC_ACTIVITY_WAIT_SIPI) != 0;
}
