/*
 * arch/x86/screen.c on framebuffers in host memory: which framebuffer tags are accepted, glyph pixels
 * and colour packing at 32, 24 and 16 bits per pixel (pitch padding left alone), EGA text cells and the
 * cursor, wrapping, tabs, scrolling (one line in EGA text, a quarter screen on a framebuffer), output
 * kept before the screen is attached, and the guest's ownership between release and reclaim.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "arch/x86/font.h"
#include "arch/x86/screen.h"
#include "arch/x86/vga.h"
#include "tests/unit/host_stubs.h"

#define CANARY 0x5A
#define EGA_COLS 80
#define EGA_ROWS 25
#define EGA_BLANK_CELL 0x0720 /* ' ' in light grey on black */

static uint8_t fbmem[256 * 1024];
static unsigned cursor_offset;
static int cursor_calls;

/* The stand-in for the CRT controller (arch/x86/vga.c does port I/O). */
void vga_cursor_place(unsigned offset)
{
	cursor_offset = offset;
	cursor_calls++;
}

static void put(const char *s)
{
	screen_write(s, strlen(s));
}

static struct framebuffer rgb_fb(uint32_t width, uint32_t height, uint8_t bpp, uint32_t pitch)
{
	struct framebuffer fb = {
		.addr = 0xC0000000,
		.pitch = pitch,
		.width = width,
		.height = height,
		.bpp = bpp,
		.type = FB_TYPE_RGB,
		.red_pos = 16,
		.red_size = 8,
		.green_pos = 8,
		.green_size = 8,
		.blue_pos = 0,
		.blue_size = 8,
	};
	return fb;
}

static struct framebuffer ega_fb(void)
{
	struct framebuffer fb = {
		.addr = 0xB8000,
		.pitch = EGA_COLS * 2,
		.width = EGA_COLS,
		.height = EGA_ROWS,
		.bpp = 16,
		.type = FB_TYPE_EGA_TEXT,
	};
	return fb;
}

static void attach(const struct framebuffer *fb)
{
	const char *why;
	assert_int_not_equal(screen_check(fb, &why), SCREEN_NONE);
	memset(fbmem, CANARY, sizeof(fbmem));
	assert_true(screen_bytes(fb) <= sizeof(fbmem));
	screen_attach(fb, fbmem);
}

static uint32_t read_px(const struct framebuffer *fb, uint32_t x, uint32_t y)
{
	const uint8_t *p = fbmem + (size_t)y * fb->pitch + (size_t)x * (fb->bpp / 8u);
	uint32_t v = 0;
	for (unsigned i = 0; i < fb->bpp / 8u; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* The character drawn in framebuffer cell (r, c): the glyph whose pixels match fg/bg exactly, or 0. */
static char fb_cell(const struct framebuffer *fb, unsigned r, unsigned c, uint32_t fg, uint32_t bg)
{
	for (unsigned ch = FONT_FIRST; ch <= FONT_LAST; ch++) {
		bool same = true;
		for (unsigned y = 0; y < FONT_HEIGHT && same; y++) {
			for (unsigned x = 0; x < FONT_WIDTH && same; x++) {
				bool on = font_glyphs[ch - FONT_FIRST][y] & (0x80u >> x);
				same = read_px(fb, c * FONT_WIDTH + x, r * FONT_HEIGHT + y) == (on ? fg : bg);
			}
		}
		if (same)
			return (char)ch;
	}
	return 0;
}

/* Row r of the framebuffer must read `text`, then blanks to the end of the grid. */
static void expect_fb_row(const struct framebuffer *fb, unsigned r, const char *text, uint32_t fg,
			  uint32_t bg)
{
	char got[SCREEN_MAX_COLS + 1];
	unsigned cols = screen_cols();
	for (unsigned c = 0; c < cols; c++)
		got[c] = fb_cell(fb, r, c, fg, bg);
	got[cols] = '\0';
	char want[SCREEN_MAX_COLS + 1];
	snprintf(want, sizeof(want), "%-*s", (int)cols, text);
	assert_string_equal(got, want);
}

static uint16_t ega_cell(unsigned r, unsigned c)
{
	return (uint16_t)(fbmem[r * EGA_COLS * 2 + c * 2] | fbmem[r * EGA_COLS * 2 + c * 2 + 1] << 8);
}

static void expect_ega_row(unsigned r, const char *text)
{
	size_t n = strlen(text);
	for (unsigned c = 0; c < EGA_COLS; c++) {
		uint16_t want = (uint16_t)((c < n ? (uint8_t)text[c] : ' ') | SCREEN_EGA_ATTR << 8);
		if (ega_cell(r, c) != want)
			fail_msg("row %u col %u: cell %#x, want %#x ('%s')", r, c, ega_cell(r, c), want,
				 text);
	}
}

/* Runs first: nothing is attached yet, so the output is kept and shown by the first attach. */
static void test_early_output_replayed(void **state)
{
	(void)state;
	put("before the screen\nsecond");
	struct framebuffer fb = rgb_fb(64, 128, 32, 64 * 4); /* 8 columns, 8 rows */
	attach(&fb);
	put(" line\n");
	expect_fb_row(&fb, 0, "before t", SCREEN_FG_RGB, SCREEN_BG_RGB);
	expect_fb_row(&fb, 1, "he scree", SCREEN_FG_RGB, SCREEN_BG_RGB);
	expect_fb_row(&fb, 2, "n", SCREEN_FG_RGB, SCREEN_BG_RGB);
	expect_fb_row(&fb, 3, "second l", SCREEN_FG_RGB, SCREEN_BG_RGB);
	expect_fb_row(&fb, 4, "ine", SCREEN_FG_RGB, SCREEN_BG_RGB);
}

static void test_check(void **state)
{
	(void)state;
	const char *why;
	struct framebuffer fb = rgb_fb(640, 480, 32, 2560);
	assert_int_equal(screen_check(&fb, &why), SCREEN_FRAMEBUFFER);
	fb.bpp = 24;
	fb.pitch = 1920;
	assert_int_equal(screen_check(&fb, &why), SCREEN_FRAMEBUFFER);
	fb.bpp = 16;
	fb.red_pos = 11, fb.red_size = 5, fb.green_pos = 5, fb.green_size = 6, fb.blue_pos = 0,
	fb.blue_size = 5;
	assert_int_equal(screen_check(&fb, &why), SCREEN_FRAMEBUFFER);
	struct framebuffer ega = ega_fb();
	assert_int_equal(screen_check(&ega, &why), SCREEN_EGA_TEXT);

	fb = rgb_fb(640, 480, 32, 2560);
	fb.type = FB_TYPE_INDEXED;
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	assert_string_equal(why, "indexed_colour");
	fb = rgb_fb(640, 480, 8, 640);
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	assert_string_equal(why, "unsupported_bpp");
	fb = rgb_fb(640, 480, 32, 2559); /* pitch below width * 4 */
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	assert_string_equal(why, "bad_geometry");
	fb = rgb_fb(7, 480, 32, 28); /* narrower than one glyph */
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	assert_string_equal(why, "bad_geometry");
	fb = rgb_fb(640, 480, 16, 1280); /* 8-bit fields at 16 and 8 do not fit in 16 bits */
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	assert_string_equal(why, "bad_colour_fields");
	fb = rgb_fb(640, 480, 32, 2560);
	fb.green_size = 0;
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	assert_string_equal(why, "bad_colour_fields");
	fb = rgb_fb(640, 480, 32, 2560);
	fb.addr = 0;
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	assert_string_equal(why, "bad_address");
	fb.addr = ~0ull - 100; /* wraps */
	assert_int_equal(screen_check(&fb, &why), SCREEN_NONE);
	ega.bpp = 8;
	assert_int_equal(screen_check(&ega, &why), SCREEN_NONE);
	assert_string_equal(why, "bad_geometry");
	ega = ega_fb();
	ega.type = 3;
	assert_int_equal(screen_check(&ega, &why), SCREEN_NONE);
	assert_string_equal(why, "unknown_type");
}

/* 32 bpp with 16 bytes of padding per line: the glyphs land pixel for pixel, the padding stays. */
static void test_rgb32_pixels_and_pitch(void **state)
{
	(void)state;
	struct framebuffer fb = rgb_fb(100, 40, 32, 100 * 4 + 16);
	attach(&fb);
	assert_int_equal(screen_kind(), SCREEN_FRAMEBUFFER);
	assert_int_equal(screen_cols(), 12); /* 100 / 8; the last 4 pixels stay background */
	assert_int_equal(screen_rows(), 2);  /* 40 / 16 */
	put("Hi ~!\n");
	expect_fb_row(&fb, 0, "Hi ~!", SCREEN_FG_RGB, SCREEN_BG_RGB);
	for (uint32_t y = 0; y < fb.height; y++) {
		for (uint32_t b = fb.width * 4; b < fb.pitch; b++)
			assert_int_equal(fbmem[y * fb.pitch + b], CANARY);
		for (uint32_t x = 96; x < fb.width; x++)
			assert_int_equal(read_px(&fb, x, y), SCREEN_BG_RGB);
	}
	assert_int_equal(fbmem[fb.pitch * fb.height], CANARY); /* nothing past the last line */
}

/* 24 bpp with blue in the high byte (BGR order), 16 bpp in 5:6:5 with red on top. */
static void test_colour_fields(void **state)
{
	(void)state;
	struct framebuffer fb = rgb_fb(64, 32, 24, 64 * 3);
	fb.red_pos = 0, fb.blue_pos = 16;
	attach(&fb);
	put("Ok");
	uint32_t fg24 = 0xAAAAAA; /* grey is the same in any byte order */
	expect_fb_row(&fb, 0, "Ok", fg24, 0);

	fb = rgb_fb(64, 32, 16, 64 * 2);
	fb.red_pos = 11, fb.red_size = 5, fb.green_pos = 5, fb.green_size = 6, fb.blue_pos = 0,
	fb.blue_size = 5;
	attach(&fb);
	put("Ok");
	uint32_t fg16 = (0xAAu >> 3) << 11 | (0xAAu >> 2) << 5 | 0xAAu >> 3;
	expect_fb_row(&fb, 0, "Ok", fg16, 0);

	fb = rgb_fb(64, 32, 16, 64 * 2); /* 5:5:5 with red at bit 10 */
	fb.red_pos = 10, fb.red_size = 5, fb.green_pos = 5, fb.green_size = 5, fb.blue_pos = 0,
	fb.blue_size = 5;
	attach(&fb);
	put("Ok");
	uint32_t fg15 = (0xAAu >> 3) << 10 | (0xAAu >> 3) << 5 | 0xAAu >> 3;
	expect_fb_row(&fb, 0, "Ok", fg15, 0);
}

/* EGA text: character + attribute cells, scrolling one line at a time, the cursor after the text. */
static void test_ega_scroll_and_cursor(void **state)
{
	(void)state;
	struct framebuffer fb = ega_fb();
	attach(&fb);
	assert_int_equal(screen_kind(), SCREEN_EGA_TEXT);
	assert_int_equal(screen_scroll_step(), 1);
	for (unsigned r = 0; r < EGA_ROWS; r++)
		for (unsigned c = 0; c < EGA_COLS; c++)
			assert_int_equal(ega_cell(r, c), EGA_BLANK_CELL);
	char line[32];
	for (int i = 0; i < 30; i++) {
		snprintf(line, sizeof(line), "line %d\n", i);
		put(line);
	}
	/* 30 lines and a fresh one: lines 6..29 in rows 0..23, row 24 empty with the cursor at its start. */
	for (unsigned r = 0; r < EGA_ROWS - 1; r++) {
		snprintf(line, sizeof(line), "line %u", r + 6);
		expect_ega_row(r, line);
	}
	expect_ega_row(EGA_ROWS - 1, "");
	assert_int_equal(cursor_offset, (EGA_ROWS - 1) * EGA_COLS);
	put("ab");
	assert_int_equal(cursor_offset, (EGA_ROWS - 1) * EGA_COLS + 2);
}

/* A full row wraps; a row of exactly `cols` characters and a newline leaves no empty row; tabs, '\r'
 * and unprintable bytes. */
static void test_wrap_tab_unprintable(void **state)
{
	(void)state;
	struct framebuffer fb = ega_fb();
	attach(&fb);
	char full[EGA_COLS + 1];
	memset(full, 'x', EGA_COLS);
	full[EGA_COLS] = '\0';
	put(full);
	put("\n");
	put(full);
	put("yz\n");
	put("\tT\x01\x7f\xe9|\n");
	put("abc\rZ\n");
	expect_ega_row(0, full);
	expect_ega_row(1, full);
	expect_ega_row(2, "yz");
	expect_ega_row(3, "        T???|");
	expect_ega_row(4, "Zbc");
	expect_ega_row(5, "");
}

/* A framebuffer scrolls by a quarter of its rows: 8 rows scroll 2 lines at a time. */
static void test_fb_scroll_step(void **state)
{
	(void)state;
	struct framebuffer fb = rgb_fb(4 * FONT_WIDTH, 8 * FONT_HEIGHT, 32, 4 * FONT_WIDTH * 4);
	attach(&fb);
	assert_int_equal(screen_scroll_step(), 2);
	put("l0\nl1\nl2\nl3\nl4\nl5\nl6\nl7\n");
	/* The newline after l7 scrolled by 2: l2..l7 in rows 0..5, rows 6 and 7 empty. */
	static const char *const want[] = {"l2", "l3", "l4", "l5", "l6", "l7", "", ""};
	for (unsigned r = 0; r < 8; r++)
		expect_fb_row(&fb, r, want[r], SCREEN_FG_RGB, SCREEN_BG_RGB);
	put("l8\nl9\nlA");
	/* l9's newline hit the bottom again: l4..l9 then lA. */
	static const char *const want3[] = {"l4", "l5", "l6", "l7", "l8", "l9", "lA", ""};
	for (unsigned r = 0; r < 8; r++)
		expect_fb_row(&fb, r, want3[r], SCREEN_FG_RGB, SCREEN_BG_RGB);
}

/* While the guest owns the screen nothing is drawn; reclaim repaints everything hapvisor wrote. */
static void test_release_and_reclaim(void **state)
{
	(void)state;
	struct framebuffer fb = ega_fb();
	attach(&fb);
	put("before the guest\n");
	screen_release();
	memset(fbmem, 0xEE, screen_bytes(&fb)); /* the guest's own picture */
	int calls = cursor_calls;
	put("during the guest\n");
	for (size_t i = 0; i < screen_bytes(&fb); i++)
		assert_int_equal(fbmem[i], 0xEE);
	assert_int_equal(cursor_calls, calls); /* the cursor is the guest's too */
	screen_reclaim();
	expect_ega_row(0, "before the guest");
	expect_ega_row(1, "during the guest");
	for (unsigned r = 2; r < EGA_ROWS; r++)
		expect_ega_row(r, "");
	assert_int_equal(cursor_offset, 2 * EGA_COLS);
	put("after\n");
	expect_ega_row(2, "after");
	screen_reclaim(); /* owned already: nothing happens */
	expect_ega_row(2, "after");
}

/* screen_off(): no screen at all, every write is dropped. */
static void test_off(void **state)
{
	(void)state;
	screen_off();
	memset(fbmem, CANARY, sizeof(fbmem));
	put("nothing\n");
	assert_int_equal(screen_kind(), SCREEN_NONE);
	assert_int_equal(screen_cols(), 0);
	assert_int_equal(fbmem[0], CANARY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_early_output_replayed),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_rgb32_pixels_and_pitch),
		cmocka_unit_test(test_colour_fields),
		cmocka_unit_test(test_ega_scroll_and_cursor),
		cmocka_unit_test(test_wrap_tab_unprintable),
		cmocka_unit_test(test_fb_scroll_step),
		cmocka_unit_test(test_release_and_reclaim),
		cmocka_unit_test(test_off),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
