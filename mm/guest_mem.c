/* Guest-physical memory: RAM, hapvisor's region and the limit (see guest_mem.h). */
#include "mm/guest_mem.h"

static const struct memmap *guest_map;
static uint64_t guest_limit;

void guest_mem_init(const struct memmap *map, uint64_t limit)
{
	guest_map = map;
	guest_limit = limit;
}

uint64_t guest_mem_limit(void)
{
	return guest_limit;
}

/* The types the guest may hand hapvisor as a buffer or a page table: RAM it owns (firmware tables included).
 */
static bool is_guest_ram(enum mem_type t)
{
	return t == MEM_AVAILABLE || t == MEM_ACPI_RECLAIMABLE || t == MEM_ACPI_NVS || t == MEM_BOOT;
}

bool guest_mem_is_ram(uint64_t gpa, uint64_t len)
{
	if (!guest_map || len == 0 || gpa + len < gpa || gpa + len > guest_limit)
		return false;
	uint64_t end = gpa + len;
	while (gpa < end) {
		const struct mem_range *r = memmap_lookup(guest_map, gpa);
		if (!r || !is_guest_ram(r->type))
			return false;
		gpa = r->base + r->size;
	}
	return true;
}

bool guest_mem_is_hapvisor(uint64_t gpa)
{
	const struct mem_range *r = guest_map ? memmap_lookup(guest_map, gpa) : NULL;
	return r && r->type == MEM_HAPVISOR;
}

bool guest_mem_overlaps_hapvisor(uint64_t base, uint64_t size)
{
	for (size_t i = 0; guest_map && i < guest_map->count; i++) {
		const struct mem_range *r = &guest_map->ranges[i];
		if (r->type == MEM_HAPVISOR && r->base < base + size && base < r->base + r->size)
			return true;
	}
	return false;
}
