/*
 * guest/elf.c: good ELF32 and ELF64 kernels decoded field by field; every malformed variant (truncated
 * files, program headers or file data past the end, filesz > memsz, overlapping segments, wrap-around,
 * wrong identification) rejected with one error line; PVH-style note lookup; and seeded random images that
 * must never make the parser read outside the image (each image is a heap block of exactly its size).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "guest/elf.h"
#include "tests/unit/host_stubs.h"

#define PT_LOAD 1u
#define PT_NOTE 4u
#define PT_GNU_STACK 0x6474e551u
#define PF_X 1u
#define PF_W 2u
#define PF_R 4u

struct ph {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct elf_spec {
	unsigned bits;
	uint8_t class_, data, ident_version;
	uint16_t type, machine, phentsize;
	uint32_t version;
	uint64_t entry, phoff;
	size_t phnum;
	struct ph ph[8];
	size_t size; /* file size */
};

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The file described by s, in a heap block of exactly s->size bytes (program headers must fit). */
static uint8_t *make_elf(const struct elf_spec *s)
{
	uint8_t *p = malloc(s->size ? s->size : 1);
	assert_non_null(p);
	for (size_t i = 0; i < s->size; i++)
		p[i] = (uint8_t)(i * 7 + 3);
	bool b64 = s->bits == 64;
	size_t w = b64 ? 8 : 4;
	assert_true(s->size >= (b64 ? 64u : 52u));
	memcpy(p, "\177ELF", 4);
	p[4] = s->class_;
	p[5] = s->data;
	p[6] = s->ident_version;
	memset(p + 7, 0, 9);
	put_le(p + 16, s->type, 2);
	put_le(p + 18, s->machine, 2);
	put_le(p + 20, s->version, 4);
	put_le(p + 24, s->entry, w);
	put_le(p + (b64 ? 32 : 28), s->phoff, w);
	put_le(p + (b64 ? 40 : 32), 0, w); /* e_shoff */
	put_le(p + (b64 ? 52 : 40), b64 ? 64 : 52, 2);
	put_le(p + (b64 ? 54 : 42), s->phentsize, 2);
	put_le(p + (b64 ? 56 : 44), s->phnum, 2);
	for (size_t i = 0; i < s->phnum && i < 8; i++) {
		const struct ph *h = &s->ph[i];
		size_t o = (size_t)s->phoff + i * s->phentsize;
		if (s->phoff > s->size || o + (b64 ? 56 : 32) > s->size)
			break;
		uint8_t *e = p + o;
		put_le(e, h->type, 4);
		if (b64) {
			put_le(e + 4, h->flags, 4);
			put_le(e + 8, h->offset, 8);
			put_le(e + 16, h->vaddr, 8);
			put_le(e + 24, h->paddr, 8);
			put_le(e + 32, h->filesz, 8);
			put_le(e + 40, h->memsz, 8);
			put_le(e + 48, h->align, 8);
		} else {
			put_le(e + 4, h->offset, 4);
			put_le(e + 8, h->vaddr, 4);
			put_le(e + 12, h->paddr, 4);
			put_le(e + 16, h->filesz, 4);
			put_le(e + 20, h->memsz, 4);
			put_le(e + 24, h->flags, 4);
			put_le(e + 28, h->align, 4);
		}
	}
	return p;
}

/* A GRUB-style 32-bit kernel: text, a note, data + bss, an empty PT_LOAD, a GNU_STACK entry. */
static struct elf_spec good32(void)
{
	return (struct elf_spec){
		.bits = 32,
		.class_ = 1,
		.data = 1,
		.ident_version = 1,
		.type = 2,
		.machine = 3,
		.phentsize = 32,
		.version = 1,
		.entry = 0x100010,
		.phoff = 52,
		.phnum = 5,
		.size = 0x2400,
		.ph =
			{
				{PT_LOAD, PF_R | PF_X, 0x1000, 0x100000, 0x100000, 0x800, 0x800, 0x1000},
				{PT_NOTE, PF_R, 0x1800, 0, 0, 0x18, 0x18, 4},
				{PT_LOAD, PF_R | PF_W, 0x2000, 0x102000, 0x102000, 0x400, 0x3000, 0x1000},
				{PT_LOAD, PF_R, 0x2400, 0x200000, 0x200000, 0, 0, 0x1000},
				{PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16},
			},
	};
}

/* A higher-half 64-bit kernel: linked at -2 GiB, loaded at 1 MiB (p_paddr). */
static struct elf_spec good64(void)
{
	return (struct elf_spec){
		.bits = 64,
		.class_ = 2,
		.data = 1,
		.ident_version = 1,
		.type = 2,
		.machine = 62,
		.phentsize = 56,
		.version = 1,
		.entry = 0xffffffff80100020ull,
		.phoff = 64,
		.phnum = 2,
		.size = 0x3000,
		.ph =
			{
				{PT_LOAD, PF_R | PF_X, 0x1000, 0xffffffff80100000ull, 0x100000, 0x1000,
				 0x1000, 0x1000},
				{PT_LOAD, PF_R | PF_W, 0x2000, 0xffffffff80101000ull, 0x101000, 0x1000,
				 0x5000, 0x1000},
			},
	};
}

/* elf_parse must fail on the first n bytes of p with exactly one error line that contains message. */
static void expect_reject_n(const uint8_t *p, size_t n, const char *message)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	memcpy(copy, p, n);
	struct elf_image elf;
	host_console_reset();
	if (elf_parse(copy, n, &elf))
		fail_msg("accepted; expected \"%s\"", message);
	if (message && !strstr(host_console_buf, message))
		fail_msg("expected \"%s\"; console:\n%s", message, host_console_buf);
	assert_int_equal(strncmp(host_console_buf, "hapvisor: error: guest kernel: ", 31), 0);
	assert_ptr_equal(strchr(host_console_buf, '\n'), host_console_buf + host_console_len - 1);
	free(copy);
}

static void expect_reject(const struct elf_spec *s, const char *message)
{
	uint8_t *p = make_elf(s);
	expect_reject_n(p, s->size, message);
	free(p);
}

static void test_good_elf32(void **state)
{
	struct elf_spec s = good32();
	uint8_t *p = make_elf(&s);
	struct elf_image elf;
	host_console_reset();
	assert_true(elf_parse(p, s.size, &elf));
	assert_int_equal(host_console_len, 0);
	assert_int_equal(elf.bits, 32);
	assert_int_equal(elf.type, 2);
	assert_int_equal(elf.entry, 0x100010);
	assert_int_equal(elf.segment_count, 2);
	assert_int_equal(elf.segments[0].paddr, 0x100000);
	assert_int_equal(elf.segments[0].offset, 0x1000);
	assert_int_equal(elf.segments[0].filesz, 0x800);
	assert_int_equal(elf.segments[0].memsz, 0x800);
	assert_int_equal(elf.segments[0].flags, PF_R | PF_X);
	assert_int_equal(elf.segments[0].phdr, 0);
	assert_int_equal(elf.segments[1].paddr, 0x102000);
	assert_int_equal(elf.segments[1].offset, 0x2000);
	assert_int_equal(elf.segments[1].filesz, 0x400);
	assert_int_equal(elf.segments[1].memsz, 0x3000);
	assert_int_equal(elf.segments[1].phdr, 2);
	assert_int_equal(elf_entry_paddr(&elf), 0x100010);
	assert_true(elf_is_elf(p, s.size));
	assert_false(elf_is_elf(p, 3));

	/* p_paddr is the load address even when p_vaddr differs; the entry is translated. */
	s.ph[0].vaddr = 0xc0100000;
	s.ph[2].vaddr = 0xc0102000;
	s.entry = 0xc0100040;
	s.type = 3; /* ET_DYN is accepted too */
	free(p);
	p = make_elf(&s);
	assert_true(elf_parse(p, s.size, &elf));
	assert_int_equal(elf.segments[0].paddr, 0x100000);
	assert_int_equal(elf.segments[0].vaddr, 0xc0100000);
	assert_int_equal(elf_entry_paddr(&elf), 0x100040);
	/* An entry outside every virtual range is taken as physical. */
	s.entry = 0x300000;
	free(p);
	p = make_elf(&s);
	assert_true(elf_parse(p, s.size, &elf));
	assert_int_equal(elf_entry_paddr(&elf), 0x300000);
	free(p);
}

static void test_good_elf64(void **state)
{
	struct elf_spec s = good64();
	uint8_t *p = make_elf(&s);
	struct elf_image elf;
	host_console_reset();
	assert_true(elf_parse(p, s.size, &elf));
	assert_int_equal(host_console_len, 0);
	assert_int_equal(elf.bits, 64);
	assert_int_equal(elf.segment_count, 2);
	assert_true(elf.segments[0].vaddr == 0xffffffff80100000ull);
	assert_int_equal(elf.segments[0].paddr, 0x100000);
	assert_int_equal(elf.segments[1].paddr, 0x101000);
	assert_int_equal(elf.segments[1].filesz, 0x1000);
	assert_int_equal(elf.segments[1].memsz, 0x5000);
	assert_true(elf.entry == 0xffffffff80100020ull);
	assert_int_equal(elf_entry_paddr(&elf), 0x100020);

	/* A wider program header entry (padding after the fields) and an odd table offset still work. */
	s.phentsize = 64;
	s.phoff = 0x101;
	free(p);
	p = make_elf(&s);
	assert_true(elf_parse(p, s.size, &elf));
	assert_int_equal(elf.segment_count, 2);
	free(p);
}

static void test_truncated_files(void **state)
{
	const struct elf_spec specs[2] = {good32(), good64()};
	for (size_t k = 0; k < 2; k++) {
		uint8_t *p = make_elf(&specs[k]);
		for (size_t n = 0; n < specs[k].size; n++)
			expect_reject_n(p, n, NULL);
		free(p);
	}
	struct elf_spec s = good32();
	uint8_t *p = make_elf(&s);
	expect_reject_n(p, 3, "not an ELF file");
	expect_reject_n(p, 40, "the 52-byte ELF32 header runs past the end of the 40-byte module");
	expect_reject_n(p, 100,
			"program header table (offset 0x34, 5 entries of 32 bytes) runs past the end of the "
			"100-byte module");
	expect_reject_n(p, 0x23ff,
			"guest kernel: program header 2: file data (offset 0x2000, 0x400 bytes) runs past "
			"the end of the 9215-byte module");
	free(p);
}

static void test_program_headers_past_end(void **state)
{
	struct elf_spec s = good32();
	s.phoff = s.size - 32; /* one entry fits, five do not */
	s.phnum = 1;
	uint8_t *p = make_elf(&s);
	struct elf_image elf;
	assert_true(elf_parse(p, s.size, &elf)); /* the table's last bytes are the file's last bytes */
	assert_int_equal(elf.segment_count, 1);
	free(p);
	s.phnum = 5;
	expect_reject(&s, "program header table (offset 0x23e0, 5 entries of 32 bytes) runs past the end");
	s.phoff = 0xffffffff;
	expect_reject(&s, "program header table (offset 0xffffffff");
	s = good64();
	s.phoff = 0xfffffffffffffff0ull;
	expect_reject(&s, "program header table (offset 0xfffffffffffffff0, 2 entries of 56 bytes)");
	s = good32();
	s.ph[0].offset = 0xfffffff0;
	expect_reject(&s, "program header 0: file data (offset 0xfffffff0, 0x800 bytes) runs past the end of "
			  "the 9216-byte module");
	s = good64();
	s.ph[1].offset = 0x2001;
	expect_reject(&s, "program header 1: file data (offset 0x2001, 0x1000 bytes) runs past the end");
	s = good64();
	s.ph[1].offset = 0x10;
	s.ph[1].filesz = 0xfffffffffffffff8ull;
	s.ph[1].memsz = 0xfffffffffffffff8ull;
	expect_reject(&s, "program header 1: file data (offset 0x10, 0xfffffffffffffff8 bytes)");
}

static void test_filesz_above_memsz(void **state)
{
	struct elf_spec s = good32();
	s.ph[2].memsz = 0x3ff;
	expect_reject(&s, "program header 2: file size 0x400 is larger than its memory size 0x3ff");
	s = good32();
	s.ph[3].filesz = 1; /* memsz 0 */
	expect_reject(&s, "program header 3: file size 0x1 is larger than its memory size 0x0");
}

static void test_overlapping_segments(void **state)
{
	struct elf_spec s = good32();
	s.ph[2].paddr = 0x1007ff; /* last byte of segment 0 */
	expect_reject(&s, "program headers 0 and 2 overlap: [0x100000, 0x100800) and [0x1007ff, 0x1037ff)");
	s.ph[2].paddr = 0x100800; /* adjacent: fine */
	uint8_t *p = make_elf(&s);
	struct elf_image elf;
	assert_true(elf_parse(p, s.size, &elf));
	free(p);
	s = good64();
	s.ph[0].paddr = 0x104fff; /* inside segment 1's bss */
	expect_reject(&s, "program headers 0 and 1 overlap");
}

static void test_wrap_around(void **state)
{
	struct elf_spec s = good32();
	s.ph[2].paddr = 0xfffff000;
	expect_reject(&s, "program header 2: load range 0xfffff000 + 0x3000 bytes wraps around the 32-bit "
			  "address space");
	s.ph[2].paddr = 0xffffd000; /* ends exactly at 4 GiB: fine for the ELF parser */
	uint8_t *p = make_elf(&s);
	struct elf_image elf;
	assert_true(elf_parse(p, s.size, &elf));
	free(p);
	s = good64();
	s.ph[1].paddr = 0xfffffffffffff000ull;
	expect_reject(&s, "program header 1: load range 0xfffffffffffff000 + 0x5000 bytes wraps around the "
			  "64-bit address space");
}

static void test_bad_identification(void **state)
{
	struct elf_spec s = good32();
	s.class_ = 3;
	expect_reject(&s, "ELF class 3 is neither ELFCLASS32 (1) nor ELFCLASS64 (2)");
	s = good32();
	s.data = 2;
	expect_reject(&s, "ELF data encoding 2 is not little-endian");
	s = good32();
	s.ident_version = 0;
	expect_reject(&s, "ELF identification version 0");
	s = good32();
	s.type = 1;
	expect_reject(&s, "ELF type 1 is not an executable");
	s = good32();
	s.machine = 62;
	expect_reject(&s, "ELF machine 62 is not EM_386 (3)");
	s = good64();
	s.machine = 3;
	expect_reject(&s, "ELF machine 3 is not EM_X86_64 (62)");
	s = good32();
	s.version = 2;
	expect_reject(&s, "ELF version 2 is not EV_CURRENT");
	s = good32();
	s.phnum = 0;
	expect_reject(&s, "no program headers");
	s = good32();
	s.phnum = 0xffff;
	expect_reject(&s, "PN_XNUM");
	s = good64();
	s.phentsize = 32;
	expect_reject(&s, "program header entry size 32 is smaller than 56");
	s = good32();
	s.ph[0].type = PT_NOTE;
	s.ph[2].type = 0x70000000;
	expect_reject(&s, "no loadable (PT_LOAD) segment");
}

static void test_too_many_segments(void **state)
{
	enum { N = ELF_MAX_SEGMENTS + 1 };
	size_t size = 0x1000;
	uint8_t *p = calloc(1, size);
	assert_non_null(p);
	struct elf_spec s = good32();
	s.phnum = 0;
	s.size = size;
	uint8_t *hdr = make_elf(&s);
	memcpy(p, hdr, 52);
	free(hdr);
	put_le(p + 44, N, 2);
	for (size_t i = 0; i < N; i++) {
		uint8_t *e = p + 52 + i * 32;
		put_le(e, PT_LOAD, 4);
		put_le(e + 4, 0x800, 4);
		put_le(e + 12, 0x100000 + i * 0x1000, 4);
		put_le(e + 16, 0x10, 4);
		put_le(e + 20, 0x10, 4);
	}
	expect_reject_n(p, size, "more than 16 loadable (PT_LOAD) segments");
	put_le(p + 44, N - 1, 2);
	struct elf_image elf;
	assert_true(elf_parse(p, size, &elf));
	assert_int_equal(elf.segment_count, ELF_MAX_SEGMENTS);
	free(p);
}

static size_t align_to(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* Append one note (12-byte header, name, descriptor, each start aligned) at off; returns the next off. */
static size_t put_note(uint8_t *n, size_t off, const char *name, uint32_t type, size_t align)
{
	size_t name_len = strlen(name) + 1;
	put_le(n + off, name_len, 4);
	put_le(n + off + 4, 4, 4);
	put_le(n + off + 8, type, 4);
	memcpy(n + off + 12, name, name_len);
	size_t desc = align_to(off + 12 + name_len, align);
	put_le(n + desc, 0x100000, 4);
	return align_to(desc + 4, align);
}

/* good32() whose PT_NOTE segment (at 0x1800) holds a GNU note, then the note (name, type) asked for. */
static uint8_t *elf_with_note(struct elf_spec *s, const char *name, uint32_t type, uint64_t align)
{
	*s = good32();
	uint8_t *p = make_elf(s);
	size_t end = put_note(p + 0x1800, 0, "GNU", 3, (size_t)align);
	end = put_note(p + 0x1800, end, name, type, (size_t)align);
	put_le(p + 52 + 32 + 16, end, 4);   /* program header 1: p_filesz */
	put_le(p + 52 + 32 + 28, align, 4); /* p_align */
	return p;
}

static void test_notes(void **state)
{
	struct elf_spec s;
	uint8_t *p = elf_with_note(&s, "Xen", 18, 4);
	assert_true(elf_has_note(p, s.size, "Xen", 18));
	assert_false(elf_has_note(p, s.size, "Xen", 17));
	assert_false(elf_has_note(p, s.size, "Xe", 18));
	assert_true(elf_has_note(p, s.size, "GNU", 3));
	/* A note area cut short ends the search, quietly. */
	put_le(p + 52 + 32 + 16, 20, 4);
	host_console_reset();
	assert_false(elf_has_note(p, s.size, "Xen", 18));
	assert_int_equal(host_console_len, 0);
	free(p);
	p = elf_with_note(&s, "Xen", 18, 8);
	assert_true(elf_has_note(p, s.size, "Xen", 18));
	/* Not an ELF at all: false, silently. */
	assert_false(elf_has_note(p + 1, s.size - 1, "Xen", 18));
	assert_int_equal(host_console_len, 0);
	free(p);
}

/* ---- random images ------------------------------------------------------------------------------------- */

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

/* A value near an interesting boundary of a field for a file of size n. */
static uint64_t rng_field(size_t n)
{
	switch (rng_below(6)) {
	case 0:
		return rng_below((uint32_t)n + 64);
	case 1:
		return rng();
	case 2:
		return 0xffffffffu - rng_below(0x3000);
	case 3:
		return UINT64_MAX - rng_below(0x3000);
	case 4:
		return 0x100000 + rng_below(0x8000);
	default:
		return 0;
	}
}

static void check_invariants(const struct elf_image *elf, size_t n)
{
	assert_true(elf->segment_count >= 1 && elf->segment_count <= ELF_MAX_SEGMENTS);
	for (size_t i = 0; i < elf->segment_count; i++) {
		const struct elf_segment *a = &elf->segments[i];
		assert_true(a->memsz > 0 && a->filesz <= a->memsz);
		assert_true(a->offset <= n && a->filesz <= n - a->offset);
		assert_true(a->paddr + a->memsz > a->paddr || a->paddr + a->memsz == 0);
		for (size_t j = 0; j < i; j++) {
			const struct elf_segment *b = &elf->segments[j];
			assert_false(a->paddr < b->paddr + b->memsz && b->paddr < a->paddr + a->memsz);
		}
	}
}

static void test_random_images_never_crash(void **state)
{
	enum { ROUNDS = 20000 };
	size_t accepted = 0;
	rng_state = 0x2545f4914f6cdd1dull;
	for (int round = 0; round < ROUNDS; round++) {
		struct elf_spec s = round % 2 ? good64() : good32();
		size_t psz = s.bits == 64 ? 56 : 32;
		/* Random program header fields, then random bytes anywhere in the headers, then a random
		 * size. */
		for (size_t i = 0; i < s.phnum; i++) {
			if (rng_below(3) == 0) {
				struct ph *h = &s.ph[i];
				h->type = rng_below(3) ? PT_LOAD : (uint32_t)rng();
				h->offset = rng_field(s.size);
				h->filesz = rng_field(s.size);
				h->memsz = rng_below(2) ? h->filesz + rng_below(0x4000) : rng_field(s.size);
				h->paddr = rng_field(s.size);
				if (s.bits == 32) {
					h->offset &= 0xffffffffu;
					h->filesz &= 0xffffffffu;
					h->memsz &= 0xffffffffu;
					h->paddr &= 0xffffffffu;
				}
			}
		}
		uint8_t *p = make_elf(&s);
		for (uint32_t k = rng_below(6); k > 0; k--)
			p[rng_below((uint32_t)(s.phoff + s.phnum * psz))] = (uint8_t)rng();
		size_t n = rng_below(4) ? s.size : rng_below((uint32_t)s.size + 1);
		if (round % 7 == 0) {
			for (size_t i = 0; i < n; i++)
				p[i] = (uint8_t)rng();
			if (n >= 4 && rng_below(2))
				memcpy(p, "\177ELF", 4);
		}
		uint8_t *copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, p, n);
		free(p);

		struct elf_image elf;
		host_console_reset();
		if (elf_parse(copy, n, &elf)) {
			accepted++;
			assert_int_equal(host_console_len, 0);
			check_invariants(&elf, n);
			(void)elf_entry_paddr(&elf);
		} else {
			assert_int_equal(strncmp(host_console_buf, "hapvisor: error: guest kernel: ", 31), 0);
			assert_ptr_equal(strchr(host_console_buf, '\n'),
					 host_console_buf + host_console_len - 1);
		}
		(void)elf_has_note(copy, n, "Xen", 18);
		free(copy);
	}
	assert_true(accepted > ROUNDS / 20);
	print_message("random ELF images: %zu of %d accepted\n", accepted, ROUNDS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_elf32),
		cmocka_unit_test(test_good_elf64),
		cmocka_unit_test(test_truncated_files),
		cmocka_unit_test(test_program_headers_past_end),
		cmocka_unit_test(test_filesz_above_memsz),
		cmocka_unit_test(test_overlapping_segments),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_bad_identification),
		cmocka_unit_test(test_too_many_segments),
		cmocka_unit_test(test_notes),
		cmocka_unit_test(test_random_images_never_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
