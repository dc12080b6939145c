/* The guest page walker (see gwalk.h): SDM Vol. 3A 4.3 to 4.7, one loop for every paging mode. */
#include "vmx/gwalk.h"

#define GWALK_LA32_MASK 0xFFFFFFFFull	     /* outside long mode linear addresses are 32 bits */
#define GWALK_32BIT_FRAME_MASK 0xFFFFF000ull /* 32-bit paging: bits 31:12 of a table or 4 KiB page */
#define GWALK_32BIT_4M_MASK 0xFFC00000ull    /* 32-bit paging: bits 31:22 of a 4 MiB page */
#define GWALK_32BIT_4M_RSVD_HI 21	     /* 4 MiB PDE: bits 21:(M-19) reserved (SDM Table 4-4) */
#define GWALK_MAXPHYADDR_MIN 32
#define GWALK_MAXPHYADDR_MAX 52
#define GWALK_4LEVEL_LA_BITS 48 /* canonical: bits 63:47 equal (SDM 4.5) */
#define GWALK_5LEVEL_LA_BITS 57 /* canonical: bits 63:56 equal (SDM 4.5) */

/* Reserved bits by position (SDM Tables 4-8 to 4-11, 4-15 to 4-20); the MAXPHYADDR part is computed. */
#define GWALK_PAE_RSVD_HI 62	   /* PAE PDE / PTE: bits 62:M reserved (63 is XD) */
#define GWALK_PAE_PDPTE_RSVD_HI 63 /* PAE PDPTE: bits 63:M reserved */
#define GWALK_LONG_RSVD_HI 51	   /* 4-/5-level: bits 51:M reserved (62:52 ignored or keys) */
#define GWALK_LARGE_RSVD_LO 13	   /* a large page's address bits below its size are reserved from 13 */

/* Level geometry as data: index width and position per level (index 0 unused). */
struct gwalk_geometry {
	unsigned top;	     /* level of the root table's entries */
	unsigned entry_size; /* bytes per entry */
	unsigned index_bits[GWALK_MAX_REFS + 1];
	unsigned shift[GWALK_MAX_REFS + 1];
};

static const struct gwalk_geometry gwalk_geometries[] = {
	[GWALK_MODE_32BIT] = {PG_LEVEL_2M, 4, {0, 10, 10}, {0, 12, 22}},
	[GWALK_MODE_PAE] = {PG_LEVEL_1G, 8, {0, 9, 9, 2}, {0, 12, 21, 30}},
	[GWALK_MODE_4LEVEL] = {PG_LEVEL_512G, 8, {0, 9, 9, 9, 9}, {0, 12, 21, 30, 39}},
	[GWALK_MODE_5LEVEL] = {PG_LEVEL_256T, 8, {0, 9, 9, 9, 9, 9}, {0, 12, 21, 30, 39, 48}},
};

/* One walk in progress. */
struct gwalk_state {
	const struct gwalk_cpu *cpu;
	const struct gwalk_env *env;
	const struct gwalk_geometry *geo;
	struct gwalk_walk *w;
	unsigned m;	 /* MAXPHYADDR */
	bool nx;	 /* execute-disable in force: PAE / 4-level / 5-level with EFER.NXE (SDM 4.6.2) */
	bool user;	 /* a user-mode access */
	bool rw, us, xd; /* combined R/W, U/S and XD of the entries so far (SDM 4.6) */
};

/* Bits hi..lo set (none when lo > hi). */
static uint64_t gwalk_bits(unsigned hi, unsigned lo)
{
	if (lo > hi)
		return 0;
	uint64_t upto_hi = hi >= 63 ? ~0ull : BIT(hi + 1) - 1;
	return upto_hi & ~(BIT(lo) - 1);
}

enum gwalk_mode gwalk_mode_of(const struct gwalk_cpu *cpu)
{
	if (!(cpu->cr0 & CR0_PG))
		return GWALK_MODE_OFF;
	if (!(cpu->cr4 & CR4_PAE))
		return GWALK_MODE_32BIT;
	if (!(cpu->efer & EFER_LMA))
		return GWALK_MODE_PAE;
	return (cpu->cr4 & CR4_LA57) ? GWALK_MODE_5LEVEL : GWALK_MODE_4LEVEL;
}

static bool gwalk_access_valid(unsigned access)
{
	if (access & ~GWALK_ACC_ALL)
		return false;
	if ((access & GWALK_ACC_WRITE) && (access & GWALK_ACC_FETCH))
		return false;
	return !((access & GWALK_ACC_IMPLICIT) && (access & (GWALK_ACC_FETCH | GWALK_ACC_USER)));
}

/* Canonical in long mode: the bits above the linear-address width copy its top bit (SDM 4.5). */
static bool gwalk_canonical(uint64_t la, enum gwalk_mode mode)
{
	unsigned width = mode == GWALK_MODE_5LEVEL ? GWALK_5LEVEL_LA_BITS : GWALK_4LEVEL_LA_BITS;
	uint64_t upper = la >> (width - 1);
	return upper == 0 || upper == (~0ull >> (width - 1));
}

/* The root table's guest-physical address from CR3 (SDM 4.3, 4.4.1, 4.5). */
static uint64_t gwalk_root(const struct gwalk_state *s)
{
	switch (s->w->mode) {
	case GWALK_MODE_32BIT:
		return s->cpu->cr3 & GWALK_32BIT_FRAME_MASK;
	case GWALK_MODE_PAE:
		return s->cpu->cr3 & PAE_CR3_MASK;
	default:
		return s->cpu->cr3 & gwalk_bits(s->m - 1, PAGE_SHIFT);
	}
}

/* Reserved bits of a present entry at level (SDM 4.3 Table 4-4, 4.4 Tables 4-8 to 4-11, 4.5 4-15 to 4-20). */
static uint64_t gwalk_rsvd_mask(const struct gwalk_state *s, unsigned level, uint64_t entry)
{
	bool ps = (entry & PTE_PS) != 0;
	uint64_t xd = s->nx ? 0 : PTE_XD;

	switch (s->w->mode) {
	case GWALK_MODE_32BIT: {
		if (level != PG_LEVEL_2M || !ps || !(s->cpu->cr4 & CR4_PSE))
			return 0; /* 4 KiB-table PDEs and PTEs have no reserved bits */
		unsigned m32 = MIN(s->m, GWALK_32BIT_MAXPHYADDR);
		return gwalk_bits(GWALK_32BIT_4M_RSVD_HI, m32 - 19);
	}
	case GWALK_MODE_PAE:
		if (level == PG_LEVEL_1G)
			return PAE_PDPTE_RSVD_LOW | gwalk_bits(GWALK_PAE_PDPTE_RSVD_HI, s->m);
		if (level == PG_LEVEL_2M && ps)
			xd |= gwalk_bits(s->geo->shift[level] - 1, GWALK_LARGE_RSVD_LO);
		return xd | gwalk_bits(GWALK_PAE_RSVD_HI, s->m);
	default: {
		uint64_t mask = xd | gwalk_bits(GWALK_LONG_RSVD_HI, s->m);
		if (level >= PG_LEVEL_512G)
			mask |= PTE_PS; /* PML4E, PML5E: PS must be 0 */
		else if (level == PG_LEVEL_1G && ps && !s->env->gbpages)
			mask |= PTE_PS; /* no 1 GiB pages on this CPU */
		else if (level != PG_LEVEL_4K && ps)
			mask |= gwalk_bits(s->geo->shift[level] - 1, GWALK_LARGE_RSVD_LO);
		return mask;
	}
	}
}

/* Does this present, reserved-bit-clean entry map a page (rather than point to a table)? */
static bool gwalk_is_leaf(const struct gwalk_state *s, unsigned level, uint64_t entry)
{
	if (level == PG_LEVEL_4K)
		return true;
	if (!(entry & PTE_PS))
		return false;
	if (s->w->mode == GWALK_MODE_32BIT)
		return (s->cpu->cr4 & CR4_PSE) != 0; /* PS is ignored without CR4.PSE (SDM 4.3) */
	/* PAE PDPTEs never get here; PS in a PML4E / PML5E, or without 1 GiB pages, is reserved. */
	return level == PG_LEVEL_2M || level == PG_LEVEL_1G;
}

/* The page a leaf maps, or the table a non-leaf entry points to. */
static uint64_t gwalk_frame(const struct gwalk_state *s, unsigned level, uint64_t entry, bool leaf)
{
	if (s->w->mode == GWALK_MODE_32BIT) {
		if (!leaf || level == PG_LEVEL_4K)
			return entry & GWALK_32BIT_FRAME_MASK;
		/* PSE-36: address bits (M-1):32 come from entry bits (M-20):13 (SDM 4.3, Table 4-4). */
		unsigned m32 = MIN(s->m, GWALK_32BIT_MAXPHYADDR);
		uint64_t high = (entry >> GWALK_PSE36_SHIFT) & (BIT(m32 - 32) - 1);
		return (entry & GWALK_32BIT_4M_MASK) | (high << 32);
	}
	uint64_t addr = entry & gwalk_bits(s->m - 1, PAGE_SHIFT);
	return leaf ? addr & ~(BIT(s->geo->shift[level]) - 1) : addr;
}

static bool gwalk_read_entry(const struct gwalk_state *s, uint64_t gpa, uint64_t *entry)
{
	if (s->geo->entry_size == sizeof(uint32_t)) {
		uint32_t v;
		if (!s->env->read_gpa(s->env->ctx, gpa, &v, sizeof(v)))
			return false;
		*entry = v;
		return true;
	}
	return s->env->read_gpa(s->env->ctx, gpa, entry, sizeof(*entry));
}

/* Access rights of the combined translation for this access (SDM 4.6.1). */
static bool gwalk_rights_ok(const struct gwalk_state *s)
{
	unsigned acc = s->w->access;
	bool write = (acc & GWALK_ACC_WRITE) != 0, fetch = (acc & GWALK_ACC_FETCH) != 0;
	bool exec = !(s->nx && s->xd);
	uint64_t cr4 = s->cpu->cr4;

	if (s->user) {
		if (!s->us)
			return false; /* user-mode access to a supervisor-mode address */
		if (write)
			return s->rw; /* CR0.WP does not matter for user-mode writes */
		return !fetch || exec;
	}
	if (fetch) {
		if (s->us && (cr4 & CR4_SMEP))
			return false;
		return exec;
	}
	if (s->us && (cr4 & CR4_SMAP)) {
		/* SMAP: explicit accesses at CPL < 3 with RFLAGS.AC = 1 are exempt; implicit ones never. */
		bool explicit_access = !(acc & GWALK_ACC_IMPLICIT);
		bool exempt = explicit_access && s->cpu->cpl < 3 && (s->cpu->rflags & RFLAGS_AC);
		if (!exempt)
			return false;
	}
	return !write || s->rw || !(s->cpu->cr0 & CR0_WP);
}

/* Stop the walk with a #PF: cause is 0 (not present), GWALK_PF_P, or GWALK_PF_P | GWALK_PF_RSVD (SDM 4.7). */
static enum gwalk_result gwalk_fault(const struct gwalk_state *s, unsigned level, uint32_t cause)
{
	unsigned acc = s->w->access;
	uint32_t err = cause;
	if (acc & GWALK_ACC_WRITE)
		err |= (uint32_t)GWALK_PF_WR;
	if (s->user)
		err |= (uint32_t)GWALK_PF_US;
	if ((acc & GWALK_ACC_FETCH) &&
	    ((s->cpu->cr4 & CR4_SMEP) || ((s->cpu->cr4 & CR4_PAE) && (s->cpu->efer & EFER_NXE))))
		err |= (uint32_t)GWALK_PF_ID;
	s->w->pf_error = err;
	s->w->fault_level = level;
	return s->w->result = GWALK_PAGE_FAULT;
}

/* Get the entry for level at table into the reference list; false (result set) if it is unreadable. */
static bool gwalk_fetch(struct gwalk_state *s, unsigned level, uint64_t table, uint64_t *entry)
{
	struct gwalk_walk *w = s->w;
	unsigned index = (unsigned)((w->gla >> s->geo->shift[level]) & (BIT(s->geo->index_bits[level]) - 1));
	uint64_t gpa = table + (uint64_t)index * s->geo->entry_size;
	unsigned flags = 0;

	if (w->mode == GWALK_MODE_PAE && level == PG_LEVEL_1G && s->env->pdptes) {
		*entry = s->env->pdptes[index];
		flags = GWALK_REF_REGISTER;
	} else if (!gwalk_read_entry(s, gpa, entry)) {
		w->bad_gpa = gpa;
		w->fault_level = level;
		w->result = GWALK_BAD_TABLE_GPA;
		return false;
	}
	w->refs[w->nrefs++] = (struct gwalk_ref){.gpa = gpa, .entry = *entry, .level = level, .flags = flags};
	return true;
}

/* The walk proper, from the root down (paging on, address checked). */
static enum gwalk_result gwalk_levels(struct gwalk_state *s)
{
	struct gwalk_walk *w = s->w;
	uint64_t table = gwalk_root(s);

	for (unsigned level = s->geo->top; level >= PG_LEVEL_4K; level--) {
		uint64_t entry;
		if (!gwalk_fetch(s, level, table, &entry))
			return w->result;
		if (!(entry & PTE_P))
			return gwalk_fault(s, level, 0);
		if (entry & gwalk_rsvd_mask(s, level, entry)) {
			if (w->mode != GWALK_MODE_PAE || level != PG_LEVEL_1G)
				return gwalk_fault(s, level, (uint32_t)(GWALK_PF_P | GWALK_PF_RSVD));
			w->fault_level = level;
			return w->result = GWALK_BAD_PDPTE;
		}
		if (w->mode == GWALK_MODE_PAE && level == PG_LEVEL_1G) {
			/* PAE PDPTEs carry no access rights (SDM 4.6). */
			table = gwalk_frame(s, level, entry, false);
			continue;
		}
		s->rw = s->rw && (entry & PTE_RW);
		s->us = s->us && (entry & PTE_US);
		s->xd = s->xd || (entry & PTE_XD);
		bool leaf = gwalk_is_leaf(s, level, entry);
		table = gwalk_frame(s, level, entry, leaf);
		if (!leaf)
			continue;
		if (!gwalk_rights_ok(s))
			return gwalk_fault(s, level, (uint32_t)GWALK_PF_P);
		w->page_size = BIT(s->geo->shift[level]);
		w->gpa = table | (w->gla & (w->page_size - 1));
		return w->result = GWALK_OK;
	}
	return w->result; /* not reached: level 1 entries are always leaves */
}

enum gwalk_result gwalk_translate(const struct gwalk_cpu *cpu, const struct gwalk_env *env, uint64_t gla,
				  unsigned access, struct gwalk_walk *w)
{
	*w = (struct gwalk_walk){.access = access, .mode = gwalk_mode_of(cpu), .result = GWALK_BAD_ACCESS};
	bool long_mode = w->mode == GWALK_MODE_4LEVEL || w->mode == GWALK_MODE_5LEVEL;
	w->gla = long_mode ? gla : gla & GWALK_LA32_MASK;
	if (!gwalk_access_valid(access))
		return w->result;
	if (w->mode == GWALK_MODE_OFF) {
		w->gpa = w->gla;
		w->page_size = PAGE_SIZE;
		return w->result = GWALK_OK;
	}
	if (long_mode && !gwalk_canonical(gla, w->mode))
		return w->result = GWALK_NONCANONICAL;

	bool implicit = (access & GWALK_ACC_IMPLICIT) != 0;
	struct gwalk_state s = {
		.cpu = cpu,
		.env = env,
		.geo = &gwalk_geometries[w->mode],
		.w = w,
		.m = MIN(MAX(env->maxphyaddr, GWALK_MAXPHYADDR_MIN), GWALK_MAXPHYADDR_MAX),
		.nx = w->mode != GWALK_MODE_32BIT && (cpu->efer & EFER_NXE),
		.user = !implicit && ((access & GWALK_ACC_USER) || cpu->cpl == 3),
		.rw = true,
		.us = true,
		.xd = false,
	};
	return gwalk_levels(&s);
}

const char *gwalk_mode_name(enum gwalk_mode mode)
{
	static const char *const names[] = {
		[GWALK_MODE_OFF] = "off",	 [GWALK_MODE_32BIT] = "32-bit",	  [GWALK_MODE_PAE] = "PAE",
		[GWALK_MODE_4LEVEL] = "4-level", [GWALK_MODE_5LEVEL] = "5-level",
	};
	return (unsigned)mode < ARRAY_SIZE(names) && names[mode] ? names[mode] : "?";
}

const char *gwalk_level_name(unsigned level)
{
	static const char *const names[] = {
		[PG_LEVEL_4K] = "PTE",	   [PG_LEVEL_2M] = "PDE",     [PG_LEVEL_1G] = "PDPTE",
		[PG_LEVEL_512G] = "PML4E", [PG_LEVEL_256T] = "PML5E",
	};
	return level < ARRAY_SIZE(names) && names[level] ? names[level] : "?";
}

const char *gwalk_result_name(enum gwalk_result result)
{
	static const char *const names[] = {
		[GWALK_OK] = "ok",
		[GWALK_PAGE_FAULT] = "page_fault",
		[GWALK_NONCANONICAL] = "noncanonical",
		[GWALK_BAD_TABLE_GPA] = "bad_table_gpa",
		[GWALK_BAD_PDPTE] = "bad_pdpte",
		[GWALK_BAD_ACCESS] = "bad_access",
	};
	return (unsigned)result < ARRAY_SIZE(names) && names[result] ? names[result] : "?";
}
