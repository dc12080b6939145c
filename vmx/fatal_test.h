/*
 * Test-only faults in hapvisor itself (option fatal_test=NAME, docs/options.md), so the boot lanes can show
 * that a fatal error on one CPU stops every CPU and is reported (arch/x86/smp.h smp_stop_all,
 * arch/x86/exception.c, arch/x86/mce.h): the first hypercall a vCPU other than CPU 0 makes runs, in VMX
 * root operation on that CPU, UD2 (exception) or INT 18, the machine-check vector (machine_check: the #MC
 * handler's path; a real machine check cannot be raised in an emulator). Never used outside tests: only the
 * test build (HV_TEST_HOOKS, build/test/hapvisor.elf) has it, the release image has no trace of it.
 */
#ifndef HV_VMX_FATAL_TEST_H
#define HV_VMX_FATAL_TEST_H

#include "vmx/vcpu.h"

/* value, and its spelling in the option (boot/options.c) */
#define FATAL_TESTS(X)                                                                                       \
	X(FATAL_TEST_NONE, "none")                                                                           \
	X(FATAL_TEST_EXCEPTION, "exception")                                                                 \
	X(FATAL_TEST_MACHINE_CHECK, "machine_check")

enum fatal_test {
#define FATAL_TEST_ENUM(value, name) value,
	FATAL_TESTS(FATAL_TEST_ENUM)
#undef FATAL_TEST_ENUM
		FATAL_TEST_COUNT
};

#ifdef HV_TEST_HOOKS
/* fatal_test_arm: what the first hypercall from a CPU other than CPU 0 does (nothing: FATAL_TEST_NONE). */
void fatal_test_arm(enum fatal_test which);

extern enum fatal_test fatal_test_armed; /* what fatal_test_arm() set, until it fires */

/* fatal_test_fire: fault here, on v's CPU, when v is not CPU 0's (fatal_test_hypercall's slow path). */
void fatal_test_fire(const struct vcpu *v);

/* fatal_test_hypercall: called for every hypercall; one load and branch unless armed. */
static inline void fatal_test_hypercall(const struct vcpu *v)
{
	if (__builtin_expect(fatal_test_armed != FATAL_TEST_NONE, 0))
		fatal_test_fire(v);
}
#else /* the release image: no hook, nothing on the hypercall path */
static inline void fatal_test_arm(enum fatal_test which)
{
	(void)which;
}

static inline void fatal_test_hypercall(const struct vcpu *v)
{
	(void)v;
}
#endif
#endif
