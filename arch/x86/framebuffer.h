/*
 * A linear framebuffer or EGA text screen as the firmware set it up and the boot loader describes it
 * (Multiboot2 1.0 3.6.12, the framebuffer tag; the type values are that tag's). hapvisor's screen console
 * draws on it (arch/x86/screen.c), and the guest loader hands it on to the guest (Multiboot, bzImage).
 */
#ifndef HV_ARCH_X86_FRAMEBUFFER_H
#define HV_ARCH_X86_FRAMEBUFFER_H

#include "lib/types.h"

/* framebuffer_type of the Multiboot2 framebuffer tag. */
#define FB_TYPE_INDEXED 0
#define FB_TYPE_RGB 1
#define FB_TYPE_EGA_TEXT 2

struct framebuffer {
	uint64_t addr; /* physical */
	uint32_t pitch, width, height;
	uint8_t bpp, type;
	/* RGB field layout (type FB_TYPE_RGB) */
	uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size;
};

#endif
