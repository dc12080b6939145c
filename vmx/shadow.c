/*
 * The shadow MMU's pages and what keeps them right (see shadow.h): the hash of shadow pages, the pte
 * lists (reverse map and parent links), write protection of the guest tables they shadow, zapping,
 * unprotecting, emulated writes, roots and reset. KVM's arch/x86/kvm/mmu/mmu.c, shadow part. The page
 * fault itself is vmx/shadow_fault.c.
 */
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/pmm.h"
#include "vmx/shadow_internal.h"

#define SHADOW_HASH_BITS 10
#define SHADOW_HASH (1u << SHADOW_HASH_BITS)
#define HASH_MULTIPLIER 0x9E3779B97F4A7C15ull /* Fibonacci hashing */
#define PAE_ROOT_ENTRIES 4
#define GPTE32_PT_HALF 512    /* a 32-bit page table's entries per shadow page (quadrant 0 or 1) */
#define GPTE32_PD_QUARTER 256 /* a 32-bit page directory's entries per shadow page (quadrant 0..3) */

struct shadow_mmu shadow;

/* ---- pte lists: the reverse map and the parent links (KVM's pte_list_add / pte_list_remove) ------------ */

/* A node, from the free list or a fresh chunk of the pool (at most chunks_max); 0 when none is left. */
static uint32_t node_alloc(void)
{
	uint32_t n = shadow.node_free;
	if (n) {
		shadow.node_free = node_at(n)->next;
		return n;
	}
	n = shadow.node_bump;
	uint32_t chunk = n / (uint32_t)NODES_PER_CHUNK;
	if (chunk >= shadow.chunks_max)
		return 0;
	if (chunk >= shadow.chunks_used) {
		uint64_t frame = pmm_alloc_frame();
		if (!frame)
			return 0;
		shadow.node_chunks[shadow.chunks_used++] = frame;
	}
	shadow.node_bump++;
	return n;
}

static void node_free(uint32_t n)
{
	node_at(n)->next = shadow.node_free;
	shadow.node_free = n;
}

static bool pte_list_add(uint32_t *head, uint64_t spte)
{
	uint32_t n = node_alloc();
	if (!n)
		return false;
	*node_at(n) = (struct pte_node){spte, *head, 0};
	*head = n;
	return true;
}

/* Remove spte from the list; it must be there (a hapvisor bug otherwise). */
static void pte_list_remove(uint32_t *head, uint64_t spte)
{
	for (uint32_t *link = head; *link; link = &node_at(*link)->next) {
		if (node_at(*link)->spte == spte) {
			uint32_t n = *link;
			*link = node_at(n)->next;
			node_free(n);
			return;
		}
	}
	panic("shadow MMU: entry %#llx missing from its list", (unsigned long long)spte);
}

static uint64_t *spte_at(uint64_t pa)
{
	return phys_to_virt(pa);
}

/* ---- the reverse map: every writable shadow leaf, by the guest frame it maps (KVM's rmap) -------------- */

/* The list head for a leaf at level mapping gpa, or NULL beyond the guest's RAM (never a table there). */
static uint32_t *rmap_head(unsigned level, uint64_t gpa)
{
	if (level > SHADOW_LEAF_LEVEL_MAX)
		return NULL;
	uint64_t i = gpa / pt_level_size(level);
	return i < shadow.rmap_len[level] ? &shadow.rmap[level][i] : NULL;
}

/* The frame a leaf at level maps (a large leaf's bit 12 is PAT, not address). */
static uint64_t leaf_frame(uint64_t e, unsigned level)
{
	return e & PT_ADDR_MASK & ~(pt_level_size(level) - 1);
}

/*
 * The shadow format's leaf hook (pt_format.leaf_set, KVM's rmap_add): pt_set_leaf, the one writer of
 * leaves, calls it after each shadow leaf it writes, with the guest-physical address the leaf maps (the key
 * of this reverse map: shadow tables are shared between linear addresses). A writable leaf joins the list
 * of its frame, on the node set_leaf reserved before the write; the old value left the list before it.
 */
static void rmap_add(void *ctx, uint64_t gpa, uint64_t *entry, unsigned level)
{
	(void)ctx;
	uint32_t *head = (*entry & SPTE_RW) ? rmap_head(level, gpa) : NULL;
	if (!head)
		return;
	uint32_t n = shadow.spare_node;
	if (!n)
		panic("shadow MMU: a writable leaf with no pte-list node reserved");
	shadow.spare_node = 0;
	*node_at(n) = (struct pte_node){virt_to_phys(entry), *head, 0};
	*head = n;
}

/* Take leaf e of page p, at pa, out of the reverse map (before it is rewritten). */
static void rmap_remove(const struct shadow_page *p, uint64_t pa, uint64_t e)
{
	uint32_t *head = (e & SPTE_RW) ? rmap_head(p->level, leaf_frame(e, p->level)) : NULL;
	if (head)
		pte_list_remove(head, pa);
}

/* Write leaf *e at level through pt_set_leaf (its old value already out of the reverse map). */
static void write_leaf(uint64_t *e, unsigned level, uint64_t value)
{
	uint64_t maps = leaf_frame((value & SPTE_P) ? value : *e, level);
	pt_set_leaf(&shadow.fmt, e, maps, level, value);
}

/* ---- guest frames with shadow pages: write-protected (KVM's account_shadowed) -------------------------- */

bool gfn_tracked(uint64_t gfn)
{
	return gfn < shadow.rmap_len[PG_LEVEL_4K] && shadow.tracked[gfn] != 0;
}

bool range_tracked(uint64_t base, unsigned level)
{
	uint64_t i = base / pt_level_size(level);
	switch (level) {
	case PG_LEVEL_4K:
		return gfn_tracked(i);
	case PG_LEVEL_2M:
		return i < shadow.rmap_len[PG_LEVEL_2M] && shadow.tracked_2m[i] != 0;
	default:
		return i < shadow.rmap_len[PG_LEVEL_1G] && shadow.tracked_1g[i] != 0;
	}
}

/*
 * No writable shadow leaf may map gfn any more: its 4 KiB leaves lose RW, the large leaves that cover it
 * go (they come back as 4 KiB leaves: range_tracked keeps large ones off the range). KVM's
 * kvm_mmu_slot_gfn_write_protect.
 */
static void write_protect(uint64_t gfn)
{
	for (unsigned level = PG_LEVEL_4K; level <= SHADOW_LEAF_LEVEL_MAX; level++) {
		uint32_t *head = rmap_head(level, gfn << PAGE_SHIFT);
		while (head && *head) {
			struct pte_node *n = node_at(*head);
			uint64_t *e = spte_at(n->spte);
			uint32_t next = n->next;
			node_free(*head);
			*head = next;
			write_leaf(e, level, level == PG_LEVEL_4K ? *e & ~SPTE_RW : 0);
			shadow.flush = true;
		}
	}
}

static void track(uint64_t gfn)
{
	if (gfn >= shadow.rmap_len[PG_LEVEL_4K])
		panic("shadow MMU: guest table frame %#llx beyond the guest's RAM", (unsigned long long)gfn);
	if (shadow.tracked[gfn]++ == 0) {
		shadow.tracked_2m[gfn >> PT_INDEX_BITS]++;
		shadow.tracked_1g[gfn >> (2 * PT_INDEX_BITS)]++;
		write_protect(gfn);
	}
}

static void untrack(uint64_t gfn)
{
	if (--shadow.tracked[gfn] == 0) {
		shadow.tracked_2m[gfn >> PT_INDEX_BITS]--;
		shadow.tracked_1g[gfn >> (2 * PT_INDEX_BITS)]--;
	}
}

/* ---- shadow pages: the hash (KVM's mmu_page_hash), allocation, links ----------------------------------- */

static uint32_t *bucket(uint64_t gfn)
{
	return &shadow.hash[(gfn * HASH_MULTIPLIER) >> (64 - SHADOW_HASH_BITS)];
}

/* A protected (hashed, synced or not) shadow page of guest table gfn with this key. */
uint32_t sp_find(uint64_t gfn, unsigned level, unsigned quadrant, unsigned access, uint8_t role)
{
	for (uint32_t i = *bucket(gfn); i; i = shadow.pages[i].hash_next) {
		const struct shadow_page *p = &shadow.pages[i];
		if (p->gfn == gfn && p->level == level && p->quadrant == quadrant && p->access == access &&
		    (p->role & SP_GPTE32) == (role & SP_GPTE32))
			return i;
	}
	return SP_NONE;
}

static uint32_t sp_alloc(uint64_t gfn, unsigned level, unsigned quadrant, unsigned access, uint8_t role)
{
	uint32_t i = shadow.free_list;
	if (!i)
		return SP_NONE;
	struct shadow_page *p = &shadow.pages[i];
	shadow.free_list = p->hash_next;
	*p = (struct shadow_page){.gfn = gfn,
				  .level = (uint8_t)level,
				  .role = role,
				  .access = (uint8_t)access,
				  .quadrant = (uint8_t)quadrant,
				  .used = true};
	memset(sp_table(i), 0, PAGE_SIZE);
	if (++shadow.stats.pages > shadow.stats.pages_peak)
		shadow.stats.pages_peak = shadow.stats.pages;
	if (!(role & (SP_DIRECT | SP_PAE_ROOT))) {
		p->hash_next = *bucket(gfn);
		*bucket(gfn) = i;
		track(gfn);
	}
	return i;
}

/* The shadow page of guest table gfn with this key (KVM's kvm_mmu_get_shadow_page), made if missing. */
uint32_t sp_get(uint64_t gfn, unsigned level, unsigned quadrant, unsigned access, uint8_t role)
{
	if (role & SP_DIRECT)
		return sp_alloc(gfn, level, quadrant, access, role);
	uint32_t i = sp_find(gfn, level, quadrant, access, role);
	return i ? i : sp_alloc(gfn, level, quadrant, access, role);
}

/* Make entry index of parent link to child (KVM's link_shadow_page). The entry must be empty. */
bool sp_link(uint32_t parent, unsigned index, uint32_t child)
{
	uint64_t pa = sp_pa(parent) + index * sizeof(uint64_t);
	if (!pte_list_add(&shadow.pages[child].parents, pa))
		return false;
	bool pae_root = shadow.pages[parent].role & SP_PAE_ROOT;
	*spte_at(pa) = sp_pa(child) | (pae_root ? SPTE_PAE_LINK : SPTE_LINK);
	return true;
}

/*
 * Clear entry index of sp: a writable leaf leaves the reverse map; a link leaves its child's parent list,
 * and a child nothing links to any more (and no root) goes on the zap stack. KVM's mmu_page_zap_pte.
 */
static void clear_entry(uint32_t sp, unsigned index)
{
	const struct shadow_page *p = &shadow.pages[sp];
	uint64_t pa = sp_pa(sp) + index * sizeof(uint64_t), *e = spte_at(pa), v = *e;
	if (!(v & SPTE_P))
		return;
	if (spte_is_leaf(p, v)) {
		rmap_remove(p, pa, v);
		write_leaf(e, p->level, 0);
	} else {
		uint32_t child = sp_of_table(v);
		struct shadow_page *c = &shadow.pages[child];
		pte_list_remove(&c->parents, pa);
		if (!c->parents && !(c->role & SP_ROOT))
			shadow.zap_stack[shadow.zap_top++] = child;
		*e = 0;
	}
	shadow.flush = true;
}

static void unhash(uint32_t sp)
{
	for (uint32_t *link = bucket(shadow.pages[sp].gfn); *link; link = &shadow.pages[*link].hash_next) {
		if (*link == sp) {
			*link = shadow.pages[sp].hash_next;
			return;
		}
	}
}

/* Drop shadow page sp: unlinked from its parents, its entries cleared, back on the free list. */
static void free_page(uint32_t sp)
{
	struct shadow_page *p = &shadow.pages[sp];
	while (p->parents) {
		struct pte_node *n = node_at(p->parents);
		*spte_at(n->spte) = 0;
		uint32_t next = n->next;
		node_free(p->parents);
		p->parents = next;
		shadow.flush = true;
	}
	unsigned entries = (p->role & SP_PAE_ROOT) ? PAE_ROOT_ENTRIES : PT_ENTRIES;
	for (unsigned i = 0; i < entries; i++)
		clear_entry(sp, i);
	if (!(p->role & (SP_DIRECT | SP_PAE_ROOT))) {
		unhash(sp);
		if (!(p->role & SP_UNSYNC))
			untrack(p->gfn);
	}
	for (unsigned r = 0; r < SHADOW_ROOTS; r++)
		if (shadow.roots[r].sp == sp)
			shadow.roots[r] = (struct shadow_root){.sp = SP_NONE};
	p->used = false;
	p->hash_next = shadow.free_list;
	shadow.free_list = sp;
	shadow.stats.pages--;
	shadow.stats.zapped_pages++;
}

/* Drop every page on the zap stack, and those that become orphans meanwhile (iteratively). */
static void drop_orphans(void)
{
	while (shadow.zap_top) {
		uint32_t sp = shadow.zap_stack[--shadow.zap_top];
		if (shadow.pages[sp].used && !shadow.pages[sp].parents)
			free_page(sp);
	}
}

void sp_drop_if_orphan(uint32_t sp)
{
	const struct shadow_page *p = &shadow.pages[sp];
	if (p->used && !p->parents && !(p->role & SP_ROOT)) {
		free_page(sp);
		drop_orphans();
	}
}

void sp_zap_entry(uint32_t sp, unsigned index)
{
	clear_entry(sp, index);
	drop_orphans();
}

/*
 * Set leaf entry index of sp to value (KVM's mmu_set_spte): a link there is zapped first; the old leaf
 * leaves the reverse map and pt_set_leaf (mm/pagetable.h), the one writer of leaves, writes the new one,
 * counts it and puts it in the reverse map when writable (rmap_add). Asks for a TLB flush when a mapping
 * the CPU may have cached changes. False, with nothing changed, when no pte-list node is left.
 */
bool sp_set_leaf(uint32_t sp, unsigned index, uint64_t value)
{
	const struct shadow_page *p = &shadow.pages[sp];
	uint64_t pa = sp_pa(sp) + index * sizeof(uint64_t), *e = spte_at(pa), old = *e;
	bool listed = (value & SPTE_RW) && rmap_head(p->level, leaf_frame(value, p->level));
	if (listed && !shadow.spare_node && !(shadow.spare_node = node_alloc()))
		return false;
	if ((old & SPTE_P) && !spte_is_leaf(p, old)) {
		sp_zap_entry(sp, index);
	} else if (old & SPTE_P) {
		rmap_remove(p, pa, old);
		shadow.flush |= old != value;
	}
	write_leaf(e, p->level, value);
	return true;
}

/* ---- roots --------------------------------------------------------------------------------------------- */

const struct shadow_root *current_root(void)
{
	return &shadow.roots[shadow.current];
}

enum gwalk_mode shadow_hw_mode(enum gwalk_mode guest)
{
	return guest == GWALK_MODE_4LEVEL || guest == GWALK_MODE_5LEVEL ? guest : GWALK_MODE_PAE;
}

/*
 * The active root, unprotected by shadow_unprotect, has met the guest table again: every entry whose
 * guest entry changed since (the snapshot) is cleared, then the table is protected again.
 */
void sync_current_root(void)
{
	uint32_t sp = current_root()->sp;
	if (!sp || !(shadow.pages[sp].role & SP_UNSYNC))
		return;
	struct shadow_page *p = &shadow.pages[sp];
	const uint64_t *now = phys_to_virt(p->gfn << PAGE_SHIFT), *then = phys_to_virt(shadow.snapshot);
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		if (now[i] != then[i])
			clear_entry(sp, i);
	drop_orphans();
	p->role &= (uint8_t)~SP_UNSYNC;
	track(p->gfn);
	shadow.stats.resyncs++;
}

/* The identity of an address space: paging mode, CR3 as that mode reads it, the PAE registers. */
static void root_key(const struct gwalk_cpu *cpu, const uint64_t *pdptes, struct shadow_root *k)
{
	*k = (struct shadow_root){.mode = gwalk_mode_of(cpu)};
	switch (k->mode) {
	case GWALK_MODE_OFF:
		break;
	case GWALK_MODE_32BIT:
		k->cr3 = cpu->cr3 & 0xFFFFF000ull;
		break;
	case GWALK_MODE_PAE:
		k->cr3 = cpu->cr3 & PAE_CR3_MASK;
		memcpy(k->pdptes, pdptes, sizeof(k->pdptes));
		break;
	default:
		k->cr3 = cpu->cr3 & PT_ADDR_MASK;
		break;
	}
}

static bool same_root(const struct shadow_root *a, const struct shadow_root *b)
{
	return a->sp && a->mode == b->mode && a->cr3 == b->cr3 &&
	       !memcmp(a->pdptes, b->pdptes, sizeof(a->pdptes));
}

/* A new, empty root for key k; SP_NONE when no page is left. */
static uint32_t make_root(const struct shadow_root *k)
{
	uint32_t sp;
	if (k->mode == GWALK_MODE_4LEVEL || k->mode == GWALK_MODE_5LEVEL) {
		unsigned level = k->mode == GWALK_MODE_5LEVEL ? PG_LEVEL_256T : PG_LEVEL_512G;
		/* A CR3 that is not guest RAM gets an empty, unprotected root: every walk from it fails. */
		uint8_t role = (uint8_t)(guest_mem_is_ram(k->cr3, PAGE_SIZE) ? 0 : SP_DIRECT);
		sp = sp_get(k->cr3 >> PAGE_SHIFT, level, 0, ACC_ALL, role);
	} else {
		sp = sp_alloc(k->cr3 >> PAGE_SHIFT, PAE_ROOT_LEVEL, 0, ACC_ALL, SP_PAE_ROOT);
	}
	if (sp)
		shadow.pages[sp].role |= SP_ROOT;
	return sp;
}

/* Install key k as the current root: a kept one, or a new one in a free or the least recently used slot. */
static bool switch_root(const struct shadow_root *k)
{
	unsigned slot = SHADOW_ROOTS;
	for (unsigned r = 0; r < SHADOW_ROOTS && slot == SHADOW_ROOTS; r++)
		if (same_root(&shadow.roots[r], k))
			slot = r;
	if (slot < SHADOW_ROOTS) {
		shadow.stats.root_hits++;
	} else {
		slot = 0;
		for (unsigned r = 1; r < SHADOW_ROOTS; r++)
			if (!shadow.roots[r].sp ||
			    (shadow.roots[slot].sp && shadow.roots[r].stamp < shadow.roots[slot].stamp))
				slot = r;
		if (shadow.roots[slot].sp) {
			free_page(shadow.roots[slot].sp);
			drop_orphans();
		}
		uint32_t sp = make_root(k);
		if (!sp)
			return false;
		shadow.roots[slot] = *k;
		shadow.roots[slot].sp = sp;
	}
	shadow.roots[slot].stamp = ++shadow.clock;
	shadow.current = slot;
	return true;
}

uint64_t shadow_load_root(const struct gwalk_cpu *cpu, const uint64_t pdptes[SHADOW_PAE_PDPTES])
{
	struct shadow_root k;
	sync_current_root();
	root_key(cpu, pdptes, &k);
	shadow.stats.root_loads++;
	if (!switch_root(&k)) {
		shadow_reset("no shadow page left for a new root");
		if (!switch_root(&k))
			panic("shadow MMU: no shadow page for a root after a reset");
	}
	return sp_pa(current_root()->sp);
}

uint64_t shadow_root_hpa(void)
{
	return sp_pa(current_root()->sp);
}

/* ---- unprotecting, emulated writes --------------------------------------------------------------------- */

static bool is_current_root(uint32_t sp)
{
	return current_root()->sp == sp;
}

/* Unprotect one shadow page: dropped, or, the active root, unsynced with a snapshot of its guest table. */
static void unprotect_page(uint32_t sp)
{
	struct shadow_page *p = &shadow.pages[sp];
	shadow.stats.unprotects++;
	if (!is_current_root(sp)) {
		free_page(sp);
		drop_orphans();
		return;
	}
	if (p->role & SP_UNSYNC)
		return;
	uint64_t table = p->gfn << PAGE_SHIFT;
	if (!guest_mem_is_ram(table, PAGE_SIZE))
		panic("shadow MMU: root table %#llx is not guest RAM", (unsigned long long)table);
	memcpy(phys_to_virt(shadow.snapshot), phys_to_virt(table), PAGE_SIZE);
	p->role |= SP_UNSYNC;
	untrack(p->gfn);
}

void shadow_unprotect(uint64_t gfn)
{
	sync_current_root();
	for (uint32_t i = *bucket(gfn); i;) {
		const struct shadow_page *p = &shadow.pages[i];
		uint32_t next = p->hash_next;
		if (p->gfn == gfn && !(p->role & SP_UNSYNC)) {
			unprotect_page(i);
			i = *bucket(gfn); /* the bucket changed */
			continue;
		}
		i = next;
	}
}

/* The shadow entries of sp that shadow guest entry e (4- or 8-byte entries by its role): first and count. */
static unsigned shadow_entries_of(const struct shadow_page *p, uint64_t e, unsigned *first)
{
	if (!(p->role & SP_GPTE32)) {
		*first = (unsigned)e;
		return 1;
	}
	if (p->level == PG_LEVEL_4K) { /* a half of a 32-bit page table */
		uint64_t base = (uint64_t)p->quadrant * GPTE32_PT_HALF;
		*first = (unsigned)(e - base);
		return e >= base && e < base + GPTE32_PT_HALF;
	}
	uint64_t base = (uint64_t)p->quadrant * GPTE32_PD_QUARTER; /* a quarter of a 32-bit page directory */
	*first = (unsigned)(2 * (e - base));
	return e >= base && e < base + GPTE32_PD_QUARTER ? 2 : 0;
}

/* Clear the entries of sp that shadow a guest entry overlapping [offset, offset + bytes) of its table. */
static void zap_written(uint32_t sp, unsigned offset, unsigned bytes)
{
	const struct shadow_page *p = &shadow.pages[sp];
	unsigned size = (p->role & SP_GPTE32) ? 4 : 8;
	for (uint64_t e = offset / size; e <= (offset + bytes - 1) / size; e++) {
		unsigned first, n = shadow_entries_of(p, e, &first);
		for (unsigned i = 0; i < n; i++)
			clear_entry(sp, first + i);
	}
}

/* A protected page of gfn written SHADOW_FLOOD_WRITES times with no fault through it: SP_NONE if none. */
static uint32_t flooded_page(uint64_t gfn)
{
	for (uint32_t i = *bucket(gfn); i; i = shadow.pages[i].hash_next) {
		const struct shadow_page *p = &shadow.pages[i];
		if (p->gfn == gfn && !(p->role & SP_UNSYNC) && p->flood >= SHADOW_FLOOD_WRITES &&
		    !is_current_root(i))
			return i;
	}
	return SP_NONE;
}

void shadow_write_guest(uint64_t gpa, const void *data, unsigned bytes)
{
	memcpy(phys_to_virt(gpa), data, bytes);
	shadow.stats.emulated_writes++;
	uint64_t gfn = gpa >> PAGE_SHIFT;
	unsigned offset = (unsigned)(gpa & (PAGE_SIZE - 1));
	for (uint32_t i = *bucket(gfn); i; i = shadow.pages[i].hash_next) {
		struct shadow_page *p = &shadow.pages[i];
		if (p->gfn == gfn && !(p->role & SP_UNSYNC)) {
			p->flood++;
			zap_written(i, offset, bytes);
		}
	}
	drop_orphans();
	for (uint32_t i; (i = flooded_page(gfn));) { /* KVM's detect_write_flooding */
		shadow.stats.floods++;
		unprotect_page(i);
	}
}

void shadow_invlpg(uint64_t gla)
{
	(void)gla;
	sync_current_root();
	shadow.stats.invlpgs++;
}

bool shadow_take_flush(void)
{
	bool f = shadow.flush;
	shadow.flush = false;
	return f;
}

/* ---- set-up, reset, statistics ------------------------------------------------------------------------- */

/* Zeroed contiguous frames for bytes; NULL (with *pa 0) when the pool cannot give them. */
static void *alloc_bytes(uint64_t bytes, uint64_t *pa)
{
	uint64_t frames = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
	*pa = pmm_alloc_contig(frames ? frames : 1, PAGE_SIZE);
	return *pa ? phys_to_virt(*pa) : NULL;
}

/* Every page free, every list and count empty; the reserved memory kept. */
static void wipe(void)
{
	for (uint32_t i = 1; i <= shadow.pages_max; i++) {
		shadow.pages[i] = (struct shadow_page){.hash_next = i < shadow.pages_max ? i + 1 : SP_NONE};
	}
	shadow.free_list = 1;
	memset(shadow.hash, 0, SHADOW_HASH * sizeof(uint32_t));
	for (unsigned l = PG_LEVEL_4K; l <= SHADOW_LEAF_LEVEL_MAX; l++)
		memset(shadow.rmap[l], 0, shadow.rmap_len[l] * sizeof(uint32_t));
	memset(shadow.tracked, 0, shadow.rmap_len[PG_LEVEL_4K]);
	memset(shadow.tracked_2m, 0, shadow.rmap_len[PG_LEVEL_2M] * sizeof(uint16_t));
	memset(shadow.tracked_1g, 0, shadow.rmap_len[PG_LEVEL_1G] * sizeof(uint32_t));
	shadow.node_bump = 1; /* node 0 is "none" */
	shadow.node_free = shadow.spare_node = 0;
	shadow.zap_top = 0;
	memset(shadow.roots, 0, sizeof(shadow.roots));
	shadow.current = 0;
	shadow.stats.pages = 0;
	memset(&shadow.pt_stats, 0, sizeof(shadow.pt_stats));
	shadow.flush = true;
}

bool shadow_init(const struct shadow_config *cfg)
{
	uint64_t pa[10];
	memset(&shadow, 0, sizeof(shadow));
	shadow.cfg = *cfg;
	shadow.pages_max = cfg->pages;
	shadow.chunks_max = cfg->pages;
	shadow.fmt = (struct pt_format){
		.name = "shadow",
		.present_mask = SPTE_P,
		.table_flags = SPTE_LINK,
		.max_leaf_level = SHADOW_LEAF_LEVEL_MAX,
		.stats = &shadow.pt_stats,
		.leaf_set = rmap_add,
	};
	uint64_t frames = ALIGN_UP(cfg->ram_top, PAGE_SIZE) >> PAGE_SHIFT;
	for (unsigned l = PG_LEVEL_4K; l <= SHADOW_LEAF_LEVEL_MAX; l++)
		shadow.rmap_len[l] = (frames >> (PT_INDEX_BITS * (l - 1))) + 1;
	shadow.pages = alloc_bytes((cfg->pages + 1ull) * sizeof(struct shadow_page), &pa[0]);
	shadow.spt_base = pmm_alloc_contig(cfg->pages, PAGE_SIZE);
	shadow.hash = alloc_bytes(SHADOW_HASH * sizeof(uint32_t), &pa[1]);
	for (unsigned l = PG_LEVEL_4K; l <= SHADOW_LEAF_LEVEL_MAX; l++)
		shadow.rmap[l] = alloc_bytes(shadow.rmap_len[l] * sizeof(uint32_t), &pa[1 + l]);
	shadow.tracked = alloc_bytes(shadow.rmap_len[PG_LEVEL_4K], &pa[5]);
	shadow.tracked_2m = alloc_bytes(shadow.rmap_len[PG_LEVEL_2M] * sizeof(uint16_t), &pa[6]);
	shadow.tracked_1g = alloc_bytes(shadow.rmap_len[PG_LEVEL_1G] * sizeof(uint32_t), &pa[7]);
	shadow.node_chunks = alloc_bytes(shadow.chunks_max * sizeof(uint64_t), &pa[8]);
	shadow.zap_stack = alloc_bytes((cfg->pages + 1ull) * sizeof(uint32_t), &pa[9]);
	shadow.snapshot = pmm_alloc_frame();
	bool ok = shadow.spt_base && shadow.snapshot;
	for (unsigned i = 0; i < ARRAY_SIZE(pa); i++)
		ok = ok && pa[i];
	if (!ok) {
		uint64_t rmap_kib = (frames * (sizeof(uint32_t) + 1)) >> 10;
		log_error(
			"paging=shadow: hapvisor's memory pool cannot hold %u shadow pages (%llu KiB) and the reverse map of %llu MiB of guest RAM (%llu KiB); boot with a larger hvmem=",
			cfg->pages, (unsigned long long)cfg->pages * 4,
			(unsigned long long)(cfg->ram_top >> 20), (unsigned long long)rmap_kib);
		return false;
	}
	shadow.stats.pages_max = cfg->pages;
	wipe();
	return true;
}

void shadow_reset(const char *why)
{
	struct shadow_root k = *current_root();
	wipe();
	shadow.stats.resets++;
	log_event("shadow_reset why=\"%s\" resets=%llu", why, (unsigned long long)shadow.stats.resets);
	if (k.sp && !switch_root(&k))
		panic("shadow MMU: no shadow page for a root after a reset");
}

void shadow_get_stats(struct shadow_stats *out)
{
	*out = shadow.stats;
	out->leaves_4k = shadow.pt_stats.leaves[PG_LEVEL_4K];
	out->leaves_2m = shadow.pt_stats.leaves[PG_LEVEL_2M];
	out->leaves_1g = shadow.pt_stats.leaves[PG_LEVEL_1G];
}

void shadow_count_emulation(bool emulated)
{
	if (emulated)
		shadow.stats.insn_emulation++;
	else
		shadow.stats.insn_emulation_fail++;
}

void shadow_log_stats(const char *when)
{
	struct shadow_stats stats, *s = &stats;
	shadow_get_stats(s);
	log_event(
		"shadow_stats when=%s pages=%llu pages_peak=%llu pages_max=%llu leaves_4k=%llu leaves_2m=%llu leaves_1g=%llu fills=%llu spurious=%llu guest_faults=%llu tracked_writes=%llu emulated_writes=%llu insn_emulation=%llu insn_emulation_fail=%llu unprotects=%llu floods=%llu resyncs=%llu root_loads=%llu root_hits=%llu invlpgs=%llu resets=%llu zapped_pages=%llu relinks=%llu",
		when, (unsigned long long)s->pages, (unsigned long long)s->pages_peak,
		(unsigned long long)s->pages_max, (unsigned long long)s->leaves_4k,
		(unsigned long long)s->leaves_2m, (unsigned long long)s->leaves_1g,
		(unsigned long long)s->fills, (unsigned long long)s->spurious,
		(unsigned long long)s->guest_faults, (unsigned long long)s->tracked_writes,
		(unsigned long long)s->emulated_writes, (unsigned long long)s->insn_emulation,
		(unsigned long long)s->insn_emulation_fail, (unsigned long long)s->unprotects,
		(unsigned long long)s->floods, (unsigned long long)s->resyncs,
		(unsigned long long)s->root_loads, (unsigned long long)s->root_hits,
		(unsigned long long)s->invlpgs, (unsigned long long)s->resets,
		(unsigned long long)s->zapped_pages, (unsigned long long)s->relinks);
}
