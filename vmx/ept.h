/*
 * The guest's extended page tables (SDM Vol. 3C 29.3), built the way KVM's tdp_page_fault does it:
 * the EPT starts empty (ept=lazy) and each EPT violation on an unmapped guest-physical address maps the
 * largest aligned range around it that is uniform: one memory type by the firmware's MTRRs (SDM Vol. 3A
 * 13.11) and no frame of hapvisor's. hapvisor's frames are never mapped, in any policy.
 *
 * Guest-physical == host-physical. A reverse map records, for every 2 MiB of RAM, which EPT entry maps
 * it, so ranges can be write-protected later (dirty tracking) without searching the tables.
 *
 * This file holds no VMX instructions: it builds for the host unit tests (tests/unit/test_ept.c).
 * The exits live in vmx/ept_exit.c, INVEPT (ept_sync_context) in vmx/vmx_ops.h.
 */
#ifndef HV_VMX_EPT_H
#define HV_VMX_EPT_H

#include "arch/x86/mtrr.h"
#include "guest/hypercall_abi.h"
#include "lib/types.h"
#include "mm/memmap.h"
#include "mm/pagetable.h"

/*
 * How EPT maps guest memory (option ept), with the option's name for each: on first touch with the largest
 * uniform page (and fault-around), all before launch, or on first touch with 4 KiB pages only.
 */
#define EPT_POLICIES(X)                                                                                      \
	X(EPT_LAZY, "lazy")                                                                                  \
	X(EPT_EAGER, "eager")                                                                                \
	X(EPT_4K, "4k")

enum ept_policy {
#define EPT_POLICY_ENUM(policy, name) policy,
	EPT_POLICIES(EPT_POLICY_ENUM)
#undef EPT_POLICY_ENUM
		EPT_POLICY_COUNT
};

/* The option's spelling of a policy ("lazy"); "?" for a value out of range. */
static inline const char *ept_policy_name(enum ept_policy policy)
{
	static const char *const names[] = {
#define EPT_POLICY_NAME(policy, name) [policy] = name,
		EPT_POLICIES(EPT_POLICY_NAME)
#undef EPT_POLICY_NAME
	};
	return (size_t)policy < ARRAY_SIZE(names) ? names[policy] : "?";
}

/* EPT entry bits (SDM Vol. 3C Tables 29-1 to 29-6). */
#define EPT_READ BIT(0)
#define EPT_WRITE BIT(1)
#define EPT_EXEC BIT(2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_MASK (7ull << EPT_MEMTYPE_SHIFT)
#define EPT_IGNORE_PAT BIT(6)
#define EPT_ACCESSED BIT(8)
#define EPT_DIRTY BIT(9) /* leaves only */

/* EPT-violation exit qualification (SDM Vol. 3C Table 28-7). */
#define EPT_VIOL_READ BIT(0)
#define EPT_VIOL_WRITE BIT(1)
#define EPT_VIOL_FETCH BIT(2)
#define EPT_VIOL_READABLE BIT(3)
#define EPT_VIOL_WRITABLE BIT(4)
#define EPT_VIOL_EXECUTABLE BIT(5)
#define EPT_VIOL_GLA_VALID BIT(7)
#define EPT_VIOL_TRANSLATION BIT(8) /* the access was to the final address, not a guest paging structure */
#define EPT_VIOL_NMI_UNBLOCKING BIT(12)
#define EPT_VIOL_ENTRY_PRESENT (EPT_VIOL_READABLE | EPT_VIOL_WRITABLE | EPT_VIOL_EXECUTABLE)

struct ept_config {
	const struct memmap *map;      /* the guest's map: MEM_HAPVISOR ranges are never mapped */
	const struct mtrr_state *mtrr; /* memory types */
	uint64_t limit;	    /* guest-physical addresses at or above are never mapped (MAXPHYADDR) */
	uint64_t ram_limit; /* eager maps [0, ram_limit); the reverse map covers it */
	enum ept_policy policy;
	unsigned max_level; /* largest page the CPU allows: PG_LEVEL_1G, _2M or _4K */
	bool ad;	    /* EPT accessed/dirty flags enabled in the EPTP */
};

/* Create the root (and for ept=eager map everything). Returns false (logged) if the pool runs out. */
bool ept_init(const struct ept_config *cfg);

/* The EPT pointer for the VMCS (write-back tables, 4-level walk, A/D when enabled). */
uint64_t ept_pointer(void);

enum ept_fill {
	EPT_FILL_MAPPED,    /* a new mapping now covers the address */
	EPT_FILL_PRESENT,   /* it was mapped already (a permission fault, not a fill) */
	EPT_FILL_HAPVISOR,  /* hapvisor's own memory: never mapped */
	EPT_FILL_OUT_RANGE, /* at or above cfg.limit */
	EPT_FILL_NO_MEMORY, /* hapvisor's pool is exhausted */
};

/*
 * ept_fill: map the largest aligned range around gpa that is uniform (one MTRR type, no hapvisor frame,
 * below the limit, not overlapping an existing table), 1:1 with full rights. *base / *level say what
 * was mapped. Needs no invalidation: not-present entries are never cached (SDM Vol. 3C 29.4.3.1).
 */
enum ept_fill ept_fill(uint64_t gpa, uint64_t *base, unsigned *level);

/*
 * ept_fill_around: the EPT-violation fill. ept_fill(gpa); under the lazy policy, when that mapped a page,
 * also fill the rest of the EPT table that holds the new leaf ("fault-around": the 512 sibling slots, each
 * with its largest uniform page, hapvisor's frames never mapped), so neighbouring first touches need no exit
 * of their own. Returns what ept_fill returned for gpa, with *base and *level of gpa's page.
 */
enum ept_fill ept_fill_around(uint64_t gpa, uint64_t *base, unsigned *level);

/*
 * ept_rmap_lookup: the EPT leaf entry that maps host frame hpa (the reverse map), and its level.
 * Returns NULL when hpa is not mapped or beyond ram_limit.
 */
uint64_t *ept_rmap_lookup(uint64_t hpa, unsigned *level);

/*
 * ept_protect: for [gpa, gpa + len) (4 KiB aligned, mapped or not): map what is unmapped, split large
 * pages that straddle the range, then clear `clear` and set `set` in every 4 KiB leaf of the range.
 * The caller invalidates (INVEPT). Returns false (logged) when the pool runs out or the range touches
 * hapvisor's memory.
 */
bool ept_protect(uint64_t gpa, uint64_t len, uint64_t clear, uint64_t set);

/* Whether the EPT maps gpa now with every right in `rights` (EPT_READ/WRITE/EXEC bits). */
bool ept_allows(uint64_t gpa, uint64_t rights);
/*
 * ept_lock / ept_unlock: every vCPU shares one EPT; fills, splits, protection changes, the reverse map and
 * ept_counters are changed only with this lock held (exits on any CPU, hypercalls). Nothing in the EPT code
 * takes it itself: the exit handlers and hypercalls do, around a whole operation.
 */
void ept_lock(void);
void ept_unlock(void);

/* EPT walk of gpa for reports: steps read and the host-physical result (~0 when unmapped). */
unsigned ept_walk(uint64_t gpa, struct pt_step steps[PT_LEVELS], uint64_t *hpa);

/* Statistics (the counters are bumped by vmx/ept_exit.c). */
struct ept_counters {
	uint64_t fill, protection, breach, misconfig;
};
extern struct ept_counters ept_counters;
void ept_stats(struct hc_ept_stats *out);
void ept_log_stats(const char *when);
const struct pt_format *ept_format(void);

#endif
