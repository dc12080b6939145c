/*
 * The VM-entry checker: the checks a CPU makes on VMLAUNCH/VMRESUME (SDM Vol. 3C 26.2 "Checks on VMX
 * Controls and Host-State Area", 26.3.1 "Checks on the Guest State Area"), done in software over a
 * snapshot of the VMCS, so that "invalid guest state" or "invalid control field(s)" becomes the name of
 * the rule that is broken, its SDM section and the field's value.
 *
 * The checker itself (entry_check.c) reads nothing from the CPU: it takes a struct vmcs_snapshot and a
 * struct entry_check_caps, which hapvisor fills with VMREAD and the capability MSRs
 * (entry_check_vmcs.c) and the host unit tests fill by hand (tests/unit/test_entry_check.c).
 */
#ifndef HV_VMX_ENTRY_CHECK_H
#define HV_VMX_ENTRY_CHECK_H

#include "arch/x86/pgtable_types.h"
#include "lib/types.h"
#include "vmx/vmcs.h"

/* The VMCS fields the checker reads, in snapshot order (names from vmx/vmcs.h). */
#define ENTRY_CHECK_FIELDS(X)                                                                                \
	X(PIN_BASED_VM_EXEC_CONTROL)                                                                         \
	X(CPU_BASED_VM_EXEC_CONTROL)                                                                         \
	X(SECONDARY_VM_EXEC_CONTROL)                                                                         \
	X(VM_EXIT_CONTROLS)                                                                                  \
	X(VM_ENTRY_CONTROLS)                                                                                 \
	X(CR3_TARGET_COUNT)                                                                                  \
	X(IO_BITMAP_A)                                                                                       \
	X(IO_BITMAP_B)                                                                                       \
	X(MSR_BITMAP)                                                                                        \
	X(VIRTUAL_APIC_PAGE_ADDR)                                                                            \
	X(APIC_ACCESS_ADDR)                                                                                  \
	X(TPR_THRESHOLD)                                                                                     \
	X(EPT_POINTER)                                                                                       \
	X(VIRTUAL_PROCESSOR_ID)                                                                              \
	X(PML_ADDRESS)                                                                                       \
	X(VM_EXIT_MSR_STORE_COUNT)                                                                           \
	X(VM_EXIT_MSR_STORE_ADDR)                                                                            \
	X(VM_EXIT_MSR_LOAD_COUNT)                                                                            \
	X(VM_EXIT_MSR_LOAD_ADDR)                                                                             \
	X(VM_ENTRY_MSR_LOAD_COUNT)                                                                           \
	X(VM_ENTRY_MSR_LOAD_ADDR)                                                                            \
	X(VM_ENTRY_INTR_INFO)                                                                                \
	X(VM_ENTRY_EXCEPTION_ERROR_CODE)                                                                     \
	X(VM_ENTRY_INSTRUCTION_LEN)                                                                          \
	X(HOST_CR0)                                                                                          \
	X(HOST_CR3)                                                                                          \
	X(HOST_CR4)                                                                                          \
	X(HOST_IA32_SYSENTER_ESP)                                                                            \
	X(HOST_IA32_SYSENTER_EIP)                                                                            \
	X(HOST_IA32_PAT)                                                                                     \
	X(HOST_IA32_EFER)                                                                                    \
	X(HOST_ES_SELECTOR)                                                                                  \
	X(HOST_CS_SELECTOR)                                                                                  \
	X(HOST_SS_SELECTOR)                                                                                  \
	X(HOST_DS_SELECTOR)                                                                                  \
	X(HOST_FS_SELECTOR)                                                                                  \
	X(HOST_GS_SELECTOR)                                                                                  \
	X(HOST_TR_SELECTOR)                                                                                  \
	X(HOST_FS_BASE)                                                                                      \
	X(HOST_GS_BASE)                                                                                      \
	X(HOST_TR_BASE)                                                                                      \
	X(HOST_GDTR_BASE)                                                                                    \
	X(HOST_IDTR_BASE)                                                                                    \
	X(HOST_RIP)                                                                                          \
	X(GUEST_CR0)                                                                                         \
	X(GUEST_CR3)                                                                                         \
	X(GUEST_CR4)                                                                                         \
	X(GUEST_DR7)                                                                                         \
	X(GUEST_IA32_DEBUGCTL)                                                                               \
	X(GUEST_SYSENTER_ESP)                                                                                \
	X(GUEST_SYSENTER_EIP)                                                                                \
	X(GUEST_IA32_PAT)                                                                                    \
	X(GUEST_IA32_EFER)                                                                                   \
	X(GUEST_ES_SELECTOR)                                                                                 \
	X(GUEST_CS_SELECTOR)                                                                                 \
	X(GUEST_SS_SELECTOR)                                                                                 \
	X(GUEST_DS_SELECTOR)                                                                                 \
	X(GUEST_FS_SELECTOR)                                                                                 \
	X(GUEST_GS_SELECTOR)                                                                                 \
	X(GUEST_LDTR_SELECTOR)                                                                               \
	X(GUEST_TR_SELECTOR)                                                                                 \
	X(GUEST_ES_BASE)                                                                                     \
	X(GUEST_CS_BASE)                                                                                     \
	X(GUEST_SS_BASE)                                                                                     \
	X(GUEST_DS_BASE)                                                                                     \
	X(GUEST_FS_BASE)                                                                                     \
	X(GUEST_GS_BASE)                                                                                     \
	X(GUEST_LDTR_BASE)                                                                                   \
	X(GUEST_TR_BASE)                                                                                     \
	X(GUEST_ES_LIMIT)                                                                                    \
	X(GUEST_CS_LIMIT)                                                                                    \
	X(GUEST_SS_LIMIT)                                                                                    \
	X(GUEST_DS_LIMIT)                                                                                    \
	X(GUEST_FS_LIMIT)                                                                                    \
	X(GUEST_GS_LIMIT)                                                                                    \
	X(GUEST_LDTR_LIMIT)                                                                                  \
	X(GUEST_TR_LIMIT)                                                                                    \
	X(GUEST_ES_AR_BYTES)                                                                                 \
	X(GUEST_CS_AR_BYTES)                                                                                 \
	X(GUEST_SS_AR_BYTES)                                                                                 \
	X(GUEST_DS_AR_BYTES)                                                                                 \
	X(GUEST_FS_AR_BYTES)                                                                                 \
	X(GUEST_GS_AR_BYTES)                                                                                 \
	X(GUEST_LDTR_AR_BYTES)                                                                               \
	X(GUEST_TR_AR_BYTES)                                                                                 \
	X(GUEST_GDTR_BASE)                                                                                   \
	X(GUEST_GDTR_LIMIT)                                                                                  \
	X(GUEST_IDTR_BASE)                                                                                   \
	X(GUEST_IDTR_LIMIT)                                                                                  \
	X(GUEST_RIP)                                                                                         \
	X(GUEST_RFLAGS)                                                                                      \
	X(GUEST_ACTIVITY_STATE)                                                                              \
	X(GUEST_INTERRUPTIBILITY_INFO)                                                                       \
	X(GUEST_PENDING_DBG_EXCEPTIONS)                                                                      \
	X(VMCS_LINK_POINTER)                                                                                 \
	X(GUEST_PDPTE0)                                                                                      \
	X(GUEST_PDPTE1)                                                                                      \
	X(GUEST_PDPTE2)                                                                                      \
	X(GUEST_PDPTE3)

enum entry_check_field {
#define EC_FIELD_ENUM(f) EC_##f,
	ENTRY_CHECK_FIELDS(EC_FIELD_ENUM)
#undef EC_FIELD_ENUM
		EC_FIELD_COUNT,
	EC_PDPTE_MEMORY = EC_FIELD_COUNT /* a PDPTE read from guest memory (no VMCS field) */
};

/* One VMCS image: value[EC_<FIELD>], read with EC(s, FIELD). A field the CPU lacks reads as 0. */
struct vmcs_snapshot {
	uint64_t value[EC_FIELD_COUNT];
	/* The PAE PDPTEs at guest CR3 in memory (SDM Vol. 3C 26.3.1.6 without EPT); pdpte_memory_valid says
	 * whether they were read. */
	uint64_t pdpte_memory[PAE_PDPTES];
	bool pdpte_memory_valid;
};
#define EC(s, field) ((s)->value[EC_##field])

/* What the CPU allows (SDM Vol. 3D Appendix A) and the processor state the checks depend on. */
struct entry_check_caps {
	/* allowed-0 settings (bits that must be 1) in the low half, allowed-1 in the high half */
	uint64_t pinbased, procbased, procbased2, exit, entry;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t misc;	   /* IA32_VMX_MISC */
	uint64_t ept_vpid; /* IA32_VMX_EPT_VPID_CAP (0 without EPT and VPID) */
	unsigned maxphyaddr, linear_width;
	bool host_ia32e; /* the processor is in IA-32e mode at VM entry (always, for hapvisor) */
	bool in_smm;	 /* the processor is in SMM (never, for hapvisor) */
};

/* Every rule: short name, SDM Vol. 3C section, what must hold. The order is the order of checking. */
#define ENTRY_CHECK_RULES(X)                                                                                 \
	X(pin_controls, "26.2.1.1",                                                                          \
	  "pin-based controls must keep the allowed settings of IA32_VMX_TRUE_PINBASED_CTLS")                \
	X(proc_controls, "26.2.1.1",                                                                         \
	  "processor-based controls must keep the allowed settings of IA32_VMX_TRUE_PROCBASED_CTLS")         \
	X(proc2_controls, "26.2.1.1",                                                                        \
	  "secondary controls must keep the allowed settings of IA32_VMX_PROCBASED_CTLS2")                   \
	X(cr3_target_count, "26.2.1.1", "CR3-target count must not exceed IA32_VMX_MISC[24:16]")             \
	X(io_bitmap_addr, "26.2.1.1", "I/O-bitmap address must be 4-KiB aligned and below 2^MAXPHYADDR")     \
	X(msr_bitmap_addr, "26.2.1.1", "MSR-bitmap address must be 4-KiB aligned and below 2^MAXPHYADDR")    \
	X(virtual_nmis_need_nmi_exiting, "26.2.1.1", "virtual NMIs=1 requires NMI exiting=1")                \
	X(nmi_window_needs_virtual_nmis, "26.2.1.1", "NMI-window exiting=1 requires virtual NMIs=1")         \
	X(virtual_apic_addr, "26.2.1.1",                                                                     \
	  "use TPR shadow=1: virtual-APIC address must be 4-KiB aligned and below 2^MAXPHYADDR")             \
	X(tpr_threshold, "26.2.1.1",                                                                         \
	  "use TPR shadow=1 without virtual-interrupt delivery: TPR threshold bits 31:4 must be 0")          \
	X(apic_virt_needs_tpr_shadow, "26.2.1.1",                                                            \
	  "virtualize x2APIC mode, APIC-register virtualization and virtual-interrupt delivery require use " \
	  "TPR shadow=1")                                                                                    \
	X(x2apic_excludes_apic_access, "26.2.1.1",                                                           \
	  "virtualize x2APIC mode=1 requires virtualize APIC accesses=0")                                    \
	X(vid_needs_external_exiting, "26.2.1.1",                                                            \
	  "virtual-interrupt delivery=1 requires external-interrupt exiting=1")                              \
	X(posted_interrupts, "26.2.1.1",                                                                     \
	  "process posted interrupts=1 requires virtual-interrupt delivery=1 and acknowledge interrupt on "  \
	  "exit=1")                                                                                          \
	X(apic_access_addr, "26.2.1.1",                                                                      \
	  "virtualize APIC accesses=1: APIC-access address must be 4-KiB aligned and below 2^MAXPHYADDR")    \
	X(vpid_nonzero, "26.2.1.1", "enable VPID=1 requires a VPID other than 0")                            \
	X(ept_memtype, "26.2.1.1",                                                                           \
	  "EPTP memory type (bits 2:0) must be UC or WB as IA32_VMX_EPT_VPID_CAP allows")                    \
	X(ept_walk_length, "26.2.1.1",                                                                       \
	  "EPTP bits 5:3 must be 3 (4-level walk) or 4 (5-level, where supported)")                          \
	X(ept_ad, "26.2.1.1", "EPTP bit 6 (A/D flags) requires IA32_VMX_EPT_VPID_CAP[21]")                   \
	X(ept_reserved, "26.2.1.1", "EPTP bits 11:7 and 63:MAXPHYADDR must be 0")                            \
	X(pml_needs_ept, "26.2.1.1", "enable PML=1 requires enable EPT=1")                                   \
	X(pml_addr, "26.2.1.1", "enable PML=1: PML address must be 4-KiB aligned and below 2^MAXPHYADDR")    \
	X(unrestricted_guest_needs_ept, "26.2.1.1", "unrestricted guest=1 requires enable EPT=1")            \
	X(mode_based_exec_needs_ept, "26.2.1.1",                                                             \
	  "mode-based execute control for EPT=1 requires enable EPT=1")                                      \
	X(exit_controls, "26.2.1.2",                                                                         \
	  "VM-exit controls must keep the allowed settings of IA32_VMX_TRUE_EXIT_CTLS")                      \
	X(exit_preemption_timer_save, "26.2.1.2",                                                            \
	  "save VMX-preemption timer value=1 requires activate VMX-preemption timer=1")                      \
	X(exit_msr_store_addr, "26.2.1.2",                                                                   \
	  "VM-exit MSR-store area must be 16-byte aligned and end below 2^MAXPHYADDR")                       \
	X(exit_msr_load_addr, "26.2.1.2",                                                                    \
	  "VM-exit MSR-load area must be 16-byte aligned and end below 2^MAXPHYADDR")                        \
	X(entry_controls, "26.2.1.3",                                                                        \
	  "VM-entry controls must keep the allowed settings of IA32_VMX_TRUE_ENTRY_CTLS")                    \
	X(entry_smm_outside_smm, "26.2.1.3",                                                                 \
	  "entry to SMM and deactivate dual-monitor treatment must be 0 outside SMM")                        \
	X(entry_msr_load_addr, "26.2.1.3",                                                                   \
	  "VM-entry MSR-load area must be 16-byte aligned and end below 2^MAXPHYADDR")                       \
	X(entry_intr_type, "26.2.1.3",                                                                       \
	  "injected event type must not be 1 (reserved), nor 7 (other event) without monitor trap flag "     \
	  "support")                                                                                         \
	X(entry_intr_vector, "26.2.1.3",                                                                     \
	  "injected NMI must have vector 2, a hardware exception a vector up to 31, other event vector 0")   \
	X(entry_intr_error_code, "26.2.1.3",                                                                 \
	  "deliver error code must be 1 exactly for #DF #TS #NP #SS #GP #PF #AC in protected mode")          \
	X(entry_intr_reserved, "26.2.1.3", "VM-entry interruption-information bits 30:12 must be 0")         \
	X(entry_error_code_reserved, "26.2.1.3", "VM-entry exception error code bits 31:16 must be 0")       \
	X(entry_instruction_length, "26.2.1.3",                                                              \
	  "software interrupt/exception injection needs an instruction length of 1-15 (0 only where "        \
	  "IA32_VMX_MISC[30])")                                                                              \
	X(host_cr0_fixed, "26.2.2",                                                                          \
	  "HOST_CR0 must have the IA32_VMX_CR0_FIXED0 bits set and no bit outside IA32_VMX_CR0_FIXED1")      \
	X(host_cr4_fixed, "26.2.2",                                                                          \
	  "HOST_CR4 must have the IA32_VMX_CR4_FIXED0 bits set and no bit outside IA32_VMX_CR4_FIXED1")      \
	X(host_cr3_reserved, "26.2.2", "HOST_CR3 bits 63:MAXPHYADDR must be 0")                              \
	X(host_sysenter_canonical, "26.2.2", "host IA32_SYSENTER_ESP/EIP must be canonical")                 \
	X(host_pat, "26.2.2", "load IA32_PAT on exit: every PAT entry must be 0, 1, 4, 5, 6 or 7")           \
	X(host_efer_reserved, "26.2.2", "load IA32_EFER on exit: reserved EFER bits must be 0")              \
	X(host_efer_lma_lme, "26.2.2",                                                                       \
	  "load IA32_EFER on exit: EFER.LMA and EFER.LME must equal host address-space size")                \
	X(host_selector_rpl_ti, "26.2.3", "host selectors must have RPL=0 and TI=0")                         \
	X(host_cs_nonzero, "26.2.3", "HOST_CS_SELECTOR must not be 0")                                       \
	X(host_tr_nonzero, "26.2.3", "HOST_TR_SELECTOR must not be 0")                                       \
	X(host_ss_nonzero, "26.2.3", "HOST_SS_SELECTOR must not be 0 when host address-space size=0")        \
	X(host_base_canonical, "26.2.3", "host FS, GS, TR, GDTR and IDTR bases must be canonical")           \
	X(host_address_space_size, "26.2.4",                                                                 \
	  "a processor in IA-32e mode requires host address-space size=1")                                   \
	X(host_32bit_no_ia32e_guest, "26.2.4",                                                               \
	  "host address-space size=0 requires IA-32e mode guest=0 and HOST_CR4.PCIDE=0")                     \
	X(host_64bit_cr4_pae, "26.2.4", "host address-space size=1 requires HOST_CR4.PAE=1")                 \
	X(host_rip, "26.2.4", "HOST_RIP must be canonical (64-bit host) or below 4 GiB (32-bit host)")       \
	X(guest_cr0_fixed, "26.3.1.1",                                                                       \
	  "GUEST_CR0 must have the IA32_VMX_CR0_FIXED0 bits set (PE, PG exempt for an unrestricted guest) "  \
	  "and no bit outside IA32_VMX_CR0_FIXED1")                                                          \
	X(guest_cr0_pg_pe, "26.3.1.1", "CR0.PG=1 requires CR0.PE=1")                                         \
	X(guest_cr4_fixed, "26.3.1.1",                                                                       \
	  "GUEST_CR4 must have the IA32_VMX_CR4_FIXED0 bits set and no bit outside IA32_VMX_CR4_FIXED1")     \
	X(guest_ia32e_cr0_pg, "26.3.1.1", "IA-32e mode guest=1 requires CR0.PG=1")                           \
	X(guest_ia32e_cr4_pae, "26.3.1.1", "IA-32e mode guest=1 requires CR4.PAE=1")                         \
	X(guest_cr4_pcide, "26.3.1.1", "IA-32e mode guest=0 requires CR4.PCIDE=0")                           \
	X(guest_cr3_reserved, "26.3.1.1", "GUEST_CR3 bits 63:MAXPHYADDR must be 0")                          \
	X(guest_debugctl_reserved, "26.3.1.1",                                                               \
	  "load debug controls: IA32_DEBUGCTL reserved bits (5:2, 63:16) must be 0")                         \
	X(guest_dr7_high, "26.3.1.1", "load debug controls: DR7 bits 63:32 must be 0")                       \
	X(guest_sysenter_canonical, "26.3.1.1", "guest IA32_SYSENTER_ESP/EIP must be canonical")             \
	X(guest_pat, "26.3.1.1", "load IA32_PAT on entry: every PAT entry must be 0, 1, 4, 5, 6 or 7")       \
	X(guest_efer_reserved, "26.3.1.1", "load IA32_EFER on entry: reserved EFER bits must be 0")          \
	X(guest_efer_lma, "26.3.1.1", "load IA32_EFER on entry: EFER.LMA must equal IA-32e mode guest")      \
	X(guest_efer_lme, "26.3.1.1",                                                                        \
	  "load IA32_EFER on entry with CR0.PG=1: EFER.LME must equal IA-32e mode guest")                    \
	X(guest_tr_ti, "26.3.1.2", "TR selector TI must be 0")                                               \
	X(guest_ldtr_ti, "26.3.1.2", "usable LDTR selector TI must be 0")                                    \
	X(guest_ss_rpl, "26.3.1.2", "SS.RPL must equal CS.RPL (not virtual-8086, not unrestricted guest)")   \
	X(guest_v86_base, "26.3.1.2", "virtual-8086 mode: segment base must be selector << 4")               \
	X(guest_v86_limit, "26.3.1.2", "virtual-8086 mode: segment limit must be 0xFFFF")                    \
	X(guest_v86_ar, "26.3.1.2", "virtual-8086 mode: segment access rights must be 0xF3")                 \
	X(guest_base_canonical, "26.3.1.2", "FS, GS, TR and usable LDTR bases must be canonical")            \
	X(guest_base_high, "26.3.1.2", "CS and usable SS, DS, ES bases must have bits 63:32 = 0")            \
	X(guest_cs_type, "26.3.1.2",                                                                         \
	  "CS type must be 9, 11, 13 or 15 (accessed code), or 3 for an unrestricted guest")                 \
	X(guest_ss_type, "26.3.1.2", "usable SS type must be 3 or 7 (accessed read/write data)")             \
	X(guest_data_seg_type, "26.3.1.2", "usable DS, ES, FS, GS must be accessed, and readable if code")   \
	X(guest_seg_s, "26.3.1.2", "CS and usable SS, DS, ES, FS, GS must have S=1 (code or data)")          \
	X(guest_cs_dpl, "26.3.1.2",                                                                          \
	  "CS.DPL must be 0 (type 3), equal SS.DPL (non-conforming) or not exceed it (conforming)")          \
	X(guest_ss_dpl, "26.3.1.2",                                                                          \
	  "SS.DPL must equal SS.RPL (not unrestricted guest), and be 0 with CS type 3 or CR0.PE=0")          \
	X(guest_data_seg_dpl, "26.3.1.2",                                                                    \
	  "usable data or non-conforming code DS, ES, FS, GS: DPL must not be below RPL (not unrestricted "  \
	  "guest)")                                                                                          \
	X(guest_seg_present, "26.3.1.2", "CS, TR and usable SS, DS, ES, FS, GS, LDTR must be present (P=1)") \
	X(guest_seg_ar_reserved, "26.3.1.2", "access-rights bits 11:8 and 31:17 must be 0")                  \
	X(guest_cs_l_db, "26.3.1.2", "IA-32e mode guest with CS.L=1 requires CS.D/B=0")                      \
	X(guest_seg_granularity, "26.3.1.2",                                                                 \
	  "limit and G must agree: limit bits 11:0 not all 1 needs G=0, limit bits 31:20 not all 0 needs "   \
	  "G=1")                                                                                             \
	X(guest_tr_type, "26.3.1.2",                                                                         \
	  "TR type must be 11 (busy 32/64-bit TSS), or 3 (busy 16-bit TSS) outside IA-32e mode")             \
	X(guest_sys_seg_s, "26.3.1.2", "TR and usable LDTR must have S=0 (system segment)")                  \
	X(guest_tr_usable, "26.3.1.2", "TR must be usable (access rights bit 16 = 0)")                       \
	X(guest_ldtr_type, "26.3.1.2", "usable LDTR type must be 2 (LDT)")                                   \
	X(guest_dtr_base_canonical, "26.3.1.3", "GDTR and IDTR bases must be canonical")                     \
	X(guest_dtr_limit, "26.3.1.3", "GDTR and IDTR limit bits 31:16 must be 0")                           \
	X(guest_rip_high, "26.3.1.4", "RIP bits 63:32 must be 0 unless IA-32e mode guest=1 and CS.L=1")      \
	X(guest_rip_canonical, "26.3.1.4", "IA-32e mode guest with CS.L=1: RIP must be canonical")           \
	X(guest_rflags_reserved, "26.3.1.4", "RFLAGS bits 63:22, 15, 5, 3 must be 0 and bit 1 must be 1")    \
	X(guest_rflags_vm, "26.3.1.4", "RFLAGS.VM must be 0 with IA-32e mode guest=1 or CR0.PE=0")           \
	X(guest_rflags_if, "26.3.1.4", "injecting an external interrupt requires RFLAGS.IF=1")               \
	X(guest_activity_state, "26.3.1.5",                                                                  \
	  "activity state must be 0-3 and supported by IA32_VMX_MISC[8:6]")                                  \
	X(guest_activity_hlt_dpl, "26.3.1.5", "activity state HLT requires SS.DPL=0")                        \
	X(guest_activity_blocking, "26.3.1.5",                                                               \
	  "blocking by STI or MOV SS requires the active activity state")                                    \
	X(guest_activity_event, "26.3.1.5", "the injected event cannot be delivered in this activity state") \
	X(guest_intr_reserved, "26.3.1.5", "interruptibility-state bits 31:5 must be 0")                     \
	X(guest_intr_sti_movss, "26.3.1.5", "blocking by STI and blocking by MOV SS must not both be 1")     \
	X(guest_intr_sti_if, "26.3.1.5", "blocking by STI requires RFLAGS.IF=1")                             \
	X(guest_intr_external, "26.3.1.5",                                                                   \
	  "injecting an external interrupt requires no blocking by STI or MOV SS")                           \
	X(guest_intr_nmi_movss, "26.3.1.5", "injecting an NMI requires no blocking by MOV SS")               \
	X(guest_intr_smi, "26.3.1.5", "blocking by SMI must be 0 outside SMM")                               \
	X(guest_intr_vnmi, "26.3.1.5", "virtual NMIs=1 and injecting an NMI require no blocking by NMI")     \
	X(guest_pending_dbg_reserved, "26.3.1.5",                                                            \
	  "pending debug exceptions bits 11:4, 13, 15 and 63:17 must be 0")                                  \
	X(guest_pending_dbg_bs, "26.3.1.5",                                                                  \
	  "with STI/MOV SS blocking or HLT, pending BS must be 1 exactly when RFLAGS.TF=1 and "              \
	  "DEBUGCTL.BTF=0")                                                                                  \
	X(guest_vmcs_link, "26.3.1.5",                                                                       \
	  "VMCS link pointer must be ~0, or 4-KiB aligned and below 2^MAXPHYADDR")                           \
	X(guest_pdpte_reserved, "26.3.1.6",                                                                  \
	  "PAE paging: a present PDPTE must have bits 2:1, 8:5 and 63:MAXPHYADDR = 0")

enum entry_check_rule {
#define EC_RULE_ENUM(name, section, text) EC_RULE_##name,
	ENTRY_CHECK_RULES(EC_RULE_ENUM)
#undef EC_RULE_ENUM
		EC_RULE_COUNT
};

#define ENTRY_CHECK_MAX_FAILURES 32

struct entry_check_failure {
	enum entry_check_rule rule;
	enum entry_check_field field; /* or EC_PDPTE_MEMORY */
	uint64_t value;		      /* the field's value */
	uint64_t bad;		      /* the offending bits where the rule is about bits, else 0 */
};

struct entry_check_result {
	unsigned rules;	 /* distinct rules that applied to this VMCS */
	unsigned failed; /* failures found (all of them; the first ENTRY_CHECK_MAX_FAILURES are recorded) */
	struct entry_check_failure failures[ENTRY_CHECK_MAX_FAILURES];
	uint64_t applied[(EC_RULE_COUNT + 63) / 64];
};

/*
 * entry_check_run: check the snapshot against every rule of SDM Vol. 3C 26.2.1-26.2.4 and 26.3.1.1-26.3.1.6
 * that applies to it (rules that depend only on guest memory the snapshot lacks, e.g. the VMCS link
 * pointer's revision, are left out). Fills *r (cleared first) with every failure, not only the first.
 * Returns true when no rule fails. Reads nothing but its arguments.
 */
bool entry_check_run(const struct vmcs_snapshot *s, const struct entry_check_caps *c,
		     struct entry_check_result *r);

/*
 * entry_check_report: print the result, at stage `when` (launch, entry_failure): for each failure an error
 * line "VM-entry check failed: SDM <section>: <rule text> (<FIELD>=<value>[, bad bits <mask>])" and a
 * line "event=entry_check cpu=0 result=fail rule=... section=... field=... value=...", then one summary
 * "event=entry_check cpu=0 result=pass|fail rules=N failed=K cycles=C when=...".
 */
void entry_check_report(const struct entry_check_result *r, const char *when, uint64_t cycles);

/* Rule names ("guest_cr0_pg_pe"), SDM sections and field names, for reports and tests. */
const char *entry_check_rule_name(enum entry_check_rule rule);
const char *entry_check_rule_section(enum entry_check_rule rule);
const char *entry_check_field_name(enum entry_check_field field);
/* The VMCS encoding of a snapshot field (vmx/vmcs.h). */
uint32_t entry_check_field_encoding(enum entry_check_field field);

#endif
