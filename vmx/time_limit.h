/*
 * The guest's time limit (option guest_timeout): the VMX-preemption timer (SDM Vol. 3C 25.5.1) stops a
 * guest that runs longer than the limit, whether or not it ever exits.
 */
#ifndef HV_VMX_TIME_LIMIT_H
#define HV_VMX_TIME_LIMIT_H

#include "lib/types.h"
#include "vmx/exit.h"

/*
 * time_limit_setup: give v a time limit of limit_ms milliseconds of guest time, converted to VMX-
 * preemption-timer units with the TSC rate (arch/x86/tsc.h) and IA32_VMX_MISC[4:0]; print
 * "event=time_limit when=launch ...". Returns false after an error sentence (and "event=vmx_refused
 * reason=no_preemption_timer") when this CPU lacks the timer or the control that saves its value, or
 * when the TSC rate cannot be found. Needs: vmx_probe() done.
 */
bool time_limit_setup(struct vcpu *v, uint64_t limit_ms);

/*
 * time_limit_arm: load the next part of the limit into the current VMCS's timer field (at most 2^32 - 1
 * units at a time). Needs: v's VMCS current, set up with cfg.preemption_timer.
 */
void time_limit_arm(struct vcpu *v);

/* exit_preemption_timer (vmx/exit.h), exit reason 52: the timer reached zero. Re-arm while some of the limit
 * is left, else stop the guest. */

#endif
