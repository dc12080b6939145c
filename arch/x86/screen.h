/*
 * The screen console (docs/screen.md): every byte hapvisor writes to COM1 also goes to the screen GRUB
 * described in the Multiboot2 framebuffer tag, either an RGB framebuffer (16, 24 or 32 bits per pixel,
 * drawn with the 8x16 font of arch/x86/font.h) or EGA text mode (character cells at 0xB8000).
 *
 * The text lives in a grid of character cells that is always kept; the screen shows the grid whenever
 * hapvisor owns it. The guest owns the screen while it runs (passthrough): screen_release() stops all
 * drawing before the first VM entry, screen_reclaim() repaints the grid after the guest has ended, so
 * what hapvisor logged meanwhile (a crash report, the exit lines) shows then.
 *
 * This file draws into memory only (no port I/O but the VGA cursor, no page tables), so it also runs in
 * the host unit tests; screen_setup.c attaches it from the Multiboot2 information and maps the screen.
 */
#ifndef HV_ARCH_X86_SCREEN_H
#define HV_ARCH_X86_SCREEN_H

#include "arch/x86/framebuffer.h"
#include "lib/types.h"

#define SCREEN_MAX_COLS 256 /* a wider screen is used up to this many columns */
#define SCREEN_MAX_ROWS 128
#define SCREEN_EARLY_BYTES 4096 /* output kept for the screen until it is attached */

enum screen_kind { SCREEN_NONE, SCREEN_FRAMEBUFFER, SCREEN_EGA_TEXT };

/* The colours: the VGA's light grey on black, in RGB (8 bits each) and as the EGA text attribute. */
#define SCREEN_FG_RGB 0xAAAAAAu
#define SCREEN_BG_RGB 0x000000u
#define SCREEN_EGA_ATTR 0x07u /* background 0 (black) in bits 6:4, foreground 7 (light grey) in 3:0 */

/*
 * screen_check: can hapvisor draw on this framebuffer? Returns its kind, or SCREEN_NONE with *why set to
 * a short reason (no spaces, for the event line). Accepts RGB direct colour with 16, 24 or 32 bits per
 * pixel (each colour field inside the pixel, pitch >= width * bytes per pixel, at least one 8x16 cell) and
 * EGA text (16 bits per cell). Pure: looks at *fb only.
 */
enum screen_kind screen_check(const struct framebuffer *fb, const char **why);

/* Bytes of the framebuffer: pitch * height (both kinds). */
uint64_t screen_bytes(const struct framebuffer *fb);

/*
 * screen_attach: start drawing on *fb (which screen_check accepted) reached at base. Clears the whole
 * screen, then shows what was written before (up to SCREEN_EARLY_BYTES; a line says when more was lost).
 */
void screen_attach(const struct framebuffer *fb, volatile void *base);

/* No usable screen: drop what was kept and never draw (the console stays serial-only). */
void screen_off(void);

/* The same screen, now reached at another virtual address (hapvisor's own mapping after the move). */
void screen_rebase(volatile void *base);

/* The attached screen's kind and its grid (columns, rows); SCREEN_NONE / 0 / 0 when not attached. */
enum screen_kind screen_kind(void);
unsigned screen_cols(void);
unsigned screen_rows(void);

/*
 * screen_write: the console's byte stream: printable ASCII is drawn, '\n' starts a new line, '\r' goes to
 * column 0, '\t' to the next multiple of 8, anything else shows as '?'. A full line wraps. At the bottom
 * the grid scrolls by screen_scroll_step() lines. Before screen_attach() the bytes are kept.
 */
void screen_write(const char *s, size_t len);

/* Lines the grid scrolls at a time: 1 in EGA text, a quarter of the rows on a framebuffer (each scroll
 * redraws the whole screen, so drawing fewer times keeps it cheap). */
unsigned screen_scroll_step(void);

/* The guest owns the screen: no more drawing (the grid still records) until screen_reclaim(). */
void screen_release(void);
/* hapvisor owns the screen again: clear it and draw the grid. Does nothing unless released. */
void screen_reclaim(void);

#endif
