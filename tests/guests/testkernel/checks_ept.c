/*
 * testkernel: hapvisor's EPT as the guest sees it (guest/hypercall_abi.h functions 5-9, docs/hypercalls.md):
 * its statistics, a touch of all RAM, dirty-page tracking, and the two-dimensional walk report. A function
 * hapvisor lacks (HC_ENOSYS) fails its check with a line that says so; natively VMCALL raises #UD and each
 * check fails with vmcall=#UD after the parts that need no hypervisor (the touches, the page-table probes).
 */
#include "checks.h"
#include "hypercall.h"
#include "paging.h"
#include "serial.h"

#define TOUCH_STRIDE (2 * MIB)
/* Written over each touched word, then the old value again. */
#define TOUCH_XOR UINT64_C(0xC3C3C3C3C3C3C3C3)

#define DIRTY_BUF_SIZE MIB
#define DIRTY_PAGES (DIRTY_BUF_SIZE / PAGE_SIZE)
#define DIRTY_BITMAP_BYTES (DIRTY_PAGES / 8)
#define DIRTY_WRITE_OFFSET 0x123 /* where in a page the dirtying byte goes: any offset will do */
#define DIRTY_SECOND_PAGE 5
#define DIRTY_BITMAP_POISON 0xA5 /* the bitmap is filled with this before each read */
#define DIRTY_MISALIGN 8

/* Linear addresses in PML4 slots the identity map leaves empty: 160 gets the read-only page, 224 nothing. */
#define WALK_RO_GLA UINT64_C(0x0000500000000000)
#define WALK_UNMAPPED_GLA UINT64_C(0x0000700000000000)
#define WALK_RO_OFFSET 0x238 /* an offset inside the page, to see it carried over */
#define WALK_FAULT BIT(32)   /* struct hc_walk .fault: a fault, error code in bits 31:0 */
#define WALK_ERROR_CODE_MASK UINT64_C(0xFFFFFFFF)
#define WALK_STATIC_PATTERN UINT64_C(0x57A71C0057A71C00)
#define WALK_RO_PATTERN UINT64_C(0x0123456789ABCDEF)

/* One hypercall: function and the four argument registers (hypercall_abi.h). */
struct hc_args {
	uint64_t fn, rbx, rcx, rdx, rsi;
};

static struct hc_ept_stats ept_stats_buf;
static uint8_t dirty_buf[DIRTY_BUF_SIZE] __attribute__((aligned(PAGE_SIZE)));
static uint8_t dirty_bitmap[DIRTY_BITMAP_BYTES] __attribute__((aligned(8)));
static struct hc_walk walk_buf;
static volatile uint64_t walk_static = WALK_STATIC_PATTERN; /* in .data: a static variable to walk */
static uint64_t walk_ro_frame[PAGE_SIZE / sizeof(uint64_t)] __attribute__((aligned(PAGE_SIZE)));

/*
 * hc_ok: make hypercall a for check c. Returns true with the result in *value when the VMCALL completed
 * and hapvisor knows the function; otherwise fails c (vmcall=#UD, or what=HC_ENOSYS with a reason) and
 * returns false, and the caller gives up on what depends on the call.
 */
static bool hc_ok(struct check *c, const char *what, struct hc_args a, int64_t *value)
{
	struct hc_result r = hc_call(a.fn, a.rbx, a.rcx, a.rdx, a.rsi);

	if (r.vector != PROBE_NO_FAULT) {
		check_fail(c, "vmcall=%s", vector_name((uint64_t)r.vector));
		return false;
	}
	if (r.value == HC_ENOSYS) {
		check_fail(c, "%s=HC_ENOSYS (hapvisor does not implement hypercall %lu)", what, a.fn);
		return false;
	}
	*value = r.value;
	return true;
}

/* hc_expect: hc_ok, and fail c unless the result is want. Returns what hc_ok returns. */
static bool hc_expect(struct check *c, const char *what, struct hc_args a, int64_t want)
{
	int64_t v;

	if (!hc_ok(c, what, a, &v))
		return false;
	if (v != want) {
		const char *name = hc_error_name(v);
		check_fail(c, "%s=%ld%s%s expected=%ld", what, v, name ? ":" : "", name ? name : "", want);
	}
	return true;
}

/* HC_EPT_STATS into *s; false (c failed) when the call faulted, is unknown or returned the wrong size. */
static bool fetch_ept_stats(struct check *c, const char *what, struct hc_ept_stats *s)
{
	int64_t v;

	if (!hc_ok(c, what, (struct hc_args){HC_EPT_STATS, (uint64_t)s, sizeof(*s), 0, 0}, &v))
		return false;
	if (v != (int64_t)sizeof(*s)) {
		check_fail(c, "%s=%ld expected=%zu", what, v, sizeof(*s));
		return false;
	}
	return true;
}

/* ---- ept_stats -------------------------------------------------------------------------------------- */

void check_ept_stats(struct check *c, struct tk_context *t)
{
	(void)t;
	struct hc_ept_stats *s = &ept_stats_buf;

	if (!fetch_ept_stats(c, "stats", s))
		return;
	check_note(c,
		   "violations_fill=%llu violations_protection=%llu violations_breach=%llu misconfigs=%llu "
		   "pages_4k=%llu pages_2m=%llu pages_1g=%llu table_pages=%llu accessed_leaves=%llu "
		   "dirty_leaves=%llu",
		   s->violations_fill, s->violations_protection, s->violations_breach, s->misconfigs,
		   s->pages_4k, s->pages_2m, s->pages_1g, s->table_pages, s->accessed_leaves,
		   s->dirty_leaves);
	if (s->table_pages < 1)
		check_fail(c, "table_pages=0 (the EPT has at least its root)");
	if (s->pages_4k + s->pages_2m + s->pages_1g < 1)
		check_fail(c, "leaves=0 (this kernel runs, so something is mapped)");
	if (s->violations_breach != 0)
		check_fail(c, "violations_breach_nonzero");
	hc_expect(c, "small_buffer", (struct hc_args){HC_EPT_STATS, (uint64_t)s, sizeof(*s) - 1, 0, 0},
		  HC_EINVAL);
}

/* ---- ept_touch -------------------------------------------------------------------------------------- */

struct touch_result {
	uint64_t touched, spared, mismatches, first_bad, skipped_high;
};

/* Read the word at addr, write it inverted, read that back, restore it, read again. */
static void touch_word(struct touch_result *r, uint64_t addr)
{
	volatile uint64_t *w = (volatile uint64_t *)addr;
	uint64_t old = *w;

	*w = old ^ TOUCH_XOR;
	uint64_t flipped = *w;
	*w = old;
	uint64_t back = *w;
	if ((flipped != (old ^ TOUCH_XOR) || back != old) && r->mismatches++ == 0)
		r->first_bad = addr;
	r->touched++;
}

/* The first page of [base, end) that the memory checks may write, or 0 when there is none. */
static uint64_t first_free_page(const struct mem_range *spared, size_t n, uint64_t base, uint64_t end)
{
	for (uint64_t p = ALIGN_UP(base, PAGE_SIZE); p + PAGE_SIZE <= end; p += PAGE_SIZE)
		if (!ranges_overlap(spared, n, p, p + PAGE_SIZE))
			return p;
	return 0;
}

/* Touch one word in every 2 MiB slot of every available range below 4 GiB. */
static void touch_all(const struct boot_info *b, struct touch_result *r)
{
	struct mem_range spared[MEMORY_SPARED_MAX];
	size_t n = memory_spared_ranges(b, spared);

	for (size_t i = 0; i < b->map_count; i++) {
		const struct mem_range *m = &b->map[i];
		uint64_t end = m->end < FOUR_GIB ? m->end : FOUR_GIB;

		if (m->type != MEM_AVAILABLE)
			continue;
		if (m->end > FOUR_GIB)
			r->skipped_high += m->end - (m->base > FOUR_GIB ? m->base : FOUR_GIB);
		for (uint64_t slot = ALIGN_DOWN(m->base, TOUCH_STRIDE); slot < end; slot += TOUCH_STRIDE) {
			uint64_t lo = slot > m->base ? slot : m->base;
			uint64_t hi = slot + TOUCH_STRIDE < end ? slot + TOUCH_STRIDE : end;
			uint64_t page = first_free_page(spared, n, lo, hi);

			if (page)
				touch_word(r, page);
			else
				r->spared++;
		}
	}
}

/*
 * Touches (reads, writes, restores) one word in every 2 MiB of available RAM below 4 GiB, sparing what
 * memory_rw spares, between two HC_EPT_STATS calls, and reports how many EPT violations filled memory in
 * between. memory_rw has touched every page before, so under a lazy policy the delta is small.
 */
void check_ept_touch(struct check *c, struct tk_context *t)
{
	static struct hc_ept_stats before, after;
	static struct touch_result r;
	const struct boot_info *b = &t->boot;

	if (!b->have_mmap) {
		check_fail(c, "mmap=absent");
		return;
	}
	bool stats = fetch_ept_stats(c, "stats_before", &before);
	uint64_t start = rdtsc();
	touch_all(b, &r);
	uint64_t cycles = rdtsc() - start;

	check_note(c, "touched=%lu spared_slots=%lu tsc_delta=%lu", r.touched, r.spared, cycles);
	if (r.skipped_high)
		check_note(c, "untouched_above_4g_kib=%lu", r.skipped_high >> 10);
	if (r.touched == 0)
		check_fail(c, "touched=0");
	if (r.mismatches)
		check_fail(c, "mismatches=%lu first_mismatch=0x%lx", r.mismatches, r.first_bad);
	if (!stats || !fetch_ept_stats(c, "stats_after", &after))
		return;
	check_note(c, "fill_delta=%llu protection_delta=%llu leaves_4k=%llu leaves_2m=%llu leaves_1g=%llu",
		   after.violations_fill - before.violations_fill,
		   after.violations_protection - before.violations_protection, after.pages_4k, after.pages_2m,
		   after.pages_1g);
	if (after.violations_breach != 0)
		check_fail(c, "violations_breach=%llu", after.violations_breach);
}

/* ---- dirty_tracking --------------------------------------------------------------------------------- */

static void dirty_page(unsigned page)
{
	((volatile uint8_t *)dirty_buf)[page * PAGE_SIZE + DIRTY_WRITE_OFFSET] = (uint8_t)(page + 1);
}

static bool bit_set(const uint8_t *map, unsigned bit)
{
	return (map[bit / 8] >> (bit % 8)) & 1;
}

/*
 * HC_DIRTY_READ into the (poisoned) bitmap; fails c unless it returns count and the bitmap holds exactly
 * the pages in want[0..count). Returns false when the call itself failed (faulted or unknown).
 */
static bool expect_dirty(struct check *c, const char *what, const unsigned *want, size_t count)
{
	uint8_t expected[DIRTY_BITMAP_BYTES] = {0};
	int64_t v;

	for (size_t i = 0; i < DIRTY_BITMAP_BYTES; i++)
		dirty_bitmap[i] = DIRTY_BITMAP_POISON;
	for (size_t i = 0; i < count; i++)
		expected[want[i] / 8] |= (uint8_t)(1u << (want[i] % 8));
	if (!hc_ok(c, what, (struct hc_args){HC_DIRTY_READ, (uint64_t)dirty_bitmap, DIRTY_BITMAP_BYTES, 0, 0},
		   &v))
		return false;
	if (v != (int64_t)count) {
		const char *name = hc_error_name(v);
		check_fail(c, "%s=%ld%s%s expected=%zu", what, v, name ? ":" : "", name ? name : "", count);
	}
	bool same = true;
	for (size_t i = 0; i < DIRTY_BITMAP_BYTES; i++)
		same = same && dirty_bitmap[i] == expected[i];
	if (!same) {
		char pages[CHECK_DETAILS_MAX / 4];
		size_t len = 0;

		for (unsigned p = 0; p < DIRTY_PAGES; p++)
			if (bit_set(dirty_bitmap, p) && len + 1 < sizeof(pages))
				len += fmt_snprintf(pages + len, sizeof(pages) - len, "%s%u", len ? "," : "",
						    p);
		check_fail(c, "%s_bitmap_pages=%s", what, len ? pages : "none");
	}
	return true;
}

struct bad_start {
	const char *what;
	uint64_t gpa, len;
	int64_t want;
};

/* The argument checks of HC_DIRTY_START; a call that wrongly starts tracking is stopped again. */
static void dirty_bad_starts(struct check *c, struct tk_context *t)
{
	const uint64_t buf = (uint64_t)dirty_buf;
	struct bad_start cases[] = {
		{"unaligned_gpa", buf + DIRTY_MISALIGN, PAGE_SIZE, HC_EINVAL},
		{"unaligned_len", buf, PAGE_SIZE + DIRTY_MISALIGN, HC_EINVAL},
		{"too_long", buf, HC_DIRTY_MAX + PAGE_SIZE, HC_EINVAL},
		{"in_hv_region", 0, PAGE_SIZE, HC_EFAULT}, /* gpa set below */
	};
	size_t n = ARRAY_SIZE(cases);

	if (t->have_hv_region) {
		uint64_t mid = t->hv_region.base + (t->hv_region.end - t->hv_region.base) / 2;
		cases[n - 1].gpa = ALIGN_DOWN(mid, PAGE_SIZE);
	} else {
		check_fail(c, "hv_region=none (see check memory_map)");
		n--;
	}
	for (size_t i = 0; i < n; i++) {
		struct hc_result r = hc_call(HC_DIRTY_START, cases[i].gpa, cases[i].len, 0, 0);

		if (r.vector != PROBE_NO_FAULT || r.value != cases[i].want) {
			const char *name = hc_error_name(r.value);
			check_fail(c, "%s=%ld%s%s expected=%ld", cases[i].what, r.value, name ? ":" : "",
				   name ? name : "", cases[i].want);
		}
		if (r.vector == PROBE_NO_FAULT && r.value >= 0)
			hc_call(HC_DIRTY_STOP, 0, 0, 0, 0);
	}
}

/*
 * Tracks the writes to a 1 MiB buffer of this kernel's .bss: four pages written show up as four bits, a
 * second read finds none, a further write shows up alone; then the argument checks of HC_DIRTY_START.
 */
void check_dirty_tracking(struct check *c, struct tk_context *t)
{
	static const unsigned first[] = {3, 7, 100, 255}, second[] = {DIRTY_SECOND_PAGE};

	check_note(c, "buffer=0x%lx pages=%lu", (uint64_t)dirty_buf, DIRTY_PAGES);
	if (!hc_expect(c, "start",
		       (struct hc_args){HC_DIRTY_START, (uint64_t)dirty_buf, DIRTY_BUF_SIZE, 0, 0}, 0))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(first); i++)
		dirty_page(first[i]);
	bool ok =
		expect_dirty(c, "read_4", first, ARRAY_SIZE(first)) && expect_dirty(c, "read_again", NULL, 0);
	if (ok) {
		dirty_page(DIRTY_SECOND_PAGE);
		expect_dirty(c, "read_page5", second, ARRAY_SIZE(second));
	}
	if (!hc_expect(c, "stop", (struct hc_args){HC_DIRTY_STOP, 0, 0, 0, 0}, 0))
		return;
	dirty_bad_starts(c, t);
}

/* ---- walk ------------------------------------------------------------------------------------------- */

static void do_read(void *ctx)
{
	*(volatile uint64_t *)ctx = **(volatile uint64_t *const *)ctx;
}

static void do_write(void *ctx)
{
	**(volatile uint64_t *const *)ctx = WALK_RO_PATTERN;
}

/* Probe a read or write of the word at gla: the exception vector, or PROBE_NO_FAULT. */
static int probe_access(uint64_t gla, bool write)
{
	volatile uint64_t *p = (volatile uint64_t *)gla;

	return fault_probe(write ? do_write : do_read, &p);
}

static const char *access_name(uint64_t access)
{
	return access == HC_ACCESS_WRITE ? "write" : access == HC_ACCESS_FETCH ? "fetch" : "read";
}

/* HC_WALK of gla for access into walk_buf, and its report line; false when the call failed (c failed). */
static bool walk(struct check *c, const char *name, uint64_t gla, uint64_t access)
{
	struct hc_walk *w = &walk_buf;
	char refs[TK_PRINTF_MAX / 2];
	size_t len = 0;

	*w = (struct hc_walk){0};
	if (!hc_expect(c, name, (struct hc_args){HC_WALK, gla, access, (uint64_t)w, sizeof(*w)},
		       (int64_t)sizeof(*w)))
		return false;
	for (uint64_t i = 0; i < w->levels && i < HC_WALK_MAX_REFS; i++)
		len += fmt_snprintf(refs + len, sizeof(refs) - len, " ref%lu=0x%llx:0x%llx", i, w->ref_gpa[i],
				    w->ref_entry[i]);
	tk_printf("testkernel: walk case=%s gla=0x%lx access=%s gpa=0x%llx hpa=0x%llx fault=0x%llx "
		  "levels=%llu%s\n",
		  name, gla, access_name(access), w->gpa, w->hpa, w->fault, w->levels, refs);
	return true;
}

/* Compare hapvisor's walk of a mapped address with the kernel's own (A and D bits aside). */
static void expect_walk_ok(struct check *c, const char *name, uint64_t gla)
{
	const struct hc_walk *w = &walk_buf;
	struct pg_walk mine;

	pg_walk(gla, &mine);
	if (w->fault != 0)
		check_fail(c, "%s_fault=0x%llx", name, w->fault);
	if (!mine.present || w->gpa != mine.pa)
		check_fail(c, "%s_gpa=0x%llx expected=0x%lx", name, w->gpa, mine.pa);
	if (w->hpa != w->gpa)
		check_fail(c, "%s_hpa=0x%llx expected=gpa", name, w->hpa);
	if (w->levels != mine.levels) {
		check_fail(c, "%s_levels=%llu expected=%u", name, w->levels, mine.levels);
		return;
	}
	for (unsigned i = 0; i < mine.levels; i++)
		if (w->ref_gpa[i] != mine.ref_addr[i] ||
		    (w->ref_entry[i] ^ mine.ref_entry[i]) & ~(uint64_t)(PTE_A | PTE_D))
			check_fail(c, "%s_ref%u=0x%llx:0x%llx expected=0x%lx:0x%lx", name, i, w->ref_gpa[i],
				   w->ref_entry[i], mine.ref_addr[i], mine.ref_entry[i]);
	check_note(c, "%s_levels=%u", name, mine.levels);
}

/* A walk that must fault with the error-code bits in `want` among P, W and U set and the others clear. */
static void expect_walk_fault(struct check *c, const char *name, uint64_t want)
{
	uint64_t f = walk_buf.fault, code = f & WALK_ERROR_CODE_MASK;

	if (!(f & WALK_FAULT))
		check_fail(c, "%s_fault=0x%llx expected_bit32", name, walk_buf.fault);
	else if ((code & (PF_EC_P | PF_EC_W | PF_EC_U)) != want)
		check_fail(c, "%s_error_code=0x%lx expected_pwu=0x%lx", name, code, want);
	else
		check_note(c, "%s_error_code=0x%lx", name, code);
}

/*
 * Maps a read-only page, proves natively that it reads and that a write to it (CR0.WP=1) and a read of an
 * unmapped address raise #PF, then asks hapvisor to walk: a static variable (2 MiB page of the identity
 * map), the read-only page (4 KiB page: 4 references), the unmapped address (#PF, P clear) and a write
 * to the read-only page (#PF with P and W). hapvisor prints its 2D walk report for each.
 */
void check_walk(struct check *c, struct tk_context *t)
{
	(void)t;
	struct pg_walk unmapped;
	uint64_t ro = WALK_RO_GLA + WALK_RO_OFFSET;

	walk_ro_frame[WALK_RO_OFFSET / sizeof(uint64_t)] = WALK_RO_PATTERN;
	if (!pg_map_4k(WALK_RO_GLA, (uint64_t)walk_ro_frame, PTE_P)) {
		check_fail(c, "map_read_only_page=failed");
		return;
	}
	pg_walk(WALK_UNMAPPED_GLA, &unmapped);
	if (unmapped.present) {
		check_fail(c, "unmapped_gla=0x%lx is mapped", WALK_UNMAPPED_GLA);
		return;
	}
	uint64_t cr0 = read_cr0();
	write_cr0(cr0 | CR0_WP);
	int ro_read = probe_access(ro, false), ro_write = probe_access(ro, true);
	int unmapped_read = probe_access(WALK_UNMAPPED_GLA, false);
	bool value_ok = *(volatile uint64_t *)ro == WALK_RO_PATTERN;

	check_note(c,
		   "static=0x%lx ro_page=0x%lx->0x%lx probe_ro_read=%s probe_ro_write=%s probe_unmapped=%s",
		   (uint64_t)&walk_static, WALK_RO_GLA, (uint64_t)walk_ro_frame,
		   ro_read == PROBE_NO_FAULT ? "none" : vector_name((uint64_t)ro_read),
		   ro_write == PROBE_NO_FAULT ? "none" : vector_name((uint64_t)ro_write),
		   unmapped_read == PROBE_NO_FAULT ? "none" : vector_name((uint64_t)unmapped_read));
	if (ro_read != PROBE_NO_FAULT || !value_ok || ro_write != VEC_PF || unmapped_read != VEC_PF)
		check_fail(c, "probes_expected=none,#PF,#PF ro_value_ok=%d", value_ok);

	/* Each step needs the one before to have reached hapvisor: natively the first fails with #UD. */
	bool go = walk(c, "static", (uint64_t)&walk_static, HC_ACCESS_READ);
	if (go)
		expect_walk_ok(c, "static", (uint64_t)&walk_static);
	if (go && (go = walk(c, "ro_read", ro, HC_ACCESS_READ)))
		expect_walk_ok(c, "ro_read", ro);
	if (go && (go = walk(c, "unmapped", WALK_UNMAPPED_GLA, HC_ACCESS_READ)))
		expect_walk_fault(c, "unmapped", 0);
	if (go && walk(c, "ro_write", ro, HC_ACCESS_WRITE))
		expect_walk_fault(c, "ro_write", PF_EC_P | PF_EC_W);
	write_cr0(cr0);
}
