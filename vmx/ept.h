/* Extended page tables for the passthrough guest (SDM Vol. 3C 29.3). */
#ifndef HV_VMX_EPT_H
#define HV_VMX_EPT_H

#include "lib/types.h"
#include "mm/memmap.h"

/* EPT entry bits (SDM Vol. 3C Tables 29-1 to 29-6). */
#define EPT_READ BIT(0)
#define EPT_WRITE BIT(1)
#define EPT_EXEC BIT(2)
#define EPT_RWX (EPT_READ | EPT_WRITE | EPT_EXEC)
#define EPT_MEMTYPE_SHIFT 3
#define EPT_MEMTYPE_UC 0ull
#define EPT_MEMTYPE_WB 6ull
#define EPT_IGNORE_PAT BIT(6)

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

/*
 * ept_build: the guest's EPT, 1:1 (guest-physical == host-physical) for [0, limit) except every
 * MEM_HAPVISOR range of guest_map, which is never mapped. RAM is write-back, everything else uncacheable;
 * each piece uses the largest page the CPU supports that fits (1G, 2M, 4K). Keeps guest_map for the
 * isolation checks. Returns false (logged) when hapvisor's pool is exhausted.
 */
bool ept_build(const struct memmap *guest_map, uint64_t limit);

/* The EPT pointer for the VMCS (write-back tables, 4-level walk). */
uint64_t ept_pointer(void);

/* Invalidate cached EPT translations with the narrowest INVEPT type the CPU has. */
void ept_invalidate(void);

/* True if [gpa, gpa + len) is wholly guest RAM: mapped, never hapvisor's, no wrap-around. */
bool ept_guest_ram(uint64_t gpa, uint64_t len);

#endif
