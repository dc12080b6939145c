/* The guest's EPT: lazy fill, eager build, reverse map, range protection (see ept.h). */
#include "vmx/ept.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/controls.h"

#define RMAP_GRANULE_SHIFT 21 /* one reverse-map slot per 2 MiB */
#define RMAP_LEVEL_MASK 7ull  /* slot = entry (or 4 KiB table) physical address | level */

struct ept_counters ept_counters;

/* One EPT for every vCPU: its tables, reverse map and counters change only under this lock. */
static struct spinlock ept_spinlock;

void ept_lock(void)
{
	spin_lock(&ept_spinlock);
}

void ept_unlock(void)
{
	spin_unlock(&ept_spinlock);
}

static struct {
	struct ept_config cfg;
	struct pt_format fmt;
	uint64_t root;
	uint64_t *rmap; /* one slot per 2 MiB below cfg.ram_limit */
	uint64_t rmap_slots;
	struct pt_stats stats; /* tables pagetable.c made (the root not counted), leaves per level */
} ept;

const struct pt_format *ept_format(void)
{
	return &ept.fmt;
}

uint64_t ept_pointer(void)
{
	return ept.root | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4 | (ept.cfg.ad ? EPTP_AD_ENABLE : 0);
}

/*
 * The EPT format's leaf hook (pt_format.leaf_set, KVM's rmap_add / pte_list_add): pagetable.c's one leaf
 * writer calls it for every EPT leaf written, so the reverse map follows fills, splits and protection
 * changes without any caller keeping it. Records, for each 2 MiB slot the leaf covers, where its entry is.
 */
static void rmap_add(void *ctx, uint64_t gpa, uint64_t *entry, unsigned level)
{
	uint64_t size = pt_level_size(level);
	gpa = ALIGN_DOWN(gpa, size);
	uint64_t slot_value;
	if (level == PG_LEVEL_4K) /* the slot names the 4 KiB table holding the entry */
		slot_value = (virt_to_phys(entry) & PT_ADDR_MASK) | PG_LEVEL_4K;
	else
		slot_value = virt_to_phys(entry) | level;
	uint64_t first = gpa >> RMAP_GRANULE_SHIFT, end = (gpa + size - 1) >> RMAP_GRANULE_SHIFT;
	for (uint64_t slot = first; slot <= end && slot < ept.rmap_slots; slot++) /* a 1 GiB leaf: 512 */
		ept.rmap[slot] = slot_value;
}

uint64_t *ept_rmap_lookup(uint64_t hpa, unsigned *level)
{
	uint64_t slot = hpa >> RMAP_GRANULE_SHIFT;
	if (slot >= ept.rmap_slots || !ept.rmap[slot])
		return NULL;
	uint64_t v = ept.rmap[slot];
	*level = (unsigned)(v & RMAP_LEVEL_MASK);
	uint64_t *entry = phys_to_virt(v & ~RMAP_LEVEL_MASK);
	if (*level == PG_LEVEL_4K)
		entry += pt_index(hpa, PG_LEVEL_4K);
	return (*entry & EPT_RWX) ? entry : NULL;
}

/*
 * The state of one pt_fill over the EPT: the memory-map range and, for a fill of many entries, the run of
 * one MTRR type last looked up ([run_start, run_end) of run_type; mtrr_run_end: the whole run costs more
 * than one lookup, less than many), and the last leaf made (its base and level).
 */
struct fill_ctx {
	bool many;		       /* a range of entries: worth following MTRR runs */
	const struct mem_range *range; /* the memory-map range last looked up */
	uint64_t run_start, run_end;
	uint8_t run_type;
	uint64_t base;
	unsigned level;
};

/*
 * pt_fill's chooser for the EPT: a leaf where the range is uniform (below cfg.limit, no frame of hapvisor's,
 * one MTRR type: SDM Vol. 3C 29.3.7.2, a large page must not span two types), else smaller pages.
 */
static enum pt_fill_choice choose_page(void *ctx, uint64_t gpa, unsigned level, uint64_t *flags)
{
	struct fill_ctx *f = ctx;
	uint64_t size = pt_level_size(level);
	const struct mem_range *r = f->range;
	if (!r || gpa < r->base || gpa - r->base >= r->size) /* address order: mostly the same range */
		r = f->range = memmap_lookup(ept.cfg.map, gpa);
	bool in_one_range = r && r->base + r->size >= gpa + size; /* ranges of one type are merged */
	if (gpa >= ept.cfg.limit || (in_one_range && r->type == MEM_HAPVISOR))
		return PT_FILL_SKIP; /* all of it hapvisor's (or beyond the limit): no table for nothing */
	uint8_t type;
	if (level > PG_LEVEL_4K &&
	    (gpa + size > ept.cfg.limit || (!in_one_range && guest_mem_overlaps_hapvisor(gpa, size))))
		return PT_FILL_DOWN;
	if (!f->many) { /* one entry: ask about just this range */
		if (level == PG_LEVEL_4K)
			type = mtrr_type_at(ept.cfg.mtrr, gpa);
		else if (!mtrr_range_type(ept.cfg.mtrr, gpa, size, &type))
			return PT_FILL_DOWN;
	} else {
		/* pt_fill goes up in address order: few runs to look up. */
		if (gpa < f->run_start || gpa >= f->run_end) {
			f->run_start = gpa;
			f->run_end = mtrr_run_end(ept.cfg.mtrr, gpa, &f->run_type);
		}
		if (gpa + size - 1 > f->run_end - 1)
			return PT_FILL_DOWN;
		type = f->run_type;
	}
	*flags = EPT_RWX | ((uint64_t)type << EPT_MEMTYPE_SHIFT);
	return PT_FILL_LEAF;
}

/* pt_fill's callback for each new leaf: remember the last one. */
static void record_leaf(void *ctx, uint64_t gpa, uint64_t *entry, unsigned level)
{
	struct fill_ctx *f = ctx;
	f->base = gpa;
	f->level = level;
}

/* pt_fill of [start, end) with the EPT's chooser; f starts zeroed but for many (no range or run known). */
static bool fill_range(uint64_t start, uint64_t end, struct fill_ctx *f)
{
	return pt_fill(&ept.fmt, ept.root, start, end, choose_page, record_leaf, f);
}

enum ept_fill ept_fill(uint64_t gpa, uint64_t *base, unsigned *level)
{
	if (gpa >= ept.cfg.limit)
		return EPT_FILL_OUT_RANGE;
	if (guest_mem_is_hapvisor(gpa))
		return EPT_FILL_HAPVISOR;
	unsigned hole_level;
	uint64_t *e = pt_find(&ept.fmt, ept.root, gpa, &hole_level);
	if (*e & EPT_RWX)
		return EPT_FILL_PRESENT;
	/* Exactly the entry that decides gpa, as large as choose_page accepts (the hole's size down). */
	struct fill_ctx f = {.level = PG_LEVEL_NONE};
	if (!fill_range(gpa, gpa + 1, &f))
		return EPT_FILL_NO_MEMORY;
	if (f.level == PG_LEVEL_NONE) /* a 4 KiB page has one type and is hapvisor's or not: unreachable */
		return EPT_FILL_HAPVISOR;
	*base = f.base;
	*level = f.level;
	return EPT_FILL_MAPPED;
}

enum ept_fill ept_fill_around(uint64_t gpa, uint64_t *base, unsigned *level)
{
	enum ept_fill r = ept_fill(gpa, base, level);
	if (r != EPT_FILL_MAPPED || ept.cfg.policy != EPT_LAZY)
		return r;
	/* The table that holds the new leaf covers pt_level_size(level + 1): 512 GiB for a 1 GiB leaf. */
	uint64_t window = pt_level_size(*level + 1);
	uint64_t start = ALIGN_DOWN(gpa, window);
	struct fill_ctx f = {.many = true};
	/* Exhaustion here shows at the next fill that needs a table. */
	(void)fill_range(start, MIN(start + window, ept.cfg.limit), &f);
	return r;
}

bool ept_init(const struct ept_config *cfg)
{
	ept.cfg = *cfg;
	ept.fmt = (struct pt_format){
		.name = "EPT",
		.present_mask = EPT_RWX,
		.table_flags = EPT_RWX,
		.max_leaf_level = cfg->policy == EPT_4K ? PG_LEVEL_4K : cfg->max_level,
		.stats = &ept.stats,
		.leaf_set = rmap_add,
	};
	memset(&ept.stats, 0, sizeof(ept.stats));
	ept.cfg.max_level = ept.fmt.max_leaf_level;
	memset(&ept_counters, 0, sizeof(ept_counters));
	ept.root = pmm_alloc_frame();
	ept.rmap_slots = ALIGN_UP(cfg->ram_limit, MiB(2)) >> RMAP_GRANULE_SHIFT;
	uint64_t rmap_frames = ALIGN_UP(ept.rmap_slots * sizeof(uint64_t), PAGE_SIZE) / PAGE_SIZE;
	uint64_t rmap_pa = pmm_alloc_contig(rmap_frames, PAGE_SIZE);
	if (!ept.root || !rmap_pa) {
		log_error("EPT: hapvisor's memory pool is exhausted (boot with a larger hvmem=)");
		return false;
	}
	ept.rmap = phys_to_virt(rmap_pa);
	/* Eager: everything below ram_limit now, each range with its largest uniform page. */
	struct fill_ctx f = {.many = true};
	return cfg->policy != EPT_EAGER || fill_range(0, MIN(cfg->ram_limit, cfg->limit), &f);
}

/*
 * Make the 4 KiB page at gpa a 4 KiB leaf (mapping it, or splitting the large page over it). The reverse
 * map answers at once for RAM already mapped with 4 KiB pages; otherwise the tables are walked.
 */
static uint64_t *leaf_4k(uint64_t gpa)
{
	unsigned rmap_level;
	uint64_t *known = ept_rmap_lookup(gpa, &rmap_level);
	if (known && rmap_level == PG_LEVEL_4K)
		return known;
	for (;;) {
		unsigned level;
		uint64_t *e = pt_find(&ept.fmt, ept.root, gpa, &level);
		if (!(*e & EPT_RWX)) {
			uint64_t base;
			unsigned l;
			if (ept_fill(gpa, &base, &l) != EPT_FILL_MAPPED)
				return NULL;
			continue;
		}
		if (level == PG_LEVEL_4K)
			return e;
		if (!pt_split(&ept.fmt, e, gpa, level)) /* the reverse map follows (rmap_add) */
			return NULL;
	}
}

bool ept_protect(uint64_t gpa, uint64_t len, uint64_t clear, uint64_t set)
{
	if (guest_mem_overlaps_hapvisor(gpa, len))
		return false;
	for (uint64_t a = gpa; a < gpa + len; a += PAGE_SIZE) {
		uint64_t *e = leaf_4k(a);
		if (!e)
			return false;
		pt_set_leaf(&ept.fmt, e, a, PG_LEVEL_4K, (*e & ~clear) | set);
	}
	return true;
}

bool ept_allows(uint64_t gpa, uint64_t rights)
{
	unsigned level;
	uint64_t e = *pt_find(&ept.fmt, ept.root, gpa, &level);
	return (e & EPT_RWX) && (e & rights) == rights;
}

unsigned ept_walk(uint64_t gpa, struct pt_step steps[PT_LEVELS], uint64_t *hpa)
{
	return pt_walk_trace(&ept.fmt, ept.root, gpa, steps, hpa);
}

/* The accessed and dirty flags are the CPU's to set: counted by a walk (leaf counts are kept as they change).
 */
static void count_ad(void *ctx, uint64_t va, uint64_t *entry, unsigned level)
{
	struct hc_ept_stats *s = ctx;
	if (*entry & EPT_ACCESSED)
		s->accessed_leaves++;
	if (*entry & EPT_DIRTY)
		s->dirty_leaves++;
}

void ept_stats(struct hc_ept_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->violations_fill = ept_counters.fill;
	out->violations_protection = ept_counters.protection;
	out->violations_breach = ept_counters.breach;
	out->misconfigs = ept_counters.misconfig;
	out->table_pages = 1 + ept.stats.tables; /* the root, and every table pagetable.c made */
	out->pages_4k = ept.stats.leaves[PG_LEVEL_4K];
	out->pages_2m = ept.stats.leaves[PG_LEVEL_2M];
	out->pages_1g = ept.stats.leaves[PG_LEVEL_1G];
	pt_for_each_leaf(&ept.fmt, ept.root, count_ad, out);
}

void ept_log_stats(const char *when)
{
	struct hc_ept_stats s;
	ept_stats(&s);
	log_event(
		"ept_stats when=%s policy=%s violations_fill=%llu violations_protection=%llu violations_breach=%llu misconfigs=%llu pages_4k=%llu pages_2m=%llu pages_1g=%llu table_pages=%llu accessed=%llu dirty=%llu ad=%d",
		when, ept_policy_name(ept.cfg.policy), s.violations_fill, s.violations_protection,
		s.violations_breach, s.misconfigs, s.pages_4k, s.pages_2m, s.pages_1g, s.table_pages,
		s.accessed_leaves, s.dirty_leaves, ept.cfg.ad);
}
