/* The I/O bitmaps (SDM Vol. 3C 25.6.4): the guest owns every port except the few hapvisor watches. */
#ifndef HV_VMX_IO_BITMAP_H
#define HV_VMX_IO_BITMAP_H

#include "lib/types.h"

/*
 * Allocate bitmaps A (ports 0-0x7FFF) and B (0x8000-0xFFFF) catching only the ports through which the
 * guest powers off or resets the machine (ACPI PM1a/PM1b control, 0xCF9, the keyboard controller command port
 * 0x64), so hapvisor can report the end of the run before it happens. Returns false when the pool is
 * exhausted.
 */
bool io_bitmap_create(uint64_t *a, uint64_t *b);

#endif
