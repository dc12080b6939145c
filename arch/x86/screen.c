/* The screen console's text grid and its drawing on an RGB framebuffer or EGA text cells (see screen.h). */
#include "arch/x86/screen.h"
#include "arch/x86/font.h"
#include "arch/x86/vga.h"
#include "lib/fmt.h"
#include "lib/str.h"

#define SCREEN_PHYS_LIMIT BIT(52) /* the architectural limit of physical addresses (SDM Vol. 3A 4.1.4) */
#define SCREEN_FB_SCROLL_DIV 4	  /* a framebuffer scrolls by rows / 4 lines at a time */
#define SCREEN_TAB 8
#define SCREEN_BLANK ' '
#define SCREEN_UNPRINTABLE '?'
#define EGA_CELL_BYTES 2 /* character, then attribute (IBM VGA text mode) */
#define EGA_BPP 16	 /* what Multiboot2 reports for EGA text: one 16-bit cell per character */
#define FIELD_MAX_BITS 16

enum screen_state {
	SCREEN_PENDING,	 /* not attached yet: output is kept for the screen */
	SCREEN_ATTACHED, /* drawing (unless released to the guest) */
	SCREEN_OFF,	 /* no screen (none, unusable, or a fault while drawing) */
};

static struct {
	enum screen_state state;
	enum screen_kind kind;
	volatile uint8_t *base;
	uint32_t pitch, width, height; /* bytes per line; pixels (framebuffer) or characters (EGA text) */
	unsigned bytes_pp;	       /* framebuffer bytes per pixel */
	uint32_t fg, bg;	       /* framebuffer pixel values */
	unsigned cols, rows, step;     /* the grid, and the lines one scroll moves */
	unsigned row, col; /* the cursor: where the next character goes (col == cols: wrap first) */
	bool owned;	   /* hapvisor draws (false while the guest owns the screen) */
	bool drawing;	   /* inside screen_write(): a fault there turns the screen off */
} scr;

/* The text the screen shows (or will show after screen_reclaim), row-major, `cols` bytes per row. */
static uint8_t cells[SCREEN_MAX_COLS * SCREEN_MAX_ROWS];

/* Output before screen_attach(): the first SCREEN_EARLY_BYTES, and how many did not fit. */
static char early[SCREEN_EARLY_BYTES];
static size_t early_len;
static uint64_t early_lost;

static bool field_fits(uint8_t pos, uint8_t size, uint8_t bpp)
{
	return size > 0 && size <= FIELD_MAX_BITS && pos + size <= bpp;
}

enum screen_kind screen_check(const struct framebuffer *fb, const char **why)
{
	*why = "";
	uint64_t end = fb->addr + screen_bytes(fb);
	if (fb->type != FB_TYPE_RGB && fb->type != FB_TYPE_EGA_TEXT) {
		*why = fb->type == FB_TYPE_INDEXED ? "indexed_colour" : "unknown_type";
		return SCREEN_NONE;
	}
	if (fb->addr == 0 || end < fb->addr || end > SCREEN_PHYS_LIMIT) {
		*why = "bad_address";
		return SCREEN_NONE;
	}
	if (fb->type == FB_TYPE_EGA_TEXT) {
		if (fb->bpp != EGA_BPP || fb->width == 0 || fb->height == 0 ||
		    fb->pitch < (uint64_t)fb->width * EGA_CELL_BYTES) {
			*why = "bad_geometry";
			return SCREEN_NONE;
		}
		return SCREEN_EGA_TEXT;
	}
	if (fb->bpp != 16 && fb->bpp != 24 && fb->bpp != 32) {
		*why = "unsupported_bpp";
		return SCREEN_NONE;
	}
	if (fb->width < FONT_WIDTH || fb->height < FONT_HEIGHT ||
	    fb->pitch < (uint64_t)fb->width * (fb->bpp / 8u)) {
		*why = "bad_geometry";
		return SCREEN_NONE;
	}
	if (!field_fits(fb->red_pos, fb->red_size, fb->bpp) ||
	    !field_fits(fb->green_pos, fb->green_size, fb->bpp) ||
	    !field_fits(fb->blue_pos, fb->blue_size, fb->bpp)) {
		*why = "bad_colour_fields";
		return SCREEN_NONE;
	}
	return SCREEN_FRAMEBUFFER;
}

uint64_t screen_bytes(const struct framebuffer *fb)
{
	return (uint64_t)fb->pitch * fb->height;
}

/* An 8-bit colour component scaled to a `size`-bit field at bit `pos`. */
static uint32_t colour_field(uint32_t v8, uint8_t pos, uint8_t size)
{
	uint32_t v = size >= 8 ? v8 << (size - 8) : v8 >> (8 - size);
	return v << pos;
}

static uint32_t pack_rgb(const struct framebuffer *fb, uint32_t rgb)
{
	return colour_field((rgb >> 16) & 0xFF, fb->red_pos, fb->red_size) |
	       colour_field((rgb >> 8) & 0xFF, fb->green_pos, fb->green_size) |
	       colour_field(rgb & 0xFF, fb->blue_pos, fb->blue_size);
}

/* Eight pixels of one glyph row at p: bit 7 of bits is the leftmost. */
static void draw_pixels(volatile uint8_t *p, uint8_t bits)
{
	for (unsigned x = 0; x < FONT_WIDTH; x++) {
		uint32_t px = (bits & (0x80u >> x)) ? scr.fg : scr.bg;
		switch (scr.bytes_pp) {
		case 4:
			((volatile uint32_t *)(volatile void *)p)[x] = px;
			break;
		case 3:
			p[3 * x] = (uint8_t)px;
			p[3 * x + 1] = (uint8_t)(px >> 8);
			p[3 * x + 2] = (uint8_t)(px >> 16);
			break;
		default:
			((volatile uint16_t *)(volatile void *)p)[x] = (uint16_t)px;
			break;
		}
	}
}

static void draw_cell(unsigned r, unsigned c, uint8_t ch)
{
	if (scr.kind == SCREEN_EGA_TEXT) {
		volatile uint16_t *cell =
			(volatile uint16_t *)(volatile void *)(scr.base + (size_t)r * scr.pitch);
		cell[c] = (uint16_t)(ch | SCREEN_EGA_ATTR << 8);
		return;
	}
	const uint8_t *glyph = font_glyphs[ch - FONT_FIRST];
	volatile uint8_t *p =
		scr.base + (size_t)r * FONT_HEIGHT * scr.pitch + (size_t)c * FONT_WIDTH * scr.bytes_pp;
	for (unsigned y = 0; y < FONT_HEIGHT; y++)
		draw_pixels(p + (size_t)y * scr.pitch, glyph[y]);
}

/* Every pixel (or every character cell, EGA text) to the background. */
static void clear_screen(void)
{
	for (uint32_t y = 0; y < scr.height; y++) {
		volatile uint8_t *line = scr.base + (size_t)y * scr.pitch;
		for (uint32_t x = 0; x < scr.width; x++) {
			if (scr.kind == SCREEN_EGA_TEXT)
				((volatile uint16_t *)(volatile void *)line)[x] =
					(uint16_t)(SCREEN_BLANK | SCREEN_EGA_ATTR << 8);
			else if (scr.bytes_pp == 4)
				((volatile uint32_t *)(volatile void *)line)[x] = scr.bg;
			else if (scr.bytes_pp == 3)
				line[3 * x] = line[3 * x + 1] = line[3 * x + 2] = (uint8_t)scr.bg;
			else
				((volatile uint16_t *)(volatile void *)line)[x] = (uint16_t)scr.bg;
		}
	}
}

/* Cell (r, c) becomes ch; drawn only when it changes and hapvisor owns the screen. */
static void set_cell(unsigned r, unsigned c, uint8_t ch)
{
	uint8_t *cell = &cells[r * scr.cols + c];
	if (*cell == ch)
		return;
	*cell = ch;
	if (scr.owned)
		draw_cell(r, c, ch);
}

/* EGA text: every cell written again from the grid (two bytes each: cheaper than comparing them). */
static void ega_repaint(void)
{
	volatile uint8_t *base = scr.base;
	unsigned cols = scr.cols, rows = scr.rows, pitch = scr.pitch;
	for (unsigned r = 0; r < rows; r++) {
		volatile uint16_t *line = (volatile uint16_t *)(volatile void *)(base + (size_t)r * pitch);
		const uint8_t *text = &cells[r * cols];
		for (unsigned c = 0; c < cols; c++)
			line[c] = (uint16_t)(text[c] | SCREEN_EGA_ATTR << 8);
	}
}

/*
 * Move the grid up by n lines. EGA text is moved in the grid and rewritten whole; on a framebuffer only
 * the cells whose character changes are drawn again (a glyph is 128 pixels, and most of a log's screen
 * is blank on the right).
 */
static void scroll(unsigned n)
{
	if (scr.owned && scr.kind == SCREEN_EGA_TEXT) {
		size_t kept = (size_t)(scr.rows - n) * scr.cols;
		memmove(cells, cells + (size_t)n * scr.cols, kept);
		memset(cells + kept, SCREEN_BLANK, (size_t)n * scr.cols);
		ega_repaint();
		return;
	}
	for (unsigned r = 0; r < scr.rows; r++) {
		for (unsigned c = 0; c < scr.cols; c++)
			set_cell(r, c, r + n < scr.rows ? cells[(r + n) * scr.cols + c] : SCREEN_BLANK);
	}
}

static void new_line(void)
{
	scr.col = 0;
	if (scr.row + 1 < scr.rows) {
		scr.row++;
		return;
	}
	scroll(scr.step);
	scr.row = scr.rows - scr.step;
}

static void put_char(uint8_t ch)
{
	if (scr.col == scr.cols)
		new_line();
	set_cell(scr.row, scr.col++, ch);
}

static void put_byte(char c)
{
	switch (c) {
	case '\n':
		new_line();
		break;
	case '\r':
		scr.col = 0;
		break;
	case '\t':
		do
			put_char(SCREEN_BLANK);
		while (scr.col % SCREEN_TAB && scr.col < scr.cols);
		break;
	default:
		put_char(c >= FONT_FIRST && c <= FONT_LAST ? (uint8_t)c : SCREEN_UNPRINTABLE);
		break;
	}
}

static void place_cursor(void)
{
	if (scr.owned && scr.kind == SCREEN_EGA_TEXT)
		vga_cursor_place(scr.row * (scr.pitch / EGA_CELL_BYTES) + MIN(scr.col, scr.cols - 1));
}

static void keep_early(const char *s, size_t len)
{
	size_t n = MIN(len, sizeof(early) - early_len);
	memcpy(early + early_len, s, n);
	early_len += n;
	early_lost += len - n;
}

void screen_write(const char *s, size_t len)
{
	if (scr.state == SCREEN_PENDING)
		keep_early(s, len);
	if (scr.state != SCREEN_ATTACHED)
		return;
	if (scr.drawing) { /* a fault while drawing, reported through the console: stop drawing for good */
		scr.state = SCREEN_OFF;
		return;
	}
	scr.drawing = true;
	for (size_t i = 0; i < len; i++)
		put_byte(s[i]);
	place_cursor();
	scr.drawing = false;
}

void screen_attach(const struct framebuffer *fb, volatile void *base)
{
	scr.kind = fb->type == FB_TYPE_EGA_TEXT ? SCREEN_EGA_TEXT : SCREEN_FRAMEBUFFER;
	scr.base = base;
	scr.pitch = fb->pitch;
	scr.width = fb->width;
	scr.height = fb->height;
	if (scr.kind == SCREEN_EGA_TEXT) {
		scr.cols = MIN(fb->width, SCREEN_MAX_COLS);
		scr.rows = MIN(fb->height, SCREEN_MAX_ROWS);
		scr.step = 1;
	} else {
		scr.bytes_pp = fb->bpp / 8u;
		scr.fg = pack_rgb(fb, SCREEN_FG_RGB);
		scr.bg = pack_rgb(fb, SCREEN_BG_RGB);
		scr.cols = MIN(fb->width / FONT_WIDTH, SCREEN_MAX_COLS);
		scr.rows = MIN(fb->height / FONT_HEIGHT, SCREEN_MAX_ROWS);
		scr.step = MAX(1u, scr.rows / SCREEN_FB_SCROLL_DIV);
	}
	memset(cells, SCREEN_BLANK, sizeof(cells));
	scr.row = scr.col = 0;
	scr.owned = true;
	scr.drawing = false;
	clear_screen();
	scr.state = SCREEN_ATTACHED;
	screen_write(early, early_len);
	if (early_lost) {
		char note[96];
		int n = fmt_snprintf(note, sizeof(note),
				     "hapvisor: (%llu more bytes of early output: see COM1)\n",
				     (unsigned long long)early_lost);
		screen_write(note, (size_t)MIN(n, (int)sizeof(note) - 1));
	}
	early_len = 0;
	early_lost = 0;
}

void screen_off(void)
{
	scr.state = SCREEN_OFF;
	early_len = 0;
}

void screen_rebase(volatile void *base)
{
	scr.base = base;
}

enum screen_kind screen_kind(void)
{
	return scr.state == SCREEN_ATTACHED ? scr.kind : SCREEN_NONE;
}

unsigned screen_cols(void)
{
	return scr.state == SCREEN_ATTACHED ? scr.cols : 0;
}

unsigned screen_rows(void)
{
	return scr.state == SCREEN_ATTACHED ? scr.rows : 0;
}

unsigned screen_scroll_step(void)
{
	return scr.step;
}

void screen_release(void)
{
	scr.owned = false;
}

void screen_reclaim(void)
{
	if (scr.state != SCREEN_ATTACHED || scr.owned)
		return;
	scr.owned = true;
	clear_screen();
	if (scr.kind == SCREEN_EGA_TEXT) {
		ega_repaint();
		place_cursor();
		return;
	}
	for (unsigned r = 0; r < scr.rows; r++) {
		for (unsigned c = 0; c < scr.cols; c++) {
			if (cells[r * scr.cols + c] != SCREEN_BLANK)
				draw_cell(r, c, cells[r * scr.cols + c]);
		}
	}
	place_cursor();
}
