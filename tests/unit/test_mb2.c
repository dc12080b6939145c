/*
 * guest/mb2.c: a realistic GRUB-like information block decoded field by field, each malformed variant
 * rejected with one error line naming the problem, and seeded random blocks that must never read outside
 * the block (ASan checks: the fuzzed blocks are heap allocations of exactly the bytes passed as avail).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/mb2.h"
#include "tests/unit/host_stubs.h"

/* ---- building information blocks ----------------------------------------------------------------------- */

#define BLOCK_MAX 8192
#define PAYLOAD_MAX 2048

struct block {
	union {
		uint64_t align;
		uint8_t bytes[BLOCK_MAX];
	} u;
	size_t len;
};

struct payload {
	uint8_t b[PAYLOAD_MAX];
	size_t n;
};

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void set32(struct block *blk, size_t off, uint32_t v)
{
	put_le(blk->u.bytes + off, v, 4);
}

static struct payload *pl_reset(struct payload *p)
{
	p->n = 0;
	return p;
}

static void pl_int(struct payload *p, uint64_t v, size_t n)
{
	assert_true(p->n + n <= PAYLOAD_MAX);
	put_le(p->b + p->n, v, n);
	p->n += n;
}

static void pl_u8(struct payload *p, uint8_t v)
{
	pl_int(p, v, 1);
}

static void pl_u16(struct payload *p, uint16_t v)
{
	pl_int(p, v, 2);
}

static void pl_u32(struct payload *p, uint32_t v)
{
	pl_int(p, v, 4);
}

static void pl_u64(struct payload *p, uint64_t v)
{
	pl_int(p, v, 8);
}

static void pl_bytes(struct payload *p, const void *src, size_t n)
{
	assert_true(p->n + n <= PAYLOAD_MAX);
	memcpy(p->b + p->n, src, n);
	p->n += n;
}

/* The string and its NUL. */
static void pl_str(struct payload *p, const char *s)
{
	pl_bytes(p, s, strlen(s) + 1);
}

static void blk_init(struct block *blk)
{
	memset(blk->u.bytes, 0xcc, sizeof(blk->u.bytes));
	put_le(blk->u.bytes, 0, 8);
	blk->len = 8;
}

/* Append a tag (header + payload), padded to 8 bytes; returns its offset. */
static size_t blk_tag(struct block *blk, uint32_t type, const struct payload *p)
{
	size_t off = blk->len, size = 8 + (p ? p->n : 0);
	assert_true(off + ((size + 7) & ~(size_t)7) <= BLOCK_MAX);
	set32(blk, off, type);
	set32(blk, off + 4, (uint32_t)size);
	if (p)
		memcpy(blk->u.bytes + off + 8, p->b, p->n);
	memset(blk->u.bytes + off + size, 0, ((size + 7) & ~(size_t)7) - size);
	blk->len = off + ((size + 7) & ~(size_t)7);
	return off;
}

static size_t blk_string_tag(struct block *blk, uint32_t type, const char *s)
{
	struct payload p;
	pl_str(pl_reset(&p), s);
	return blk_tag(blk, type, &p);
}

static size_t blk_module(struct block *blk, uint32_t start, uint32_t end, const char *s)
{
	struct payload p;
	pl_reset(&p);
	pl_u32(&p, start);
	pl_u32(&p, end);
	pl_str(&p, s);
	return blk_tag(blk, MB2_TAG_MODULE, &p);
}

static const struct mb2_mmap_entry good_mmap[5] = {
	{.base_addr = 0x0, .length = 0x9fc00, .type = MB2_MMAP_AVAILABLE},
	{.base_addr = 0x9fc00, .length = 0x400, .type = MB2_MMAP_RESERVED},
	{.base_addr = 0x100000, .length = 0x7ee0000, .type = MB2_MMAP_AVAILABLE},
	{.base_addr = 0x7fe0000, .length = 0x20000, .type = MB2_MMAP_ACPI_RECLAIMABLE},
	{.base_addr = 0xfffc0000, .length = 0x40000, .type = MB2_MMAP_RESERVED},
};

/* A memory map tag with the given entry size (>= 24: padding after each entry) and version. */
static size_t blk_mmap(struct block *blk, uint32_t entry_size, uint32_t version, size_t count)
{
	struct payload p;
	pl_reset(&p);
	pl_u32(&p, entry_size);
	pl_u32(&p, version);
	for (size_t i = 0; i < count; i++) {
		const struct mb2_mmap_entry *e = &good_mmap[i % 5];
		size_t start = p.n;
		pl_u64(&p, e->base_addr);
		pl_u64(&p, e->length);
		pl_u32(&p, e->type);
		pl_u32(&p, 0);
		while (p.n < start + entry_size)
			pl_u8(&p, 0xee);
		p.n = start + entry_size; /* an entry size below 24 cuts the entry */
	}
	return blk_tag(blk, MB2_TAG_MMAP, &p);
}

static size_t blk_efi_mmap(struct block *blk, uint32_t desc_size, size_t count)
{
	struct payload p;
	pl_reset(&p);
	pl_u32(&p, desc_size);
	pl_u32(&p, 1);
	for (size_t i = 0; i < count * desc_size; i++)
		pl_u8(&p, (uint8_t)i);
	return blk_tag(blk, MB2_TAG_EFI_MMAP, &p);
}

/* An RSDP copy of len bytes: "RSD PTR " then filler. */
static size_t blk_acpi(struct block *blk, uint32_t type, size_t len)
{
	struct payload p;
	pl_reset(&p);
	pl_bytes(&p, "RSD PTR ", 8);
	while (p.n < len)
		pl_u8(&p, (uint8_t)(type == MB2_TAG_ACPI_NEW ? 2 : 0));
	p.n = len;
	return blk_tag(blk, type, &p);
}

/* Framebuffer tag: the 24-byte common part, then `color` bytes of color info for type fb_type. */
static size_t blk_framebuffer(struct block *blk, uint8_t fb_type, size_t color)
{
	static const uint8_t rgb[6] = {16, 8, 8, 8, 0, 8};
	struct payload p;
	pl_reset(&p);
	pl_u64(&p, 0xfd000000);
	pl_u32(&p, 4096);
	pl_u32(&p, 1024);
	pl_u32(&p, 768);
	pl_u8(&p, 32);
	pl_u8(&p, fb_type);
	pl_u16(&p, 0);
	pl_bytes(&p, rgb, color < sizeof(rgb) ? color : sizeof(rgb));
	return blk_tag(blk, MB2_TAG_FRAMEBUFFER, &p);
}

static size_t blk_u32_tag(struct block *blk, uint32_t type, uint32_t a, uint32_t b, size_t words)
{
	struct payload p;
	pl_reset(&p);
	if (words > 0)
		pl_u32(&p, a);
	if (words > 1)
		pl_u32(&p, b);
	return blk_tag(blk, type, &p);
}

/* Close the block: the end tag, then total_size. */
static void blk_finish(struct block *blk)
{
	blk_tag(blk, MB2_TAG_END, NULL);
	set32(blk, 0, (uint32_t)blk->len);
}

/* ---- the good block ------------------------------------------------------------------------------------ */

struct good_offsets {
	size_t cmdline, loader, mod[2], meminfo, mmap, fb, acpi, efi_mmap, efi64, load_base;
};

/* What GRUB 2 builds on a UEFI machine with two modules, plus one tag type hapvisor does not know. */
static void build_good(struct block *blk, struct good_offsets *o)
{
	blk_init(blk);
	o->cmdline = blk_string_tag(blk, MB2_TAG_CMDLINE, "on_exit=poweroff loglevel=debug");
	o->loader = blk_string_tag(blk, MB2_TAG_LOADER_NAME, "GRUB 2.06-13+deb12u1");
	o->mod[0] = blk_module(blk, 0x200000, 0x1200000, "/boot/bzImage console=ttyS0 quiet");
	o->mod[1] = blk_module(blk, 0x1200000, 0x1a00000, "");
	o->meminfo = blk_u32_tag(blk, MB2_TAG_BASIC_MEMINFO, 639, 523264, 2);
	blk_u32_tag(blk, MB2_TAG_BOOTDEV, 0xe0, 0xffffffff, 2); /* size 16, not 20: not checked, skipped */
	o->mmap = blk_mmap(blk, 24, 0, 5);
	o->fb = blk_framebuffer(blk, FB_TYPE_RGB, 6);
	blk_u32_tag(blk, 99, 1, 2, 1); /* unknown type, size 12 */
	struct payload p;
	pl_u64(pl_reset(&p), 0x7fe3e018);
	o->efi64 = blk_tag(blk, MB2_TAG_EFI64, &p);
	blk_acpi(blk, MB2_TAG_ACPI_OLD, 20);
	o->acpi = blk_acpi(blk, MB2_TAG_ACPI_NEW, 36);
	o->efi_mmap = blk_efi_mmap(blk, 48, 3);
	o->load_base = blk_u32_tag(blk, MB2_TAG_LOAD_BASE_ADDR, 0x1000000, 0, 1);
	blk_finish(blk);
}

static bool inside(const struct mb2_info *mi, const void *p, size_t n)
{
	const uint8_t *b = mi->base, *q = p;
	return q >= b && q + n <= b + mi->total_size;
}

static void test_good_block(void **state)
{
	struct block blk;
	struct good_offsets o;
	struct mb2_info mi;
	build_good(&blk, &o);
	const uint8_t *b = blk.u.bytes;

	host_console_reset();
	assert_true(mb2_parse(b, MB2_INFO_MAX, &mi));
	assert_int_equal(host_console_len, 0);
	assert_ptr_equal(mi.base, b);
	assert_int_equal(mi.total_size, blk.len);

	assert_string_equal(mi.cmdline, "on_exit=poweroff loglevel=debug");
	assert_ptr_equal(mi.cmdline, b + o.cmdline + 8);
	assert_string_equal(mi.loader_name, "GRUB 2.06-13+deb12u1");
	assert_ptr_equal(mi.loader_name, b + o.loader + 8);

	assert_int_equal(mi.module_count, 2);
	assert_int_equal(mi.modules[0].start, 0x200000);
	assert_int_equal(mi.modules[0].end, 0x1200000);
	assert_string_equal(mi.modules[0].string, "/boot/bzImage console=ttyS0 quiet");
	assert_ptr_equal(mi.modules[0].string, b + o.mod[0] + 16);
	assert_int_equal(mi.modules[1].start, 0x1200000);
	assert_int_equal(mi.modules[1].end, 0x1a00000);
	assert_string_equal(mi.modules[1].string, "");
	assert_ptr_equal(mi.modules[1].string, b + o.mod[1] + 16);

	assert_true(mi.have_basic_meminfo);
	assert_int_equal(mi.mem_lower_kib, 639);
	assert_int_equal(mi.mem_upper_kib, 523264);

	assert_ptr_equal(mi.mmap, b + o.mmap + 16);
	assert_int_equal(mi.mmap_entry_size, 24);
	assert_int_equal(mi.mmap_count, 5);
	for (size_t i = 0; i < 5; i++) {
		const struct mb2_mmap_entry *e = mb2_mmap_at(&mi, i);
		assert_true(e->base_addr == good_mmap[i].base_addr);
		assert_true(e->length == good_mmap[i].length);
		assert_int_equal(e->type, good_mmap[i].type);
	}

	assert_true(mi.have_framebuffer);
	assert_true(mi.fb.addr == 0xfd000000);
	assert_int_equal(mi.fb.pitch, 4096);
	assert_int_equal(mi.fb.width, 1024);
	assert_int_equal(mi.fb.height, 768);
	assert_int_equal(mi.fb.bpp, 32);
	assert_int_equal(mi.fb.type, FB_TYPE_RGB);
	assert_int_equal(mi.fb.red_pos, 16);
	assert_int_equal(mi.fb.red_size, 8);
	assert_int_equal(mi.fb.green_pos, 8);
	assert_int_equal(mi.fb.green_size, 8);
	assert_int_equal(mi.fb.blue_pos, 0);
	assert_int_equal(mi.fb.blue_size, 8);

	assert_true(mi.efi_boot);
	assert_true(mi.efi_system_table == 0x7fe3e018);

	assert_int_equal(mi.rsdp_revision, 2);
	assert_ptr_equal(mi.rsdp, b + o.acpi + 8);
	assert_int_equal(mi.rsdp_len, 36);
	assert_memory_equal(mi.rsdp, "RSD PTR ", 8);

	assert_ptr_equal(mi.efi_mmap, b + o.efi_mmap + 16);
	assert_int_equal(mi.efi_desc_size, 48);
	assert_int_equal(mi.efi_desc_version, 1);
	assert_int_equal(mi.efi_mmap_count, 3);
	assert_true(inside(&mi, mi.efi_mmap, mi.efi_mmap_count * mi.efi_desc_size));

	assert_true(mi.have_load_base);
	assert_int_equal(mi.load_base_addr, 0x1000000);

	/* avail exactly total_size is enough. */
	assert_true(mb2_parse(b, blk.len, &mi));
}

static void test_minimal_block(void **state)
{
	struct block blk;
	struct mb2_info mi;
	blk_init(&blk);
	blk_finish(&blk);
	assert_int_equal(blk.len, 16);
	assert_true(mb2_parse(blk.u.bytes, 16, &mi));
	assert_string_equal(mi.cmdline, "");
	assert_string_equal(mi.loader_name, "");
	assert_int_equal(mi.module_count, 0);
	assert_int_equal(mi.mmap_count, 0);
	assert_null(mi.mmap);
	assert_int_equal(mi.rsdp_revision, 0);
	assert_false(mi.have_framebuffer);
	assert_false(mi.efi_boot);
}

static void test_acpi_new_wins_in_any_order(void **state)
{
	struct block blk;
	struct mb2_info mi;
	blk_init(&blk);
	size_t new_off = blk_acpi(&blk, MB2_TAG_ACPI_NEW, 36);
	blk_acpi(&blk, MB2_TAG_ACPI_OLD, 20);
	blk_finish(&blk);
	assert_true(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_int_equal(mi.rsdp_revision, 2);
	assert_ptr_equal(mi.rsdp, blk.u.bytes + new_off + 8);

	blk_init(&blk);
	size_t old_off = blk_acpi(&blk, MB2_TAG_ACPI_OLD, 20);
	blk_u32_tag(&blk, MB2_TAG_EFI32, 0x7f000000, 0, 1);
	blk_finish(&blk);
	assert_true(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_int_equal(mi.rsdp_revision, 1);
	assert_int_equal(mi.rsdp_len, 20);
	assert_ptr_equal(mi.rsdp, blk.u.bytes + old_off + 8);
	assert_true(mi.efi_boot);
	assert_true(mi.efi_system_table == 0x7f000000);
}

static void test_mmap_padded_entries(void **state)
{
	struct block blk;
	struct mb2_info mi;
	blk_init(&blk);
	blk_mmap(&blk, 32, 0, 4);
	blk_finish(&blk);
	assert_true(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_int_equal(mi.mmap_count, 4);
	assert_int_equal(mi.mmap_entry_size, 32);
	assert_true(mb2_mmap_at(&mi, 3)->base_addr == good_mmap[3].base_addr);
	assert_int_equal(mb2_mmap_at(&mi, 2)->type, MB2_MMAP_AVAILABLE);
}

static void test_framebuffer_indexed_and_text(void **state)
{
	struct block blk;
	struct mb2_info mi;
	blk_init(&blk);
	size_t off = blk_framebuffer(&blk, FB_TYPE_INDEXED, 0);
	/* palette of 2 colors: u16 count and 6 bytes */
	uint8_t *p = blk.u.bytes + off;
	set32(&blk, off + 4, 32 + 2 + 6);
	put_le(p + 32, 2, 2);
	blk.len = off + 40;
	blk_finish(&blk);
	assert_true(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_int_equal(mi.fb.type, FB_TYPE_INDEXED);

	set32(&blk, off + 4, 32 + 2 + 5);
	host_console_reset();
	assert_false(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_non_null(strstr(host_console_buf, "a palette of 2 colors needs size 40, the tag has 39"));

	blk_init(&blk);
	blk_framebuffer(&blk, FB_TYPE_EGA_TEXT, 0);
	blk_finish(&blk);
	assert_true(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_int_equal(mi.fb.type, FB_TYPE_EGA_TEXT);
	assert_int_equal(mi.fb.width, 1024);
}

/* ---- malformed blocks ---------------------------------------------------------------------------------- */

/* mb2_parse must fail on (info, avail) with exactly one error line that contains message. */
static void expect_reject(const void *info, size_t avail, const char *message)
{
	struct mb2_info mi;
	host_console_reset();
	if (mb2_parse(info, avail, &mi))
		fail_msg("accepted; expected \"%s\"", message);
	if (!strstr(host_console_buf, message))
		fail_msg("expected \"%s\"; console:\n%s", message, host_console_buf);
	assert_int_equal(strncmp(host_console_buf, "hapvisor: error: ", 17), 0);
	assert_ptr_equal(strchr(host_console_buf, '\n'), host_console_buf + host_console_len - 1);
}

static void test_reject_fixed_part(void **state)
{
	struct block blk;
	blk_init(&blk);
	blk_finish(&blk);
	expect_reject(NULL, 64, "not 8-byte aligned");
	expect_reject(blk.u.bytes + 4, 64, "not 8-byte aligned");
	expect_reject(blk.u.bytes, 7, "only 7 bytes available");
	expect_reject(blk.u.bytes, 15, "total_size 16 is larger than the 15 bytes hapvisor accepts");
	set32(&blk, 0, 12);
	expect_reject(blk.u.bytes, 64, "total_size 12 is smaller than 16");
	set32(&blk, 0, 0);
	expect_reject(blk.u.bytes, 64, "total_size 0 is smaller than 16");
	set32(&blk, 0, 0xffffffff);
	expect_reject(blk.u.bytes, MB2_INFO_MAX, "total_size 4294967295 is larger than the 1048576 bytes");
}

static void test_reject_truncated_total_size(void **state)
{
	struct block blk;
	struct good_offsets o;
	build_good(&blk, &o);
	/* Cut before the end tag: the last real tag still fits, the end tag does not. */
	set32(&blk, 0, (uint32_t)blk.len - 8);
	expect_reject(blk.u.bytes, blk.len, "no end tag (type 0) within total_size");
	/* Cut in the middle of the memory map tag. */
	set32(&blk, 0, (uint32_t)o.mmap + 40);
	char msg[128];
	snprintf(msg, sizeof(msg),
		 "tag 6 (memory map) at offset 0x%zx: size 136 runs past the end of the block", o.mmap);
	expect_reject(blk.u.bytes, blk.len, msg);
	/* Cut inside a tag header. */
	set32(&blk, 0, (uint32_t)o.mmap + 4);
	expect_reject(blk.u.bytes, blk.len, "no end tag");
}

static void test_reject_tag_sizes(void **state)
{
	struct block blk;
	blk_init(&blk);
	size_t off = blk_string_tag(&blk, MB2_TAG_CMDLINE, "abc");
	blk_finish(&blk);

	set32(&blk, off + 4, 4000);
	expect_reject(blk.u.bytes, blk.len,
		      "tag 1 (command line) at offset 0x8: size 4000 runs past the end");
	set32(&blk, off + 4, 0xfffffff9);
	expect_reject(blk.u.bytes, blk.len, "size 4294967289 runs past the end");
	set32(&blk, off + 4, 7);
	expect_reject(blk.u.bytes, blk.len,
		      "tag 1 (command line) at offset 0x8: size 7 is smaller than the 8-byte");
	set32(&blk, off + 4, 0);
	expect_reject(blk.u.bytes, blk.len, "size 0 is smaller than the 8-byte tag header");
	/* A size that fits but steps past where the end tag is: the end tag is never found. */
	set32(&blk, off + 4, 20);
	expect_reject(blk.u.bytes, blk.len, "no end tag");
	/* End tag with a wrong size. */
	set32(&blk, off + 4, 12);
	set32(&blk, blk.len - 4, 16);
	expect_reject(blk.u.bytes, blk.len, "tag 0 (end) at offset 0x18: size 16 runs past the end");
	set32(&blk, 0, (uint32_t)blk.len + 8);
	set32(&blk, blk.len - 4, 16);
	expect_reject(blk.u.bytes, blk.len + 8, "tag 0 (end) at offset 0x18: size 16 is not 8");
}

static void test_reject_missing_end_tag(void **state)
{
	struct block blk;
	blk_init(&blk);
	blk_string_tag(&blk, MB2_TAG_CMDLINE, "x");
	blk_u32_tag(&blk, 99, 0, 0, 0);
	set32(&blk, 0, (uint32_t)blk.len);
	expect_reject(blk.u.bytes, blk.len, "no end tag (type 0) within total_size 32 (offset 0x20)");
	/* A last tag of odd size whose padding would pass total_size. */
	blk_init(&blk);
	size_t off = blk_string_tag(&blk, MB2_TAG_CMDLINE, "abcd");
	set32(&blk, 0, (uint32_t)off + 13);
	expect_reject(blk.u.bytes, blk.len, "no end tag");
}

static void test_reject_strings(void **state)
{
	struct block blk;
	blk_init(&blk);
	size_t off = blk_string_tag(&blk, MB2_TAG_CMDLINE, "abc");
	blk_finish(&blk);
	blk.u.bytes[off + 11] = 'd'; /* the NUL */
	expect_reject(blk.u.bytes, blk.len,
		      "tag 1 (command line) at offset 0x8: the command line is not NUL-terminated");
	set32(&blk, off + 4, 8);
	expect_reject(blk.u.bytes, blk.len, "tag 1 (command line) at offset 0x8: size 8 is smaller than 9");

	blk_init(&blk);
	off = blk_string_tag(&blk, MB2_TAG_LOADER_NAME, "GRUB");
	blk_finish(&blk);
	blk.u.bytes[off + 12] = '!';
	expect_reject(blk.u.bytes, blk.len,
		      "tag 2 (boot loader name) at offset 0x8: the loader name is not NUL");

	blk_init(&blk);
	blk_string_tag(&blk, MB2_TAG_CMDLINE, "one");
	off = blk_string_tag(&blk, MB2_TAG_CMDLINE, "two");
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len,
		      "tag 1 (command line) at offset 0x18: a second command line tag (the "
		      "first is at offset 0x8)");
}

static void test_reject_modules(void **state)
{
	struct block blk;
	blk_init(&blk);
	size_t off = blk_module(&blk, 0x100000, 0x200000, "kernel");
	blk_finish(&blk);
	blk.u.bytes[off + 22] = 'X'; /* the NUL after "kernel" */
	expect_reject(blk.u.bytes, blk.len,
		      "tag 3 (module) at offset 0x8: the module string is not NUL-terminated");
	set32(&blk, off + 4, 16);
	expect_reject(blk.u.bytes, blk.len, "tag 3 (module) at offset 0x8: size 16 is smaller than 17");

	blk_init(&blk);
	blk_module(&blk, 0x200000, 0x100000, "backwards");
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len, "module end 0x100000 is below its start 0x200000");

	struct mb2_info mi;
	blk_init(&blk);
	for (int i = 0; i < MB2_MAX_MODULES; i++)
		blk_module(&blk, (uint32_t)i << 20, (uint32_t)(i + 1) << 20, "m");
	size_t last_len = blk.len;
	blk_finish(&blk);
	assert_true(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_int_equal(mi.module_count, MB2_MAX_MODULES);
	blk.len = last_len;
	off = blk_module(&blk, 0, 0, "one too many");
	blk_finish(&blk);
	char msg[128];
	snprintf(msg, sizeof(msg),
		 "tag 3 (module) at offset 0x%zx: more than 16 modules; hapvisor takes at most 16", off);
	expect_reject(blk.u.bytes, blk.len, msg);
}

static void test_reject_mmap(void **state)
{
	struct block blk;
	blk_init(&blk);
	blk_string_tag(&blk, MB2_TAG_CMDLINE, "console=ttyS0 loglevel=info xyzw"); /* 8 + 33 -> 48 */
	size_t off = blk_mmap(&blk, 20, 0, 3);
	blk_finish(&blk);
	assert_int_equal(off, 0x38);
	expect_reject(blk.u.bytes, blk.len,
		      "hapvisor: error: Multiboot2 info: tag 6 (memory map) at offset 0x38: "
		      "entry size 20 is smaller than 24\n");

	blk_init(&blk);
	blk_mmap(&blk, 28, 0, 2);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len,
		      "tag 6 (memory map) at offset 0x8: entry size 28 is not a multiple of 8");

	blk_init(&blk);
	blk_mmap(&blk, 24, 1, 2);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len, "entry version 1 is not 0");

	blk_init(&blk);
	blk_mmap(&blk, 0, 0, 0);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len, "entry size 0 is smaller than 24");

	blk_init(&blk);
	off = blk_mmap(&blk, 24, 0, 1);
	set32(&blk, off + 4, 12);
	blk.len = off + 16;
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len, "tag 6 (memory map) at offset 0x8: size 12 is smaller than 16");

	blk_init(&blk);
	blk_mmap(&blk, 24, 0, 2);
	blk_mmap(&blk, 24, 0, 2);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len,
		      "tag 6 (memory map) at offset 0x48: a second memory map tag (the first "
		      "is at offset 0x8)");

	/* Trailing bytes short of a whole entry are ignored, never read as an entry. */
	struct mb2_info mi;
	blk_init(&blk);
	off = blk_mmap(&blk, 24, 0, 3);
	set32(&blk, off + 4, 16 + 24 * 2 + 20);
	blk_finish(&blk);
	assert_true(mb2_parse(blk.u.bytes, blk.len, &mi));
	assert_int_equal(mi.mmap_count, 2);
}

static void test_reject_other_tags(void **state)
{
	static const struct {
		uint32_t type;
		size_t payload; /* bytes after the header: one less than the minimum */
		const char *message;
	} cases[] = {
		{MB2_TAG_BASIC_MEMINFO, 4,
		 "tag 4 (basic memory information) at offset 0x8: size 12 is smaller than 16"},
		{MB2_TAG_ACPI_OLD, 19, "tag 14 (ACPI old RSDP) at offset 0x8: size 27 is smaller than 28"},
		{MB2_TAG_ACPI_NEW, 35, "tag 15 (ACPI new RSDP) at offset 0x8: size 43 is smaller than 44"},
		{MB2_TAG_FRAMEBUFFER, 23,
		 "tag 8 (framebuffer info) at offset 0x8: size 31 is smaller than 32"},
		{MB2_TAG_EFI32, 3,
		 "tag 11 (EFI 32-bit system table) at offset 0x8: size 11 is smaller than 12"},
		{MB2_TAG_EFI64, 4,
		 "tag 12 (EFI 64-bit system table) at offset 0x8: size 12 is smaller than 16"},
		{MB2_TAG_LOAD_BASE_ADDR, 0,
		 "tag 21 (image load base address) at offset 0x8: size 8 is smaller than 12"},
		{MB2_TAG_EFI_MMAP, 4, "tag 17 (EFI memory map) at offset 0x8: size 12 is smaller than 16"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct block blk;
		struct payload p;
		pl_reset(&p);
		for (size_t k = 0; k < cases[i].payload; k++)
			pl_u8(&p, 0);
		blk_init(&blk);
		blk_tag(&blk, cases[i].type, &p);
		blk_finish(&blk);
		expect_reject(blk.u.bytes, blk.len, cases[i].message);
	}

	struct block blk;
	blk_init(&blk);
	blk_framebuffer(&blk, FB_TYPE_RGB, 5);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len,
		      "tag 8 (framebuffer info) at offset 0x8: size 37 leaves no room for the "
		      "RGB color info (needs 38)");

	blk_init(&blk);
	blk_efi_mmap(&blk, 32, 2);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len,
		      "tag 17 (EFI memory map) at offset 0x8: entry size 32 is smaller than 40");
	blk_init(&blk);
	blk_efi_mmap(&blk, 44, 2);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len, "entry size 44 is not a multiple of 8");

	blk_init(&blk);
	blk_u32_tag(&blk, MB2_TAG_BASIC_MEMINFO, 1, 2, 2);
	blk_u32_tag(&blk, MB2_TAG_BASIC_MEMINFO, 1, 2, 2);
	blk_finish(&blk);
	expect_reject(blk.u.bytes, blk.len, "a second basic memory information tag");
}

/* ---- random input -------------------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

/* On success every pointer the parser returned must lie inside the block. */
static void check_invariants(const struct mb2_info *mi)
{
	assert_true(mi->module_count <= MB2_MAX_MODULES);
	if (mi->cmdline[0])
		assert_true(inside(mi, mi->cmdline, strlen(mi->cmdline) + 1));
	if (mi->loader_name[0])
		assert_true(inside(mi, mi->loader_name, strlen(mi->loader_name) + 1));
	for (size_t i = 0; i < mi->module_count; i++) {
		assert_true(inside(mi, mi->modules[i].string, strlen(mi->modules[i].string) + 1));
		assert_true(mi->modules[i].end >= mi->modules[i].start);
	}
	if (mi->mmap) {
		assert_true(inside(mi, mi->mmap, mi->mmap_count * mi->mmap_entry_size));
		assert_true(mi->mmap_entry_size >= sizeof(struct mb2_mmap_entry));
		for (size_t i = 0; i < mi->mmap_count; i++)
			(void)*(volatile uint64_t *)&mb2_mmap_at(mi, i)->length;
	}
	if (mi->efi_mmap)
		assert_true(inside(mi, mi->efi_mmap, mi->efi_mmap_count * mi->efi_desc_size));
	if (mi->rsdp)
		assert_true(inside(mi, mi->rsdp, mi->rsdp_len));
}

/* Fill buf (len bytes) with a plausible chain of tags, then damage a few bytes. */
static void random_tags(uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)rng();
	size_t off = 8;
	while (off + 8 <= len) {
		uint32_t type = rng_below(8) == 0 ? (uint32_t)rng() : rng_below(24);
		uint32_t size = rng_below(8) == 0 ? (uint32_t)rng() : 8 + rng_below(96);
		if (type == MB2_TAG_MMAP || type == MB2_TAG_EFI_MMAP) {
			if (off + 16 <= len) {
				put_le(buf + off + 8, rng_below(4) ? 24 + 8 * rng_below(4) : rng_below(64),
				       4);
				put_le(buf + off + 12, rng_below(4) ? 0 : rng_below(3), 4);
			}
		}
		if (type == MB2_TAG_FRAMEBUFFER && off + 30 <= len)
			buf[off + 29] = (uint8_t)rng_below(4);
		if (rng_below(16) == 0) {
			type = MB2_TAG_END;
			size = 8;
		}
		put_le(buf + off, type, 4);
		put_le(buf + off + 4, size, 4);
		uint64_t step = ((uint64_t)size + 7) & ~(uint64_t)7;
		off += step < 8 ? 8 : (size_t)MIN(step, (uint64_t)len);
	}
	if (len >= 4)
		put_le(buf, rng_below(4) ? len : rng_below((uint32_t)len + 64), 4);
	for (uint32_t k = rng_below(4); k > 0; k--)
		buf[rng_below((uint32_t)len)] = (uint8_t)rng();
}

static void test_random_blocks_never_crash(void **state)
{
	enum { ROUNDS = 6000, LEN_MAX = 1024 };
	size_t accepted = 0;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < ROUNDS; round++) {
		size_t len = 1 + rng_below(LEN_MAX);
		/* Exactly len bytes on the heap (16-byte aligned): ASan sees any read past avail. */
		uint8_t *buf = malloc(len);
		assert_non_null(buf);
		if (round % 3 == 0) {
			for (size_t i = 0; i < len; i++)
				buf[i] = (uint8_t)rng();
			if (len >= 4 && rng_below(2))
				put_le(buf, rng_below((uint32_t)len + 16), 4);
		} else {
			random_tags(buf, len);
		}
		struct mb2_info mi;
		host_console_reset();
		if (mb2_parse(buf, len, &mi)) {
			accepted++;
			assert_int_equal(host_console_len, 0);
			check_invariants(&mi);
		} else {
			assert_int_equal(strncmp(host_console_buf, "hapvisor: error: Multiboot2 info", 32),
					 0);
		}
		free(buf);
	}
	/* The generator must reach the success path often enough to test it. */
	assert_true(accepted > ROUNDS / 50);
	print_message("random blocks: %zu of %d accepted\n", accepted, ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_block),
		cmocka_unit_test(test_minimal_block),
		cmocka_unit_test(test_acpi_new_wins_in_any_order),
		cmocka_unit_test(test_mmap_padded_entries),
		cmocka_unit_test(test_framebuffer_indexed_and_text),
		cmocka_unit_test(test_reject_fixed_part),
		cmocka_unit_test(test_reject_truncated_total_size),
		cmocka_unit_test(test_reject_tag_sizes),
		cmocka_unit_test(test_reject_missing_end_tag),
		cmocka_unit_test(test_reject_strings),
		cmocka_unit_test(test_reject_modules),
		cmocka_unit_test(test_reject_mmap),
		cmocka_unit_test(test_reject_other_tags),
		cmocka_unit_test(test_random_blocks_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
