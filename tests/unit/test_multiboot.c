/*
 * guest/multiboot_header.c, guest/multiboot_info.c and guest/loader.c: Multiboot1/2 header search (alignment,
 * checksum, search window), header validation and load plans (ELF, the a.out-kludge address fields), refusals
 * with one error line, the boot information (Multiboot2 parsed back with hapvisor's own mb2_parse(),
 * Multiboot1 field by field), seeded random kernels that must never make the parser read outside the image,
 * and guest_load() itself on a 16 MiB host arena standing for physical memory (mm/phys.h: phys_to_virt(pa) =
 * pa + host_phys_offset).
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
#include "guest/loader.h"
#include "guest/multiboot.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "tests/unit/guest_arena.h"
#include "tests/unit/host_stubs.h"

/* ---- byte buffers ---------------------------------------------------------------------------------- */

#define BUF_MAX 65536

struct buf {
	union {
		uint64_t align;
		uint8_t b[BUF_MAX];
	} u;
	size_t len;
};

static void b_int(struct buf *b, uint64_t v, size_t n)
{
	assert_true(b->len + n <= BUF_MAX);
	put_le(b->u.b + b->len, v, n);
	b->len += n;
}

static void b_u32(struct buf *b, uint32_t v)
{
	b_int(b, v, 4);
}

static void b_bytes(struct buf *b, const void *p, size_t n)
{
	assert_true(b->len + n <= BUF_MAX);
	memcpy(b->u.b + b->len, p, n);
	b->len += n;
}

static void b_align(struct buf *b, size_t a)
{
	while (b->len % a)
		b_int(b, 0, 1);
}

/* ---- kernel headers and images --------------------------------------------------------------------- */

static void mb2h_begin(struct buf *h, uint32_t arch)
{
	h->len = 0;
	b_u32(h, MB2_HEADER_MAGIC);
	b_u32(h, arch);
	b_u32(h, 0); /* header_length */
	b_u32(h, 0); /* checksum */
}

static void mb2h_tag(struct buf *h, uint16_t type, uint16_t flags, const uint32_t *words, size_t n)
{
	b_align(h, 8);
	b_int(h, type, 2);
	b_int(h, flags, 2);
	b_u32(h, (uint32_t)(8 + 4 * n));
	for (size_t i = 0; i < n; i++)
		b_u32(h, words[i]);
}

#define TAG(h, type, flags, ...)                                                                             \
	do {                                                                                                 \
		const uint32_t w_[] = {__VA_ARGS__};                                                         \
		mb2h_tag(h, type, flags, w_, sizeof(w_) / sizeof(w_[0]));                                    \
	} while (0)

static void mb2h_finish(struct buf *h)
{
	mb2h_tag(h, MB2H_TAG_END, 0, NULL, 0);
	put_le(h->u.b + 8, h->len, 4);
	uint32_t sum = MB2_HEADER_MAGIC + (uint32_t)get_le(h->u.b + 4, 4) + (uint32_t)h->len;
	put_le(h->u.b + 12, (uint32_t)-sum, 4);
}

/* A Multiboot1 header with flags and up to 9 more fields (address fields, video fields). */
static void mb1h(struct buf *h, uint32_t flags, const uint32_t *extra, size_t n)
{
	h->len = 0;
	b_u32(h, MB1_HEADER_MAGIC);
	b_u32(h, flags);
	b_u32(h, (uint32_t) - (MB1_HEADER_MAGIC + flags));
	for (size_t i = 0; i < n; i++)
		b_u32(h, extra[i]);
}

/* An image in a heap block of exactly its size, filled with a pattern. */

static struct image image_new(size_t size)
{
	struct image im = {malloc(size ? size : 1), size};
	assert_non_null(im.p);
	for (size_t i = 0; i < size; i++)
		im.p[i] = (uint8_t)(i * 13 + 5);
	return im;
}

static void image_put(struct image *im, size_t off, const struct buf *h)
{
	assert_true(off + h->len <= im->size);
	memcpy(im->p + off, h->u.b, h->len);
}

#define KTEXT_OFF 0x1000u /* file offset of the first segment of test ELF kernels */

/*
 * An ELF kernel (32- or 64-bit): segment 0 = file [0x1000, 0x1000 + filesz) at paddr (memsz bytes), an
 * optional segment 1 = the next data_filesz bytes at paddr + 0x10000 (data_memsz bytes). The file ends
 * with the last segment's data.
 */
static struct image elf_kernel(unsigned bits, uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t entry,
			       uint64_t data_filesz, uint64_t data_memsz)
{
	bool b64 = bits == 64;
	size_t w = b64 ? 8 : 4, phsz = b64 ? 56 : 32, phoff = b64 ? 64 : 52;
	size_t nph = data_memsz ? 2 : 1;
	struct image im = image_new(KTEXT_OFF + filesz + data_filesz);
	uint8_t *p = im.p;
	memset(p, 0, phoff + nph * phsz);
	memcpy(p, "\177ELF", 4);
	p[4] = b64 ? 2 : 1;
	p[5] = 1;
	p[6] = 1;
	put_le(p + 16, 2, 2);
	put_le(p + 18, b64 ? 62 : 3, 2);
	put_le(p + 20, 1, 4);
	put_le(p + 24, entry, w);
	put_le(p + (b64 ? 32 : 28), phoff, w);
	put_le(p + (b64 ? 54 : 42), phsz, 2);
	put_le(p + (b64 ? 56 : 44), nph, 2);
	for (size_t i = 0; i < nph; i++) {
		uint8_t *e = p + phoff + i * phsz;
		uint64_t off = i ? KTEXT_OFF + filesz : KTEXT_OFF, pa = i ? paddr + 0x10000 : paddr;
		uint64_t fs = i ? data_filesz : filesz, ms = i ? data_memsz : memsz;
		put_le(e, 1, 4); /* PT_LOAD */
		if (b64) {
			put_le(e + 8, off, 8);
			put_le(e + 16, pa, 8);
			put_le(e + 24, pa, 8);
			put_le(e + 32, fs, 8);
			put_le(e + 40, ms, 8);
		} else {
			put_le(e + 4, off, 4);
			put_le(e + 8, pa, 4);
			put_le(e + 12, pa, 4);
			put_le(e + 16, fs, 4);
			put_le(e + 20, ms, 4);
		}
	}
	return im;
}

/* The usual Multiboot2 header of an ELF kernel: info request, console flags, module alignment. */
static void mb2h_elf_default(struct buf *h)
{
	mb2h_begin(h, MB2_HEADER_ARCH_I386);
	TAG(h, MB2H_TAG_INFO_REQUEST, 0, MB2_TAG_CMDLINE, MB2_TAG_MMAP, MB2_TAG_MODULE, MB2_TAG_BASIC_MEMINFO,
	    MB2_TAG_FRAMEBUFFER, MB2_TAG_ACPI_NEW, MB2_TAG_EFI64, MB2_TAG_LOADER_NAME);
	TAG(h, MB2H_TAG_CONSOLE_FLAGS, MB2H_TAG_OPTIONAL, 2);
	mb2h_tag(h, MB2H_TAG_MODULE_ALIGN, 0, NULL, 0);
	mb2h_finish(h);
}

/* multiboot_parse must fail with exactly one error line containing message (info notes may precede it). */
static void expect_refused(const struct image *im, const char *message)
{
	struct guest_plan k;
	host_console_reset();
	if (multiboot_parse(im->p, im->size, &k))
		fail_msg("accepted; expected \"%s\"", message);
	if (!strstr(host_console_buf, message))
		fail_msg("expected \"%s\"; console:\n%s", message, host_console_buf);
	const char *e = strstr(host_console_buf, "hapvisor: error: guest kernel: ");
	assert_non_null(e);
	assert_null(strstr(e + 1, "hapvisor: error:"));
	assert_ptr_equal(strchr(e, '\n'), host_console_buf + host_console_len - 1);
}

static void parse_ok(const struct image *im, struct guest_plan *k)
{
	host_console_reset();
	if (!multiboot_parse(im->p, im->size, k))
		fail_msg("refused: %s", host_console_buf);
	assert_null(strstr(host_console_buf, "error"));
}

/* ---- header search --------------------------------------------------------------------------------- */

static void expect_found(const struct image *im, enum multiboot_version v, uint32_t off)
{
	enum multiboot_version got;
	uint32_t got_off = 0xdead;
	host_console_reset();
	bool found = multiboot_find_header(im->p, im->size, &got, &got_off);
	assert_int_equal(host_console_len, 0);
	assert_int_equal(got, v);
	assert_int_equal(found, v != MULTIBOOT_NONE);
	if (found)
		assert_int_equal(got_off, off);
}

static void test_find_headers(void **state)
{
	struct buf h2, h1;
	mb2h_begin(&h2, MB2_HEADER_ARCH_I386);
	mb2h_finish(&h2);
	mb1h(&h1, 0, NULL, 0);

	struct image im = image_new(40000);
	expect_found(&im, MULTIBOOT_NONE, 0);
	image_put(&im, 0x1000, &h2);
	expect_found(&im, MULTIBOOT_2, 0x1000);
	free(im.p);

	im = image_new(40000); /* Multiboot2 needs 8-byte alignment */
	image_put(&im, 0x1004, &h2);
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);

	im = image_new(40000); /* the fixed part must end within 32 KiB */
	image_put(&im, 32768 - 16, &h2);
	expect_found(&im, MULTIBOOT_2, 32768 - 16);
	free(im.p);
	im = image_new(40000);
	image_put(&im, 32768 - 8, &h2);
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);
	im = image_new(40000);
	image_put(&im, 32768, &h2);
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);

	im = image_new(40000); /* a bad checksum is not a header; the search goes on */
	image_put(&im, 0x800, &h2);
	im.p[0x800 + 12] ^= 1;
	expect_found(&im, MULTIBOOT_NONE, 0);
	image_put(&im, 0x2000, &h2);
	expect_found(&im, MULTIBOOT_2, 0x2000);
	free(im.p);

	im = image_new(10000); /* Multiboot1: 4-byte alignment, first 8 KiB */
	image_put(&im, 0x1004, &h1);
	expect_found(&im, MULTIBOOT_1, 0x1004);
	free(im.p);
	im = image_new(10000);
	image_put(&im, 0x1002, &h1);
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);
	im = image_new(10000);
	image_put(&im, 8192 - 12, &h1);
	expect_found(&im, MULTIBOOT_1, 8192 - 12);
	free(im.p);
	im = image_new(10000);
	image_put(&im, 8192 - 8, &h1);
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);
	im = image_new(10000);
	image_put(&im, 0x100, &h1);
	im.p[0x100 + 8] ^= 0x80;
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);

	im = image_new(10000); /* both: Multiboot2 wins, wherever the Multiboot1 header is */
	image_put(&im, 0x20, &h1);
	image_put(&im, 0x1000, &h2);
	expect_found(&im, MULTIBOOT_2, 0x1000);
	free(im.p);

	im = image_new(20); /* a file shorter than a fixed part */
	image_put(&im, 0, &h1);
	expect_found(&im, MULTIBOOT_1, 0);
	free(im.p);
	im = image_new(11);
	memcpy(im.p, h1.u.b, 11);
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);
	im = image_new(0);
	expect_found(&im, MULTIBOOT_NONE, 0);
	free(im.p);
}

/* ---- Multiboot2 kernels ---------------------------------------------------------------------------- */

static void test_mb2_elf_kernel(void **state)
{
	struct buf h;
	struct guest_plan k;
	mb2h_elf_default(&h);
	struct image im = elf_kernel(32, 0x100000, 0x3000, 0x3000, 0x10000c, 0x800, 0x5000);
	image_put(&im, KTEXT_OFF, &h);
	parse_ok(&im, &k);
	assert_int_equal(k.mb.version, MULTIBOOT_2);
	assert_int_equal(k.mb.header_offset, KTEXT_OFF);
	assert_int_equal(k.entry, 0x10000c);
	assert_false(k.mb.aout);
	assert_int_equal(k.elf_bits, 32);
	assert_int_equal(k.load_base, 0x100000);
	assert_int_equal(k.segment_count, 2);
	assert_int_equal(k.segments[0].paddr, 0x100000);
	assert_int_equal(k.segments[0].offset, KTEXT_OFF);
	assert_int_equal(k.segments[0].filesz, 0x3000);
	assert_int_equal(k.segments[0].memsz, 0x3000);
	assert_int_equal(k.segments[0].phdr, 0);
	assert_int_equal(k.segments[1].paddr, 0x110000);
	assert_int_equal(k.segments[1].offset, KTEXT_OFF + 0x3000);
	assert_int_equal(k.segments[1].filesz, 0x800);
	assert_int_equal(k.segments[1].memsz, 0x5000);
	assert_false(k.mb.mb2_relocatable);
	assert_int_equal(multiboot_boot_magic(&k), MB2_BOOTLOADER_MAGIC);
	char name[GUEST_NAME_MAX];
	guest_segment_name(&k, 1, name, sizeof(name));
	assert_string_equal(name, "segment 1 (program header 1)");
	free(im.p);

	/* An entry address tag overrides the ELF entry; a relocatable tag is noted and ignored. */
	mb2h_begin(&h, MB2_HEADER_ARCH_I386);
	TAG(&h, MB2H_TAG_ENTRY, 0, 0x100100);
	TAG(&h, MB2H_TAG_RELOCATABLE, MB2H_TAG_OPTIONAL, 0x100000, 0x10000000, 0x1000, 1);
	TAG(&h, MB2H_TAG_FRAMEBUFFER, MB2H_TAG_OPTIONAL, 1024, 768, 32);
	TAG(&h, MB2H_TAG_ENTRY_EFI64, 0, 0x100200);
	TAG(&h, MB2H_TAG_EFI_BS, MB2H_TAG_OPTIONAL);
	TAG(&h, 42, MB2H_TAG_OPTIONAL, 1, 2, 3); /* unknown but optional */
	mb2h_finish(&h);
	im = elf_kernel(32, 0x100000, 0x3000, 0x3000, 0x10000c, 0, 0);
	image_put(&im, KTEXT_OFF + 8, &h);
	parse_ok(&im, &k);
	assert_int_equal(k.entry, 0x100100);
	assert_int_equal(k.mb.header_offset, KTEXT_OFF + 8);
	assert_true(k.mb.mb2_relocatable);
	assert_int_equal(k.segment_count, 1);
	assert_non_null(strstr(host_console_buf, "relocatable"));
	free(im.p);

	/* A higher-half ELF64 kernel: the entry is translated to its physical address. */
	mb2h_elf_default(&h);
	im = elf_kernel(64, 0x200000, 0x2000, 0x4000, 0x200040, 0, 0);
	put_le(im.p + 64 + 16, 0xffffffff80200000ull, 8); /* p_vaddr */
	put_le(im.p + 24, 0xffffffff80200040ull, 8);	  /* e_entry */
	image_put(&im, KTEXT_OFF, &h);
	parse_ok(&im, &k);
	assert_int_equal(k.elf_bits, 64);
	assert_int_equal(k.entry, 0x200040);
	free(im.p);
}

/* A flat kernel of `size` bytes with the header at hoff, loaded at 0x100000 + hoff (header_addr). */
static struct image flat_mb2_kernel(size_t size, size_t hoff, uint32_t load_addr, uint32_t load_end,
				    uint32_t bss_end, bool entry_tag)
{
	struct buf h;
	mb2h_begin(&h, MB2_HEADER_ARCH_I386);
	TAG(&h, MB2H_TAG_ADDRESS, 0, (uint32_t)(0x100000 + hoff), load_addr, load_end, bss_end);
	if (entry_tag)
		TAG(&h, MB2H_TAG_ENTRY, 0, 0x100000 + (uint32_t)hoff + 0x100);
	mb2h_finish(&h);
	struct image im = image_new(size);
	image_put(&im, hoff, &h);
	return im;
}

static void test_mb2_address_tag(void **state)
{
	struct guest_plan k;
	struct image im = flat_mb2_kernel(0x3000, 0x40, 0x100000, 0x103000, 0x108000, true);
	parse_ok(&im, &k);
	assert_true(k.mb.aout);
	assert_int_equal(k.elf_bits, 0);
	assert_int_equal(k.entry, 0x100140);
	assert_int_equal(k.segment_count, 1);
	assert_int_equal(k.segments[0].paddr, 0x100000);
	assert_int_equal(k.segments[0].offset, 0);
	assert_int_equal(k.segments[0].filesz, 0x3000);
	assert_int_equal(k.segments[0].memsz, 0x8000);
	assert_int_equal(k.segments[0].phdr, GUEST_SEGMENT_NO_PHDR);
	char name[GUEST_NAME_MAX];
	guest_segment_name(&k, 0, name, sizeof(name));
	assert_string_equal(name, "segment 0 (the header's address fields)");
	free(im.p);

	/* load_addr above the file start: the load begins inside the file. */
	im = flat_mb2_kernel(0x3000, 0x1040, 0x101000, 0x102800, 0, true);
	parse_ok(&im, &k);
	assert_int_equal(k.segments[0].paddr, 0x101000);
	assert_int_equal(k.segments[0].offset, 0x1000);
	assert_int_equal(k.segments[0].filesz, 0x1800);
	assert_int_equal(k.segments[0].memsz, 0x1800); /* bss_end_addr 0: no bss */
	free(im.p);

	/* load_end_addr 0: the rest of the file; load_addr -1: from the file's start. */
	im = flat_mb2_kernel(0x2345, 0x40, 0xffffffff, 0, 0x110000, true);
	parse_ok(&im, &k);
	assert_int_equal(k.segments[0].paddr, 0x100000);
	assert_int_equal(k.segments[0].offset, 0);
	assert_int_equal(k.segments[0].filesz, 0x2345);
	assert_int_equal(k.segments[0].memsz, 0x10000);
	free(im.p);

	im = flat_mb2_kernel(0x3000, 0x40, 0x100000, 0x103000, 0x108000, false);
	expect_refused(&im, "an address tag (3.1.5) without an entry address tag (3.1.6)");
	free(im.p);
	im = flat_mb2_kernel(0x3000, 0x40, 0x100080, 0x103000, 0, true);
	expect_refused(&im, "load_addr 0x100080 is above header_addr 0x100040");
	free(im.p);
	im = flat_mb2_kernel(0x3000, 0x40, 0xfff00, 0x103000, 0, true);
	expect_refused(&im,
		       "header_addr 0x100040 - load_addr 0xfff00 is larger than the header's file offset");
	free(im.p);
	im = flat_mb2_kernel(0x3000, 0x40, 0x100000, 0x103001, 0, true);
	expect_refused(&im, "load range (file offset 0x0, 0x3001 bytes up to load_end_addr) runs past the "
			    "end of the 12288-byte module");
	free(im.p);
	im = flat_mb2_kernel(0x3000, 0x40, 0x100000, 0x100000, 0, true);
	expect_refused(&im, "load_end_addr 0x100000 is not above the load address 0x100000");
	free(im.p);
	im = flat_mb2_kernel(0x3000, 0x40, 0x100000, 0x103000, 0x102000, true);
	expect_refused(&im, "bss_end_addr 0x102000 is below the end of the loaded data 0x103000");
	free(im.p);

	/* The entry must be inside the load. */
	struct buf h;
	mb2h_begin(&h, MB2_HEADER_ARCH_I386);
	TAG(&h, MB2H_TAG_ADDRESS, 0, 0x100040, 0x100000, 0x101000, 0);
	TAG(&h, MB2H_TAG_ENTRY, 0, 0x101000);
	mb2h_finish(&h);
	im = image_new(0x2000);
	image_put(&im, 0x40, &h);
	expect_refused(&im, "the entry point 0x101000 is outside every loaded segment");
	free(im.p);

	/* Wholly below 4 GiB. */
	mb2h_begin(&h, MB2_HEADER_ARCH_I386);
	TAG(&h, MB2H_TAG_ADDRESS, 0, 0xfffff040, 0xfffff000, 0, 0);
	TAG(&h, MB2H_TAG_ENTRY, 0, 0xfffff100);
	mb2h_finish(&h);
	im = image_new(0x2000);
	image_put(&im, 0x40, &h);
	expect_refused(&im,
		       "segment 0 (the header's address fields) [0xfffff000, 0x100001000) ends above 4 GiB");
	free(im.p);
}

static void test_mb2_refusals(void **state)
{
	struct buf h;
	struct guest_plan k;
	struct image im;

#define ELF_WITH(build)                                                                                      \
	do {                                                                                                 \
		mb2h_begin(&h, MB2_HEADER_ARCH_I386);                                                        \
		build;                                                                                       \
		mb2h_finish(&h);                                                                             \
		im = elf_kernel(32, 0x100000, 0x1000, 0x1000, 0x100000, 0, 0);                               \
		image_put(&im, KTEXT_OFF, &h);                                                               \
	} while (0)

	ELF_WITH(TAG(&h, MB2H_TAG_INFO_REQUEST, 0, MB2_TAG_MMAP, MB2_TAG_EFI_MMAP));
	expect_refused(&im, "requires boot information tag 17 (EFI memory map), which hapvisor never "
			    "provides: it would show hapvisor's region as free memory");
	free(im.p);
	ELF_WITH(TAG(&h, MB2H_TAG_INFO_REQUEST, 0, 99));
	expect_refused(&im, "requires boot information tag 99 (unknown)");
	free(im.p);
	ELF_WITH(TAG(&h, MB2H_TAG_INFO_REQUEST, 0, MB2_TAG_EFI_BS));
	expect_refused(&im, "hapvisor has exited UEFI boot services");
	free(im.p);
	ELF_WITH(TAG(&h, MB2H_TAG_INFO_REQUEST, 0, MB2_TAG_ELF_SECTIONS));
	expect_refused(&im, "tag 9 (ELF symbols)");
	free(im.p);
	/* The same requests marked optional are fine. */
	ELF_WITH(TAG(&h, MB2H_TAG_INFO_REQUEST, MB2H_TAG_OPTIONAL, MB2_TAG_EFI_MMAP, 99, MB2_TAG_EFI_BS));
	parse_ok(&im, &k);
	free(im.p);

	ELF_WITH(TAG(&h, MB2H_TAG_EFI_BS, 0));
	expect_refused(&im, "the EFI boot services tag (3.1.12) is not optional");
	free(im.p);
	ELF_WITH(TAG(&h, 11, 0, 1));
	expect_refused(
		&im,
		"header tag type 11 at header offset 0x10 is not optional, and hapvisor does not know it");
	free(im.p);
	ELF_WITH(TAG(&h, MB2H_TAG_ADDRESS, 0, 1, 2));
	expect_refused(&im, "address tag at header offset 0x10: size 16 is smaller than 24");
	free(im.p);

	/* Header structure. */
	mb2h_begin(&h, 4);
	mb2h_finish(&h);
	im = image_new(0x1000);
	image_put(&im, 0x100, &h);
	expect_refused(&im, "Multiboot2 header at offset 0x100: architecture 4 is not i386 (0)");
	free(im.p);

	mb2h_begin(&h, MB2_HEADER_ARCH_I386); /* no end tag */
	TAG(&h, MB2H_TAG_MODULE_ALIGN, 0);
	put_le(h.u.b + 8, h.len, 4);
	put_le(h.u.b + 12, (uint32_t) - (MB2_HEADER_MAGIC + (uint32_t)h.len), 4);
	im = image_new(0x1000);
	image_put(&im, 0x100, &h);
	expect_refused(&im, "no end tag (type 0) within header_length 24");
	free(im.p);

	mb2h_begin(&h, MB2_HEADER_ARCH_I386); /* a tag running past header_length */
	mb2h_finish(&h);
	put_le(h.u.b + 20, 16, 4);
	im = image_new(0x1000);
	image_put(&im, 0x100, &h);
	expect_refused(&im, "size 16 is outside [8, 8]");
	free(im.p);

	mb2h_begin(&h, MB2_HEADER_ARCH_I386); /* header_length beyond the file / beyond 32 KiB */
	mb2h_finish(&h);
	put_le(h.u.b + 8, 0x1000, 4);
	put_le(h.u.b + 12, (uint32_t) - (MB2_HEADER_MAGIC + 0x1000u), 4);
	im = image_new(0x1000);
	image_put(&im, 0x100, &h);
	expect_refused(&im, "header_length 4096 runs past the end of the 4096-byte module");
	free(im.p);
	im = image_new(40000);
	image_put(&im, 32768 - 0x800, &h);
	expect_refused(&im, "header_length 4096 runs past the first 32 KiB of the file");
	free(im.p);

	/* No address tag and not ELF. */
	mb2h_begin(&h, MB2_HEADER_ARCH_I386);
	mb2h_finish(&h);
	im = image_new(0x1000);
	image_put(&im, 0x100, &h);
	expect_refused(&im, "no address tag and the kernel is not an ELF file");
	free(im.p);

	/* ELF errors come through, and ELF64 segments above 4 GiB are refused. */
	mb2h_elf_default(&h);
	im = elf_kernel(32, 0x100000, 0x1000, 0x800, 0x100000, 0, 0);
	image_put(&im, KTEXT_OFF, &h);
	expect_refused(&im, "program header 0: file size 0x1000 is larger than its memory size 0x800");
	free(im.p);
	im = elf_kernel(64, 0x100000000ull, 0x1000, 0x1000, 0x100000000ull, 0, 0);
	image_put(&im, KTEXT_OFF, &h);
	expect_refused(&im, "the ELF entry point 0x100000000 is above 4 GiB");
	free(im.p);
	im = elf_kernel(64, 0x100000000ull, 0x1000, 0x1000, 0x100000, 0, 0);
	image_put(&im, KTEXT_OFF, &h);
	expect_refused(&im, "segment 0 (program header 0) [0x100000000, 0x100001000) ends above 4 GiB");
	free(im.p);

	/* No header at all. */
	im = image_new(0x9000);
	expect_refused(&im, "no Multiboot2 header in its first 32 KiB and no Multiboot1 header");
	free(im.p);
#undef ELF_WITH
}

/* ---- Multiboot1 kernels ---------------------------------------------------------------------------- */

static void test_mb1_kernels(void **state)
{
	struct buf h;
	struct guest_plan k;

	mb1h(&h, MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO, NULL, 0);
	struct image im = elf_kernel(32, 0x100000, 0x2000, 0x6000, 0x100020, 0, 0);
	image_put(&im, KTEXT_OFF + 4, &h);
	parse_ok(&im, &k);
	assert_int_equal(k.mb.version, MULTIBOOT_1);
	assert_int_equal(k.mb.header_offset, KTEXT_OFF + 4);
	assert_int_equal(k.mb.mb1_flags, 3);
	assert_int_equal(k.entry, 0x100020);
	assert_int_equal(k.segment_count, 1);
	assert_int_equal(k.segments[0].memsz, 0x6000);
	assert_int_equal(multiboot_boot_magic(&k), MB1_BOOTLOADER_MAGIC);
	free(im.p);

	/* The a.out kludge (flags bit 16) wins over ELF; video mode is noted, not fatal. */
	const uint32_t f[] = {0x100400, 0x100000, 0x101800, 0x104000, 0x100500, 0, 800, 600, 32};
	mb1h(&h, MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO | MB1_HF_VIDEO_MODE | MB1_HF_AOUT_KLUDGE, f, 9);
	im = image_new(0x2000);
	image_put(&im, 0x400, &h);
	parse_ok(&im, &k);
	assert_true(k.mb.aout);
	assert_int_equal(k.entry, 0x100500);
	assert_int_equal(k.segments[0].paddr, 0x100000);
	assert_int_equal(k.segments[0].offset, 0);
	assert_int_equal(k.segments[0].filesz, 0x1800);
	assert_int_equal(k.segments[0].memsz, 0x4000);
	assert_non_null(strstr(host_console_buf, "asks for video mode type 0, 800x600x32"));
	free(im.p);

	mb1h(&h, MB1_HF_AOUT_KLUDGE, f, 5); /* load_addr -1 means nothing special in Multiboot1 */
	put_le(h.u.b + 16, 0xffffffff, 4);
	put_le(h.u.b + 8, (uint32_t) - (MB1_HEADER_MAGIC + MB1_HF_AOUT_KLUDGE), 4);
	im = image_new(0x2000);
	image_put(&im, 0x400, &h);
	expect_refused(&im, "Multiboot1 header at offset 0x400: load_addr 0xffffffff is above header_addr");
	free(im.p);

	mb1h(&h, MB1_HF_MEMORY_INFO | BIT(3), NULL, 0);
	im = elf_kernel(32, 0x100000, 0x1000, 0x1000, 0x100000, 0, 0);
	image_put(&im, KTEXT_OFF, &h);
	expect_refused(&im, "flags 0xa require features hapvisor does not know (bits 0x8");
	free(im.p);

	mb1h(&h, MB1_HF_AOUT_KLUDGE | BIT(20), NULL, 0); /* unknown optional bit: fine; fields past 8 KiB */
	im = image_new(0x3000);
	image_put(&im, 8192 - 16, &h);
	expect_refused(&im, "flags bit 16 announces the address fields, but they run past the first 8 KiB");
	free(im.p);
	im = image_new(8192 - 4);
	image_put(&im, 8192 - 16, &h);
	expect_refused(&im, "but they run past the end of the 8188-byte module");
	free(im.p);

	mb1h(&h, 0, NULL, 0);
	im = image_new(0x1000);
	image_put(&im, 0x10, &h);
	expect_refused(&im, "no address fields (flags bit 16) and the kernel is not an ELF file");
	free(im.p);
}

/* ---- boot information ------------------------------------------------------------------------------ */

#define R(b, s, t)                                                                                           \
	{                                                                                                    \
		.base = (b), .size = (s), .type = (t)                                                        \
	}

static const struct mem_range info_ranges[] = {
	R(0x0, 0x9f000, MEM_AVAILABLE),
	R(0x9f000, 0x61000, MEM_RESERVED),
	R(0x100000, 0x700000, MEM_AVAILABLE),
	R(0x800000, 0x10000, MEM_BOOT), /* merges with its available neighbours */
	R(0x810000, 0x77f0000, MEM_AVAILABLE),
	R(0x8000000, 0x20000, MEM_ACPI_RECLAIMABLE),
	R(0x8020000, 0x1000, MEM_ACPI_NVS),
	R(0x8021000, 0x1000, MEM_BAD),
	R(0x8022000, 0x1000, MEM_AVAILABLE),
	R(0x8023000, 0x7dd000, MEM_HAPVISOR),
	R(0x8800000, 0x10000, MEM_RESERVED), /* stays apart from hapvisor's region */
	R(0xfffc0000, 0x40000, MEM_RESERVED),
	R(0x100000000ull, 0x40000000, MEM_AVAILABLE),
};

struct want_entry {
	uint64_t base, size;
	uint32_t type;
};

static const struct want_entry want_mmap[] = {
	{0x0, 0x9f000, 1},
	{0x9f000, 0x61000, 2},
	{0x100000, 0x7f00000, 1}, /* available + boot + available */
	{0x8000000, 0x20000, 3},
	{0x8020000, 0x1000, 4},
	{0x8021000, 0x1000, 5},
	{0x8022000, 0x1000, 1},
	{0x8023000, 0x7dd000, 2}, /* hapvisor */
	{0x8800000, 0x10000, 2},
	{0xfffc0000, 0x40000, 2},
	{0x100000000ull, 0x40000000, 1},
};

static struct memmap info_map;

static void info_map_init(void)
{
	info_map.count = ARRAY_SIZE(info_ranges);
	memcpy(info_map.ranges, info_ranges, sizeof(info_ranges));
}

static const struct guest_module info_modules[] = {
	{0x2000000, 0x2001234, "/boot/initrd.img"},
	{0x2002000, 0x2002000, ""},
};

static uint8_t rsdp_v2[36];

static const struct framebuffer info_fb = {
	.addr = 0xfd000000,
	.pitch = 4096,
	.width = 1024,
	.height = 768,
	.bpp = 32,
	.type = FB_TYPE_RGB,
	.red_pos = 16,
	.red_size = 8,
	.green_pos = 8,
	.green_size = 8,
	.blue_pos = 0,
	.blue_size = 8,
};

static struct guest_boot info_boot(void)
{
	info_map_init();
	memcpy(rsdp_v2, "RSD PTR ", 8);
	for (size_t i = 8; i < sizeof(rsdp_v2); i++)
		rsdp_v2[i] = (uint8_t)i;
	return (struct guest_boot){
		.cmdline = "/boot/kernel.elf console=ttyS0 quiet",
		.map = &info_map,
		.modules = info_modules,
		.module_count = 2,
		.rsdp = rsdp_v2,
		.rsdp_len = 36,
		.rsdp_revision = 2,
		.fb = &info_fb,
		.efi64 = true,
		.efi_system_table = 0x7fe3e018,
	};
}

/* Count the tags of one type in a Multiboot2 information block (already validated by mb2_parse). */
static size_t count_tags(const uint8_t *b, uint32_t type, size_t *last_off)
{
	size_t n = 0;
	for (size_t off = 8; get_le(b + off, 4) != MB2_TAG_END;
	     off += (get_le(b + off + 4, 4) + 7) & ~(uint64_t)7) {
		if (get_le(b + off, 4) == type) {
			n++;
			*last_off = off;
		}
	}
	return n;
}

static void test_mb2_info(void **state)
{
	static struct buf out;
	struct guest_plan k = {.load_base = 0x100000, .mb.version = MULTIBOOT_2};
	struct guest_boot b = info_boot();
	size_t need = multiboot_build_info(&k, &b, NULL, 0, 0);
	assert_true(need > 100 && need < 1024);
	memset(out.u.b, 0xcc, sizeof(out.u.b));
	host_console_reset();
	assert_int_equal(multiboot_build_info(&k, &b, out.u.b, need, 0x7000), need);
	assert_int_equal(out.u.b[need], 0xcc);
	assert_int_equal(need % 8, 0);

	struct mb2_info mi;
	assert_true(mb2_parse(out.u.b, need, &mi));
	assert_int_equal(host_console_len, 0);
	assert_int_equal(mi.total_size, need);
	assert_string_equal(mi.cmdline, "/boot/kernel.elf console=ttyS0 quiet");
	assert_string_equal(mi.loader_name, "hapvisor");
	assert_true(mi.have_basic_meminfo);
	assert_int_equal(mi.mem_lower_kib, 0x9f000 / 1024);
	assert_int_equal(mi.mem_upper_kib, (0x8000000 - 0x100000) / 1024);

	assert_int_equal(mi.mmap_entry_size, 24);
	assert_int_equal(mi.mmap_count, ARRAY_SIZE(want_mmap));
	for (size_t i = 0; i < ARRAY_SIZE(want_mmap); i++) {
		const struct mb2_mmap_entry *e = mb2_mmap_at(&mi, i);
		assert_true(e->base_addr == want_mmap[i].base);
		assert_true(e->length == want_mmap[i].size);
		assert_int_equal(e->type, want_mmap[i].type);
	}
	assert_null(mi.efi_mmap); /* never passed on */

	assert_int_equal(mi.module_count, 2);
	assert_int_equal(mi.modules[0].start, 0x2000000);
	assert_int_equal(mi.modules[0].end, 0x2001234);
	assert_string_equal(mi.modules[0].string, "/boot/initrd.img");
	assert_int_equal(mi.modules[1].start, 0x2002000);
	assert_int_equal(mi.modules[1].end, 0x2002000);
	assert_string_equal(mi.modules[1].string, "");

	assert_int_equal(mi.rsdp_revision, 2);
	assert_int_equal(mi.rsdp_len, 36);
	assert_memory_equal(mi.rsdp, rsdp_v2, 36);
	size_t off = 0;
	assert_int_equal(count_tags(out.u.b, MB2_TAG_ACPI_OLD, &off), 1);
	assert_int_equal(get_le(out.u.b + off + 4, 4), 8 + 20);
	assert_memory_equal(out.u.b + off + 8, rsdp_v2, 20);

	assert_true(mi.have_framebuffer);
	assert_true(mi.fb.addr == 0xfd000000);
	assert_int_equal(mi.fb.pitch, 4096);
	assert_int_equal(mi.fb.width, 1024);
	assert_int_equal(mi.fb.height, 768);
	assert_int_equal(mi.fb.bpp, 32);
	assert_int_equal(mi.fb.type, FB_TYPE_RGB);
	assert_int_equal(mi.fb.red_pos, 16);
	assert_int_equal(mi.fb.green_pos, 8);
	assert_int_equal(mi.fb.blue_size, 8);
	assert_true(mi.efi_boot);
	assert_true(mi.efi_system_table == 0x7fe3e018);
	assert_false(mi.have_load_base);
	assert_int_equal(count_tags(out.u.b, MB2_TAG_EFI_MMAP, &off), 0);

	/* Too small a buffer: nothing past cap is written. */
	memset(out.u.b, 0xcc, sizeof(out.u.b));
	assert_int_equal(multiboot_build_info(&k, &b, out.u.b, 100, 0x7000), need);
	for (size_t i = 100; i < need + 16; i++)
		assert_int_equal(out.u.b[i], 0xcc);

	/* The lean variant: no framebuffer, no EFI, ACPI 1.0 only, a relocatable kernel, no modules. */
	static const uint8_t rsdp_v1[20] = "RSD PTR \1\2\3\4\5\6\7\10\11\12\13";
	b.fb = NULL;
	b.efi64 = false;
	b.rsdp = rsdp_v1;
	b.rsdp_len = 20;
	b.rsdp_revision = 1;
	b.module_count = 0;
	k.mb.mb2_relocatable = true;
	need = multiboot_build_info(&k, &b, out.u.b, sizeof(out.u.b), 0x7000);
	assert_true(mb2_parse(out.u.b, need, &mi));
	assert_false(mi.have_framebuffer);
	assert_false(mi.efi_boot);
	assert_int_equal(mi.module_count, 0);
	assert_int_equal(mi.rsdp_revision, 1);
	assert_int_equal(mi.rsdp_len, 20);
	assert_memory_equal(mi.rsdp, rsdp_v1, 20);
	assert_true(mi.have_load_base);
	assert_int_equal(mi.load_base_addr, 0x100000);

	/* Indexed and EGA text framebuffers parse too. */
	struct framebuffer fb = info_fb;
	b.fb = &fb;
	fb.type = FB_TYPE_INDEXED;
	need = multiboot_build_info(&k, &b, out.u.b, sizeof(out.u.b), 0x7000);
	assert_true(mb2_parse(out.u.b, need, &mi));
	assert_int_equal(mi.fb.type, FB_TYPE_INDEXED);
	fb.type = FB_TYPE_EGA_TEXT;
	need = multiboot_build_info(&k, &b, out.u.b, sizeof(out.u.b), 0x7000);
	assert_true(mb2_parse(out.u.b, need, &mi));
	assert_int_equal(mi.fb.type, FB_TYPE_EGA_TEXT);
}

static uint32_t at32(const uint8_t *b, size_t off)
{
	return (uint32_t)get_le(b + off, 4);
}

static void test_mb1_info(void **state)
{
	static struct buf out;
	const uint64_t phys = 0x9000;
	struct guest_plan k = {.mb.version = MULTIBOOT_1, .mb.mb1_flags = 3};
	struct guest_boot b = info_boot();
	size_t need = multiboot_build_info(&k, &b, NULL, 0, phys);
	memset(out.u.b, 0xcc, sizeof(out.u.b));
	assert_int_equal(multiboot_build_info(&k, &b, out.u.b, need, phys), need);
	assert_int_equal(out.u.b[need], 0xcc);
	const uint8_t *p = out.u.b;
#define PTR(off) ((size_t)(at32(p, off) - phys))

	assert_int_equal(at32(p, 0), BIT(0) | BIT(2) | BIT(3) | BIT(6) | BIT(9) | BIT(12));
	assert_int_equal(at32(p, 4), 0x9f000 / 1024);
	assert_int_equal(at32(p, 8), (0x8000000 - 0x100000) / 1024);
	assert_int_equal(at32(p, 12), 0);
	assert_string_equal((const char *)p + PTR(16), "/boot/kernel.elf console=ttyS0 quiet");
	assert_int_equal(at32(p, 20), 2);
	size_t mods = PTR(24);
	assert_int_equal(mods % 8, 0);
	assert_int_equal(at32(p, mods), 0x2000000);
	assert_int_equal(at32(p, mods + 4), 0x2001234);
	assert_string_equal((const char *)p + PTR(mods + 8), "/boot/initrd.img");
	assert_int_equal(at32(p, mods + 12), 0);
	assert_int_equal(at32(p, mods + 16), 0x2002000);
	assert_int_equal(at32(p, mods + 20), 0x2002000);
	assert_string_equal((const char *)p + PTR(mods + 24), "");
	for (size_t o = 28; o < 44; o++)
		assert_int_equal(p[o], 0); /* syms */

	assert_int_equal(at32(p, 44), ARRAY_SIZE(want_mmap) * 24);
	size_t mm = PTR(48);
	for (size_t i = 0; i < ARRAY_SIZE(want_mmap); i++) {
		const uint8_t *e = p + mm + i * 24;
		assert_int_equal(at32(e, 0), 20);
		assert_true(get_le(e + 4, 8) == want_mmap[i].base);
		assert_true(get_le(e + 12, 8) == want_mmap[i].size);
		assert_int_equal(at32(e, 20), want_mmap[i].type);
	}
	assert_int_equal(at32(p, 52), 0);
	assert_int_equal(at32(p, 56), 0);
	assert_int_equal(at32(p, 60), 0);
	assert_string_equal((const char *)p + PTR(64), "hapvisor");
	assert_int_equal(at32(p, 68), 0);
	assert_true(get_le(p + 88, 8) == 0xfd000000);
	assert_int_equal(at32(p, 96), 4096);
	assert_int_equal(at32(p, 100), 1024);
	assert_int_equal(at32(p, 104), 768);
	assert_int_equal(p[108], 32);
	assert_int_equal(p[109], FB_TYPE_RGB);
	assert_int_equal(p[110], 16);
	assert_int_equal(p[111], 8);
	assert_int_equal(p[112], 8);
	assert_int_equal(p[114], 0);
	/* Every pointer stays inside the block. */
	assert_true(PTR(16) < need && PTR(24) < need && PTR(48) < need && PTR(64) < need);

	b.fb = NULL;
	b.module_count = 0;
	need = multiboot_build_info(&k, &b, out.u.b, sizeof(out.u.b), phys);
	assert_int_equal(at32(p, 0), BIT(0) | BIT(2) | BIT(3) | BIT(6) | BIT(9));
	assert_int_equal(at32(p, 20), 0);
	for (size_t o = 88; o < 116; o++)
		assert_int_equal(p[o], 0);
#undef PTR
}

/* ---- random kernels -------------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint32_t rng_below(uint32_t n)
{
	return n ? (uint32_t)(rng() % n) : 0;
}

/* An address near the loads of a small kernel, or anything. */
static uint32_t rng_addr(void)
{
	switch (rng_below(4)) {
	case 0:
		return (uint32_t)rng();
	case 1:
		return 0xffffffff - rng_below(0x4000);
	default:
		return 0x100000 + rng_below(0x6000);
	}
}

/* A random Multiboot2 header: tags of random types, flags and sizes, often with plausible contents. */
static void random_mb2_header(struct buf *h)
{
	/* The payload words each header tag type has (3.1.4 - 3.1.13); the request tag takes any number. */
	static const uint8_t words[] = {0, 3, 4, 1, 1, 3, 0, 0, 1, 1, 4, 2, 2};
	mb2h_begin(h, rng_below(8) ? 0 : rng_below(5));
	for (uint32_t n = rng_below(6); n > 0; n--) {
		uint16_t type = (uint16_t)(rng_below(2) ? rng_below(13) : 1 + rng_below(5));
		uint16_t flags = (uint16_t)(rng_below(3) ? 1 : 0);
		uint32_t w[6];
		size_t nw = rng_below(3) ? words[type] : rng_below(7);
		for (size_t i = 0; i < nw; i++)
			w[i] = type == MB2H_TAG_INFO_REQUEST ? rng_below(24) : rng_addr();
		if (type == MB2H_TAG_ADDRESS && nw >= 4 && rng_below(4)) {
			w[0] = 0x100000 + rng_below(0x100);
			w[1] = w[0] - rng_below(0x80);
			w[2] = rng_below(2) ? 0 : w[1] + rng_below(0x3000);
			w[3] = rng_below(2) ? 0 : w[1] + rng_below(0x8000);
		}
		mb2h_tag(h, type, flags, w, nw);
	}
	if (rng_below(3)) {
		TAG(h, MB2H_TAG_ENTRY, 0, 0x100000 + rng_below(0x3000));
	}
	mb2h_finish(h);
	if (rng_below(8) == 0)
		h->len -= rng_below((uint32_t)h->len);
}

static void random_mb1_header(struct buf *h)
{
	uint32_t flags =
		rng_below(4) == 0 ? (uint32_t)rng() : (uint32_t)(rng() & (MB1_HF_KNOWN | MB1_HF_AOUT_KLUDGE));
	uint32_t f[9];
	for (size_t i = 0; i < 9; i++)
		f[i] = rng_addr();
	if (rng_below(2)) {
		f[0] = 0x100000 + rng_below(0x100);
		f[1] = f[0] - rng_below(0x100);
		f[2] = rng_below(2) ? 0 : f[1] + rng_below(0x3000);
		f[3] = rng_below(2) ? 0 : f[1] + rng_below(0x8000);
		f[4] = f[1] + rng_below(0x2000);
	}
	mb1h(h, flags, f, rng_below(10));
}

static void check_plan(const struct guest_plan *k, size_t size)
{
	assert_true(k->segment_count >= 1 && k->segment_count <= GUEST_MAX_SEGMENTS);
	bool entry_inside = false;
	for (size_t i = 0; i < k->segment_count; i++) {
		const struct guest_segment *s = &k->segments[i];
		assert_true(s->memsz > 0 && s->filesz <= s->memsz);
		assert_true(s->offset <= size && s->filesz <= size - s->offset);
		assert_true(s->paddr + s->memsz <= GiB(4));
		entry_inside |= k->entry >= s->paddr && k->entry - s->paddr < s->memsz;
	}
	assert_true(entry_inside);
}

static void test_random_kernels_never_crash(void **state)
{
	enum { ROUNDS = 12000 };
	size_t accepted = 0;
	rng_state = 0x9e3779b97f4a7c15ull;
	for (int round = 0; round < ROUNDS; round++) {
		struct image im;
		struct buf h;
		if (rng_below(2) == 0) {
			uint64_t base = 0x100000 + rng_below(4) * 0x1000;
			im = elf_kernel(rng_below(2) ? 32 : 64, base, 0x1000 + rng_below(0x1000),
					0x2000 + rng_below(0x4000), base + rng_below(0x2400),
					rng_below(0x800), rng_below(2) ? 0x1000 : 0);
		} else {
			im = image_new(64 + rng_below(rng_below(4) ? 0x4000 : 40000));
		}
		bool mb2 = rng_below(3) != 0;
		if (mb2)
			random_mb2_header(&h);
		else
			random_mb1_header(&h);
		size_t align = mb2 ? 8 : 4, window = MIN(im.size, (size_t)(mb2 ? 32768 : 8192));
		if (h.len <= window) {
			size_t off = rng_below((uint32_t)((window - h.len) / align + 1)) * align;
			if (rng_below(2) && im.size > KTEXT_OFF + h.len && KTEXT_OFF + h.len <= window)
				off = KTEXT_OFF;
			image_put(&im, off, &h);
		}
		for (uint32_t n = rng_below(4); n > 0; n--)
			im.p[rng_below((uint32_t)im.size)] = (uint8_t)rng();
		if (round % 9 == 0) {
			for (size_t i = 0; i < im.size; i++)
				im.p[i] = (uint8_t)rng();
		}
		if (rng_below(6) == 0) /* cut the file short: the heap block shrinks with it */
			im.size = rng_below((uint32_t)im.size + 1);
		uint8_t *copy = malloc(im.size ? im.size : 1);
		assert_non_null(copy);
		memcpy(copy, im.p, im.size);
		free(im.p);

		struct guest_plan k;
		host_console_reset();
		if (multiboot_parse(copy, im.size, &k)) {
			accepted++;
			assert_null(strstr(host_console_buf, "error"));
			check_plan(&k, im.size);
		} else {
			const char *e = strstr(host_console_buf, "hapvisor: error: guest kernel: ");
			assert_non_null(e);
			assert_null(strstr(e + 1, "hapvisor: error:"));
			if (getenv("MB_FUZZ_DEBUG"))
				fprintf(stderr, "%s", e);
		}
		(void)guest_probe(copy, im.size);
		free(copy);
	}
	assert_true(accepted > ROUNDS / 20);
	print_message("random kernels: %zu of %d accepted\n", accepted, ROUNDS);
}

/* ---- guest_load() on a host arena ------------------------------------------------------------------ */

struct arena_module {
	uint32_t pa;
	const struct image *im;
	const char *string;
};

/* Copy the modules into the arena and describe them (and an RSDP) in hapvisor's information block. */
static void arena_boot(const struct arena_module *mods, size_t n)
{
	static struct buf blk;
	blk.len = 0;
	b_u32(&blk, 0);
	b_u32(&blk, 0);
	const char cmd[] = "loglevel=debug";
	b_u32(&blk, MB2_TAG_CMDLINE);
	b_u32(&blk, 8 + sizeof(cmd));
	b_bytes(&blk, cmd, sizeof(cmd));
	b_align(&blk, 8);
	for (size_t i = 0; i < n; i++) {
		memcpy(arena + mods[i].pa, mods[i].im->p, mods[i].im->size);
		b_u32(&blk, MB2_TAG_MODULE);
		b_u32(&blk, (uint32_t)(16 + strlen(mods[i].string) + 1));
		b_u32(&blk, mods[i].pa);
		b_u32(&blk, (uint32_t)(mods[i].pa + mods[i].im->size));
		b_bytes(&blk, mods[i].string, strlen(mods[i].string) + 1);
		b_align(&blk, 8);
	}
	uint8_t rsdp[36] = "RSD PTR ";
	b_u32(&blk, MB2_TAG_ACPI_NEW);
	b_u32(&blk, 8 + 36);
	b_bytes(&blk, rsdp, sizeof(rsdp));
	b_align(&blk, 8);
	b_u32(&blk, MB2_TAG_END);
	b_u32(&blk, 8);
	put_le(blk.u.b, blk.len, 4);
	memcpy(arena + HV_INFO_PA, blk.u.b, blk.len);
	assert_true(mb2_parse(arena + HV_INFO_PA, MB2_INFO_MAX, &hv));
	assert_int_equal(hv.module_count, n);
}

/* The guest's Multiboot2 information at out->ebx, parsed. */
static void guest_info(const struct guest_entry_state *out, struct mb2_info *mi)
{
	assert_int_equal(out->eax, MB2_BOOTLOADER_MAGIC);
	assert_int_equal(out->ebx % PAGE_SIZE, 0);
	assert_true(mb2_parse(arena + out->ebx, MB2_INFO_MAX, mi));
	/* The highest free pages of conventional memory, which the arena's map ends at 0x9f000. */
	assert_int_equal(out->ebx, ARENA_LOW_RAM_END - ALIGN_UP((uint64_t)mi->total_size, PAGE_SIZE));
}

static void test_load_mb2_elf(void **state)
{
	arena_reset();
	struct buf h;
	mb2h_elf_default(&h);
	struct image kern = elf_kernel(32, 0x100000, 0x2000, 0x2000, 0x100010, 0x800, 0x3000);
	image_put(&kern, KTEXT_OFF, &h);
	struct image initrd = image_new(0x1234), blob = image_new(0x321);
	for (size_t i = 0; i < blob.size; i++)
		blob.p[i] = (uint8_t)(0x5a ^ i);
	const struct arena_module mods[] = {
		{0x200000, &kern, "/boot/kernel.elf console=ttyS0"},
		{0x300000, &initrd, "/boot/initrd"},
		{0x110400, &blob, "/boot/blob x=1"}, /* under the kernel's data segment, and unaligned */
	};
	arena_boot(mods, 3);

	struct guest_entry_state out;
	host_console_reset();
	if (!guest_load(&hv, &guest_map, NULL, &out))
		fail_msg("refused: %s", host_console_buf);
	assert_null(strstr(host_console_buf, "error"));
	assert_int_equal(out.eip, 0x100010);

	/* Segments copied, bss zeroed, nothing written around them. */
	assert_memory_equal(arena + 0x100000, kern.p + KTEXT_OFF, 0x2000);
	assert_memory_equal(arena + 0x110000, kern.p + KTEXT_OFF + 0x2000, 0x800);
	for (size_t i = 0x110800; i < 0x113000; i++)
		assert_int_equal(arena[i], 0);
	assert_int_equal(arena[0xfffff], 0xaa);
	assert_int_equal(arena[0x102000], 0xaa);
	assert_int_equal(arena[0x113000], 0xaa);

	struct mb2_info mi;
	guest_info(&out, &mi);
	assert_string_equal(mi.cmdline, "/boot/kernel.elf console=ttyS0");
	assert_string_equal(mi.loader_name, "hapvisor");
	assert_int_equal(mi.module_count, 2);
	assert_int_equal(mi.modules[0].start, 0x300000); /* stays: clear of everything, aligned */
	assert_int_equal(mi.modules[0].end, 0x300000 + 0x1234);
	assert_string_equal(mi.modules[0].string, "/boot/initrd");
	assert_memory_equal(arena + 0x300000, initrd.p, initrd.size);
	uint32_t moved = mi.modules[1].start;
	assert_int_equal(moved % PAGE_SIZE, 0);
	assert_int_equal(mi.modules[1].end, moved + 0x321);
	assert_false(overlaps(moved, 0x321, 0x100000, 0x2000) || overlaps(moved, 0x321, 0x110000, 0x3000));
	assert_false(overlaps(moved, 0x321, out.ebx, mi.total_size));
	assert_true(moved >= MiB(1) && moved + 0x321 <= HV_REGION_BASE);
	assert_memory_equal(arena + moved, blob.p, blob.size);
	assert_string_equal(mi.modules[1].string, "/boot/blob x=1");
	assert_non_null(strstr(host_console_buf, "module 2 (/boot/blob x=1, 801 bytes) moves from 0x110400"));

	/* The guest's memory map: hapvisor's region reserved, the rest as the firmware said. */
	bool saw_hv = false;
	for (size_t i = 0; i < mi.mmap_count; i++) {
		const struct mb2_mmap_entry *e = mb2_mmap_at(&mi, i);
		if (e->base_addr == HV_REGION_BASE) {
			saw_hv = true;
			assert_true(e->length == ARENA_SIZE - HV_REGION_BASE);
			assert_int_equal(e->type, MB2_MMAP_RESERVED);
		}
		if (e->base_addr == 0xc00000)
			assert_int_equal(e->type, MB2_MMAP_ACPI_RECLAIMABLE);
		assert_false(overlaps(e->base_addr, e->length, HV_REGION_BASE, 1) && e->type == 1);
	}
	assert_true(saw_hv);
	assert_int_equal(mi.rsdp_revision, 2);
	assert_memory_equal(mi.rsdp, "RSD PTR ", 8);
	assert_false(mi.efi_boot);

	/* The guest's boot data is recorded in the map as MEM_BOOT. */
	assert_true(memmap_is_type(&guest_map, out.ebx, PAGE_SIZE, MEM_BOOT));
	assert_true(memmap_is_type(&guest_map, moved, PAGE_SIZE, MEM_BOOT));
	assert_true(memmap_is_type(&guest_map, 0x300000, 0x2000, MEM_BOOT));
	assert_true(memmap_is_type(&guest_map, HV_REGION_BASE, ARENA_SIZE - HV_REGION_BASE, MEM_HAPVISOR));

	assert_non_null(
		strstr(host_console_buf,
		       "hapvisor: event=guest_segment index=0 paddr=0x100000 filesz=8192 memsz=8192\n"));
	assert_non_null(
		strstr(host_console_buf,
		       "hapvisor: event=guest_segment index=1 paddr=0x110000 filesz=2048 memsz=12288\n"));
	char want[200];
	snprintf(want, sizeof(want),
		 "hapvisor: event=guest_load format=mb2 entry=0x100010 segments=2 kernel_bytes=%zu "
		 "boot_info=0x%x modules=2\n",
		 kern.size, out.ebx);
	assert_non_null(strstr(host_console_buf, want));
	free(kern.p);
	free(initrd.p);
	free(blob.p);
}

/* The kernel file lies where its own segments go: it must be moved first, then loaded from there. */
static void test_load_kernel_over_itself(void **state)
{
	arena_reset();
	struct buf h;
	mb2h_elf_default(&h);
	struct image kern = elf_kernel(32, 0x100000, 0x3000, 0x3000, 0x100000, 0x1000, 0x2000);
	image_put(&kern, KTEXT_OFF, &h);
	const struct arena_module mods[] = {{0x101000, &kern, "/boot/k"}};
	arena_boot(mods, 1);
	struct guest_entry_state out;
	host_console_reset();
	if (!guest_load(&hv, &guest_map, NULL, &out))
		fail_msg("refused: %s", host_console_buf);
	assert_non_null(strstr(host_console_buf, "module 0 (/boot/k, 20480 bytes) moves from 0x101000"));
	assert_memory_equal(arena + 0x100000, kern.p + KTEXT_OFF, 0x3000);
	assert_memory_equal(arena + 0x110000, kern.p + KTEXT_OFF + 0x3000, 0x1000);
	for (size_t i = 0x111000; i < 0x112000; i++)
		assert_int_equal(arena[i], 0);
	struct mb2_info mi;
	guest_info(&out, &mi);
	assert_int_equal(mi.module_count, 0);
	assert_string_equal(mi.cmdline, "/boot/k");
	free(kern.p);
}

static void test_load_mb1_aout(void **state)
{
	arena_reset();
	struct buf h;
	const uint32_t f[] = {0x200040, 0x200000, 0x201000, 0x204000, 0x200080};
	mb1h(&h, MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO | MB1_HF_AOUT_KLUDGE, f, 5);
	struct image kern = image_new(0x1000);
	image_put(&kern, 0x40, &h);
	struct image mod = image_new(0x2000);
	const struct arena_module mods[] = {{0x400000, &kern, "/boot/mb1 a b"}, {0x500000, &mod, "m1"}};
	arena_boot(mods, 2);
	struct guest_entry_state out;
	host_console_reset();
	if (!guest_load(&hv, &guest_map, NULL, &out))
		fail_msg("refused: %s", host_console_buf);
	assert_int_equal(out.eax, MB1_BOOTLOADER_MAGIC);
	assert_int_equal(out.eip, 0x200080);
	assert_memory_equal(arena + 0x200000, kern.p, 0x1000);
	for (size_t i = 0x201000; i < 0x204000; i++)
		assert_int_equal(arena[i], 0);
	/* The information in the highest free page of conventional memory, still counted in mem_lower. */
	assert_int_equal(out.ebx, ARENA_LOW_RAM_END - PAGE_SIZE);
	const uint8_t *p = arena + out.ebx;
	assert_int_equal(at32(p, 0) & (BIT(0) | BIT(3) | BIT(6) | BIT(9)), BIT(0) | BIT(3) | BIT(6) | BIT(9));
	assert_int_equal(at32(p, 4), 0x9f000 / 1024);
	const size_t pointers[] = {16, 24, 48, 64}; /* cmdline, mods_addr, mmap_addr, boot_loader_name */
	for (size_t i = 0; i < sizeof(pointers) / sizeof(pointers[0]); i++)
		assert_true(at32(p, pointers[i]) > out.ebx && at32(p, pointers[i]) < out.ebx + PAGE_SIZE);
	assert_int_equal(at32(p, 8), (0xc00000 - 0x100000) / 1024); /* up to the ACPI tables */
	assert_string_equal((const char *)arena + at32(p, 16), "/boot/mb1 a b");
	assert_int_equal(at32(p, 20), 1);
	const uint8_t *m = arena + at32(p, 24);
	assert_int_equal(at32(m, 0), 0x500000);
	assert_int_equal(at32(m, 4), 0x502000);
	assert_string_equal((const char *)arena + at32(m, 8), "m1");
	assert_string_equal((const char *)arena + at32(p, 64), "hapvisor");
	assert_non_null(strstr(host_console_buf,
			       "event=guest_load format=mb1 entry=0x200080 segments=1 kernel_bytes=4096"));
	free(kern.p);
	free(mod.p);
}

static void test_load_refusals(void **state)
{
	struct buf h;
	arena_reset();
	arena_boot(NULL, 0);
	expect_load_refused(
		"no guest kernel: add 'module2 /boot/KERNEL ARGS' after the multiboot2 line in grub.cfg");

	struct image junk = image_new(0x5000);
	const struct arena_module m_junk[] = {{0x200000, &junk, "/boot/junk.bin"}};
	arena_reset();
	arena_boot(m_junk, 1);
	expect_load_refused(
		"module 0 (/boot/junk.bin, 20480 bytes) is not a kernel hapvisor can boot: no "
		"Multiboot1 or Multiboot2 header in its first 32 KiB, no Linux bzImage setup header, "
		"no ELF PVH entry note");

	put_le(junk.p + 0x1fe, 0xaa55, 2);
	memcpy(junk.p + 0x202, "HdrS", 4);
	arena_reset();
	arena_boot(m_junk, 1);
	/* A bzImage is loaded now (tests/unit/test_bzimage.c); this one's header is junk. */
	expect_load_refused("guest kernel: Linux bzImage: the setup header ends at 0x214 (jump at 0x200), "
			    "before the init_size field");
	assert_int_equal(guest_probe(junk.p, junk.size), GUEST_FORMAT_LINUX_BZIMAGE);
	assert_string_equal(guest_format_name(GUEST_FORMAT_LINUX_BZIMAGE), "linux-bzimage");
	free(junk.p);

	/* A segment over hapvisor's region, in reserved memory, in a hole. */
	mb2h_elf_default(&h);
	struct image kern =
		elf_kernel(32, HV_REGION_BASE - 0x1000, 0x2000, 0x2000, HV_REGION_BASE - 0x1000, 0, 0);
	image_put(&kern, KTEXT_OFF, &h);
	const struct arena_module m_kern[] = {{0x200000, &kern, "/boot/k"}};
	arena_reset();
	arena_boot(m_kern, 1);
	expect_load_refused("guest kernel: segment 0 (program header 0) [0xdff000, 0xe01000) overlaps "
			    "hapvisor's region [0xe00000, 0x1000000)");
	free(kern.p);

	kern = elf_kernel(32, 0x9e000, 0x2000, 0x2000, 0x9e000, 0, 0);
	image_put(&kern, KTEXT_OFF, &h);
	const struct arena_module m_kern2[] = {{0x200000, &kern, "/boot/k"}};
	arena_reset();
	arena_boot(m_kern2, 1);
	expect_load_refused("guest kernel: segment 0 (program header 0) [0x9e000, 0xa0000) overlaps "
			    "[0x9f000, 0x100000), which is reserved memory, not available RAM");
	free(kern.p);

	kern = elf_kernel(32, 0x800, 0x1000, 0x1000, 0x800, 0, 0);
	image_put(&kern, KTEXT_OFF, &h);
	const struct arena_module m_kern0[] = {{0x200000, &kern, "/boot/k"}};
	arena_reset();
	arena_boot(m_kern0, 1);
	expect_load_refused("guest kernel: segment 0 (program header 0) [0x800, 0x1800) covers page 0");
	free(kern.p);

	kern = elf_kernel(32, 0x2000000, 0x1000, 0x1000, 0x2000000, 0, 0);
	image_put(&kern, KTEXT_OFF, &h);
	const struct arena_module m_kern3[] = {{0x200000, &kern, "/boot/k"}};
	arena_reset();
	arena_boot(m_kern3, 1);
	expect_load_refused(
		"[0x2000000, 0x2001000) is not in RAM: address 0x2000000 is in no range of the memory map");

	/* Header refusals come through guest_load() unchanged. */
	mb2h_begin(&h, MB2_HEADER_ARCH_I386);
	TAG(&h, MB2H_TAG_INFO_REQUEST, 0, MB2_TAG_EFI64_IH);
	mb2h_finish(&h);
	image_put(&kern, KTEXT_OFF, &h);
	arena_reset();
	arena_boot(m_kern3, 1);
	expect_load_refused("requires boot information tag 20 (EFI 64-bit image handle)");
	free(kern.p);

	/* No room to move a module out of the kernel's way. */
	mb2h_elf_default(&h);
	kern = elf_kernel(32, 0x100000, 0x1000, 0xb00000, 0x100000, 0, 0);
	image_put(&kern, KTEXT_OFF, &h);
	struct image big = image_new(0x200000);
	const struct arena_module m_big[] = {{0xd00000, &kern, "/boot/k"}, {0x400000, &big, "/boot/big"}};
	arena_reset();
	arena_boot(m_big, 2);
	expect_load_refused("no free RAM below 4 GiB to move module 1 (/boot/big, 2097152 bytes), which must "
			    "move because it overlaps the kernel's segments");
	free(kern.p);
	free(big.p);
}

/* The Linux formats are recognized. */
static void test_probe(void **state)
{
	struct image im = image_new(0x800);
	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_UNKNOWN);
	assert_string_equal(guest_format_name(GUEST_FORMAT_UNKNOWN), "unknown");
	struct buf h;
	mb1h(&h, 0, NULL, 0);
	image_put(&im, 0x100, &h);
	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_MB1);
	mb2h_begin(&h, 0);
	mb2h_finish(&h);
	image_put(&im, 0x200, &h);
	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_MB2);
	assert_string_equal(guest_format_name(GUEST_FORMAT_MB2), "mb2");
	free(im.p);

	/* A PVH vmlinux: an ELF with the Xen PHYS32_ENTRY note in a PT_NOTE segment. */
	im = elf_kernel(64, 0x1000000, 0x1000, 0x1000, 0x1000000, 0, 0);
	uint8_t *e = im.p + 64 + 56; /* a second program header: PT_NOTE at file offset 0x200 */
	put_le(im.p + 56, 2, 2);
	memset(e, 0, 56);
	put_le(e, 4, 4);
	put_le(e + 8, 0x200, 8);
	put_le(e + 32, 20, 8);
	put_le(e + 48, 4, 8);
	put_le(im.p + 0x200, 4, 4);
	put_le(im.p + 0x204, 4, 4);
	put_le(im.p + 0x208, 18, 4);
	memcpy(im.p + 0x20c, "Xen", 4);
	put_le(im.p + 0x210, 0x1000000, 4);
	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_LINUX_PVH);
	assert_string_equal(guest_format_name(GUEST_FORMAT_LINUX_PVH), "linux-pvh");
	free(im.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_headers),
		cmocka_unit_test(test_mb2_elf_kernel),
		cmocka_unit_test(test_mb2_address_tag),
		cmocka_unit_test(test_mb2_refusals),
		cmocka_unit_test(test_mb1_kernels),
		cmocka_unit_test(test_mb2_info),
		cmocka_unit_test(test_mb1_info),
		cmocka_unit_test(test_random_kernels_never_crash),
		cmocka_unit_test(test_probe),
		cmocka_unit_test(test_load_mb2_elf),
		cmocka_unit_test(test_load_kernel_over_itself),
		cmocka_unit_test(test_load_mb1_aout),
		cmocka_unit_test(test_load_refusals),
	};
	return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
