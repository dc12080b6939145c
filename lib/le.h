/*
 * Little-endian loads from byte buffers that may be unaligned: firmware tables (ACPI), the Multiboot2
 * information. One byte at a time, so no alignment or strict-aliasing assumption is made about the source.
 */
#ifndef HV_LIB_LE_H
#define HV_LIB_LE_H

#include "lib/types.h"

static inline uint32_t le32_load(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t le64_load(const uint8_t *p)
{
	return (uint64_t)le32_load(p) | ((uint64_t)le32_load(p + 4) << 32);
}

#endif
