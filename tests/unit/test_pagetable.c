/*
 * The generic page-table walker on a host arena: largest-page selection from alignment and size, the
 * format's page-size limit, lookups, conflicts, table counting, pool exhaustion and pt_fill.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "mm/pagetable.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "tests/unit/host_stubs.h"

#define FAKE_BASE 0x40000000ull
#define P BIT(0)
#define W BIT(1)

static uint8_t *arena;

static uint64_t tables_made; /* every table pagetable.c allocated since pool() */
static const struct pt_format fmt_1g = {"test", P, P | W, PG_LEVEL_1G, &tables_made};
static const struct pt_format fmt_2m = {"test", P, P | W, PG_LEVEL_2M, &tables_made};
static const struct pt_format fmt_4k = {"test", P, P | W, PG_LEVEL_4K, &tables_made};

static void pool(uint64_t frames)
{
	free(arena);
	arena = aligned_alloc(PAGE_SIZE, frames * PAGE_SIZE);
	assert_non_null(arena);
	host_phys_offset = (uintptr_t)arena - FAKE_BASE;
	pmm_init(FAKE_BASE, frames * PAGE_SIZE);
	host_console_reset();
	tables_made = 0;
}

static int teardown(void **state)
{
	free(arena);
	arena = NULL;
	return 0;
}

static void expect_leaf(const struct pt_format *f, uint64_t root, uint64_t va, uint64_t pa, unsigned level)
{
	uint64_t e;
	unsigned l;
	assert_true(pt_lookup(f, root, va, &e, &l));
	assert_int_equal(l, level);
	uint64_t page = pt_level_size(level);
	assert_int_equal(e & PT_ADDR_MASK & ~(page - 1), pa & ~(page - 1));
	assert_int_equal(!!(e & PT_LARGE_PAGE), level > PG_LEVEL_4K);
}

/* 4 KiB .. 3 GiB + 2 MiB: 4K pages up to 2 MiB, 2M pages up to 1 GiB, 1G pages, then a 2M tail. */
static void test_largest_pages(void **state)
{
	pool(64);
	uint64_t root = pmm_alloc_frame();
	uint64_t pages[PG_LEVEL_NUM] = {0};
	assert_true(pt_map(&fmt_1g, root, PAGE_SIZE, PAGE_SIZE, GiB(3) + MiB(2) - PAGE_SIZE, P | W, pages));
	assert_int_equal(pages[PG_LEVEL_4K], 511);
	assert_int_equal(pages[PG_LEVEL_2M], 511 + 1);
	assert_int_equal(pages[PG_LEVEL_1G], 2);
	expect_leaf(&fmt_1g, root, PAGE_SIZE, PAGE_SIZE, PG_LEVEL_4K);
	expect_leaf(&fmt_1g, root, MiB(2) + 5, MiB(2), PG_LEVEL_2M);
	expect_leaf(&fmt_1g, root, GiB(2) + 12345, GiB(2), PG_LEVEL_1G);
	expect_leaf(&fmt_1g, root, GiB(3) + 4096, GiB(3), PG_LEVEL_2M);
	assert_false(pt_lookup(&fmt_1g, root, 0, NULL, NULL));
	assert_false(pt_lookup(&fmt_1g, root, GiB(3) + MiB(2), NULL, NULL));
	/* root + PDPT + PD for [0,1G) + PT for [0,2M) + PD for [3G,4G) */
	assert_int_equal(pt_count_tables(&fmt_1g, root), 5);
	assert_int_equal(tables_made, 4); /* all but the root, which the test allocated itself */
}

/* The format's limit wins over alignment: a 1 GiB aligned range in a 2M-only format uses 2M pages. */
static void test_format_limit(void **state)
{
	pool(64);
	uint64_t root = pmm_alloc_frame();
	uint64_t pages[PG_LEVEL_NUM] = {0};
	assert_true(pt_map(&fmt_2m, root, GiB(1), GiB(1), GiB(1), P, pages));
	assert_int_equal(pages[PG_LEVEL_2M], 512);
	assert_int_equal(pages[PG_LEVEL_1G], 0);
	expect_leaf(&fmt_2m, root, GiB(1) + MiB(7), GiB(1) + MiB(6), PG_LEVEL_2M);

	uint64_t root4 = pmm_alloc_frame();
	memset(pages, 0, sizeof(pages));
	assert_true(pt_map(&fmt_4k, root4, MiB(2), MiB(2), MiB(2), P, pages));
	assert_int_equal(pages[PG_LEVEL_4K], 512);
	expect_leaf(&fmt_4k, root4, MiB(3) + 7, MiB(3), PG_LEVEL_4K);
}

/* va and pa misaligned against each other: only 4 KiB pages are possible. */
static void test_offset_mapping(void **state)
{
	pool(16);
	uint64_t root = pmm_alloc_frame();
	uint64_t pages[PG_LEVEL_NUM] = {0};
	uint64_t va = 0xFFFFFFFF80000000ull;
	assert_true(pt_map(&fmt_1g, root, va, MiB(2) + PAGE_SIZE, MiB(4), P, pages));
	assert_int_equal(pages[PG_LEVEL_4K], 1024);
	expect_leaf(&fmt_1g, root, va + MiB(1), MiB(3) + PAGE_SIZE, PG_LEVEL_4K);
}

static void test_conflicts(void **state)
{
	pool(16);
	uint64_t root = pmm_alloc_frame();
	assert_true(pt_map(&fmt_1g, root, MiB(2), MiB(2), MiB(2), P, NULL));
	host_console_reset();
	assert_false(pt_map(&fmt_1g, root, MiB(2) + PAGE_SIZE, 0, PAGE_SIZE, P, NULL));
	assert_non_null(strstr(host_console_buf, "already mapped by a large page"));
	assert_true(pt_map(&fmt_1g, root, MiB(8), MiB(8), PAGE_SIZE, P, NULL));
	host_console_reset();
	assert_false(pt_map(&fmt_1g, root, MiB(8), MiB(8), PAGE_SIZE, P, NULL));
	assert_non_null(strstr(host_console_buf, "already mapped"));
}

static void test_pool_exhausted(void **state)
{
	pool(4); /* bitmap + root + 2 more: not enough for PDPT + PD + PT */
	uint64_t root = pmm_alloc_frame();
	assert_false(pt_map(&fmt_1g, root, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, P, NULL));
	assert_non_null(strstr(host_console_buf, "exhausted"));
}

/* pt_fill in the tests: leaves up to max_level, [1 GiB, 1 GiB + 8 KiB) never mapped; leaves counted. */
struct fill_test {
	unsigned max_level;
	uint64_t pages[PG_LEVEL_NUM];
};
#define HOLE_BASE GiB(1)
#define HOLE_END (GiB(1) + 2 * PAGE_SIZE)

static enum pt_fill_choice choose_test(void *ctx, uint64_t va, unsigned level, uint64_t *flags)
{
	const struct fill_test *t = ctx;
	uint64_t end = va + pt_level_size(level);
	if (va >= HOLE_BASE && end <= HOLE_END)
		return PT_FILL_SKIP;
	if (level > t->max_level || (va < HOLE_END && HOLE_BASE < end))
		return PT_FILL_DOWN;
	*flags = P | W;
	return PT_FILL_LEAF;
}

static void count_new_leaf(void *ctx, uint64_t va, uint64_t *entry, unsigned level)
{
	((struct fill_test *)ctx)->pages[level]++;
}

/*
 * pt_fill: exactly the entries that intersect [start, end), from a start inside a table; present leaves
 * kept; a range the chooser splits goes down and the skipped part stays empty; [va, va + 1) fills one
 * entry, as large as the chooser allows.
 */
static void test_fill(void **state)
{
	pool(64);
	uint64_t root = pmm_alloc_frame(), e;
	struct fill_test t = {PG_LEVEL_4K, {0}};
	assert_true(pt_map(&fmt_1g, root, 0x4000, 0x4000, PAGE_SIZE, P, NULL));
	assert_true(pt_fill(&fmt_1g, root, 0x3000, 0x6000, choose_test, count_new_leaf, &t));
	assert_int_equal(t.pages[PG_LEVEL_4K], 2); /* 0x3000 and 0x5000; 0x4000 was there */
	expect_leaf(&fmt_1g, root, 0x3000, 0x3000, PG_LEVEL_4K);
	expect_leaf(&fmt_1g, root, 0x5000, 0x5000, PG_LEVEL_4K);
	assert_false(pt_lookup(&fmt_1g, root, 0x2000, &e, NULL));
	assert_false(pt_lookup(&fmt_1g, root, 0x6000, &e, NULL));

	t = (struct fill_test){PG_LEVEL_1G, {0}}; /* the GiB at 1 GiB: 2M and 4K pages around the hole */
	assert_true(pt_fill(&fmt_1g, root, GiB(1), GiB(2), choose_test, count_new_leaf, &t));
	assert_int_equal(t.pages[PG_LEVEL_1G], 0);
	assert_int_equal(t.pages[PG_LEVEL_2M], 511);
	assert_int_equal(t.pages[PG_LEVEL_4K], 510);
	assert_false(pt_lookup(&fmt_1g, root, HOLE_BASE + PAGE_SIZE, &e, NULL));
	expect_leaf(&fmt_1g, root, HOLE_END, HOLE_END, PG_LEVEL_4K);
	expect_leaf(&fmt_1g, root, GiB(1) + MiB(2), GiB(1) + MiB(2), PG_LEVEL_2M);

	t = (struct fill_test){PG_LEVEL_1G, {0}}; /* one entry: the largest page around 5 GiB + 1 */
	assert_true(pt_fill(&fmt_1g, root, GiB(5) + 1, GiB(5) + 2, choose_test, count_new_leaf, &t));
	assert_int_equal(t.pages[PG_LEVEL_1G], 1);
	expect_leaf(&fmt_1g, root, GiB(5), GiB(5), PG_LEVEL_1G);
	assert_false(pt_lookup(&fmt_1g, root, GiB(4), &e, NULL));
	assert_false(pt_lookup(&fmt_1g, root, GiB(6), &e, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_largest_pages, teardown),
		cmocka_unit_test_teardown(test_format_limit, teardown),
		cmocka_unit_test_teardown(test_offset_mapping, teardown),
		cmocka_unit_test_teardown(test_conflicts, teardown),
		cmocka_unit_test_teardown(test_pool_exhausted, teardown),
		cmocka_unit_test_teardown(test_fill, teardown),
	};
	return cmocka_run_group_tests_name("pagetable", tests, NULL, NULL);
}
