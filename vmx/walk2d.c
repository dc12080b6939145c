/* The 2D walk report (see walk2d.h): guest walk by vmx/gwalk, EPT walks by the caller's callback. */
#include "vmx/walk2d.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "vmx/ept.h"

#define WALK2D_EPT_INDEX_BITS 9 /* 512 entries per EPT paging structure (SDM Vol. 3C 29.3.2) */
#define WALK2D_EPT_ENTRY_SIZE 8
#define WALK2D_PF_NAMES_MAX 40

/* Translate gpa through the EPT; needed: the EPT rights the access requires (SDM Vol. 3C 29.3.3.2). */
static unsigned walk2d_xlat(const struct walk2d_ept *ept, uint64_t gpa, uint64_t needed,
			    struct walk2d_xlat *x)
{
	*x = (struct walk2d_xlat){.gpa = gpa, .hpa = WALK2D_NO_HPA};
	unsigned n = ept->walk(ept->ctx, gpa, x->steps, &x->hpa);
	x->nsteps = MIN(n, (unsigned)WALK2D_EPT_MAX_STEPS);
	if (x->hpa != WALK2D_NO_HPA && (x->nsteps > 0 || ept->none)) {
		x->rights = EPT_RWX;
		for (unsigned i = 0; i < x->nsteps; i++)
			x->rights &= x->steps[i].entry;
	}
	x->denied = x->hpa == WALK2D_NO_HPA || (x->rights & needed) != needed;
	return x->nsteps;
}

static uint64_t walk2d_ept_needed(unsigned access)
{
	if (access & GWALK_ACC_WRITE)
		return EPT_WRITE;
	return (access & GWALK_ACC_FETCH) ? EPT_EXEC : EPT_READ;
}

void walk2d_run(const struct gwalk_cpu *cpu, const struct gwalk_env *env, uint64_t gla, unsigned access,
		const struct walk2d_ept *ept, struct walk2d_report *r)
{
	*r = (struct walk2d_report){.cpu = *cpu, .no_ept = ept->none};
	gwalk_translate(cpu, env, gla, access, &r->guest);
	for (unsigned i = 0; i < r->guest.nrefs; i++) {
		if (r->guest.refs[i].flags & GWALK_REF_REGISTER) {
			r->table[i] = (struct walk2d_xlat){.gpa = r->guest.refs[i].gpa, .hpa = WALK2D_NO_HPA};
			continue;
		}
		r->guest_refs++;
		r->ept_refs += walk2d_xlat(ept, r->guest.refs[i].gpa, EPT_READ, &r->table[i]);
	}
	if (r->guest.result == GWALK_OK) {
		r->has_final = true;
		r->ept_refs += walk2d_xlat(ept, r->guest.gpa, walk2d_ept_needed(access), &r->final);
	} else if (r->guest.result == GWALK_BAD_TABLE_GPA) {
		r->has_final = true;
		r->ept_refs += walk2d_xlat(ept, r->guest.bad_gpa, EPT_READ, &r->final);
	}
}

/* "write,user" (separator ',') or "write, user" (separator ", "). */
static const char *walk2d_access_name(const struct walk2d_report *r, bool spaced)
{
	static const char *const names[2][3][3] = {
		{{"read", "read,user", "read,implicit"},
		 {"write", "write,user", "write,implicit"},
		 {"fetch", "fetch,user", "fetch,implicit"}},
		{{"read, supervisor", "read, user", "read, implicit supervisor"},
		 {"write, supervisor", "write, user", "write, implicit supervisor"},
		 {"fetch, supervisor", "fetch, user", "fetch, implicit supervisor"}},
	};
	unsigned acc = r->guest.access;
	unsigned kind = (acc & GWALK_ACC_WRITE) ? 1 : (acc & GWALK_ACC_FETCH) ? 2 : 0;
	unsigned who = (acc & GWALK_ACC_IMPLICIT) ? 2 : ((acc & GWALK_ACC_USER) || r->cpu.cpl == 3) ? 1 : 0;
	return names[spaced][kind][who];
}

/* The structured-event key for the paging mode. */
static const char *walk2d_mode_key(enum gwalk_mode mode)
{
	static const char *const keys[] = {
		[GWALK_MODE_OFF] = "off",	[GWALK_MODE_32BIT] = "32bit",	[GWALK_MODE_PAE] = "pae",
		[GWALK_MODE_4LEVEL] = "4level", [GWALK_MODE_5LEVEL] = "5level",
	};
	return (unsigned)mode < ARRAY_SIZE(keys) && keys[mode] ? keys[mode] : "?";
}

/* The names of the error code's bits, "P W U" (SDM Vol. 3A 4.7); "not-present" when P is clear. */
static void walk2d_pf_names(uint32_t err, char *buf, size_t size)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} bits[] = {
		{(uint32_t)GWALK_PF_P, "P"},	{(uint32_t)GWALK_PF_WR, "W"},
		{(uint32_t)GWALK_PF_US, "U"},	{(uint32_t)GWALK_PF_RSVD, "RSVD"},
		{(uint32_t)GWALK_PF_ID, "I/D"}, {(uint32_t)GWALK_PF_PK, "PK"},
		{(uint32_t)GWALK_PF_SS, "SS"},
	};
	size_t len = 0;
	buf[0] = '\0';
	if (!(err & GWALK_PF_P))
		len += (size_t)fmt_snprintf(buf + len, size - len, "not-present");
	for (size_t i = 0; i < ARRAY_SIZE(bits) && len < size; i++)
		if (err & bits[i].bit)
			len += (size_t)fmt_snprintf(buf + len, size - len, "%s%s", len ? " " : "",
						    bits[i].name);
}

static void walk2d_print_xlat(const struct walk2d_report *r, const struct walk2d_xlat *x)
{
	if (r->no_ept) {
		if (x->hpa == WALK2D_NO_HPA)
			log_raw("    no EPT (shadow paging): hapvisor's memory, never mapped\n");
		else
			log_raw("    no EPT (shadow paging): hpa = gpa\n");
		return;
	}
	if (x->nsteps == 0)
		log_raw("    EPT: root unusable, no entry read\n");
	for (unsigned i = 0; i < x->nsteps; i++) {
		const struct walk2d_ept_step *s = &x->steps[i];
		unsigned shift = PAGE_SHIFT + WALK2D_EPT_INDEX_BITS * (s->level - 1);
		unsigned index = (unsigned)((x->gpa >> shift) & (BIT(WALK2D_EPT_INDEX_BITS) - 1));
		log_raw("    EPT %-5s hpa 0x%016llx[%3u] = 0x%016llx", gwalk_level_name(s->level),
			(unsigned long long)s->table_hpa, index, (unsigned long long)s->entry);
		if (i + 1 < x->nsteps)
			log_raw("\n");
	}
	if (x->hpa == WALK2D_NO_HPA) {
		log_raw("%s-> not mapped: EPT violation\n", x->nsteps ? "  " : "    ");
		return;
	}
	unsigned leaf = x->nsteps ? x->steps[x->nsteps - 1].level : PG_LEVEL_4K;
	const char *size = "";
	if (leaf == PG_LEVEL_1G)
		size = "1 GiB page, ";
	else if (leaf == PG_LEVEL_2M)
		size = "2 MiB page, ";
	log_raw("  -> hpa 0x%016llx (%s%c%c%c)%s\n", (unsigned long long)x->hpa, size,
		(x->rights & EPT_READ) ? 'r' : '-', (x->rights & EPT_WRITE) ? 'w' : '-',
		(x->rights & EPT_EXEC) ? 'x' : '-', x->denied ? ": EPT violation for this access" : "");
}

static void walk2d_print_refs(const struct walk2d_report *r)
{
	const struct gwalk_walk *g = &r->guest;
	for (unsigned i = 0; i < g->nrefs; i++) {
		const struct gwalk_ref *ref = &g->refs[i];
		uint64_t offset = ref->gpa & (PAGE_SIZE - 1);
		if (g->mode == GWALK_MODE_PAE && ref->level == PG_LEVEL_1G)
			offset = ref->gpa & (PAE_PDPTES * sizeof(uint64_t) - 1); /* 32-byte PDPT */
		log_raw("  guest %-5s gpa 0x%016llx+0x%03llx = 0x%016llx\n", gwalk_level_name(ref->level),
			(unsigned long long)(ref->gpa - offset), (unsigned long long)offset,
			(unsigned long long)ref->entry);
		if (ref->flags & GWALK_REF_REGISTER)
			log_raw("    (the CPU's PDPTE register, from the VMCS: no memory reference)\n");
		else
			walk2d_print_xlat(r, &r->table[i]);
	}
}

static void walk2d_print_result(const struct walk2d_report *r)
{
	const struct gwalk_walk *g = &r->guest;
	char names[WALK2D_PF_NAMES_MAX];

	switch (g->result) {
	case GWALK_OK:
		log_raw("  final gpa 0x%016llx (%llu KiB page)\n", (unsigned long long)g->gpa,
			(unsigned long long)(g->page_size >> 10));
		walk2d_print_xlat(r, &r->final);
		if (r->final.hpa == WALK2D_NO_HPA)
			log_raw("  result: gpa 0x%llx, %s\n", (unsigned long long)g->gpa,
				r->no_ept ? "hapvisor's memory: the shadow MMU never maps it"
					  : "not mapped by the EPT");
		else
			log_raw("  result: gpa 0x%llx, hpa 0x%llx%s\n", (unsigned long long)g->gpa,
				(unsigned long long)r->final.hpa, r->final.denied ? " (EPT violation)" : "");
		break;
	case GWALK_PAGE_FAULT:
		walk2d_pf_names(g->pf_error, names, sizeof(names));
		log_raw("  result: #PF error 0x%x (%s) at guest %s\n", g->pf_error, names,
			gwalk_level_name(g->fault_level));
		break;
	case GWALK_NONCANONICAL:
		log_raw("  result: #GP(0): the address is not canonical\n");
		break;
	case GWALK_BAD_TABLE_GPA:
		log_raw("  guest %-5s gpa 0x%016llx: not guest RAM\n", gwalk_level_name(g->fault_level),
			(unsigned long long)g->bad_gpa);
		walk2d_print_xlat(r, &r->final);
		log_raw("  result: the guest %s lies outside guest RAM\n", gwalk_level_name(g->fault_level));
		break;
	case GWALK_BAD_PDPTE:
		log_raw("  result: the PDPTE has reserved bits set: the CPU could not have loaded it\n");
		break;
	case GWALK_BAD_ACCESS:
		log_raw("  result: invalid access flags 0x%x\n", g->access);
		break;
	}
}

void walk2d_print(const struct walk2d_report *r)
{
	const struct gwalk_walk *g = &r->guest;
	log_raw("2D walk of guest-linear 0x%016llx (%s), ", (unsigned long long)g->gla,
		walk2d_access_name(r, true));
	if (g->mode == GWALK_MODE_OFF)
		log_raw("paging off:\n");
	else
		log_raw("%s paging, CR3 0x%llx:\n", gwalk_mode_name(g->mode), (unsigned long long)r->cpu.cr3);
	walk2d_print_refs(r);
	walk2d_print_result(r);
	log_raw("%u memory references (%u EPT + %u guest)\n", r->ept_refs + r->guest_refs, r->ept_refs,
		r->guest_refs);

	char gpa[24] = "none", hpa[24] = "none";
	if (g->result == GWALK_OK) {
		fmt_snprintf(gpa, sizeof(gpa), "0x%llx", (unsigned long long)g->gpa);
		if (r->final.hpa != WALK2D_NO_HPA)
			fmt_snprintf(hpa, sizeof(hpa), "0x%llx", (unsigned long long)r->final.hpa);
	}
	log_event(
		"walk2d gla=0x%llx gpa=%s hpa=%s fault=0x%llx guest_refs=%u ept_refs=%u result=%s mode=%s access=%s paging=%s",
		(unsigned long long)g->gla, gpa, hpa, (unsigned long long)walk2d_hc_fault(g), r->guest_refs,
		r->ept_refs, gwalk_result_name(g->result), walk2d_mode_key(g->mode),
		walk2d_access_name(r, false), r->no_ept ? "shadow" : "ept");
}

uint64_t walk2d_hc_fault(const struct gwalk_walk *w)
{
	switch (w->result) {
	case GWALK_OK:
		return 0;
	case GWALK_PAGE_FAULT:
		return WALK2D_HC_FAULT_PF | w->pf_error;
	case GWALK_NONCANONICAL:
		return WALK2D_HC_FAULT_NONCANONICAL;
	case GWALK_BAD_TABLE_GPA:
		return WALK2D_HC_FAULT_BAD_TABLE;
	case GWALK_BAD_PDPTE:
		return WALK2D_HC_FAULT_BAD_PDPTE;
	case GWALK_BAD_ACCESS:
		break;
	}
	return WALK2D_HC_FAULT_BAD_ACCESS;
}

void walk2d_fill_hc(const struct walk2d_report *r, struct hc_walk *hc)
{
	const struct gwalk_walk *g = &r->guest;
	*hc = (struct hc_walk){
		.gla = g->gla,
		.gpa = g->result == GWALK_OK ? g->gpa : 0,
		.hpa = g->result == GWALK_OK ? r->final.hpa : WALK2D_NO_HPA,
		.fault = walk2d_hc_fault(g),
		.levels = MIN(g->nrefs, (unsigned)HC_WALK_MAX_REFS),
	};
	for (unsigned i = 0; i < hc->levels; i++) {
		hc->ref_gpa[i] = g->refs[i].gpa;
		hc->ref_entry[i] = g->refs[i].entry;
	}
}

bool walk2d_access_from_hc(uint64_t hc_access, unsigned *access)
{
	_Static_assert(HC_ACCESS_READ == GWALK_ACC_READ && HC_ACCESS_WRITE == GWALK_ACC_WRITE &&
			       HC_ACCESS_FETCH == GWALK_ACC_FETCH && HC_ACCESS_USER == GWALK_ACC_USER,
		       "HC_ACCESS_* and GWALK_ACC_* share their encoding");
	const uint64_t known = HC_ACCESS_WRITE | HC_ACCESS_FETCH | HC_ACCESS_USER;
	if ((hc_access & ~known) || ((hc_access & HC_ACCESS_WRITE) && (hc_access & HC_ACCESS_FETCH)))
		return false;
	*access = (unsigned)hc_access;
	return true;
}
