/*
 * Bringing up the application processors (APs) under hapvisor (SDM Vol. 3A 9.4 "Multiple-Processor (MP)
 * Initialization"). The boot processor (BSP) finds every processor in the ACPI MADT, starts each AP with
 * its own INIT-SIPI-SIPI through a real-mode start page below 1 MiB that the guest never gets, and waits
 * until the AP runs hapvisor's C code in VMX root operation. From then on no AP ever runs outside hapvisor:
 * it either runs a vCPU of the guest or stays halted in VMX root operation with interrupts off, where INIT
 * is blocked (SDM Vol. 3C 24.8) and a guest's INIT-SIPI-SIPI cannot take it.
 */
#ifndef HV_ARCH_X86_SMP_H
#define HV_ARCH_X86_SMP_H

#include "arch/x86/percpu.h"
#include "lib/types.h"

struct mb2_info;
struct memmap;

/*
 * smp_reserve_start_page: pick the AP start page, the highest available 4 KiB page below 640 KiB in the
 * firmware map that holds neither the Multiboot2 information nor a module, and mark it MEM_HAPVISOR in
 * guest_map (kept by pointer): the guest's memory map does not offer it and the EPT does not map it
 * (vmx/ept.c). smp_start_aps() gives it back, zeroed, once every AP listed is in VMX operation.
 * Returns false (logged) when there is none; the machine then runs the guest on the BSP alone.
 */
bool smp_reserve_start_page(const struct memmap *firmware, struct memmap *guest_map,
			    const struct mb2_info *mb);

/*
 * smp_discover: list the processors of the MADT (RSDP from the Multiboot2 ACPI tags) in percpu[], the
 * BSP first (matched by its own APIC ID). Without a usable MADT there is one CPU. Prints event=smp_madt.
 */
void smp_discover(const struct mb2_info *mb);

/*
 * smp_start_aps: start every AP percpu[] lists. Each one enters smp_ap_main(), loads its own GDT, TSS, IDT
 * and GS base, enters VMX root operation with its own VMXON region, and waits for smp_call(). An AP that
 * does not come up within SMP_AP_TIMEOUT_MS stays CPU_ABSENT (reported). Needs: the start page reserved,
 * hapvisor's final page tables (below 4 GiB), vmx_on() done on the BSP; the guest not loaded yet (the start
 * page may go back into its map). Prints event=smp_start.
 * Returns how many APs came up but could not enter VMX operation (they halt outside it, where a guest INIT
 * would free them: the caller must not run the guest then).
 */
unsigned smp_start_aps(void);

/* Ask the online AP `cpu` to run fn(cpu) (it never returns from it). */
void smp_call(struct percpu *cpu, void (*fn)(struct percpu *cpu));

/* Halt this CPU for good: interrupts off, HLT in a loop; `state` tells the others why (PARKED, STOPPED). */
NORETURN void smp_halt_self(enum cpu_state state);

/* CPUs listed (the BSP included), and how many of them are online (in VMX root operation under hapvisor). */
unsigned smp_cpu_count(void);

#endif
