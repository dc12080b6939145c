/*
 * Test-only VMCS corruption (option vmcs_break=NAME, docs/options.md): one field made invalid after the
 * VMCS is written, so the boot lanes can show the VM-entry checker (vmx/entry_check.h) and the CPU
 * rejecting the same rule. A test hook: only the test build (HV_TEST_HOOKS, build/test/hapvisor.elf) has
 * the option and the code; in the release image vmcs_break_apply() is empty and the word is unknown.
 */
#ifndef HV_VMX_VMCS_BREAK_H
#define HV_VMX_VMCS_BREAK_H

#include "lib/types.h"

/* name, and the rule of ENTRY_CHECK_RULES it breaks */
#define VMCS_BREAKS(X)                                                                                       \
	X(guest_cr0_pg, guest_cr0_pg_pe)                                                                     \
	X(guest_tr_type, guest_tr_type)                                                                      \
	X(vpid_zero, vpid_nonzero)                                                                           \
	X(host_cs_rpl, host_selector_rpl_ti)

enum vmcs_break {
	VMCS_BREAK_NONE,
#define VMCS_BREAK_ENUM(name, rule) VMCS_BREAK_##name,
	VMCS_BREAKS(VMCS_BREAK_ENUM)
#undef VMCS_BREAK_ENUM
		VMCS_BREAK_COUNT
};

/*
 * vmcs_break_apply: corrupt the current VMCS as `which` says (nothing for VMCS_BREAK_NONE), and log
 * "event=vmcs_break name=... field=... value=..." so a lane can tell the corruption from a real bug.
 */
#ifdef HV_TEST_HOOKS
void vmcs_break_apply(enum vmcs_break which);
#else
static inline void vmcs_break_apply(enum vmcs_break which)
{
	(void)which; /* the release image has no test hooks: the option never reaches here */
}
#endif

#endif
