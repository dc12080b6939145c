/*
 * Multiboot guests, their boot information (see multiboot.h): the Multiboot2 tags (3.6) or the Multiboot1
 * structure (3.3) a kernel gets in EBX, written through a bounded writer that can also just measure.
 */
#include "guest/multiboot.h"
#include "lib/byte_writer.h"
#include "lib/str.h"

/* Multiboot2 information (3.6). */
#define MB2I_ALIGN 8u
#define MB2I_END_SIZE 8u
#define MB2I_TAG_SIZE_OFF 4u
#define MB2I_MMAP_ENTRY_SIZE 24u /* 3.6.8 */
#define MB2I_MMAP_ENTRY_VERSION 0u
#define MB2I_RSDP_V1_SIZE 20u /* 3.6.16: the ACPI 1.0 RSDP */
#define MB2I_RSDP_V2_SIZE 36u /* 3.6.17: the ACPI 2.0+ RSDP */

/* Multiboot1 information (3.3): a 116-byte structure, then what its pointers point to. */
#define MB1I_FLAGS_MEMORY BIT(0)
#define MB1I_FLAGS_CMDLINE BIT(2)
#define MB1I_FLAGS_MODS BIT(3)
#define MB1I_FLAGS_MMAP BIT(6)
#define MB1I_FLAGS_LOADER_NAME BIT(9)
#define MB1I_FLAGS_FRAMEBUFFER BIT(12)
#define MB1I_SYMS_SIZE 16u /* offsets 28 - 43: a.out or ELF symbols, not given */
#define MB1I_VBE_SIZE 16u  /* offsets 72 - 87: VBE information, not given */
#define MB1I_COLOR_INFO_SIZE 6u
#define MB1I_FB_SIZE 28u /* offsets 88 - 115: framebuffer_addr ... color_info */
#define MB1I_SIZE 116u
#define MB1I_MOD_SIZE 16u	 /* mod_start, mod_end, string, reserved */
#define MB1I_MMAP_SIZE_FIELD 20u /* an entry's size field counts the bytes after it */
#define MB1I_MMAP_ENTRY_SIZE (4u + MB1I_MMAP_SIZE_FIELD)
#define MB1I_ALIGN 8u

#define LOWER_MEMORY_MAX KiB(640) /* mem_lower's ceiling (Multiboot1 3.3, Multiboot2 3.6.3) */

/* ---- boot information ----------------------------------------------------------------------------- */

/* The memory map types of both Multiboot specifications are E820's (guest_e820_type). */
_Static_assert(MB2_MMAP_AVAILABLE == E820_RAM && MB2_MMAP_RESERVED == E820_RESERVED &&
		       MB2_MMAP_ACPI_RECLAIMABLE == E820_ACPI && MB2_MMAP_ACPI_NVS == E820_NVS &&
		       MB2_MMAP_BADRAM == E820_UNUSABLE,
	       "Multiboot memory types are the E820 ones");

/* One memory map entry: a range of the map, or neighbouring ranges the guest must not tell apart. */
struct mb_mmap_entry {
	uint64_t base, size;
	uint32_t type;
};

/* RAM the guest owns: MEM_BOOT (its boot data) is given as available like the RAM around it. */
static bool guest_ram(enum mem_type type)
{
	return type == MEM_AVAILABLE || type == MEM_BOOT;
}

/*
 * The entry starting at range *i, which moves past it; false at the end of the map. Only guest RAM is
 * merged: hapvisor's region stays one reserved entry of its own, even next to firmware-reserved memory.
 */
static bool mmap_next(const struct memmap *m, size_t *i, struct mb_mmap_entry *e)
{
	if (*i >= m->count)
		return false;
	const struct mem_range *r = &m->ranges[(*i)++];
	*e = (struct mb_mmap_entry){.base = r->base, .size = r->size, .type = guest_e820_type(r->type)};
	while (guest_ram(r->type) && *i < m->count) {
		const struct mem_range *n = &m->ranges[*i];
		if (n->base != e->base + e->size || !guest_ram(n->type))
			break;
		e->size += n->size;
		(*i)++;
	}
	return true;
}

static size_t mmap_count(const struct memmap *m)
{
	struct mb_mmap_entry e;
	size_t n = 0;
	for (size_t i = 0; mmap_next(m, &i, &e);)
		n++;
	return n;
}

/* Bytes of RAM (given to the guest as available) from addr up to the first hole or non-RAM range. */
static uint64_t ram_run(const struct memmap *m, uint64_t addr)
{
	uint64_t end = addr;
	for (size_t guard = 0; guard < MEMMAP_MAX; guard++) {
		const struct mem_range *r = memmap_lookup(m, end);
		if (!r || !guest_ram(r->type))
			break;
		end = r->base + r->size;
	}
	return end - addr;
}

/* mem_lower / mem_upper in KiB (Multiboot1 3.3, Multiboot2 3.6.3): RAM from 0 (at most 640 KiB) and
 * from 1 MiB up to the first hole. */
static void mem_lower_upper(const struct memmap *m, uint32_t *lower, uint32_t *upper)
{
	*lower = (uint32_t)(MIN(ram_run(m, 0), LOWER_MEMORY_MAX) >> 10);
	*upper = (uint32_t)MIN(ram_run(m, MiB(1)) >> 10, (uint64_t)UINT32_MAX);
}

/* ---- Multiboot2 information (3.6) ---- */

static size_t tag_open(struct byte_writer *w, uint32_t type)
{
	size_t start = w->len;
	bw_u32(w, type);
	bw_u32(w, 0); /* size, patched by tag_close() */
	return start;
}

static void tag_close(struct byte_writer *w, size_t start)
{
	bw_patch32(w, start + MB2I_TAG_SIZE_OFF, (uint32_t)(w->len - start));
	bw_align(w, MB2I_ALIGN);
}

static void mb2_string_tag(struct byte_writer *w, uint32_t type, const char *s)
{
	size_t t = tag_open(w, type);
	bw_str(w, s);
	tag_close(w, t);
}

/* 3.6.12: the common part, then the color info of its type (an indexed one gets an empty palette). */
static void mb2_framebuffer_tag(struct byte_writer *w, const struct framebuffer *fb)
{
	size_t t = tag_open(w, MB2_TAG_FRAMEBUFFER);
	bw_u64(w, fb->addr);
	bw_u32(w, fb->pitch);
	bw_u32(w, fb->width);
	bw_u32(w, fb->height);
	bw_u8(w, fb->bpp);
	bw_u8(w, fb->type);
	bw_u16(w, 0); /* reserved */
	if (fb->type == FB_TYPE_RGB) {
		const uint8_t rgb[MB1I_COLOR_INFO_SIZE] = {fb->red_pos,	   fb->red_size, fb->green_pos,
							   fb->green_size, fb->blue_pos, fb->blue_size};
		bw_bytes(w, rgb, sizeof(rgb));
	} else if (fb->type == FB_TYPE_INDEXED) {
		bw_u16(w, 0); /* framebuffer_palette_num_colors: hapvisor does not know the palette */
	}
	tag_close(w, t);
}

static void build_mb2(struct byte_writer *w, const struct guest_plan *k, const struct guest_boot *b)
{
	uint32_t lower, upper;
	size_t t;

	bw_u32(w, 0); /* total_size, patched at the end */
	bw_u32(w, 0); /* reserved */
	mb2_string_tag(w, MB2_TAG_CMDLINE, b->cmdline);
	mb2_string_tag(w, MB2_TAG_LOADER_NAME, MULTIBOOT_LOADER_NAME);

	mem_lower_upper(b->map, &lower, &upper);
	t = tag_open(w, MB2_TAG_BASIC_MEMINFO);
	bw_u32(w, lower);
	bw_u32(w, upper);
	tag_close(w, t);

	t = tag_open(w, MB2_TAG_MMAP);
	bw_u32(w, MB2I_MMAP_ENTRY_SIZE);
	bw_u32(w, MB2I_MMAP_ENTRY_VERSION);
	struct mb_mmap_entry e;
	for (size_t i = 0; mmap_next(b->map, &i, &e);) {
		bw_u64(w, e.base);
		bw_u64(w, e.size);
		bw_u32(w, e.type);
		bw_u32(w, 0); /* reserved */
	}
	tag_close(w, t);

	for (size_t i = 0; i < b->module_count; i++) {
		t = tag_open(w, MB2_TAG_MODULE);
		bw_u32(w, b->modules[i].start);
		bw_u32(w, b->modules[i].end);
		bw_str(w, b->modules[i].string);
		tag_close(w, t);
	}
	if (b->fb)
		mb2_framebuffer_tag(w, b->fb);
	if (b->efi64) {
		t = tag_open(w, MB2_TAG_EFI64);
		bw_u64(w, b->efi_system_table);
		tag_close(w, t);
	}
	if (b->rsdp && b->rsdp_revision >= 1 && b->rsdp_len >= MB2I_RSDP_V1_SIZE) {
		/* An ACPI 2.0+ RSDP starts with the ACPI 1.0 one, which has its own checksum
		 * (ACPI 6.5 5.2.5.3). */
		t = tag_open(w, MB2_TAG_ACPI_OLD);
		bw_bytes(w, b->rsdp, MB2I_RSDP_V1_SIZE);
		tag_close(w, t);
	}
	if (b->rsdp && b->rsdp_revision >= 2 && b->rsdp_len >= MB2I_RSDP_V2_SIZE) {
		t = tag_open(w, MB2_TAG_ACPI_NEW);
		bw_bytes(w, b->rsdp, MB2I_RSDP_V2_SIZE);
		tag_close(w, t);
	}
	if (k->mb.mb2_relocatable) {
		t = tag_open(w, MB2_TAG_LOAD_BASE_ADDR);
		bw_u32(w, k->load_base);
		tag_close(w, t);
	}
	bw_u32(w, MB2_TAG_END);
	bw_u32(w, MB2I_END_SIZE);
	bw_patch32(w, 0, (uint32_t)w->len);
}

/* ---- Multiboot1 information (3.3) ---- */

/* The 116-byte structure's framebuffer fields (flags bit 12) at offsets 88 - 115. */
static void mb1_framebuffer_fields(struct byte_writer *w, const struct framebuffer *fb)
{
	uint8_t color[MB1I_COLOR_INFO_SIZE] = {0}; /* indexed: palette address 0, 0 colors */
	if (fb->type == FB_TYPE_RGB) {
		color[0] = fb->red_pos;
		color[1] = fb->red_size;
		color[2] = fb->green_pos;
		color[3] = fb->green_size;
		color[4] = fb->blue_pos;
		color[5] = fb->blue_size;
	}
	bw_u64(w, fb->addr);
	bw_u32(w, fb->pitch);
	bw_u32(w, fb->width);
	bw_u32(w, fb->height);
	bw_u8(w, fb->bpp);
	bw_u8(w, fb->type);
	bw_bytes(w, color, sizeof(color));
}

/*
 * Layout: the structure, padded to 8; the module list; the memory map; the strings (command line, loader
 * name, module strings). Pointers are buf_phys + offset.
 */
static void build_mb1(struct byte_writer *w, const struct guest_boot *b, uint64_t phys)
{
	uint64_t mods_off = ALIGN_UP((uint64_t)MB1I_SIZE, MB1I_ALIGN);
	uint64_t mmap_len = mmap_count(b->map) * MB1I_MMAP_ENTRY_SIZE;
	uint64_t mmap_off = mods_off + b->module_count * MB1I_MOD_SIZE;
	uint64_t cmdline_off = mmap_off + mmap_len;
	uint64_t loader_off = cmdline_off + strlen(b->cmdline) + 1;
	uint64_t mod_str_off = loader_off + sizeof(MULTIBOOT_LOADER_NAME);
	uint32_t flags = MB1I_FLAGS_MEMORY | MB1I_FLAGS_CMDLINE | MB1I_FLAGS_MODS | MB1I_FLAGS_MMAP |
			 MB1I_FLAGS_LOADER_NAME | (b->fb ? MB1I_FLAGS_FRAMEBUFFER : 0);
	uint32_t lower, upper;
	mem_lower_upper(b->map, &lower, &upper);

	bw_u32(w, flags);			   /* 0 flags */
	bw_u32(w, lower);			   /* 4 mem_lower */
	bw_u32(w, upper);			   /* 8 mem_upper */
	bw_u32(w, 0);				   /* 12 boot_device: not given */
	bw_u32(w, (uint32_t)(phys + cmdline_off)); /* 16 cmdline */
	bw_u32(w, (uint32_t)b->module_count);	   /* 20 mods_count */
	bw_u32(w, (uint32_t)(phys + mods_off));	   /* 24 mods_addr */
	bw_zeros(w, MB1I_SYMS_SIZE);		   /* 28 syms */
	bw_u32(w, (uint32_t)mmap_len);		   /* 44 mmap_length */
	bw_u32(w, (uint32_t)(phys + mmap_off));	   /* 48 mmap_addr */
	bw_u32(w, 0);				   /* 52 drives_length */
	bw_u32(w, 0);				   /* 56 drives_addr */
	bw_u32(w, 0);				   /* 60 config_table */
	bw_u32(w, (uint32_t)(phys + loader_off));  /* 64 boot_loader_name */
	bw_u32(w, 0);				   /* 68 apm_table */
	bw_zeros(w, MB1I_VBE_SIZE);		   /* 72 vbe_* */
	if (b->fb)
		mb1_framebuffer_fields(w, b->fb); /* 88 - 115 */
	else
		bw_zeros(w, MB1I_FB_SIZE);
	bw_align(w, MB1I_ALIGN);

	uint64_t str_off = mod_str_off;
	for (size_t i = 0; i < b->module_count; i++) {
		const struct guest_module *m = &b->modules[i];
		bw_u32(w, m->start);
		bw_u32(w, m->end);
		bw_u32(w, (uint32_t)(phys + str_off));
		bw_u32(w, 0); /* reserved */
		str_off += strlen(m->string) + 1;
	}
	struct mb_mmap_entry e;
	for (size_t i = 0; mmap_next(b->map, &i, &e);) {
		bw_u32(w, MB1I_MMAP_SIZE_FIELD);
		bw_u64(w, e.base);
		bw_u64(w, e.size);
		bw_u32(w, e.type);
	}
	bw_str(w, b->cmdline);
	bw_str(w, MULTIBOOT_LOADER_NAME);
	for (size_t i = 0; i < b->module_count; i++)
		bw_str(w, b->modules[i].string);
}

size_t multiboot_build_info(const struct guest_plan *k, const struct guest_boot *b, void *buf, size_t cap,
			    uint64_t buf_phys)
{
	struct byte_writer w = byte_writer_init(buf, cap);
	if (k->mb.version == MULTIBOOT_2)
		build_mb2(&w, k, b);
	else
		build_mb1(&w, b, buf_phys);
	return w.len;
}
