/*
 * Guest-physical memory as hapvisor sees it, whatever translates it (EPT or shadow paging): the guest's
 * memory map, in which hapvisor's region is never the guest's (KVM's memslots: kvm_is_visible_gfn,
 * kvm_vcpu_read_guest). The guest is a passthrough guest, so guest-physical == host-physical and hapvisor
 * reads and writes guest RAM through phys_to_virt(), but only where these functions allow.
 * Pure C: runs in host unit tests.
 */
#ifndef HV_MM_GUEST_MEM_H
#define HV_MM_GUEST_MEM_H

#include "lib/types.h"
#include "mm/memmap.h"

/* Take map (the guest's, with MEM_HAPVISOR ranges) and the address limit (2^MAXPHYADDR). Kept by pointer. */
void guest_mem_init(const struct memmap *map, uint64_t limit);

/*
 * guest_mem_is_ram: true if [gpa, gpa + len) is wholly RAM the guest owns (available, ACPI, the boot data
 * hapvisor wrote): never hapvisor's memory, never a device or a hole, no wrap-around, below the limit.
 * What hapvisor may read as a guest page table or a hypercall buffer.
 */
bool guest_mem_is_ram(uint64_t gpa, uint64_t len);

/* Whether gpa lies in hapvisor's region. */
bool guest_mem_is_hapvisor(uint64_t gpa);

/* Whether [base, base + size) holds any frame of hapvisor's region. */
bool guest_mem_overlaps_hapvisor(uint64_t base, uint64_t size);

/* Guest-physical addresses at or above this are never mapped (2^MAXPHYADDR). */
uint64_t guest_mem_limit(void);

#endif
