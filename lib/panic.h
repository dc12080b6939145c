/* panic(): report an unrecoverable hypervisor error and stop the machine; never returns. */
#ifndef HV_LIB_PANIC_H
#define HV_LIB_PANIC_H

#include "lib/types.h"

NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* Stop after a fatal error that has already been reported: every other CPU stopped (smp_stop_all, if not
 * done yet), then the on_exit action with status error. */
NORETURN void hv_abort(const char *reason);

/* Assertion that stays on in release builds: a broken invariant is a panic, not silent corruption. */
#define HV_ASSERT(cond)                                                                                      \
	do {                                                                                                 \
		if (!(cond))                                                                                 \
			panic("assertion '%s' failed at %s:%d", #cond, __FILE__, __LINE__);                  \
	} while (0)

#endif
