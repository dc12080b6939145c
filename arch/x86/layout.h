/* Link-time layout of the hapvisor image (linker.ld) and the virtual <-> physical rules that follow. */
#ifndef HV_ARCH_X86_LAYOUT_H
#define HV_ARCH_X86_LAYOUT_H

#define HV_LOAD_PHYS 0x200000
#define HV_VBASE 0xFFFFFFFF80000000
/* Device memory hapvisor maps with its own memory type (arch/x86/paging.c: paging_map_device): the
 * first 256 GiB of the top PML4 slot, far below the image at HV_VBASE. */
#define HV_DEVICE_VBASE 0xFFFFFF8000000000
#define HV_DEVICE_VLIMIT 0xFFFFFFC000000000

#ifndef __ASSEMBLER__
#include "lib/types.h"

extern char __boot_start[], __boot_end[];
extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[], __bss_start[], __bss_end[], __image_end[];

/* Physical address the image currently runs from (GRUB's load address, then hapvisor's region). */
extern uint64_t hv_image_phys;

/* Bytes from the image start to its end (bss included), page aligned. */
static inline uint64_t hv_image_size(void)
{
	return (uint64_t)((uintptr_t)__image_end - (uintptr_t)HV_VBASE);
}

/* Physical address of a hapvisor image symbol (anything linked above HV_VBASE). */
static inline uint64_t hv_image_virt_to_phys(const void *p)
{
	return (uint64_t)((uintptr_t)p - (uintptr_t)HV_VBASE) + hv_image_phys;
}
#endif

#endif
