/*
 * The ACPI power-management timer as a reference clock for calibrating the TSC (ACPI 6.5 4.8.3.3
 * "Power Management Timer"): a free-running 24-bit (32-bit with the FADT's TMR_VAL_EXT) up-counter at
 * 3.579545 MHz, read from the I/O port the FADT names (PM_TMR_BLK). Used when the 8254 PIT does not count.
 */
#ifndef HV_ARCH_X86_PM_TIMER_H
#define HV_ARCH_X86_PM_TIMER_H

#include "lib/types.h"

/*
 * pm_timer_tsc_ticks: TSC ticks while the PM timer at `port` advances `ms` milliseconds, or 0 when it did
 * not within `tsc_limit` TSC ticks (a dead timer, or none at that port). Reads only; any CPU.
 */
uint64_t pm_timer_tsc_ticks(uint16_t port, bool counts_32bit, uint32_t ms, uint64_t tsc_limit);

#endif
