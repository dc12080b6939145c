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

struct memmap;

/*
 * smp_reserve_start_page: pick the AP start page, the highest MEM_AVAILABLE 4 KiB page below 640 KiB in
 * `free` (the firmware's map with the boot loader's data still needed marked otherwise: its information
 * block, the modules), and mark it MEM_HAPVISOR in guest_map (kept by pointer): the guest's memory map does
 * not offer it and the EPT does not map it (vmx/ept.c). smp_start_aps() gives it back, zeroed, once no AP
 * can run it any more. Returns false (logged) when there is none; the machine then runs the guest on the
 * BSP alone.
 */
bool smp_reserve_start_page(const struct memmap *free, struct memmap *guest_map);

/*
 * smp_discover: list the processors of the MADT in percpu[], the BSP first (matched by its own APIC ID),
 * finding the MADT through the copy of the ACPI RSDP at rsdp (rsdp_len bytes; NULL: none). Without a usable
 * MADT there is one CPU. Prints event=smp_madt. Returns false, after an error sentence, when the MADT lists
 * more usable processors than HV_MAX_CPUS: hapvisor could not keep the others out of the guest's reach, so
 * the guest must not run.
 */
bool smp_discover(const void *rsdp, size_t rsdp_len);

/*
 * What the caller wants done on each AP once it runs hapvisor's code with its own processor state (for
 * hapvisor: enter VMX root operation, vmx_cpu_up()). True when the AP may go online; false leaves it
 * halted, CPU_FAILED.
 */
typedef bool smp_ap_setup_fn(struct percpu *cpu);

/*
 * smp_start_aps: start every AP percpu[] lists. Each one enters smp_ap_main(), takes hapvisor's processor
 * state (cpu_init_this: its own GDT, TSS, IDT and GS base), runs setup(cpu) and waits for smp_call(). An AP
 * that does not come up within SMP_AP_TIMEOUT_MS stays CPU_ABSENT (reported) and is sent one more INIT, so
 * that it waits for a SIPI instead of running anything. Then the start page goes back to the guest,
 * zeroed, in every case (event=smp_start_page released=1). Needs: the start page reserved, hapvisor's
 * final page tables (below 4 GiB), the BSP's own setup done; the guest not loaded yet. Prints
 * event=smp_start.
 * Returns how many APs came up but failed setup (they halt outside VMX operation, where a guest INIT would
 * free them: the caller must not run the guest then).
 */
unsigned smp_start_aps(smp_ap_setup_fn *setup);

/* Ask the online AP `cpu` to run fn(cpu) (it never returns from it). */
void smp_call(struct percpu *cpu, void (*fn)(struct percpu *cpu));

/* Halt this CPU for good: interrupts off, HLT in a loop; `state` tells the others why (PARKED, STOPPED). */
NORETURN void smp_halt_self(enum cpu_state state);

/*
 * smp_stop_all: after a fatal error on this CPU (an exception or machine check in hapvisor, a panic), stop
 * every other CPU before anything is reported: an NMI IPI reaches a CPU wherever it is (in VMX root
 * operation with interrupts off, where INIT is blocked, or in the guest, where it is an NMI exit), and that
 * CPU halts with NMIs blocked (nmi_root, the vCPU's NMI exit), so no CPU goes on running the guest or
 * hapvisor after one has failed. Waits up to SMP_STOP_TIMEOUT_MS for each, then this CPU owns the console (a
 * stopped CPU may have held its lock) and prints event=fatal_stop. A vCPU waiting for a SIPI runs no code and
 * cannot take the NMI (it is latched); it is not waited for. Returns true for the first CPU to call it (and
 * again on that CPU: a fatal error while reporting one), false on any other CPU: that one must halt
 * (smp_halt_stopped), its own NMI is on the way.
 */
bool smp_stop_all(void);

/* Whether a CPU has called smp_stop_all(); the NMI handlers then halt instead of returning. */
bool smp_stopping(void);

/* Halt this CPU for good as stopped by smp_stop_all (state CPU_HALTED, interrupts off). */
NORETURN void smp_halt_stopped(void);

/* CPUs listed (the BSP included), and how many of them are online (in VMX root operation under hapvisor). */
unsigned smp_cpu_count(void);

#endif
