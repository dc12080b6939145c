/* hapvisor's own page tables and the move of its image into its own region (see paging.h). */
#include "arch/x86/paging.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/layout.h"
#include "arch/x86/pgtable_types.h"
#include "lib/log.h"
#include "mm/pagetable.h"
#include "mm/phys.h"
#include "mm/pmm.h"

/* IA32_PAT: eight 8-bit entries, the memory type in bits 2:0 of each (SDM Vol. 3A 13.12.2). */
#define PAT_ENTRY_BITS 8
#define PAT_TYPE_MASK 0x7u
#define PAT_TYPE_UC 0x00u
#define PAT_TYPE_UC_MINUS 0x07u
#define PAT_LOW_ENTRIES 4 /* entries 0-3: chosen by PCD and PWT alone, the same in 4 KiB and large leaves */

struct pt_stats paging_stats;
uint64_t hv_image_phys = HV_LOAD_PHYS; /* where GRUB loaded the image, until paging_relocate_image() */

void paging_copy_and_switch(void *dst, const void *src, uint64_t len, uint64_t cr3);

static uint64_t nx_bit(void)
{
	return (rdmsr(MSR_IA32_EFER) & EFER_NXE) ? PTE_XD : 0;
}

static bool map_image_part(const struct pt_format *fmt, uint64_t root, uint64_t image_phys, const char *start,
			   const char *end, uint64_t flags)
{
	uint64_t off = (uint64_t)((uintptr_t)start - (uintptr_t)HV_VBASE);
	uint64_t len = (uint64_t)(end - start);
	return pt_map(fmt, root, (uint64_t)(uintptr_t)start, image_phys + off, len, flags);
}

/* pagetable.c marks large leaves with PT_LARGE_PAGE: in these tables that must be the PS bit. */
_Static_assert(PTE_PS == PT_LARGE_PAGE, "x86 PS is bit 7");

static struct pt_format own_format(void)
{
	struct pt_format fmt = {
		.name = "hapvisor",
		.present_mask = PTE_P,
		.table_flags = PTE_P | PTE_RW,
		.max_leaf_level = cpu_has_gbpages() ? PG_LEVEL_1G : PG_LEVEL_2M,
		.stats = &paging_stats,
	};
	return fmt;
}

/* The 1:1 map of physical memory: what pt_fill makes of [PAGE_SIZE, end). */
struct ram_fill {
	uint64_t end, flags;
};

/* pt_fill's chooser: the largest leaf that stays inside [PAGE_SIZE, end); page 0 stays unmapped. */
static enum pt_fill_choice choose_ram(void *ctx, uint64_t va, unsigned level, uint64_t *flags)
{
	const struct ram_fill *r = ctx;
	if (va + pt_level_size(level) <= PAGE_SIZE)
		return PT_FILL_SKIP; /* page 0: a NULL dereference faults */
	if (va < PAGE_SIZE || va + pt_level_size(level) > r->end)
		return PT_FILL_DOWN;
	*flags = r->flags;
	return PT_FILL_LEAF;
}

uint64_t paging_build(uint64_t image_phys, uint64_t phys_limit)
{
	struct pt_format fmt = own_format();
	uint64_t nx = nx_bit();
	uint64_t root = pmm_alloc_frame();
	if (!root)
		return 0;
	paging_stats = (struct pt_stats){0}; /* pagetable.c counts the tables it makes and every leaf */

	/* The image: the 4 KiB pages keep text, rodata and data apart (W^X). */
	struct pt_format image_fmt = fmt;
	image_fmt.max_leaf_level = PG_LEVEL_4K;
	if (!map_image_part(&image_fmt, root, image_phys, __text_start, __text_end, PTE_P) ||
	    !map_image_part(&image_fmt, root, image_phys, __rodata_start, __rodata_end, PTE_P | nx) ||
	    !map_image_part(&image_fmt, root, image_phys, __data_start, __image_end, PTE_P | PTE_RW | nx))
		return 0;

	/* Physical memory 1:1 from 4 KiB up: 4K pages up to 2 MiB, then the largest (one pass, pt_fill). */
	struct ram_fill ram = {ALIGN_UP(phys_limit, MiB(2)), PTE_P | PTE_RW | nx};
	if (!pt_fill(&fmt, root, PAGE_SIZE, ram.end, choose_ram, NULL, &ram))
		return 0;
	return root;
}

void paging_relocate_image(uint64_t new_phys, uint64_t new_cr3)
{
	hv_image_phys = new_phys; /* set first, so the copy carries the new value */
	paging_copy_and_switch(phys_to_virt(new_phys), (const void *)HV_VBASE, hv_image_size(), new_cr3);
}

/* The next free address of the device window (HV_DEVICE_VBASE .. HV_DEVICE_VLIMIT). */
static uint64_t device_next = HV_DEVICE_VBASE;

/*
 * The PCD/PWT bits that select an uncached type in the current IA32_PAT: UC- where an entry 0-3 holds it
 * (the power-on PAT has it in entry 2: PCD alone), else UC. UC- is uncached, except that a WC range of the
 * firmware's MTRRs (a framebuffer, often) stays WC: the effective type of PAT UC- with MTRR WC is WC, with
 * MTRR UC or WB it is UC (SDM Vol. 3A 13.5.2.2, table "Effective Page-Level Memory Types").
 */
static bool uncached_flags(uint64_t *flags, const char **type)
{
	uint64_t pat = rdmsr(MSR_IA32_PAT);
	static const struct {
		uint8_t type;
		const char *name;
	} wanted[] = {{PAT_TYPE_UC_MINUS, "UC-"}, {PAT_TYPE_UC, "UC"}};
	for (size_t w = 0; w < ARRAY_SIZE(wanted); w++) {
		for (unsigned i = 0; i < PAT_LOW_ENTRIES; i++) {
			if (((pat >> (i * PAT_ENTRY_BITS)) & PAT_TYPE_MASK) != wanted[w].type)
				continue;
			*flags = (i & 1 ? PTE_PWT : 0) | (i & 2 ? PTE_PCD : 0);
			*type = wanted[w].name;
			return true;
		}
	}
	return false;
}

void *paging_map_device(uint64_t root, uint64_t phys, uint64_t size, const char **type)
{
	struct pt_format fmt = own_format();
	uint64_t cache;
	if (!uncached_flags(&cache, type)) {
		log_warn("IA32_PAT has no uncached entry among 0-3; device at %#llx not mapped",
			 (unsigned long long)phys);
		return NULL;
	}
	uint64_t first = ALIGN_DOWN(phys, PAGE_SIZE);
	uint64_t len = ALIGN_UP(phys + size, PAGE_SIZE) - first;
	/* The same offset in a 2 MiB page as the physical range, so pt_map can use 2 MiB pages. */
	uint64_t va = ALIGN_UP(device_next, MiB(2)) + (first & (MiB(2) - 1));
	if (va + len > HV_DEVICE_VLIMIT || va + len < va) {
		log_warn("device at %#llx (%llu bytes) does not fit in the device window",
			 (unsigned long long)phys, (unsigned long long)size);
		return NULL;
	}
	if (!pt_map(&fmt, root, va, first, len, PTE_P | PTE_RW | nx_bit() | cache))
		return NULL;
	device_next = va + len;
	return (void *)(uintptr_t)(va + (phys - first));
}

bool paging_set_exec(uint64_t pa, bool exec)
{
	struct pt_format fmt = own_format();
	unsigned level;
	uint64_t *e = pt_find(&fmt, read_cr3() & PT_ADDR_MASK, pa, &level);
	if (!(*e & PTE_P) || level != PG_LEVEL_4K)
		return false;
	pt_set_leaf(&fmt, e, pa, PG_LEVEL_4K, exec ? (*e & ~PTE_XD) : (*e | nx_bit()));
	invlpg(phys_to_virt(pa));
	return true;
}
