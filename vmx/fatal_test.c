/* Test-only faults in hapvisor (see fatal_test.h): the test build only. */
#include "vmx/fatal_test.h"
#include "lib/log.h"

#ifdef HV_TEST_HOOKS

enum fatal_test fatal_test_armed;

void fatal_test_arm(enum fatal_test which)
{
	fatal_test_armed = which;
	if (which != FATAL_TEST_NONE)
		log_warn(
			"fatal_test is set: hapvisor will fault on purpose at the first hypercall from a CPU other than CPU 0 (tests only)");
}

void fatal_test_fire(const struct vcpu *v)
{
	enum fatal_test which = fatal_test_armed;
	if (which == FATAL_TEST_NONE || v->cpu == 0)
		return;
	fatal_test_armed = FATAL_TEST_NONE;
	log_event("fatal_test cpu=%u fault=%s", v->cpu, which == FATAL_TEST_EXCEPTION ? "ud2" : "int18");
	if (which == FATAL_TEST_EXCEPTION)
		__asm__ volatile("ud2");
	else
		__asm__ volatile("int $18"); /* through the #MC gate, as a machine check would come */
}
#endif
