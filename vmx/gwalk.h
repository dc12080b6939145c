/*
 * The guest page walker: translate a guest-linear address to a guest-physical one the way the guest's
 * CPU would, in every paging mode (SDM Vol. 3A chapter 4), and say which #PF error code (SDM Vol. 3A 4.7)
 * the CPU would deliver when it would not. Like KVM's FNAME(walk_addr), but read-only: it never sets
 * accessed or dirty flags. Pure C over a reader callback, so it runs in host unit tests; the caller
 * supplies the guest's control registers (from the VMCS) and the reader (guest RAM only).
 */
#ifndef HV_VMX_GWALK_H
#define HV_VMX_GWALK_H

#include "arch/x86/cpu.h"	    /* CR0_*, CR4_*, EFER_*, RFLAGS_AC */
#include "arch/x86/pgtable_types.h" /* PTE_*, PAE_* */
#include "lib/types.h"
#include "mm/pagetable.h" /* PG_LEVEL_* */

/* PSE-36: a 32-bit-paging 4 MiB PDE holds physical-address bits (M-1):32 in bits (M-20):13 (SDM 4.3). */
#define GWALK_PSE36_SHIFT 13
#define GWALK_32BIT_MAXPHYADDR 40 /* 32-bit paging uses M = min(MAXPHYADDR, 40) (SDM 4.3) */

/* #PF error code (SDM Vol. 3A 4.7, Figure 4-12). */
#define GWALK_PF_P BIT(0)    /* 0: not-present page; 1: protection violation or reserved bit */
#define GWALK_PF_WR BIT(1)   /* the access was a write */
#define GWALK_PF_US BIT(2)   /* the access was a user-mode access */
#define GWALK_PF_RSVD BIT(3) /* a reserved bit was set in some paging-structure entry */
#define GWALK_PF_ID BIT(4)   /* instruction fetch, when CR4.SMEP = 1 or (CR4.PAE = 1 and EFER.NXE = 1) */
#define GWALK_PF_PK BIT(5)   /* protection keys: never produced (not modelled) */
#define GWALK_PF_SS BIT(6)   /* shadow stack: never produced (not modelled) */

/* The kind of access (combine). Values match HC_ACCESS_* in guest/hypercall_abi.h. */
#define GWALK_ACC_READ 0u
#define GWALK_ACC_WRITE (1u << 0)
#define GWALK_ACC_FETCH (1u << 1)
#define GWALK_ACC_USER (1u << 2)     /* a user-mode access (as at CPL 3) even when cpl < 3 */
#define GWALK_ACC_IMPLICIT (1u << 3) /* an implicit supervisor-mode access: GDT, IDT, LDT, TSS (SDM 4.6) */
#define GWALK_ACC_ALL (GWALK_ACC_WRITE | GWALK_ACC_FETCH | GWALK_ACC_USER | GWALK_ACC_IMPLICIT)

/* Entry levels are the page-table walker's PG_LEVEL_* (mm/pagetable.h), the same in every mode: a leaf at
 * level L maps 4 KiB << (9 * (L - 1)) (in 32-bit paging a level-2 leaf maps 4 MiB). */
#define GWALK_MAX_REFS 5

/* The guest state that decides the translation: VMCS guest CR0, CR3, CR4, IA32_EFER, RFLAGS and CPL. */
struct gwalk_cpu {
	uint64_t cr0, cr3, cr4;
	uint64_t efer; /* IA32_EFER: LMA (long mode) and NXE are used */
	unsigned cpl;  /* 0..3 (VMCS guest SS access rights DPL) */
	uint64_t rflags;
};

/*
 * What the guest's CPU supports and how to read guest memory.
 * read_gpa: copy len bytes at guest-physical gpa to dst; false when any of them is not guest RAM (never
 *   a device, never hapvisor's memory). Called with len 4 or 8 on a naturally aligned gpa.
 */
struct gwalk_env {
	unsigned maxphyaddr;	/* CPUID.80000008H:EAX[7:0]; clamped to 32..52 */
	bool gbpages;		/* CPUID.80000001H:EDX[26]; without 1 GiB pages PDPTE.PS is reserved */
	const uint64_t *pdptes; /* PAE paging: the 4 PDPTEs the CPU holds (VMCS GUEST_PDPTE0..3 under EPT),
				 * or NULL to read them at CR3 */
	bool (*read_gpa)(void *ctx, uint64_t gpa, void *dst, size_t len);
	void *ctx;
};

/* Paging modes (SDM Vol. 3A 4.1.1, Table 4-1). */
enum gwalk_mode {
	GWALK_MODE_OFF,	   /* CR0.PG = 0: linear = physical, 32 bits */
	GWALK_MODE_32BIT,  /* 4.3 */
	GWALK_MODE_PAE,	   /* 4.4 */
	GWALK_MODE_4LEVEL, /* 4.5 */
	GWALK_MODE_5LEVEL, /* 4.5, CR4.LA57 = 1 */
};

enum gwalk_result {
	GWALK_OK,	     /* gpa holds the translation */
	GWALK_PAGE_FAULT,    /* the CPU would deliver #PF with error code pf_error, at fault_level */
	GWALK_NONCANONICAL,  /* long mode, non-canonical: #GP(0) or #SS, not #PF (SDM Vol. 1 3.3.7.1) */
	GWALK_BAD_TABLE_GPA, /* a guest paging structure at bad_gpa is not guest RAM (entry at fault_level) */
	GWALK_BAD_PDPTE,     /* PAE: a present PDPTE with reserved bits; the CPU would not have loaded it
			      * (MOV to CR3 #GP, or VM entry fails; SDM 4.4.1). fault_level = PDPTE */
	GWALK_BAD_ACCESS,    /* unknown or contradictory access flags (write+fetch, implicit+fetch/user) */
};

/* One guest paging-structure entry the walk used. */
#define GWALK_REF_REGISTER (1u << 0) /* a PAE PDPTE from env->pdptes: no memory was read */
struct gwalk_ref {
	uint64_t gpa;	/* where the entry lies (for a register PDPTE: where it was loaded from) */
	uint64_t entry; /* its value (32-bit paging: zero-extended) */
	unsigned level; /* PG_LEVEL_* */
	unsigned flags; /* GWALK_REF_* */
};

struct gwalk_walk {
	uint64_t gla;	 /* the linear address translated: truncated to 32 bits outside long mode */
	unsigned access; /* GWALK_ACC_* as given */
	enum gwalk_mode mode;
	enum gwalk_result result;
	uint64_t gpa;	      /* GWALK_OK: the guest-physical address */
	uint64_t page_size;   /* GWALK_OK: size of the page (or, paging off, 4 KiB) */
	uint32_t pf_error;    /* GWALK_PAGE_FAULT: GWALK_PF_* */
	unsigned fault_level; /* PAGE_FAULT, BAD_TABLE_GPA, BAD_PDPTE: the entry's level, else 0 */
	uint64_t bad_gpa;     /* GWALK_BAD_TABLE_GPA: the entry that could not be read */
	unsigned nrefs;	      /* entries in refs, top level first */
	struct gwalk_ref refs[GWALK_MAX_REFS];
};

/* The paging mode cpu is in. */
enum gwalk_mode gwalk_mode_of(const struct gwalk_cpu *cpu);

/*
 * gwalk_translate: translate gla for an access of kind access (GWALK_ACC_*) by the guest in state cpu.
 * The access is user-mode when GWALK_ACC_USER is set or cpu->cpl == 3, unless GWALK_ACC_IMPLICIT (always
 * supervisor-mode; SDM 4.6). Checks, in the CPU's order: canonical address (long mode), then per level
 * the present bit, reserved bits (above MAXPHYADDR, XD without NXE, PS-dependent, PAE PDPTE), then the
 * combined access rights of all levels: U/S, R/W with CR0.WP, XD with NXE, SMEP, SMAP with RFLAGS.AC
 * (SDM 4.6.1). Protection keys, shadow stacks, HLAT and accessed/dirty updates are not modelled.
 * Needs: cpu, env (with read_gpa), w not NULL. Fills all of *w, returns w->result. Reads guest memory only
 * through env->read_gpa, at most GWALK_MAX_REFS times; never writes it.
 */
enum gwalk_result gwalk_translate(const struct gwalk_cpu *cpu, const struct gwalk_env *env, uint64_t gla,
				  unsigned access, struct gwalk_walk *w);

/* Names for reports: "off", "4-level"; "PDPTE"; "page_fault" ... ("?" for an unknown value). */
const char *gwalk_mode_name(enum gwalk_mode mode);
const char *gwalk_level_name(unsigned level);
const char *gwalk_result_name(enum gwalk_result result);

#endif
