/*
 * The 2D walk report: a guest-linear address through the guest's page tables (vmx/gwalk) and, for each
 * guest paging-structure reference and for the final guest-physical address, through the EPT (SDM Vol. 3C
 * 29.3.2: with EPT every guest-physical address the walk uses is itself translated; a 4-level guest walk
 * under a 4-level EPT makes up to 24 memory references). Used by the HC_WALK hypercall and for debugging.
 * Pure C: the EPT side comes through a callback, so this file runs in host unit tests.
 */
#ifndef HV_VMX_WALK2D_H
#define HV_VMX_WALK2D_H

#include "guest/hypercall_abi.h"
#include "lib/types.h"
#include "vmx/gwalk.h"

#define WALK2D_EPT_MAX_STEPS 4 /* a 4-level EPT walk */
#define WALK2D_NO_HPA (~0ull)  /* ept_walk: the GPA is not mapped (also hc_walk.hpa, see walk2d_fill_hc) */

/* One EPT entry read while translating a guest-physical address. */
struct walk2d_ept_step {
	unsigned level;	    /* 4 = EPT PML4E .. 1 = EPT PTE: PG_LEVEL_* */
	uint64_t table_hpa; /* the EPT paging structure holding the entry (4 KiB aligned) */
	uint64_t entry;	    /* the entry's value */
};

/*
 * The EPT side, provided by vmx/ept.c. walk: translate gpa through the guest's EPT; fill steps[0..n), top
 * level first, with the entries read, and return n (0 if the EPT root itself is unusable); set *hpa to
 * the host-physical address when the last entry read maps gpa (any of R/W/X), else to WALK2D_NO_HPA.
 */
struct walk2d_ept {
	unsigned (*walk)(void *ctx, uint64_t gpa, struct walk2d_ept_step steps[WALK2D_EPT_MAX_STEPS],
			 uint64_t *hpa);
	void *ctx;
	bool none; /* no EPT (shadow paging): walk reads nothing, hpa = gpa where mapped, every right */
};

/* One guest-physical address through the EPT. */
struct walk2d_xlat {
	uint64_t gpa;
	unsigned nsteps; /* EPT entries read */
	struct walk2d_ept_step steps[WALK2D_EPT_MAX_STEPS];
	uint64_t hpa;	 /* WALK2D_NO_HPA: not mapped */
	uint64_t rights; /* EPT_READ | EPT_WRITE | EPT_EXEC allowed by every step (0 when not mapped) */
	bool denied;	 /* an EPT violation: not mapped, or the rights lack what the access needs */
};

struct walk2d_report {
	struct gwalk_cpu cpu;			  /* the state walked with */
	struct gwalk_walk guest;		  /* the guest walk */
	struct walk2d_xlat table[GWALK_MAX_REFS]; /* the EPT walk of each guest entry guest.refs[i] read from
						   * memory (nsteps 0 for a PAE PDPTE register) */
	bool no_ept;	/* the guest runs without EPT (shadow paging): the second dimension is the identity */
	bool has_final; /* final is valid: guest.gpa (GWALK_OK) or guest.bad_gpa (GWALK_BAD_TABLE_GPA) */
	struct walk2d_xlat final;
	unsigned guest_refs; /* memory references: guest entries read */
	unsigned ept_refs;   /* memory references: EPT entries read */
};

/*
 * walk2d_run: the guest walk of gla for access (GWALK_ACC_*) under cpu / env (see gwalk_translate), then
 * the EPT walk of every guest entry read and of the final address. Guest paging-structure reads need EPT
 * read rights (with EPT A/D flags on the CPU counts them as writes, SDM Vol. 3C 29.3.3.2: not modelled),
 * the final address read, write or execute rights by access. Needs: every pointer valid. Fills all of *r.
 */
void walk2d_run(const struct gwalk_cpu *cpu, const struct gwalk_env *env, uint64_t gla, unsigned access,
		const struct walk2d_ept *ept, struct walk2d_report *r);

/*
 * walk2d_print: the readable report (log_raw), then one structured line (log_event):
 *   event=walk2d gla=0x.. gpa=0x..|none hpa=0x..|none fault=0x.. guest_refs=N ept_refs=N result=<name>
 *   mode=<off|32bit|pae|4level|5level> access=<read|write|fetch>[,user|,implicit]
 * fault is hc_walk's encoding (walk2d_hc_fault).
 */
void walk2d_print(const struct walk2d_report *r);

/* hc_walk.fault values (hapvisor extension of guest/hypercall_abi.h's "(1 << 32) | #PF error code"). */
#define WALK2D_HC_FAULT_SHIFT 32
#define WALK2D_HC_FAULT_PF HC_WALK_FAULT_PF			   /* | the #PF error code */
#define WALK2D_HC_FAULT_NONCANONICAL HC_WALK_FAULT_NONCANONICAL	   /* #GP(0) */
#define WALK2D_HC_FAULT_BAD_TABLE HC_WALK_FAULT_BAD_TABLE	   /* a guest table is not guest RAM */
#define WALK2D_HC_FAULT_BAD_PDPTE HC_WALK_FAULT_BAD_PDPTE	   /* PAE PDPTE with reserved bits */
#define WALK2D_HC_FAULT_BAD_ACCESS (5ull << WALK2D_HC_FAULT_SHIFT) /* invalid access flags */

/* The hc_walk.fault value for a guest walk: 0 when it translated (EPT violations are not faults here). */
uint64_t walk2d_hc_fault(const struct gwalk_walk *w);

/*
 * walk2d_fill_hc: struct hc_walk from a report: gla; gpa (0 unless translated); hpa (WALK2D_NO_HPA unless
 * translated and mapped by the EPT); fault (walk2d_hc_fault); levels and ref_gpa / ref_entry: the guest
 * entries used, top level first (a PAE PDPTE register counts, at the GPA it was loaded from).
 */
void walk2d_fill_hc(const struct walk2d_report *r, struct hc_walk *hc);

/* HC_ACCESS_* (RCX of HC_WALK) to GWALK_ACC_*; false for unknown bits or write together with fetch. */
bool walk2d_access_from_hc(uint64_t hc_access, unsigned *access);

#endif
