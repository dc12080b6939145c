/* The generic 4-level page-table walker (see pagetable.h). Iterative: no recursion in hapvisor. */
#include "mm/pagetable.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "mm/pmm.h"

static uint64_t *table_at(uint64_t pa)
{
	return phys_to_virt(pa & PT_ADDR_MASK);
}

static bool present(const struct pt_format *fmt, uint64_t e)
{
	return (e & fmt->present_mask) != 0;
}

/* A zeroed frame for a new table of fmt (counted in fmt->stats); 0, logged, when the pool is empty. */
static uint64_t new_table(const struct pt_format *fmt)
{
	uint64_t frame = pmm_alloc_frame();
	if (!frame)
		log_error("%s page tables: hapvisor's memory pool is exhausted (boot with a larger hvmem=)",
			  fmt->name);
	else if (fmt->stats)
		fmt->stats->tables++;
	return frame;
}

void pt_set_leaf(const struct pt_format *fmt, uint64_t *entry, uint64_t va, unsigned level, uint64_t value)
{
	bool was = present(fmt, *entry), now = present(fmt, value);
	*entry = value;
	if (fmt->stats && was != now) {
		if (now)
			fmt->stats->leaves[level]++;
		else
			fmt->stats->leaves[level]--;
	}
	if (fmt->leaf_set)
		fmt->leaf_set(fmt->leaf_ctx, va, entry, level);
}

/* Point *entry, at level, to the table at frame; the leaf it may have held is gone (a split). */
static void set_table(const struct pt_format *fmt, uint64_t *entry, unsigned level, uint64_t frame)
{
	if (fmt->stats && present(fmt, *entry))
		fmt->stats->leaves[level]--;
	*entry = frame | fmt->table_flags;
}

/* The entry for va at `level`, creating the tables above it as needed; NULL if out of pool or blocked. */
static uint64_t *walk_create(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, unsigned level)
{
	uint64_t *table = table_at(root_pa);
	for (unsigned l = PT_ROOT_LEVEL; l > level; l--) {
		uint64_t *e = &table[pt_index(va, l)];
		if (!present(fmt, *e)) {
			uint64_t frame = new_table(fmt);
			if (!frame)
				return NULL;
			set_table(fmt, e, l, frame);
		} else if (l <= PG_LEVEL_1G && (*e & PT_LARGE_PAGE)) {
			log_error("%s page tables: %#llx is already mapped by a large page", fmt->name,
				  (unsigned long long)va);
			return NULL;
		}
		table = table_at(*e);
	}
	return &table[pt_index(va, level)];
}

bool pt_map(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, uint64_t pa, uint64_t size,
	    uint64_t flags)
{
	while (size) {
		unsigned level = fmt->max_leaf_level;
		while (level > PG_LEVEL_4K &&
		       (!IS_ALIGNED(va | pa, pt_level_size(level)) || size < pt_level_size(level)))
			level--;
		uint64_t *e = walk_create(fmt, root_pa, va, level);
		if (!e)
			return false;
		if (present(fmt, *e)) {
			log_error("%s page tables: %#llx is already mapped", fmt->name,
				  (unsigned long long)va);
			return false;
		}
		pt_set_leaf(fmt, e, va, level, pa | flags | (level > PG_LEVEL_4K ? PT_LARGE_PAGE : 0));
		va += pt_level_size(level);
		pa += pt_level_size(level);
		size -= pt_level_size(level);
	}
	return true;
}

bool pt_lookup(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, uint64_t *entry, unsigned *level)
{
	const uint64_t *table = table_at(root_pa);
	for (unsigned l = PT_ROOT_LEVEL;; l--) {
		uint64_t e = table[pt_index(va, l)];
		if (!present(fmt, e))
			return false;
		if (l == PG_LEVEL_4K || (l <= PG_LEVEL_1G && (e & PT_LARGE_PAGE))) {
			if (entry)
				*entry = e;
			if (level)
				*level = l;
			return true;
		}
		table = table_at(e);
	}
}

uint64_t pt_count_tables(const struct pt_format *fmt, uint64_t root_pa)
{
	/* Iterative walk with an explicit cursor per level. */
	uint64_t count = 1;
	const uint64_t *tables[PT_ROOT_LEVEL + 1];
	unsigned idx[PT_ROOT_LEVEL + 1];
	unsigned l = PT_ROOT_LEVEL;
	tables[l] = table_at(root_pa);
	idx[l] = 0;
	for (;;) {
		if (idx[l] == PT_ENTRIES) {
			if (l == PT_ROOT_LEVEL)
				return count;
			l++;
			continue;
		}
		uint64_t e = tables[l][idx[l]++];
		if (l == PG_LEVEL_4K || !present(fmt, e) || (l <= PG_LEVEL_1G && (e & PT_LARGE_PAGE)))
			continue;
		count++;
		l--;
		tables[l] = table_at(e);
		idx[l] = 0;
	}
}

static bool is_leaf(const struct pt_format *fmt, uint64_t e, unsigned level)
{
	return present(fmt, e) && (level == PG_LEVEL_4K || (level <= PG_LEVEL_1G && (e & PT_LARGE_PAGE)));
}

uint64_t *pt_find(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, unsigned *level)
{
	uint64_t *table = table_at(root_pa);
	for (unsigned l = PT_ROOT_LEVEL;; l--) {
		uint64_t *e = &table[pt_index(va, l)];
		if (!present(fmt, *e) || is_leaf(fmt, *e, l)) {
			*level = l;
			return e;
		}
		table = table_at(*e);
	}
}

bool pt_split(const struct pt_format *fmt, uint64_t *entry, uint64_t va, unsigned level)
{
	uint64_t frame = new_table(fmt);
	if (!frame)
		return false;
	uint64_t *table = table_at(frame);
	uint64_t size = pt_level_size(level), step = pt_level_size(level - 1);
	uint64_t base = *entry & PT_ADDR_MASK & ~(size - 1);
	uint64_t va_base = ALIGN_DOWN(va, size);
	uint64_t flags = *entry & ~PT_ADDR_MASK;
	if (level - 1 == PG_LEVEL_4K)
		flags &= ~PT_LARGE_PAGE; /* bit 7 of a 4 KiB entry is PAT (x86) or ignored (EPT): not "large"
					  */
	/* The table is not reachable yet, so the order of the writes does not matter to the CPU. */
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		pt_set_leaf(fmt, &table[i], va_base + i * step, level - 1, (base + i * step) | flags);
	set_table(fmt, entry, level, frame);
	return true;
}

unsigned pt_walk_trace(const struct pt_format *fmt, uint64_t root_pa, uint64_t va,
		       struct pt_step steps[PT_LEVELS], uint64_t *pa)
{
	uint64_t table_pa = root_pa & PT_ADDR_MASK;
	unsigned n = 0;
	*pa = ~0ull;
	for (unsigned l = PT_ROOT_LEVEL;; l--) {
		unsigned idx = pt_index(va, l);
		uint64_t e = table_at(table_pa)[idx];
		steps[n++] = (struct pt_step){table_pa, idx, l, e};
		if (!present(fmt, e))
			return n;
		if (is_leaf(fmt, e, l)) {
			uint64_t size = pt_level_size(l);
			*pa = (e & PT_ADDR_MASK & ~(size - 1)) | (va & (size - 1));
			return n;
		}
		table_pa = e & PT_ADDR_MASK;
	}
}

void pt_for_each_leaf(const struct pt_format *fmt, uint64_t root_pa, pt_leaf_fn *fn, void *ctx)
{
	uint64_t *tables[PT_ROOT_LEVEL + 1];
	uint64_t base[PT_ROOT_LEVEL + 1];
	unsigned idx[PT_ROOT_LEVEL + 1];
	unsigned l = PT_ROOT_LEVEL;
	tables[l] = table_at(root_pa);
	base[l] = 0;
	idx[l] = 0;
	for (;;) {
		if (idx[l] == PT_ENTRIES) {
			if (l == PT_ROOT_LEVEL)
				return;
			l++;
			continue;
		}
		unsigned i = idx[l]++;
		uint64_t *e = &tables[l][i];
		uint64_t va = base[l] + i * pt_level_size(l);
		if (!present(fmt, *e))
			continue;
		if (is_leaf(fmt, *e, l)) {
			fn(ctx, va, e, l);
			continue;
		}
		l--;
		tables[l] = table_at(*e);
		base[l] = va;
		idx[l] = 0;
	}
}

bool pt_fill(const struct pt_format *fmt, uint64_t root_pa, uint64_t start, uint64_t end, pt_fill_fn *choose,
	     pt_leaf_fn *done, void *ctx)
{
	uint64_t *tables[PT_ROOT_LEVEL + 1];
	uint64_t base[PT_ROOT_LEVEL + 1];
	unsigned idx[PT_ROOT_LEVEL + 1];
	unsigned l = PT_ROOT_LEVEL;
	tables[l] = table_at(root_pa);
	base[l] = 0;
	idx[l] = pt_index(start, l);
	for (;;) {
		if (idx[l] == PT_ENTRIES) {
			if (l == PT_ROOT_LEVEL)
				return true;
			l++;
			continue;
		}
		unsigned i = idx[l]++;
		uint64_t *e = &tables[l][i];
		uint64_t va = base[l] + i * pt_level_size(l);
		if (va >= end) /* address order: everything after this lies above end too */
			return true;
		if (is_leaf(fmt, *e, l))
			continue;
		if (!present(fmt, *e)) {
			uint64_t flags = 0;
			enum pt_fill_choice c =
				l > fmt->max_leaf_level ? PT_FILL_DOWN : choose(ctx, va, l, &flags);
			if (c == PT_FILL_LEAF) {
				pt_set_leaf(fmt, e, va, l,
					    va | flags | (l > PG_LEVEL_4K ? PT_LARGE_PAGE : 0));
				if (done)
					done(ctx, va, e, l);
				continue;
			}
			if (c == PT_FILL_SKIP || l == PG_LEVEL_4K)
				continue;
			uint64_t frame = new_table(fmt);
			if (!frame)
				return false;
			set_table(fmt, e, l, frame);
		}
		l--;
		tables[l] = table_at(*e);
		base[l] = va;
		idx[l] = va < start ? pt_index(start, l) : 0; /* the first table may begin below start */
	}
}
