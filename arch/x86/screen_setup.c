/*
 * Attaching the screen console (screen.h) to the screen GRUB describes, and reaching it through
 * hapvisor's own page tables after the move (docs/screen.md).
 */
#include "arch/x86/screen_setup.h"
#include "arch/x86/font.h"
#include "arch/x86/paging.h"
#include "arch/x86/screen.h"
#include "lib/log.h"
#include "mm/phys.h"

#define EARLY_IDENTITY_LIMIT GiB(4) /* boot/entry.asm maps the first 4 GiB 1:1 */

static struct framebuffer fb; /* the accepted framebuffer tag (a copy: GRUB's block becomes guest RAM) */
static bool usable;
static void *window; /* the screen in hapvisor's device window, once screen_map() mapped it */

static const char *kind_name(enum screen_kind kind)
{
	return kind == SCREEN_FRAMEBUFFER ? "framebuffer" : kind == SCREEN_EGA_TEXT ? "ega_text" : "none";
}

static void report_attached(void)
{
	log_event("console kind=%s width=%u height=%u bpp=%u cols=%u rows=%u addr=%#llx pitch=%u font=%s",
		  kind_name(screen_kind()), fb.width, fb.height, fb.bpp, screen_cols(), screen_rows(),
		  (unsigned long long)fb.addr, fb.pitch, font_name);
}

void screen_init(const struct framebuffer *f)
{
	const char *why = "no_framebuffer_tag";
	if (f && screen_check(f, &why) != SCREEN_NONE) {
		fb = *f;
		usable = true;
		/* Below 4 GiB the boot page tables reach it now; higher up it waits for the move. */
		if (fb.addr + screen_bytes(&fb) <= EARLY_IDENTITY_LIMIT) {
			screen_attach(&fb, phys_to_virt(fb.addr));
			report_attached();
		}
		return;
	}
	screen_off();
	bool tag = f != NULL;
	log_event("console kind=none width=%u height=%u bpp=%u cols=0 rows=0 addr=%#llx pitch=%u reason=%s",
		  tag ? f->width : 0, tag ? f->height : 0, tag ? f->bpp : 0,
		  (unsigned long long)(tag ? f->addr : 0), tag ? f->pitch : 0, why);
}

void screen_map(uint64_t root)
{
	if (!usable)
		return;
	const char *type = "";
	window = paging_map_device(root, fb.addr, screen_bytes(&fb), &type);
	if (window)
		log_info("screen: %llu bytes at %#llx mapped at %p, memory type %s",
			 (unsigned long long)screen_bytes(&fb), (unsigned long long)fb.addr, window, type);
}

void screen_moved(void)
{
	if (!usable)
		return;
	if (screen_kind() != SCREEN_NONE) {
		if (window) /* else the 1:1 map still reaches it (below 4 GiB) */
			screen_rebase(window);
		return;
	}
	if (!window) {
		log_warn("the screen at %#llx could not be mapped; the console stays on the serial port",
			 (unsigned long long)fb.addr);
		screen_off();
		log_event(
			"console kind=none width=%u height=%u bpp=%u cols=0 rows=0 addr=%#llx pitch=%u reason=not_mapped",
			fb.width, fb.height, fb.bpp, (unsigned long long)fb.addr, fb.pitch);
		return;
	}
	screen_attach(&fb, window);
	report_attached();
}
