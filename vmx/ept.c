/* The guest's EPT: lazy fill, eager build, reverse map, range protection (see ept.h). */
#include "vmx/ept.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "lib/str.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/controls.h"

#define RMAP_GRANULE_SHIFT 21 /* one reverse-map slot per 2 MiB */
#define RMAP_LEVEL_MASK 7ull  /* slot = entry (or 4 KiB table) physical address | (level + 1) */

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
} ept;

const struct pt_format *ept_format(void)
{
	return &ept.fmt;
}

uint64_t ept_pointer(void)
{
	return ept.root | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4 | (ept.cfg.ad ? EPTP_AD_ENABLE : 0);
}

/* The types the guest may hand hapvisor as a buffer: RAM it owns (firmware tables included). */
static bool is_guest_ram(enum mem_type t)
{
	return t == MEM_AVAILABLE || t == MEM_ACPI_RECLAIMABLE || t == MEM_ACPI_NVS || t == MEM_BOOT;
}

bool ept_is_hapvisor(uint64_t gpa)
{
	const struct mem_range *r = memmap_lookup(ept.cfg.map, gpa);
	return r && r->type == MEM_HAPVISOR;
}

/* Does [base, base + size) hold any hapvisor frame? */
static bool overlaps_hapvisor(uint64_t base, uint64_t size)
{
	const struct memmap *m = ept.cfg.map;
	for (size_t i = 0; i < m->count; i++) {
		const struct mem_range *r = &m->ranges[i];
		if (r->type == MEM_HAPVISOR && r->base < base + size && base < r->base + r->size)
			return true;
	}
	return false;
}

static void rmap_record(uint64_t gpa, uint64_t size, uint64_t *entry, unsigned level)
{
	uint64_t slot_value;
	if (level == PT_LEVEL_4K) /* the slot names the 4 KiB table holding the entry */
		slot_value = (virt_to_phys(entry) & PT_ADDR_MASK) | (PT_LEVEL_4K + 1);
	else
		slot_value = virt_to_phys(entry) | (level + 1);
	for (uint64_t a = gpa; a < gpa + size; a += MiB(2)) {
		uint64_t slot = a >> RMAP_GRANULE_SHIFT;
		if (slot < ept.rmap_slots)
			ept.rmap[slot] = slot_value;
	}
}

uint64_t *ept_rmap_lookup(uint64_t hpa, unsigned *level)
{
	uint64_t slot = hpa >> RMAP_GRANULE_SHIFT;
	if (slot >= ept.rmap_slots || !ept.rmap[slot])
		return NULL;
	uint64_t v = ept.rmap[slot];
	*level = (unsigned)(v & RMAP_LEVEL_MASK) - 1;
	uint64_t *entry = phys_to_virt(v & ~RMAP_LEVEL_MASK);
	if (*level == PT_LEVEL_4K)
		entry += pt_index(hpa, PT_LEVEL_4K);
	return (*entry & EPT_RWX) ? entry : NULL;
}

/* Map [base, base + size) (one page of `level`) with memory type `type`; record it in the reverse map. */
static bool map_page(uint64_t base, unsigned level, uint8_t type)
{
	uint64_t size = pt_level_size(level);
	uint64_t flags = EPT_RWX | ((uint64_t)type << EPT_MEMTYPE_SHIFT);
	if (!pt_map(&ept.fmt, ept.root, base, base, size, flags, NULL))
		return false;
	unsigned got;
	uint64_t *e = pt_find(&ept.fmt, ept.root, base, &got);
	rmap_record(base, size, e, got);
	return true;
}

enum ept_fill ept_fill(uint64_t gpa, uint64_t *base, unsigned *level)
{
	if (gpa >= ept.cfg.limit)
		return EPT_FILL_OUT_RANGE;
	if (ept_is_hapvisor(gpa))
		return EPT_FILL_HAPVISOR;
	unsigned hole_level;
	uint64_t *e = pt_find(&ept.fmt, ept.root, gpa, &hole_level);
	if (*e & EPT_RWX)
		return EPT_FILL_PRESENT;
	/* The unmapped hole around gpa is the whole slot at hole_level: try pages from that size down. */
	for (unsigned l = MIN(hole_level, ept.cfg.max_level);; l--) {
		uint64_t size = pt_level_size(l), b = ALIGN_DOWN(gpa, size);
		uint8_t type;
		if (b + size <= ept.cfg.limit && !overlaps_hapvisor(b, size) &&
		    mtrr_range_type(ept.cfg.mtrr, b, size, &type)) {
			if (!map_page(b, l, type))
				return EPT_FILL_NO_MEMORY;
			*base = b;
			*level = l;
			return EPT_FILL_MAPPED;
		}
		if (l == PT_LEVEL_4K)
			break;
	}
	/* A 4 KiB page has one type and is either hapvisor's or not: unreachable. */
	return EPT_FILL_HAPVISOR;
}

bool ept_init(const struct ept_config *cfg)
{
	ept.cfg = *cfg;
	ept.fmt = (struct pt_format){
		.name = "EPT",
		.present_mask = EPT_RWX,
		.table_flags = EPT_RWX,
		.max_leaf_level = cfg->policy == EPT_4K ? PT_LEVEL_4K : cfg->max_level,
	};
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
	if (cfg->policy != EPT_EAGER)
		return true;
	/* Eager: fill from the bottom up; each fill takes the largest uniform page at the cursor. */
	for (uint64_t gpa = 0; gpa < cfg->ram_limit;) {
		uint64_t base;
		unsigned level;
		switch (ept_fill(gpa, &base, &level)) {
		case EPT_FILL_MAPPED:
			gpa = base + pt_level_size(level);
			break;
		case EPT_FILL_HAPVISOR: {
			const struct mem_range *r = memmap_lookup(cfg->map, gpa);
			gpa = r->base + r->size;
			break;
		}
		case EPT_FILL_PRESENT:
			gpa += PAGE_SIZE;
			break;
		default:
			return false;
		}
	}
	return true;
}

/*
 * Make the 4 KiB page at gpa a 4 KiB leaf (mapping it, or splitting the large page over it). The reverse
 * map answers at once for RAM already mapped with 4 KiB pages; otherwise the tables are walked.
 */
static uint64_t *leaf_4k(uint64_t gpa)
{
	unsigned rmap_level;
	uint64_t *known = ept_rmap_lookup(gpa, &rmap_level);
	if (known && rmap_level == PT_LEVEL_4K)
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
		if (level == PT_LEVEL_4K)
			return e;
		uint64_t base = ALIGN_DOWN(gpa, pt_level_size(level));
		if (!pt_split(&ept.fmt, e, level))
			return NULL;
		/* Re-record the split range: each 2 MiB now has its own entry or 4 KiB table. */
		for (uint64_t a = base; a < base + pt_level_size(level); a += MiB(2)) {
			unsigned sub;
			uint64_t *se = pt_find(&ept.fmt, ept.root, a, &sub);
			rmap_record(a, MiB(2), se, sub);
		}
	}
}

bool ept_protect(uint64_t gpa, uint64_t len, uint64_t clear, uint64_t set)
{
	if (overlaps_hapvisor(gpa, len))
		return false;
	for (uint64_t a = gpa; a < gpa + len; a += PAGE_SIZE) {
		uint64_t *e = leaf_4k(a);
		if (!e)
			return false;
		*e = (*e & ~clear) | set;
	}
	return true;
}

bool ept_allows(uint64_t gpa, uint64_t rights)
{
	unsigned level;
	uint64_t e = *pt_find(&ept.fmt, ept.root, gpa, &level);
	return (e & EPT_RWX) && (e & rights) == rights;
}

bool ept_guest_ram(uint64_t gpa, uint64_t len)
{
	if (len == 0 || gpa + len < gpa || gpa + len > ept.cfg.limit)
		return false;
	uint64_t end = gpa + len;
	while (gpa < end) {
		const struct mem_range *r = memmap_lookup(ept.cfg.map, gpa);
		if (!r || !is_guest_ram(r->type))
			return false;
		gpa = r->base + r->size;
	}
	return true;
}

unsigned ept_walk(uint64_t gpa, struct pt_step steps[PT_LEVELS], uint64_t *hpa)
{
	return pt_walk_trace(&ept.fmt, ept.root, gpa, steps, hpa);
}

struct leaf_census {
	struct hc_ept_stats *out;
};

static void count_leaf(void *ctx, uint64_t va, uint64_t *entry, unsigned level)
{
	struct hc_ept_stats *s = ((struct leaf_census *)ctx)->out;
	if (level == PT_LEVEL_4K)
		s->pages_4k++;
	else if (level == PT_LEVEL_2M)
		s->pages_2m++;
	else
		s->pages_1g++;
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
	out->table_pages = pt_count_tables(&ept.fmt, ept.root);
	struct leaf_census c = {out};
	pt_for_each_leaf(&ept.fmt, ept.root, count_leaf, &c);
}

void ept_log_stats(const char *when)
{
	struct hc_ept_stats s;
	ept_stats(&s);
	log_event("ept_stats when=%s policy=%s violations_fill=%llu violations_protection=%llu "
		  "violations_breach=%llu misconfigs=%llu pages_4k=%llu pages_2m=%llu pages_1g=%llu "
		  "table_pages=%llu "
		  "accessed=%llu dirty=%llu ad=%d",
		  when, ept_policy_name(ept.cfg.policy), s.violations_fill, s.violations_protection,
		  s.violations_breach, s.misconfigs, s.pages_4k, s.pages_2m, s.pages_1g, s.table_pages,
		  s.accessed_leaves, s.dirty_leaves, ept.cfg.ad);
}
