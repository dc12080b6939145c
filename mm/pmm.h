/*
 * hapvisor's frame allocator: 4 KiB frames out of its own pool (the part of its region after the image,
 * option hvmem=), for its page tables, EPT, stacks and VMX structures. Guest memory never comes from here.
 *
 * One bit per frame, in a bitmap kept in the pool's first frames (reached through phys_to_virt(), so this
 * also runs in host unit tests on an arena); those frames are never handed out. Frames come back zeroed.
 * Physical address 0 is never a frame of the pool, so 0 means "none". Allocation and freeing take a spinlock:
 * any CPU may call them.
 */
#ifndef HV_MM_PMM_H
#define HV_MM_PMM_H

#include "lib/types.h"

/* In frames. total counts the frames that can be handed out (the bitmap's own frames excluded). */
struct pmm_stats {
	uint64_t total;
	uint64_t free;
	uint64_t peak_used; /* the most frames in use at once since pmm_init() */
};

/*
 * pmm_init: take [base, base + size) as the pool, all of it free except the bitmap.
 * Needs: base and size 4 KiB aligned, base != 0, the range mapped by phys_to_virt() and owned by nobody
 * else, room for the bitmap and at least one frame. Panics otherwise (a hapvisor bug: hvmem= has a minimum).
 */
void pmm_init(uint64_t base, uint64_t size);

/* A zeroed frame; 0 when the pool is exhausted (the caller decides how to fail). */
uint64_t pmm_alloc_frame(void);

/* A zeroed frame, or a panic telling the user to boot with a larger hvmem=; `what` names the use. */
uint64_t pmm_alloc_frame_or_panic(const char *what);

/*
 * pmm_alloc_contig: `frames` (> 0) zeroed, physically contiguous frames whose first address is a multiple
 * of `align` (a power of two; below 4 KiB means 4 KiB), the lowest such run (first fit). 0 if none.
 */
uint64_t pmm_alloc_contig(size_t frames, uint64_t align);

/* Return a frame. Panics on a double free or an address the pool did not hand out: a hypervisor bug. */
void pmm_free_frame(uint64_t pa);

/* Return `frames` frames from pa on (as pmm_free_frame does for each). */
void pmm_free_contig(uint64_t pa, size_t frames);

/* True when pa lies inside the pool (bitmap included). */
bool pmm_owns(uint64_t pa);

void pmm_get_stats(struct pmm_stats *out);

/* Print "hapvisor: event=pmm base=0x.. size=<bytes> frames_total=.. frames_free=.. frames_peak_used=..". */
void pmm_print(void);

#endif
