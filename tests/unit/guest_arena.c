/* The guest-loader tests' shared arena and helpers (see guest_arena.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "guest/loader.h"
#include "mm/phys.h"
#include "tests/unit/guest_arena.h"
#include "tests/unit/host_stubs.h"

uint8_t *arena;
struct memmap guest_map;
struct mb2_info hv;

void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

int arena_setup(void **state)
{
	arena = malloc(ARENA_SIZE);
	return arena ? 0 : -1;
}

int arena_teardown(void **state)
{
	free(arena);
	return 0;
}

void arena_reset(void)
{
	memset(arena, 0xaa, ARENA_SIZE);
	host_phys_offset = (uintptr_t)arena;
	memmap_init(&guest_map);
	assert_true(memmap_add(&guest_map, 0, ARENA_LOW_RAM_END, MEM_AVAILABLE));
	assert_true(memmap_add(&guest_map, ARENA_LOW_RAM_END, MiB(1) - ARENA_LOW_RAM_END, MEM_RESERVED));
	assert_true(memmap_add(&guest_map, 0x100000, ARENA_SIZE - 0x100000, MEM_AVAILABLE));
	assert_true(memmap_add(&guest_map, 0xc00000, 0x10000, MEM_ACPI_RECLAIMABLE));
	assert_true(memmap_set(&guest_map, HV_REGION_BASE, ARENA_SIZE - HV_REGION_BASE, MEM_HAPVISOR));
	assert_true(memmap_add(&guest_map, 0xfec00000, 0x1000, MEM_RESERVED));
}

bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

/* guest_load() must refuse with exactly one error line containing message, touching nothing. */
void expect_load_refused(const char *message)
{
	static struct memmap before;
	before = guest_map;
	uint8_t *copy = malloc(ARENA_SIZE);
	assert_non_null(copy);
	memcpy(copy, arena, ARENA_SIZE);
	struct guest_entry_state out;
	host_console_reset();
	if (guest_load(&hv, &guest_map, NULL, &out))
		fail_msg("accepted; expected \"%s\"", message);
	if (!strstr(host_console_buf, message))
		fail_msg("expected \"%s\"; console:\n%s", message, host_console_buf);
	const char *e = strstr(host_console_buf, "hapvisor: error: ");
	assert_non_null(e);
	assert_null(strstr(e + 1, "hapvisor: error:"));
	assert_int_equal(before.count, guest_map.count);
	for (size_t i = 0; i < before.count; i++) {
		assert_true(before.ranges[i].base == guest_map.ranges[i].base);
		assert_true(before.ranges[i].size == guest_map.ranges[i].size);
		assert_int_equal(before.ranges[i].type, guest_map.ranges[i].type);
	}
	assert_true(memcmp(copy, arena, ARENA_SIZE) == 0);
	free(copy);
}
