/*
 * The shadow MMU (option paging=shadow): what hapvisor runs a guest with when the CPU has no EPT, or when
 * asked to. hapvisor keeps page tables of its own that map guest-linear addresses straight to
 * host-physical ones (== guest-physical: a passthrough guest), built on demand from the guest's own
 * tables, and the CPU walks those. The design is KVM's shadow MMU (arch/x86/kvm/mmu/mmu.c and
 * paging_tmpl.h), cut down to one vCPU and a guest that owns all RAM but hapvisor's region:
 *
 * - A shadow page (KVM's struct kvm_mmu_page) is one 4 KiB table that shadows one guest page table, keyed
 *   by (guest frame, level, quadrant, rights of the entries above): found again in a hash, so one guest
 *   table has one shadow however many address spaces reach it, and a CR3 switch back to a known address
 *   space finds its whole tree (a few roots are kept, KVM's prev_roots). "Direct" pages map guest frames
 *   themselves: under a guest large page that cannot be one large shadow entry, and for a guest with
 *   paging off (an identity shadow: VMX without unrestricted guest needs paging on).
 * - Filled on demand (KVM's FNAME(page_fault) -> FNAME(walk_addr) -> FNAME(fetch)): every guest #PF exits;
 *   the guest walk (vmx/gwalk.c) either explains it (the #PF goes back to the guest) or names the frame,
 *   and the path down to it is built, the leaf with the guest's rights, memory type and page size where
 *   the range allows. The guest's accessed and dirty flags are set as the CPU would; a leaf is writable
 *   only once the guest's D flag is set.
 * - Every guest page table that has a shadow page is write-protected: its frames have no writable shadow
 *   leaf anywhere (a reverse map, KVM's rmap, finds them). A guest write to one exits; hapvisor emulates
 *   the instruction (vmx/emulate.c) and drops the shadow entries the write made stale (KVM's
 *   kvm_mmu_track_write). So the shadow never holds a translation the guest tables do not: MOV to CR3 and
 *   INVLPG need no shadow work, only the TLB flush they stand for. A write that cannot be emulated, or the
 *   third in a row to one table with no fault through it in between (KVM's write flooding), unprotects the
 *   table instead: its shadow pages are dropped (the active top-level table is kept, unsynced, and
 *   compared with a copy of itself when the guest next flushes: MOV to CR3 or INVLPG).
 * - No shadow entry ever maps a frame of hapvisor's region; a guest translation to one, or a guest page
 *   table inside it, is an isolation breach the caller reports.
 *
 * Pure C over the frame pool and phys_to_virt(): no VMX instruction, so it runs in host unit tests
 * (tests/unit/test_shadow.c). The exits, the VMCS and the TLB flushes are in vmx/shadow_exit.c.
 * One vCPU: the caller serialises every call.
 */
#ifndef HV_VMX_SHADOW_H
#define HV_VMX_SHADOW_H

#include "arch/x86/mtrr.h"
#include "lib/types.h"
#include "vmx/gwalk.h"

#define SHADOW_ROOTS 4	      /* address spaces kept (KVM: the current root and three previous ones) */
#define SHADOW_PAE_PDPTES 4   /* a PAE guest's page-directory-pointer-table registers */
#define SHADOW_FLOOD_WRITES 3 /* emulated writes to one table, no fault through it between: unprotect */

struct shadow_config {
	const struct mtrr_state
		*mtrr;	     /* a large shadow leaf only over one memory type (SDM Vol. 3A 13.11.9) */
	uint64_t ram_top;    /* guest page tables (guest RAM) all lie below: the reverse map's reach */
	unsigned pages;	     /* shadow pages to reserve (4 KiB tables) */
	unsigned maxphyaddr; /* the guest's, for its walks */
	bool gbpages;	     /* 1 GiB pages: in guest PDPTEs, and as shadow leaves */
	bool la57;	     /* the CPU can run 5-level paging (a guest's CR4.LA57) */
};

/*
 * shadow_init: reserve cfg->pages shadow pages and the reverse map from the pool, and start empty.
 * Needs guest_mem_init() done. False (logged, with the hvmem= to use) when the pool is too small.
 */
bool shadow_init(const struct shadow_config *cfg);

/*
 * shadow_load_root (KVM's kvm_mmu_new_pgd): make the address space of cpu (its paging mode and CR3; for
 * PAE paging the four PDPTEs the guest's CPU loaded, pdptes) the current one, found among the kept roots
 * or made empty. Returns the CR3 the CPU must use: a 4- or 5-level shadow for a guest in IA-32e mode, a
 * PAE one (below 4 GiB) for 32-bit, PAE and paging-off guests.
 */
uint64_t shadow_load_root(const struct gwalk_cpu *cpu, const uint64_t pdptes[SHADOW_PAE_PDPTES]);

/* The CR3 the CPU must use for the current root (it changes after shadow_reset). */
uint64_t shadow_root_hpa(void);

/* What one guest #PF exit turned out to be. */
enum shadow_fault_result {
	SHADOW_FIXED,	      /* the shadow maps the address for the access now: retry the instruction */
	SHADOW_SPURIOUS,      /* it already did: a stale TLB entry; flush the address and retry */
	SHADOW_GUEST_FAULT,   /* the guest's own tables refuse: deliver #PF with walk.pf_error */
	SHADOW_TRACKED_WRITE, /* a write the guest allows to one of its write-protected page tables at gpa:
			       * emulate it (shadow_write_guest), or shadow_unprotect and retry */
	SHADOW_BREACH,	      /* gpa is hapvisor's memory: the final address, or a guest paging structure */
	SHADOW_BAD_TABLE,     /* a guest paging structure at gpa is not RAM (a device, a hole) */
	SHADOW_NONCANONICAL,  /* cannot come from the CPU (a #GP, not a #PF): a hapvisor bug */
	SHADOW_NO_MEMORY,     /* the pool is exhausted even after dropping every shadow page */
};

struct shadow_fault {
	struct gwalk_walk walk; /* the guest walk of the address */
	uint64_t gpa;		/* TRACKED_WRITE, BREACH, BAD_TABLE: the address concerned */
	bool in_table;		/* BREACH, BAD_TABLE: gpa held a guest paging-structure entry */
};

/*
 * shadow_page_fault (KVM's FNAME(page_fault)): the CPU raised #PF at gla for access (GWALK_ACC_*) while
 * the guest was in state cpu (its own CR0, CR3, CR4, EFER, CPL, RFLAGS). Walks the guest tables, sets
 * their A/D flags, and builds the shadow path and leaf. Fills *f; see the results above.
 */
enum shadow_fault_result shadow_page_fault(const struct gwalk_cpu *cpu, uint64_t gla, unsigned access,
					   struct shadow_fault *f);

/*
 * shadow_write_guest (KVM's emulator write + kvm_mmu_track_write): store data[0..bytes) at gpa (guest
 * RAM, within one page), as an emulated guest instruction does, and drop every shadow entry that
 * shadows a guest entry the bytes overlap; a table written SHADOW_FLOOD_WRITES times with no fault
 * through it in between is unprotected instead. Needs guest_mem_is_ram(gpa, bytes).
 */
void shadow_write_guest(uint64_t gpa, const void *data, unsigned bytes);

/*
 * shadow_unprotect (KVM's kvm_mmu_unprotect_page): stop write-protecting guest frame gfn: its shadow pages
 * are dropped, except that the active 4/5-level root is kept, unsynced: the guest may change its table
 * at will until it flushes (SDM Vol. 3A 4.10.4: until then the CPU may use the old entries too); at the
 * next shadow_load_root or shadow_invlpg every entry that changed since (a copy taken now) is dropped
 * and the table is protected again.
 */
void shadow_unprotect(uint64_t gfn);

/* shadow_invlpg (KVM's FNAME(invlpg)): the guest flushed gla: bring an unsynced root up to date. */
void shadow_invlpg(uint64_t gla);

/* shadow_reset: drop every shadow page and root (a paging-mode change, or the pool exhausted); why: logged.
 */
void shadow_reset(const char *why);

/*
 * shadow_take_flush: true once after any shadow entry lost a right or a mapping since the last call: the
 * caller must flush the guest's cached translations (INVVPID) before the next VM entry.
 */
bool shadow_take_flush(void);

/* Statistics (event=shadow_stats, the exit summary). */
struct shadow_stats {
	uint64_t pages, pages_peak, pages_max;	      /* shadow pages in use, most at once, reserved */
	uint64_t leaves_4k, leaves_2m, leaves_1g;     /* shadow leaves present now */
	uint64_t fills, spurious, guest_faults;	      /* #PF exits: by outcome */
	uint64_t tracked_writes, emulated_writes;     /* #PF exits: writes to protected tables; stores made */
	uint64_t insn_emulation, insn_emulation_fail; /* their instructions emulated; refused */
	uint64_t unprotects, floods, resyncs;	      /* tables unprotected (floods among them); resyncs */
	uint64_t root_loads, root_hits, invlpgs, resets; /* CR3 loads (kept roots found), INVLPGs, resets */
	uint64_t zapped_pages, relinks;			 /* shadow pages dropped; links found stale */
};
void shadow_get_stats(struct shadow_stats *out);
/* The caller's instruction emulation for a tracked write (SHADOW_TRACKED_WRITE): done, or refused. */
void shadow_count_emulation(bool emulated);
void shadow_log_stats(const char *when);

/* The hardware paging mode a guest mode runs in under the shadow: PAE for off/32-bit/PAE, else itself. */
enum gwalk_mode shadow_hw_mode(enum gwalk_mode guest);

#endif
