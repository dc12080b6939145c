/*
 * Attaching the screen console to the Multiboot2 framebuffer and mapping it (docs/screen.md). The calls,
 * in boot order (boot/main.c):
 *   screen_init(fb)     after the Multiboot2 information is parsed, with its framebuffer tag (NULL when
 *                       there is none): accept the framebuffer or print
 *                       "event=console kind=none"; a screen below 4 GiB is drawn on at once, through the
 *                       boot page tables, with everything printed so far; higher up it waits for the move
 *   screen_map(root)    after paging_build(): map the screen uncached in hapvisor's device window
 *   screen_moved()      after the move to those tables: draw through the window from now on
 * screen_release() / screen_reclaim() (screen.h) hand the screen to the guest and take it back.
 */
#ifndef HV_ARCH_X86_SCREEN_SETUP_H
#define HV_ARCH_X86_SCREEN_SETUP_H

#include "arch/x86/framebuffer.h"
#include "lib/types.h"

void screen_init(const struct framebuffer *fb);
void screen_map(uint64_t root);
void screen_moved(void);

#endif
