/*
 * The shadow MMU's page fault (see shadow.h): the guest walk, the guest's accessed and dirty flags, and
 * the shadow path and leaf that make the access work. KVM's arch/x86/kvm/mmu/paging_tmpl.h:
 * FNAME(page_fault), FNAME(walk_addr) (here vmx/gwalk.c, which is read-only, plus the A/D update),
 * FNAME(fetch) and the leaf rights of make_spte.
 */
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "vmx/shadow_internal.h"

#define PAE_ROOT_INDEX(gla) (((gla) >> 30) & 3) /* a PAE root's entry: bits 31:30 */
#define GPTE32_PT_QUADRANT(gla) (((gla) >> 21) & 1)
#define GPTE32_PD_QUADRANT(gla) (((gla) >> 30) & 3)

/* What one fill needs to know, worked out once from the guest walk. */
struct fill {
	const struct gwalk_cpu *cpu;
	const struct gwalk_walk *w;
	uint64_t gla;
	unsigned access;			      /* GWALK_ACC_* of the faulting access */
	enum gwalk_mode mode;			      /* the guest's */
	const struct gwalk_ref *ref_at[PG_LEVEL_NUM]; /* the guest entry the walk read per level */
	unsigned acc_above[PG_LEVEL_NUM];	      /* rights of the guest entries above each level */
};

static bool read_guest_ram(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	(void)ctx;
	if (!guest_mem_is_ram(gpa, len))
		return false;
	memcpy(dst, phys_to_virt(gpa), len);
	return true;
}

/* The accesses (ACC_ALL bits) one guest entry allows (SDM Vol. 3A 4.6.1); a PAE PDPTE register: all. */
static unsigned entry_rights(const struct gwalk_ref *r, bool nx)
{
	if (r->flags & GWALK_REF_REGISTER)
		return ACC_ALL;
	unsigned a = 0;
	if (r->entry & PTE_RW)
		a |= GWALK_ACC_WRITE;
	if (r->entry & PTE_US)
		a |= GWALK_ACC_USER;
	if (!(nx && (r->entry & PTE_XD)))
		a |= GWALK_ACC_FETCH;
	return a;
}

static void fill_init(struct fill *x, const struct gwalk_cpu *cpu, const struct gwalk_walk *w, uint64_t gla,
		      unsigned access)
{
	*x = (struct fill){.cpu = cpu, .w = w, .gla = gla, .access = access, .mode = w->mode};
	bool nx = w->mode != GWALK_MODE_32BIT && (cpu->efer & EFER_NXE);
	for (unsigned l = 0; l < PG_LEVEL_NUM; l++)
		x->acc_above[l] = ACC_ALL;
	for (unsigned i = 0; i < w->nrefs; i++) {
		const struct gwalk_ref *r = &w->refs[i];
		x->ref_at[r->level] = r;
		for (unsigned l = 0; l < r->level; l++)
			x->acc_above[l] &= entry_rights(r, nx);
	}
}

/*
 * Set the guest's accessed flags in every entry the walk used, and the dirty flag of the leaf for a write,
 * as the CPU does (SDM Vol. 3A 4.8; KVM's FNAME(update_accessed_dirty_bits)). The entries were read from
 * guest RAM by the walk; PAE PDPTEs are registers and have none.
 */
static void set_accessed_dirty(const struct gwalk_walk *w, bool write)
{
	for (unsigned i = 0; i < w->nrefs; i++) {
		const struct gwalk_ref *r = &w->refs[i];
		bool leaf = i + 1 == w->nrefs;
		uint64_t bits = PTE_A | ((leaf && write) ? PTE_D : 0);
		if ((r->flags & GWALK_REF_REGISTER) || (r->entry & bits) == bits)
			continue;
		if (w->mode == GWALK_MODE_32BIT)
			__atomic_fetch_or((uint32_t *)phys_to_virt(r->gpa), (uint32_t)bits, __ATOMIC_SEQ_CST);
		else
			__atomic_fetch_or((uint64_t *)phys_to_virt(r->gpa), bits, __ATOMIC_SEQ_CST);
	}
}

/* The level of the guest page (a 4 MiB page of 32-bit paging is PG_LEVEL_2M); paging off: PG_LEVEL_2M, as
 * large as allowed. */
static unsigned guest_page_level(const struct fill *x)
{
	if (x->mode == GWALK_MODE_OFF)
		return PG_LEVEL_2M;
	return x->w->page_size >= GiB(1)   ? PG_LEVEL_1G
	       : x->w->page_size >= MiB(2) ? PG_LEVEL_2M
					   : PG_LEVEL_4K;
}

/*
 * The level of the shadow leaf: the guest page's, down to what the CPU and the range allow. A large leaf
 * must hold no frame of hapvisor's, no write-protected guest table, and one memory type (SDM Vol. 3A
 * 13.11.9: a large page over several MTRR types is undefined). PAE roots hold no leaves.
 */
static unsigned leaf_level(const struct fill *x)
{
	bool pae_hw = shadow_hw_mode(x->mode) == GWALK_MODE_PAE;
	unsigned max = (shadow.cfg.gbpages && !pae_hw) ? PG_LEVEL_1G : PG_LEVEL_2M;
	unsigned h = MIN(guest_page_level(x), max);
	for (; h > PG_LEVEL_4K; h--) {
		uint64_t size = pt_level_size(h), base = ALIGN_DOWN(x->w->gpa, size);
		uint8_t type;
		if (!guest_mem_overlaps_hapvisor(base, size) && !range_tracked(base, h) &&
		    mtrr_range_type(shadow.cfg.mtrr, base, size, &type))
			break;
	}
	return h;
}

/*
 * The shadow leaf at level h (KVM's make_spte): the guest's rights combined over every level, its memory
 * type bits and G; writable only once the guest's D flag is set (so the first write exits and sets it) and
 * never over a write-protected guest table. A supervisor write that only CR0.WP = 0 allows gets a writable
 * supervisor-only leaf (user accesses then fault and get the guest's rights back), not executable under
 * CR4.SMEP. *tracked: the leaf maps a write-protected guest table.
 */
static uint64_t leaf_value(const struct fill *x, unsigned h, bool *tracked)
{
	const struct gwalk_walk *w = x->w;
	bool off = x->mode == GWALK_MODE_OFF;
	uint64_t g = off ? 0 : w->refs[w->nrefs - 1].entry;
	unsigned rights = x->acc_above[0];
	bool write = x->access & GWALK_ACC_WRITE;
	bool user = !(x->access & GWALK_ACC_IMPLICIT) && ((x->access & GWALK_ACC_USER) || x->cpu->cpl == 3);
	bool can_write = rights & GWALK_ACC_WRITE, can_user = rights & GWALK_ACC_USER;
	bool can_exec = rights & GWALK_ACC_FETCH;
	if (write && !user && !can_write && !(x->cpu->cr0 & CR0_WP)) {
		can_write = true;
		if (can_user && (x->cpu->cr4 & CR4_SMEP))
			can_exec = false;
		can_user = false;
	}
	uint64_t frame = ALIGN_DOWN(w->gpa, pt_level_size(h));
	*tracked = h == PG_LEVEL_4K && gfn_tracked(frame >> PAGE_SHIFT);
	uint64_t v = frame | SPTE_P | SPTE_A | (g & (SPTE_PWT | SPTE_PCD | SPTE_G));
	if (can_write && (off || (g & PTE_D) || write) && !*tracked)
		v |= SPTE_RW | SPTE_D;
	if (can_user)
		v |= SPTE_US;
	if (!can_exec)
		v |= SPTE_XD;
	bool pat = w->page_size > PAGE_SIZE ? (g & PTE_PAT_LARGE) : (g & PTE_PS);
	if (h > PG_LEVEL_4K)
		v |= SPTE_PS | (pat ? SPTE_PAT_LARGE : 0);
	else if (pat)
		v |= SPTE_PAT_4K;
	return v;
}

/* What the table under an entry at level l + 1 must be: a guest table's shadow, or a direct page. */
struct child_key {
	uint64_t gfn;
	unsigned level, quadrant, access;
	uint8_t role;
};

static void child_for(const struct fill *x, unsigned l, struct child_key *k)
{
	const struct gwalk_ref *r = x->ref_at[l];
	*k = (struct child_key){.level = l, .access = ACC_ALL};
	if (x->mode == GWALK_MODE_OFF || !r || (r->flags & GWALK_REF_REGISTER)) {
		/* Below the guest's leaf (a large page split) or paging off: frames mapped directly. */
		k->role = SP_DIRECT;
		k->gfn = ALIGN_DOWN(x->w->gpa, pt_level_size(l + 1)) >> PAGE_SHIFT;
		return;
	}
	k->gfn = r->gpa >> PAGE_SHIFT; /* the guest table that holds the level-l entry */
	k->access = x->acc_above[l];
	if (x->mode == GWALK_MODE_32BIT) {
		k->role = SP_GPTE32;
		k->quadrant = (unsigned)(l == PG_LEVEL_2M ? GPTE32_PD_QUADRANT(x->gla)
							  : GPTE32_PT_QUADRANT(x->gla));
	}
}

static bool child_matches(uint32_t sp, const struct child_key *k)
{
	const struct shadow_page *p = &shadow.pages[sp];
	if ((p->role & SP_DIRECT) != (k->role & SP_DIRECT) || p->gfn != k->gfn || p->level != k->level)
		return false;
	return (k->role & SP_DIRECT) || (p->quadrant == k->quadrant && p->access == k->access &&
					 (p->role & SP_GPTE32) == (k->role & SP_GPTE32));
}

static unsigned entry_index(const struct shadow_page *p, uint64_t gla)
{
	if (p->role & SP_PAE_ROOT)
		return (unsigned)PAE_ROOT_INDEX(gla);
	return pt_index(gla, p->level);
}

/*
 * Build the shadow path for x down to its leaf (KVM's FNAME(fetch)): from the current root, each level's
 * entry links the shadow of the guest table one level down (made if missing; an entry found linking
 * another one, or a leaf where a table must be, is cleared first), until the leaf level. The leaf is
 * decided there, not before: building the path protects the guest tables on it, and one of them may lie
 * in the range the leaf would map (a table mapping itself), which then takes a smaller, read-only leaf.
 */
static enum shadow_fault_result fetch(const struct fill *x)
{
	unsigned h = leaf_level(x);
	uint32_t sp = current_root()->sp;
	bool linked = false; /* a link was missing on the way: the fault was not spurious */
	for (;;) {
		struct shadow_page *p = &shadow.pages[sp];
		unsigned idx = entry_index(p, x->gla),
			 level = (p->role & SP_PAE_ROOT) ? PAE_ROOT_LEVEL : p->level;
		uint64_t e = sp_table(sp)[idx];
		p->flood = 0; /* a fault went through it: not a table being rewritten wholesale */
		if (level == h && h > PG_LEVEL_4K &&
		    range_tracked(ALIGN_DOWN(x->w->gpa, pt_level_size(h)), h))
			h--;
		if (level == h) {
			bool tracked;
			uint64_t leaf = leaf_value(x, h, &tracked);
			bool tracked_write = tracked && (x->access & GWALK_ACC_WRITE);
			if (e == leaf && !linked) {
				if (tracked_write)
					return SHADOW_TRACKED_WRITE;
				shadow.stats.spurious++;
				return SHADOW_SPURIOUS;
			}
			if (e == leaf) {
				shadow.stats.fills++;
				return tracked_write ? SHADOW_TRACKED_WRITE : SHADOW_FIXED;
			}
			if (!sp_set_leaf(sp, idx, leaf))
				return SHADOW_NO_MEMORY;
			shadow.stats.fills++;
			return tracked_write ? SHADOW_TRACKED_WRITE : SHADOW_FIXED;
		}
		struct child_key k;
		child_for(x, level - 1, &k);
		if (e & SPTE_P) {
			if (!spte_is_leaf(p, e) && child_matches(sp_of_table(e), &k)) {
				sp = sp_of_table(e);
				continue;
			}
			if (!spte_is_leaf(p, e))
				shadow.stats.relinks++;
			sp_zap_entry(sp, idx);
		}
		uint32_t child = sp_get(k.gfn, k.level, k.quadrant, k.access, k.role);
		if (!child)
			return SHADOW_NO_MEMORY;
		if (!sp_link(sp, idx, child)) {
			sp_drop_if_orphan(child);
			return SHADOW_NO_MEMORY;
		}
		linked = true;
		sp = child;
	}
}

enum shadow_fault_result shadow_page_fault(const struct gwalk_cpu *cpu, uint64_t gla, unsigned access,
					   struct shadow_fault *f)
{
	/* No resync of an unsynced root here: its guest table may change until the guest flushes, and the
	 * write that unprotected it is still to come (fetch relinks any entry the walk finds changed). */
	const struct shadow_root *root = current_root();
	struct gwalk_env env = {
		.maxphyaddr = shadow.cfg.maxphyaddr,
		.gbpages = shadow.cfg.gbpages,
		.pdptes = root->mode == GWALK_MODE_PAE ? root->pdptes : NULL,
		.read_gpa = read_guest_ram,
	};
	*f = (struct shadow_fault){0};
	switch (gwalk_translate(cpu, &env, gla, access, &f->walk)) {
	case GWALK_OK:
		break;
	case GWALK_PAGE_FAULT:
		shadow.stats.guest_faults++;
		return SHADOW_GUEST_FAULT;
	case GWALK_BAD_TABLE_GPA:
		f->gpa = f->walk.bad_gpa;
		f->in_table = true;
		return guest_mem_is_hapvisor(f->gpa) ? SHADOW_BREACH : SHADOW_BAD_TABLE;
	case GWALK_BAD_PDPTE: /* the PDPTEs were checked when CR3 was loaded */
		f->in_table = true;
		return SHADOW_BAD_TABLE;
	default:
		return SHADOW_NONCANONICAL;
	}
	f->gpa = f->walk.gpa;
	if (guest_mem_is_hapvisor(f->gpa))
		return SHADOW_BREACH;
	set_accessed_dirty(&f->walk, access & GWALK_ACC_WRITE);
	struct fill x;
	fill_init(&x, cpu, &f->walk, gla, access);
	enum shadow_fault_result r = fetch(&x);
	if (r == SHADOW_NO_MEMORY) {
		shadow_reset("every shadow page reserved is in use");
		r = fetch(&x);
	}
	if (r == SHADOW_TRACKED_WRITE)
		shadow.stats.tracked_writes++;
	return r;
}
