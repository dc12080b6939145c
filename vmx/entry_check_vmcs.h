/* Running the VM-entry checker (vmx/entry_check.h) on the current VMCS. */
#ifndef HV_VMX_ENTRY_CHECK_VMCS_H
#define HV_VMX_ENTRY_CHECK_VMCS_H

#include "boot/options.h"
#include "lib/types.h"

/*
 * entry_check_vmcs: snapshot the current VMCS (VMREAD of every field the checker reads; a field this CPU
 * lacks reads as 0), check it against SDM Vol. 3C 26.2-26.3.1 with this CPU's capability MSRs, and print
 * the report for stage `when` ("launch", "entry_failure"): the failed rules and the summary event with
 * the RDTSC ticks the snapshot and the check took. Needs a current VMCS. Returns true when every rule holds.
 */
bool entry_check_vmcs(const char *when);

/*
 * entry_check_before_launch: apply the test-only `vmcs_break`, then check the VMCS (unless `mode` is
 * ENTRY_CHECK_OFF). On a failure under ENTRY_CHECK_ENFORCE it leaves VMX operation and ends the run with
 * `on_exit` (status 1, reason "VM-entry check failed"); under ENTRY_CHECK_WARN it says so and returns.
 */
void entry_check_before_launch(enum entry_check_mode mode, enum vmcs_break vmcs_break,
			       enum on_exit_action on_exit);

/*
 * entry_check_after_failure: after VMfail with VM-instruction error 7 or 8, or an exit with "VM-entry
 * failure" set (SDM Vol. 3C 27.8), check the VMCS again so the report names the rule the CPU refused.
 */
void entry_check_after_failure(void);

#endif
