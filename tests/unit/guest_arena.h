/*
 * A 16 MiB host arena posing as the guest's physical memory, for the guest_load() tests in
 * tests/unit/test_multiboot.c and test_bzimage.c (linked through UNIT_HELPERS_<test> in the Makefile):
 * hapvisor's region is its top 2 MiB, "GRUB's" Multiboot2 information sits at HV_INFO_PA.
 */
#ifndef HV_TESTS_UNIT_GUEST_ARENA_H
#define HV_TESTS_UNIT_GUEST_ARENA_H

#include "guest/mb2.h"
#include "lib/types.h"
#include "mm/memmap.h"

#define ARENA_SIZE MiB(16)
#define HV_REGION_BASE 0xe00000u   /* hapvisor's region: the top 2 MiB of the arena */
#define HV_INFO_PA 0x800000u	   /* where "GRUB" put hapvisor's Multiboot2 information */
#define ARENA_LOW_RAM_END 0x9f000u /* conventional memory: RAM [0, here), then the EBDA (reserved) */

struct image {
	uint8_t *p;
	size_t size;
};

extern uint8_t *arena;		/* guest-physical 0 (host_phys_offset points here) */
extern struct memmap guest_map; /* the map the guest sees */
extern struct mb2_info hv;	/* hapvisor's parsed boot information */

/* Little-endian store / load of n bytes. */
void put_le(uint8_t *p, uint64_t v, size_t n);
uint64_t get_le(const uint8_t *p, size_t n);
/* cmocka group setup / teardown: allocate and free the arena. */
int arena_setup(void **state);
int arena_teardown(void **state);
/* Fill the arena with a pattern, point host_phys_offset at it, and reset guest_map to the 16 MiB map. */
void arena_reset(void);
bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn);
/* guest_load() must refuse with exactly one error line containing message, touching nothing. */
void expect_load_refused(const char *message);

#endif
