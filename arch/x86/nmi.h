/*
 * NMIs that reach hapvisor itself, in VMX root operation (SDM Vol. 3A 6.7 "Nonmaskable Interrupt (NMI)").
 *
 * The guest owns the machine's NMI sources (the local APICs' LINT1 and performance counters, other CPUs'
 * NMI IPIs, the chipset), and hapvisor runs it with NMI exiting and virtual NMIs (vmx/events.c): an NMI
 * that arrives while the guest runs is a VM exit, one that arrives while hapvisor handles an exit (or on a
 * parked CPU) comes through hapvisor's IDT to nmi_root(). Neither is ever fatal: the root handler only counts
 * the NMI for this CPU (percpu.nmi_root), and the vCPU's exit path delivers it to the guest when the guest
 * can take it. The one NMI with another meaning is the one a CPU sends to stop the others after a fatal error
 * (smp_stop_all, arch/x86/smp.h): nmi_root() then halts this CPU for good.
 */
#ifndef HV_ARCH_X86_NMI_H
#define HV_ARCH_X86_NMI_H

#include "arch/x86/desc.h"
#include "lib/types.h"

/*
 * nmi_set_restart: code in [start, end] is restarted at start when an NMI interrupts it (the frame's RIP is
 * moved back). The VM-exit path registers its last instructions before VMRESUME (vmx/entry.asm), which read
 * percpu.nmi_root: an NMI counted after that read is then seen before the guest runs again, not at the next
 * exit. The range must be side-effect free up to end (end: the VMRESUME itself).
 */
void nmi_set_restart(const void *start, const void *end);

/*
 * nmi_root: the NMI handler (exception_dispatch, vector 2; on its own IST stack with further NMIs blocked
 * until its IRET). Counts the NMI in this CPU's percpu.nmi_root, applies the restart range, and returns; or,
 * when another CPU is stopping every CPU after a fatal error, halts this one (never returns).
 */
void nmi_root(struct exception_frame *f);

#endif
