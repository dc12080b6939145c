/*
 * The 8254 PIT's channel 2 as a reference clock for calibrating the TSC (Intel 8254 datasheet; the PC/AT
 * wiring of port 0x61). hapvisor times nothing with the PIT itself: its delays count TSC ticks
 * (arch/x86/tsc.h), because recent Intel chipsets can gate the 8254's clock, and a PIT that never counts
 * would make every wait run to its poll limit.
 */
#ifndef HV_ARCH_X86_PIT_H
#define HV_ARCH_X86_PIT_H

#include "lib/types.h"

/*
 * pit_tsc_ticks: TSC ticks while channel 2 counts down `ms` milliseconds (1..54, the 16-bit counter at
 * 1.193182 MHz), or 0 when its output did not rise within `tsc_limit` TSC ticks (a gated or absent PIT).
 * Leaves channel 2 stopped and the speaker off. Needs: one CPU at a time; nothing else using channel 2.
 */
uint64_t pit_tsc_ticks(uint32_t ms, uint64_t tsc_limit);

#endif
