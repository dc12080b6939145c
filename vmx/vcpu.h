/* A virtual CPU: the guest's registers that the VMCS does not hold, its VMCS, and its statistics. */
#ifndef HV_VMX_VCPU_H
#define HV_VMX_VCPU_H

#include "guest/hypercall_abi.h"
#include "lib/deferred_log.h"
#include "lib/types.h"

/* General-purpose registers in the SDM's register-number order (Vol. 3C Table 28-3), so exit
 * qualifications that name a register index gpr[] directly. gpr[GPR_RSP] is unused: RSP is in the VMCS. */
enum gpr {
	GPR_RAX,
	GPR_RCX,
	GPR_RDX,
	GPR_RBX,
	GPR_RSP,
	GPR_RBP,
	GPR_RSI,
	GPR_RDI,
	GPR_R8,
	GPR_R9,
	GPR_R10,
	GPR_R11,
	GPR_R12,
	GPR_R13,
	GPR_R14,
	GPR_R15,
	GPR_COUNT
};

struct guest_regs {
	uint64_t gpr[GPR_COUNT];
};
/* vmx/entry.asm addresses the registers as [regs + 8 * number]. */
_Static_assert(sizeof(struct guest_regs) == GPR_COUNT * 8, "guest_regs layout is fixed by vmx/entry.asm");

struct exit_stats {
	uint64_t count[HC_EXIT_REASONS];
	uint64_t cycles[HC_EXIT_REASONS]; /* rdtsc from the exit to the next entry, summed */
	uint64_t total;
};

/* What became of the guest's events on one vCPU (vmx/events.c), printed as event=vcpu_events at the end. */
struct event_stats {
	uint64_t nmi_exits;	  /* NMIs that arrived while the guest ran: NMI exits */
	uint64_t nmi_injected;	  /* NMIs delivered to the guest */
	uint64_t nmi_windows;	  /* NMI-window exits */
	uint64_t nmi_merged;	  /* NMIs folded into one still pending, as the CPU folds them */
	uint64_t nmi_discarded;	  /* NMIs that arrived before the launch or before an INIT of this vCPU */
	uint64_t nmi_iret_blocks; /* exits with "NMI unblocking due to IRET": blocking restored on resume */
	uint64_t reinjected[8];	  /* events an exit interrupted, delivered again, by interruption type */
	uint64_t exceptions;	  /* exceptions hapvisor raised in the guest (#GP, #UD) */
};

enum vcpu_state { VCPU_RUNNING, VCPU_STOPPED };

#define VCPU_PAE_PDPTES 4

/*
 * The guest's paging registers as the guest set them, under shadow paging (vmx/shadow_exit.c): the VMCS
 * holds hapvisor's values there (CR3 the shadow root, EFER with NXE forced, CR0.PG/WP and CR4.PAE forced
 * on). Under EPT the VMCS holds the guest's own and this is unused.
 */
struct vcpu_paging {
	uint64_t cr3;
	uint64_t efer;
	uint64_t pdptes[VCPU_PAE_PDPTES]; /* PAE paging: what the guest's MOV to CR3 (or CR0/CR4) loaded */
	uint64_t hw_cr3;		  /* the shadow root last written to GUEST_CR3 */
};

struct vcpu {
	struct guest_regs regs;
	uint64_t vmcs_pa;
	unsigned cpu; /* the CPU it runs on: percpu[cpu] (arch/x86/percpu.h) */
	uint16_t vpid;
	bool launched;
	bool wait_for_sipi;	 /* set in the state after INIT until a SIPI arrives */
	bool just_started;	 /* the last exit was a SIPI: no guest instruction has run since */
	uint32_t inits_dropped;	 /* INIT exits dropped since the last SIPI (exit_init_signal) */
	bool clear_smi_blocking; /* started by a SIPI exit: see run.c, before each VM entry */
	enum vcpu_state state;
	bool shadow; /* paging=shadow: the guest's paging registers are in paging, its tables shadowed */
	struct vcpu_paging paging;
	int stop_status; /* 0: guest asked to end with success */
	const char *stop_reason;
	/* The current exit, read once by the dispatcher. */
	uint32_t exit_reason;
	uint64_t exit_qualification;
	uint32_t idt_vectoring; /* the event the exit interrupted, if valid (vmx/events.c) */
	uint32_t nmi_pending;	/* NMIs for the guest not delivered yet (vmx/events.c) */
	uint32_t proc_ctrl;	/* the primary processor-based controls as last written */
	struct exit_stats stats;
	struct event_stats events;
	/* The guest's time limit (vmx/time_limit.c): 0 = none; VMX-preemption-timer units not yet armed. */
	uint64_t time_limit_ms;
	uint64_t timer_units_left;
	/* Event lines of the INIT and SIPI exits, printed at this vCPU's next other exit or at the end of the
	 * run (lib/deferred_log.h): those exits must not wait for the console. */
	struct deferred_log log;
};

#endif
