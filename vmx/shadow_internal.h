/*
 * Inside the shadow MMU: the shadow page, the structures that find them, and the operations vmx/shadow.c
 * (pages, reverse map, write protection, zapping, roots: KVM's mmu.c) offers vmx/shadow_fault.c (the page
 * fault: KVM's paging_tmpl.h). Not for use outside those two files.
 */
#ifndef HV_VMX_SHADOW_INTERNAL_H
#define HV_VMX_SHADOW_INTERNAL_H

#include "mm/pagetable.h" /* PG_LEVEL_*, pt_level_size, struct pt_format */
#include "mm/phys.h"
#include "vmx/shadow.h"

#define SP_NONE 0u			  /* index 0 is never a shadow page: "none" in lists and links */
#define SHADOW_LEAF_LEVEL_MAX PG_LEVEL_1G /* 1 GiB leaves at most (PDPTE) */
#define PAE_ROOT_LEVEL PG_LEVEL_1G	  /* a PAE root: 4 PDPTEs, the entries for bits 31:30 */

/* Shadow entries are x86 paging-structure entries (SDM Vol. 3A Tables 4-11, 4-14 to 4-20). */
#define SPTE_P PTE_P
#define SPTE_RW PTE_RW
#define SPTE_US PTE_US
#define SPTE_PWT PTE_PWT
#define SPTE_PCD PTE_PCD
#define SPTE_A PTE_A
#define SPTE_D PTE_D
#define SPTE_PS PTE_PS
#define SPTE_PAT_4K PTE_PS /* bit 7 is PAT in a 4 KiB leaf */
#define SPTE_G PTE_G
#define SPTE_PAT_LARGE PTE_PAT_LARGE
#define SPTE_XD PTE_XD
/* A link to a lower shadow table: every right, so that the leaf alone decides (KVM's link_shadow_page). */
#define SPTE_LINK (SPTE_P | SPTE_RW | SPTE_US | SPTE_A)
/* A link in a PAE root: a PDPTE has only P and the address (bits 2:1, 8:5 and 63 are reserved). */
#define SPTE_PAE_LINK SPTE_P

/* Roles (KVM's union kvm_mmu_page_role, the part hapvisor needs). */
#define SP_DIRECT 0x01u	  /* maps guest frames itself: no guest table behind it */
#define SP_GPTE32 0x02u	  /* shadows a 32-bit paging table (4-byte entries), one quadrant of it */
#define SP_PAE_ROOT 0x04u /* the 4 PDPTEs of a PAE root (not hashed: PAE PDPTEs are registers) */
#define SP_ROOT 0x08u	  /* a kept root: not dropped when nothing links to it */
#define SP_UNSYNC 0x10u	  /* the active root, unprotected: compared with snapshot at the next chance */

/* The rights the guest's entries above a table allow (GWALK_ACC_WRITE | _USER | _FETCH), part of its key. */
#define ACC_ALL (GWALK_ACC_WRITE | GWALK_ACC_USER | GWALK_ACC_FETCH)

struct shadow_page {
	uint64_t gfn;	    /* the guest table's frame; direct: the first guest frame it maps */
	uint32_t hash_next; /* the next page in its hash bucket, or on the free list */
	uint32_t parents;   /* pte list: the entries that link to this page */
	uint8_t level;	    /* PG_LEVEL_4K..PG_LEVEL_256T: an entry maps pt_level_size(level) */
	uint8_t role;	    /* SP_* */
	uint8_t access;	    /* rights of the guest entries above (ACC_ALL bits) */
	uint8_t quadrant;   /* SP_GPTE32: level 1 halves (0, 1), level 2 quarters (0..3) of the guest table */
	uint8_t flood;	    /* emulated writes since a fault last went through it */
	bool used;
};

/* The MMU's state (one instance: one vCPU). */
struct shadow_mmu {
	struct shadow_config cfg;
	struct shadow_page *pages; /* [pages_max + 1], index 0 unused */
	uint32_t pages_max, free_list;
	uint64_t spt_base;    /* the tables: page i's at spt_base + (i - 1) * PAGE_SIZE */
	uint32_t *hash;	      /* SHADOW_HASH buckets of page indexes */
	struct pt_format fmt; /* shadow entries for pt_set_leaf, the one writer of leaves (mm/pagetable.h) */
	struct pt_stats pt_stats;		   /* its leaf counts per level */
	uint32_t *rmap[SHADOW_LEAF_LEVEL_MAX + 1]; /* [level][gpa / pt_level_size(level)]: writable leaves */
	uint64_t rmap_len[SHADOW_LEAF_LEVEL_MAX + 1];
	uint32_t spare_node;   /* a pte-list node reserved for the leaf hook, which cannot fail */
	uint8_t *tracked;      /* per guest frame: protected shadow pages of it */
	uint16_t *tracked_2m;  /* per 2 MiB: frames with a protected shadow page */
	uint32_t *tracked_1g;  /* per 1 GiB */
	uint64_t *node_chunks; /* frames of pte-list nodes */
	uint32_t chunks_max, chunks_used, node_bump, node_free;
	uint32_t *zap_stack;
	uint32_t zap_top;
	uint64_t snapshot; /* a frame: the unsynced root's guest table as it was */
	struct shadow_root {
		enum gwalk_mode mode; /* GWALK_MODE_OFF for an unused slot with sp == SP_NONE */
		uint64_t cr3;
		uint64_t pdptes[SHADOW_PAE_PDPTES];
		uint32_t sp;
		uint64_t stamp;
	} roots[SHADOW_ROOTS];
	unsigned current; /* index into roots */
	uint64_t clock;
	bool flush;
	struct shadow_stats stats;
};

extern struct shadow_mmu shadow;

static inline uint64_t sp_pa(uint32_t sp)
{
	return shadow.spt_base + (uint64_t)(sp - 1) * PAGE_SIZE;
}

static inline uint64_t *sp_table(uint32_t sp)
{
	return phys_to_virt(sp_pa(sp));
}

/* The shadow page whose table is at pa. */
static inline uint32_t sp_of_table(uint64_t pa)
{
	return (uint32_t)(((pa & PT_ADDR_MASK) - shadow.spt_base) / PAGE_SIZE) + 1;
}

/* Whether entry e at level is a leaf (not a link to a lower table). */
static inline bool spte_is_leaf(const struct shadow_page *sp, uint64_t e)
{
	if (sp->role & SP_PAE_ROOT)
		return false;
	return sp->level == PG_LEVEL_4K || (e & SPTE_PS);
}

/* A pte-list node (lists of shadow entries: the reverse map, a page's parents); 0 is "none". */
struct pte_node {
	uint64_t spte; /* physical address of a shadow entry */
	uint32_t next; /* the next node, or 0 */
	uint32_t unused;
};
#define NODES_PER_CHUNK (PAGE_SIZE / sizeof(struct pte_node))

static inline struct pte_node *node_at(uint32_t n)
{
	struct pte_node *chunk = phys_to_virt(shadow.node_chunks[n / NODES_PER_CHUNK]);
	return &chunk[n % NODES_PER_CHUNK];
}

/* shadow.c: pages and links */
uint32_t sp_find(uint64_t gfn, unsigned level, unsigned quadrant, unsigned access, uint8_t role);
uint32_t sp_get(uint64_t gfn, unsigned level, unsigned quadrant, unsigned access, uint8_t role);
bool sp_link(uint32_t parent, unsigned index, uint32_t child);
void sp_zap_entry(uint32_t sp, unsigned index);
void sp_drop_if_orphan(uint32_t sp);
bool sp_set_leaf(uint32_t sp, unsigned index, uint64_t value);
bool gfn_tracked(uint64_t gfn);
bool range_tracked(uint64_t base, unsigned level);
void sync_current_root(void);
const struct shadow_root *current_root(void);

#endif
