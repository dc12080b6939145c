/*
 * The one physical -> virtual rule. In hapvisor all physical memory is mapped 1:1 (arch/x86/paging.c);
 * host unit tests run the same code on an arena and set host_phys_offset to (arena - its fake base).
 */
#ifndef HV_MM_PHYS_H
#define HV_MM_PHYS_H

#include "lib/types.h"

#ifdef HV_HOST_TEST
extern uintptr_t host_phys_offset;
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(pa + host_phys_offset);
}
static inline uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)((uintptr_t)va - host_phys_offset);
}
#else
static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}
/* Only for pointers into the 1:1 map; image symbols use hv_image_virt_to_phys() (arch/x86/layout.h). */
static inline uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va;
}
#endif

#endif
