/*
 * The screen console's bitmap font: printable ASCII (0x20..0x7E), 8x16 pixels, one byte per row, the
 * leftmost pixel in bit 7. The table is generated at build time by scripts/psf2c.py from a Debian console
 * font (Makefile: FONT_PSF; docs/screen.md names the font and its licence).
 */
#ifndef HV_ARCH_X86_FONT_H
#define HV_ARCH_X86_FONT_H

#include "lib/types.h"

#define FONT_WIDTH 8
#define FONT_HEIGHT 16
#define FONT_FIRST 0x20 /* ' ' */
#define FONT_LAST 0x7E	/* '~' */
#define FONT_GLYPHS (FONT_LAST - FONT_FIRST + 1)

extern const uint8_t font_glyphs[FONT_GLYPHS][FONT_HEIGHT];
extern const char font_name[]; /* e.g. "Lat15-VGA16" */

#endif
