/*
 * The guest page walker on a host arena: every paging mode maps and translates, large pages of every size,
 * PSE-36, PAE PDPTEs from registers or memory, reserved bits per mode, unreadable guest tables,
 * non-canonical addresses, 32-bit truncation, and an exhaustive permission matrix checked against an
 * independent reference model written from SDM Vol. 3A 4.6.1 and 4.7.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tests/unit/host_stubs.h"
#include "vmx/gwalk.h"

#define ARENA_BASE 0x00200000ull /* guest-physical address of the arena's first page */
#define ARENA_PAGES 128
#define OUTSIDE_GPA 0x7000000000ull /* not guest RAM */
#define RFLAGS_RESERVED1 RFLAGS_FIXED
#define ADDR_MASK_64 0x000FFFFFFFFFF000ull
#define ADDR_MASK_32 0xFFFFF000ull
#define TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)
#define MAXPHYADDR 46

static uint8_t arena[ARENA_PAGES * PAGE_SIZE] ALIGNED(PAGE_SIZE);
static unsigned arena_used;
static unsigned reads;

static bool read_gpa(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	reads++;
	if (gpa < ARENA_BASE || gpa + len > ARENA_BASE + sizeof(arena) || gpa + len < gpa)
		return false;
	memcpy(dst, arena + (gpa - ARENA_BASE), len);
	return true;
}

static struct gwalk_env env = {.maxphyaddr = MAXPHYADDR, .gbpages = true, .read_gpa = read_gpa};

static int setup(void **state)
{
	memset(arena, 0, sizeof(arena));
	arena_used = 0;
	env = (struct gwalk_env){.maxphyaddr = MAXPHYADDR, .gbpages = true, .read_gpa = read_gpa};
	return 0;
}

static uint64_t new_table(void)
{
	assert_true(arena_used < ARENA_PAGES);
	return ARENA_BASE + (uint64_t)arena_used++ * PAGE_SIZE;
}

static void put(uint64_t gpa, uint64_t v, unsigned size)
{
	if (size == 4) {
		uint32_t v32 = (uint32_t)v;
		memcpy(arena + (gpa - ARENA_BASE), &v32, 4);
	} else {
		memcpy(arena + (gpa - ARENA_BASE), &v, 8);
	}
}

static uint64_t get(uint64_t gpa, unsigned size)
{
	uint64_t v = 0;
	memcpy(&v, arena + (gpa - ARENA_BASE), size);
	return v;
}

/* The test's own description of each mode's tables (SDM 4.3, 4.4, 4.5). */
struct tgeo {
	unsigned top, esize;
	unsigned shift[6], bits[6];
	uint64_t addr_mask;
};
static const struct tgeo tgeo[] = {
	[GWALK_MODE_32BIT] = {2, 4, {0, 12, 22}, {0, 10, 10}, ADDR_MASK_32},
	[GWALK_MODE_PAE] = {3, 8, {0, 12, 21, 30}, {0, 9, 9, 2}, ADDR_MASK_64},
	[GWALK_MODE_4LEVEL] = {4, 8, {0, 12, 21, 30, 39}, {0, 9, 9, 9, 9}, ADDR_MASK_64},
	[GWALK_MODE_5LEVEL] = {5, 8, {0, 12, 21, 30, 39, 48}, {0, 9, 9, 9, 9, 9}, ADDR_MASK_64},
};

/*
 * Map gla to pa with a leaf at level leaf (PS added above level 1) holding leaf_flags; missing tables are
 * taken from the arena and pointed to with TABLE_FLAGS (PAE PDPTEs: P only). at[level] = each entry's GPA.
 */
static void tmap(enum gwalk_mode mode, uint64_t root, uint64_t gla, uint64_t pa, unsigned leaf,
		 uint64_t leaf_flags, uint64_t at[6])
{
	const struct tgeo *g = &tgeo[mode];
	uint64_t table = root, dummy[6];
	if (!at)
		at = dummy;
	for (unsigned level = g->top;; level--) {
		uint64_t idx = (gla >> g->shift[level]) & ((1ull << g->bits[level]) - 1);
		uint64_t e_gpa = table + idx * g->esize;
		at[level] = e_gpa;
		if (level == leaf) {
			put(e_gpa, pa | leaf_flags | (leaf > 1 ? PTE_PS : 0), g->esize);
			return;
		}
		uint64_t e = get(e_gpa, g->esize);
		if (!(e & PTE_P)) {
			bool pdpte = mode == GWALK_MODE_PAE && level == PG_LEVEL_1G;
			e = new_table() | (pdpte ? PTE_P : TABLE_FLAGS);
			put(e_gpa, e, g->esize);
		}
		table = e & g->addr_mask;
	}
}

static struct gwalk_cpu cpu_for(enum gwalk_mode mode, uint64_t cr3)
{
	struct gwalk_cpu c = {.cr0 = CR0_PE | CR0_PG | CR0_WP, .cr3 = cr3, .rflags = RFLAGS_RESERVED1};
	switch (mode) {
	case GWALK_MODE_OFF:
		c.cr0 = CR0_PE;
		break;
	case GWALK_MODE_32BIT:
		c.cr4 = CR4_PSE;
		break;
	case GWALK_MODE_PAE:
		c.cr4 = CR4_PAE;
		c.efer = EFER_NXE;
		break;
	case GWALK_MODE_4LEVEL:
		c.cr4 = CR4_PAE;
		c.efer = EFER_LME | EFER_LMA | EFER_NXE;
		break;
	case GWALK_MODE_5LEVEL:
		c.cr4 = CR4_PAE | CR4_LA57;
		c.efer = EFER_LME | EFER_LMA | EFER_NXE;
		break;
	}
	return c;
}

static void expect_ok(const struct gwalk_cpu *c, uint64_t gla, unsigned acc, uint64_t gpa, uint64_t size)
{
	struct gwalk_walk w;
	enum gwalk_result r = gwalk_translate(c, &env, gla, acc, &w);
	if (r != GWALK_OK)
		print_error("gla %#llx: result %s error %#x level %u\n", (unsigned long long)gla,
			    gwalk_result_name(r), w.pf_error, w.fault_level);
	assert_int_equal(r, GWALK_OK);
	assert_int_equal(w.gpa, gpa);
	assert_int_equal(w.page_size, size);
}

static void expect_pf(const struct gwalk_cpu *c, uint64_t gla, unsigned acc, uint32_t err, unsigned level)
{
	struct gwalk_walk w;
	enum gwalk_result r = gwalk_translate(c, &env, gla, acc, &w);
	if (r != GWALK_PAGE_FAULT || w.pf_error != err)
		print_error("gla %#llx: result %s error %#x, want #PF %#x\n", (unsigned long long)gla,
			    gwalk_result_name(r), w.pf_error, err);
	assert_int_equal(r, GWALK_PAGE_FAULT);
	assert_int_equal(w.pf_error, err);
	assert_int_equal(w.fault_level, level);
}

#define PF_RSVD ((uint32_t)(GWALK_PF_P | GWALK_PF_RSVD))

/* ---- modes ---------------------------------------------------------------------------------------- */

static void test_paging_off(void **state)
{
	struct gwalk_cpu c = cpu_for(GWALK_MODE_OFF, 0);
	struct gwalk_walk w;
	reads = 0;
	expect_ok(&c, 0x12345678, GWALK_ACC_WRITE, 0x12345678, PAGE_SIZE);
	expect_ok(&c, 0xFFFFFFFF12345678ull, GWALK_ACC_FETCH, 0x12345678, PAGE_SIZE); /* 32-bit truncation */
	assert_int_equal(gwalk_translate(&c, &env, 0x1000, GWALK_ACC_READ, &w), GWALK_OK);
	assert_int_equal(w.nrefs, 0);
	assert_int_equal(w.mode, GWALK_MODE_OFF);
	assert_int_equal(reads, 0);
}

static void test_32bit_4k(void **state)
{
	uint64_t root = new_table(), at[6];
	tmap(GWALK_MODE_32BIT, root, 0xC0401234, 0x00ABC000, 1, TABLE_FLAGS, at);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_32BIT, root);
	expect_ok(&c, 0xC0401234, GWALK_ACC_WRITE | GWALK_ACC_USER, 0x00ABC234, PAGE_SIZE);
	expect_ok(&c, 0xABCD0000C0401234ull, GWALK_ACC_READ, 0x00ABC234,
		  PAGE_SIZE); /* truncated to 32 bits */

	struct gwalk_walk w;
	assert_int_equal(gwalk_translate(&c, &env, 0xC0401234, GWALK_ACC_READ, &w), GWALK_OK);
	assert_int_equal(w.mode, GWALK_MODE_32BIT);
	assert_int_equal(w.nrefs, 2);
	assert_int_equal(w.refs[0].level, PG_LEVEL_2M);
	assert_int_equal(w.refs[0].gpa, root + (0xC0401234 >> 22) * 4);
	assert_int_equal(w.refs[1].level, PG_LEVEL_4K);
	assert_int_equal(w.refs[1].gpa, at[1]);
	assert_int_equal(w.refs[1].entry, 0x00ABC000 | TABLE_FLAGS);
	assert_int_equal(w.gla, 0xC0401234);

	/* Without CR4.PSE the PS bit of a PDE is ignored: the PDE still points to a page table. */
	uint64_t pde = get(at[2], 4);
	put(at[2], pde | PTE_PS, 4);
	c.cr4 &= ~CR4_PSE;
	expect_ok(&c, 0xC0401234, GWALK_ACC_READ, 0x00ABC234, PAGE_SIZE);
	/* Not present PTE: #PF at the PTE, P = 0. */
	put(at[1], 0, 4);
	expect_pf(&c, 0xC0401234, GWALK_ACC_WRITE | GWALK_ACC_USER, (uint32_t)(GWALK_PF_WR | GWALK_PF_US), 1);
}

static void test_32bit_4m_pse36(void **state)
{
	uint64_t root = new_table(), at[6];
	/* A 4 MiB page at 0x5_0040_0000: bits 31:22 = 0x001, PSE-36 bits 20:13 = 0x05 (address bits 39:32).
	 */
	uint64_t pde_addr = 0x00400000ull | (0x05ull << GWALK_PSE36_SHIFT);
	tmap(GWALK_MODE_32BIT, root, 0x80123456, pde_addr, 2, TABLE_FLAGS, at);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_32BIT, root);
	env.maxphyaddr = 40;
	expect_ok(&c, 0x80123456, GWALK_ACC_READ, 0x500523456ull, MiB(4));
	env.maxphyaddr = 52; /* 32-bit paging uses min(MAXPHYADDR, 40) */
	expect_ok(&c, 0x80123456, GWALK_ACC_READ, 0x500523456ull, MiB(4));
	/* MAXPHYADDR 36: bits 16:13 are address bits 35:32, bits 21:17 reserved. */
	env.maxphyaddr = 36;
	expect_ok(&c, 0x80123456, GWALK_ACC_READ, 0x500523456ull, MiB(4));
	put(at[2], pde_addr | TABLE_FLAGS | PTE_PS | BIT(17), 4);
	expect_pf(&c, 0x80123456, GWALK_ACC_READ, PF_RSVD, 2);
	/* Bit 21 is reserved even with a 40-bit address; bit 12 is PAT, not reserved. */
	env.maxphyaddr = 40;
	put(at[2], pde_addr | TABLE_FLAGS | PTE_PS | BIT(21), 4);
	expect_pf(&c, 0x80123456, GWALK_ACC_WRITE, PF_RSVD | (uint32_t)GWALK_PF_WR, 2);
	put(at[2], pde_addr | TABLE_FLAGS | PTE_PS | PTE_PAT_LARGE, 4);
	expect_ok(&c, 0x80123456, GWALK_ACC_READ, 0x500523456ull, MiB(4));
	/* A 32-bit-paging MAXPHYADDR of 32: no PSE-36 bits at all. */
	env.maxphyaddr = 32;
	put(at[2], 0x00400000ull | TABLE_FLAGS | PTE_PS | BIT(13), 4);
	expect_pf(&c, 0x80123456, GWALK_ACC_READ, PF_RSVD, 2);
}

static void test_pae(void **state)
{
	uint64_t root = new_table();
	tmap(GWALK_MODE_PAE, root, 0xBFE01234, 0x12345000, 1, TABLE_FLAGS, NULL);
	tmap(GWALK_MODE_PAE, root, 0x40200000 + 0x5678, 0x7FE00000, 2, TABLE_FLAGS, NULL);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_PAE, root);
	expect_ok(&c, 0xBFE01234, GWALK_ACC_WRITE, 0x12345234, PAGE_SIZE);
	expect_ok(&c, 0x40205678, GWALK_ACC_FETCH, 0x7FE05678, MiB(2));
	expect_ok(&c, 0x1BFE01234ull, GWALK_ACC_READ, 0x12345234, PAGE_SIZE); /* truncated to 32 bits */

	struct gwalk_walk w;
	assert_int_equal(gwalk_translate(&c, &env, 0xBFE01234, GWALK_ACC_READ, &w), GWALK_OK);
	assert_int_equal(w.nrefs, 3);
	assert_int_equal(w.refs[0].level, PG_LEVEL_1G);
	assert_int_equal(w.refs[0].gpa, root + 2 * 8);
	assert_int_equal(w.refs[0].flags, 0);

	/* PDPTEs from the VMCS: not read from memory, even where memory now says otherwise. */
	uint64_t pdpte2 = get(root + 2 * 8, 8);
	uint64_t pdptes[PAE_PDPTES];
	for (unsigned i = 0; i < PAE_PDPTES; i++)
		pdptes[i] = get(root + i * 8, 8);
	put(root + 2 * 8, 0, 8);
	env.pdptes = pdptes;
	reads = 0;
	assert_int_equal(gwalk_translate(&c, &env, 0xBFE01234, GWALK_ACC_READ, &w), GWALK_OK);
	assert_int_equal(reads, 2);
	assert_int_equal(w.refs[0].flags, GWALK_REF_REGISTER);
	assert_int_equal(w.refs[0].entry, pdpte2);
	assert_int_equal(w.refs[0].gpa, root + 2 * 8);
	/* A non-present PDPTE: #PF at the PDPTE. */
	pdptes[2] = 0;
	expect_pf(&c, 0xBFE01234, GWALK_ACC_FETCH, (uint32_t)GWALK_PF_ID, PG_LEVEL_1G);
	/* A present PDPTE with reserved bits (2:1, 8:5, 63:M): the CPU would not have loaded it. */
	static const uint64_t bad[] = {BIT(1), BIT(2), BIT(5),		BIT(6),
				       BIT(7), BIT(8), BIT(MAXPHYADDR), BIT(63)};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		pdptes[2] = pdpte2 | bad[i];
		assert_int_equal(gwalk_translate(&c, &env, 0xBFE01234, GWALK_ACC_READ, &w), GWALK_BAD_PDPTE);
		assert_int_equal(w.fault_level, PG_LEVEL_1G);
	}
	/* PWT, PCD and the ignored bits 11:9 are fine. */
	pdptes[2] = pdpte2 | PTE_PWT | PTE_PCD | BIT(9) | BIT(11);
	expect_ok(&c, 0xBFE01234, GWALK_ACC_READ, 0x12345234, PAGE_SIZE);
	/* The same checks on a PDPTE read from memory. */
	env.pdptes = NULL;
	put(root + 2 * 8, pdpte2 | BIT(5), 8);
	assert_int_equal(gwalk_translate(&c, &env, 0xBFE01234, GWALK_ACC_READ, &w), GWALK_BAD_PDPTE);
	/* PAE has no U/S or R/W in the PDPTE: a user write through a PDPTE with just P set works. */
	put(root + 2 * 8, pdpte2, 8);
	expect_ok(&c, 0xBFE01234, GWALK_ACC_WRITE | GWALK_ACC_USER, 0x12345234, PAGE_SIZE);
	/* CR3 bits 31:5 locate the PDPT: a 32-byte-aligned PDPT inside the page works. */
	for (unsigned i = 0; i < PAE_PDPTES; i++)
		put(root + 0x40 + i * 8, get(root + i * 8, 8), 8);
	put(root + 2 * 8, 0, 8);
	c.cr3 = root + 0x40;
	expect_ok(&c, 0xBFE01234, GWALK_ACC_READ, 0x12345234, PAGE_SIZE);
}

static void test_4level(void **state)
{
	uint64_t root = new_table(), at[6];
	uint64_t gla_4k = 0x00007F0000001234ull, gla_2m = 0xFFFF800000200000ull + 0x1234;
	uint64_t gla_1g = 0x0000004080000000ull + 0x123456;
	tmap(GWALK_MODE_4LEVEL, root, gla_4k, 0x00000ABCDE000000ull, 1, TABLE_FLAGS, at);
	tmap(GWALK_MODE_4LEVEL, root, gla_2m, 0x0000123400000000ull, 2, TABLE_FLAGS, NULL);
	tmap(GWALK_MODE_4LEVEL, root, gla_1g, 0x00003FC0000000ull, 3, TABLE_FLAGS, NULL);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_4LEVEL, root | 0x5 /* PCID */);
	c.cr4 |= CR4_PCIDE;
	expect_ok(&c, gla_4k, GWALK_ACC_WRITE | GWALK_ACC_USER, 0x00000ABCDE000234ull, PAGE_SIZE);
	expect_ok(&c, gla_2m, GWALK_ACC_READ, 0x0000123400001234ull, MiB(2));
	expect_ok(&c, gla_1g, GWALK_ACC_FETCH, 0x00003FC0123456ull, GiB(1));

	struct gwalk_walk w;
	assert_int_equal(gwalk_translate(&c, &env, gla_4k, GWALK_ACC_READ, &w), GWALK_OK);
	assert_int_equal(w.nrefs, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(w.refs[i].level, 4 - i);
		assert_int_equal(w.refs[i].gpa, at[4 - i]);
		assert_int_equal(w.refs[i].entry, get(at[4 - i], 8));
	}
	assert_int_equal(w.refs[0].gpa, root + 0xFE * 8);

	/* No 1 GiB pages on this CPU: PDPTE.PS is a reserved bit. */
	env.gbpages = false;
	expect_pf(&c, gla_1g, GWALK_ACC_READ, PF_RSVD, PG_LEVEL_1G);
	/* Not-present PTE; upper-half address translated the same way. */
	put(at[1], 0, 8);
	expect_pf(&c, gla_4k, GWALK_ACC_READ | GWALK_ACC_USER, (uint32_t)GWALK_PF_US, PG_LEVEL_4K);
}

static void test_5level(void **state)
{
	uint64_t root = new_table();
	uint64_t gla_4k = 0x00FF000000001234ull, gla_2m = 0xFF00000000400000ull + 0x55;
	uint64_t gla_1g = 0x0001000040000000ull + 0x777;
	tmap(GWALK_MODE_5LEVEL, root, gla_4k, 0x1000, 1, TABLE_FLAGS, NULL);
	tmap(GWALK_MODE_5LEVEL, root, gla_2m, MiB(6), 2, TABLE_FLAGS, NULL);
	tmap(GWALK_MODE_5LEVEL, root, gla_1g, GiB(7), 3, TABLE_FLAGS, NULL);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_5LEVEL, root);
	expect_ok(&c, gla_4k, GWALK_ACC_READ, 0x1234, PAGE_SIZE);
	expect_ok(&c, gla_2m, GWALK_ACC_WRITE, MiB(6) + 0x55, MiB(2));
	expect_ok(&c, gla_1g, GWALK_ACC_FETCH, GiB(7) + 0x777, GiB(1));
	struct gwalk_walk w;
	assert_int_equal(gwalk_translate(&c, &env, gla_4k, GWALK_ACC_READ, &w), GWALK_OK);
	assert_int_equal(w.mode, GWALK_MODE_5LEVEL);
	assert_int_equal(w.nrefs, 5);
	assert_int_equal(w.refs[0].level, PG_LEVEL_256T);
	assert_int_equal(w.refs[0].gpa, root + 0xFF * 8); /* bits 56:48 */
	/* The same address under 4-level paging is not canonical. */
	c.cr4 &= ~CR4_LA57;
	assert_int_equal(gwalk_translate(&c, &env, gla_4k, GWALK_ACC_READ, &w), GWALK_NONCANONICAL);
}

/* ---- reserved bits ---------------------------------------------------------------------------------- */

struct rsvd_case {
	enum gwalk_mode mode;
	unsigned leaf;	/* leaf level of the mapping */
	unsigned level; /* the entry that gets the extra bit */
	uint64_t bit;
	bool nxe;
	bool reserved; /* expected: #PF with RSVD at level */
};

static const struct rsvd_case rsvd_cases[] = {
	/* 4-level (SDM Tables 4-15 to 4-20), MAXPHYADDR 46 */
	{GWALK_MODE_4LEVEL, 1, 1, BIT(46), true, true},
	{GWALK_MODE_4LEVEL, 1, 1, BIT(51), true, true},
	{GWALK_MODE_4LEVEL, 1, 1, BIT(45), true, false}, /* an address bit */
	{GWALK_MODE_4LEVEL, 1, 1, BIT(52), true, false}, /* ignored */
	{GWALK_MODE_4LEVEL, 1, 1, BIT(62), true, false}, /* protection key, CR4.PKE = 0: ignored */
	{GWALK_MODE_4LEVEL, 1, 1, PTE_XD, false, true},
	{GWALK_MODE_4LEVEL, 1, 1, PTE_XD, true, false},
	{GWALK_MODE_4LEVEL, 1, 1, PTE_PS, true, false}, /* PAT in a PTE */
	{GWALK_MODE_4LEVEL, 1, 2, PTE_XD, false, true},
	{GWALK_MODE_4LEVEL, 1, 3, BIT(50), true, true},
	{GWALK_MODE_4LEVEL, 1, 4, PTE_PS, true, true}, /* PML4E.PS */
	{GWALK_MODE_4LEVEL, 1, 4, PTE_XD, false, true},
	{GWALK_MODE_4LEVEL, 2, 2, BIT(13), true, true}, /* 2 MiB: bits 20:13 */
	{GWALK_MODE_4LEVEL, 2, 2, BIT(20), true, true},
	{GWALK_MODE_4LEVEL, 2, 2, PTE_PAT_LARGE, true, false},
	{GWALK_MODE_4LEVEL, 3, 3, BIT(13), true, true}, /* 1 GiB: bits 29:13 */
	{GWALK_MODE_4LEVEL, 3, 3, BIT(29), true, true},
	{GWALK_MODE_4LEVEL, 3, 3, PTE_PAT_LARGE, true, false},
	/* 5-level */
	{GWALK_MODE_5LEVEL, 1, 5, PTE_PS, true, true}, /* PML5E.PS */
	{GWALK_MODE_5LEVEL, 1, 5, BIT(46), true, true},
	{GWALK_MODE_5LEVEL, 1, 4, PTE_PS, true, true},
	{GWALK_MODE_5LEVEL, 1, 5, PTE_XD, false, true},
	/* PAE (SDM Tables 4-9 to 4-11): bits 62:M reserved, 63 XD */
	{GWALK_MODE_PAE, 1, 1, BIT(46), true, true},
	{GWALK_MODE_PAE, 1, 1, BIT(52), true, true},
	{GWALK_MODE_PAE, 1, 1, BIT(62), true, true},
	{GWALK_MODE_PAE, 1, 1, PTE_XD, false, true},
	{GWALK_MODE_PAE, 1, 1, PTE_XD, true, false},
	{GWALK_MODE_PAE, 1, 2, BIT(60), true, true},
	{GWALK_MODE_PAE, 2, 2, BIT(13), true, true},
	{GWALK_MODE_PAE, 2, 2, BIT(20), true, true},
	{GWALK_MODE_PAE, 2, 2, BIT(45), true, false},
	/* 32-bit (SDM Tables 4-4 to 4-6): only a 4 MiB PDE has reserved bits (21:(M-19), M = 40 here) */
	{GWALK_MODE_32BIT, 1, 1, BIT(31), false, false},
	{GWALK_MODE_32BIT, 1, 2, BIT(21), false, false},
	{GWALK_MODE_32BIT, 2, 2, BIT(21), false, true},
	{GWALK_MODE_32BIT, 2, 2, BIT(20), false, false}, /* PSE-36 address bit 39 */
};

static void test_reserved_bits(void **state)
{
	static const uint64_t gla[] = {
		[GWALK_MODE_32BIT] = 0x80000000,
		[GWALK_MODE_PAE] = 0x80000000,
		[GWALK_MODE_4LEVEL] = 0x0000008000000000ull,
		[GWALK_MODE_5LEVEL] = 0x0080000000000000ull,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(rsvd_cases); i++) {
		const struct rsvd_case *rc = &rsvd_cases[i];
		setup(NULL);
		env.maxphyaddr = rc->mode == GWALK_MODE_32BIT ? 40 : MAXPHYADDR;
		const struct tgeo *g = &tgeo[rc->mode];
		uint64_t root = new_table(), at[6];
		tmap(rc->mode, root, gla[rc->mode], 0, rc->leaf, TABLE_FLAGS, at);
		put(at[rc->level], get(at[rc->level], g->esize) | rc->bit, g->esize);
		struct gwalk_cpu c = cpu_for(rc->mode, root);
		c.efer = rc->nxe ? c.efer | EFER_NXE : c.efer & ~EFER_NXE;
		struct gwalk_walk w;
		enum gwalk_result r = gwalk_translate(&c, &env, gla[rc->mode] + 4, GWALK_ACC_WRITE, &w);
		if ((r == GWALK_PAGE_FAULT) != rc->reserved)
			print_error("case %u: result %s error %#x\n", i, gwalk_result_name(r), w.pf_error);
		if (rc->reserved) {
			assert_int_equal(r, GWALK_PAGE_FAULT);
			assert_int_equal(w.pf_error, PF_RSVD | (uint32_t)GWALK_PF_WR);
			assert_int_equal(w.fault_level, rc->level);
		} else {
			assert_int_equal(r, GWALK_OK);
		}
	}
}

/* Reserved bits count only in present entries; the walk stops at the first bad entry, top down. */
static void test_reserved_order(void **state)
{
	uint64_t root = new_table(), at[6];
	uint64_t gla = 0x0000000000401000ull;
	tmap(GWALK_MODE_4LEVEL, root, gla, 0x9000, 1, TABLE_FLAGS, at);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_4LEVEL, root);
	c.cr4 |= CR4_SMEP;
	put(at[1], BIT(50) | PTE_RW, 8); /* not present, "reserved" bit set: a plain not-present fault */
	expect_pf(&c, gla, GWALK_ACC_FETCH | GWALK_ACC_USER, (uint32_t)(GWALK_PF_US | GWALK_PF_ID), 1);
	put(at[2], get(at[2], 8) | BIT(49), 8); /* the PDE's reserved bit is found first */
	expect_pf(&c, gla, GWALK_ACC_READ, PF_RSVD, 2);
	/* A user page the access may not use, and a reserved bit: RSVD wins (rights are checked last). */
	put(at[1], 0x9000 | PTE_P, 8);
	put(at[2], (get(at[2], 8) & ~BIT(49)) | PTE_XD, 8);
	c.efer &= ~EFER_NXE;
	expect_pf(&c, gla, GWALK_ACC_WRITE | GWALK_ACC_USER, PF_RSVD | (uint32_t)(GWALK_PF_WR | GWALK_PF_US),
		  2);
}

/* ---- unreadable tables, addresses, access flags ---------------------------------------------------------
 */

static void test_bad_table_gpa(void **state)
{
	uint64_t root = new_table(), at[6];
	uint64_t gla = 0x0000000040201000ull;
	tmap(GWALK_MODE_4LEVEL, root, gla, 0x9000, 1, TABLE_FLAGS, at);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_4LEVEL, root);
	struct gwalk_walk w;
	/* The PDPTE points the PD outside guest RAM. */
	put(at[3], OUTSIDE_GPA | TABLE_FLAGS, 8);
	assert_int_equal(gwalk_translate(&c, &env, gla, GWALK_ACC_READ, &w), GWALK_BAD_TABLE_GPA);
	assert_int_equal(w.bad_gpa, OUTSIDE_GPA + 1 * 8);
	assert_int_equal(w.fault_level, PG_LEVEL_2M);
	assert_int_equal(w.nrefs, 2);
	/* CR3 itself outside guest RAM. */
	c.cr3 = OUTSIDE_GPA;
	assert_int_equal(gwalk_translate(&c, &env, gla, GWALK_ACC_READ, &w), GWALK_BAD_TABLE_GPA);
	assert_int_equal(w.bad_gpa, OUTSIDE_GPA);
	assert_int_equal(w.fault_level, PG_LEVEL_512G);
	assert_int_equal(w.nrefs, 0);
	/* 32-bit paging: a PDE pointing outside. */
	uint64_t root32 = new_table();
	put(root32 + 1 * 4, 0xF0000000u | TABLE_FLAGS, 4);
	c = cpu_for(GWALK_MODE_32BIT, root32);
	assert_int_equal(gwalk_translate(&c, &env, 0x00402000, GWALK_ACC_READ, &w), GWALK_BAD_TABLE_GPA);
	assert_int_equal(w.bad_gpa, 0xF0000000u + 2 * 4);
}

static void test_noncanonical(void **state)
{
	struct gwalk_cpu c = cpu_for(GWALK_MODE_4LEVEL, new_table());
	struct gwalk_walk w;
	static const uint64_t bad4[] = {0x0000800000000000ull, 0xFFFF7FFFFFFFFFFFull, 0x8000000000000000ull,
					0x0001000000000000ull};
	for (unsigned i = 0; i < ARRAY_SIZE(bad4); i++) {
		reads = 0;
		assert_int_equal(gwalk_translate(&c, &env, bad4[i], GWALK_ACC_READ, &w), GWALK_NONCANONICAL);
		assert_int_equal(w.nrefs, 0);
		assert_int_equal(reads, 0);
	}
	/* Canonical extremes walk (and fault: nothing is mapped). */
	expect_pf(&c, 0x00007FFFFFFFFFFFull, GWALK_ACC_READ, 0, PG_LEVEL_512G);
	expect_pf(&c, 0xFFFF800000000000ull, GWALK_ACC_READ, 0, PG_LEVEL_512G);
	c.cr4 |= CR4_LA57;
	assert_int_equal(gwalk_translate(&c, &env, 0x0100000000000000ull, GWALK_ACC_READ, &w),
			 GWALK_NONCANONICAL);
	assert_int_equal(gwalk_translate(&c, &env, 0xFEFFFFFFFFFFFFFFull, GWALK_ACC_READ, &w),
			 GWALK_NONCANONICAL);
	expect_pf(&c, 0xFF00000000000000ull, GWALK_ACC_READ, 0, PG_LEVEL_256T);
	/* Outside long mode there is no canonical check: the address is truncated. */
	c = cpu_for(GWALK_MODE_PAE, new_table());
	assert_int_equal(gwalk_translate(&c, &env, 0x8000000000001000ull, GWALK_ACC_READ, &w),
			 GWALK_PAGE_FAULT);
	assert_int_equal(w.gla, 0x1000);
}

static void test_bad_access(void **state)
{
	struct gwalk_cpu c = cpu_for(GWALK_MODE_OFF, 0);
	struct gwalk_walk w;
	static const unsigned bad[] = {
		GWALK_ACC_WRITE | GWALK_ACC_FETCH,
		GWALK_ACC_IMPLICIT | GWALK_ACC_FETCH,
		GWALK_ACC_IMPLICIT | GWALK_ACC_USER,
		1u << 4,
		1u << 31,
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(gwalk_translate(&c, &env, 0, bad[i], &w), GWALK_BAD_ACCESS);
	assert_int_equal(gwalk_translate(&c, &env, 0, GWALK_ACC_IMPLICIT | GWALK_ACC_WRITE, &w), GWALK_OK);
}

static void test_names(void **state)
{
	assert_string_equal(gwalk_mode_name(GWALK_MODE_4LEVEL), "4-level");
	assert_string_equal(gwalk_mode_name((enum gwalk_mode)99), "?");
	assert_string_equal(gwalk_level_name(PG_LEVEL_256T), "PML5E");
	assert_string_equal(gwalk_level_name(0), "?");
	assert_string_equal(gwalk_result_name(GWALK_BAD_TABLE_GPA), "bad_table_gpa");
}

/* ---- the permission matrix ------------------------------------------------------------------------------
 */

/* One combination: the rights bits of the two entries that vary (0 = upper, 1 = lower = leaf). */
struct perm_case {
	enum gwalk_mode mode;
	bool us[2], rw[2], xd[2];
	bool nxe, wp, smep, smap, ac;
	unsigned cpl;
	bool write, fetch, user_flag, implicit;
};

/*
 * The reference model: SDM Vol. 3A 4.6.1 and 4.7 written as independent deny rules. Returns true and
 * sets *err when the CPU would raise #PF. Every other entry on the path allows everything.
 */
static bool ref_faults(const struct perm_case *p, uint32_t *err)
{
	bool has_xd =
		p->mode != GWALK_MODE_32BIT; /* 32-bit entries have no XD bit; NXE means nothing there */
	bool user = !p->implicit && (p->user_flag || p->cpl == 3);
	bool read = !p->write && !p->fetch;

	uint32_t e = 0;
	if (p->write)
		e |= 1u << 1;
	if (user)
		e |= 1u << 2;
	if (p->fetch && (p->smep || (has_xd && p->nxe)))
		e |= 1u << 4;

	/* Reserved: the XD bit while IA32_EFER.NXE = 0 (4.4, 4.5). */
	if (has_xd && !p->nxe && (p->xd[0] || p->xd[1])) {
		*err = e | (1u << 0) | (1u << 3);
		return true;
	}
	bool user_addr = p->us[0] && p->us[1];
	bool writable = p->rw[0] && p->rw[1];
	bool exec_disabled = has_xd && p->nxe && (p->xd[0] || p->xd[1]);
	bool smap_exempt = !p->implicit && p->cpl < 3 && p->ac;

	bool deny = false;
	deny = deny || (user && !user_addr);			    /* user access, supervisor address */
	deny = deny || (user && p->write && !writable);		    /* user write, read-only */
	deny = deny || (!user && p->write && !writable && p->wp);   /* supervisor write, read-only, WP */
	deny = deny || (!user && p->fetch && user_addr && p->smep); /* SMEP */
	deny = deny ||
	       (!user && !p->fetch && user_addr && p->smap && !smap_exempt); /* SMAP, reads and writes */
	deny = deny || (p->fetch && exec_disabled);			     /* XD */
	(void)read;
	*err = e | (1u << 0);
	return deny;
}

struct perm_variant {
	enum gwalk_mode mode;
	unsigned leaf; /* the lower varying entry's level; the upper one is leaf + 1 */
	uint64_t gla, pa;
};

static const struct perm_variant perm_variants[] = {
	{GWALK_MODE_32BIT, 1, 0x80401ABC, 0x00345000},
	{GWALK_MODE_PAE, 1, 0xC0601ABC, 0x00345000},
	{GWALK_MODE_4LEVEL, 1, 0x00007F0000601ABCull, 0x00345000},
	{GWALK_MODE_4LEVEL, 2, 0xFFFFFF8000601ABCull, 0x40000000},
	{GWALK_MODE_5LEVEL, 1, 0xFF7F000000601ABCull, 0x00345000},
	{GWALK_MODE_5LEVEL, 3, 0x00FF000040601ABCull, 0x80000000},
};

/* The 8 kinds of access: read / write / fetch, by CPL or with the user flag, or implicit (data only). */
static const struct {
	bool write, fetch, user_flag, implicit;
} perm_accesses[] = {
	{false, false, false, false}, {true, false, false, false}, {false, true, false, false},
	{false, false, true, false},  {true, false, true, false},  {false, true, true, false},
	{false, false, false, true},  {true, false, false, true},
};

#define PERM_BITS 11 /* us[2], rw[2], xd[2], nxe, wp, smep, smap, ac */

static uint64_t perm_entry(uint64_t base, const struct perm_case *p, unsigned i)
{
	return base | PTE_P | (p->us[i] ? PTE_US : 0) | (p->rw[i] ? PTE_RW : 0) | (p->xd[i] ? PTE_XD : 0);
}

static unsigned perm_run_variant(const struct perm_variant *v)
{
	const struct tgeo *g = &tgeo[v->mode];
	setup(NULL);
	uint64_t root = new_table(), at[6];
	tmap(v->mode, root, v->gla, v->pa, v->leaf, TABLE_FLAGS, at);
	uint64_t upper_base = get(at[v->leaf + 1], g->esize) & g->addr_mask;
	uint64_t lower_base = v->pa | (v->leaf > 1 ? PTE_PS : 0);
	uint64_t size = 1ull << g->shift[v->leaf];
	unsigned count = 0;

	for (unsigned bits = 0; bits < (1u << PERM_BITS); bits++) {
		struct perm_case p = {.mode = v->mode};
		p.us[0] = bits & 1, p.us[1] = bits >> 1 & 1, p.rw[0] = bits >> 2 & 1, p.rw[1] = bits >> 3 & 1;
		p.xd[0] = bits >> 4 & 1, p.xd[1] = bits >> 5 & 1, p.nxe = bits >> 6 & 1, p.wp = bits >> 7 & 1;
		p.smep = bits >> 8 & 1, p.smap = bits >> 9 & 1, p.ac = bits >> 10 & 1;
		if (v->mode == GWALK_MODE_32BIT && (p.xd[0] || p.xd[1]))
			continue;
		put(at[v->leaf + 1], perm_entry(upper_base, &p, 0), g->esize);
		put(at[v->leaf], perm_entry(lower_base, &p, 1), g->esize);
		struct gwalk_cpu c = cpu_for(v->mode, root);
		c.cr0 = p.wp ? c.cr0 | CR0_WP : c.cr0 & ~CR0_WP;
		c.cr4 |= (p.smep ? CR4_SMEP : 0) | (p.smap ? CR4_SMAP : 0);
		c.efer = p.nxe ? c.efer | EFER_NXE : c.efer & ~EFER_NXE;
		c.rflags |= p.ac ? RFLAGS_AC : 0;

		for (unsigned cpl = 0; cpl <= 3; cpl += 3) {
			for (unsigned a = 0; a < ARRAY_SIZE(perm_accesses); a++) {
				p.cpl = c.cpl = cpl;
				p.write = perm_accesses[a].write, p.fetch = perm_accesses[a].fetch;
				p.user_flag = perm_accesses[a].user_flag,
				p.implicit = perm_accesses[a].implicit;
				unsigned acc = (p.write ? GWALK_ACC_WRITE : 0) |
					       (p.fetch ? GWALK_ACC_FETCH : 0) |
					       (p.user_flag ? GWALK_ACC_USER : 0) |
					       (p.implicit ? GWALK_ACC_IMPLICIT : 0);
				uint32_t want_err;
				bool want_fault = ref_faults(&p, &want_err);
				struct gwalk_walk w;
				enum gwalk_result r = gwalk_translate(&c, &env, v->gla, acc, &w);
				bool ok = want_fault
						  ? r == GWALK_PAGE_FAULT && w.pf_error == want_err
						  : r == GWALK_OK && w.gpa == v->pa + (v->gla & (size - 1));
				if (!ok) {
					print_error("mode %s leaf %u bits %#x cpl %u access %#x: got %s %#x, "
						    "want %s %#x\n",
						    gwalk_mode_name(v->mode), v->leaf, bits, cpl, acc,
						    gwalk_result_name(r), w.pf_error,
						    want_fault ? "#PF" : "ok", want_fault ? want_err : 0);
					fail();
				}
				if (want_fault && !(want_err & GWALK_PF_RSVD))
					assert_int_equal(w.fault_level, v->leaf); /* rights: at the leaf */
				count++;
			}
		}
	}
	return count;
}

static void test_permission_matrix(void **state)
{
	unsigned total = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(perm_variants); i++)
		total += perm_run_variant(&perm_variants[i]);
	/* 5 variants with XD: 2^11 x 2 CPLs x 8 accesses; 32-bit paging: 2^9 x 16 */
	assert_int_equal(total, 5 * 2048 * 16 + 512 * 16);
	print_message("permission matrix: %u combinations\n", total);
}

/* A few named cases, checked directly against the SDM text (sanity for the reference model itself). */
static void test_permission_examples(void **state)
{
	uint64_t root = new_table(), at[6];
	uint64_t gla = 0x0000000000601000ull;
	tmap(GWALK_MODE_4LEVEL, root, gla, 0x5000, 1, TABLE_FLAGS, at);
	struct gwalk_cpu c = cpu_for(GWALK_MODE_4LEVEL, root);
	/* Read-only user page: supervisor write with WP=1 faults (P W), with WP=0 succeeds. */
	put(at[1], 0x5000 | PTE_P | PTE_US, 8);
	expect_pf(&c, gla, GWALK_ACC_WRITE, (uint32_t)(GWALK_PF_P | GWALK_PF_WR), 1);
	c.cr0 &= ~CR0_WP;
	expect_ok(&c, gla, GWALK_ACC_WRITE, 0x5000, PAGE_SIZE);
	/* User write to it faults regardless of WP (P W U). */
	expect_pf(&c, gla, GWALK_ACC_WRITE | GWALK_ACC_USER,
		  (uint32_t)(GWALK_PF_P | GWALK_PF_WR | GWALK_PF_US), 1);
	/* SMAP: a supervisor read of a user page faults unless AC = 1; an implicit read faults even then. */
	c.cr4 |= CR4_SMAP;
	expect_pf(&c, gla, GWALK_ACC_READ, (uint32_t)GWALK_PF_P, 1);
	c.rflags |= RFLAGS_AC;
	expect_ok(&c, gla, GWALK_ACC_READ, 0x5000, PAGE_SIZE);
	expect_pf(&c, gla, GWALK_ACC_IMPLICIT, (uint32_t)GWALK_PF_P, 1);
	/* An implicit access at CPL 3 is a supervisor-mode access (U/S = 0 in the error code). */
	c.cpl = 3;
	expect_pf(&c, gla, GWALK_ACC_IMPLICIT, (uint32_t)GWALK_PF_P, 1);
	expect_ok(&c, gla, GWALK_ACC_READ, 0x5000, PAGE_SIZE);
	/* SMEP: supervisor fetch from a user page (P I/D). */
	c.cpl = 0;
	c.cr4 |= CR4_SMEP;
	expect_pf(&c, gla, GWALK_ACC_FETCH, (uint32_t)(GWALK_PF_P | GWALK_PF_ID), 1);
	/* NX: fetch from an XD page (P U I/D). */
	put(at[2], get(at[2], 8) | PTE_XD, 8);
	expect_pf(&c, gla, GWALK_ACC_FETCH | GWALK_ACC_USER,
		  (uint32_t)(GWALK_PF_P | GWALK_PF_US | GWALK_PF_ID), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_paging_off, setup),
		cmocka_unit_test_setup(test_32bit_4k, setup),
		cmocka_unit_test_setup(test_32bit_4m_pse36, setup),
		cmocka_unit_test_setup(test_pae, setup),
		cmocka_unit_test_setup(test_4level, setup),
		cmocka_unit_test_setup(test_5level, setup),
		cmocka_unit_test_setup(test_reserved_bits, setup),
		cmocka_unit_test_setup(test_reserved_order, setup),
		cmocka_unit_test_setup(test_bad_table_gpa, setup),
		cmocka_unit_test_setup(test_noncanonical, setup),
		cmocka_unit_test_setup(test_bad_access, setup),
		cmocka_unit_test_setup(test_names, setup),
		cmocka_unit_test_setup(test_permission_matrix, setup),
		cmocka_unit_test_setup(test_permission_examples, setup),
	};
	return cmocka_run_group_tests_name("gwalk", tests, NULL, NULL);
}
