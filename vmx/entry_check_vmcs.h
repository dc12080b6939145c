/* Running the VM-entry checker (vmx/entry_check.h) on the current VMCS. */
#ifndef HV_VMX_ENTRY_CHECK_VMCS_H
#define HV_VMX_ENTRY_CHECK_VMCS_H

#include "arch/x86/power.h"
#include "lib/types.h"
#include "vmx/vmcs_break.h"

/*
 * What a failed VM-entry check before VMLAUNCH does (option entry_check), with the option's name for each:
 * stop the run, report and launch anyway, or skip the check.
 */
#define ENTRY_CHECK_MODES(X)                                                                                 \
	X(ENTRY_CHECK_ENFORCE, "enforce")                                                                    \
	X(ENTRY_CHECK_WARN, "warn")                                                                          \
	X(ENTRY_CHECK_OFF, "off")

enum entry_check_mode {
#define ENTRY_CHECK_ENUM(mode, name) mode,
	ENTRY_CHECK_MODES(ENTRY_CHECK_ENUM)
#undef ENTRY_CHECK_ENUM
		ENTRY_CHECK_MODE_COUNT
};

/* The option's spelling of a mode ("warn"); "?" for a value out of range. */
static inline const char *entry_check_mode_name(enum entry_check_mode mode)
{
	static const char *const names[] = {
#define ENTRY_CHECK_NAME(mode, name) [mode] = name,
		ENTRY_CHECK_MODES(ENTRY_CHECK_NAME)
#undef ENTRY_CHECK_NAME
	};
	return (size_t)mode < ARRAY_SIZE(names) ? names[mode] : "?";
}

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
