/* hapvisor's own page tables and the move of its image into its own region (see paging.h). */
#include "arch/x86/paging.h"
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "lib/log.h"
#include "mm/pagetable.h"
#include "mm/phys.h"
#include "mm/pmm.h"

/* x86-64 paging-structure entry bits (SDM Vol. 3A 4.5, Tables 4-15 to 4-20). */
#define PTE_P BIT(0)
#define PTE_W BIT(1)
#define PTE_NX BIT(63)

struct paging_stats paging_stats;

void paging_copy_and_switch(void *dst, const void *src, uint64_t len, uint64_t cr3);

static uint64_t nx_bit(void)
{
	return (rdmsr(MSR_IA32_EFER) & EFER_NXE) ? PTE_NX : 0;
}

static bool map_image_part(const struct pt_format *fmt, uint64_t root, uint64_t image_phys, const char *start,
			   const char *end, uint64_t flags, uint64_t pages[PT_LEVELS])
{
	uint64_t off = (uint64_t)((uintptr_t)start - (uintptr_t)HV_VBASE);
	uint64_t len = (uint64_t)(end - start);
	return pt_map(fmt, root, (uint64_t)(uintptr_t)start, image_phys + off, len, flags, pages);
}

uint64_t paging_build(uint64_t image_phys, uint64_t phys_limit)
{
	bool gb_pages = cpu_has_gbpages();
	struct pt_format fmt = {
		.name = "hapvisor",
		.present_mask = PTE_P,
		.table_flags = PTE_P | PTE_W,
		.max_leaf_level = gb_pages ? PT_LEVEL_1G : PT_LEVEL_2M,
	};
	uint64_t nx = nx_bit();
	uint64_t pages[PT_LEVELS] = {0};
	uint64_t root = pmm_alloc_frame();
	if (!root)
		return 0;

	/* The image: the 4 KiB pages keep text, rodata and data apart (W^X). */
	struct pt_format image_fmt = fmt;
	image_fmt.max_leaf_level = PT_LEVEL_4K;
	if (!map_image_part(&image_fmt, root, image_phys, __text_start, __text_end, PTE_P, pages) ||
	    !map_image_part(&image_fmt, root, image_phys, __rodata_start, __rodata_end, PTE_P | nx, pages) ||
	    !map_image_part(&image_fmt, root, image_phys, __data_start, __image_end, PTE_P | PTE_W | nx,
			    pages))
		return 0;

	/* Physical memory 1:1 from 4 KiB up; pt_map picks 4K pages up to 2 MiB, then the largest. */
	if (!pt_map(&fmt, root, PAGE_SIZE, PAGE_SIZE, ALIGN_UP(phys_limit, MiB(2)) - PAGE_SIZE,
		    PTE_P | PTE_W | nx, pages))
		return 0;

	paging_stats.table_pages = pt_count_tables(&fmt, root);
	paging_stats.pages_4k = pages[PT_LEVEL_4K];
	paging_stats.pages_2m = pages[PT_LEVEL_2M];
	paging_stats.pages_1g = pages[PT_LEVEL_1G];
	return root;
}

void paging_relocate_image(uint64_t new_phys, uint64_t new_cr3)
{
	hv_image_phys = new_phys; /* set first, so the copy carries the new value */
	paging_copy_and_switch(phys_to_virt(new_phys), (const void *)HV_VBASE, hv_image_size(), new_cr3);
}

bool paging_set_exec(uint64_t pa, bool exec)
{
	struct pt_format fmt = {.name = "hapvisor", .present_mask = PTE_P};
	unsigned level;
	uint64_t *e = pt_find(&fmt, read_cr3() & PT_ADDR_MASK, pa, &level);
	if (!(*e & PTE_P) || level != PT_LEVEL_4K)
		return false;
	*e = exec ? (*e & ~PTE_NX) : (*e | nx_bit());
	invlpg(phys_to_virt(pa));
	return true;
}
