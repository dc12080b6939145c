/* Events for the guest: exceptions, re-injection, NMIs (see events.h). */
#include "vmx/events.h"
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/shadow_exit.h"
#include "vmx/vmx_ops.h"

/* What keeps an NMI from being injected now (SDM Vol. 3C 27.3.1.5: no NMI injection under MOV-SS or, with
 * virtual NMIs, virtual-NMI blocking; STI blocking too, as some processors refuse that entry as well). */
#define NMI_BLOCKED_BY (INTERRUPTIBILITY_STI | INTERRUPTIBILITY_MOV_SS | INTERRUPTIBILITY_NMI)
/* NMIs that can wait: one while another is blocked, else two (one delivered, one latched behind it). */
#define NMI_WAITING_MAX_BLOCKED 1u
#define NMI_WAITING_MAX 2u
#define INTR_TYPE_INDEX(info) (((info)&INTR_TYPE_MASK) >> 8)

/*
 * Fault-class exceptions (SDM Vol. 3A Table 6-1): the CPU pushes RF = 1 for them (Vol. 3B 17.3.1.1). #DB is
 * a fault or a trap depending on its cause; hapvisor never raises it. #BP and #OF are traps, #DF and #MC
 * aborts.
 */
static bool exception_is_fault(uint8_t vector)
{
	switch (vector) {
	case EXC_DE:
	case EXC_BR:
	case EXC_UD:
	case EXC_NM:
	case EXC_TS:
	case EXC_NP:
	case EXC_SS:
	case EXC_GP:
	case EXC_PF:
	case EXC_MF:
	case EXC_AC:
	case EXC_XM:
	case EXC_VE:
	case EXC_CP:
		return true;
	default:
		return false;
	}
}

/* Whether an event is set up for the next VM entry: every VM exit clears the field's valid bit (SDM Vol. 3C
 * 28.2 "Recording VM-Exit Information and Updating VM-Entry Control Fields"), so it says "during this exit".
 */
static bool entry_event_set(void)
{
	return (vmcs_read32(VM_ENTRY_INTR_INFO) & INTR_INFO_VALID) != 0;
}

/* The one writer of the VM-entry interruption information. A halted guest wakes, as an event wakes HLT
 * (the guest's RIP is already past the HLT). */
static void set_entry_event(uint32_t info)
{
	HV_ASSERT(!entry_event_set());
	vmcs_write32(VM_ENTRY_INTR_INFO, info);
	if (vmcs_read32(GUEST_ACTIVITY_STATE) == ACTIVITY_HLT)
		vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
}

void vcpu_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error)
{
	uint32_t info = INTR_INFO_VALID | INTR_TYPE_HARD_EXCEPTION | vector;
	if (has_error) {
		info |= INTR_INFO_DELIVER_ERROR_CODE;
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, error);
	}
	/* Event injection pushes RFLAGS as the VMCS holds it (SDM Vol. 3C 27.6.1.2), so RF is set here. */
	if (exception_is_fault(vector))
		vmcs_writenat(GUEST_RFLAGS, vmcs_readnat(GUEST_RFLAGS) | RFLAGS_RF);
	set_entry_event(info);
	v->events.exceptions++;
}

void vcpu_complete_interrupts(struct vcpu *v)
{
	/* The handler stopped the vCPU (no entry follows), or injected an event itself: a #DF that merges a
	 * #PF with the event it interrupted (vmx/shadow_exit.c), which replaces that event. */
	if (v->state != VCPU_RUNNING || entry_event_set())
		return;
	uint32_t vectoring = v->idt_vectoring;
	uint32_t type = vectoring & INTR_TYPE_MASK;
	/* Bit 12 is undefined in IDT-vectoring information and reserved in the entry field. */
	uint32_t info = vectoring & (INTR_INFO_VALID | INTR_TYPE_MASK | INTR_INFO_DELIVER_ERROR_CODE |
				     INTR_INFO_VECTOR_MASK);
	if (vectoring & INTR_INFO_DELIVER_ERROR_CODE)
		vmcs_write32(VM_ENTRY_EXCEPTION_ERROR_CODE, vmcs_read32(IDT_VECTORING_ERROR_CODE));
	if (type == INTR_TYPE_SOFT_INTERRUPT || type == INTR_TYPE_PRIV_SOFT_EXCEPTION ||
	    type == INTR_TYPE_SOFT_EXCEPTION)
		vmcs_write32(VM_ENTRY_INSTRUCTION_LEN, vmcs_read32(VM_EXIT_INSTRUCTION_LEN));
	if (type == INTR_TYPE_NMI) {
		uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
		if (intr & INTERRUPTIBILITY_NMI)
			vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(uint32_t)INTERRUPTIBILITY_NMI);
	}
	set_entry_event(info);
	v->events.reinjected[INTR_TYPE_INDEX(type)]++;
}

void vcpu_nmi_iret_unblocking(struct vcpu *v, uint64_t q)
{
	if (!(q & INTR_INFO_NMI_UNBLOCKING) || (v->idt_vectoring & INTR_INFO_VALID))
		return;
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO,
		     vmcs_read32(GUEST_INTERRUPTIBILITY_INFO) | INTERRUPTIBILITY_NMI);
	v->events.nmi_iret_blocks++;
}

static void set_nmi_window(struct vcpu *v, bool on)
{
	uint32_t ctrl =
		on ? v->proc_ctrl | CPU_NMI_WINDOW_EXITING : v->proc_ctrl & ~(uint32_t)CPU_NMI_WINDOW_EXITING;
	if (ctrl == v->proc_ctrl)
		return;
	v->proc_ctrl = ctrl;
	vmcs_write32(CPU_BASED_VM_EXEC_CONTROL, ctrl);
}

/* The NMIs this CPU took in VMX root operation since the last look become the vCPU's. */
static void take_root_nmis(struct vcpu *v)
{
	struct percpu *c = this_cpu();
	uint32_t root = c->nmi_root;
	v->nmi_pending += root - c->nmi_root_seen;
	c->nmi_root_seen = root;
}

void vcpu_deliver_nmis(struct vcpu *v)
{
	take_root_nmis(v);
	if (!v->nmi_pending || v->wait_for_sipi) /* no event can be injected in wait-for-SIPI: held */
		return;
	uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
	uint32_t max = (intr & INTERRUPTIBILITY_NMI) ? NMI_WAITING_MAX_BLOCKED : NMI_WAITING_MAX;
	if (v->nmi_pending > max) {
		v->events.nmi_merged += v->nmi_pending - max;
		v->nmi_pending = max;
	}
	if (!(intr & NMI_BLOCKED_BY) && !entry_event_set()) {
		set_entry_event(INTR_INFO_VALID | INTR_TYPE_NMI | EXC_NMI);
		v->nmi_pending--;
		v->events.nmi_injected++;
	}
	set_nmi_window(v, v->nmi_pending != 0);
}

/* An NMI arrived while the guest ran (SDM Vol. 3C 26.2), or an exception in the bitmap: #PF under shadow
 * paging. */
void exit_exception_nmi(struct vcpu *v)
{
	uint32_t info = vmcs_read32(VM_EXIT_INTR_INFO);
	if ((info & INTR_TYPE_MASK) != INTR_TYPE_NMI) {
		shadow_exception(v, info); /* #PF under shadow paging; anything else is unexpected */
		return;
	}
	if (smp_stopping()) /* the NMI of smp_stop_all: another CPU had a fatal error */
		smp_halt_stopped();
	v->events.nmi_exits++;
	v->nmi_pending++;
	vcpu_deliver_nmis(v);
}

/* The guest can take an NMI now (SDM Vol. 3C 26.7.6). */
void exit_nmi_window(struct vcpu *v)
{
	v->events.nmi_windows++;
	set_nmi_window(v, false);
	vcpu_deliver_nmis(v);
}

void vcpu_events_launch(struct vcpu *v)
{
	struct percpu *c = this_cpu();
	v->proc_ctrl = vmcs_read32(CPU_BASED_VM_EXEC_CONTROL);
	v->events.nmi_discarded += c->nmi_root - c->nmi_root_seen;
	c->nmi_root_seen = c->nmi_root;
}

void vcpu_events_reset(struct vcpu *v)
{
	take_root_nmis(v);
	v->events.nmi_discarded += v->nmi_pending;
	v->nmi_pending = 0;
	set_nmi_window(v, false);
}

void vcpu_events_report(const struct vcpu *v)
{
	const struct event_stats *e = &v->events;
	log_event(
		"vcpu_events cpu=%u nmi_root=%u nmi_exits=%llu nmi_injected=%llu nmi_pending=%u nmi_windows=%llu nmi_merged=%llu nmi_discarded=%llu nmi_iret_blocks=%llu nmi_restarts=%u reinjected_external=%llu reinjected_nmi=%llu reinjected_hw_exception=%llu reinjected_soft=%llu exceptions=%llu",
		v->cpu, percpu[v->cpu].nmi_root, (unsigned long long)e->nmi_exits,
		(unsigned long long)e->nmi_injected, v->nmi_pending, (unsigned long long)e->nmi_windows,
		(unsigned long long)e->nmi_merged, (unsigned long long)e->nmi_discarded,
		(unsigned long long)e->nmi_iret_blocks, percpu[v->cpu].nmi_restarts,
		(unsigned long long)e->reinjected[INTR_TYPE_INDEX(INTR_TYPE_EXTERNAL)],
		(unsigned long long)e->reinjected[INTR_TYPE_INDEX(INTR_TYPE_NMI)],
		(unsigned long long)e->reinjected[INTR_TYPE_INDEX(INTR_TYPE_HARD_EXCEPTION)],
		(unsigned long long)(e->reinjected[INTR_TYPE_INDEX(INTR_TYPE_SOFT_INTERRUPT)] +
				     e->reinjected[INTR_TYPE_INDEX(INTR_TYPE_PRIV_SOFT_EXCEPTION)] +
				     e->reinjected[INTR_TYPE_INDEX(INTR_TYPE_SOFT_EXCEPTION)]),
		(unsigned long long)e->exceptions);
}
