/*
 * Events for the guest: the exceptions hapvisor raises, the event a VM exit interrupted, and NMIs (SDM Vol.
 * 3C 27.6 "Event Injection", 28.2.3 "Information About NMI Unblocking Due to IRET", 28.2.4 "Information for
 * VM Exits During Event Delivery", 26.7.6 "NMI-Window Exiting"; KVM readers: vmx_inject_nmi,
 * vmx_complete_interrupts, vmx_queue_exception).
 *
 * One event per VM entry: a handler that raises an exception, the re-injection of an interrupted event and
 * an NMI all set the VM-entry interruption-information field through one path, which checks that the field
 * is free (every VM exit clears its valid bit). What the guest must see:
 *
 * - Faults hapvisor raises look like the CPU's own: RFLAGS.RF = 1 in the frame (SDM Vol. 3B 17.3.1.1).
 * - An event being delivered when the exit happened (an EPT violation on the guest's stack, IDT or GDT page,
 *   a write-protected page under dirty tracking, a full PML log) is delivered again on the next entry, with
 *   its type, vector, error code and, for software interrupts and exceptions, instruction length: an
 *   external interrupt the local APIC already moved to in-service would otherwise never be handled.
 * - NMIs: the guest owns every NMI source, and hapvisor runs with NMI exiting and virtual NMIs, so no NMI
 *   reaches the guest behind hapvisor's back and none is ever fatal. An NMI in the guest is an NMI exit; one
 *   that comes while hapvisor runs (arch/x86/nmi.c) is counted for the CPU and taken over before the next
 *   VMRESUME (vmx/entry.asm checks for it after the last C code). Each is injected when the guest can take
 *   one (no virtual-NMI blocking, no STI or MOV-SS blocking, the entry event free), else NMI-window exiting
 *   makes an exit as soon as it can. As on the CPU, at most one NMI waits while another is blocked, two
 *   otherwise; more are merged (counted). NMIs are held while the vCPU waits for a SIPI and dropped by its
 *   INIT, and ones from before the launch are dropped.
 * - "NMI unblocking due to IRET" (exit qualification bit 12 of EPT violations and PML-full exits): the IRET
 *   that faulted had already ended virtual-NMI blocking; it is restored so that the IRET runs again with
 *   NMIs blocked, as on bare metal.
 */
#ifndef HV_VMX_EVENTS_H
#define HV_VMX_EVENTS_H

#include "lib/types.h"
#include "vmx/vcpu.h"

/*
 * Deliver a hardware exception to the guest on the next entry, as the CPU would have: the error code when
 * has_error, RFLAGS.RF set for a fault-class vector. Needs: the entry event free (a broken invariant panics).
 */
void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);

/*
 * The event the exit interrupted (v->idt_vectoring valid) is delivered again on the next entry: type,
 * vector, error code, instruction length for software interrupts and exceptions; an NMI with virtual-NMI
 * blocking cleared (SDM Vol. 3C 27.3.1.5). Called after the exit's handler; nothing when it stopped the vCPU
 * or set an event for the entry itself.
 */
void vcpu_complete_interrupts(struct vcpu *v);

/* Exit qualification q has "NMI unblocking due to IRET" (bit 12) for this exit: restore virtual-NMI
 * blocking before the guest resumes (undefined, and ignored, when an event was being delivered). */
void vcpu_nmi_iret_unblocking(struct vcpu *v, uint64_t q);

/*
 * Take over the NMIs this CPU took in VMX root operation since the last call, then inject one if the guest
 * can take it, and keep NMI-window exiting on while any is left. Idempotent; nothing to do costs two loads.
 */
void vcpu_deliver_nmis(struct vcpu *v);

/* At the vCPU's launch: its primary controls as written, and the NMIs this CPU took before dropped. */
void vcpu_events_launch(struct vcpu *v);

/* The state after INIT: pending NMIs dropped (counted), NMI-window exiting off. */
void vcpu_events_reset(struct vcpu *v);

/* Print event=vcpu_events for v (and the NMIs its CPU took in VMX root operation). */
void vcpu_events_report(const struct vcpu *v);

#endif
