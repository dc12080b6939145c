/* hapvisor's own page tables (SDM Vol. 3A 4.5): all physical memory 1:1, the image at HV_VBASE. */
#ifndef HV_ARCH_X86_PAGING_H
#define HV_ARCH_X86_PAGING_H

#include "lib/types.h"
#include "mm/pagetable.h"

/*
 * paging_build: build hapvisor's final page tables in the frame pool.
 * - physical [4 KiB, phys_limit) mapped 1:1, read/write, no-execute, with the largest pages the CPU has
 *   (1 GiB with CPUID pdpe1gb, else 2 MiB); page 0 stays unmapped so NULL dereferences fault;
 * - the image at HV_VBASE mapped to image_phys with 4 KiB pages: text R+X, rodata R, data/bss R+W.
 * Needs: pmm_init() done. Returns the root (CR3 value), or 0 if the pool ran out (already logged).
 */
uint64_t paging_build(uint64_t image_phys, uint64_t phys_limit);

/*
 * paging_relocate_image: copy the running image to new_phys (whose tables root is new_cr3, as built
 * by paging_build(new_phys, ...)) and switch to those tables, in one step with no memory writes in
 * between, so execution continues seamlessly in the copy. Updates hv_image_phys.
 * Needs: new_phys mapped 1:1 by the current tables; interrupts off.
 */
void paging_relocate_image(uint64_t new_phys, uint64_t new_cr3);

/*
 * paging_map_device: map the physical range [phys, phys + size) (device memory: a framebuffer) into the
 * device window of the tables at root (HV_DEVICE_VBASE, arch/x86/layout.h), read/write, no-execute,
 * uncached (*type gets "UC-" or "UC", see paging.c). The range keeps its 1:1 mapping too, which
 * is never used for it. Returns the virtual address of phys, or NULL (logged) when the pool or the window
 * is exhausted. Needs: root built by paging_build() and reachable (before or after the move).
 */
void *paging_map_device(uint64_t root, uint64_t phys, uint64_t size, const char **type);

/*
 * paging_set_exec: allow (exec) or forbid instruction fetches from the 1:1-mapped 4 KiB page at pa in the
 * current tables, and flush its translation on this CPU. The AP start page (arch/x86/smp.c) is the one
 * user: the APs run its code in IA-32e mode on these tables. Returns false when pa is not mapped by a
 * 4 KiB page (only the first 2 MiB is, see paging_build).
 */
bool paging_set_exec(uint64_t pa, bool exec);

/* hapvisor's tables: the tables pagetable.c made (the root is one more) and the leaves per level. */
extern struct pt_stats paging_stats;

#endif
