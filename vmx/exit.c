/* VM-exit dispatch by basic exit reason, and the guest-state dump. */
#include "vmx/exit.h"
#include "arch/x86/cpu.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "vmx/controls.h"
#include "vmx/ept.h"
#include "vmx/gwalk.h"
#include "vmx/vmcs_setup.h"
#include "vmx/vmx_ops.h"
#include "vmx/walk2d_glue.h"

#define AR_DPL(ar) (((ar)&AR_DPL_MASK) >> AR_DPL_SHIFT)

/* Whether a reason's exits carry an exit qualification (SDM Vol. 3C 28.2.1; those without read none). */
#define QUAL false
#define NO_QUAL true
#define EXIT(reason, handler, no_qualification) [EXIT_REASON_##reason] = {handler, no_qualification, #reason}

/* Every basic exit reason hapvisor knows by name; those with a handler are the exits it provokes or must
 * handle (docs/architecture.md, "What exits"). Every other reason goes to exit_unknown(). */
const struct exit_desc exit_table[EXIT_REASON_MAX] = {
	EXIT(EXCEPTION_NMI, exit_exception_nmi, QUAL),
	EXIT(EXTERNAL_INTERRUPT, NULL, QUAL),
	EXIT(TRIPLE_FAULT, exit_triple_fault, QUAL),
	EXIT(INIT, exit_init_signal, QUAL),
	EXIT(SIPI, exit_sipi, QUAL),
	EXIT(INTERRUPT_WINDOW, NULL, QUAL),
	EXIT(NMI_WINDOW, exit_nmi_window, QUAL),
	EXIT(TASK_SWITCH, NULL, QUAL),
	EXIT(CPUID, exit_cpuid, NO_QUAL),
	EXIT(GETSEC, exit_vmx_instruction, QUAL),
	EXIT(HLT, NULL, QUAL),
	EXIT(INVD, exit_invd, NO_QUAL),
	EXIT(INVLPG, exit_invlpg, QUAL),
	EXIT(RDPMC, NULL, QUAL),
	EXIT(RDTSC, NULL, QUAL),
	EXIT(RSM, NULL, QUAL),
	EXIT(VMCALL, exit_vmcall, NO_QUAL),
	EXIT(VMCLEAR, exit_vmx_instruction, QUAL),
	EXIT(VMLAUNCH, exit_vmx_instruction, QUAL),
	EXIT(VMPTRLD, exit_vmx_instruction, QUAL),
	EXIT(VMPTRST, exit_vmx_instruction, QUAL),
	EXIT(VMREAD, exit_vmx_instruction, QUAL),
	EXIT(VMRESUME, exit_vmx_instruction, QUAL),
	EXIT(VMWRITE, exit_vmx_instruction, QUAL),
	EXIT(VMXOFF, exit_vmx_instruction, QUAL),
	EXIT(VMXON, exit_vmx_instruction, QUAL),
	EXIT(CR_ACCESS, exit_cr_access, QUAL),
	EXIT(DR_ACCESS, NULL, QUAL),
	EXIT(IO_INSTRUCTION, exit_io, QUAL),
	EXIT(RDMSR, exit_rdmsr, NO_QUAL),
	EXIT(WRMSR, exit_wrmsr, NO_QUAL),
	EXIT(INVALID_GUEST_STATE, NULL, QUAL),
	EXIT(MSR_LOADING, NULL, QUAL),
	EXIT(MWAIT, NULL, QUAL),
	EXIT(MONITOR_TRAP_FLAG, NULL, QUAL),
	EXIT(MONITOR, NULL, QUAL),
	EXIT(PAUSE, NULL, QUAL),
	EXIT(MACHINE_CHECK, NULL, QUAL),
	EXIT(TPR_BELOW_THRESHOLD, NULL, QUAL),
	EXIT(APIC_ACCESS, NULL, QUAL),
	EXIT(GDTR_IDTR, NULL, QUAL),
	EXIT(LDTR_TR, NULL, QUAL),
	EXIT(EPT_VIOLATION, exit_ept_violation, QUAL),
	EXIT(EPT_MISCONFIG, exit_ept_misconfig, QUAL),
	EXIT(INVEPT, exit_vmx_instruction, QUAL),
	EXIT(RDTSCP, NULL, QUAL),
	EXIT(PREEMPTION_TIMER, exit_preemption_timer, QUAL),
	EXIT(INVVPID, exit_vmx_instruction, QUAL),
	EXIT(WBINVD, NULL, QUAL),
	EXIT(XSETBV, exit_xsetbv, NO_QUAL),
	EXIT(RDRAND, NULL, QUAL),
	EXIT(INVPCID, NULL, QUAL),
	EXIT(VMFUNC, exit_vmx_instruction, QUAL),
	EXIT(ENCLS, NULL, QUAL),
	EXIT(RDSEED, NULL, QUAL),
	EXIT(PML_FULL, exit_pml_full, QUAL),
	EXIT(XSAVES, NULL, QUAL),
	EXIT(XRSTORS, NULL, QUAL),
};

const char *exit_reason_name(uint32_t basic)
{
	const char *name = exit_desc(basic)->name;
	return name ? name : "unknown";
}

void exit_dispatch(struct vcpu *v)
{
	exit_handler_fn *h = exit_desc(EXIT_REASON_BASIC(v->exit_reason))->handler;
	(h ? h : exit_unknown)(v);
}

void vcpu_skip_instruction(struct vcpu *v)
{
	uint64_t len = vmcs_read32(VM_EXIT_INSTRUCTION_LEN);
	uint64_t rip = vmcs_readnat(GUEST_RIP) + len;
	if ((rip >> 32) && !vcpu_long_mode()) /* EIP wraps at 4 GiB outside 64-bit mode */
		rip &= 0xFFFFFFFFu;
	vmcs_writenat(GUEST_RIP, rip);
	uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	if (intr & (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS))
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
			     intr & ~(uint32_t)(INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS));
}

void vcpu_stop(struct vcpu *v, int status, const char *reason)
{
	v->state = VCPU_STOPPED;
	v->stop_status = status;
	v->stop_reason = reason;
}

unsigned vcpu_cpl(void)
{
	return AR_DPL(vmcs_read32(GUEST_SS_AR_BYTES));
}

bool vcpu_long_mode(void)
{
	/* IA32_EFER.LMA is the "IA-32e mode guest" entry control, which hapvisor keeps in step with it. */
	return (vmcs_read32(GUEST_CS_AR_BYTES) & AR_L) &&
	       (vmcs_read32(VM_ENTRY_CONTROLS) & ENTRY_IA32E_MODE_GUEST);
}

uint64_t vcpu_guest_cr0(void)
{
	uint64_t mask = vmcs_cr0_host_owned();
	return (vmcs_readnat(GUEST_CR0) & ~mask) | (vmcs_readnat(CR0_READ_SHADOW) & mask);
}

uint64_t vcpu_guest_cr4(void)
{
	uint64_t mask = vmcs_cr4_host_owned();
	return (vmcs_readnat(GUEST_CR4) & ~mask) | (vmcs_readnat(CR4_READ_SHADOW) & mask);
}

uint64_t vcpu_guest_efer(const struct vcpu *v)
{
	return v->shadow ? v->paging.efer : vmcs_read64(GUEST_IA32_EFER);
}

bool vcpu_guest_paging(const struct vcpu *v, struct gwalk_cpu *cpu, uint64_t pdptes[VCPU_PAE_PDPTES])
{
	*cpu = (struct gwalk_cpu){
		.cr0 = vcpu_guest_cr0(),
		.cr3 = v->shadow ? v->paging.cr3 : vmcs_readnat(GUEST_CR3),
		.cr4 = vcpu_guest_cr4(),
		.efer = vcpu_guest_efer(v),
		.cpl = vcpu_cpl(),
		.rflags = vmcs_readnat(GUEST_RFLAGS),
	};
	bool pae = gwalk_mode_of(cpu) == GWALK_MODE_PAE;
	if (pdptes && pae && v->shadow) {
		memcpy(pdptes, v->paging.pdptes, VCPU_PAE_PDPTES * sizeof(uint64_t));
	} else if (pdptes && pae) {
		pdptes[0] = vmcs_read64(GUEST_PDPTE0);
		pdptes[1] = vmcs_read64(GUEST_PDPTE1);
		pdptes[2] = vmcs_read64(GUEST_PDPTE2);
		pdptes[3] = vmcs_read64(GUEST_PDPTE3);
	}
	return pae;
}

static const char *hc_access_name(unsigned access)
{
	return (access & HC_ACCESS_FETCH) ? "fetch" : (access & HC_ACCESS_WRITE) ? "write" : "read";
}

void vcpu_report_breach(const struct vcpu *v, const char *paging, uint64_t gpa, unsigned access, uint64_t gla,
			bool gla_valid, bool translation)
{
	uint64_t rip = vmcs_readnat(GUEST_RIP);
	log_error(
		"isolation breach: guest %s of physical address %#llx (hapvisor's memory) at guest rip %#llx%s",
		hc_access_name(access), (unsigned long long)gpa, (unsigned long long)rip,
		translation ? "" : ", while the CPU walked the guest's own page tables");
	log_event(
		"isolation_breach cpu=%u paging=%s gpa=%#llx access=%s gla=%#llx gla_valid=%d translation=%d rip=%#llx",
		v->cpu, paging, (unsigned long long)gpa, hc_access_name(access), (unsigned long long)gla,
		gla_valid, translation, (unsigned long long)rip);
	if (gla_valid)
		walk2d_report_guest(v, gla, access, NULL);
	vcpu_dump(v, "isolation breach");
}

uint64_t vcpu_arg(const struct vcpu *v, enum gpr r)
{
	uint64_t value = v->regs.gpr[r];
	return vcpu_long_mode() ? value : (value & 0xFFFFFFFFu);
}

static void dump_segment(const char *name, enum vmcs_field sel, enum vmcs_field base, enum vmcs_field limit,
			 enum vmcs_field ar)
{
	log_raw("  %s sel=%#06llx base=%#018llx limit=%#010llx ar=%#06llx\n", name,
		(unsigned long long)vmcs_read_raw(sel), (unsigned long long)vmcs_read_raw(base),
		(unsigned long long)vmcs_read_raw(limit), (unsigned long long)vmcs_read_raw(ar));
}

#define CODE_BYTES 16 /* of the guest's code at RIP in a dump */

/*
 * The bytes at the guest's RIP, as a walk found them (w: the 2D walk of RIP): up to CODE_BYTES, not past
 * the end of the page, and only from the guest's RAM (never hapvisor's memory, never a device).
 */
static void dump_code(uint64_t rip, const struct hc_walk *w)
{
	uint64_t n = MIN((uint64_t)CODE_BYTES, PAGE_SIZE - (w->gpa & (PAGE_SIZE - 1)));
	if (w->fault || !guest_mem_is_ram(w->gpa, n)) {
		log_raw("  code at rip: not readable (%s)\n", w->fault ? "no translation" : "not guest RAM");
		return;
	}
	const uint8_t *code = phys_to_virt(w->gpa);
	char hex[2 * CODE_BYTES + 1];
	log_raw("  code at rip:");
	for (uint64_t i = 0; i < n; i++) {
		log_raw(" %02x", code[i]);
		fmt_snprintf(hex + 2 * i, 3, "%02x", code[i]);
	}
	log_raw("\n");
	log_event("guest_code rip=%#llx gpa=%#llx bytes=%s", (unsigned long long)rip,
		  (unsigned long long)w->gpa, hex);
}

void vcpu_dump(const struct vcpu *v, const char *why)
{
	static const char *const names[GPR_COUNT] = {"rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
						     "r8",  "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
	uint32_t basic = EXIT_REASON_BASIC(v->exit_reason);
	log_error("guest state (%s) on CPU %u: exit reason %u (%s)%s, qualification %#llx", why, v->cpu,
		  basic, exit_reason_name(basic),
		  (v->exit_reason & EXIT_REASON_ENTRY_FAILURE) ? " [VM-entry failure]" : "",
		  (unsigned long long)v->exit_qualification);
	log_raw("  rip=%#018llx rsp=%#018llx rflags=%#llx cpl=%u long_mode=%d\n",
		(unsigned long long)vmcs_readnat(GUEST_RIP), (unsigned long long)vmcs_readnat(GUEST_RSP),
		(unsigned long long)vmcs_readnat(GUEST_RFLAGS), vcpu_cpl(), vcpu_long_mode());
	for (unsigned i = 0; i < GPR_COUNT; i++) {
		if (i == GPR_RSP)
			continue;
		log_raw("  %-3s=%#018llx%s", names[i], (unsigned long long)v->regs.gpr[i],
			(i % 4 == 3) ? "\n" : "");
	}
	log_raw("\n  cr0=%#llx (shadow %#llx) cr3=%#llx cr4=%#llx (shadow %#llx) efer=%#llx\n",
		(unsigned long long)vmcs_readnat(GUEST_CR0),
		(unsigned long long)vmcs_readnat(CR0_READ_SHADOW),
		(unsigned long long)vmcs_readnat(GUEST_CR3), (unsigned long long)vmcs_readnat(GUEST_CR4),
		(unsigned long long)vmcs_readnat(CR4_READ_SHADOW),
		(unsigned long long)(vmcs_has_efer_fields() ? vmcs_read64(GUEST_IA32_EFER) : 0));
	if (v->shadow)
		log_raw("  paging=shadow: the guest's own cr3=%#llx efer=%#llx (the VMCS holds hapvisor's)\n",
			(unsigned long long)v->paging.cr3, (unsigned long long)v->paging.efer);
	dump_segment("cs", GUEST_CS_SELECTOR, GUEST_CS_BASE, GUEST_CS_LIMIT, GUEST_CS_AR_BYTES);
	dump_segment("ss", GUEST_SS_SELECTOR, GUEST_SS_BASE, GUEST_SS_LIMIT, GUEST_SS_AR_BYTES);
	dump_segment("ds", GUEST_DS_SELECTOR, GUEST_DS_BASE, GUEST_DS_LIMIT, GUEST_DS_AR_BYTES);
	dump_segment("es", GUEST_ES_SELECTOR, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_AR_BYTES);
	dump_segment("fs", GUEST_FS_SELECTOR, GUEST_FS_BASE, GUEST_FS_LIMIT, GUEST_FS_AR_BYTES);
	dump_segment("gs", GUEST_GS_SELECTOR, GUEST_GS_BASE, GUEST_GS_LIMIT, GUEST_GS_AR_BYTES);
	dump_segment("tr", GUEST_TR_SELECTOR, GUEST_TR_BASE, GUEST_TR_LIMIT, GUEST_TR_AR_BYTES);
	dump_segment("ldtr", GUEST_LDTR_SELECTOR, GUEST_LDTR_BASE, GUEST_LDTR_LIMIT, GUEST_LDTR_AR_BYTES);
	log_raw("  gdtr=%#llx/%#llx idtr=%#llx/%#llx activity=%u interruptibility=%#x\n",
		(unsigned long long)vmcs_readnat(GUEST_GDTR_BASE),
		(unsigned long long)vmcs_read32(GUEST_GDTR_LIMIT),
		(unsigned long long)vmcs_readnat(GUEST_IDTR_BASE),
		(unsigned long long)vmcs_read32(GUEST_IDTR_LIMIT), vmcs_read32(GUEST_ACTIVITY_STATE),
		vmcs_read32(GUEST_INTERRUPTIBILITY_INFO));
	/* The guest-physical-address field exists only on CPUs with EPT (SDM Vol. 3C 25.9.1). */
	char gpa[32] = "";
	if (!v->shadow)
		fmt_snprintf(gpa, sizeof(gpa), " gpa=%#llx",
			     (unsigned long long)vmcs_read64(GUEST_PHYSICAL_ADDRESS));
	log_raw("  exit: intr_info=%#x intr_error=%#x idt_vectoring=%#x insn_len=%u%s gla=%#llx\n",
		vmcs_read32(VM_EXIT_INTR_INFO), vmcs_read32(VM_EXIT_INTR_ERROR_CODE),
		vmcs_read32(IDT_VECTORING_INFO), vmcs_read32(VM_EXIT_INSTRUCTION_LEN), gpa,
		(unsigned long long)vmcs_readnat(GUEST_LINEAR_ADDRESS));
	log_raw("  guest rip and stack through the guest's page tables%s:\n",
		v->shadow ? " (no EPT: shadow paging)" : " and the EPT");
	struct hc_walk rip_walk;
	if (walk2d_report_guest(v, vmcs_readnat(GUEST_RIP), HC_ACCESS_FETCH, &rip_walk))
		dump_code(vmcs_readnat(GUEST_RIP), &rip_walk);
	walk2d_report_guest(v, vmcs_readnat(GUEST_RSP), HC_ACCESS_READ, NULL);
	log_event("guest_dump reason=%u name=%s qualification=%#llx rip=%#llx cr0=%#llx cr3=%#llx cr4=%#llx",
		  basic, exit_reason_name(basic), (unsigned long long)v->exit_qualification,
		  (unsigned long long)vmcs_readnat(GUEST_RIP), (unsigned long long)vmcs_readnat(GUEST_CR0),
		  (unsigned long long)vmcs_readnat(GUEST_CR3), (unsigned long long)vmcs_readnat(GUEST_CR4));
}

void exit_unknown(struct vcpu *v)
{
	vcpu_dump(v, "unexpected VM exit");
	vcpu_stop(v, 1, "unexpected VM exit");
}
