/* Launching the guest and running it until it ends. */
#ifndef HV_VMX_RUN_H
#define HV_VMX_RUN_H

#include "arch/x86/power.h"
#include "lib/types.h"
#include "mm/memmap.h"
#include "vmx/entry_check_vmcs.h"
#include "vmx/ept.h"
#include "vmx/fatal_test.h"
#include "vmx/vmcs_break.h"

/*
 * How guest memory is translated (option paging), with the option's name for each: EPT where the CPU has
 * EPT and unrestricted guest, else hapvisor's shadow page tables (auto); always EPT (ept: refused on a CPU
 * without); always shadow paging (shadow: vmx/shadow_exit.h).
 */
#define PAGING_CHOICES(X)                                                                                    \
	X(PAGING_AUTO, "auto")                                                                               \
	X(PAGING_EPT, "ept")                                                                                 \
	X(PAGING_SHADOW, "shadow")

enum paging_choice {
#define PAGING_CHOICE_ENUM(choice, name) choice,
	PAGING_CHOICES(PAGING_CHOICE_ENUM)
#undef PAGING_CHOICE_ENUM
		PAGING_CHOICE_COUNT
};

/* The option's spelling of a choice ("shadow"); "?" for a value out of range. */
static inline const char *paging_choice_name(enum paging_choice choice)
{
	static const char *const names[] = {
#define PAGING_CHOICE_NAME(choice, name) [choice] = name,
		PAGING_CHOICES(PAGING_CHOICE_NAME)
#undef PAGING_CHOICE_NAME
	};
	return (size_t)choice < ARRAY_SIZE(names) ? names[choice] : "?";
}

struct vmx_guest {
	uint32_t entry_eip, eax, ebx; /* 32-bit protected-mode entry (guest/loader.c) */
	uint32_t esi;		      /* the Linux 32-bit boot protocol: boot_params */
	uint16_t cs_sel, ds_sel;      /* 0: the Multiboot defaults 0x08 / 0x10 */
	uint32_t gdtr_base;	      /* used when gdtr_limit != 0 */
	uint16_t gdtr_limit;	      /* 0: GDTR base 0 limit 0xFFFF */
	const struct memmap *memory;  /* the guest's memory map: hapvisor's region is MEM_HAPVISOR */
	uint64_t ram_limit;	      /* end of RAM (at least 4 GiB): ept=eager maps [0, ram_limit) */
	enum ept_policy ept_policy;
	enum paging_choice paging;	   /* option paging: EPT, shadow paging, or auto (EPT where it can) */
	uint64_t time_limit_ms;		   /* guest_timeout: 0 = none (the VMX-preemption timer stays off) */
	enum entry_check_mode entry_check; /* option entry_check */
	enum vmcs_break vmcs_break;	   /* option vmcs_break (tests only) */
	enum fatal_test fatal_test;	   /* option fatal_test (tests only) */
	unsigned cpus; /* the most vCPUs (option cpus=; 0: one per processor hapvisor started) */
};

struct vcpu;

/* vCPUs out of the wait-for-SIPI state (1 from the BSP's launch); vmx_vcpu_activity() changes the count. */
unsigned vmx_active_vcpus(void);
void vmx_vcpu_activity(int delta);
/* True once a vCPU has ended the run: every exit handler on the other CPUs stops its vCPU then. */
bool vmx_run_over(void);
/*
 * vmx_vcpu_reset_to_init: put the current VMCS's vCPU in the state after INIT, waiting for a SIPI
 * (vmcs_guest_init_state), with EDX = the CPU signature and the other registers 0.
 */
void vmx_vcpu_reset_to_init(struct vcpu *v);

/*
 * vmx_cpu_gets_vcpu: whether CPU `index` (percpu[]) will run a vCPU of the guest under options cpus= (0:
 * all) and paging=: the BSP always; an AP when it is online (in VMX root under hapvisor), below `cpus`,
 * the CPU has the wait-for-SIPI activity state and the guest runs with EPT (shadow paging runs one CPU).
 * vmx_run_guest() parks every other online AP. Needs: smp_start_aps() and vmx_probe() done. The guest's
 * MADT copy lists exactly these CPUs (guest/acpi.h).
 */
bool vmx_cpu_gets_vcpu(unsigned index, unsigned cpus, enum paging_choice paging);

/*
 * vmx_run_guest: build the EPT and the BSP's VMCS; give each online AP its vCPU (waiting for a SIPI) or park
 * it (cpus=); launch the guest on the BSP and handle its exits until a vCPU ends the run; then stop the
 * others, print the exit statistics, leave VMX operation and finish the run with `on_exit`.
 * Needs: vmx_on() done on this CPU (the BSP) and smp_start_aps() done. Never returns.
 */
NORETURN void vmx_run_guest(const struct vmx_guest *g, enum on_exit_action on_exit);

#endif
