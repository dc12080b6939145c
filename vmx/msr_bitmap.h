/* The MSR bitmap (SDM Vol. 3C 25.6.9): which guest RDMSR/WRMSR exit. */
#ifndef HV_VMX_MSR_BITMAP_H
#define HV_VMX_MSR_BITMAP_H

#include "lib/types.h"

/*
 * Allocate the bitmap with every MSR hapvisor must see caught (with shadow paging IA32_EFER too, whose
 * guest value hapvisor keeps); returns its physical address (0: no pool).
 */
uint64_t msr_bitmap_create(bool shadow_paging);

#endif
