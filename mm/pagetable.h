/*
 * One 4-level page-table walker for both of hapvisor's page-table formats: its own x86-64 tables and
 * the EPT (SDM Vol. 3A 4.5 and Vol. 3C 29.3.2). The two formats differ only in which bits mean
 * "present", which flags a pointer to a next-level table carries, and how a large page is marked; a
 * struct pt_format describes that, and level geometry is data. Tables come from the frame pool (mm/pmm)
 * and are reached through phys_to_virt(), so this file also runs in host unit tests.
 */
#ifndef HV_MM_PAGETABLE_H
#define HV_MM_PAGETABLE_H

#include "lib/types.h"

/*
 * Page-table levels, one numbering for every format and paging mode (KVM's enum pg_level): an entry's level
 * is that of the table holding it, 1 for a table of 4 KiB leaves up to 5 for a PML5 table; a leaf at level L
 * maps 4 KiB << (9 * (L - 1)) (but a level-2 leaf of 32-bit paging maps 4 MiB). hapvisor's own tables and
 * the EPT have 4 levels (PT_ROOT_LEVEL); the guest page walker (vmx/gwalk.c) also sees 2, 3 and 5.
 */
enum pg_level {
	PG_LEVEL_NONE = 0,
	PG_LEVEL_4K = 1,   /* PTE */
	PG_LEVEL_2M = 2,   /* PDE */
	PG_LEVEL_1G = 3,   /* PDPTE */
	PG_LEVEL_512G = 4, /* PML4E */
	PG_LEVEL_256T = 5, /* PML5E */
	PG_LEVEL_NUM,	   /* size of an array indexed by level */
};
#define PT_ROOT_LEVEL PG_LEVEL_512G /* the root of the tables this walker builds: a PML4 */
#define PT_LEVELS 4		    /* entries read on a walk from that root to a 4 KiB leaf */
#define PT_ENTRIES 512
#define PT_ADDR_MASK 0x000FFFFFFFFFF000ull
#define PT_LARGE_PAGE BIT(7) /* PS in x86 PDE/PDPTE; bit 7 "page" in EPT PDE/PDPTE: the same bit */

#define PT_INDEX_BITS 9 /* 512 entries per table */

/* The size a leaf at level maps (4-level and EPT tables). */
static inline uint64_t pt_level_size(unsigned level)
{
	return 1ull << (PAGE_SHIFT + PT_INDEX_BITS * (level - 1));
}

/* The index of va in a table at level. */
static inline unsigned pt_index(uint64_t va, unsigned level)
{
	return (unsigned)((va >> (PAGE_SHIFT + PT_INDEX_BITS * (level - 1))) & (PT_ENTRIES - 1));
}

/* Call fn(ctx, va, entry pointer, level) for a leaf entry at level that maps va. */
typedef void pt_leaf_fn(void *ctx, uint64_t va, uint64_t *entry, unsigned level);

/* What pagetable.c counts for a format as it writes its tables (struct pt_format.stats). */
struct pt_stats {
	uint64_t tables; /* table pages pagetable.c allocated (a root the caller made is not one) */
	uint64_t leaves[PG_LEVEL_NUM]; /* present leaves now, per level */
};

struct pt_format {
	const char *name;
	uint64_t present_mask;	 /* an entry is present if any of these bits is set */
	uint64_t table_flags;	 /* flags of an entry that points to a next-level table */
	unsigned max_leaf_level; /* largest page this format may use here (PG_LEVEL_1G when supported) */
	struct pt_stats *stats;	 /* when not NULL: kept by every table allocation and leaf write */
	pt_leaf_fn
		*leaf_set; /* when not NULL: called after every leaf write, with leaf_ctx (a reverse map) */
	void *leaf_ctx;
};

/*
 * pt_set_leaf: the one writer of leaf entries (KVM's mmu_set_spte): store value in *entry, the entry at
 * `level` that maps va (its page base, or any address in it), then keep the format's bookkeeping: the leaf
 * counts of fmt->stats (a present leaf appearing or disappearing) and fmt->leaf_set (the EPT's reverse map;
 * the shadow MMU's, vmx/shadow.c, whose tables are shared between linear addresses: it passes as va the
 * guest-physical address the leaf maps, its reverse map's key). Every leaf pagetable.c makes goes through
 * it, and so must every change a caller makes to a leaf. Needs: *entry is a leaf or empty, never a pointer
 * to a table. The caller invalidates cached translations.
 */
void pt_set_leaf(const struct pt_format *fmt, uint64_t *entry, uint64_t va, unsigned level, uint64_t value);

/*
 * pt_map: map [va, va + size) to [pa, pa + size) with leaf flags `flags`, each piece with the largest
 * page that alignment, size and fmt->max_leaf_level allow.
 * Needs: va, pa, size 4 KiB aligned; the range not mapped yet. Allocates missing tables from the pool.
 * Returns false (having logged why) when the pool is exhausted or a piece is already mapped.
 */
bool pt_map(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, uint64_t pa, uint64_t size,
	    uint64_t flags);

/*
 * pt_lookup: translate va. Returns false if unmapped; else stores the leaf entry, and its level
 * (PG_LEVEL_4K, _2M or _1G) when those pointers are not NULL.
 */
bool pt_lookup(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, uint64_t *entry, unsigned *level);

/* Number of table pages (the root included) reachable from root_pa. */
uint64_t pt_count_tables(const struct pt_format *fmt, uint64_t root_pa);

/*
 * pt_find: the entry that decides va: the present leaf that maps it, or the first non-present entry on
 * the way down (its level tells how large an unmapped, aligned hole around va is). Never allocates.
 */
uint64_t *pt_find(const struct pt_format *fmt, uint64_t root_pa, uint64_t va, unsigned *level);

/*
 * pt_split: replace the large leaf *entry (at PG_LEVEL_2M or _1G, mapping va) by a table of 512 leaves one
 * level down that map the same memory with the same flags, each written by pt_set_leaf. Needs a frame from
 * the pool; returns false (logged) if none. The caller invalidates cached translations.
 */
bool pt_split(const struct pt_format *fmt, uint64_t *entry, uint64_t va, unsigned level);

/* One step of a walk: the table read (physical), the index used, the entry found, its level. */
struct pt_step {
	uint64_t table_pa;
	unsigned index, level;
	uint64_t entry;
};

/*
 * pt_walk_trace: walk va from the root, recording each entry read in steps[]; returns the number of
 * steps (1..PT_LEVELS). *pa gets the translation when the last step is a present leaf, else ~0.
 */
unsigned pt_walk_trace(const struct pt_format *fmt, uint64_t root_pa, uint64_t va,
		       struct pt_step steps[PT_LEVELS], uint64_t *pa);

/* Call fn(ctx, va, entry pointer, level) for every present leaf, in address order. Iterative. */
void pt_for_each_leaf(const struct pt_format *fmt, uint64_t root_pa, pt_leaf_fn *fn, void *ctx);

/* What pt_fill does with one empty entry. */
enum pt_fill_choice {
	PT_FILL_SKIP, /* leave it empty */
	PT_FILL_LEAF, /* make it a leaf with the flags the chooser gave */
	PT_FILL_DOWN, /* give it a new table and fill that one level down (at PG_LEVEL_4K: as SKIP) */
};

/*
 * Chooser of pt_fill for the empty entry that would map [va, va + pt_level_size(level)) 1:1: PT_FILL_LEAF
 * with the leaf's flags (without the address and PT_LARGE_PAGE) in *flags, or PT_FILL_DOWN, or PT_FILL_SKIP.
 * Called only for levels up to fmt->max_leaf_level; above, pt_fill always goes down.
 */
typedef enum pt_fill_choice pt_fill_fn(void *ctx, uint64_t va, unsigned level, uint64_t *flags);

/*
 * pt_fill: fill the empty entries of an identity (va == pa) mapping that intersect [start, end), in address
 * order: down from the root through the tables present, each empty entry as choose() says, large leaves
 * kept as they are. After each new leaf (pt_set_leaf), done(ctx, va, entry, level) when done is not NULL.
 * [va, va + 1) fills exactly the entry that decides va, at the largest level choose() accepts. Iterative; new
 * tables come from the pool. False (logged) when the pool is exhausted; what was filled before stays.
 */
bool pt_fill(const struct pt_format *fmt, uint64_t root_pa, uint64_t start, uint64_t end, pt_fill_fn *choose,
	     pt_leaf_fn *done, void *ctx);

#endif
