/*
 * The normalized memory map: overlap resolution, carving, limits, the Multiboot2 and EFI sources, placement
 * search and the printed lines; plus a randomized comparison against a one-type-per-page model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "guest/mb2.h"
#include "boot/memmap_mb2.h"
#include "mm/memmap.h"
#include "tests/unit/host_stubs.h"

#define R(b, s, t)                                                                                           \
	{                                                                                                    \
		.base = (b), .size = (s), .type = (t)                                                        \
	}

static struct memmap map;

/* The invariants every map must keep, whatever happened to it. */
static void check_normalized(const struct memmap *m)
{
	assert_true(m->count <= MEMMAP_MAX);
	for (size_t i = 0; i < m->count; i++) {
		const struct mem_range *r = &m->ranges[i];
		assert_true(r->size > 0);
		assert_true(r->base + r->size > r->base);
		assert_true(r->base + r->size <= MEMMAP_ADDR_END);
		assert_true((unsigned)r->type < MEM_TYPE_COUNT);
		if (i > 0) {
			const struct mem_range *p = &m->ranges[i - 1];
			assert_true(p->base + p->size <= r->base);
			assert_false(p->base + p->size == r->base && p->type == r->type);
		}
	}
}

static void check_map(const struct memmap *m, const struct mem_range *want, size_t n)
{
	check_normalized(m);
	if (m->count != n) {
		for (size_t i = 0; i < m->count; i++)
			print_error("  got [%zu] %#llx +%#llx %s\n", i, (unsigned long long)m->ranges[i].base,
				    (unsigned long long)m->ranges[i].size, mem_type_name(m->ranges[i].type));
	}
	assert_int_equal(m->count, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(m->ranges[i].base, want[i].base);
		assert_int_equal(m->ranges[i].size, want[i].size);
		assert_string_equal(mem_type_name(m->ranges[i].type), mem_type_name(want[i].type));
	}
}

#define CHECK_MAP(...)                                                                                       \
	do {                                                                                                 \
		const struct mem_range want_[] = {__VA_ARGS__};                                              \
		check_map(&map, want_, sizeof(want_) / sizeof(want_[0]));                                    \
	} while (0)

static int setup(void **state)
{
	memmap_init(&map);
	host_console_reset();
	return 0;
}

static void test_empty_and_zero_size(void **state)
{
	assert_int_equal(map.count, 0);
	assert_true(memmap_add(&map, 0x1000, 0, MEM_AVAILABLE));
	assert_true(memmap_set(&map, 0x1000, 0, MEM_HAPVISOR));
	assert_int_equal(map.count, 0);
	assert_true(memmap_add(&map, 0x1000, 0x1000, MEM_AVAILABLE));
	CHECK_MAP(R(0x1000, 0x1000, MEM_AVAILABLE));
}

static void test_overlap_contained(void **state)
{
	/* A stronger range inside a weaker one splits it; a weaker one inside a stronger one vanishes. */
	assert_true(memmap_add(&map, 0, MiB(100), MEM_AVAILABLE));
	assert_true(memmap_add(&map, MiB(10), MiB(1), MEM_RESERVED));
	CHECK_MAP(R(0, MiB(10), MEM_AVAILABLE), R(MiB(10), MiB(1), MEM_RESERVED),
		  R(MiB(11), MiB(89), MEM_AVAILABLE));
	assert_true(memmap_add(&map, MiB(10) + 0x1000, 0x1000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, MiB(10), MiB(1), MEM_ACPI_RECLAIMABLE));
	CHECK_MAP(R(0, MiB(10), MEM_AVAILABLE), R(MiB(10), MiB(1), MEM_RESERVED),
		  R(MiB(11), MiB(89), MEM_AVAILABLE));
	/* A weaker range containing stronger ones only fills around them. */
	memmap_init(&map);
	assert_true(memmap_add(&map, 0x3000, 0x1000, MEM_ACPI_NVS));
	assert_true(memmap_add(&map, 0x6000, 0x1000, MEM_BAD));
	assert_true(memmap_add(&map, 0, 0x10000, MEM_AVAILABLE));
	CHECK_MAP(R(0, 0x3000, MEM_AVAILABLE), R(0x3000, 0x1000, MEM_ACPI_NVS),
		  R(0x4000, 0x2000, MEM_AVAILABLE), R(0x6000, 0x1000, MEM_BAD),
		  R(0x7000, 0x9000, MEM_AVAILABLE));
}

static void test_overlap_straddling(void **state)
{
	assert_true(memmap_add(&map, 0, MiB(10), MEM_AVAILABLE));
	assert_true(memmap_add(&map, MiB(8), MiB(4), MEM_RESERVED));
	CHECK_MAP(R(0, MiB(8), MEM_AVAILABLE), R(MiB(8), MiB(4), MEM_RESERVED));

	/* The same two ranges in the other order give the same map. */
	memmap_init(&map);
	assert_true(memmap_add(&map, MiB(8), MiB(4), MEM_RESERVED));
	assert_true(memmap_add(&map, 0, MiB(10), MEM_AVAILABLE));
	CHECK_MAP(R(0, MiB(8), MEM_AVAILABLE), R(MiB(8), MiB(4), MEM_RESERVED));

	/* A range straddling two others and the hole between them. */
	memmap_init(&map);
	assert_true(memmap_add(&map, 0x1000, 0x2000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, 0x5000, 0x2000, MEM_ACPI_NVS));
	assert_true(memmap_add(&map, 0x2000, 0x4000, MEM_ACPI_RECLAIMABLE));
	CHECK_MAP(R(0x1000, 0x1000, MEM_AVAILABLE), R(0x2000, 0x3000, MEM_ACPI_RECLAIMABLE),
		  R(0x5000, 0x2000, MEM_ACPI_NVS));
}

static void test_overlap_identical(void **state)
{
	/* Every order of the firmware types over one range ends with the strongest. */
	static const enum mem_type order[] = {MEM_AVAILABLE, MEM_BAD, MEM_ACPI_RECLAIMABLE, MEM_ACPI_NVS,
					      MEM_RESERVED};
	for (size_t rot = 0; rot < 5; rot++) {
		memmap_init(&map);
		for (size_t k = 0; k < 5; k++)
			assert_true(memmap_add(&map, 0x100000, 0x1000, order[(rot + k) % 5]));
		CHECK_MAP(R(0x100000, 0x1000, MEM_BAD));
	}
	/* Pairwise precedence: BAD > NVS > RESERVED > ACPI_RECLAIMABLE > AVAILABLE. */
	static const enum mem_type rank[] = {MEM_AVAILABLE, MEM_ACPI_RECLAIMABLE, MEM_RESERVED, MEM_ACPI_NVS,
					     MEM_BAD};
	for (size_t a = 0; a < 5; a++)
		for (size_t b = 0; b < 5; b++) {
			memmap_init(&map);
			assert_true(memmap_add(&map, 0, 0x1000, rank[a]));
			assert_true(memmap_add(&map, 0, 0x1000, rank[b]));
			CHECK_MAP(R(0, 0x1000, rank[a > b ? a : b]));
		}
}

static void test_adjacent_merge(void **state)
{
	assert_true(memmap_add(&map, 0x1000, 0x1000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, 0x3000, 0x1000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, 0x2000, 0x1000, MEM_RESERVED));
	CHECK_MAP(R(0x1000, 0x1000, MEM_AVAILABLE), R(0x2000, 0x1000, MEM_RESERVED),
		  R(0x3000, 0x1000, MEM_AVAILABLE));
	assert_true(memmap_set(&map, 0x2000, 0x1000, MEM_AVAILABLE)); /* three become one */
	CHECK_MAP(R(0x1000, 0x3000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, 0x4000, 0x1000, MEM_AVAILABLE)); /* touching on the right */
	assert_true(memmap_add(&map, 0, 0x1000, MEM_AVAILABLE));      /* and on the left */
	CHECK_MAP(R(0, 0x5000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, 0x5000, 0x1000, MEM_RESERVED)); /* touching, other type: no merge */
	CHECK_MAP(R(0, 0x5000, MEM_AVAILABLE), R(0x5000, 0x1000, MEM_RESERVED));
}

static void test_set_carves(void **state)
{
	assert_true(memmap_add(&map, MiB(1), GiB(1), MEM_AVAILABLE));
	assert_true(memmap_set(&map, MiB(512), MiB(32), MEM_HAPVISOR));
	CHECK_MAP(R(MiB(1), MiB(511), MEM_AVAILABLE), R(MiB(512), MiB(32), MEM_HAPVISOR),
		  R(MiB(544), GiB(1) + MiB(1) - MiB(544), MEM_AVAILABLE));
	assert_int_equal(memmap_total(&map, MEM_HAPVISOR), MiB(32));
	assert_int_equal(memmap_total(&map, MEM_AVAILABLE), GiB(1) - MiB(32));

	/* set overrides a stronger type (add would not), and can cover holes. */
	assert_true(memmap_add(&map, MiB(1), MiB(2), MEM_BAD));
	assert_true(memmap_set(&map, 0, MiB(2), MEM_BOOT));
	CHECK_MAP(R(0, MiB(2), MEM_BOOT), R(MiB(2), MiB(1), MEM_BAD), R(MiB(3), MiB(509), MEM_AVAILABLE),
		  R(MiB(512), MiB(32), MEM_HAPVISOR), R(MiB(544), GiB(1) + MiB(1) - MiB(544), MEM_AVAILABLE));
	/* hapvisor's claims survive a later firmware range. */
	assert_true(memmap_add(&map, MiB(500), MiB(100), MEM_BAD));
	assert_true(memmap_is_type(&map, MiB(512), MiB(32), MEM_HAPVISOR));
	assert_true(memmap_is_type(&map, MiB(500), MiB(12), MEM_BAD));
	assert_true(memmap_is_type(&map, MiB(544), MiB(56), MEM_BAD));
	assert_false(memmap_is_type(&map, MiB(400), MiB(200), MEM_BAD));
	assert_null(memmap_lookup(&map, GiB(2)));
	assert_int_equal(memmap_lookup(&map, MiB(520))->type, MEM_HAPVISOR);
}

static void test_full(void **state)
{
	for (uint64_t i = 0; i < MEMMAP_MAX; i++)
		assert_true(memmap_add(&map, i * 0x2000, 0x1000, MEM_AVAILABLE));
	assert_int_equal(map.count, MEMMAP_MAX);
	struct memmap before = map;

	host_console_reset();
	assert_false(memmap_add(&map, MEMMAP_MAX * 0x2000, 0x1000, MEM_AVAILABLE));
	assert_non_null(strstr(host_console_buf, "hapvisor: error: "));
	assert_non_null(strstr(host_console_buf, "more than 128 ranges"));
	assert_memory_equal(&map, &before, sizeof(map)); /* a failed update changes nothing */
	assert_false(memmap_set(&map, 0x1000 + 0x800, 0x100, MEM_RESERVED)); /* would split a hole in two */
	assert_false(memmap_set(&map, 0x800, 0x100, MEM_RESERVED));	     /* would split a range */
	assert_memory_equal(&map, &before, sizeof(map));

	/* What needs no new range still works at the limit: filling a hole merges two ranges into one. */
	assert_true(memmap_add(&map, 0x1000, 0x1000, MEM_AVAILABLE));
	assert_int_equal(map.count, MEMMAP_MAX - 1);
	assert_true(memmap_add(&map, MEMMAP_MAX * 0x2000, 0x1000, MEM_AVAILABLE));
	assert_int_equal(map.count, MEMMAP_MAX);
	assert_true(memmap_set(&map, 0, MEMMAP_MAX * 0x2000, MEM_RESERVED));
	CHECK_MAP(R(0, MEMMAP_MAX * 0x2000, MEM_RESERVED), R(MEMMAP_MAX * 0x2000, 0x1000, MEM_AVAILABLE));
}

static void test_overflow_near_top(void **state)
{
	/* Ranges are clipped at MEMMAP_ADDR_END (2^64 - 4 KiB) and base + size never wraps. */
	assert_true(memmap_add(&map, UINT64_MAX - 0xFFF, 0x2000, MEM_RESERVED)); /* entirely above: nothing */
	assert_true(memmap_add(&map, UINT64_MAX, UINT64_MAX, MEM_RESERVED));
	assert_int_equal(map.count, 0);
	assert_true(memmap_add(&map, MEMMAP_ADDR_END - 0x2000, 0x10000, MEM_RESERVED));
	CHECK_MAP(R(MEMMAP_ADDR_END - 0x2000, 0x2000, MEM_RESERVED));
	assert_true(memmap_add(&map, 1ull << 63, UINT64_MAX, MEM_AVAILABLE));
	CHECK_MAP(R(1ull << 63, (1ull << 63) - 0x3000, MEM_AVAILABLE),
		  R(MEMMAP_ADDR_END - 0x2000, 0x2000, MEM_RESERVED));
	assert_true(memmap_set(&map, 0, UINT64_MAX, MEM_BAD));
	CHECK_MAP(R(0, MEMMAP_ADDR_END, MEM_BAD));
	uint64_t base = 0;
	assert_false(memmap_find_top(&map, 0x1000, 0x1000, 0, UINT64_MAX, &base));
	assert_true(memmap_set(&map, MEMMAP_ADDR_END - MiB(1), UINT64_MAX, MEM_AVAILABLE));
	assert_true(memmap_find_top(&map, 0x1000, 0x1000, 0, UINT64_MAX, &base));
	assert_int_equal(base, MEMMAP_ADDR_END - 0x1000);
}

/* ---- boot loader maps ---------------------------------------------------------------------------- */

static struct mb2_info info;

static void set_mb2_mmap(const struct mb2_mmap_entry *e, size_t n)
{
	memset(&info, 0, sizeof(info));
	info.mmap = (const uint8_t *)e;
	info.mmap_entry_size = sizeof(*e);
	info.mmap_count = n;
}

#define E(b, l, t)                                                                                           \
	{                                                                                                    \
		.base_addr = (b), .length = (l), .type = (t)                                                 \
	}

static void test_mb2_handmade(void **state)
{
	static const struct mb2_mmap_entry e[] = {
		E(0x100000, 0x7f00000, MB2_MMAP_AVAILABLE),
		E(0x500, 0x9f000 - 0x500, MB2_MMAP_AVAILABLE), /* base rounds up */
		E(0x2000000, 0x1000, MB2_MMAP_BADRAM),	       /* splits the big one */
		E(0x7000000, 0x10, MB2_MMAP_ACPI_RECLAIMABLE), /* grows to a page */
		E(0x7001800, 0x1000, MB2_MMAP_ACPI_NVS),       /* grows to two pages */
		E(0xfec00000, 0x1000, 9),		       /* an unknown type: reserved */
		E(0x100000000, 0, MB2_MMAP_AVAILABLE),	       /* empty */
		E(0x100000000, 0x800, MB2_MMAP_AVAILABLE),     /* less than a page: dropped */
	};
	set_mb2_mmap(e, sizeof(e) / sizeof(e[0]));
	assert_true(memmap_from_mb2(&map, &info));
	CHECK_MAP(R(0x1000, 0x9e000, MEM_AVAILABLE), R(0x100000, 0x1f00000, MEM_AVAILABLE),
		  R(0x2000000, 0x1000, MEM_BAD), R(0x2001000, 0x4fff000, MEM_AVAILABLE),
		  R(0x7000000, 0x1000, MEM_ACPI_RECLAIMABLE), R(0x7001000, 0x2000, MEM_ACPI_NVS),
		  R(0x7003000, 0x8000000 - 0x7003000, MEM_AVAILABLE), R(0xfec00000, 0x1000, MEM_RESERVED));

	/* Entries further apart than 24 bytes (entry_size is the stride). */
	static uint8_t wide[2 * 40];
	struct mb2_mmap_entry a = E(0, 0x9f000, MB2_MMAP_AVAILABLE);
	struct mb2_mmap_entry b = E(0x9f000, 0x1000, MB2_MMAP_RESERVED);
	memset(wide, 0xee, sizeof(wide));
	memcpy(wide, &a, sizeof(a));
	memcpy(wide + 40, &b, sizeof(b));
	memset(&info, 0, sizeof(info));
	info.mmap = wide;
	info.mmap_entry_size = 40;
	info.mmap_count = 2;
	assert_true(memmap_from_mb2(&map, &info));
	CHECK_MAP(R(0, 0x9f000, MEM_AVAILABLE), R(0x9f000, 0x1000, MEM_RESERVED));

	info.mmap_entry_size = 16;
	host_console_reset();
	assert_false(memmap_from_mb2(&map, &info));
	assert_non_null(strstr(host_console_buf, "tag 6"));
}

static void test_mb2_qemu_e820(void **state)
{
	/* SeaBIOS under QEMU with -m 2G: the map GRUB passes on. */
	static const struct mb2_mmap_entry e[] = {
		E(0x0, 0x9fc00, MB2_MMAP_AVAILABLE),	   E(0x9fc00, 0x400, MB2_MMAP_RESERVED),
		E(0xf0000, 0x10000, MB2_MMAP_RESERVED),	   E(0x100000, 0x7fee0000, MB2_MMAP_AVAILABLE),
		E(0x7ffe0000, 0x20000, MB2_MMAP_RESERVED), E(0xfeffc000, 0x4000, MB2_MMAP_RESERVED),
		E(0xfffc0000, 0x40000, MB2_MMAP_RESERVED),
	};
	set_mb2_mmap(e, sizeof(e) / sizeof(e[0]));
	assert_true(memmap_from_mb2(&map, &info));
	CHECK_MAP(R(0, 0x9f000, MEM_AVAILABLE), R(0x9f000, 0x1000, MEM_RESERVED),
		  R(0xf0000, 0x10000, MEM_RESERVED), R(0x100000, 0x7fee0000, MEM_AVAILABLE),
		  R(0x7ffe0000, 0x20000, MEM_RESERVED), R(0xfeffc000, 0x4000, MEM_RESERVED),
		  R(0xfffc0000, 0x40000, MEM_RESERVED));
	assert_int_equal(memmap_total(&map, MEM_AVAILABLE), 0x9f000 + 0x7fee0000);

	/* hapvisor's default placement: 32 MiB, 2 MiB aligned, above 1 MiB, below 4 GiB. */
	uint64_t base;
	assert_true(memmap_find_top(&map, MiB(32), MiB(2), MiB(1), GiB(4), &base));
	assert_int_equal(base, 0x7de00000); /* ALIGN_DOWN(0x7ffe0000 - 32 MiB, 2 MiB) */
}

static void test_mb2_bochs_e820(void **state)
{
	/* Bochs' rombios32 with 32 MiB: the top 64 KiB of RAM hold the ACPI tables. */
	static const struct mb2_mmap_entry e[] = {
		E(0x0, 0x9f000, MB2_MMAP_AVAILABLE),
		E(0x9f000, 0x1000, MB2_MMAP_RESERVED),
		E(0xe8000, 0x18000, MB2_MMAP_RESERVED),
		E(0x100000, 0x1ef0000, MB2_MMAP_AVAILABLE),
		E(0x1ff0000, 0x10000, MB2_MMAP_ACPI_RECLAIMABLE),
		E(0xfffc0000, 0x40000, MB2_MMAP_RESERVED),
	};
	set_mb2_mmap(e, sizeof(e) / sizeof(e[0]));
	assert_true(memmap_from_mb2(&map, &info));
	CHECK_MAP(R(0, 0x9f000, MEM_AVAILABLE), R(0x9f000, 0x1000, MEM_RESERVED),
		  R(0xe8000, 0x18000, MEM_RESERVED), R(0x100000, 0x1ef0000, MEM_AVAILABLE),
		  R(0x1ff0000, 0x10000, MEM_ACPI_RECLAIMABLE), R(0xfffc0000, 0x40000, MEM_RESERVED));
	assert_int_equal(memmap_total(&map, MEM_ACPI_RECLAIMABLE), 0x10000);
	uint64_t base;
	assert_false(memmap_find_top(&map, MiB(32), MiB(2), MiB(1), GiB(4), &base)); /* too small for 32M */
	assert_true(memmap_find_top(&map, MiB(8), MiB(2), MiB(1), GiB(4), &base));
	assert_int_equal(base, MiB(22)); /* the last 2 MiB boundary with 8 MiB below 0x1ff0000 */
}

/* EFI_MEMORY_DESCRIPTOR at stride 48, as OVMF and real firmware report DescriptorSize. */
#define EFI_STRIDE 48
static uint8_t efi_buf[64 * EFI_STRIDE];
static size_t efi_count;

static void efi_desc(uint32_t type, uint64_t base, uint64_t pages, uint64_t attr)
{
	uint8_t *d = efi_buf + efi_count++ * EFI_STRIDE;
	memset(d, 0xcc, EFI_STRIDE); /* padding and the 8 bytes past the v1 layout are junk */
	memcpy(d + 0, &type, 4);
	memcpy(d + 8, &base, 8);
	memset(d + 16, 0, 8); /* VirtualStart */
	memcpy(d + 24, &pages, 8);
	memcpy(d + 32, &attr, 8);
}

static void set_efi(void)
{
	memset(&info, 0, sizeof(info));
	info.efi_mmap = efi_buf;
	info.efi_desc_size = EFI_STRIDE;
	info.efi_desc_version = 1;
	info.efi_mmap_count = efi_count;
	info.efi_boot = true;
}

#define WB 0xfull /* EFI_MEMORY_UC | WC | WT | WB */
#define RT (1ull << 63)

static void test_efi_map(void **state)
{
	efi_count = 0;
	efi_desc(3, 0x0, 1, WB);	       /* BootServicesCode */
	efi_desc(7, 0x1000, 0x9f, WB);	       /* Conventional */
	efi_desc(0, 0xa0000, 0x60, 0);	       /* Reserved */
	efi_desc(7, 0x100000, 0x700, WB);      /* Conventional */
	efi_desc(10, 0x800000, 0x8, WB);       /* ACPI NVS */
	efi_desc(7, 0x808000, 0x3, WB);	       /* Conventional */
	efi_desc(4, 0x80b000, 0x1, WB);	       /* BootServicesData */
	efi_desc(1, 0x80c000, 0x10, WB);       /* LoaderCode */
	efi_desc(2, 0x81c000, 0x4, WB);	       /* LoaderData */
	efi_desc(8, 0x820000, 0x1, WB);	       /* Unusable */
	efi_desc(9, 0x821000, 0x2, WB);	       /* ACPI reclaim */
	efi_desc(5, 0x823000, 0x2, WB | RT);   /* RuntimeServicesCode */
	efi_desc(6, 0x825000, 0x3, WB | RT);   /* RuntimeServicesData */
	efi_desc(7, 0x828000, 0x1, WB | RT);   /* Conventional but used at run time: reserved */
	efi_desc(14, 0x829000, 0x1, WB);       /* PersistentMemory */
	efi_desc(15, 0x82a000, 0x1, WB);       /* Unaccepted */
	efi_desc(13, 0x82b000, 0x1, WB);       /* PalCode */
	efi_desc(0x70000001, 0x82c000, 1, WB); /* an OEM type */
	efi_desc(7, 0x82d000, 0x7d3, WB);      /* Conventional up to 0x1000000 */
	efi_desc(11, 0xffc00000, 0x400, RT);   /* MMIO (flash) */
	efi_desc(12, 0xfec00000, 0x1, RT);     /* MMIO port space */
	efi_desc(7, 0x100000000, 0x40000, WB); /* 1 GiB above 4 GiB */
	set_efi();

	/* A Multiboot2 map is there too: the EFI map wins. */
	static const struct mb2_mmap_entry e[] = {E(0, GiB(64), MB2_MMAP_AVAILABLE)};
	info.mmap = (const uint8_t *)e;
	info.mmap_entry_size = sizeof(e[0]);
	info.mmap_count = 1;

	assert_true(memmap_from_mb2(&map, &info));
	CHECK_MAP(R(0, 0xa0000, MEM_AVAILABLE), R(0xa0000, 0x60000, MEM_RESERVED),
		  R(0x100000, 0x700000, MEM_AVAILABLE), R(0x800000, 0x8000, MEM_ACPI_NVS),
		  R(0x808000, 0x18000, MEM_AVAILABLE), R(0x820000, 0x1000, MEM_BAD),
		  R(0x821000, 0x2000, MEM_ACPI_RECLAIMABLE), R(0x823000, 0xa000, MEM_RESERVED),
		  R(0x82d000, 0x1000000 - 0x82d000, MEM_AVAILABLE), R(0xfec00000, 0x1000, MEM_RESERVED),
		  R(0xffc00000, 0x400000, MEM_RESERVED), R(0x100000000, GiB(1), MEM_AVAILABLE));
	assert_non_null(strstr(host_console_buf, "EFI memory map"));

	/* Limit below 4 GiB: the block above 4 GiB is not a candidate. */
	uint64_t base;
	assert_true(memmap_find_top(&map, MiB(4), MiB(2), MiB(1), GiB(4), &base));
	assert_int_equal(base, MiB(12));
	assert_true(memmap_find_top(&map, MiB(4), MiB(2), MiB(1), UINT64_MAX, &base));
	assert_int_equal(base, GiB(5) - MiB(4));
}

static void test_efi_edge_cases(void **state)
{
	/* A page count whose byte size overflows is clipped, not wrapped. */
	efi_count = 0;
	efi_desc(0, 0x1000, UINT64_MAX, 0);
	set_efi();
	assert_true(memmap_from_mb2(&map, &info));
	CHECK_MAP(R(0x1000, MEMMAP_ADDR_END - 0x1000, MEM_RESERVED));

	/* A descriptor size below the version 1 layout is refused. */
	info.efi_desc_size = 32;
	host_console_reset();
	assert_false(memmap_from_mb2(&map, &info));
	assert_non_null(strstr(host_console_buf, "EFI_MEMORY_DESCRIPTOR"));

	/* desc_size 40 (no padding) also works: the stride is what the firmware said. */
	efi_count = 0;
	efi_desc(7, 0, 0x10, WB);
	memcpy(efi_buf + 40, efi_buf + 0, 40); /* descriptor 1 at offset 40 */
	uint32_t t = 9;
	uint64_t b = 0x10000;
	memcpy(efi_buf + 40, &t, 4);
	memcpy(efi_buf + 48, &b, 8);
	efi_count = 2;
	set_efi();
	info.efi_desc_size = 40;
	assert_true(memmap_from_mb2(&map, &info));
	CHECK_MAP(R(0, 0x10000, MEM_AVAILABLE), R(0x10000, 0x10000, MEM_ACPI_RECLAIMABLE));
}

static void test_no_map(void **state)
{
	memset(&info, 0, sizeof(info));
	assert_false(memmap_from_mb2(&map, &info));
	assert_non_null(strstr(host_console_buf, "hapvisor: error: the boot loader gave no memory map"));
	assert_int_equal(map.count, 0);
}

/* ---- placement ------------------------------------------------------------------------------------ */

static void test_find_top(void **state)
{
	uint64_t base = 0;
	assert_false(memmap_find_top(&map, 0x1000, 0x1000, 0, UINT64_MAX, &base)); /* empty map */

	assert_true(memmap_add(&map, 0, 0x9f000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, MiB(1), MiB(63), MEM_AVAILABLE));
	assert_true(memmap_add(&map, MiB(64), 0x1000, MEM_RESERVED));
	assert_true(memmap_add(&map, MiB(64) + 0x1000, MiB(100), MEM_AVAILABLE)); /* ends unaligned to 2M */
	assert_true(memmap_add(&map, GiB(3), GiB(2), MEM_AVAILABLE));		  /* straddles 4 GiB */

	/* Limit: the part below 4 GiB of the straddling range. */
	assert_true(memmap_find_top(&map, MiB(32), MiB(2), MiB(1), GiB(4), &base));
	assert_int_equal(base, GiB(4) - MiB(32));
	/* Alignment: 0x1000 alignment reaches the end exactly; 2 MiB rounds down. */
	assert_true(memmap_find_top(&map, MiB(32), 0x1000, MiB(1), GiB(3), &base));
	assert_int_equal(base, MiB(164) + 0x1000 - MiB(32));
	assert_true(memmap_find_top(&map, MiB(32), MiB(2), MiB(1), GiB(3), &base));
	assert_int_equal(base, MiB(132));
	/* Exactly the upper block's size: fits only when the alignment allows its unaligned start. */
	assert_true(memmap_find_top(&map, MiB(100), 0x1000, MiB(1), GiB(3), &base));
	assert_int_equal(base, MiB(64) + 0x1000);
	assert_false(memmap_find_top(&map, MiB(100), MiB(2), MiB(1), GiB(3), &base));
	assert_false(memmap_find_top(&map, MiB(101), 0x1000, MiB(1), GiB(3), &base));
	/* A limit that cuts off the upper block falls to the one below the reserved page. */
	assert_true(memmap_find_top(&map, MiB(62), MiB(2), MiB(1), MiB(64), &base));
	assert_int_equal(base, MiB(2));
	/* min: nothing may start below it. */
	assert_false(memmap_find_top(&map, MiB(62), MiB(2), MiB(3), MiB(64), &base));
	assert_true(memmap_find_top(&map, 0x1000, 0x1000, 0, MiB(1), &base));
	assert_int_equal(base, 0x9e000);
	assert_false(memmap_find_top(&map, 0x1000, 0x1000, 0x9f000, MiB(1), &base));
	/* A huge alignment that no available byte meets except 0. */
	assert_true(memmap_find_top(&map, 0x1000, GiB(8), 0, UINT64_MAX, &base));
	assert_int_equal(base, 0);
	/* Nothing fits. */
	assert_false(memmap_find_top(&map, GiB(3), 0x1000, 0, UINT64_MAX, &base));
	assert_false(memmap_find_top(&map, 0x1000, 0x1000, GiB(4), GiB(4), &base));

	/* The placement-map pattern from memmap.h: exclusions go into a copy only. */
	struct memmap place = map;
	assert_true(memmap_set(&place, GiB(4) - MiB(16), MiB(16), MEM_RESERVED));
	assert_true(memmap_find_top(&place, MiB(32), MiB(2), MiB(1), GiB(4), &base));
	assert_int_equal(base, GiB(4) - MiB(48));
	assert_true(memmap_set(&map, base, MiB(32), MEM_HAPVISOR));
	assert_true(memmap_is_type(&map, GiB(4) - MiB(16), MiB(16), MEM_AVAILABLE));
}

/* ---- printing ------------------------------------------------------------------------------------- */

static void test_print(void **state)
{
	assert_true(memmap_add(&map, 0, 0x9f000, MEM_AVAILABLE));
	assert_true(memmap_add(&map, 0xf0000, 0x10000, MEM_RESERVED));
	assert_true(memmap_add(&map, MiB(1), MiB(63), MEM_AVAILABLE));
	assert_true(memmap_set(&map, MiB(32), MiB(32), MEM_HAPVISOR));
	host_console_reset();
	memmap_print(&map, "firmware");
	assert_non_null(strstr(host_console_buf, "hapvisor: event=memmap map=firmware index=0 base=0x0 "
						 "end=0x9f000 size=651264 type=available\n"));
	assert_non_null(strstr(host_console_buf, "hapvisor: event=memmap map=firmware index=1 base=0xf0000 "
						 "end=0x100000 size=65536 type=reserved\n"));
	assert_non_null(strstr(host_console_buf, "hapvisor: event=memmap map=firmware index=3 base=0x2000000 "
						 "end=0x4000000 size=33554432 type=hapvisor\n"));
	assert_null(strstr(host_console_buf, "index=4"));
	assert_non_null(strstr(host_console_buf,
			       "hapvisor: event=memmap_total map=firmware ranges=4 available=33157120 "
			       "acpi_reclaimable=0 reserved=65536 acpi_nvs=0 bad=0 boot=0 "
			       "hapvisor=33554432\n"));
	assert_non_null(strstr(host_console_buf, "hapvisor: info: firmware memory map  3: "
						 "0x0000000002000000-0x0000000003ffffff hapvisor"));
	/* Structured lines: only key=value pairs separated by single spaces. */
	for (const char *line = host_console_buf; *line;) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl);
		if (strncmp(line, "hapvisor: event=", 16) == 0) {
			for (const char *p = line + 10; p < nl;) {
				const char *sp = memchr(p, ' ', (size_t)(nl - p));
				const char *tok_end = sp ? sp : nl;
				const char *eq = memchr(p, '=', (size_t)(tok_end - p));
				assert_non_null(eq);
				assert_true(eq > p && eq + 1 < tok_end);
				p = sp ? sp + 1 : nl;
			}
		}
		line = nl + 1;
	}
	assert_string_equal(mem_type_name(MEM_ACPI_NVS), "acpi_nvs");
	assert_string_equal(mem_type_name(MEM_BOOT), "boot");
	assert_string_equal(mem_type_name(MEM_TYPE_COUNT), "unknown");
}

/* ---- randomized: the map against a model with one type per page ---------------------------------- */

#define MODEL_PAGES 96
#define NONE (-1)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static void test_random_vs_model(void **state)
{
	int model[MODEL_PAGES];
	for (int round = 0; round < 400; round++) {
		memmap_init(&map);
		for (int p = 0; p < MODEL_PAGES; p++)
			model[p] = NONE;
		for (int op = 0; op < 12; op++) {
			uint64_t first = rng() % MODEL_PAGES, n = rng() % 12;
			if (first + n > MODEL_PAGES)
				n = MODEL_PAGES - first;
			enum mem_type t = (enum mem_type)(rng() % MEM_TYPE_COUNT);
			bool set = rng() % 3 == 0;
			bool ok = set ? memmap_set(&map, first * 0x1000, n * 0x1000, t)
				      : memmap_add(&map, first * 0x1000, n * 0x1000, t);
			assert_true(ok);
			for (uint64_t p = first; p < first + n; p++)
				if (set || model[p] == NONE || (int)t > model[p])
					model[p] = (int)t;
			check_normalized(&map);
			for (int p = 0; p < MODEL_PAGES; p++) {
				const struct mem_range *r = memmap_lookup(&map, (uint64_t)p * 0x1000 + 0x800);
				assert_int_equal(r ? (int)r->type : NONE, model[p]);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_empty_and_zero_size, setup),
		cmocka_unit_test_setup(test_overlap_contained, setup),
		cmocka_unit_test_setup(test_overlap_straddling, setup),
		cmocka_unit_test_setup(test_overlap_identical, setup),
		cmocka_unit_test_setup(test_adjacent_merge, setup),
		cmocka_unit_test_setup(test_set_carves, setup),
		cmocka_unit_test_setup(test_full, setup),
		cmocka_unit_test_setup(test_overflow_near_top, setup),
		cmocka_unit_test_setup(test_mb2_handmade, setup),
		cmocka_unit_test_setup(test_mb2_qemu_e820, setup),
		cmocka_unit_test_setup(test_mb2_bochs_e820, setup),
		cmocka_unit_test_setup(test_efi_map, setup),
		cmocka_unit_test_setup(test_efi_edge_cases, setup),
		cmocka_unit_test_setup(test_no_map, setup),
		cmocka_unit_test_setup(test_find_top, setup),
		cmocka_unit_test_setup(test_print, setup),
		cmocka_unit_test_setup(test_random_vs_model, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
