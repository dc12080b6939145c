/*
 * The generic page-table walker on a host arena: largest-page selection from alignment and size, the
 * format's page-size limit, lookups, conflicts, table counting, pool exhaustion, pt_fill, and the one leaf
 * writer's bookkeeping (statistics and the format's hook) across map, fill, split and rewrite.
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

static struct pt_stats stats; /* every table pagetable.c allocated and every leaf, since pool() */
static const struct pt_format fmt_1g = {"test", P, P | W, PG_LEVEL_1G, &stats, NULL, NULL};
static const struct pt_format fmt_2m = {"test", P, P | W, PG_LEVEL_2M, &stats, NULL, NULL};
static const struct pt_format fmt_4k = {"test", P, P | W, PG_LEVEL_4K, &stats, NULL, NULL};

static void pool(uint64_t frames)
{
	free(arena);
	arena = aligned_alloc(PAGE_SIZE, frames * PAGE_SIZE);
	assert_non_null(arena);
	host_phys_offset = (uintptr_t)arena - FAKE_BASE;
	pmm_init(FAKE_BASE, frames * PAGE_SIZE);
	host_console_reset();
	stats = (struct pt_stats){0};
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
	assert_true(pt_map(&fmt_1g, root, PAGE_SIZE, PAGE_SIZE, GiB(3) + MiB(2) - PAGE_SIZE, P | W));
	assert_int_equal(stats.leaves[PG_LEVEL_4K], 511);
	assert_int_equal(stats.leaves[PG_LEVEL_2M], 511 + 1);
	assert_int_equal(stats.leaves[PG_LEVEL_1G], 2);
	expect_leaf(&fmt_1g, root, PAGE_SIZE, PAGE_SIZE, PG_LEVEL_4K);
	expect_leaf(&fmt_1g, root, MiB(2) + 5, MiB(2), PG_LEVEL_2M);
	expect_leaf(&fmt_1g, root, GiB(2) + 12345, GiB(2), PG_LEVEL_1G);
	expect_leaf(&fmt_1g, root, GiB(3) + 4096, GiB(3), PG_LEVEL_2M);
	assert_false(pt_lookup(&fmt_1g, root, 0, NULL, NULL));
	assert_false(pt_lookup(&fmt_1g, root, GiB(3) + MiB(2), NULL, NULL));
	/* root + PDPT + PD for [0,1G) + PT for [0,2M) + PD for [3G,4G) */
	assert_int_equal(pt_count_tables(&fmt_1g, root), 5);
	assert_int_equal(stats.tables, 4); /* all but the root, which the test allocated itself */
}

/* The format's limit wins over alignment: a 1 GiB aligned range in a 2M-only format uses 2M pages. */
static void test_format_limit(void **state)
{
	pool(64);
	uint64_t root = pmm_alloc_frame();
	assert_true(pt_map(&fmt_2m, root, GiB(1), GiB(1), GiB(1), P));
	assert_int_equal(stats.leaves[PG_LEVEL_2M], 512);
	assert_int_equal(stats.leaves[PG_LEVEL_1G], 0);
	expect_leaf(&fmt_2m, root, GiB(1) + MiB(7), GiB(1) + MiB(6), PG_LEVEL_2M);

	uint64_t root4 = pmm_alloc_frame();
	stats = (struct pt_stats){0};
	assert_true(pt_map(&fmt_4k, root4, MiB(2), MiB(2), MiB(2), P));
	assert_int_equal(stats.leaves[PG_LEVEL_4K], 512);
	expect_leaf(&fmt_4k, root4, MiB(3) + 7, MiB(3), PG_LEVEL_4K);
}

/* va and pa misaligned against each other: only 4 KiB pages are possible. */
static void test_offset_mapping(void **state)
{
	pool(16);
	uint64_t root = pmm_alloc_frame();
	uint64_t va = 0xFFFFFFFF80000000ull;
	assert_true(pt_map(&fmt_1g, root, va, MiB(2) + PAGE_SIZE, MiB(4), P));
	assert_int_equal(stats.leaves[PG_LEVEL_4K], 1024);
	expect_leaf(&fmt_1g, root, va + MiB(1), MiB(3) + PAGE_SIZE, PG_LEVEL_4K);
}

static void test_conflicts(void **state)
{
	pool(16);
	uint64_t root = pmm_alloc_frame();
	assert_true(pt_map(&fmt_1g, root, MiB(2), MiB(2), MiB(2), P));
	host_console_reset();
	assert_false(pt_map(&fmt_1g, root, MiB(2) + PAGE_SIZE, 0, PAGE_SIZE, P));
	assert_non_null(strstr(host_console_buf, "already mapped by a large page"));
	assert_true(pt_map(&fmt_1g, root, MiB(8), MiB(8), PAGE_SIZE, P));
	host_console_reset();
	assert_false(pt_map(&fmt_1g, root, MiB(8), MiB(8), PAGE_SIZE, P));
	assert_non_null(strstr(host_console_buf, "already mapped"));
}

static void test_pool_exhausted(void **state)
{
	pool(4); /* bitmap + root + 2 more: not enough for PDPT + PD + PT */
	uint64_t root = pmm_alloc_frame();
	assert_false(pt_map(&fmt_1g, root, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, P));
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
	assert_true(pt_map(&fmt_1g, root, 0x4000, 0x4000, PAGE_SIZE, P));
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

/* The one leaf writer's hook: every call must see the entry already written, mapping va 1:1 at level. */
struct hook_log {
	uint64_t calls, wrong;
};

static void hook(void *ctx, uint64_t va, uint64_t *entry, unsigned level)
{
	struct hook_log *h = ctx;
	uint64_t size = pt_level_size(level);
	h->calls++;
	if ((*entry & P) && (*entry & PT_ADDR_MASK & ~(size - 1)) != ALIGN_DOWN(va, size))
		h->wrong++;
}

static void census_leaf(void *ctx, uint64_t va, uint64_t *entry, unsigned level)
{
	((uint64_t *)ctx)[level]++;
}

/* fmt's statistics equal what the tables hold: a census of their leaves and a count of their tables. */
static void expect_stats_match(const struct pt_format *f, uint64_t root)
{
	uint64_t census[PG_LEVEL_NUM] = {0};
	pt_for_each_leaf(f, root, census_leaf, census);
	for (unsigned l = PG_LEVEL_4K; l <= PG_LEVEL_1G; l++)
		assert_int_equal(f->stats->leaves[l], census[l]);
	assert_int_equal(f->stats->tables + 1, pt_count_tables(f, root));
}

/*
 * One writer of leaves (pt_set_leaf, KVM's mmu_set_spte): pt_map, pt_fill, pt_split and a caller's rewrite
 * all go through it, so the format's leaf counts always match the tables, and its hook (the EPT's reverse
 * map) hears of every leaf written, after the write, with the address and level it maps.
 */
static void test_one_writer(void **state)
{
	pool(64);
	struct hook_log log = {0};
	const struct pt_format f = {"test", P, P | W, PG_LEVEL_1G, &stats, hook, &log};
	uint64_t root = pmm_alloc_frame();

	assert_true(pt_map(&f, root, MiB(2), MiB(2), MiB(2), P | W)); /* one 2 MiB leaf */
	assert_int_equal(log.calls, 1);
	expect_stats_match(&f, root);

	struct fill_test t = {PG_LEVEL_4K, {0}}; /* the 2 MiB below it, in 4 KiB pages */
	assert_true(pt_fill(&f, root, 0, MiB(2), choose_test, count_new_leaf, &t));
	assert_int_equal(log.calls, 1 + 512);
	assert_int_equal(stats.leaves[PG_LEVEL_4K], 512);
	expect_stats_match(&f, root);

	unsigned level;
	uint64_t *e = pt_find(&f, root, MiB(3), &level);
	assert_int_equal(level, PG_LEVEL_2M);
	assert_true(pt_split(&f, e, MiB(3), level)); /* 512 leaves one level down, the large one gone */
	assert_int_equal(log.calls, 1 + 512 + 512);
	assert_int_equal(stats.leaves[PG_LEVEL_2M], 0);
	assert_int_equal(stats.leaves[PG_LEVEL_4K], 1024);
	expect_leaf(&f, root, MiB(3) + 5, MiB(3), PG_LEVEL_4K);
	expect_stats_match(&f, root);

	e = pt_find(&f, root, MiB(3), &level); /* a caller's rewrite: read-only, then not present */
	pt_set_leaf(&f, e, MiB(3), level, *e & ~W);
	assert_int_equal(stats.leaves[PG_LEVEL_4K], 1024);
	pt_set_leaf(&f, e, MiB(3), level, 0);
	assert_int_equal(stats.leaves[PG_LEVEL_4K], 1023);
	assert_false(pt_lookup(&f, root, MiB(3), NULL, NULL));
	expect_stats_match(&f, root);
	assert_int_equal(log.calls, 1 + 512 + 512 + 2);
	assert_int_equal(log.wrong, 0);
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
		cmocka_unit_test_teardown(test_one_writer, teardown),
	};
	return cmocka_run_group_tests_name("pagetable", tests, NULL, NULL);
}
