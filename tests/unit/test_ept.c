/*
 * The EPT builder on a host arena: page-size choice around holes and hapvisor's region, memory types from
 * synthetic MTRRs, exact leaf and table counts per policy, hapvisor frames never mapped, the reverse map
 * and range protection (splitting large pages).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mm/guest_mem.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "tests/unit/host_stubs.h"
#include "vmx/ept.h"

#define POOL_BASE 0x7000000000ull /* fake physical address of the pool arena, far from the guest map */
#define POOL_FRAMES 4096
#define HV_BASE 0x1dc00000ull
#define HV_SIZE 0x2200000ull
#define RAM_END 0x20000000ull
#define LIMIT (1ull << 39)

static uint8_t *arena;
static struct memmap map;
static struct mtrr_state mtrr;

/* MTRRs of a typical PC: default WB, 3-4 GiB UC (PCI hole). */
static void mtrr_pc(void)
{
	memset(&mtrr, 0, sizeof(mtrr));
	mtrr.supported = true;
	mtrr.cap = 8; /* VCNT = 8, no fixed ranges */
	mtrr.def_type = MTRR_DEF_E | MTRR_TYPE_WB;
	mtrr.phys_bits = 39;
	mtrr.var[0].base = 0xC0000000ull | MTRR_TYPE_UC;
	mtrr.var[0].mask = ((LIMIT - 1) & ~(GiB(1) - 1)) | MTRR_PHYSMASK_VALID;
}

static void setup(enum ept_policy policy, unsigned max_level)
{
	free(arena);
	arena = aligned_alloc(PAGE_SIZE, POOL_FRAMES * PAGE_SIZE);
	assert_non_null(arena);
	host_phys_offset = (uintptr_t)arena - POOL_BASE;
	pmm_init(POOL_BASE, POOL_FRAMES * PAGE_SIZE);
	memmap_init(&map);
	memmap_add(&map, 0, 0x9f000, MEM_AVAILABLE);
	memmap_add(&map, 0xf0000, 0x10000, MEM_RESERVED);
	memmap_add(&map, MiB(1), RAM_END - MiB(1), MEM_AVAILABLE);
	memmap_set(&map, HV_BASE, HV_SIZE, MEM_HAPVISOR);
	memmap_add(&map, 0xfffc0000ull, 0x40000, MEM_RESERVED);
	mtrr_pc();
	struct ept_config cfg = {&map, &mtrr, LIMIT, GiB(4), policy, max_level, false};
	guest_mem_init(&map, LIMIT);
	assert_true(ept_init(&cfg));
	host_console_reset();
}

static int teardown(void **state)
{
	free(arena);
	arena = NULL;
	return 0;
}

static uint64_t leaf(uint64_t gpa, unsigned *level)
{
	uint64_t e = 0;
	if (!pt_lookup(ept_format(), ept_pointer() & PT_ADDR_MASK, gpa, &e, level))
		return 0;
	return e;
}

static void expect_fill(uint64_t gpa, uint64_t base, unsigned level, uint8_t type)
{
	uint64_t b;
	unsigned l;
	assert_int_equal(ept_fill(gpa, &b, &l), EPT_FILL_MAPPED);
	assert_int_equal(b, base);
	assert_int_equal(l, level);
	unsigned got;
	uint64_t e = leaf(gpa, &got);
	assert_int_equal(got, level);
	assert_int_equal(e & EPT_RWX, EPT_RWX);
	assert_int_equal((e & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT, type);
	assert_int_equal(e & PT_ADDR_MASK & ~(pt_level_size(level) - 1), base); /* 1:1 */
}

static void test_lazy_page_sizes(void **state)
{
	setup(EPT_LAZY, PG_LEVEL_1G);
	/* [0, 1 GiB) holds hapvisor's region: 2 MiB pages at most there. */
	expect_fill(0x100000, 0, PG_LEVEL_2M, MTRR_TYPE_WB);
	expect_fill(HV_BASE - 8, HV_BASE - MiB(2), PG_LEVEL_2M, MTRR_TYPE_WB);
	expect_fill(HV_BASE + HV_SIZE, HV_BASE + HV_SIZE, PG_LEVEL_2M, MTRR_TYPE_WB);
	/* Uniform gigabytes: one 1 GiB page each, the PCI hole uncacheable. */
	expect_fill(GiB(2) + 12345, GiB(2), PG_LEVEL_1G, MTRR_TYPE_WB);
	expect_fill(0xFEE00000ull, 0xC0000000ull, PG_LEVEL_1G, MTRR_TYPE_UC);
	expect_fill(GiB(100), GiB(100), PG_LEVEL_1G, MTRR_TYPE_WB);

	uint64_t b;
	unsigned l;
	assert_int_equal(ept_fill(HV_BASE + 0x1234, &b, &l), EPT_FILL_HAPVISOR);
	assert_int_equal(ept_fill(0x200, &b, &l), EPT_FILL_PRESENT);
	assert_int_equal(ept_fill(LIMIT, &b, &l), EPT_FILL_OUT_RANGE);
}

static void test_mixed_mtrr_range(void **state)
{
	setup(EPT_LAZY, PG_LEVEL_1G);
	mtrr.var[1].base = (GiB(1) + MiB(4)) | MTRR_TYPE_UC; /* one UC 4 KiB page at 1 GiB + 4 MiB */
	mtrr.var[1].mask = ((LIMIT - 1) & ~(uint64_t)(PAGE_SIZE - 1)) | MTRR_PHYSMASK_VALID;
	expect_fill(GiB(1) + MiB(4), GiB(1) + MiB(4), PG_LEVEL_4K, MTRR_TYPE_UC);
	expect_fill(GiB(1) + MiB(4) + PAGE_SIZE, GiB(1) + MiB(4) + PAGE_SIZE, PG_LEVEL_4K, MTRR_TYPE_WB);
	expect_fill(GiB(1) + MiB(8), GiB(1) + MiB(8), PG_LEVEL_2M, MTRR_TYPE_WB);
}

struct census {
	uint64_t pages[PG_LEVEL_NUM];
	uint64_t hv_bytes;
};

static void count(void *ctx, uint64_t va, uint64_t *entry, unsigned level)
{
	struct census *c = ctx;
	c->pages[level]++;
	uint64_t end = va + pt_level_size(level);
	if (va < HV_BASE + HV_SIZE && HV_BASE < end)
		c->hv_bytes += pt_level_size(level);
}

/* Eager with 1 GiB pages: 495 2 MiB pages around hapvisor in the first GiB, then three 1 GiB pages. */
static void test_eager_counts_1g(void **state)
{
	setup(EPT_EAGER, PG_LEVEL_1G);
	struct census c = {0};
	pt_for_each_leaf(ept_format(), ept_pointer() & PT_ADDR_MASK, count, &c);
	assert_int_equal(c.pages[PG_LEVEL_2M], 512 - HV_SIZE / MiB(2));
	assert_int_equal(c.pages[PG_LEVEL_1G], 3);
	assert_int_equal(c.pages[PG_LEVEL_4K], 0);
	assert_int_equal(c.hv_bytes, 0);
	assert_int_equal(pt_count_tables(ept_format(), ept_pointer() & PT_ADDR_MASK), 3);
	struct hc_ept_stats st;
	ept_stats(&st); /* the counted table pages are the ones there are */
	assert_int_equal(st.table_pages, 3);
	assert_int_equal(st.pages_2m, 512 - HV_SIZE / MiB(2));
}

/* A CPU without 1 GiB EPT pages (Sandy Bridge): 2 MiB pages, four page directories. */
static void test_eager_counts_2m(void **state)
{
	setup(EPT_EAGER, PG_LEVEL_2M);
	struct census c = {0};
	pt_for_each_leaf(ept_format(), ept_pointer() & PT_ADDR_MASK, count, &c);
	assert_int_equal(c.pages[PG_LEVEL_2M], 2048 - HV_SIZE / MiB(2));
	assert_int_equal(c.pages[PG_LEVEL_1G], 0);
	assert_int_equal(c.hv_bytes, 0);
	assert_int_equal(pt_count_tables(ept_format(), ept_pointer() & PT_ADDR_MASK), 6);
	struct hc_ept_stats st;
	ept_stats(&st);
	assert_int_equal(st.table_pages, 6);
}

static struct census census_now(void)
{
	struct census c = {0};
	pt_for_each_leaf(ept_format(), ept_pointer() & PT_ADDR_MASK, count, &c);
	return c;
}

/*
 * ept_stats() keeps its leaf and table counts as the one leaf writer changes the tables (no walk): they must
 * be what a census of the tables finds, after fills, fault-around, splits and protection changes alike.
 */
static void expect_stats_match_census(void)
{
	struct census c = census_now();
	struct hc_ept_stats st;
	ept_stats(&st);
	assert_int_equal(st.pages_4k, c.pages[PG_LEVEL_4K]);
	assert_int_equal(st.pages_2m, c.pages[PG_LEVEL_2M]);
	assert_int_equal(st.pages_1g, c.pages[PG_LEVEL_1G]);
	assert_int_equal(st.table_pages, pt_count_tables(ept_format(), ept_pointer() & PT_ADDR_MASK));
}

/*
 * Fault-around: the faulting address gets the same page as without it, and the rest of the table that holds
 * that leaf is filled too, hapvisor's region still never mapped; ept=4k does no fault-around.
 */
static void test_fill_around(void **state)
{
	uint64_t b;
	unsigned l;
	setup(EPT_LAZY, PG_LEVEL_1G);
	assert_int_equal(ept_fill_around(0x100000, &b, &l), EPT_FILL_MAPPED);
	assert_int_equal(b, 0);
	assert_int_equal(l, PG_LEVEL_2M);
	struct census c = census_now(); /* the whole first GiB, in 2 MiB pages, around hapvisor's region */
	assert_int_equal(c.pages[PG_LEVEL_2M], 512 - HV_SIZE / MiB(2));
	assert_int_equal(c.pages[PG_LEVEL_1G] + c.pages[PG_LEVEL_4K], 0);
	assert_int_equal(c.hv_bytes, 0);
	expect_stats_match_census();
	assert_int_equal(ept_fill_around(HV_BASE + 8, &b, &l), EPT_FILL_HAPVISOR);

	assert_int_equal(ept_fill_around(GiB(2) + 5, &b, &l),
			 EPT_FILL_MAPPED); /* a 1 GiB leaf: its table is */
	assert_int_equal(b, GiB(2));	   /* the 512 GiB below LIMIT */
	assert_int_equal(l, PG_LEVEL_1G);
	c = census_now();
	assert_int_equal(c.pages[PG_LEVEL_1G], LIMIT / GiB(1) - 1);
	assert_int_equal(c.hv_bytes, 0);
	expect_stats_match_census();
	unsigned got;
	assert_int_equal((leaf(0xFEE00000ull, &got) & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT, MTRR_TYPE_UC);

	setup(EPT_LAZY, PG_LEVEL_1G); /* a 4 KiB leaf: the rest of its 2 MiB, each page with its own type */
	mtrr.var[1].base = (GiB(1) + MiB(4)) | MTRR_TYPE_UC;
	mtrr.var[1].mask = ((LIMIT - 1) & ~(uint64_t)(PAGE_SIZE - 1)) | MTRR_PHYSMASK_VALID;
	assert_int_equal(ept_fill_around(GiB(1) + MiB(4) + PAGE_SIZE, &b, &l), EPT_FILL_MAPPED);
	assert_int_equal(l, PG_LEVEL_4K);
	c = census_now();
	assert_int_equal(c.pages[PG_LEVEL_4K], 512);
	assert_int_equal((leaf(GiB(1) + MiB(4), &got) & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT, MTRR_TYPE_UC);
	assert_int_equal(got, PG_LEVEL_4K);

	setup(EPT_4K, PG_LEVEL_1G);
	assert_int_equal(ept_fill_around(GiB(2), &b, &l), EPT_FILL_MAPPED);
	c = census_now();
	assert_int_equal(c.pages[PG_LEVEL_4K], 1);
}

/* ept=4k: lazy with 4 KiB pages only. */
static void test_policy_4k(void **state)
{
	setup(EPT_4K, PG_LEVEL_1G);
	expect_fill(GiB(2) + 12345, GiB(2) + 12288, PG_LEVEL_4K, MTRR_TYPE_WB);
	assert_int_equal(pt_count_tables(ept_format(), ept_pointer() & PT_ADDR_MASK), 4);
}

/* Every 4 KiB page of hapvisor's region stays unmapped after an eager build and lazy fills around it. */
static void test_hapvisor_never_mapped(void **state)
{
	setup(EPT_EAGER, PG_LEVEL_1G);
	uint64_t b;
	unsigned l;
	for (uint64_t a = HV_BASE; a < HV_BASE + HV_SIZE; a += PAGE_SIZE) {
		assert_int_equal(leaf(a, &l), 0);
		assert_int_equal(ept_fill(a, &b, &l), EPT_FILL_HAPVISOR);
		assert_null(ept_rmap_lookup(a, &l));
	}
	assert_false(ept_protect(HV_BASE - PAGE_SIZE, 2 * PAGE_SIZE, EPT_WRITE, 0));
	assert_false(guest_mem_is_ram(HV_BASE - 8, 16));
	assert_true(guest_mem_is_ram(HV_BASE - 8, 8));
}

/* The reverse map names the entry that maps a frame, and follows splits. */
static void test_rmap_and_protect(void **state)
{
	setup(EPT_LAZY, PG_LEVEL_1G);
	unsigned level;
	uint64_t b;
	assert_int_equal(ept_fill(0x100000, &b, &level), EPT_FILL_MAPPED);
	uint64_t *e = ept_rmap_lookup(0x123000, &level);
	assert_non_null(e);
	assert_int_equal(level, PG_LEVEL_2M);
	assert_true(ept_protect(0x104000, 2 * PAGE_SIZE, EPT_WRITE, 0)); /* splits the 2 MiB page */
	e = ept_rmap_lookup(0x104000, &level);
	assert_non_null(e);
	assert_int_equal(level, PG_LEVEL_4K);
	assert_int_equal(*e & EPT_RWX, EPT_READ | EPT_EXEC);
	assert_int_equal(*e & PT_ADDR_MASK, 0x104000);
	expect_stats_match_census();
	e = ept_rmap_lookup(0x106000, &level);
	assert_int_equal(*e & EPT_RWX, EPT_RWX);
	assert_true(ept_protect(0x104000, PAGE_SIZE, 0, EPT_WRITE));
	e = ept_rmap_lookup(0x104000, &level);
	assert_int_equal(*e & EPT_RWX, EPT_RWX);
	/* Protecting unmapped memory maps it first. */
	assert_true(ept_protect(GiB(3) - PAGE_SIZE, PAGE_SIZE, EPT_WRITE, 0));
	e = ept_rmap_lookup(GiB(3) - PAGE_SIZE, &level);
	assert_non_null(e);
	assert_int_equal(level, PG_LEVEL_4K);
	assert_int_equal(*e & EPT_WRITE, 0);
	expect_stats_match_census();
	/* Eager, then a 1 GiB leaf split down to 4 KiB: the counts follow both splits. */
	setup(EPT_EAGER, PG_LEVEL_1G);
	expect_stats_match_census();
	assert_true(ept_protect(GiB(2) + MiB(6), PAGE_SIZE, EPT_WRITE, 0));
	e = ept_rmap_lookup(GiB(2) + MiB(6), &level);
	assert_non_null(e);
	assert_int_equal(level, PG_LEVEL_4K);
	e = ept_rmap_lookup(GiB(2) + MiB(8), &level); /* the rest of the GiB: its own 2 MiB leaves now */
	assert_non_null(e);
	assert_int_equal(level, PG_LEVEL_2M);
	expect_stats_match_census();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_lazy_page_sizes, teardown),
		cmocka_unit_test_teardown(test_mixed_mtrr_range, teardown),
		cmocka_unit_test_teardown(test_eager_counts_1g, teardown),
		cmocka_unit_test_teardown(test_eager_counts_2m, teardown),
		cmocka_unit_test_teardown(test_policy_4k, teardown),
		cmocka_unit_test_teardown(test_fill_around, teardown),
		cmocka_unit_test_teardown(test_hapvisor_never_mapped, teardown),
		cmocka_unit_test_teardown(test_rmap_and_protect, teardown),
	};
	return cmocka_run_group_tests_name("ept", tests, NULL, NULL);
}
