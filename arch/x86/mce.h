/*
 * Machine checks in hapvisor (SDM Vol. 3B 16 "Machine-Check Architecture"; Vol. 3A 2.5, CR4.MCE; 6.15
 * "Interrupt 18-Machine-Check Exception (#MC)").
 *
 * With CR4.MCE clear a machine check shuts the processor down without a word; hapvisor sets it on every CPU
 * it runs on (the VMCS host CR4 is read after, so it holds in VMX root operation too), so a machine check
 * while hapvisor runs is a #MC exception on its own IST stack, reported like every other fatal exception
 * (arch/x86/exception.c: every CPU stopped, the registers, the machine-check banks, the on_exit action). In
 * the guest a machine check goes through the guest's own IDT (hapvisor's exception bitmap is empty), and one
 * during VM entry is a VM-entry failure (exit reason 41, vmx/run.c).
 */
#ifndef HV_ARCH_X86_MCE_H
#define HV_ARCH_X86_MCE_H

/* Set CR4.MCE on this CPU when CPUID.1:EDX.MCE says the CPU has #MC (cpu_init_this, arch/x86/cpu_init.h). */
void mce_enable_this_cpu(void);

/* Print event=mce for this CPU: CR4.MCE as it is, and the machine-check banks it has. */
void mce_log_this_cpu(void);

/*
 * Print the machine-check registers after a #MC: IA32_MCG_STATUS and every bank whose IA32_MCi_STATUS has
 * VAL set, with its ADDR and MISC where valid (where CPUID.1:EDX.MCA says they exist; every read fault-safe).
 */
void mce_report(void);

#endif
