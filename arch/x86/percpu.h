/*
 * Per-CPU data: one struct percpu per processor hapvisor runs on, found through the GS base (IA32_GS_BASE,
 * SDM Vol. 3A 3.4.4): %gs:0 holds the structure's own address. hapvisor's GS base is loaded by
 * desc_load_this() and restored on every VM exit from the VMCS host-state area (HOST_GS_BASE); the guest's
 * GS base lives in the guest-state area, so the two never mix.
 */
#ifndef HV_ARCH_X86_PERCPU_H
#define HV_ARCH_X86_PERCPU_H

#include "lib/types.h"

/* The most processors hapvisor brings up (the MADT parser keeps as many). */
#define HV_MAX_CPUS 64 /* boot/options.h OPTIONS_CPUS_MAX, arch/x86/madt.h MADT_MAX_CPUS */

struct cpu_desc; /* arch/x86/desc.c: this CPU's GDT, TSS and IST stacks */
struct vcpu;	 /* vmx/vcpu.h */

/* Where an application processor is in its life (arch/x86/smp.c); the BSP is CPU_ONLINE from the start. */
enum cpu_state {
	CPU_ABSENT,  /* not started (or not listed) */
	CPU_ONLINE,  /* running hapvisor's code in VMX root operation, waiting for a command */
	CPU_FAILED,  /* started but reported an error (VMXON refused): parked, VMX off */
	CPU_PARKED,  /* halted in VMX root operation with interrupts off: never runs the guest */
	CPU_RUNNING, /* runs a vCPU of the guest */
	CPU_STOPPED, /* its vCPU ended; halted in VMX root operation */
	CPU_HALTED,  /* stopped by another CPU's fatal error (smp_stop_all): halted with NMIs blocked */
};

struct percpu {
	struct percpu *self; /* at offset 0: this_cpu() reads it through %gs */
	/*
	 * NMIs taken in VMX root operation (arch/x86/nmi.c counts them, the only writer) and how many of
	 * those the vCPU on this CPU has taken over (vmx/events.c). vmx/entry.asm compares the two through
	 * %gs just before VMRESUME, so their offsets are fixed.
	 */
	volatile uint32_t nmi_root;
	uint32_t nmi_root_seen;
	unsigned index; /* 0 = the boot processor, then the MADT's order */
	uint32_t apic_id;
	volatile enum cpu_state state;
	void (*volatile work)(struct percpu *cpu); /* smp_call(): what an online AP runs next */
	struct cpu_desc *desc;
	uint64_t tss_base;
	uint64_t stack_top;
	uint64_t vmxon_pa;	     /* this CPU's VMXON region (vmx/vmxon.c) */
	struct vcpu *vcpu;	     /* the vCPU it runs, if any */
	volatile bool wait_for_sipi; /* its vCPU waits for a SIPI: runs no guest code, takes no NMI */
	uint32_t nmi_restarts;	     /* root NMIs that moved the VM-exit path back to its NMI check */
};
_Static_assert(offsetof(struct percpu, self) == 0, "this_cpu() reads %gs:0");
#define PERCPU_NMI_ROOT 8 /* vmx/entry.asm */
#define PERCPU_NMI_ROOT_SEEN 12
_Static_assert(offsetof(struct percpu, nmi_root) == PERCPU_NMI_ROOT, "vmx/entry.asm reads %gs:8");
_Static_assert(offsetof(struct percpu, nmi_root_seen) == PERCPU_NMI_ROOT_SEEN, "vmx/entry.asm reads %gs:12");

extern struct percpu percpu[HV_MAX_CPUS];
extern unsigned percpu_count; /* CPUs with an entry in percpu[] (the BSP and every AP listed) */

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

#endif
