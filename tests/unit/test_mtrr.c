/*
 * arch/x86/mtrr.c over synthetic MTRR sets (raw MSR values, as the firmware would leave them): disabled
 * MTRRs, the typical PC layout, fixed ranges, every overlap rule, composed and discontiguous ranges,
 * MAXPHYADDR widths, the log lines; plus a randomized comparison of mtrr_range_type() against a per-page
 * walk and of mtrr_type_at() against a model written straight from SDM Vol. 3A 13.11.4.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arch/x86/mtrr.h"
#include "tests/unit/host_stubs.h"

#define UC MTRR_TYPE_UC
#define WC MTRR_TYPE_WC
#define WT MTRR_TYPE_WT
#define WP MTRR_TYPE_WP
#define WB MTRR_TYPE_WB
#define NO_TYPE 0xEEu /* what *type holds when mtrr_range_type() must not have written it */

static struct mtrr_state st;

static int setup(void **state)
{
	(void)state;
	memset(&st, 0, sizeof(st));
	host_console_reset();
	return 0;
}

/* MTRRs present and enabled, `vcnt` variable pairs, fixed ranges supported (enabled when `fixed`). */
static void enable(uint8_t def, bool fixed, unsigned vcnt, unsigned phys_bits)
{
	st.supported = true;
	st.cap = vcnt | MTRR_CAP_FIX | MTRR_CAP_WC;
	st.def_type = MTRR_DEF_E | (fixed ? MTRR_DEF_FE : 0) | def;
	st.phys_bits = phys_bits;
}

/* The PHYSMASK address field for a MAXPHYADDR of phys_bits. */
static uint64_t addr_field(unsigned phys_bits)
{
	return (BIT(phys_bits) - 1) & ~0xFFFull;
}

/* Variable pair i: [base, base + size), size a power of two and base aligned to it (SDM Vol. 3A 13.11.3). */
static void set_var(unsigned i, uint64_t base, uint64_t size, uint8_t type)
{
	st.var[i].base = base | type;
	st.var[i].mask = (~(size - 1) & addr_field(st.phys_bits)) | MTRR_PHYSMASK_VALID;
}

/* Where the type byte of fixed-range address pa lives (SDM Vol. 3A 13.11.2.2, the fixed-range table). */
static void fixed_slot(uint64_t pa, unsigned *msr, unsigned *byte)
{
	if (pa < 0x80000) {
		*msr = 0;
		*byte = (unsigned)(pa >> 16);
	} else if (pa < 0xC0000) {
		*msr = 1 + (unsigned)((pa - 0x80000) / 0x20000);
		*byte = (unsigned)((pa - 0x80000) >> 14) & 7;
	} else {
		*msr = 3 + (unsigned)((pa - 0xC0000) / 0x8000);
		*byte = (unsigned)((pa - 0xC0000) >> 12) & 7;
	}
}

static void set_fixed(uint64_t start, uint64_t end, uint8_t type)
{
	for (uint64_t pa = start; pa < end; pa += PAGE_SIZE) {
		unsigned msr, byte;
		fixed_slot(pa, &msr, &byte);
		st.fixed[msr] = (st.fixed[msr] & ~(0xFFull << (8 * byte))) | ((uint64_t)type << (8 * byte));
	}
}

/* mtrr_range_type() as a value: the type when uniform, -1 when mixed. */
static int range(uint64_t base, uint64_t size)
{
	uint8_t t = NO_TYPE;
	if (!mtrr_range_type(&st, base, size, &t)) {
		assert_int_equal(t, NO_TYPE);
		return -1;
	}
	assert_int_equal(t, mtrr_type_at(&st, base));
	return t;
}

/* ---- fixed cases ------------------------------------------------------------------------------------ */

static void test_disabled(void **state)
{
	(void)state;
	/* Zeroed: CPUID says no MTRRs. */
	assert_int_equal(mtrr_type_at(&st, 0), UC);
	assert_int_equal(mtrr_type_at(&st, GiB(4)), UC);
	assert_int_equal(range(0, UINT64_MAX), UC);
	assert_int_equal(range(GiB(1), GiB(1)), UC);

	/* Present, ranges programmed, but E clear. */
	enable(WB, true, 8, 39);
	set_var(0, 0, GiB(4), WB);
	set_fixed(0, MiB(1), WB);
	st.def_type &= ~MTRR_DEF_E;
	assert_int_equal(mtrr_type_at(&st, 0), UC);
	assert_int_equal(mtrr_type_at(&st, GiB(2)), UC);
	assert_int_equal(range(0, GiB(8)), UC);

	/* E set but CPUID says no MTRRs (stale values): still UC. */
	st.def_type |= MTRR_DEF_E;
	st.supported = false;
	assert_int_equal(mtrr_type_at(&st, GiB(2)), UC);
	assert_int_equal(range(0, GiB(8)), UC);
}

static void test_typical_pc(void **state)
{
	(void)state;
	enable(WB, false, 8, 39);
	set_var(0, 0xC0000000, GiB(1), UC);
	assert_int_equal(mtrr_type_at(&st, 0), WB);
	assert_int_equal(mtrr_type_at(&st, 0xBFFFFFFF), WB);
	assert_int_equal(mtrr_type_at(&st, 0xC0000000), UC);
	assert_int_equal(mtrr_type_at(&st, 0xFEE00000), UC);
	assert_int_equal(mtrr_type_at(&st, 0xFFFFFFFF), UC);
	assert_int_equal(mtrr_type_at(&st, GiB(4)), WB);
	assert_int_equal(range(0, GiB(3)), WB);
	assert_int_equal(range(GiB(2), GiB(1)), WB);
	assert_int_equal(range(GiB(3), GiB(1)), UC);
	assert_int_equal(range(GiB(4), GiB(64)), WB);
	assert_int_equal(range(0xBFE00000, MiB(2)), WB);
	assert_int_equal(range(0xC0000000, MiB(2)), UC);
	assert_int_equal(range(0xBFE00000, MiB(4)), -1);
	assert_int_equal(range(0xBFFFF000, 0x2000), -1);
	assert_int_equal(range(0xFFE00000, MiB(4)), -1);
	assert_int_equal(range(0, GiB(4)), -1);
	/* Beyond MAXPHYADDR no variable range applies: the default type, up to the end of the space. */
	assert_int_equal(range(BIT(39), UINT64_MAX - BIT(39) + 1), WB);
}

static void test_fixed_ranges(void **state)
{
	(void)state;
	enable(WB, true, 8, 39);
	set_fixed(0, MiB(1), WB);
	set_fixed(0xA0000, 0xC0000, UC);
	assert_int_equal(mtrr_type_at(&st, 0), WB);
	assert_int_equal(mtrr_type_at(&st, 0x9FFFF), WB);
	assert_int_equal(mtrr_type_at(&st, 0xA0000), UC);
	assert_int_equal(mtrr_type_at(&st, 0xBFFFF), UC);
	assert_int_equal(mtrr_type_at(&st, 0xC0000), WB);
	assert_int_equal(range(0, 0xA0000), WB);
	assert_int_equal(range(0xA0000, 0x20000), UC);
	/* Through the fixed / variable boundary with one type; the 2 MiB page holding the first MiB mixed. */
	assert_int_equal(range(0xC0000, MiB(2)), WB);
	assert_int_equal(range(0, MiB(2)), -1);
	assert_int_equal(range(MiB(1), MiB(1)), WB);

	/* Each fixed MSR, each byte: one 4 KiB page set to WT shows up exactly there. */
	for (uint64_t pa = 0; pa < MiB(1); pa += PAGE_SIZE) {
		memset(st.fixed, 0, sizeof(st.fixed));
		set_fixed(0, MiB(1), WB);
		unsigned msr, byte;
		fixed_slot(pa, &msr, &byte);
		uint64_t unit = pa < 0x80000 ? KiB(64) : pa < 0xC0000 ? KiB(16) : KiB(4);
		uint64_t start = ALIGN_DOWN(pa, unit);
		set_fixed(start, start + unit, WT);
		assert_int_equal(mtrr_type_at(&st, pa), WT);
		assert_int_equal(range(start, unit), WT);
		assert_int_equal(range(0, MiB(1)), -1);
		if (start > 0) {
			assert_int_equal(mtrr_type_at(&st, start - 1), WB);
			assert_int_equal(range(0, start), WB);
		}
		assert_int_equal(mtrr_type_at(&st, start + unit), WB);
		assert_int_equal(range(start + unit, MiB(2) - start - unit), WB);
	}

	/* A variable UC range over the first MiB yields to the fixed ranges while FE is set ... */
	set_fixed(0, MiB(1), WB);
	set_var(0, 0, MiB(1), UC);
	assert_int_equal(mtrr_type_at(&st, 0x1000), WB);
	assert_int_equal(range(0, MiB(1)), WB);
	/* ... decides when FE is clear ... */
	st.def_type &= ~MTRR_DEF_FE;
	assert_int_equal(mtrr_type_at(&st, 0x1000), UC);
	assert_int_equal(range(0, MiB(1)), UC);
	assert_int_equal(range(0, MiB(2)), -1);
	/* ... and when the CPU has no fixed ranges, whatever FE says. */
	st.def_type |= MTRR_DEF_FE;
	st.cap &= ~MTRR_CAP_FIX;
	assert_int_equal(mtrr_type_at(&st, 0xA0000), UC);
	assert_int_equal(range(0, MiB(1)), UC);
}

static void test_overlap_wt_wb(void **state)
{
	(void)state;
	enable(UC, false, 8, 39);
	set_var(0, GiB(1), GiB(1), WB);
	set_var(1, GiB(1), MiB(256), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(1)), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(1) + MiB(256) - 1), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(1) + MiB(256)), WB);
	assert_int_equal(range(GiB(1), MiB(256)), WT);
	assert_int_equal(range(GiB(1) + MiB(256), MiB(768)), WB);
	assert_int_equal(range(GiB(1), GiB(1)), -1);
	/* Order does not matter. */
	set_var(0, GiB(1), MiB(256), WT);
	set_var(1, GiB(1), GiB(1), WB);
	assert_int_equal(range(GiB(1), MiB(256)), WT);
	assert_int_equal(range(GiB(1), GiB(1)), -1);
}

static void test_overlap_uc_wins(void **state)
{
	(void)state;
	enable(WB, false, 8, 39);
	set_var(0, 0, GiB(4), WB);
	set_var(1, GiB(2), MiB(128), WT);
	set_var(2, GiB(2) + MiB(64), MiB(2), UC);
	set_var(3, GiB(3), MiB(1), UC);
	set_var(4, GiB(3), MiB(1), WC);
	assert_int_equal(mtrr_type_at(&st, GiB(2)), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(2) + MiB(64)), UC);
	assert_int_equal(mtrr_type_at(&st, GiB(2) + MiB(66)), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(3)), UC);
	assert_int_equal(range(GiB(2) + MiB(64), MiB(2)), UC);
	assert_int_equal(range(GiB(2), MiB(64)), WT);
	assert_int_equal(range(GiB(2), MiB(128)), -1);
	assert_int_equal(range(GiB(3), MiB(1)), UC);
}

static void test_overlap_undefined(void **state)
{
	(void)state;
	enable(WB, false, 8, 39);
	set_var(0, GiB(1), MiB(8), WB);
	set_var(1, GiB(1), MiB(2), WC);
	assert_int_equal(mtrr_type_at(&st, GiB(1)), UC); /* WB + WC: undefined, taken as UC */
	assert_int_equal(range(GiB(1), MiB(2)), UC);
	assert_int_equal(range(GiB(1) + MiB(2), MiB(6)), WB);
	set_var(1, GiB(1), MiB(2), WP);
	assert_int_equal(mtrr_type_at(&st, GiB(1)), UC); /* WB + WP */
	set_var(1, GiB(1), MiB(2), WB);
	assert_int_equal(range(GiB(1), MiB(8)), WB); /* the same type twice is that type */
	set_var(0, GiB(1), MiB(8), WT);
	set_var(1, GiB(1), MiB(2), WC);
	assert_int_equal(mtrr_type_at(&st, GiB(1)), UC); /* WT + WC */
	/* WT + WB + WC: more than the WT/WB rule covers. */
	set_var(0, GiB(1), MiB(8), WT);
	set_var(1, GiB(1), MiB(4), WB);
	set_var(2, GiB(1), MiB(2), WC);
	assert_int_equal(mtrr_type_at(&st, GiB(1)), UC);
	assert_int_equal(mtrr_type_at(&st, GiB(1) + MiB(2)), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(1) + MiB(4)), WT);
}

static void test_composed_ranges(void **state)
{
	(void)state;
	/* RAM of 1440 MiB = 1 GiB + 256 + 128 + 32 MiB, default UC. */
	const uint64_t ram_end = 0x5A000000;
	enable(UC, true, 10, 39);
	set_fixed(0, MiB(1), WB);
	set_var(0, 0, GiB(1), WB);
	set_var(1, 0x40000000, MiB(256), WB);
	set_var(2, 0x50000000, MiB(128), WB);
	set_var(3, 0x58000000, MiB(32), WB);
	assert_int_equal(range(0, ram_end), WB);
	assert_int_equal(range(0, ram_end + PAGE_SIZE), -1);
	assert_int_equal(range(0x3FFFF000, ram_end - 0x3FFFF000), WB);
	assert_int_equal(mtrr_type_at(&st, ram_end - 1), WB);
	assert_int_equal(mtrr_type_at(&st, ram_end), UC);
	assert_int_equal(range(ram_end, GiB(4) - ram_end), UC);
	for (uint64_t b = 0; b < ram_end; b += MiB(2))
		assert_int_equal(range(b, MiB(2)), WB);
	assert_int_equal(range(GiB(1), GiB(1)), -1);
	assert_int_equal(range(0, GiB(1)), WB);

	/* Greedy power-of-two pieces towards 3 GiB - 4 KiB: ten pairs reach 3 GiB - 2 MiB. */
	memset(st.var, 0, sizeof(st.var));
	uint64_t at = 0, end = GiB(3) - PAGE_SIZE;
	unsigned n = 0;
	for (uint64_t size = GiB(2); size >= PAGE_SIZE && n < 10; size >>= 1)
		if (at + size <= end) {
			set_var(n++, at, size, WB);
			at += size;
		}
	assert_int_equal(at, GiB(3) - MiB(2)); /* 10 pieces get this far */
	assert_int_equal(range(0, at), WB);
	assert_int_equal(range(0, at + PAGE_SIZE), -1);
	assert_int_equal(range(at - MiB(2), MiB(2)), WB);
	assert_int_equal(range(at, MiB(2)), UC);
}

static void test_above_4g(void **state)
{
	(void)state;
	/* 36-bit MAXPHYADDR: [0, 8 GiB) WB with the PCI hole UC. */
	enable(UC, false, 8, 36);
	set_var(0, 0, GiB(4), WB);
	set_var(1, GiB(4), GiB(4), WB);
	set_var(2, 0xC0000000, GiB(1), UC);
	assert_int_equal(st.var[1].mask, 0xF00000800ull);
	assert_int_equal(mtrr_type_at(&st, GiB(6)), WB);
	assert_int_equal(mtrr_type_at(&st, GiB(8)), UC);
	assert_int_equal(range(GiB(4), GiB(4)), WB);
	assert_int_equal(range(GiB(7), GiB(1)), WB);
	assert_int_equal(range(GiB(7), GiB(2)), -1);
	assert_int_equal(range(GiB(3), GiB(2)), -1);
	assert_int_equal(range(GiB(8), BIT(36) - GiB(8)), UC);
	/* Above 2^36 nothing aliases back onto the ranges. */
	assert_int_equal(mtrr_type_at(&st, BIT(36) + GiB(4)), UC);
	assert_int_equal(range(BIT(36), GiB(8)), UC);

	/* 46-bit MAXPHYADDR: the same layout needs the wider mask ... */
	memset(&st, 0, sizeof(st));
	enable(UC, false, 8, 46);
	set_var(0, 0, GiB(4), WB);
	set_var(1, GiB(4), GiB(4), WB);
	set_var(2, 0xC0000000, GiB(1), UC);
	set_var(3, GiB(1024), GiB(512), WB);
	assert_int_equal(st.var[1].mask, 0x3FFF00000800ull);
	assert_int_equal(mtrr_type_at(&st, GiB(6)), WB);
	assert_int_equal(mtrr_type_at(&st, GiB(68)), UC);
	assert_int_equal(range(GiB(4), GiB(4)), WB);
	assert_int_equal(range(GiB(8), GiB(1016)), UC);
	assert_int_equal(range(GiB(1024), GiB(512)), WB);
	assert_int_equal(range(GiB(1535), GiB(1)), WB);
	assert_int_equal(range(GiB(1535), GiB(2)), -1);
	assert_int_equal(mtrr_type_at(&st, GiB(1536)), UC);
	/* ... and a 36-bit-wide mask read with 46 bits is a discontiguous range repeating every 64 GiB. */
	st.var[1].mask = 0xF00000800ull;
	assert_int_equal(mtrr_type_at(&st, GiB(68)), WB);
	assert_int_equal(mtrr_type_at(&st, GiB(72)), UC);
	assert_int_equal(range(GiB(64 * 3 + 4), GiB(4)), WB);
	assert_int_equal(range(GiB(64), GiB(64)), -1);
	/* Reserved PHYSBASE / PHYSMASK bits above MAXPHYADDR are ignored. */
	st.var[1].mask = 0x3FFF00000800ull | BIT(50);
	st.var[1].base = GiB(4) | BIT(47) | WB;
	assert_int_equal(mtrr_type_at(&st, GiB(6)), WB);
	assert_int_equal(mtrr_type_at(&st, GiB(68)), UC);
}

static void test_one_uc_page(void **state)
{
	(void)state;
	const uint64_t hole = GiB(1) + 0x12345000;
	enable(WB, true, 8, 39);
	set_fixed(0, MiB(1), WB);
	set_var(0, hole, PAGE_SIZE, UC);
	set_var(1, GiB(2), GiB(2), UC);
	assert_int_equal(range(GiB(1), GiB(1)), -1);
	assert_int_equal(range(ALIGN_DOWN(hole, MiB(2)), MiB(2)), -1);
	assert_int_equal(range(hole, PAGE_SIZE), UC);
	assert_int_equal(range(hole - PAGE_SIZE, PAGE_SIZE), WB);
	assert_int_equal(range(hole + PAGE_SIZE, PAGE_SIZE), WB);
	assert_int_equal(range(ALIGN_DOWN(hole, MiB(2)) + MiB(2), MiB(2)), WB);
	assert_int_equal(range(0, GiB(1)), WB);
	assert_int_equal(range(GiB(3), GiB(1)), UC); /* a 1 GiB page wholly inside a UC range */
	assert_int_equal(range(GiB(2), GiB(2)), UC);
	/* Huge ranges cost a handful of steps, not one per page: 2^39 bytes are 2^27 pages. */
	assert_int_equal(range(GiB(4), BIT(39) - GiB(4)), WB);
	assert_int_equal(range(GiB(4), UINT64_MAX - GiB(4)), WB);
	assert_int_equal(range(0, UINT64_MAX), -1);
}

static void test_edge_cases(void **state)
{
	(void)state;
	uint8_t t = NO_TYPE;
	enable(WB, false, 8, 39);
	set_var(0, GiB(3), GiB(1), UC);
	assert_false(mtrr_range_type(&st, GiB(1), 0, &t));
	assert_false(mtrr_range_type(&st, UINT64_MAX - PAGE_SIZE + 1, 2 * PAGE_SIZE, &t));
	assert_false(mtrr_range_type(&st, 1, UINT64_MAX, &t));
	assert_int_equal(t, NO_TYPE);
	assert_int_equal(range(UINT64_MAX - MiB(2) + 1, MiB(2)), WB);
	assert_int_equal(range(UINT64_MAX, 1), WB);
	assert_int_equal(range(0, UINT64_MAX), -1);
	/* Unaligned bounds: the page holding the last byte counts, the next one does not. */
	assert_int_equal(range(GiB(3) - 100, 100), WB);
	assert_int_equal(range(GiB(3) - 100, 101), -1);
	assert_int_equal(range(GiB(4) - 1, 1), UC);
	assert_int_equal(range(GiB(4) - 1, 2), -1);

	/* Reserved encodings read as UC; invalid pairs and pairs beyond VCNT are ignored. */
	st.def_type = (st.def_type & ~MTRR_DEF_TYPE_MASK) | 2;
	assert_int_equal(mtrr_type_at(&st, 0), UC);
	st.def_type = (st.def_type & ~MTRR_DEF_TYPE_MASK) | WB;
	set_var(1, GiB(1), GiB(1), 7);
	assert_int_equal(range(GiB(1), GiB(1)), UC);
	st.var[1].mask &= ~MTRR_PHYSMASK_VALID;
	assert_int_equal(range(GiB(1), GiB(1)), WB);
	set_var(8, GiB(1), GiB(1), UC);
	assert_int_equal(range(GiB(1), GiB(1)), WB);
	st.cap = (st.cap & ~MTRR_CAP_VCNT_MASK) | 9;
	assert_int_equal(range(GiB(1), GiB(1)), UC);
	/* VCNT above what can exist is clamped to MTRR_VAR_MAX pairs, the last of which counts. */
	memset(st.var, 0, sizeof(st.var));
	st.cap |= MTRR_CAP_VCNT_MASK;
	set_var(MTRR_VAR_MAX - 1, GiB(1), GiB(1), WT);
	assert_int_equal(range(GiB(1), GiB(1)), WT);
	/* A MAXPHYADDR outside [32, 52] is clamped (no shift past 63 for UBSan to catch). */
	st.phys_bits = 0; /* as 32: the mask keeps bits 31:30, nothing above 4 GiB matches */
	assert_int_equal(mtrr_type_at(&st, GiB(1)), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(5)), WB);
	assert_int_equal(range(GiB(1), GiB(1)), WT);
	st.phys_bits = 200; /* as 52 */
	assert_int_equal(mtrr_type_at(&st, GiB(1)), WT);
	assert_int_equal(mtrr_type_at(&st, GiB(5)), WB);
	assert_int_equal(range(GiB(1), GiB(1)), WT);
}

static void test_discontiguous_mask(void **state)
{
	(void)state;
	enable(WB, false, 8, 36);
	/* Mask bit 22 clear: two 2 MiB blocks, at 256 MiB and at 260 MiB. */
	st.var[0].base = MiB(256) | UC;
	st.var[0].mask = (~(MiB(2) - 1) & addr_field(36) & ~BIT(22)) | MTRR_PHYSMASK_VALID;
	assert_int_equal(range(MiB(256), MiB(2)), UC);
	assert_int_equal(range(MiB(258), MiB(2)), WB);
	assert_int_equal(range(MiB(260), MiB(2)), UC);
	assert_int_equal(range(MiB(262), MiB(2)), WB);
	assert_int_equal(range(MiB(256), MiB(4)), -1);
	assert_int_equal(range(MiB(264), GiB(64) - MiB(264)), WB);
	assert_int_equal(range(0, MiB(256)), WB);
}

static void test_names_and_log(void **state)
{
	(void)state;
	assert_string_equal(mtrr_type_name(UC), "UC");
	assert_string_equal(mtrr_type_name(WC), "WC");
	assert_string_equal(mtrr_type_name(WT), "WT");
	assert_string_equal(mtrr_type_name(WP), "WP");
	assert_string_equal(mtrr_type_name(WB), "WB");
	assert_string_equal(mtrr_type_name(2), "reserved");
	assert_string_equal(mtrr_type_name(7), "reserved");
	assert_string_equal(mtrr_type_name(0xFF), "reserved");

	mtrr_log(&st);
	assert_non_null(strstr(
		host_console_buf,
		"hapvisor: event=mtrr enabled=0 fixed=0 default=UC variable=0 vcnt=0 maxphyaddr=32\n"));
	assert_null(strstr(host_console_buf, "mtrr_var"));

	host_console_reset();
	enable(WB, true, 8, 39);
	set_var(0, 0xC0000000, GiB(1), UC);
	set_var(3, GiB(4), GiB(4), WT);
	mtrr_log(&st);
	assert_non_null(strstr(
		host_console_buf,
		"hapvisor: event=mtrr enabled=1 fixed=1 default=WB variable=2 vcnt=8 maxphyaddr=39\n"));
	assert_non_null(strstr(host_console_buf, "hapvisor: event=mtrr_var index=0 base=0xc0000000 "
						 "mask=0x7fc0000000 size=1073741824 type=UC\n"));
	assert_non_null(strstr(host_console_buf, "hapvisor: event=mtrr_var index=3 base=0x100000000 "
						 "mask=0x7f00000000 size=4294967296 type=WT\n"));
	assert_null(strstr(host_console_buf, "index=1"));
}

/* ---- randomized ------------------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint64_t rnd_below(uint64_t n)
{
	return rnd() % n;
}

static uint8_t rnd_type(void)
{
	static const uint8_t types[] = {UC, WC, WT, WP, WB, WB, WB, UC, WT, 2, 7};
	return types[rnd_below(ARRAY_SIZE(types) - (rnd_below(8) ? 2 : 0))];
}

/* SDM Vol. 3A 13.11.4.1, read literally, over the raw MSRs. */
static uint8_t model_type_at(const struct mtrr_state *s, uint64_t pa)
{
	if (!s->supported || !(s->def_type & MTRR_DEF_E))
		return UC;
	unsigned bits = s->phys_bits < 32 ? 32 : s->phys_bits > 52 ? 52 : s->phys_bits;
	unsigned vcnt = (unsigned)(s->cap & 0xFF) > MTRR_VAR_MAX ? MTRR_VAR_MAX : (unsigned)(s->cap & 0xFF);
	if (pa < MiB(1) && (s->def_type & MTRR_DEF_FE) && (s->cap & MTRR_CAP_FIX)) {
		unsigned msr, byte;
		fixed_slot(pa, &msr, &byte);
		uint8_t t = (uint8_t)(s->fixed[msr] >> (8 * byte));
		return t == UC || t == WC || t == WT || t == WP || t == WB ? t : UC;
	}
	uint8_t match[MTRR_VAR_MAX];
	unsigned n = 0;
	for (unsigned i = 0; i < vcnt; i++) {
		uint64_t m = (s->var[i].mask & addr_field(bits)) | ~(BIT(bits) - 1);
		if ((s->var[i].mask & MTRR_PHYSMASK_VALID) &&
		    (pa & m) == (s->var[i].base & addr_field(bits) & m)) {
			uint8_t t = (uint8_t)s->var[i].base;
			match[n++] = t == UC || t == WC || t == WT || t == WP || t == WB ? t : UC;
		}
	}
	if (n == 0) {
		uint8_t t = (uint8_t)s->def_type;
		return t == UC || t == WC || t == WT || t == WP || t == WB ? t : UC;
	}
	bool same = true, any_uc = false, only_wt_wb = true;
	for (unsigned i = 0; i < n; i++) {
		same = same && match[i] == match[0];
		any_uc = any_uc || match[i] == UC;
		only_wt_wb = only_wt_wb && (match[i] == WT || match[i] == WB);
	}
	if (same)
		return match[0];
	if (any_uc)
		return UC;
	return only_wt_wb ? WT : UC;
}

/* A random MTRR set whose ranges fall in the first 64 MiB (small enough to check page by page). */
static void random_state(void)
{
	static const unsigned widths[] = {36, 39, 46, 52};
	memset(&st, 0, sizeof(st));
	st.supported = rnd_below(32) != 0;
	st.phys_bits = widths[rnd_below(ARRAY_SIZE(widths))];
	unsigned vcnt = (unsigned)rnd_below(11);
	st.cap = vcnt | (rnd_below(8) ? MTRR_CAP_FIX : 0);
	st.def_type = rnd_type() | (rnd_below(16) ? MTRR_DEF_E : 0) | (rnd_below(2) ? MTRR_DEF_FE : 0);
	for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++) {
		uint8_t t = rnd_type();
		for (unsigned b = 0; b < 8; b++)
			st.fixed[i] |= (uint64_t)(rnd_below(6) ? t : rnd_type()) << (8 * b);
	}
	/* Sizes 4 KiB .. 64 MiB; one pair past VCNT, which must be ignored. */
	for (unsigned i = 0; i < vcnt + 1; i++) {
		uint64_t size = BIT(12 + rnd_below(15));
		uint64_t base = ALIGN_DOWN(rnd_below(MiB(64)), size);
		st.var[i].base = base | rnd_type();
		st.var[i].mask = ~(size - 1) & addr_field(st.phys_bits);
		if (rnd_below(5) == 0) /* discontiguous: flip one mask bit between 4 KiB and 32 MiB */
			st.var[i].mask ^= BIT(12 + rnd_below(14));
		if (rnd_below(6))
			st.var[i].mask |= MTRR_PHYSMASK_VALID;
		if (rnd_below(8) == 0) /* reserved bits above MAXPHYADDR, to be ignored */
			st.var[i].base |= rnd() & ~(BIT(st.phys_bits) - 1);
	}
}

/* A random range in the first 80 MiB (or, now and then, from the top of the first MiB). */
static void random_range(uint64_t *base, uint64_t *size)
{
	switch (rnd_below(4)) {
	case 0: /* a page-table-like slot: 4 KiB or 2 MiB, aligned */
		*size = rnd_below(4) ? MiB(2) : PAGE_SIZE;
		*base = ALIGN_DOWN(rnd_below(MiB(80)), *size);
		break;
	case 1: /* pages around the first MiB */
		*base = ALIGN_DOWN(rnd_below(MiB(2)), PAGE_SIZE);
		*size = (1 + rnd_below(512)) * PAGE_SIZE;
		break;
	case 2: /* unaligned bytes */
		*base = rnd_below(MiB(80));
		*size = 1 + rnd_below(MiB(4));
		break;
	default:
		*base = ALIGN_DOWN(rnd_below(MiB(80)), PAGE_SIZE);
		*size = (1 + rnd_below(2048)) * PAGE_SIZE;
		break;
	}
}

/* mtrr_type_at, mtrr_range_type and mtrr_run_end against the page-by-page model, on random MTRRs. */
static void test_random_vs_pages(void **state)
{
	(void)state;
	unsigned uniform = 0, mixed = 0;
	for (unsigned round = 0; round < 3000; round++) {
		random_state();
		for (unsigned q = 0; q < 16; q++) {
			uint64_t pa = rnd_below(4) ? rnd_below(MiB(80)) : rnd();
			assert_int_equal(mtrr_type_at(&st, pa), model_type_at(&st, pa));
		}
		for (unsigned q = 0; q < 12; q++) {
			uint64_t base, size;
			random_range(&base, &size);
			uint8_t want = model_type_at(&st, base);
			bool same = true;
			for (uint64_t p = ALIGN_DOWN(base, PAGE_SIZE); same && p <= base + size - 1;
			     p += PAGE_SIZE)
				same = model_type_at(&st, p) == want;
			uint8_t got = NO_TYPE;
			bool ok = mtrr_range_type(&st, base, size, &got);
			if (ok != same)
				fail_msg("round %u: [%#llx, +%#llx): range_type says %d, pages say %d", round,
					 (unsigned long long)base, (unsigned long long)size, ok, same);
			/* mtrr_run_end agrees: the run from base reaches past the range iff it is uniform,
			 * and the type changes exactly at its end. */
			uint8_t run_type = NO_TYPE;
			uint64_t end = mtrr_run_end(&st, base, &run_type);
			assert_int_equal(run_type, want);
			assert_true(end > base);
			if ((end == UINT64_MAX || size <= end - base) != ok)
				fail_msg("round %u: [%#llx, +%#llx): run ends at %#llx, range_type says %d",
					 round, (unsigned long long)base, (unsigned long long)size,
					 (unsigned long long)end, ok);
			if (end != UINT64_MAX) {
				assert_int_equal(model_type_at(&st, end - 1), want);
				assert_true(model_type_at(&st, end) != want);
			}
			if (ok) {
				assert_int_equal(got, want);
				uniform++;
			} else {
				assert_int_equal(got, NO_TYPE);
				mixed++;
			}
		}
	}
	/* Both answers are exercised plenty. */
	assert_true(uniform > 3000);
	assert_true(mixed > 3000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_disabled, setup),
		cmocka_unit_test_setup(test_typical_pc, setup),
		cmocka_unit_test_setup(test_fixed_ranges, setup),
		cmocka_unit_test_setup(test_overlap_wt_wb, setup),
		cmocka_unit_test_setup(test_overlap_uc_wins, setup),
		cmocka_unit_test_setup(test_overlap_undefined, setup),
		cmocka_unit_test_setup(test_composed_ranges, setup),
		cmocka_unit_test_setup(test_above_4g, setup),
		cmocka_unit_test_setup(test_one_uc_page, setup),
		cmocka_unit_test_setup(test_edge_cases, setup),
		cmocka_unit_test_setup(test_discontiguous_mask, setup),
		cmocka_unit_test_setup(test_names_and_log, setup),
		cmocka_unit_test_setup(test_random_vs_pages, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
