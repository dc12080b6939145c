/*
 * guest/bzimage.c and its use by guest/loader.c: the Linux x86 boot protocol. Synthetic bzImages (a setup
 * header in a buffer, a patterned payload) are validated and refused, placed at pref_address or relocated,
 * turned into a zero page checked at the real struct boot_params offsets, and loaded end to end by
 * guest_load() on a 16 MiB host arena (mm/phys.h: phys_to_virt(pa) = pa + host_phys_offset). The real
 * Debian bzImage at build/linux/bzImage (make linux-assets) is parsed when it is there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi_tables.h"
#include "arch/x86/madt.h"
#include "guest/mb2.h"
#include "guest/bzimage.h"
#include "guest/loader.h"
#include "guest/multiboot.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "tests/unit/guest_arena.h"
#include "tests/unit/host_stubs.h"

/* ---- bytes ------------------------------------------------------------------------------------------- */

/* ---- synthetic bzImages ------------------------------------------------------------------------------ */

struct bz_opts {
	uint16_t version;
	uint8_t setup_sects; /* as written: 0 means 4 */
	uint8_t loadflags;
	uint8_t relocatable;
	uint32_t align;
	uint32_t pref;
	uint32_t init_size;
	uint32_t initrd_max;
	uint32_t cmdline_size;
	uint32_t kernel_bytes; /* the protected-mode kernel */
};

/* A 2.15 relocatable kernel: 8 KiB + 512 of protected-mode code, 3 MiB of init_size at 4 MiB, 2 MiB-aligned.
 */
static const struct bz_opts BZ_DEFAULT = {
	.version = 0x020f,
	.setup_sects = 3,
	.loadflags =
		BZ_LOADED_HIGH | BIT(5) | BIT(7), /* QUIET and CAN_USE_HEAP too: the loader clears them */
	.relocatable = 1,
	.align = 0x200000,
	.pref = 0x400000,
	.init_size = 0x300000,
	.initrd_max = 0x7fffffff,
	.cmdline_size = 2047,
	.kernel_bytes = 0x2200,
};

#define BZ_HDR_END 0x268u /* 0x202 + the jump's offset byte below */

static uint32_t setup_bytes(const struct bz_opts *o)
{
	return ((o->setup_sects ? o->setup_sects : 4u) + 1u) * 512u;
}

static struct image bz_image(const struct bz_opts *o)
{
	struct image im = {.size = setup_bytes(o) + o->kernel_bytes};
	im.p = malloc(im.size);
	assert_non_null(im.p);
	for (size_t i = 0; i < im.size; i++)
		im.p[i] = (uint8_t)(i * 13 + 5);
	uint8_t *p = im.p;
	memset(p + 0x1f1, 0, BZ_HDR_END - 0x1f1);
	p[0x1f1] = o->setup_sects;
	put_le(p + 0x1f4, (o->kernel_bytes + 15) / 16, 4); /* syssize */
	put_le(p + 0x1fa, 0xffff, 2);			   /* vid_mode "normal" */
	put_le(p + 0x1fe, 0xaa55, 2);
	p[0x200] = 0xeb;
	p[0x201] = BZ_HDR_END - 0x202;
	memcpy(p + 0x202, "HdrS", 4);
	put_le(p + 0x206, o->version, 2);
	p[0x211] = o->loadflags;
	put_le(p + 0x214, 0x100000, 4); /* code32_start as built */
	put_le(p + 0x22c, o->initrd_max, 4);
	put_le(p + 0x230, o->align, 4);
	p[0x234] = o->relocatable;
	p[0x235] = 21;
	put_le(p + 0x236, 0x7f, 2);
	put_le(p + 0x238, o->cmdline_size, 4);
	put_le(p + 0x248, 0x100, 4);		       /* payload_offset */
	put_le(p + 0x24c, o->kernel_bytes - 0x200, 4); /* payload_length */
	put_le(p + 0x258, o->pref, 8);
	put_le(p + 0x260, o->init_size, 4);
	put_le(p + 0x264, 0x190, 4); /* handover_offset */
	return im;
}

/* bzimage_parse must refuse with exactly one error line containing message. */
static void expect_parse_refused(const struct image *im, const char *message)
{
	struct bzimage_kernel k;
	host_console_reset();
	if (bzimage_parse(im->p, im->size, &k))
		fail_msg("accepted; expected \"%s\"", message);
	if (!strstr(host_console_buf, message))
		fail_msg("expected \"%s\"; console:\n%s", message, host_console_buf);
	const char *e = strstr(host_console_buf, "hapvisor: error: guest kernel: Linux bzImage: ");
	assert_non_null(e);
	assert_null(strstr(e + 1, "hapvisor: error:"));
}

static void parse_ok(const struct image *im, struct bzimage_kernel *k)
{
	host_console_reset();
	if (!bzimage_parse(im->p, im->size, k))
		fail_msg("refused: %s", host_console_buf);
	assert_int_equal(host_console_len, 0);
}

/* ---- parsing ----------------------------------------------------------------------------------------- */

/*
 * Found by tests/fuzz/fuzz_bzimage (tests/fuzz/crashes/bzimage-truncated-header-518b): a file that ends
 * right after "HdrS" must be refused without reading the version field past its end. The buffer is
 * allocated at its exact size so ASan sees any over-read.
 */
static void test_truncated_after_magic(void **state)
{
	const size_t size = 0x206;
	uint8_t *f = calloc(1, size);
	assert_non_null(f);
	f[0x1FE] = 0x55;
	f[0x1FF] = 0xAA;
	memcpy(f + 0x202, "HdrS", 4);
	struct bzimage_kernel k;
	host_console_reset();
	assert_false(bzimage_parse(f, size, &k));
	assert_non_null(strstr(host_console_buf, "bzImage"));
	free(f);
}

static void test_parse(void **state)
{
	struct image im = bz_image(&BZ_DEFAULT);
	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_LINUX_BZIMAGE);
	struct bzimage_kernel k;
	parse_ok(&im, &k);
	assert_int_equal(k.version, 0x020f);
	assert_int_equal(k.setup_sects, 3);
	assert_int_equal(k.setup_bytes, 2048);
	assert_int_equal(k.kernel_bytes, 0x2200);
	assert_int_equal(k.syssize, 0x220);
	assert_true(k.relocatable);
	assert_int_equal(k.kernel_alignment, 0x200000);
	assert_int_equal(k.pref_address, 0x400000);
	assert_int_equal(k.init_size, 0x300000);
	assert_int_equal(k.xloadflags, 0x7f);
	assert_int_equal(k.initrd_addr_max, 0x7fffffff);
	assert_int_equal(k.cmdline_size, 2047);
	assert_int_equal(k.header_len, BZ_HDR_END - 0x1f1);
	assert_memory_equal(k.header, im.p + 0x1f1, k.header_len);
	free(im.p);

	/* setup_sects 0 means 4; protocol 2.12 is enough. */
	struct bz_opts o = BZ_DEFAULT;
	o.setup_sects = 0;
	o.version = 0x020c;
	im = bz_image(&o);
	parse_ok(&im, &k);
	assert_int_equal(k.setup_sects, 4);
	assert_int_equal(k.setup_bytes, 2560);
	assert_int_equal(k.kernel_bytes, 0x2200);

	/* A file a little shorter than syssize says (a re-signed PE image) still loads. */
	put_le(im.p + 0x1f4, (0x2200 + 256) / 16, 4);
	parse_ok(&im, &k);
	/* A header jump beyond 0x290 is clamped to the setup header area. */
	im.p[0x201] = 0xf0;
	parse_ok(&im, &k);
	assert_int_equal(k.header_len, 0x290 - 0x1f1);
	free(im.p);
}

static void test_parse_refusals(void **state)
{
	struct bz_opts o = BZ_DEFAULT;
	o.version = 0x020b;
	struct image im = bz_image(&o);
	expect_parse_refused(&im, "boot protocol 2.11 is older than 2.12, which hapvisor needs");
	free(im.p);

	o = BZ_DEFAULT;
	o.loadflags = 0;
	im = bz_image(&o);
	expect_parse_refused(&im, "loadflags 0x0 lack LOADED_HIGH (bit 0)");
	free(im.p);

	o = BZ_DEFAULT;
	o.align = 0x300000;
	im = bz_image(&o);
	expect_parse_refused(&im, "kernel_alignment 0x300000 is not a power of two");
	free(im.p);
	o.align = 0;
	im = bz_image(&o);
	expect_parse_refused(&im, "kernel_alignment 0x0 is not a power of two");
	free(im.p);

	im = bz_image(&BZ_DEFAULT);
	im.p[0x1fe] = 0;
	expect_parse_refused(&im, "no boot flag 0xAA55 at 0x1FE and \"HdrS\" at 0x202");
	im.p[0x1fe] = 0x55;
	im.p[0x201] = 0x20;
	expect_parse_refused(&im,
			     "the setup header ends at 0x222 (jump at 0x200), before the init_size field");
	im.p[0x201] = BZ_HDR_END - 0x202;

	/* Truncated: inside the setup part, inside the payload, far short of syssize. */
	struct image cut = {im.p, 2048};
	expect_parse_refused(&cut,
			     "the file (2048 bytes) ends inside its 2048-byte setup part (setup_sects 3); "
			     "the module is truncated");
	cut.size = 0x260;
	expect_parse_refused(&cut, "the 608-byte file ends inside its setup header; the module is truncated");
	cut.size = 2048 + 0x2000;
	expect_parse_refused(&cut,
			     "the protected-mode kernel is 8192 bytes, but its header says 8704 (syssize) "
			     "with the compressed payload ending at 8448; the module is truncated");
	put_le(im.p + 0x1f4, (0x2200 + 1024) / 16, 4);
	expect_parse_refused(&im,
			     "the protected-mode kernel is 8704 bytes, but its header says 9728 (syssize)");
	free(im.p);

	o = BZ_DEFAULT;
	o.pref = 0;
	im = bz_image(&o);
	put_le(im.p + 0x258, 0x100000000ull, 8);
	expect_parse_refused(&im, "pref_address 0x100000000 is above 4 GiB");
	free(im.p);
}

/* ---- placement --------------------------------------------------------------------------------------- */

/* RAM [0, 0x9f000) and [1 MiB, 16 MiB), ACPI at 12 MiB, hapvisor's region at 14 MiB (as in the arena). */
static void small_map(struct memmap *m)
{
	memmap_init(m);
	assert_true(memmap_add(m, 0, 0x9f000, MEM_AVAILABLE));
	assert_true(memmap_add(m, 0x9f000, 0x61000, MEM_RESERVED));
	assert_true(memmap_add(m, 0x100000, MiB(15), MEM_AVAILABLE));
	assert_true(memmap_add(m, 0xc00000, 0x10000, MEM_ACPI_RECLAIMABLE));
	assert_true(memmap_set(m, 0xe00000, 0x200000, MEM_HAPVISOR));
}

static void place(const struct bz_opts *o, const struct memmap *m, bool ok, uint32_t want, const char *msg)
{
	struct image im = bz_image(o);
	struct bzimage_kernel k;
	parse_ok(&im, &k);
	host_console_reset();
	bool placed = bzimage_place(&k, m);
	if (placed != ok)
		fail_msg("placed=%d; console:\n%s", placed, host_console_buf);
	if (ok)
		assert_int_equal(k.load_addr, want);
	if (msg && !strstr(host_console_buf, msg))
		fail_msg("expected \"%s\"; console:\n%s", msg, host_console_buf);
	if (ok) {
		struct guest_plan plan;
		bzimage_plan(&k, &plan);
		assert_int_equal(plan.segment_count, 1);
		assert_int_equal(plan.entry, want);
		assert_int_equal(plan.segments[0].paddr, want);
		assert_int_equal(plan.segments[0].offset, k.setup_bytes);
		assert_int_equal(plan.segments[0].filesz, k.kernel_bytes);
		assert_int_equal(plan.segments[0].memsz, MAX((uint64_t)o->init_size, k.kernel_bytes));
	}
	free(im.p);
}

static void test_place(void **state)
{
	struct memmap m;
	small_map(&m);
	place(&BZ_DEFAULT, &m, true, 0x400000, NULL);
	assert_int_equal(host_console_len, 0);

	/* pref_address occupied (a reserved page at 5 MiB): the next 2 MiB-aligned place, 6 MiB. */
	assert_true(memmap_set(&m, 0x500000, 0x1000, MEM_RESERVED));
	place(&BZ_DEFAULT, &m, true, 0x600000,
	      "Linux bzImage: [0x400000, 0x700000) (pref_address + init_size) is not free RAM: loading at "
	      "0x600000");
	/* MEM_BOOT next to MEM_AVAILABLE is one run of guest RAM. */
	assert_true(memmap_set(&m, 0x700000, 0x100000, MEM_BOOT));
	place(&BZ_DEFAULT, &m, true, 0x600000, NULL);

	/* Not relocatable: pref_address or nothing. */
	struct bz_opts o = BZ_DEFAULT;
	o.relocatable = 0;
	place(&o, &m, false, 0,
	      "it is not relocatable, and [0x400000, 0x700000) (pref_address + init_size) is not free RAM "
	      "above 1 MiB");
	small_map(&m);
	place(&o, &m, true, 0x400000, NULL);

	/* Not enough room anywhere above pref_address: ACPI at 12 MiB, hapvisor at 14 MiB. */
	o = BZ_DEFAULT;
	o.init_size = 0x900000;
	place(&o, &m, false, 0,
	      "no free RAM below 4 GiB for its 9437184-byte decompression area (init_size) at a "
	      "0x200000-aligned "
	      "address from 0x400000 up");
	o.init_size = 0x700000;
	o.pref = 0x100000; /* [1 MiB, 8 MiB) is free */
	place(&o, &m, true, 0x100000, NULL);
	o.pref = 0x500000; /* unaligned pref taken as is when free */
	place(&o, &m, true, 0x500000, NULL);
	o.pref = 0x600000; /* [6 MiB, 13 MiB) crosses the ACPI tables; nothing aligned above fits */
	place(&o, &m, false, 0, "no free RAM below 4 GiB");

	/* init_size smaller than the file: the file's bytes are reserved anyway. */
	o = BZ_DEFAULT;
	o.init_size = 0x1000;
	place(&o, &m, true, 0x400000, NULL);

	/* The first MiB is never used, even when pref_address says so. */
	o = BZ_DEFAULT;
	o.pref = 0x10000;
	o.init_size = 0x10000;
	place(&o, &m, true, 0x200000, "is not free RAM: loading at 0x200000");
	o.relocatable = 0;
	place(&o, &m, false, 0, "is not free RAM above 1 MiB");
}

/* ---- the zero page ----------------------------------------------------------------------------------- */

#define INFO_PHYS 0x800000u

static uint32_t at32(const uint8_t *p, uint32_t off)
{
	return (uint32_t)get_le(p + off, 4);
}

static uint64_t at64(const uint8_t *p, uint32_t off)
{
	return get_le(p + off, 8);
}

static void test_build_info(void **state)
{
	struct image im = bz_image(&BZ_DEFAULT);
	struct bzimage_kernel k;
	parse_ok(&im, &k);
	struct memmap m;
	small_map(&m);
	assert_true(bzimage_place(&k, &m));
	assert_true(memmap_set(&m, 0x900000, 0x2000, MEM_BOOT)); /* an initrd, merged into RAM for E820 */

	const struct guest_module initrd = {0x900000, 0x901234, "/boot/initrd.img"};
	uint8_t rsdp[36] = "RSD PTR ";
	rsdp[15] = 2;
	const struct framebuffer fb = {
		.addr = 0x1fd000000ull,
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
	const char *cmdline = "/boot/vmlinuz console=ttyS0 root=/dev/sda1";
	struct guest_boot b = {
		.cmdline = cmdline,
		.map = &m,
		.modules = &initrd,
		.module_count = 1,
		.rsdp = rsdp,
		.rsdp_len = sizeof(rsdp),
		.rsdp_revision = 2,
		.fb = &fb,
	};

	struct bzimage_layout lay;
	host_console_reset();
	size_t need = bzimage_build_info(&k, &b, NULL, 0, INFO_PHYS, &lay);
	assert_int_equal(need, 0x2000 + strlen(cmdline) + 1);
	assert_int_equal(lay.boot_params, INFO_PHYS);
	assert_int_equal(lay.gdt, INFO_PHYS + 0x1000);
	assert_int_equal(lay.rsdp, INFO_PHYS + 0x1020);
	assert_int_equal(lay.cmdline, INFO_PHYS + 0x2000);
	/* Too small a buffer: nothing written. */
	static uint8_t buf[0x3000];
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(bzimage_build_info(&k, &b, buf, need - 1, INFO_PHYS, &lay), need);
	assert_int_equal(buf[0], 0xaa);
	assert_int_equal(bzimage_build_info(&k, &b, buf, sizeof(buf), INFO_PHYS, &lay), need);
	assert_int_equal(host_console_len, 0);
	const uint8_t *bp = buf;

	/* The setup header, copied from the file, then the loader's fields. */
	assert_memory_equal(bp + 0x1f1, im.p + 0x1f1, 0x210 - 0x1f1);
	assert_int_equal(bp[0x1f1], 3);
	assert_int_equal(get_le(bp + 0x1fe, 2), 0xaa55);
	assert_memory_equal(bp + 0x202, "HdrS", 4);
	assert_int_equal(get_le(bp + 0x206, 2), 0x020f);
	assert_int_equal(bp[0x210], 0xff);		       /* type_of_loader */
	assert_int_equal(bp[0x211], 0x01);		       /* loadflags: LOADED_HIGH only */
	assert_int_equal(at32(bp, 0x214), 0x400000);	       /* code32_start */
	assert_int_equal(at32(bp, 0x218), 0x900000);	       /* ramdisk_image */
	assert_int_equal(at32(bp, 0x21c), 0x1234);	       /* ramdisk_size */
	assert_int_equal(at32(bp, 0x228), INFO_PHYS + 0x2000); /* cmd_line_ptr */
	assert_int_equal(at32(bp, 0x22c), 0x7fffffff);
	assert_int_equal(at32(bp, 0x230), 0x200000);
	assert_int_equal(bp[0x234], 1);
	assert_int_equal(at32(bp, 0x238), 2047);
	assert_int_equal(at64(bp, 0x250), 0); /* setup_data */
	assert_int_equal(at64(bp, 0x258), 0x400000);
	assert_int_equal(at32(bp, 0x260), 0x300000);
	assert_int_equal(at32(bp, 0x264), 0x190);
	for (uint32_t off = BZ_HDR_END; off < 0x290; off++)
		assert_int_equal(bp[off], 0);
	assert_int_equal(at32(bp, 0x0c0), 0); /* ext_ramdisk_image */
	assert_int_equal(at32(bp, 0x0c4), 0); /* ext_ramdisk_size */
	assert_int_equal(at32(bp, 0x0c8), 0); /* ext_cmd_line_ptr */
	assert_int_equal(bp[0x1ef], 0);	      /* sentinel */
	assert_string_equal((const char *)buf + 0x2000, cmdline);

	/* acpi_rsdp_addr (protocol 2.14+) and the copy it names. */
	assert_int_equal(at64(bp, 0x070), INFO_PHYS + 0x1020);
	assert_memory_equal(buf + 0x1020, rsdp, sizeof(rsdp));

	/* E820: neighbours of one type merged; hapvisor's region reserved. */
	static const struct {
		uint64_t addr, size;
		uint32_t type;
	} want[] = {
		{0, 0x9f000, 1},	{0x9f000, 0x61000, 2},	 {0x100000, 0xb00000, 1},
		{0xc00000, 0x10000, 3}, {0xc10000, 0x1f0000, 1}, {0xe00000, 0x200000, 2},
	};
	assert_int_equal(bp[0x1e8], ARRAY_SIZE(want));
	assert_int_equal(bzimage_e820_count(&m), ARRAY_SIZE(want));
	for (uint32_t i = 0; i < ARRAY_SIZE(want); i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		assert_int_equal(at64(e, 0), want[i].addr);
		assert_int_equal(at64(e, 8), want[i].size);
		assert_int_equal(at32(e, 16), want[i].type);
	}
	assert_int_equal(at64(bp + 0x2d0 + 20 * ARRAY_SIZE(want), 0), 0);

	/* screen_info: a VESA linear framebuffer above 4 GiB. */
	assert_int_equal(bp[0x0f], 0x23);	      /* orig_video_isVGA = VIDEO_TYPE_VLFB */
	assert_int_equal(get_le(bp + 0x12, 2), 1024); /* lfb_width */
	assert_int_equal(get_le(bp + 0x14, 2), 768);  /* lfb_height */
	assert_int_equal(get_le(bp + 0x16, 2), 32);   /* lfb_depth */
	assert_int_equal(at32(bp, 0x18), 0xfd000000); /* lfb_base */
	assert_int_equal(at32(bp, 0x1c), 48);	      /* lfb_size: 3 MiB in 64 KiB units */
	assert_int_equal(get_le(bp + 0x24, 2), 4096); /* lfb_linelength */
	const uint8_t colours[] = {8, 16, 8, 8, 8, 0};
	assert_memory_equal(bp + 0x26, colours, sizeof(colours));
	assert_int_equal(at32(bp, 0x36), 2); /* capabilities: VIDEO_CAPABILITY_64BIT_BASE */
	assert_int_equal(at32(bp, 0x3a), 1); /* ext_lfb_base */

	/* The GDT: null, null, __BOOT_CS (0x10) flat 4 GiB execute/read, __BOOT_DS (0x18) flat read/write. */
	const uint8_t gdt[32] = {
		0,    0,    0, 0, 0, 0,	   0,	 0, 0,	  0,	0, 0, 0, 0,    0,    0,
		0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0,
	};
	assert_memory_equal(buf + 0x1000, gdt, sizeof(gdt));
	assert_int_equal(BZ_GDT_LIMIT, 31);

	/* Protocol 2.12: no acpi_rsdp_addr field. No framebuffer: screen_info stays zero. No initrd. */
	put_le(k.header + (0x206 - 0x1f1), 0x020c, 2);
	k.version = 0x020c;
	b.fb = NULL;
	b.module_count = 0;
	assert_int_equal(bzimage_build_info(&k, &b, buf, sizeof(buf), INFO_PHYS, &lay), need);
	assert_int_equal(at64(bp, 0x070), 0);
	for (uint32_t i = 0; i < 0x40; i++)
		assert_int_equal(bp[i], 0);
	assert_int_equal(at32(bp, 0x218), 0);
	assert_int_equal(at32(bp, 0x21c), 0);

	/* An EGA text console. */
	const struct framebuffer text = {.addr = 0xb8000,
					 .pitch = 160,
					 .width = 80,
					 .height = 25,
					 .bpp = 16,
					 .type = FB_TYPE_EGA_TEXT};
	b.fb = &text;
	assert_int_equal(bzimage_build_info(&k, &b, buf, sizeof(buf), INFO_PHYS, &lay), need);
	assert_int_equal(bp[0x06], 3);	/* orig_video_mode */
	assert_int_equal(bp[0x07], 80); /* orig_video_cols */
	assert_int_equal(bp[0x0e], 25); /* orig_video_lines */
	assert_int_equal(bp[0x0f], 0x22);
	assert_int_equal(at32(bp, 0x18), 0);

	/* The command line is cut to cmdline_size, with a warning. */
	k.cmdline_size = 13;
	host_console_reset();
	size_t cut = bzimage_build_info(&k, &b, buf, sizeof(buf), INFO_PHYS, &lay);
	assert_int_equal(cut, 0x2000 + 14);
	assert_string_equal((const char *)buf + 0x2000, "/boot/vmlinuz");
	assert_non_null(strstr(host_console_buf, "hapvisor: warn: "));
	assert_non_null(strstr(host_console_buf,
			       "the command line (42 bytes) is cut to the kernel's cmdline_size, "
			       "13 bytes"));
	free(im.p);
}

/* ---- guest_load() on a host arena -------------------------------------------------------------------- */

#define MB2_TAG_HDR 8u

struct arena_module {
	uint32_t pa;
	const struct image *im;
	const char *string;
};

/* Append a Multiboot2 information tag at *len (8-byte aligned afterwards). */
static void info_tag(uint8_t *blk, size_t *len, uint32_t type, const void *a, size_t an, const void *b,
		     size_t bn)
{
	put_le(blk + *len, type, 4);
	put_le(blk + *len + 4, MB2_TAG_HDR + an + bn, 4);
	if (an)
		memcpy(blk + *len + MB2_TAG_HDR, a, an);
	if (bn)
		memcpy(blk + *len + MB2_TAG_HDR + an, b, bn);
	*len += MB2_TAG_HDR + an + bn;
	while (*len % 8)
		blk[(*len)++] = 0;
}

static const uint8_t *boot_rsdp; /* the RSDP arena_boot() puts in the ACPI tag; NULL: a dummy one */

/* Copy the modules into the arena and describe them (and an RSDP) in hapvisor's information block. */
static void arena_boot(const struct arena_module *mods, size_t n)
{
	static uint8_t blk[4096];
	size_t len = 8;
	memset(blk, 0, sizeof(blk));
	info_tag(blk, &len, MB2_TAG_CMDLINE, "loglevel=debug", 15, NULL, 0);
	for (size_t i = 0; i < n; i++) {
		memcpy(arena + mods[i].pa, mods[i].im->p, mods[i].im->size);
		uint8_t range[8];
		put_le(range, mods[i].pa, 4);
		put_le(range + 4, mods[i].pa + mods[i].im->size, 4);
		info_tag(blk, &len, MB2_TAG_MODULE, range, 8, mods[i].string, strlen(mods[i].string) + 1);
	}
	uint8_t rsdp[36] = "RSD PTR ";
	rsdp[15] = 2;
	info_tag(blk, &len, MB2_TAG_ACPI_NEW, boot_rsdp ? boot_rsdp : rsdp, sizeof(rsdp), NULL, 0);
	info_tag(blk, &len, MB2_TAG_END, NULL, 0, NULL, 0);
	put_le(blk, len, 4);
	memcpy(arena + HV_INFO_PA, blk, len);
	assert_true(mb2_parse(arena + HV_INFO_PA, MB2_INFO_MAX, &hv));
	assert_int_equal(hv.module_count, n);
}

static struct image patterned(size_t size, uint8_t seed)
{
	struct image im = {malloc(size), size};
	assert_non_null(im.p);
	for (size_t i = 0; i < size; i++)
		im.p[i] = (uint8_t)(seed ^ (i * 7));
	return im;
}

static void test_load(void **state)
{
	arena_reset();
	struct bz_opts o = BZ_DEFAULT;
	o.initrd_max = 0x9fffff; /* the initrd must end by 10 MiB */
	struct image kern = bz_image(&o);
	struct image initrd = patterned(0x1234, 0x5a), extra = patterned(0x100, 0x33);
	const struct arena_module mods[] = {
		{0x500000, &kern, "/boot/vmlinuz console=ttyS0 nokaslr"}, /* inside init_size: moves */
		{0x600000, &initrd, "/boot/initrd.img"}, /* inside init_size: moves below 10 MiB */
		{0xa00000, &extra, "/boot/extra"},	 /* stays: Linux ignores it */
	};
	arena_boot(mods, 3);

	struct guest_entry_state out;
	host_console_reset();
	if (!guest_load(&hv, &guest_map, NULL, &out))
		fail_msg("refused: %s", host_console_buf);
	assert_null(strstr(host_console_buf, "error"));

	/* The 32-bit boot protocol's entry state. */
	assert_int_equal(out.eip, 0x400000);
	assert_int_equal(out.eax, 0);
	assert_int_equal(out.ebx, 0);
	assert_int_equal(out.cs_sel, 0x10);
	assert_int_equal(out.ds_sel, 0x18);
	assert_int_equal(out.gdtr_limit, 31);
	assert_int_equal(out.esi % PAGE_SIZE, 0);
	assert_int_equal(out.gdtr_base, out.esi + 0x1000);
	assert_int_equal(out.esi, ARENA_LOW_RAM_END - 0x3000); /* the highest free pages below 640 KiB */

	/* The protected-mode kernel copied; the rest of init_size left as it was (not zeroed). */
	assert_memory_equal(arena + 0x400000, kern.p + 2048, 0x2200);
	assert_int_equal(arena[0x6fffff], 0xaa);
	assert_int_equal(arena[0x3fffff], 0xaa);

	/* The initrd: moved out of [4 MiB, 7 MiB) and below initrd_addr_max, page-aligned, intact. */
	const uint8_t *bp = arena + out.esi;
	uint32_t rd = at32(bp, 0x218);
	assert_int_equal(at32(bp, 0x21c), 0x1234);
	assert_int_equal(rd % PAGE_SIZE, 0);
	assert_false(overlaps(rd, 0x1234, 0x400000, 0x300000));
	assert_true(rd >= MiB(1) && rd + 0x1234 <= 0xa00000);
	assert_memory_equal(arena + rd, initrd.p, initrd.size);
	assert_non_null(
		strstr(host_console_buf, "module 1 (/boot/initrd.img, 4660 bytes) moves from 0x600000"));
	assert_non_null(strstr(host_console_buf,
			       "module 0 (/boot/vmlinuz console=ttyS0 nokaslr, 10752 bytes) "
			       "moves from 0x500000"));
	assert_memory_equal(arena + 0xa00000, extra.p, extra.size);

	/* The boot information: outside init_size, the initrd and hapvisor's region. */
	assert_false(overlaps(out.esi, 0x3000, 0x400000, 0x300000));
	assert_false(overlaps(out.esi, 0x3000, rd, 0x1234));
	assert_int_equal(at32(bp, 0x214), 0x400000);
	assert_int_equal(bp[0x210], 0xff);
	assert_int_equal(at32(bp, 0x228), out.esi + 0x2000);
	assert_string_equal((const char *)arena + at32(bp, 0x228), "/boot/vmlinuz console=ttyS0 nokaslr");
	assert_int_equal(at64(bp, 0x070), out.esi + 0x1020);
	assert_memory_equal(arena + out.esi + 0x1020, "RSD PTR ", 8);
	assert_int_equal(at64(arena + out.gdtr_base, 0x10), 0x00cf9b000000ffffull);
	assert_int_equal(at64(arena + out.gdtr_base, 0x18), 0x00cf93000000ffffull);
	for (uint32_t i = 0; i < 0x40; i++) /* no framebuffer */
		assert_int_equal(bp[i], 0);

	/* The recorded map: boot data as boot, the RSDP page ACPI; the zero page's E820 says the same. */
	assert_true(memmap_is_type(&guest_map, out.esi, 0x1000, MEM_BOOT));
	assert_true(memmap_is_type(&guest_map, out.esi + 0x1000, 0x1000, MEM_ACPI_RECLAIMABLE));
	assert_true(memmap_is_type(&guest_map, out.esi + 0x2000, 0x1000, MEM_BOOT));
	assert_true(memmap_is_type(&guest_map, rd, 0x2000, MEM_BOOT));
	assert_true(memmap_is_type(&guest_map, HV_REGION_BASE, 0x200000, MEM_HAPVISOR));
	size_t n = bp[0x1e8];
	assert_int_equal(n, bzimage_e820_count(&guest_map));
	bool saw_rsdp_page = false, saw_hv = false;
	uint64_t end = 0;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		uint64_t addr = at64(e, 0), size = at64(e, 8);
		uint32_t type = at32(e, 16);
		assert_true(addr >= end); /* sorted, disjoint */
		end = addr + size;
		saw_rsdp_page |= addr == out.esi + 0x1000 && size == 0x1000 && type == 3;
		saw_hv |= addr == HV_REGION_BASE && type == 2;
		if (overlaps(addr, size, 0x400000, 0x300000))
			assert_int_equal(type, 1);
	}
	assert_true(saw_rsdp_page);
	assert_true(saw_hv);

	assert_non_null(strstr(host_console_buf, "hapvisor: event=guest_segment index=0 paddr=0x400000 "
						 "filesz=8704 memsz=3145728\n"));
	char want[200];
	snprintf(want, sizeof(want),
		 "hapvisor: event=guest_load format=linux-bzimage entry=0x400000 segments=1 kernel_bytes=%zu "
		 "boot_info=0x%x modules=2\n",
		 kern.size, out.esi);
	assert_non_null(strstr(host_console_buf, want));
	free(kern.p);
	free(initrd.p);
	free(extra.p);
}

static void test_load_relocated_and_refused(void **state)
{
	/* pref_address is taken by reserved memory: a relocatable kernel moves up to the next 2 MiB. */
	struct image kern = bz_image(&BZ_DEFAULT);
	const struct arena_module m[] = {{0x200000, &kern, "/boot/vmlinuz"}};
	arena_reset();
	assert_true(memmap_set(&guest_map, 0x500000, 0x1000, MEM_RESERVED));
	arena_boot(m, 1);
	struct guest_entry_state out;
	host_console_reset();
	if (!guest_load(&hv, &guest_map, NULL, &out))
		fail_msg("refused: %s", host_console_buf);
	assert_int_equal(out.eip, 0x600000);
	assert_int_equal(at32(arena + out.esi, 0x214), 0x600000);
	assert_int_equal(at32(arena + out.esi, 0x218), 0); /* no initrd */
	assert_memory_equal(arena + 0x600000, kern.p + 2048, 0x2200);
	free(kern.p);

	/* Not relocatable: refused, nothing touched. */
	struct bz_opts o = BZ_DEFAULT;
	o.relocatable = 0;
	kern = bz_image(&o);
	const struct arena_module m2[] = {{0x200000, &kern, "/boot/vmlinuz"}};
	arena_reset();
	assert_true(memmap_set(&guest_map, 0x500000, 0x1000, MEM_RESERVED));
	arena_boot(m2, 1);
	expect_load_refused("guest kernel: Linux bzImage: it is not relocatable, and [0x400000, 0x700000)");

	/* Header refusals come through guest_load() unchanged. */
	put_le(kern.p + 0x206, 0x0209, 2);
	arena_reset();
	arena_boot(m2, 1);
	expect_load_refused("guest kernel: Linux bzImage: boot protocol 2.09 is older than 2.12");
	free(kern.p);

	/* An initrd clear of everything but above initrd_addr_max moves below it. */
	o = BZ_DEFAULT;
	o.initrd_max = 0x9fffff;
	kern = bz_image(&o);
	struct image rd = patterned(0x1000, 9);
	const struct arena_module m4[] = {{0x200000, &kern, "/boot/vmlinuz"},
					  {0xa00000, &rd, "/boot/initrd"}};
	arena_reset();
	arena_boot(m4, 2);
	host_console_reset();
	if (!guest_load(&hv, &guest_map, NULL, &out))
		fail_msg("refused: %s", host_console_buf);
	assert_int_equal(at32(arena + out.esi, 0x218), 0x9ff000);
	assert_memory_equal(arena + 0x9ff000, rd.p, rd.size);
	assert_non_null(strstr(host_console_buf,
			       "module 1 (/boot/initrd, 4096 bytes) moves from 0xa00000 to "
			       "0x9ff000: the Linux initrd must end by the kernel's initrd_addr_max"));
	free(kern.p);
	free(rd.p);

	/* The initrd cannot be moved below initrd_addr_max: refused. */
	o = BZ_DEFAULT;
	o.initrd_max = 0x1fffff;
	kern = bz_image(&o);
	struct image big = patterned(0x180000, 1);
	const struct arena_module m3[] = {{0x200000, &kern, "/boot/vmlinuz"},
					  {0x900000, &big, "/boot/initrd"}};
	arena_reset();
	arena_boot(m3, 2);
	expect_load_refused(
		"no free RAM below 0x200000 to move module 1 (/boot/initrd, 1572864 bytes), which must "
		"move because the Linux initrd must end by the kernel's initrd_addr_max");
	free(kern.p);
	free(big.p);
}

/* ---- the real thing ---------------------------------------------------------------------------------- */

/* ---- the guest's ACPI copies, placed by guest_load() ----------------------------------------------- */

#define FW_ACPI_PA 0xd00000u /* the "firmware's" tables, in an ACPI reclaimable page of the arena */

/* A sealed table header at arena pa. */
static uint8_t *fw_table(uint32_t pa, const char *sig, uint32_t len)
{
	uint8_t *p = arena + pa;
	memset(p, 0, len);
	memcpy(p, sig, 4);
	put_le(p + 4, len, 4);
	p[8] = 1;
	return p;
}

/*
 * The firmware lists two processors (APIC IDs 0 and 1); the guest may use only APIC ID 0 (CPU 1 parked
 * with cpus=1). Linux reads the RSDP at boot_params.acpi_rsdp_addr: it must lead, through the XSDT and
 * through the RSDT, to a MADT with one usable processor, in memory its E820 map types ACPI (3), outside
 * the kernel's init_size, the initrd and hapvisor's region; the firmware's tables must be untouched.
 */
static void test_load_acpi_copies(void **state)
{
	arena_reset();
	assert_true(memmap_set(&guest_map, FW_ACPI_PA, 0x1000, MEM_ACPI_RECLAIMABLE));
	uint8_t *madt = fw_table(FW_ACPI_PA + 0x200, "APIC", 44 + 16);
	put_le(madt + 36, 0xfee00000u, 4);
	for (uint8_t i = 0; i < 2; i++) {
		uint8_t *e = madt + 44 + 8 * i;
		e[0] = 0, e[1] = 8, e[2] = i, e[3] = i;
		put_le(e + 4, MADT_LAPIC_ENABLED, 4);
	}
	acpi_table_set_checksum(madt, 60);
	acpi_table_set_checksum(fw_table(FW_ACPI_PA + 0x300, "FACP", 116), 116);
	uint8_t *rsdt = fw_table(FW_ACPI_PA + 0x100, "RSDT", 44);
	put_le(rsdt + 36, FW_ACPI_PA + 0x300, 4);
	put_le(rsdt + 40, FW_ACPI_PA + 0x200, 4);
	acpi_table_set_checksum(rsdt, 44);
	uint8_t *xsdt = fw_table(FW_ACPI_PA + 0x180, "XSDT", 52);
	put_le(xsdt + 36, FW_ACPI_PA + 0x200, 8);
	put_le(xsdt + 44, FW_ACPI_PA + 0x300, 8);
	acpi_table_set_checksum(xsdt, 52);
	uint8_t fw[0x400];
	memcpy(fw, arena + FW_ACPI_PA, sizeof(fw));
	uint8_t rsdp[36] = "RSD PTR ";
	rsdp[15] = 2;
	put_le(rsdp + 20, 36, 4);
	acpi_rsdp_rewrite(rsdp, sizeof(rsdp), FW_ACPI_PA + 0x100, FW_ACPI_PA + 0x180);

	struct image kern = bz_image(&BZ_DEFAULT);
	const struct arena_module m[] = {{0x200000, &kern, "/boot/vmlinuz"}};
	boot_rsdp = rsdp;
	arena_boot(m, 1);
	boot_rsdp = NULL;
	static const uint32_t ids[] = {0};
	const struct guest_cpus cpus = {ids, 1};
	struct guest_entry_state out;
	host_console_reset();
	if (!guest_load(&hv, &guest_map, &cpus, &out))
		fail_msg("refused: %s", host_console_buf);
	assert_memory_equal(arena + FW_ACPI_PA, fw, sizeof(fw));

	/* What Linux reads: boot_params.acpi_rsdp_addr -> RSDP -> XSDT (or RSDT) -> MADT. */
	uint64_t rsdp_pa = at64(arena + out.esi, 0x070);
	struct acpi_rsdp r;
	assert_int_equal(acpi_rsdp_parse(arena + rsdp_pa, 36, &r), ACPI_OK);
	assert_true(r.xsdt != FW_ACPI_PA + 0x180 && r.rsdt != FW_ACPI_PA + 0x100);
	for (int use_xsdt = 0; use_xsdt < 2; use_xsdt++) {
		struct acpi_rsdp via = r;
		if (!use_xsdt)
			via.xsdt = 0;
		struct acpi_tables t;
		struct acpi_table_ref ref;
		struct madt_info mi;
		assert_int_equal(acpi_tables_init(&t, &via, 0, ARENA_SIZE), ACPI_OK);
		assert_int_equal(t.root.pa, use_xsdt ? r.xsdt : r.rsdt);
		assert_int_equal(acpi_find_table(&t, ACPI_SIG_FADT, 0, &ref), ACPI_OK);
		assert_int_equal(ref.pa, FW_ACPI_PA + 0x300);
		assert_int_equal(acpi_find_table(&t, ACPI_SIG_MADT, 0, &ref), ACPI_OK);
		assert_int_equal(madt_parse(ref.ptr, ref.len, &mi), ACPI_OK);
		assert_int_equal(mi.count, 1);
		assert_int_equal(mi.cpus[0].apic_id, 0);
		/* The copies: ACPI memory in the guest's map, clear of the kernel and hapvisor's region. */
		assert_true(memmap_is_type(&guest_map, ref.pa, ref.len, MEM_ACPI_RECLAIMABLE));
		assert_true(memmap_is_type(&guest_map, t.root.pa, t.root.len, MEM_ACPI_RECLAIMABLE));
		assert_false(overlaps(ref.pa, ref.len, out.eip, 0x300000));
		assert_true(ref.pa + ref.len <= HV_REGION_BASE && ref.pa >= MiB(1));
	}
	/* The zero page's E820 map says so too (type 3). */
	const uint8_t *bp = arena + out.esi;
	bool seen = false;
	for (size_t i = 0; i < bp[0x1e8]; i++) {
		const uint8_t *e = bp + 0x2d0 + 20 * i;
		if (at64(e, 0) <= r.xsdt && r.xsdt < at64(e, 0) + at64(e, 8))
			seen = at32(e, 16) == 3;
	}
	assert_true(seen);
	assert_non_null(strstr(host_console_buf, "hapvisor: event=guest_acpi "));
	assert_non_null(strstr(host_console_buf, " cpus=1 disabled=1\n"));
	free(kern.p);
}

static void test_debian_bzimage(void **state)
{
	const char *path = getenv("HV_BZIMAGE") ? getenv("HV_BZIMAGE") : "build/linux/bzImage";
	FILE *f = fopen(path, "rb");
	if (!f) {
		print_message("%s is missing (make linux-assets): skipped\n", path);
		skip();
	}
	fseek(f, 0, SEEK_END);
	struct image im = {.size = (size_t)ftell(f)};
	fseek(f, 0, SEEK_SET);
	im.p = malloc(im.size);
	assert_non_null(im.p);
	assert_int_equal(fread(im.p, 1, im.size, f), im.size);
	fclose(f);

	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_LINUX_BZIMAGE);
	struct bzimage_kernel k;
	parse_ok(&im, &k);
	assert_int_equal(k.version, 0x020f);
	assert_true(k.relocatable);
	assert_int_equal(k.kernel_alignment, MiB(2));
	assert_int_equal(k.pref_address, 0x1000000);
	assert_true(k.init_size > MiB(63) && k.init_size < MiB(64)); /* about 63.6 MiB */
	assert_true(k.init_size > k.kernel_bytes);
	assert_true(k.xloadflags & BZ_XLF_KERNEL_64);
	assert_true(k.loadflags & BZ_LOADED_HIGH);
	assert_int_equal(k.kernel_bytes, im.size - k.setup_bytes);

	/* 512 MiB of RAM: it goes at pref_address. */
	struct memmap m;
	memmap_init(&m);
	assert_true(memmap_add(&m, 0, 0x9f000, MEM_AVAILABLE));
	assert_true(memmap_add(&m, 0x100000, MiB(511), MEM_AVAILABLE));
	assert_true(memmap_set(&m, MiB(480), MiB(32), MEM_HAPVISOR));
	host_console_reset();
	assert_true(bzimage_place(&k, &m));
	assert_int_equal(k.load_addr, 0x1000000);
	struct bzimage_layout lay;
	const struct guest_boot b = {.cmdline = "console=ttyS0", .map = &m};
	assert_int_equal(bzimage_build_info(&k, &b, NULL, 0, 0x100000, &lay), 0x2000 + 14);
	free(im.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_truncated_after_magic),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_place),
		cmocka_unit_test(test_build_info),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_load_relocated_and_refused),
		cmocka_unit_test(test_load_acpi_copies),
		cmocka_unit_test(test_debian_bzimage),
	};
	return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
