/*
 * guest/pvh.c and its use by guest/loader.c: the PVH entry of an ELF kernel (the "Xen" note of type 18) and
 * struct hvm_start_info (Xen public/arch-x86/hvm/start_info.h, version 1). Synthetic ELF32 and ELF64 kernels
 * are parsed and refused; hvm_start_info is built and read back field by field; guest_load() places it,
 * on a 16 MiB host arena standing for physical memory, in low memory where a 32-bit kernel reads it before
 * its own page tables map more than its image (the triple fault of issue 17), and falls back, with a
 * warning, when low memory is full. The placement rules hold for every format, so the Multiboot and bzImage
 * blocks are checked here too. The real Debian vmlinux files (make linux-assets) are parsed when present.
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
#include "guest/pvh.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "tests/unit/guest_arena.h"
#include "tests/unit/host_stubs.h"

/* hvm_start_info (start_info.h) field offsets, and its list entries. */
#define SI_MAGIC 0
#define SI_VERSION 4
#define SI_FLAGS 8
#define SI_NR_MODULES 12
#define SI_MODLIST 16
#define SI_CMDLINE 24
#define SI_RSDP 32
#define SI_MEMMAP 40
#define SI_MEMMAP_ENTRIES 48
#define SI_SIZE 56
#define MOD_SIZE 32	  /* paddr, size, cmdline_paddr, reserved */
#define MAP_ENTRY_SIZE 24 /* addr, size, type, reserved */

#define LOW_INFO_LIMIT KiB(640) /* the boot information's window: conventional memory */

/* ---- synthetic PVH kernels ---------------------------------------------------------------------------- */

#define PT_LOAD 1u
#define PT_NOTE 4u
#define TEXT_OFF 0x1000u /* file offset of the loaded segment */
#define NOTE_OFF 0x400u	 /* file offset of the PT_NOTE area */

struct pvh_opts {
	unsigned bits;	    /* 32 or 64 */
	uint64_t paddr;	    /* of the one PT_LOAD segment */
	uint64_t filesz;    /* its file bytes (patterned) */
	uint64_t memsz;	    /* >= filesz */
	uint64_t entry;	    /* written into the note */
	uint32_t note_type; /* 18 for the PVH entry; another value: no PVH note */
	uint32_t desc_size; /* bytes of the note's descriptor (4 in Linux) */
};

static const struct pvh_opts PVH32 = {32, 0x100000, 0x3000, 0x5000, 0x100040, 18, 4};

/* One ELF note (gABI "Note Section"), 4-byte aligned, at p; returns its size. */
static size_t put_note(uint8_t *p, const char *name, uint32_t type, const void *desc, uint32_t desc_size)
{
	uint32_t namesz = (uint32_t)strlen(name) + 1;
	size_t name_pad = (namesz + 3u) & ~3u, desc_pad = (desc_size + 3u) & ~3u;
	put_le(p, namesz, 4);
	put_le(p + 4, desc_size, 4);
	put_le(p + 8, type, 4);
	memset(p + 12, 0, name_pad + desc_pad);
	memcpy(p + 12, name, namesz);
	memcpy(p + 12 + name_pad, desc, desc_size);
	return 12 + name_pad + desc_pad;
}

/*
 * An ELF kernel as Linux's vmlinux is laid out: one PT_LOAD of o->filesz bytes at file offset TEXT_OFF, and
 * a PT_NOTE holding other Xen notes first (as the real kernel has), then the entry note.
 */
static struct image pvh_kernel(const struct pvh_opts *o)
{
	bool b64 = o->bits == 64;
	size_t w = b64 ? 8 : 4, phsz = b64 ? 56 : 32, phoff = b64 ? 64 : 52;
	struct image im = {malloc(TEXT_OFF + o->filesz), TEXT_OFF + o->filesz};
	assert_non_null(im.p);
	uint8_t *p = im.p;
	memset(p, 0, TEXT_OFF);
	for (size_t i = 0; i < o->filesz; i++)
		p[TEXT_OFF + i] = (uint8_t)(i * 7 + 3);
	memcpy(p, "\177ELF", 4);
	p[4] = b64 ? 2 : 1;
	p[5] = 1;
	p[6] = 1;
	put_le(p + 16, 2, 2); /* ET_EXEC */
	put_le(p + 18, b64 ? 62 : 3, 2);
	put_le(p + 20, 1, 4);
	put_le(p + 24, 0xc0000000u + o->paddr, w); /* e_entry: virtual, unused by PVH */
	put_le(p + (b64 ? 32 : 28), phoff, w);
	put_le(p + (b64 ? 54 : 42), phsz, 2);
	put_le(p + (b64 ? 56 : 44), 2, 2);

	uint8_t desc[8] = {0};
	put_le(desc, o->entry, 8);
	size_t notes = put_note(p + NOTE_OFF, "Xen", 6, "linux", 6); /* XEN_ELFNOTE_GUEST_OS */
	notes += put_note(p + NOTE_OFF + notes, "Xen", o->note_type, desc, o->desc_size);

	const uint64_t ph[2][5] = {
		/* type, offset, addr, filesz, memsz */
		{PT_LOAD, TEXT_OFF, o->paddr, o->filesz, o->memsz},
		{PT_NOTE, NOTE_OFF, 0, notes, notes},
	};
	for (size_t i = 0; i < 2; i++) {
		uint8_t *e = p + phoff + i * phsz;
		put_le(e, ph[i][0], 4);
		if (b64) {
			put_le(e + 8, ph[i][1], 8);
			put_le(e + 16, ph[i][2] + 0xffffffff80000000ull, 8); /* p_vaddr: unused */
			put_le(e + 24, ph[i][2], 8);
			put_le(e + 32, ph[i][3], 8);
			put_le(e + 40, ph[i][4], 8);
		} else {
			put_le(e + 4, ph[i][1], 4);
			put_le(e + 8, ph[i][2] + 0xc0000000u, 4);
			put_le(e + 12, ph[i][2], 4);
			put_le(e + 16, ph[i][3], 4);
			put_le(e + 20, ph[i][4], 4);
		}
	}
	return im;
}

static void parse_ok(const struct image *im, struct guest_plan *k)
{
	host_console_reset();
	if (!pvh_parse(im->p, im->size, k))
		fail_msg("refused: %s", host_console_buf);
	assert_int_equal(host_console_len, 0);
}

/* pvh_parse must fail with exactly one error line containing message. */
static void parse_refused(const struct image *im, const char *message)
{
	struct guest_plan k;
	host_console_reset();
	if (pvh_parse(im->p, im->size, &k))
		fail_msg("accepted; expected \"%s\"", message);
	if (!strstr(host_console_buf, message))
		fail_msg("expected \"%s\"; console:\n%s", message, host_console_buf);
	const char *e = strstr(host_console_buf, "hapvisor: error: guest kernel: ");
	assert_non_null(e);
	assert_null(strstr(e + 1, "hapvisor: error:"));
}

/* ---- pvh_parse ---------------------------------------------------------------------------------------- */

static void test_parse(void **state)
{
	struct guest_plan k;
	struct image im = pvh_kernel(&PVH32);
	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_LINUX_PVH);
	parse_ok(&im, &k);
	assert_int_equal(k.mb.version, MULTIBOOT_NONE);
	assert_int_equal(k.elf_bits, 32);
	assert_int_equal(k.entry, 0x100040); /* the note's, not e_entry */
	assert_int_equal(k.load_base, 0x100000);
	assert_int_equal(k.segment_count, 1);
	assert_true(k.segments[0].paddr == 0x100000 && k.segments[0].offset == TEXT_OFF);
	assert_true(k.segments[0].filesz == 0x3000 && k.segments[0].memsz == 0x5000);
	free(im.p);

	/* ELF64 (x86-64 Linux), with an 8-byte descriptor: the low half is the entry. */
	struct pvh_opts o = {64, 0x1000000, 0x2000, 0x2000, 0x1000850, 18, 8};
	im = pvh_kernel(&o);
	parse_ok(&im, &k);
	assert_int_equal(k.elf_bits, 64);
	assert_int_equal(k.entry, 0x1000850);
	free(im.p);
}

static void test_parse_refusals(void **state)
{
	struct pvh_opts o = PVH32;
	o.note_type = 17; /* another Xen note: no PVH entry */
	struct image im = pvh_kernel(&o);
	assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_UNKNOWN);
	parse_refused(&im, "the PVH entry note (\"Xen\", type 18) is missing or shorter than 4 bytes");
	free(im.p);

	o = PVH32;
	o.desc_size = 2;
	im = pvh_kernel(&o);
	parse_refused(&im, "the PVH entry note (\"Xen\", type 18) is missing or shorter than 4 bytes");
	free(im.p);

	o = PVH32;
	o.entry = 0x105000; /* just past memsz */
	im = pvh_kernel(&o);
	parse_refused(&im, "the PVH entry point 0x105000 lies in no loadable segment");
	free(im.p);

	o = (struct pvh_opts){64, 0xfffff000, 0x2000, 0x2000, 0xfffff000, 18, 4};
	im = pvh_kernel(&o);
	parse_refused(&im, "program header 0 loads at [0xfffff000, 0x100001000), above 4 GiB; a PVH kernel "
			   "loads below 4 GiB");
	free(im.p);

	/* ELF errors come through as they are. */
	im = pvh_kernel(&PVH32);
	put_le(im.p + 18, 62, 2); /* EM_X86_64 in an ELF32 */
	parse_refused(&im, "guest kernel: ");
	free(im.p);
}

/* ---- pvh_build_info ----------------------------------------------------------------------------------- */

static uint64_t rd(const uint8_t *p, size_t off, size_t n)
{
	return get_le(p + off, n);
}

static void test_build_info(void **state)
{
	struct memmap m;
	memmap_init(&m);
	assert_true(memmap_add(&m, 0, 0x9f000, MEM_AVAILABLE));
	assert_true(memmap_add(&m, 0x9f000, 0x61000, MEM_RESERVED));
	assert_true(memmap_add(&m, 0x100000, 0x1f00000, MEM_AVAILABLE));
	assert_true(memmap_set(&m, 0x9d000, 0x2000, MEM_BOOT));		/* merges with the RAM around */
	assert_true(memmap_set(&m, 0x1c00000, 0x200000, MEM_HAPVISOR)); /* its own reserved entry */
	assert_true(memmap_add(&m, 0x1ff0000, 0x10000, MEM_ACPI_RECLAIMABLE));
	const struct guest_module mods[] = {{0x800000, 0x812345, "/boot/initrd.img"},
					    {0x900000, 0x900100, "/boot/extra x=1"}};
	uint8_t rsdp[36] = "RSD PTR ";
	rsdp[15] = 2;
	const struct guest_boot b = {.cmdline = "console=ttyS0 nokaslr",
				     .map = &m,
				     .modules = mods,
				     .module_count = 2,
				     .rsdp = rsdp,
				     .rsdp_len = sizeof(rsdp),
				     .rsdp_revision = 2};
	const uint64_t phys = 0x9d000;
	size_t size = pvh_build_info(&b, NULL, 0, phys);
	assert_true(size > SI_SIZE && size <= PAGE_SIZE);

	static uint8_t buf[2 * PAGE_SIZE];
	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(pvh_build_info(&b, buf, sizeof(buf), phys), size);
	assert_int_equal(buf[size], 0xcc); /* nothing past the measured size */

	assert_int_equal(rd(buf, SI_MAGIC, 4), PVH_START_INFO_MAGIC);
	assert_int_equal(rd(buf, SI_VERSION, 4), 1);
	assert_int_equal(rd(buf, SI_FLAGS, 4), 0);
	assert_int_equal(rd(buf, SI_NR_MODULES, 4), 2);
	/* Every pointer lies inside the block: a kernel that can read the block can read all of it. */
	const uint64_t ptrs[] = {rd(buf, SI_MODLIST, 8), rd(buf, SI_CMDLINE, 8), rd(buf, SI_RSDP, 8),
				 rd(buf, SI_MEMMAP, 8)};
	for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++)
		assert_true(ptrs[i] >= phys + SI_SIZE && ptrs[i] < phys + size);
	assert_string_equal((const char *)buf + (rd(buf, SI_CMDLINE, 8) - phys), "console=ttyS0 nokaslr");
	assert_int_equal(rd(buf, SI_RSDP, 8) % 16, 0);
	assert_memory_equal(buf + (rd(buf, SI_RSDP, 8) - phys), rsdp, sizeof(rsdp));

	const uint8_t *ml = buf + (rd(buf, SI_MODLIST, 8) - phys);
	for (size_t i = 0; i < 2; i++) {
		const uint8_t *e = ml + i * MOD_SIZE;
		assert_int_equal(rd(e, 0, 8), mods[i].start);
		assert_int_equal(rd(e, 8, 8), mods[i].end - mods[i].start);
		uint64_t s = rd(e, 16, 8);
		assert_true(s >= phys && s < phys + size);
		assert_string_equal((const char *)buf + (s - phys), mods[i].string);
		assert_int_equal(rd(e, 24, 8), 0);
	}

	/* RAM with the boot data merged; hapvisor's region reserved; ACPI as the firmware said. */
	const uint64_t want[][3] = {
		{0, 0x9f000, E820_RAM},		 {0x9f000, 0x61000, E820_RESERVED},
		{0x100000, 0x1b00000, E820_RAM}, {0x1c00000, 0x200000, E820_RESERVED},
		{0x1e00000, 0x1f0000, E820_RAM}, {0x1ff0000, 0x10000, E820_ACPI},
	};
	assert_int_equal(rd(buf, SI_MEMMAP_ENTRIES, 4), 6);
	const uint8_t *map = buf + (rd(buf, SI_MEMMAP, 8) - phys);
	for (size_t i = 0; i < 6; i++) {
		const uint8_t *e = map + i * MAP_ENTRY_SIZE;
		assert_int_equal(rd(e, 0, 8), want[i][0]);
		assert_int_equal(rd(e, 8, 8), want[i][1]);
		assert_int_equal(rd(e, 16, 4), want[i][2]);
		assert_int_equal(rd(e, 20, 4), 0);
	}

	/* Too small a buffer: nothing written at or past cap, the size still measured. */
	memset(buf, 0xcc, sizeof(buf));
	assert_int_equal(pvh_build_info(&b, buf, size - 1, phys), size);
	for (size_t i = size - 1; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xcc);

	/* No modules, no RSDP: those fields are 0 ("not present"). */
	const struct guest_boot bare = {.cmdline = "", .map = &m};
	size = pvh_build_info(&bare, buf, sizeof(buf), phys);
	assert_int_equal(rd(buf, SI_NR_MODULES, 4), 0);
	assert_int_equal(rd(buf, SI_MODLIST, 8), 0);
	assert_int_equal(rd(buf, SI_RSDP, 8), 0);
	assert_int_equal(buf[rd(buf, SI_CMDLINE, 8) - phys], 0);
}

/* ---- guest_load(): where the boot information goes ---------------------------------------------------- */

struct arena_module {
	uint32_t pa;
	const struct image *im;
	const char *string;
};

/*
 * Copy the modules into the arena and describe them, with an ACPI 2.0 RSDP, in "GRUB's" Multiboot2
 * information for hapvisor, which lies at info_pa.
 */
static void arena_boot_at(uint32_t info_pa, const struct arena_module *mods, size_t n)
{
	static uint8_t blk[4096];
	size_t len = 8;
	memset(blk, 0, sizeof(blk));
	for (size_t i = 0; i < n; i++) {
		memcpy(arena + mods[i].pa, mods[i].im->p, mods[i].im->size);
		size_t slen = strlen(mods[i].string) + 1;
		put_le(blk + len, MB2_TAG_MODULE, 4);
		put_le(blk + len + 4, 16 + slen, 4);
		put_le(blk + len + 8, mods[i].pa, 4);
		put_le(blk + len + 12, mods[i].pa + mods[i].im->size, 4);
		memcpy(blk + len + 16, mods[i].string, slen);
		len = (len + 16 + slen + 7) & ~(size_t)7;
	}
	put_le(blk + len, MB2_TAG_ACPI_NEW, 4);
	put_le(blk + len + 4, 8 + 36, 4);
	memcpy(blk + len + 8, "RSD PTR ", 8);
	blk[len + 8 + 15] = 2;
	len = (len + 8 + 36 + 7) & ~(size_t)7;
	put_le(blk + len, MB2_TAG_END, 4);
	put_le(blk + len + 4, 8, 4);
	len += 8;
	put_le(blk, len, 4);
	memcpy(arena + info_pa, blk, len);
	assert_true(mb2_parse(arena + info_pa, MB2_INFO_MAX, &hv));
	assert_int_equal(hv.module_count, n);
}

static void load_ok(struct guest_entry_state *out)
{
	host_console_reset();
	if (!guest_load(&hv, &guest_map, NULL, out))
		fail_msg("refused: %s", host_console_buf);
	assert_null(strstr(host_console_buf, "error"));
}

/*
 * The 32-bit PAE kernel of issue 17, in small: an ELF32 PVH kernel and an initrd. The start info and all it
 * points to lie in the highest free pages of conventional memory, which 32-bit Linux maps (with all of
 * [0, the end of its image + a margin)) before it reads the memory map through __va().
 */
static void test_load_low(void **state)
{
	arena_reset();
	struct image kern = pvh_kernel(&PVH32), initrd = {malloc(0x1234), 0x1234};
	assert_non_null(initrd.p);
	memset(initrd.p, 0x5a, initrd.size);
	const struct arena_module mods[] = {{0x200000, &kern, "/boot/vmlinux console=ttyS0"},
					    {0x300000, &initrd, "/boot/initrd.img"}};
	arena_boot_at(HV_INFO_PA, mods, 2);
	struct guest_entry_state out;
	load_ok(&out);
	assert_int_equal(out.eip, 0x100040);
	assert_int_equal(out.eax, 0);
	assert_int_equal(out.esi, 0);
	assert_memory_equal(arena + 0x100000, kern.p + TEXT_OFF, 0x3000);
	for (size_t i = 0x103000; i < 0x105000; i++)
		assert_int_equal(arena[i], 0); /* bss */

	const uint8_t *si = arena + out.ebx;
	size_t size = pvh_build_info(&(struct guest_boot){.cmdline = "", .map = &guest_map}, NULL, 0, 0);
	assert_int_equal(rd(si, SI_MAGIC, 4), PVH_START_INFO_MAGIC);
	assert_int_equal(out.ebx % PAGE_SIZE, 0);
	assert_int_equal(out.ebx, ARENA_LOW_RAM_END - PAGE_SIZE); /* highest free page of low memory */
	assert_true(size <= PAGE_SIZE);
	const uint64_t ptrs[] = {rd(si, SI_MODLIST, 8), rd(si, SI_CMDLINE, 8), rd(si, SI_RSDP, 8),
				 rd(si, SI_MEMMAP, 8)};
	for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++)
		assert_true(ptrs[i] > out.ebx && ptrs[i] < out.ebx + PAGE_SIZE && ptrs[i] < LOW_INFO_LIMIT);
	assert_string_equal((const char *)arena + rd(si, SI_CMDLINE, 8), "/boot/vmlinux console=ttyS0");
	const uint8_t *mod = arena + rd(si, SI_MODLIST, 8);
	assert_int_equal(rd(mod, 0, 8), 0x300000); /* the initrd stays where it was */
	assert_int_equal(rd(mod, 8, 8), 0x1234);
	assert_memory_equal(arena + rd(si, SI_RSDP, 8), "RSD PTR ", 8);

	/* Recorded as the guest's boot data: RAM to the guest, merged with the low RAM around it. */
	assert_true(memmap_is_type(&guest_map, out.ebx, PAGE_SIZE, MEM_BOOT));
	const uint8_t *e = arena + rd(si, SI_MEMMAP, 8);
	assert_int_equal(rd(e, 0, 8), 0);
	assert_int_equal(rd(e, 8, 8), ARENA_LOW_RAM_END);
	assert_int_equal(rd(e, 16, 4), E820_RAM);
	char want[160];
	snprintf(want, sizeof(want),
		 "event=guest_load format=linux-pvh entry=0x100040 segments=1 "
		 "kernel_bytes=%zu boot_info=0x%x modules=1\n",
		 kern.size, out.ebx);
	assert_non_null(strstr(host_console_buf, want));
	free(kern.p);
	free(initrd.p);
}

/*
 * Low memory partly taken: by a kernel segment, by GRUB's information for hapvisor (read until the copy
 * phase), and by hapvisor's AP start page when it stays hapvisor's. The block goes below all of them.
 */
static void test_load_low_taken(void **state)
{
	arena_reset();
	struct pvh_opts o = {32, 0x92000, 0xc000, 0xc000, 0x92000, 18, 4}; /* [0x92000, 0x9e000) */
	struct image kern = pvh_kernel(&o);
	const struct arena_module mods[] = {{0x200000, &kern, "/boot/low"}};
	assert_true(memmap_set(&guest_map, 0x9e000, PAGE_SIZE, MEM_HAPVISOR)); /* the AP start page */
	arena_boot_at(0x91000, mods, 1); /* GRUB's, [0x91000, 0x92000) */
	struct guest_entry_state out;
	load_ok(&out);
	assert_int_equal(out.ebx, 0x90000);
	assert_int_equal(rd(arena + out.ebx, SI_MAGIC, 4), PVH_START_INFO_MAGIC);
	assert_memory_equal(arena + 0x92000, kern.p + TEXT_OFF, 0xc000);
	assert_true(memmap_is_type(&guest_map, 0x9e000, PAGE_SIZE, MEM_HAPVISOR));
	free(kern.p);
}

/* No free page in conventional memory: the block goes high, and the warning names who cannot read it. */
static void test_load_no_low(void **state)
{
	arena_reset();
	assert_true(memmap_set(&guest_map, 0, ARENA_LOW_RAM_END, MEM_RESERVED));
	struct image kern = pvh_kernel(&PVH32);
	const struct arena_module mods[] = {{0x200000, &kern, "/boot/vmlinux"}};
	arena_boot_at(HV_INFO_PA, mods, 1);
	struct guest_entry_state out;
	load_ok(&out);
	assert_true(out.ebx >= MiB(1) && out.ebx + PAGE_SIZE <= HV_REGION_BASE);
	assert_false(overlaps(out.ebx, PAGE_SIZE, HV_INFO_PA, PAGE_SIZE));
	assert_int_equal(rd(arena + out.ebx, SI_MAGIC, 4), PVH_START_INFO_MAGIC);
	char want[200];
	snprintf(want, sizeof(want), "-byte boot information: it goes to 0x%x, which a kernel", out.ebx);
	if (!strstr(host_console_buf, want))
		fail_msg("expected \"%s\"; console:\n%s", want, host_console_buf);
	assert_non_null(strstr(host_console_buf, "32-bit Linux through PVH"));
	free(kern.p);
}

/*
 * A vmlinux without the PVH note (Debian's non-PAE 686 kernel) is an ELF file hapvisor cannot enter:
 * refused with a sentence that says to boot its bzImage.
 */
static void test_load_elf_without_note(void **state)
{
	arena_reset();
	struct pvh_opts o = PVH32;
	o.note_type = 17;
	struct image kern = pvh_kernel(&o);
	const struct arena_module mods[] = {{0x200000, &kern, "/boot/vmlinux-686"}};
	arena_boot_at(HV_INFO_PA, mods, 1);
	char want[300];
	snprintf(want, sizeof(want),
		 "module 0 (/boot/vmlinux-686, %zu bytes) is an ELF file with neither a PVH entry note nor a "
		 "Multiboot header, so hapvisor cannot enter it: a Linux vmlinux built without CONFIG_PVH "
		 "(Debian's 32-bit non-PAE 686 kernel is one) boots from its bzImage",
		 kern.size);
	expect_load_refused(want);
	free(kern.p);
}

/* ---- the real kernels (make linux-assets) ------------------------------------------------------------- */

static struct image read_file(const char *path)
{
	struct image im = {NULL, 0};
	FILE *f = fopen(path, "rb");
	if (!f)
		return im;
	fseek(f, 0, SEEK_END);
	im.size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	im.p = malloc(im.size);
	assert_non_null(im.p);
	assert_int_equal(fread(im.p, 1, im.size, f), im.size);
	fclose(f);
	return im;
}

/* Debian's vmlinux files: 686-pae (ELF32, PVH), 686 (ELF32, no PVH note), amd64 (ELF64, PVH). */
static void test_debian_vmlinux(void **state)
{
	static const struct {
		const char *path;
		unsigned bits; /* 0: no PVH note */
	} files[] = {
		{"build/linux/vmlinux-686-pae", 32},
		{"build/linux/vmlinux-686", 0},
		{"build/linux/vmlinux", 64},
	};
	size_t found = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct image im = read_file(files[i].path);
		if (!im.p) {
			print_message("%s is missing (make linux-assets): not checked\n", files[i].path);
			continue;
		}
		found++;
		struct guest_plan k;
		if (!files[i].bits) {
			assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_UNKNOWN);
			assert_true(elf_is_elf(im.p, im.size));
			free(im.p);
			continue;
		}
		assert_int_equal(guest_probe(im.p, im.size), GUEST_FORMAT_LINUX_PVH);
		parse_ok(&im, &k);
		assert_int_equal(k.elf_bits, files[i].bits);
		assert_int_equal(k.load_base, 0x1000000); /* LOAD_PHYSICAL_ADDR: 16 MiB */
		assert_true(k.entry > k.load_base && k.entry < k.load_base + MiB(1));
		free(im.p);
	}
	if (!found)
		skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_parse_refusals),
		cmocka_unit_test(test_build_info),
		cmocka_unit_test(test_load_low),
		cmocka_unit_test(test_load_low_taken),
		cmocka_unit_test(test_load_no_low),
		cmocka_unit_test(test_load_elf_without_note),
		cmocka_unit_test(test_debian_vmlinux),
	};
	return cmocka_run_group_tests(tests, arena_setup, arena_teardown);
}
