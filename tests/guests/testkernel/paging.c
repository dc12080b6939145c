/* testkernel: walking and extending its own page tables (see paging.h). */
#include "paging.h"

#define PG_ENTRIES 512
#define PG_INDEX_BITS 9
#define PG_SHIFT_PT 12	 /* shift of the PT index; each level up adds PG_INDEX_BITS */
#define PG_POOL_PAGES 24 /* the walk check takes 3 tables, the paging checks and measurements 17 */
#define PG_TABLE_FLAGS (PTE_P | PTE_W)

static uint64_t pool[PG_POOL_PAGES][PG_ENTRIES] __attribute__((aligned(PAGE_SIZE)));
static unsigned pool_used;

static uint64_t *table_at(uint64_t pa)
{
	return (uint64_t *)(uintptr_t)(pa & PTE_ADDR_MASK);
}

/* Index of va in the table of level (4 = PML4 ... 1 = PT). */
static unsigned index_of(uint64_t va, unsigned level)
{
	return (unsigned)(va >> (PG_SHIFT_PT + PG_INDEX_BITS * (level - 1))) & (PG_ENTRIES - 1);
}

void pg_walk(uint64_t va, struct pg_walk *w)
{
	uint64_t table = read_cr3() & PTE_ADDR_MASK;

	*w = (struct pg_walk){0};
	for (unsigned level = PG_LEVELS; level >= 1; level--) {
		uint64_t *e = table_at(table) + index_of(va, level);

		w->ref_addr[w->levels] = (uint64_t)e;
		w->ref_entry[w->levels] = *e;
		w->levels++;
		if (!(*e & PTE_P))
			return;
		/* A PS bit in a PDPTE (level 3) or PDE (level 2) ends the walk at a large page. */
		if (level == PG_LEVEL_PT ||
		    ((level == PG_LEVEL_PD || level == PG_LEVEL_PDPT) && (*e & PTE_PS))) {
			uint64_t page = UINT64_C(1) << (PG_SHIFT_PT + PG_INDEX_BITS * (level - 1));

			w->present = true;
			w->pa = (*e & PTE_ADDR_MASK & ~(page - 1)) | (va & (page - 1));
			return;
		}
		table = *e & PTE_ADDR_MASK;
	}
}

static uint64_t *pool_page(void)
{
	return pool_used == PG_POOL_PAGES ? NULL : pool[pool_used++]; /* pool pages are zero (.bss) */
}

uint64_t *pg_entry(uint64_t root, uint64_t va, unsigned stop_level)
{
	uint64_t *table = table_at(root);

	for (unsigned level = PG_LEVELS; level > stop_level; level--) {
		uint64_t *e = table + index_of(va, level);

		if (!(*e & PTE_P)) {
			uint64_t *page = pool_page();
			if (!page)
				return NULL;
			*e = (uint64_t)page | PG_TABLE_FLAGS;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = table_at(*e);
	}
	return table + index_of(va, stop_level);
}

bool pg_map_4k(uint64_t va, uint64_t pa, uint64_t flags)
{
	uint64_t *e = pg_entry(read_cr3(), va, PG_LEVEL_PT);

	if (!e)
		return false;
	*e = (pa & PTE_ADDR_MASK) | flags;
	invlpg(va);
	return true;
}

bool pg_set_pde(uint64_t va, uint64_t value)
{
	uint64_t *e = pg_entry(read_cr3(), va, PG_LEVEL_PD);

	if (!e)
		return false;
	*e = value;
	invlpg(va);
	return true;
}

uint64_t *pg_new_root(void)
{
	uint64_t *root = pool_page();
	if (root) {
		const uint64_t *current = table_at(read_cr3());
		for (unsigned i = 0; i < PG_ENTRIES; i++)
			root[i] = current[i];
	}
	return root;
}
