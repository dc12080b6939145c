/* testkernel: the run as a whole: the state checks share, and the way out. */
#ifndef TK_MAIN_H
#define TK_MAIN_H

#include "idt.h"
#include "multiboot.h"

struct tk_context {
	uint32_t magic; /* EAX from the loader */
	struct boot_info boot;
	/* Set by check memory_map: the reserved range taken to be hapvisor's region. */
	bool have_hv_region;
	struct mem_range hv_region;
};

/* tk_main: called by entry.asm in long mode with the loader's EAX and EBX. Does not return. */
__attribute__((noreturn)) void tk_main(uint32_t magic, uint32_t info);

/* tk_finish: print the summary of check_passed/check_failed, report it, power off (status 1 on a failure). */
__attribute__((noreturn)) void tk_finish(void);

/* tk_fatal_exception: an exception no probe expected: fail the current check, report, power off. */
__attribute__((noreturn)) void tk_fatal_exception(const struct trap_frame *f);

#endif
