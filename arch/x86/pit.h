/* Busy-wait delays timed by the 8254 PIT's channel 2 (Intel 8254 datasheet; the PC/AT wiring of port 0x61).
 */
#ifndef HV_ARCH_X86_PIT_H
#define HV_ARCH_X86_PIT_H

#include "lib/types.h"

/*
 * pit_delay_us: wait at least `us` microseconds, counted by the PIT (1.193182 MHz), which runs in the
 * emulated time of Bochs and QEMU as on hardware, where the TSC rate is unknown (and, in Bochs, counts
 * instructions). Each chunk is also bounded by an iteration limit, so a machine without a PIT cannot hang
 * here. Leaves channel 2 stopped, the speaker off. Needs: one CPU at a time (hapvisor's boot processor).
 */
void pit_delay_us(uint32_t us);

#endif
