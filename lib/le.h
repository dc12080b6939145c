/*
 * Little-endian loads and stores on byte buffers that may be unaligned: firmware tables (ACPI), the
 * Multiboot2 information, kernel headers (ELF, Multiboot, the Linux setup header), the boot information
 * hapvisor writes for a guest. One byte at a time, so no alignment or strict-aliasing assumption is made.
 */
#ifndef HV_LIB_LE_H
#define HV_LIB_LE_H

#include "lib/types.h"

static inline uint16_t le16_load(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t le32_load(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline uint64_t le64_load(const uint8_t *p)
{
	return (uint64_t)le32_load(p) | ((uint64_t)le32_load(p + 4) << 32);
}

/* Store the low `bytes` bytes of v at p, least significant first. */
static inline void le_store(uint8_t *p, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void le16_store(uint8_t *p, uint16_t v)
{
	le_store(p, v, 2);
}

static inline void le32_store(uint8_t *p, uint32_t v)
{
	le_store(p, v, 4);
}

static inline void le64_store(uint8_t *p, uint64_t v)
{
	le_store(p, v, 8);
}

#endif
