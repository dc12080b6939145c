/* The processor state hapvisor needs on every CPU it runs on, set up the same way on each. */
#ifndef HV_ARCH_X86_CPU_INIT_H
#define HV_ARCH_X86_CPU_INIT_H

#include "arch/x86/percpu.h"

/*
 * cpu_init_this: give the CPU that runs it hapvisor's processor state: its descriptor tables and GS base
 * (desc_load_this: GDT, TSS with IST stacks, the shared IDT), and CR4.OSXSAVE where the CPU has XSAVE, so
 * that hapvisor can perform the guest's XSETBV (vmx/exit_misc.c; hapvisor itself uses no extended state,
 * -mgeneral-regs-only, so the guest's XCR0 is the only one there is), and CR4.MCE, so that a machine check is
 * a reported #MC instead of a silent shutdown (arch/x86/mce.h). Run once per CPU, first on the boot
 * processor (hv_main), then on each application processor as it starts (smp_ap_main).
 */
void cpu_init_this(struct percpu *cpu);

#endif
