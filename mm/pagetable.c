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

/* The entry for va at `level`, creating the tables above it as needed; NULL if out of pool or blocked. */
static uint64_t *walk_create(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, unsigned level)
{
	uint64_t *table = table_at(root_pa);
	for (unsigned l = PT_LEVELS - 1; l > level; l--) {
		uint64_t *e = &table[pt_index(va, l)];
		if (!present(fmt, *e)) {
			uint64_t frame = pmm_alloc_frame();
			if (!frame) {
				log_error("%s page tables: hapvisor's memory pool is exhausted (boot with a larger "
					  "hvmem=)", fmt->name);
				return NULL;
			}
			*e = frame | fmt->table_flags;
		} else if (l <= PT_LEVEL_1G && (*e & PT_LARGE_PAGE)) {
			log_error("%s page tables: %#llx is already mapped by a large page", fmt->name,
				  (unsigned long long)va);
			return NULL;
		}
		table = table_at(*e);
	}
	return &table[pt_index(va, level)];
}

bool pt_map(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, uint64_t pa, uint64_t size,
	    uint64_t flags, uint64_t pages[PT_LEVELS])
{
	while (size) {
		unsigned level = fmt->max_leaf_level;
		while (level > PT_LEVEL_4K && (!IS_ALIGNED(va | pa, pt_level_size(level)) ||
					       size < pt_level_size(level)))
			level--;
		uint64_t *e = walk_create(fmt, root_pa, va, level);
		if (!e)
			return false;
		if (present(fmt, *e)) {
			log_error("%s page tables: %#llx is already mapped", fmt->name, (unsigned long long)va);
			return false;
		}
		*e = pa | flags | (level > PT_LEVEL_4K ? PT_LARGE_PAGE : 0);
		if (pages)
			pages[level]++;
		va += pt_level_size(level);
		pa += pt_level_size(level);
		size -= pt_level_size(level);
	}
	return true;
}

bool pt_lookup(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, uint64_t *entry, unsigned *level)
{
	const uint64_t *table = table_at(root_pa);
	for (unsigned l = PT_LEVELS - 1;; l--) {
		uint64_t e = table[pt_index(va, l)];
		if (!present(fmt, e))
			return false;
		if (l == PT_LEVEL_4K || (l <= PT_LEVEL_1G && (e & PT_LARGE_PAGE))) {
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
	const uint64_t *tables[PT_LEVELS];
	unsigned idx[PT_LEVELS];
	unsigned l = PT_LEVELS - 1;
	tables[l] = table_at(root_pa);
	idx[l] = 0;
	for (;;) {
		if (idx[l] == PT_ENTRIES) {
			if (l == PT_LEVELS - 1)
				return count;
			l++;
			continue;
		}
		uint64_t e = tables[l][idx[l]++];
		if (l == PT_LEVEL_4K || !present(fmt, e) || (l <= PT_LEVEL_1G && (e & PT_LARGE_PAGE)))
			continue;
		count++;
		l--;
		tables[l] = table_at(e);
		idx[l] = 0;
	}
}
