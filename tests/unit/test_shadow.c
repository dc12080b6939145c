/*
 * The shadow MMU (vmx/shadow.c, vmx/shadow_fault.c) on a 64 MiB host arena that stands for guest-physical
 * memory, hapvisor's region and pool included. The test plays the CPU: an access first goes through an
 * independent walk of the shadow tables, as the CPU would walk them (PAE or 4/5-level, CR3 =
 * shadow_root_hpa()); only when that refuses does it call shadow_page_fault, like a #PF exit, and it
 * performs a tracked write with shadow_write_guest, like the emulator. After every step the shadow is
 * checked against an independent reference walk of the guest's tables (SDM Vol. 3A 4.3-4.6): every
 * address the shadow translates, the guest translates to the same frame with at least the same rights
 * (write only once the guest's D flag is set), never into hapvisor's region, never beyond the guest's
 * page. Then every paging mode, large pages, rights, A/D flags, write protection and emulated writes,
 * CR3 switches, unprotecting and unsync, flooding, exhaustion and hapvisor's region, case by case and in
 * seeded random runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mm/guest_mem.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "tests/unit/host_stubs.h"
#include "vmx/shadow.h"
#include "vmx/shadow_internal.h" /* white-box: check_internal() */

#define ARENA_SIZE MiB(64)
#define HV_BASE MiB(40)
#define HV_SIZE MiB(16)
#define POOL_BASE MiB(44)
#define POOL_SIZE MiB(12)
#define TABLES_BASE MiB(1) /* guest page tables are taken from [1 MiB, 8 MiB) */
#define TABLES_END MiB(8)
#define DATA_BASE MiB(8)   /* guest data frames */
#define MIXED_BASE MiB(58) /* a 1 MiB UC MTRR range: the 2 MiB range [58, 60) MiB mixes types */
#define MAXPHYADDR 40
#define DMAP64 0xFFFF888000000000ull /* the 64-bit guests' direct map of all 64 MiB (2 MiB pages) */
#define DMAP32 0xC0000000ull	     /* the 32-bit guests' (4 MiB or 2 MiB pages) */

#define P PTE_P
#define RW PTE_RW
#define US PTE_US
#define A PTE_A
#define D PTE_D
#define PS PTE_PS
#define XD PTE_XD
#define ADDR64 0x000FFFFFFFFFF000ull

static uint8_t *arena;
static struct memmap map;
static struct mtrr_state mtrr;
static uint64_t next_table;
static struct gwalk_cpu cpu;
static uint64_t pdptes[SHADOW_PAE_PDPTES];

/* ---- guest memory and the guest's tables --------------------------------------------------------------- */

static void *gp(uint64_t gpa)
{
	assert_true(gpa < ARENA_SIZE);
	return arena + gpa;
}

static uint64_t get_entry(uint64_t gpa, unsigned size)
{
	if (size == 4) {
		uint32_t v;
		memcpy(&v, gp(gpa), 4);
		return v;
	}
	uint64_t v;
	memcpy(&v, gp(gpa), 8);
	return v;
}

static void put_entry(uint64_t gpa, unsigned size, uint64_t v)
{
	if (size == 4) {
		uint32_t v32 = (uint32_t)v;
		memcpy(gp(gpa), &v32, 4);
	} else {
		memcpy(gp(gpa), &v, 8);
	}
}

static uint64_t new_table(void)
{
	assert_true(next_table < TABLES_END);
	uint64_t t = next_table;
	next_table += PAGE_SIZE;
	memset(gp(t), 0, PAGE_SIZE);
	return t;
}

static enum gwalk_mode mode(void)
{
	return gwalk_mode_of(&cpu);
}

/* Entry size and index geometry of the guest's tables, mode by mode. */
static unsigned gsize(void)
{
	return mode() == GWALK_MODE_32BIT ? 4 : 8;
}

static unsigned gindex(uint64_t gla, unsigned level)
{
	if (mode() == GWALK_MODE_32BIT)
		return (unsigned)((gla >> (12 + 10 * (level - 1))) & 1023);
	if (mode() == GWALK_MODE_PAE && level == 3)
		return (unsigned)((gla >> 30) & 3);
	return (unsigned)((gla >> (12 + 9 * (level - 1))) & 511);
}

static unsigned gtop(void)
{
	switch (mode()) {
	case GWALK_MODE_32BIT:
		return 2;
	case GWALK_MODE_PAE:
		return 3;
	case GWALK_MODE_5LEVEL:
		return 5;
	default:
		return 4;
	}
}

static uint64_t gpage_size(unsigned level)
{
	if (mode() == GWALK_MODE_32BIT)
		return level == 2 ? MiB(4) : PAGE_SIZE;
	return 1ull << (12 + 9 * (level - 1));
}

/* The address of the guest entry for gla at level, creating tables above it (each P|RW|US|A). */
static uint64_t gentry_addr(uint64_t gla, unsigned level)
{
	uint64_t table = mode() == GWALK_MODE_PAE ? 0 : cpu.cr3 & ADDR64;
	for (unsigned l = gtop(); l > level; l--) {
		uint64_t e;
		if (mode() == GWALK_MODE_PAE && l == 3) {
			e = pdptes[gindex(gla, 3)];
			if (!(e & P)) {
				e = new_table() | P;
				pdptes[gindex(gla, 3)] = e;
				put_entry((cpu.cr3 & 0xFFFFFFE0) + 8 * gindex(gla, 3), 8, e);
			}
		} else {
			uint64_t at = table + (uint64_t)gindex(gla, l) * gsize();
			e = get_entry(at, gsize());
			if (!(e & P)) {
				e = new_table() | P | RW | US | A;
				put_entry(at, gsize(), e);
			}
			assert_false(e & PS);
		}
		table = e & (mode() == GWALK_MODE_32BIT ? 0xFFFFF000ull : ADDR64);
	}
	return table + (uint64_t)gindex(gla, level) * gsize();
}

/* Map gla to pa with a leaf at level (its size per mode) and flags (P, RW, US, XD ..., PS added). */
static void gmap(uint64_t gla, uint64_t pa, unsigned level, uint64_t flags)
{
	put_entry(gentry_addr(gla, level), gsize(), pa | flags | (level > 1 ? PS : 0));
}

/* A fresh guest root for the current mode in cpu.cr3 (PAE: a PDPT with no entry present). */
static void groot(void)
{
	uint64_t t = new_table();
	cpu.cr3 = t;
	memset(pdptes, 0, sizeof(pdptes));
}

/* The direct map over the arena: 2 MiB pages (4 MiB with 32-bit paging), supervisor RW, NX (64-bit). */
static void gmap_direct(void)
{
	bool m32 = mode() == GWALK_MODE_32BIT;
	uint64_t base = (mode() == GWALK_MODE_4LEVEL || mode() == GWALK_MODE_5LEVEL) ? DMAP64 : DMAP32;
	uint64_t step = m32 ? MiB(4) : MiB(2);
	uint64_t nx = (m32 || !(cpu.efer & EFER_NXE)) ? 0 : XD;
	for (uint64_t pa = 0; pa < ARENA_SIZE; pa += step)
		gmap(base + pa, pa, 2, P | RW | A | D | nx);
}

static uint64_t dmap(uint64_t gpa)
{
	return ((mode() == GWALK_MODE_4LEVEL || mode() == GWALK_MODE_5LEVEL) ? DMAP64 : DMAP32) + gpa;
}

/* ---- the reference: the guest's translation, written from SDM Vol. 3A 4.3-4.6 -------------------------- */

struct xlat {
	bool present;
	uint64_t pa, page_size;
	bool w, u, x, dirty;
};

static struct xlat ref_translate(uint64_t gla)
{
	struct xlat r = {.w = true, .u = true, .x = true};
	if (mode() == GWALK_MODE_OFF) {
		r.present = r.dirty = true;
		r.pa = gla & 0xFFFFFFFFull;
		r.page_size = PAGE_SIZE;
		return r;
	}
	bool nx = mode() != GWALK_MODE_32BIT && (cpu.efer & EFER_NXE);
	uint64_t table = cpu.cr3 & ADDR64;
	for (unsigned l = gtop(); l >= 1; l--) {
		uint64_t e;
		if (mode() == GWALK_MODE_PAE && l == 3) {
			e = pdptes[gindex(gla, 3)];
			if (!(e & P))
				return r;
			table = e & ADDR64;
			continue;
		}
		e = get_entry(table + (uint64_t)gindex(gla, l) * gsize(), gsize());
		if (!(e & P))
			return r;
		r.w = r.w && (e & RW);
		r.u = r.u && (e & US);
		r.x = r.x && !(nx && (e & XD));
		bool leaf = l == 1 || ((e & PS) && (mode() != GWALK_MODE_32BIT || (cpu.cr4 & CR4_PSE)));
		if (!leaf) {
			table = e & (mode() == GWALK_MODE_32BIT ? 0xFFFFF000ull : ADDR64);
			continue;
		}
		r.page_size = gpage_size(l);
		uint64_t frame =
			e & (mode() == GWALK_MODE_32BIT ? 0xFFFFF000ull : ADDR64) & ~(r.page_size - 1);
		r.pa = frame | (gla & (r.page_size - 1));
		r.dirty = (e & D) != 0;
		r.present = true;
		return r;
	}
	return r;
}

/* ---- the CPU's walk of the shadow tables --------------------------------------------------------------- */

static struct xlat hw_translate(uint64_t gla)
{
	struct xlat r = {.w = true, .u = true, .x = true};
	enum gwalk_mode hw = shadow_hw_mode(mode());
	uint64_t table = shadow_root_hpa(), e;
	unsigned top = hw == GWALK_MODE_5LEVEL ? 5 : hw == GWALK_MODE_4LEVEL ? 4 : 3;
	for (unsigned l = top; l >= 1; l--) {
		if (hw == GWALK_MODE_PAE && l == 3) {
			e = get_entry(table + 8 * ((gla >> 30) & 3), 8);
			if (!(e & P))
				return r;
			assert_int_equal(e & ~ADDR64, P); /* a PDPTE: P and the address, nothing else */
			table = e & ADDR64;
			continue;
		}
		e = get_entry(table + 8 * ((gla >> (12 + 9 * (l - 1))) & 511), 8);
		if (!(e & P))
			return r;
		r.w = r.w && (e & RW);
		r.u = r.u && (e & US);
		r.x = r.x && !(e & XD); /* hapvisor runs the shadow with IA32_EFER.NXE = 1 */
		if (l == 1 || (e & PS)) {
			assert_true(l <= 3);
			r.page_size = 1ull << (12 + 9 * (l - 1));
			r.pa = (e & ADDR64 & ~(r.page_size - 1)) | (gla & (r.page_size - 1));
			r.present = true;
			return r;
		}
		table = e & ADDR64;
	}
	return r;
}

/* The shadow never translates more than the guest does (the heart of the test). */
static void check_sound(uint64_t gla)
{
	struct xlat h = hw_translate(gla);
	if (!h.present)
		return;
	struct xlat g = ref_translate(gla);
	if (!g.present || h.pa != g.pa)
		fail_msg("gla %#llx: shadow maps %#llx, the guest %s %#llx", (unsigned long long)gla,
			 (unsigned long long)h.pa, g.present ? "maps" : "does not map",
			 (unsigned long long)g.pa);
	uint64_t frame = ALIGN_DOWN(h.pa, h.page_size);
	if (frame < HV_BASE + HV_SIZE && HV_BASE < frame + h.page_size)
		fail_msg("gla %#llx: a shadow leaf maps hapvisor's region", (unsigned long long)gla);
	if (h.page_size > g.page_size && mode() != GWALK_MODE_OFF)
		fail_msg("gla %#llx: shadow page %#llx larger than the guest's", (unsigned long long)gla,
			 (unsigned long long)h.page_size);
	if (h.u && !g.u)
		fail_msg("gla %#llx: user access the guest refuses", (unsigned long long)gla);
	if (h.x && !g.x)
		fail_msg("gla %#llx: fetch the guest refuses", (unsigned long long)gla);
	if (h.w && !(g.w || (!(cpu.cr0 & CR0_WP) && !h.u)))
		fail_msg("gla %#llx: write the guest refuses", (unsigned long long)gla);
	if (h.w && !g.dirty)
		fail_msg("gla %#llx: writable before the guest's D flag is set", (unsigned long long)gla);
}

/*
 * The MMU's own bookkeeping, white-box: the protected-frame counts are what the hash holds, and no
 * writable leaf maps a frame (a large one: a range) with a protected shadow page. Together with the
 * reference check this pins write protection down at every step, not only when a stale entry is read.
 */
/* How many times the reverse map of (level, frame) lists the shadow entry at pa. */
static unsigned rmap_listed(unsigned level, uint64_t frame, uint64_t pa)
{
	uint64_t i = frame / pt_level_size(level);
	unsigned n = 0;
	if (i >= shadow.rmap_len[level])
		return 0;
	for (uint32_t node = shadow.rmap[level][i]; node; node = node_at(node)->next)
		n += node_at(node)->spte == pa;
	return n;
}

/*
 * The bookkeeping pt_set_leaf keeps for the shadow (mm/pagetable.h): every writable leaf in the reverse map
 * of the frame it maps, exactly once; no other entry there; the leaf counts per level right.
 */
static void check_rmap_and_counts(void)
{
	uint64_t leaves[PG_LEVEL_NUM] = {0}, listed = 0, writable = 0;
	for (uint32_t i = 1; i <= shadow.pages_max; i++) {
		const struct shadow_page *p = &shadow.pages[i];
		unsigned n = (p->role & SP_PAE_ROOT) ? SHADOW_PAE_PDPTES : PT_ENTRIES;
		for (unsigned j = 0; p->used && j < n; j++) {
			uint64_t e = sp_table(i)[j], pa = sp_pa(i) + j * sizeof(uint64_t);
			if (!(e & P) || !spte_is_leaf(p, e))
				continue;
			leaves[p->level]++;
			uint64_t frame = e & ADDR64 & ~(pt_level_size(p->level) - 1);
			/* the reverse map covers the guest's RAM (ram_top), rounded up to the leaf size */
			unsigned want =
				(e & RW) && frame / pt_level_size(p->level) < shadow.rmap_len[p->level];
			writable += want;
			if (rmap_listed(p->level, frame, pa) != want)
				fail_msg(
					"shadow page %u entry %u (%#llx): listed %u times in the reverse map, not %u",
					i, j, (unsigned long long)e, rmap_listed(p->level, frame, pa), want);
		}
	}
	for (unsigned l = PG_LEVEL_4K; l <= SHADOW_LEAF_LEVEL_MAX; l++) {
		assert_int_equal(shadow.pt_stats.leaves[l], leaves[l]);
		for (uint64_t i = 0; i < shadow.rmap_len[l]; i++)
			for (uint32_t node = shadow.rmap[l][i]; node; node = node_at(node)->next)
				listed++;
	}
	assert_int_equal(listed, writable);
}

static void check_internal(void)
{
	static uint8_t count[ARENA_SIZE >> PAGE_SHIFT];
	memset(count, 0, sizeof(count));
	for (uint32_t i = 1; i <= shadow.pages_max; i++) {
		const struct shadow_page *p = &shadow.pages[i];
		if (p->used && !(p->role & (SP_DIRECT | SP_PAE_ROOT | SP_UNSYNC)))
			count[p->gfn]++;
	}
	for (uint64_t f = 0; f < ARENA_SIZE >> PAGE_SHIFT; f++)
		if (count[f] != shadow.tracked[f])
			fail_msg("frame %#llx: %u protected shadow pages, counted %u", (unsigned long long)f,
				 count[f], shadow.tracked[f]);
	for (uint32_t i = 1; i <= shadow.pages_max; i++) {
		const struct shadow_page *p = &shadow.pages[i];
		unsigned n = (p->role & SP_PAE_ROOT) ? SHADOW_PAE_PDPTES : PT_ENTRIES;
		for (unsigned j = 0; p->used && j < n; j++) {
			uint64_t e = sp_table(i)[j];
			if ((e & P) && spte_is_leaf(p, e) && (e & RW) &&
			    range_tracked(e & ADDR64 & ~(pt_level_size(p->level) - 1), p->level))
				fail_msg(
					"shadow page %u entry %u: writable leaf %#llx over a protected guest table",
					i, j, (unsigned long long)e);
		}
	}
	check_rmap_and_counts();
}

/* Addresses every check looks at. */
#define PROBES_MAX 512
static uint64_t probes[PROBES_MAX];
static unsigned nprobes;

static void probe(uint64_t gla)
{
	if (nprobes < PROBES_MAX)
		probes[nprobes++] = gla;
}

static void check_all(void)
{
	for (unsigned i = 0; i < nprobes; i++) {
		check_sound(probes[i]);
		check_sound(probes[i] + PAGE_SIZE - 8);
	}
	check_internal();
}

/* ---- the CPU: accesses that exit to the shadow MMU when its tables refuse ------------------------------ */

struct outcome {
	enum shadow_fault_result last; /* the last shadow_page_fault result, or SHADOW_FIXED if none */
	bool done;		       /* the access completed */
	unsigned exits;
	uint32_t pf_error;
};

static bool hw_allows(uint64_t gla, unsigned access)
{
	struct xlat h = hw_translate(gla);
	bool user = cpu.cpl == 3 || (access & GWALK_ACC_USER);
	return h.present && (!(access & GWALK_ACC_WRITE) || h.w) && (!user || h.u) &&
	       (!(access & GWALK_ACC_FETCH) || h.x);
}

/* Do access at gla (a write stores the bytes of value); up to 4 exits. */
static struct outcome cpu_access(uint64_t gla, unsigned access, uint64_t value, unsigned size)
{
	struct outcome o = {.last = SHADOW_FIXED};
	for (unsigned tries = 0; tries < 4; tries++) {
		if (hw_allows(gla, access)) {
			if (access & GWALK_ACC_WRITE)
				memcpy(gp(hw_translate(gla).pa), &value, size);
			o.done = true;
			return o;
		}
		struct shadow_fault f;
		o.exits++;
		o.last = shadow_page_fault(&cpu, gla, access, &f);
		switch (o.last) {
		case SHADOW_FIXED:
		case SHADOW_SPURIOUS:
			continue;
		case SHADOW_TRACKED_WRITE:
			shadow_write_guest(f.gpa, &value, size);
			o.done = true;
			return o;
		case SHADOW_GUEST_FAULT:
			o.pf_error = f.walk.pf_error;
			return o;
		default:
			return o;
		}
	}
	fail_msg("gla %#llx: still refused after 4 exits", (unsigned long long)gla);
	return o;
}

static void read_ok(uint64_t gla)
{
	struct outcome o = cpu_access(gla, GWALK_ACC_READ, 0, 8);
	if (!o.done)
		fail_msg("read of %#llx refused (result %d)", (unsigned long long)gla, o.last);
	check_all();
}

static void write_ok(uint64_t gla, uint64_t v)
{
	struct outcome o = cpu_access(gla, GWALK_ACC_WRITE, v, 8);
	if (!o.done)
		fail_msg("write of %#llx refused (result %d)", (unsigned long long)gla, o.last);
	check_all();
}

/* ---- set-up -------------------------------------------------------------------------------------------- */

static void setup_arena(enum gwalk_mode m, unsigned pages, bool gbpages)
{
	if (!arena)
		arena = aligned_alloc(PAGE_SIZE, ARENA_SIZE);
	assert_non_null(arena);
	memset(arena, 0, ARENA_SIZE);
	host_phys_offset = (uintptr_t)arena;
	memmap_init(&map);
	memmap_add(&map, 0, 0x9F000, MEM_AVAILABLE);
	memmap_add(&map, 0xA0000, 0x60000, MEM_RESERVED);
	memmap_add(&map, MiB(1), ARENA_SIZE - MiB(1), MEM_AVAILABLE);
	memmap_set(&map, HV_BASE, HV_SIZE, MEM_HAPVISOR);
	guest_mem_init(&map, 1ull << MAXPHYADDR);
	pmm_init(POOL_BASE, POOL_SIZE);
	memset(&mtrr, 0, sizeof(mtrr));
	mtrr.supported = true;
	mtrr.cap = 8;
	mtrr.def_type = MTRR_DEF_E | MTRR_TYPE_WB;
	mtrr.phys_bits = MAXPHYADDR;
	mtrr.var[0].base = MIXED_BASE | MTRR_TYPE_UC;
	mtrr.var[0].mask = (((1ull << MAXPHYADDR) - 1) & ~(MiB(1) - 1)) | MTRR_PHYSMASK_VALID;
	struct shadow_config cfg = {
		.mtrr = &mtrr,
		.ram_top = ARENA_SIZE,
		.pages = pages,
		.maxphyaddr = MAXPHYADDR,
		.gbpages = gbpages,
		.la57 = true,
	};
	assert_true(shadow_init(&cfg));
	next_table = TABLES_BASE;
	nprobes = 0;
	cpu = (struct gwalk_cpu){.cr0 = CR0_PE | CR0_WP, .rflags = 2};
	switch (m) {
	case GWALK_MODE_OFF:
		break;
	case GWALK_MODE_32BIT:
		cpu.cr0 |= CR0_PG;
		cpu.cr4 = CR4_PSE;
		break;
	case GWALK_MODE_PAE:
		cpu.cr0 |= CR0_PG;
		cpu.cr4 = CR4_PAE;
		cpu.efer = EFER_NXE;
		break;
	case GWALK_MODE_4LEVEL:
	case GWALK_MODE_5LEVEL:
		cpu.cr0 |= CR0_PG;
		cpu.cr4 = CR4_PAE | (m == GWALK_MODE_5LEVEL ? CR4_LA57 : 0);
		cpu.efer = EFER_LME | EFER_LMA | EFER_NXE;
		break;
	}
	if (m != GWALK_MODE_OFF)
		groot();
	host_console_reset();
}

static void load(void)
{
	shadow_load_root(&cpu, pdptes);
}

static struct shadow_stats stats(void)
{
	struct shadow_stats s;
	shadow_get_stats(&s);
	return s;
}

static int teardown(void **state)
{
	free(arena);
	arena = NULL;
	return 0;
}

/* ---- cases --------------------------------------------------------------------------------------------- */

#define VA_USER 0x0000400000000000ull /* PML4 slot 128 */
#define DATA(n) (DATA_BASE + (uint64_t)(n)*PAGE_SIZE)

/* The guest entry at level that translates gla (after gentry_addr created the path). */
static uint64_t gentry(uint64_t gla, unsigned level)
{
	return get_entry(gentry_addr(gla, level), gsize());
}

static void test_fill_and_accessed_dirty(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	gmap(VA_USER, DATA(5), 1, P | RW);
	probe(VA_USER);
	load();
	struct outcome o = cpu_access(VA_USER, GWALK_ACC_READ, 0, 8);
	assert_true(o.done);
	assert_int_equal(o.exits, 1);
	assert_int_equal(o.last, SHADOW_FIXED);
	for (unsigned l = 4; l >= 2; l--)
		assert_true(gentry(VA_USER, l) & A);
	assert_int_equal(gentry(VA_USER, 1) & (A | D), A); /* read: accessed, not dirty */
	struct xlat h = hw_translate(VA_USER);
	assert_true(h.present && !h.w && h.pa == DATA(5) && h.page_size == PAGE_SIZE);
	check_all();
	o = cpu_access(VA_USER, GWALK_ACC_WRITE, 0x1234, 8); /* the first write sets D, then maps writable */
	assert_true(o.done);
	assert_int_equal(o.exits, 1);
	assert_true(gentry(VA_USER, 1) & D);
	assert_true(hw_translate(VA_USER).w);
	assert_int_equal(get_entry(DATA(5), 8), 0x1234);
	assert_int_equal(stats().fills, 2);
	assert_int_equal(stats().leaves_4k, 1);
	check_all();
}

static void expect_guest_fault(uint64_t gla, unsigned access, uint32_t error)
{
	struct outcome o = cpu_access(gla, access, 0, 8);
	assert_false(o.done);
	assert_int_equal(o.last, SHADOW_GUEST_FAULT);
	assert_int_equal(o.pf_error, error);
	assert_false(hw_translate(gla).present && hw_allows(gla, access));
}

static void test_guest_faults(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	uint64_t np = VA_USER, ro = VA_USER + PAGE_SIZE, sup = VA_USER + 2 * PAGE_SIZE,
		 nx = VA_USER + 3 * PAGE_SIZE;
	gmap(ro, DATA(1), 1, P | US | A | D);
	gmap(sup, DATA(2), 1, P | RW | A | D);
	gmap(nx, DATA(3), 1, P | RW | US | XD | A | D);
	put_entry(gentry_addr(VA_USER + 4 * PAGE_SIZE, 1), 8, DATA(4) | P | (1ull << MAXPHYADDR));
	probe(np);
	probe(ro);
	probe(sup);
	probe(nx);
	load();
	expect_guest_fault(np, GWALK_ACC_READ, 0);
	expect_guest_fault(np, GWALK_ACC_WRITE, GWALK_PF_WR);
	expect_guest_fault(ro, GWALK_ACC_WRITE, GWALK_PF_P | GWALK_PF_WR);
	cpu.cpl = 3;
	expect_guest_fault(sup, GWALK_ACC_READ, GWALK_PF_P | GWALK_PF_US);
	read_ok(ro); /* a user read of a user page */
	cpu.cpl = 0;
	expect_guest_fault(nx, GWALK_ACC_FETCH, GWALK_PF_P | GWALK_PF_ID);
	read_ok(nx);
	expect_guest_fault(VA_USER + 4 * PAGE_SIZE, GWALK_ACC_READ, GWALK_PF_P | GWALK_PF_RSVD);
	assert_int_equal(stats().guest_faults, 6);
	check_all();
}

/* The guest's page table frame of gla, as the shadow sees it through the direct map. */
static uint64_t pt_frame(uint64_t gla)
{
	return ALIGN_DOWN(gentry_addr(gla, 1), PAGE_SIZE);
}

static void test_write_protection_and_emulation(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	gmap_direct();
	next_table = MiB(4); /* the user tables in a 2 MiB of their own */
	gmap(VA_USER, DATA(1), 1, P | RW | A | D);
	uint64_t pt = pt_frame(VA_USER), pte = gentry_addr(VA_USER, 1);
	probe(VA_USER);
	probe(dmap(pt));
	load();
	read_ok(dmap(pt)); /* the direct map first: a 2 MiB leaf over the table, writable */
	assert_int_equal(hw_translate(dmap(pt)).page_size, MiB(2));
	assert_true(hw_translate(dmap(pt)).w);
	read_ok(VA_USER); /* now the table has a shadow page: protected, the large leaf over it gone */
	assert_false(hw_translate(dmap(pt)).present);
	assert_true(shadow_take_flush());
	read_ok(dmap(pt));
	struct xlat h = hw_translate(dmap(pt));
	assert_true(h.present && !h.w && h.page_size == PAGE_SIZE);
	/* A write to the table through the direct map exits and is emulated; the stale shadow entry goes. */
	struct outcome o = cpu_access(dmap(pte), GWALK_ACC_WRITE, DATA(2) | P | RW | A | D, 8);
	assert_true(o.done);
	assert_int_equal(o.last, SHADOW_TRACKED_WRITE);
	assert_int_equal(get_entry(pte, 8), DATA(2) | P | RW | A | D);
	assert_false(hw_translate(VA_USER).present);
	check_all();
	read_ok(VA_USER);
	assert_int_equal(hw_translate(VA_USER).pa, DATA(2));
	/* Another 4 KiB of that 2 MiB: mapped again with 4 KiB leaves, writable; the table stays read-only.
	 */
	write_ok(dmap(pt + PAGE_SIZE), 7);
	assert_int_equal(hw_translate(dmap(pt + PAGE_SIZE)).page_size, PAGE_SIZE);
	assert_false(hw_translate(dmap(pt)).w);
	assert_int_equal(stats().tracked_writes, 1);
	assert_int_equal(stats().emulated_writes, 1);
	assert_int_equal(stats().relinks, 0);
}

static void test_large_pages(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	uint64_t va2m = VA_USER + GiB(2), va1g = VA_USER + GiB(4), far1g = VA_USER + GiB(8);
	gmap(va2m, MiB(16), 2, P | RW | A | D);
	gmap(va2m + MiB(2), MIXED_BASE, 2, P | RW | A | D);
	gmap(va1g, 0, 3, P | RW | A | D);	/* the first GiB: hapvisor's region inside */
	gmap(far1g, GiB(1), 3, P | RW | A | D); /* beyond RAM: one MTRR type, no table, no hapvisor */
	probe(va2m);
	probe(va2m + MiB(2));
	probe(va1g + MiB(16));
	probe(far1g);
	load();
	read_ok(va2m + 0x3008);
	assert_int_equal(hw_translate(va2m).page_size, MiB(2));
	read_ok(va2m + MiB(2)); /* a 2 MiB page over two memory types: 4 KiB leaves */
	assert_int_equal(hw_translate(va2m + MiB(2)).page_size, PAGE_SIZE);
	read_ok(va1g + MiB(16) + 8); /* 1 GiB over hapvisor's region: the 2 MiB around the address */
	assert_int_equal(hw_translate(va1g + MiB(16)).page_size, MiB(2));
	read_ok(far1g + 0x123);
	assert_int_equal(hw_translate(far1g).page_size, GiB(1));
	assert_int_equal(hw_translate(far1g + 0x123).pa, GiB(1) + 0x123);
	/* hapvisor's region through the guest's 1 GiB page: a breach, never a mapping */
	struct outcome o = cpu_access(va1g + HV_BASE + 0x10, GWALK_ACC_READ, 0, 8);
	assert_false(o.done);
	assert_int_equal(o.last, SHADOW_BREACH);
	o = cpu_access(va1g + POOL_BASE, GWALK_ACC_WRITE, 0, 8);
	assert_int_equal(o.last, SHADOW_BREACH);
	struct shadow_stats s = stats();
	assert_int_equal(s.leaves_1g, 1);
	assert_int_equal(s.leaves_2m, 2);
	check_all();
}

static void test_32bit_paging(void **state)
{
	setup_arena(GWALK_MODE_32BIT, 256, true);
	gmap_direct();				    /* 4 MiB pages at 3 GiB */
	uint64_t va = 0x00400000 + MiB(2) + 0x5000; /* the upper half of a page table: quadrant 1 */
	gmap(va, DATA(3), 1, P | RW | US);
	probe(va);
	probe(dmap(MiB(20)));
	probe(dmap(MiB(22)));
	load();
	read_ok(va);
	assert_int_equal(hw_translate(va).pa, DATA(3));
	assert_true(gentry(va, 1) & A);
	read_ok(dmap(MiB(22)) + 8); /* the upper 2 MiB of a 4 MiB page */
	assert_int_equal(hw_translate(dmap(MiB(22))).page_size, MiB(2));
	assert_int_equal(hw_translate(dmap(MiB(22))).pa, MiB(22));
	/* A 4-byte write to the 32-bit PTE through the direct map: emulated, and the quadrant's entry zapped
	 */
	uint64_t pte = gentry_addr(va, 1);
	struct outcome o = cpu_access(dmap(pte), GWALK_ACC_WRITE, DATA(4) | P | RW | US, 4);
	assert_true(o.done);
	assert_int_equal(o.last, SHADOW_TRACKED_WRITE);
	assert_false(hw_translate(va).present);
	read_ok(va);
	assert_int_equal(hw_translate(va).pa, DATA(4));
	/* Writing the PDE (a quarter of the page directory): both 2 MiB shadow entries of it go */
	uint64_t pde = gentry_addr(dmap(MiB(20)), 2);
	o = cpu_access(dmap(pde), GWALK_ACC_WRITE, MiB(24) | P | RW | PS | A | D, 4);
	assert_int_equal(o.last, SHADOW_TRACKED_WRITE);
	assert_false(hw_translate(dmap(MiB(22))).present);
	read_ok(dmap(MiB(22)));
	assert_int_equal(hw_translate(dmap(MiB(22))).pa, MiB(26));
	check_all();
}

static void test_pae_paging(void **state)
{
	setup_arena(GWALK_MODE_PAE, 256, true);
	gmap_direct();
	uint64_t va = 0x00600000;
	gmap(va, DATA(7), 1, P | RW | XD);
	probe(va);
	load(); /* the PDPTEs the guest's CPU loaded with CR3 */
	read_ok(va);
	struct xlat h = hw_translate(va);
	assert_true(h.present && !h.x && h.pa == DATA(7));
	struct outcome o = cpu_access(va, GWALK_ACC_FETCH, 0, 8);
	assert_int_equal(o.last, SHADOW_GUEST_FAULT);
	assert_int_equal(o.pf_error, GWALK_PF_P | GWALK_PF_ID);
	/* Another PDPTE: a new set of registers is a new address space (MOV to CR3 reloads them) */
	uint64_t va2 = 0x80001000;
	gmap(va2, DATA(8), 1, P | RW);
	probe(va2);
	load();
	read_ok(va2);
	assert_int_equal(stats().root_loads, 2);
	check_all();
}

static void test_paging_off(void **state)
{
	setup_arena(GWALK_MODE_OFF, 256, true);
	probe(0x123000);
	probe(MIXED_BASE);
	load();
	write_ok(0x123000, 5); /* identity, writable at once, a 2 MiB leaf */
	assert_int_equal(hw_translate(0x123000).page_size, MiB(2));
	read_ok(MIXED_BASE); /* 2 MiB of two memory types: 4 KiB */
	assert_int_equal(hw_translate(MIXED_BASE).page_size, PAGE_SIZE);
	read_ok(HV_BASE - 8); /* next to hapvisor's region: 4 KiB leaves (its 2 MiB would be hapvisor's) */
	struct outcome o = cpu_access(HV_BASE + 0x1000, GWALK_ACC_READ, 0, 8);
	assert_int_equal(o.last, SHADOW_BREACH);
	check_all();
}

static void test_cr3_switch_and_sharing(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	gmap_direct();
	uint64_t root_a = cpu.cr3;
	gmap(VA_USER, DATA(1), 1, P | RW | US | A | D);
	groot(); /* address space B: the same kernel half, another user page */
	uint64_t root_b = cpu.cr3;
	memcpy(gp(root_b + 256 * 8), gp(root_a + 256 * 8), 256 * 8);
	gmap(VA_USER, DATA(2), 1, P | RW | US | A | D);
	probe(VA_USER);
	probe(dmap(MiB(12)));
	cpu.cr3 = root_a;
	load();
	read_ok(VA_USER);
	read_ok(dmap(MiB(12)));
	uint64_t pages_a = stats().pages;
	cpu.cr3 = root_b;
	load();
	read_ok(VA_USER);
	assert_int_equal(hw_translate(VA_USER).pa, DATA(2));
	read_ok(dmap(MiB(12)));
	/* B shares A's kernel-half shadow pages: only its root and its own user tables are new */
	assert_int_equal(stats().pages, pages_a + 4);
	cpu.cr3 = root_a;
	load();
	assert_int_equal(hw_translate(VA_USER).pa, DATA(1)); /* A's tree kept: no fault */
	assert_int_equal(stats().root_hits, 1);
	check_all();
}

static void test_wp0_supervisor_write(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	gmap(VA_USER, DATA(1), 1, P | US | A | D); /* read-only user page */
	probe(VA_USER);
	cpu.cr0 &= ~CR0_WP;
	load();
	write_ok(VA_USER, 42); /* CR0.WP = 0: a supervisor write goes through a read-only PTE */
	struct xlat h = hw_translate(VA_USER);
	assert_true(h.w && !h.u);
	assert_int_equal(get_entry(DATA(1), 8), 42);
	cpu.cpl = 3; /* a user read takes the guest's own rights back */
	read_ok(VA_USER);
	h = hw_translate(VA_USER);
	assert_true(h.u && !h.w);
	expect_guest_fault(VA_USER, GWALK_ACC_WRITE, GWALK_PF_P | GWALK_PF_WR | GWALK_PF_US);
	cpu.cpl = 0;
	cpu.cr0 |= CR0_WP; /* a paging-mode change: hapvisor drops the shadow (vmx/shadow_exit.c) */
	shadow_reset("test: CR0.WP");
	load();
	expect_guest_fault(VA_USER, GWALK_ACC_WRITE, GWALK_PF_P | GWALK_PF_WR);
	check_all();
}

static void test_unprotect_and_unsync_root(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	gmap_direct();
	gmap(VA_USER, DATA(1), 1, P | RW | A | D);
	probe(VA_USER);
	probe(dmap(cpu.cr3));
	load();
	read_ok(VA_USER);
	uint64_t pml4e = gentry_addr(VA_USER, 4), old = get_entry(pml4e, 8);
	/* Another PDPT for the slot, mapping VA_USER elsewhere, made while the old one is live */
	uint64_t pdpt = new_table(), pd = new_table(), pt = new_table();
	put_entry(pdpt, 8, pd | P | RW | A);
	put_entry(pd + 8 * gindex(VA_USER, 2), 8, pt | P | RW | A);
	put_entry(pt + 8 * gindex(VA_USER, 1), 8, DATA(9) | P | RW | A | D);
	/* An instruction hapvisor cannot emulate wrote the active root: it is unprotected, not dropped */
	shadow_unprotect(cpu.cr3 >> PAGE_SHIFT);
	assert_int_equal(stats().unprotects, 1);
	struct outcome o = cpu_access(dmap(pml4e), GWALK_ACC_WRITE, pdpt | P | RW | A, 8);
	assert_true(o.done);
	assert_int_not_equal(o.last, SHADOW_TRACKED_WRITE); /* the guest wrote it itself */
	assert_int_not_equal(get_entry(pml4e, 8), old);
	/* Until the guest flushes, the old translation may stay (SDM Vol. 3A 4.10.4.4); INVLPG syncs */
	shadow_invlpg(VA_USER);
	assert_int_equal(stats().resyncs, 1);
	check_all();
	read_ok(VA_USER);
	assert_int_equal(hw_translate(VA_USER).pa, DATA(9));
	/* protected again: the next write to the root is a tracked one */
	o = cpu_access(dmap(pml4e), GWALK_ACC_WRITE, old, 8);
	assert_int_equal(o.last, SHADOW_TRACKED_WRITE);
	assert_false(hw_translate(VA_USER).present);
	read_ok(VA_USER);
	assert_int_equal(hw_translate(VA_USER).pa, DATA(1));
}

static void test_write_flooding(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	gmap_direct();
	gmap(VA_USER, DATA(1), 1, P | RW | A | D);
	probe(VA_USER);
	load();
	read_ok(VA_USER);
	uint64_t pt = pt_frame(VA_USER);
	for (unsigned i = 1; i <= SHADOW_FLOOD_WRITES; i++) {
		struct outcome o = cpu_access(dmap(pt + 8 * (100 + i)), GWALK_ACC_WRITE, 0, 8);
		assert_int_equal(o.last, SHADOW_TRACKED_WRITE);
	}
	assert_int_equal(stats().floods, 1);
	/* the table is no longer protected: the next write is the guest's own, after one refill */
	struct outcome o = cpu_access(dmap(pt + 8 * 200), GWALK_ACC_WRITE, 0, 8);
	assert_true(o.done);
	assert_int_equal(o.last, SHADOW_FIXED);
	assert_false(hw_translate(VA_USER).present);
	read_ok(VA_USER); /* a fault through it: protected again */
	o = cpu_access(dmap(pt + 8 * 201), GWALK_ACC_WRITE, 0, 8);
	assert_int_equal(o.last, SHADOW_TRACKED_WRITE);
}

static void test_exhaustion_resets(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 8, true);
	for (unsigned i = 0; i < 12; i++) {
		uint64_t va = VA_USER + (uint64_t)i * GiB(1) + (uint64_t)i * MiB(2);
		gmap(va, DATA(i), 1, P | RW | A | D);
		probe(va);
	}
	load();
	for (unsigned i = 0; i < 12; i++)
		write_ok(VA_USER + (uint64_t)i * GiB(1) + (uint64_t)i * MiB(2), i);
	struct shadow_stats s = stats();
	assert_true(s.resets > 0);
	assert_true(s.pages <= 8 && s.pages_peak == 8);
	assert_non_null(strstr(host_console_buf, "event=shadow_reset"));
}

static void test_bad_tables(void **state)
{
	setup_arena(GWALK_MODE_4LEVEL, 256, true);
	uint64_t in_hv = VA_USER, in_hole = VA_USER + GiB(1);
	put_entry(gentry_addr(in_hv, 2), 8,
		  (HV_BASE + MiB(1)) | P | RW);			 /* a page table in hapvisor's region */
	put_entry(gentry_addr(in_hole, 2), 8, 0xA0000 | P | RW); /* one in the VGA hole */
	load();
	struct shadow_fault f;
	assert_int_equal(shadow_page_fault(&cpu, in_hv, GWALK_ACC_READ, &f), SHADOW_BREACH);
	assert_true(f.in_table && f.gpa >= HV_BASE && f.gpa < HV_BASE + HV_SIZE);
	assert_int_equal(shadow_page_fault(&cpu, in_hole, GWALK_ACC_READ, &f), SHADOW_BAD_TABLE);
	assert_true(f.in_table && f.gpa >= 0xA0000 && f.gpa < 0xA1000);
	/* CR3 itself in hapvisor's region: an empty root that is never filled */
	cpu.cr3 = HV_BASE + MiB(2);
	load();
	assert_int_equal(shadow_page_fault(&cpu, in_hv, GWALK_ACC_READ, &f), SHADOW_BREACH);
	assert_true(f.in_table);
	assert_false(hw_translate(in_hv).present);
}

static void test_5level(void **state)
{
	setup_arena(GWALK_MODE_5LEVEL, 256, true);
	uint64_t va = 0x00AB400000123000ull; /* bits 56:48 used */
	gmap(va, DATA(3), 1, P | RW | A | D);
	probe(va);
	load();
	write_ok(va, 9);
	assert_int_equal(hw_translate(va).pa, DATA(3));
	assert_int_equal(get_entry(DATA(3), 8), 9);
}

/* ---- seeded random runs -------------------------------------------------------------------------------- */

#define RANDOM_PAGES 24
#define RANDOM_STEPS 600

struct rmapping {
	uint64_t va;
	unsigned level; /* of the guest leaf */
};

static uint64_t rnd(uint64_t n)
{
	return ((uint64_t)(unsigned)rand() << 31 | (unsigned)rand()) % n;
}

/* A random leaf for a page of level: a data frame, now and then one in hapvisor's region or of two types. */
static uint64_t random_leaf(unsigned level)
{
	uint64_t size = gpage_size(level), frame;
	switch (rnd(12)) {
	case 0:
		frame = ALIGN_DOWN(HV_BASE + rnd(HV_SIZE), size);
		break;
	case 1:
		frame = ALIGN_DOWN(MIXED_BASE, size);
		break;
	default:
		frame = ALIGN_DOWN(DATA_BASE + rnd(HV_BASE - DATA_BASE), size);
		break;
	}
	if (frame < DATA_BASE && frame < MIXED_BASE && !(frame >= HV_BASE))
		frame = ALIGN_UP(DATA_BASE, size);
	uint64_t flags = P | (rnd(4) ? RW : 0) | (rnd(2) ? US : 0) | (rnd(2) ? A : 0) | (rnd(2) ? D : 0);
	if (mode() != GWALK_MODE_32BIT && rnd(4) == 0)
		flags |= XD;
	if (rnd(10) == 0)
		flags &= ~P;
	return frame | flags | (level > 1 ? PS : 0);
}

/* What the access must come to, from the reference alone. */
static void check_outcome(uint64_t va, unsigned access, const struct outcome *o)
{
	struct xlat g = ref_translate(va);
	bool user = cpu.cpl == 3;
	bool write = access & GWALK_ACC_WRITE, fetch = access & GWALK_ACC_FETCH;
	bool allowed = g.present && (!user || g.u) && (!fetch || g.x) &&
		       (!write || g.w || (!user && !(cpu.cr0 & CR0_WP)));
	uint64_t frame = ALIGN_DOWN(g.pa, PAGE_SIZE);
	if (g.present && frame >= HV_BASE && frame < HV_BASE + HV_SIZE && allowed) {
		if (o->done || o->last != SHADOW_BREACH)
			fail_msg("va %#llx into hapvisor's region: result %d", (unsigned long long)va,
				 o->last);
		return;
	}
	if (allowed != o->done)
		fail_msg("va %#llx access %u: allowed=%d done=%d result %d", (unsigned long long)va, access,
			 allowed, o->done, o->last);
	if (!allowed && ((o->pf_error & GWALK_PF_P) != 0) != g.present)
		fail_msg("va %#llx: error code %#x, present=%d", (unsigned long long)va, o->pf_error,
			 g.present);
}

static void random_run(enum gwalk_mode m, unsigned seed)
{
	srand(seed);
	setup_arena(m, 64, true);
	gmap_direct();
	bool long_mode = m == GWALK_MODE_4LEVEL || m == GWALK_MODE_5LEVEL;
	uint64_t base = long_mode ? VA_USER : 0x10000000ull, roots[2] = {cpu.cr3, cpu.cr3};
	struct rmapping maps[RANDOM_PAGES];
	for (unsigned i = 0; i < RANDOM_PAGES; i++) {
		/* Large pages in one region, 4 KiB pages in another: six page tables, four pages in each. */
		unsigned level = rnd(5) == 0 ? 2 : 1;
		maps[i].va = level == 2 ? base + GiB(1) / 2 + i * gpage_size(2)
					: base + (i % 6) * gpage_size(2) + (i / 6) * PAGE_SIZE;
		maps[i].level = level;
		put_entry(gentry_addr(maps[i].va, level), gsize(), random_leaf(level));
		probe(maps[i].va);
		probe(dmap(ALIGN_DOWN(gentry_addr(maps[i].va, level), PAGE_SIZE)));
	}
	if (long_mode) { /* a second address space with the same kernel half and its own user tables */
		groot();
		roots[1] = cpu.cr3;
		memcpy(gp(roots[1] + 256 * 8), gp(roots[0] + 256 * 8), 256 * 8);
		for (unsigned i = 0; i < RANDOM_PAGES; i += 3)
			put_entry(gentry_addr(maps[i].va, maps[i].level), 8, random_leaf(maps[i].level));
		cpu.cr3 = roots[0];
	}
	load();
	for (unsigned step = 0; step < RANDOM_STEPS; step++) {
		unsigned op = (unsigned)rnd(100);
		const struct rmapping *r = &maps[rnd(RANDOM_PAGES)];
		uint64_t va = r->va + ALIGN_DOWN(rnd(gpage_size(r->level)), 8);
		if (op < 45) {
			static const unsigned kinds[] = {GWALK_ACC_READ, GWALK_ACC_WRITE, GWALK_ACC_FETCH};
			unsigned access = kinds[rnd(3)];
			cpu.cpl = rnd(3) == 0 ? 3 : 0;
			struct outcome o = cpu_access(va, access, step, 8);
			check_outcome(va, access, &o);
			cpu.cpl = 0;
		} else if (op < 75) { /* the guest rewrites a leaf through its direct map */
			uint64_t at = gentry_addr(r->va, r->level);
			struct outcome o =
				cpu_access(dmap(at), GWALK_ACC_WRITE, random_leaf(r->level), gsize());
			assert_true(o.done);
		} else if (op < 83) { /* ... or flips R/W or U/S in the entry above */
			if (r->level == 2)
				continue;
			uint64_t at = gentry_addr(r->va, 2);
			uint64_t e = get_entry(at, gsize()) ^ (rnd(2) ? RW : US);
			struct outcome o = cpu_access(dmap(at), GWALK_ACC_WRITE, e, gsize());
			assert_true(o.done);
		} else if (op < 88) {
			cpu.cr3 = roots[rnd(2)];
			load();
		} else if (op <
			   92) { /* a table (sometimes the root) written by an instruction not emulated */
			uint64_t table = rnd(3) ? gentry_addr(r->va, r->level) : cpu.cr3;
			shadow_unprotect(table >> PAGE_SHIFT);
			shadow_invlpg(va);
		} else if (op < 94) {
			cpu.cr0 ^= CR0_WP;
			shadow_reset("test: CR0.WP");
			load();
		} else {
			shadow_invlpg(va);
		}
		check_all();
		check_internal();
	}
	/* The run went through every path it is meant to test. */
	struct shadow_stats s = stats();
	if (getenv("HV_UNIT_VERBOSE"))
		fprintf(stderr,
			"mode %d seed %u: fills %llu guest_faults %llu tracked %llu emulated %llu unprotects "
			"%llu "
			"floods %llu resyncs %llu root_loads %llu hits %llu resets %llu pages_peak %llu\n",
			m, seed, (unsigned long long)s.fills, (unsigned long long)s.guest_faults,
			(unsigned long long)s.tracked_writes, (unsigned long long)s.emulated_writes,
			(unsigned long long)s.unprotects, (unsigned long long)s.floods,
			(unsigned long long)s.resyncs, (unsigned long long)s.root_loads,
			(unsigned long long)s.root_hits, (unsigned long long)s.resets,
			(unsigned long long)s.pages_peak);
	assert_true(s.fills > 0 && s.guest_faults > 0 && s.emulated_writes > 0 && s.unprotects > 0);
	assert_int_equal(s.relinks, 0);
}

static void test_random_32bit(void **state)
{
	for (unsigned seed = 1; seed <= 6; seed++)
		random_run(GWALK_MODE_32BIT, seed);
}

static void test_random_pae(void **state)
{
	for (unsigned seed = 1; seed <= 6; seed++)
		random_run(GWALK_MODE_PAE, seed);
}

static void test_random_4level(void **state)
{
	for (unsigned seed = 1; seed <= 6; seed++)
		random_run(GWALK_MODE_4LEVEL, seed);
}

static void test_random_5level(void **state)
{
	for (unsigned seed = 1; seed <= 3; seed++)
		random_run(GWALK_MODE_5LEVEL, seed);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fill_and_accessed_dirty),
		cmocka_unit_test(test_guest_faults),
		cmocka_unit_test(test_write_protection_and_emulation),
		cmocka_unit_test(test_large_pages),
		cmocka_unit_test(test_32bit_paging),
		cmocka_unit_test(test_pae_paging),
		cmocka_unit_test(test_paging_off),
		cmocka_unit_test(test_cr3_switch_and_sharing),
		cmocka_unit_test(test_wp0_supervisor_write),
		cmocka_unit_test(test_unprotect_and_unsync_root),
		cmocka_unit_test(test_write_flooding),
		cmocka_unit_test(test_exhaustion_resets),
		cmocka_unit_test(test_bad_tables),
		cmocka_unit_test(test_5level),
		cmocka_unit_test(test_random_32bit),
		cmocka_unit_test(test_random_pae),
		cmocka_unit_test(test_random_4level),
		cmocka_unit_test(test_random_5level),
	};
	int r = cmocka_run_group_tests(tests, NULL, teardown);
	return r;
}
