/* The Linux x86 boot protocol: setup header, placement, boot_params (see bzimage.h). Pure: host-testable. */
#include "guest/bzimage.h"
#include "lib/fmt.h"
#include "lib/le.h"
#include "lib/log.h"
#include "lib/str.h"

#define BZ_LOW_LIMIT MiB(1) /* the first MiB is the BIOS's and the real-mode world's */
#define BZ_ADDR_LIMIT GiB(4)
#define BZ_PARAGRAPH 16u
#define BZ_LFB_SIZE_UNIT KiB(64) /* screen_info.lfb_size of a VIDEO_TYPE_VLFB framebuffer */

/* screen_info field offsets (include/uapi/linux/screen_info.h). */
#define SI_ORIG_VIDEO_MODE 0x06u
#define SI_ORIG_VIDEO_COLS 0x07u
#define SI_ORIG_VIDEO_LINES 0x0eu
#define SI_ORIG_VIDEO_ISVGA 0x0fu
#define SI_ORIG_VIDEO_POINTS 0x10u
#define SI_LFB_WIDTH 0x12u
#define SI_LFB_HEIGHT 0x14u
#define SI_LFB_DEPTH 0x16u
#define SI_LFB_BASE 0x18u
#define SI_LFB_SIZE 0x1cu
#define SI_LFB_LINELENGTH 0x24u
#define SI_RED_SIZE 0x26u /* then red_pos, green_size, green_pos, blue_size, blue_pos */
#define SI_CAPABILITIES 0x36u
#define SI_EXT_LFB_BASE 0x3au
#define VGA_TEXT_MODE 3u
#define VGA_FONT_HEIGHT 16u

/* ---- the setup header -------------------------------------------------------------------------------- */

/* Validation that needs only the fixed part of the header. */
static bool check_header(const uint8_t *p, size_t size, struct bzimage_kernel *out)
{
	if (size < BZ_VERSION + 2 || le16_load(p + BZ_BOOT_FLAG) != BZ_BOOT_FLAG_MAGIC ||
	    le32_load(p + BZ_HEADER) != BZ_HEADER_MAGIC) {
		log_error("guest kernel: Linux bzImage: no boot flag 0xAA55 at 0x1FE and \"HdrS\" at 0x202");
		return false;
	}
	out->version = le16_load(p + BZ_VERSION);
	if (out->version < BZ_MIN_VERSION) {
		log_error(
			"guest kernel: Linux bzImage: boot protocol %u.%02u is older than 2.12, which hapvisor needs; boot a kernel from Linux 3.8 or later",
			out->version >> 8, out->version & 0xffu);
		return false;
	}
	size_t end = BZ_HEADER + (size_t)p[BZ_JUMP + 1];
	if (end < BZ_INIT_SIZE + 4) {
		log_error(
			"guest kernel: Linux bzImage: the setup header ends at 0x%zx (jump at 0x200), before the init_size field of protocol %u.%02u; the file is damaged",
			end, out->version >> 8, out->version & 0xffu);
		return false;
	}
	end = MIN(end, (size_t)BZ_HEADER_END_MAX);
	if (end > size) {
		log_error(
			"guest kernel: Linux bzImage: the %zu-byte file ends inside its setup header; the module is truncated: copy it again",
			size);
		return false;
	}
	out->header_len = end - BZ_SETUP_SECTS;
	memcpy(out->header, p + BZ_SETUP_SECTS, out->header_len);
	return true;
}

/* The fields hapvisor uses, each checked. */
static bool read_fields(const uint8_t *p, struct bzimage_kernel *k)
{
	k->setup_sects = p[BZ_SETUP_SECTS] ? p[BZ_SETUP_SECTS] : BZ_DEFAULT_SETUP_SECTS;
	k->setup_bytes = (uint32_t)(k->setup_sects + 1) * BZ_SECTOR;
	k->syssize = le32_load(p + BZ_SYSSIZE);
	k->loadflags = p[BZ_LOADFLAGS];
	k->relocatable = p[BZ_RELOCATABLE] != 0;
	k->kernel_alignment = le32_load(p + BZ_KERNEL_ALIGNMENT);
	k->xloadflags = le16_load(p + BZ_XLOADFLAGS);
	k->initrd_addr_max = le32_load(p + BZ_INITRD_ADDR_MAX);
	k->cmdline_size = le32_load(p + BZ_CMDLINE_SIZE);
	k->pref_address = le64_load(p + BZ_PREF_ADDRESS);
	k->init_size = le32_load(p + BZ_INIT_SIZE);
	if (!(k->loadflags & BZ_LOADED_HIGH)) {
		log_error(
			"guest kernel: Linux bzImage: loadflags 0x%x lack LOADED_HIGH (bit 0): a zImage that loads at 0x10000 is not supported; build a bzImage",
			k->loadflags);
		return false;
	}
	if (k->kernel_alignment == 0 || (k->kernel_alignment & (k->kernel_alignment - 1)) != 0) {
		log_error(
			"guest kernel: Linux bzImage: kernel_alignment 0x%x is not a power of two; the file is damaged",
			k->kernel_alignment);
		return false;
	}
	if (k->pref_address >= BZ_ADDR_LIMIT) {
		log_error(
			"guest kernel: Linux bzImage: pref_address 0x%llx is above 4 GiB; hapvisor enters Linux in 32-bit mode, below 4 GiB",
			(unsigned long long)k->pref_address);
		return false;
	}
	return true;
}

/* The protected-mode kernel is all there: the setup part, the compressed payload, syssize (nearly). */
static bool check_size(const uint8_t *p, size_t size, struct bzimage_kernel *k)
{
	if (size <= k->setup_bytes) {
		log_error(
			"guest kernel: Linux bzImage: the file (%zu bytes) ends inside its %u-byte setup part (setup_sects %u); the module is truncated: copy it again",
			size, k->setup_bytes, k->setup_sects);
		return false;
	}
	k->kernel_bytes = size - k->setup_bytes;
	uint64_t payload_end = (uint64_t)le32_load(p + BZ_PAYLOAD_OFFSET) + le32_load(p + BZ_PAYLOAD_LENGTH);
	uint64_t declared = (uint64_t)k->syssize * BZ_PARAGRAPH;
	if (payload_end > k->kernel_bytes || declared > k->kernel_bytes + BZ_SYSSIZE_SLACK) {
		log_error(
			"guest kernel: Linux bzImage: the protected-mode kernel is %llu bytes, but its header says %llu (syssize) with the compressed payload ending at %llu; the module is truncated: copy it again",
			(unsigned long long)k->kernel_bytes, (unsigned long long)declared,
			(unsigned long long)payload_end);
		return false;
	}
	if (k->kernel_bytes >= BZ_ADDR_LIMIT) {
		log_error(
			"guest kernel: Linux bzImage: the protected-mode kernel (%llu bytes) does not fit below 4 GiB",
			(unsigned long long)k->kernel_bytes);
		return false;
	}
	return true;
}

bool bzimage_parse(const void *image, size_t size, struct bzimage_kernel *out)
{
	const uint8_t *p = image;
	memset(out, 0, sizeof(*out));
	return check_header(p, size, out) && read_fields(p, out) && check_size(p, size, out);
}

/* ---- placement ----------------------------------------------------------------------------------------- */

static bool guest_ram(enum mem_type type)
{
	return type == MEM_AVAILABLE || type == MEM_BOOT;
}

/* The init_size span, never shorter than the file's kernel (a damaged init_size is no reason to overlap). */
static uint64_t span(const struct bzimage_kernel *k)
{
	return MAX((uint64_t)k->init_size, k->kernel_bytes);
}

/*
 * The lowest `align`-aligned base >= min with [base, base + size) inside one run of contiguous guest RAM
 * and below BZ_ADDR_LIMIT; align 0 tries min only. False when none.
 */
static bool find_low(const struct memmap *map, uint64_t size, uint64_t align, uint64_t min, uint64_t *base)
{
	size_t i = 0;
	while (i < map->count) {
		if (!guest_ram(map->ranges[i].type)) {
			i++;
			continue;
		}
		uint64_t run_start = map->ranges[i].base, run_end = run_start + map->ranges[i].size;
		for (i++; i < map->count && guest_ram(map->ranges[i].type) && map->ranges[i].base == run_end;
		     i++)
			run_end += map->ranges[i].size;
		run_end = MIN(run_end, BZ_ADDR_LIMIT);
		uint64_t at = align ? ALIGN_UP(MAX(run_start, min), align) : min;
		if (at >= run_start && at < run_end && run_end - at >= size) {
			*base = at;
			return true;
		}
	}
	return false;
}

bool bzimage_place(struct bzimage_kernel *k, const struct memmap *map)
{
	uint64_t size = span(k), pref = k->pref_address, base;
	if (pref >= BZ_LOW_LIMIT && find_low(map, size, 0, pref, &base)) {
		k->load_addr = (uint32_t)base;
		return true;
	}
	if (!k->relocatable) {
		log_error(
			"guest kernel: Linux bzImage: it is not relocatable, and [0x%llx, 0x%llx) (pref_address + init_size) is not free RAM above 1 MiB; build it with CONFIG_RELOCATABLE=y, or check the event=memmap map=guest lines",
			(unsigned long long)pref, (unsigned long long)(pref + size));
		return false;
	}
	if (find_low(map, size, k->kernel_alignment, MAX(pref, BZ_LOW_LIMIT), &base)) {
		log_info(
			"Linux bzImage: [0x%llx, 0x%llx) (pref_address + init_size) is not free RAM: loading at 0x%llx",
			(unsigned long long)pref, (unsigned long long)(pref + size),
			(unsigned long long)base);
		k->load_addr = (uint32_t)base;
		return true;
	}
	log_error(
		"guest kernel: Linux bzImage: no free RAM below 4 GiB for its %llu-byte decompression area (init_size) at a 0x%x-aligned address from 0x%llx up; give the machine more memory or boot with a smaller hvmem=",
		(unsigned long long)size, k->kernel_alignment, (unsigned long long)MAX(pref, BZ_LOW_LIMIT));
	return false;
}

void bzimage_plan(const struct bzimage_kernel *k, struct guest_plan *out)
{
	memset(out, 0, sizeof(*out));
	out->entry = k->load_addr;
	out->load_base = k->load_addr;
	out->segment_count = 1;
	out->segments[0] = (struct guest_segment){
		.paddr = k->load_addr,
		.offset = k->setup_bytes,
		.filesz = k->kernel_bytes,
		.memsz = span(k),
		.phdr = 0,
	};
}

uint64_t bzimage_initrd_limit(const struct bzimage_kernel *k)
{
	return MIN((uint64_t)k->initrd_addr_max + 1, BZ_ADDR_LIMIT);
}

/* ---- boot_params ------------------------------------------------------------------------------------- */

/* The map as E820 entries (neighbours of one type merged), written at bp + BP_E820_TABLE when bp != NULL. */
static size_t put_e820(const struct memmap *map, uint8_t *bp)
{
	size_t n = 0;
	uint64_t addr = 0, size = 0;
	uint32_t type = 0;
	for (size_t i = 0; i <= map->count; i++) {
		const struct mem_range *r = i < map->count ? &map->ranges[i] : NULL;
		if (r && n && guest_e820_type(r->type) == type && addr + size == r->base) {
			size += r->size;
			continue;
		}
		if (n && bp && n <= BZ_E820_MAX) {
			uint32_t at = BP_E820_TABLE + (uint32_t)(n - 1) * BP_E820_ENTRY_SIZE;
			le_store(bp + at, addr, 8);
			le_store(bp + at + 8, size, 8);
			le_store(bp + at + 16, type, 4);
		}
		if (!r)
			break;
		addr = r->base;
		size = r->size;
		type = guest_e820_type(r->type);
		n++;
	}
	return n;
}

size_t bzimage_e820_count(const struct memmap *map)
{
	return put_e820(map, NULL);
}

/* screen_info from the firmware framebuffer GRUB gave hapvisor (boot.rst "screen_info"). */
static void put_screen_info(const struct framebuffer *fb, uint8_t *bp)
{
	uint8_t *si = bp + BP_SCREEN_INFO;
	if (fb->type == FB_TYPE_EGA_TEXT) {
		le_store(si + SI_ORIG_VIDEO_MODE, VGA_TEXT_MODE, 1);
		le_store(si + SI_ORIG_VIDEO_COLS, fb->width, 1);
		le_store(si + SI_ORIG_VIDEO_LINES, fb->height, 1);
		le_store(si + SI_ORIG_VIDEO_ISVGA, BZ_VIDEO_TYPE_VGAC, 1);
		le_store(si + SI_ORIG_VIDEO_POINTS, VGA_FONT_HEIGHT, 2);
		return;
	}
	uint64_t bytes = (uint64_t)fb->pitch * fb->height;
	le_store(si + SI_ORIG_VIDEO_ISVGA, BZ_VIDEO_TYPE_VLFB, 1);
	le_store(si + SI_LFB_WIDTH, fb->width, 2);
	le_store(si + SI_LFB_HEIGHT, fb->height, 2);
	le_store(si + SI_LFB_DEPTH, fb->bpp, 2);
	le_store(si + SI_LFB_BASE, fb->addr, 4);
	le_store(si + SI_LFB_SIZE, (bytes + BZ_LFB_SIZE_UNIT - 1) / BZ_LFB_SIZE_UNIT, 4);
	le_store(si + SI_LFB_LINELENGTH, fb->pitch, 2);
	if (fb->addr >> 32) {
		le_store(si + SI_EXT_LFB_BASE, fb->addr >> 32, 4);
		le_store(si + SI_CAPABILITIES, BZ_VIDEO_CAPABILITY_64BIT_BASE, 4);
	}
	if (fb->type == FB_TYPE_RGB) {
		const uint8_t colours[] = {fb->red_size,  fb->red_pos,	 fb->green_size,
					   fb->green_pos, fb->blue_size, fb->blue_pos};
		memcpy(si + SI_RED_SIZE, colours, sizeof(colours));
	}
}

/* The setup header fields a boot loader writes (boot.rst "DETAILS OF HEADER FIELDS"). */
static void put_header(const struct bzimage_kernel *k, const struct guest_boot *b, uint8_t *bp,
		       uint32_t cmdline)
{
	memcpy(bp + BZ_SETUP_SECTS, k->header, k->header_len);
	le_store(bp + BZ_TYPE_OF_LOADER, BZ_LOADER_UNDEFINED, 1);
	le_store(bp + BZ_LOADFLAGS, BZ_LOADED_HIGH, 1);
	le_store(bp + BZ_CODE32_START, k->load_addr, 4);
	le_store(bp + BZ_CMD_LINE_PTR, cmdline, 4);
	le_store(bp + BP_EXT_CMD_LINE_PTR, 0, 4); /* everything hapvisor places lies below 4 GiB */
	le_store(bp + BZ_SETUP_DATA, 0, 8);
	if (b->module_count) {
		const struct guest_module *initrd = &b->modules[0];
		le_store(bp + BZ_RAMDISK_IMAGE, initrd->start, 4);
		le_store(bp + BZ_RAMDISK_SIZE, initrd->end - initrd->start, 4);
	} else {
		le_store(bp + BZ_RAMDISK_IMAGE, 0, 4);
		le_store(bp + BZ_RAMDISK_SIZE, 0, 4);
	}
	le_store(bp + BP_EXT_RAMDISK_IMAGE, 0, 4);
	le_store(bp + BP_EXT_RAMDISK_SIZE, 0, 4);
}

size_t bzimage_build_info(const struct bzimage_kernel *k, const struct guest_boot *b, void *out, size_t cap,
			  uint64_t buf_phys, struct bzimage_layout *layout)
{
	size_t len = strlen(b->cmdline);
	size_t keep = MIN(len, (size_t)k->cmdline_size);
	size_t size = BZ_INFO_CMDLINE + keep + 1;
	*layout = (struct bzimage_layout){
		.boot_params = (uint32_t)(buf_phys + BZ_INFO_BOOT_PARAMS),
		.gdt = (uint32_t)(buf_phys + BZ_INFO_GDT),
		.rsdp = b->rsdp ? (uint32_t)(buf_phys + BZ_INFO_RSDP) : 0,
		.cmdline = (uint32_t)(buf_phys + BZ_INFO_CMDLINE),
	};
	uint8_t *buf = out;
	if (!buf || size > cap)
		return size;

	memset(buf, 0, size);
	uint8_t *bp = buf + BZ_INFO_BOOT_PARAMS;
	put_header(k, b, bp, layout->cmdline);
	size_t entries = MIN(put_e820(b->map, bp), (size_t)BZ_E820_MAX);
	le_store(bp + BP_E820_ENTRIES, entries, 1);
	if (b->fb)
		put_screen_info(b->fb, bp);

	const uint64_t gdt[BZ_GDT_ENTRIES] = {0, 0, BZ_GDT_CODE32, BZ_GDT_DATA32};
	for (uint32_t i = 0; i < BZ_GDT_ENTRIES; i++)
		le_store(buf + BZ_INFO_GDT + 8 * i, gdt[i], 8);
	if (b->rsdp) { /* a copy: the RSDT/XSDT it names stay where the firmware put them */
		memcpy(buf + BZ_INFO_RSDP, b->rsdp, b->rsdp_len);
		if (k->version >= BZ_RSDP_VERSION)
			le_store(bp + BP_ACPI_RSDP_ADDR, layout->rsdp, 8);
	}
	memcpy(buf + BZ_INFO_CMDLINE, b->cmdline, keep);
	if (keep < len)
		log_warn(
			"Linux bzImage: the command line (%zu bytes) is cut to the kernel's cmdline_size, %u bytes",
			len, k->cmdline_size);
	return size;
}

/* ---- the format (guest/format.h) --------------------------------------------------------------------- */

/* What guest_load() loads: the kernel bzimage_parse() accepted and placed, and where its boot information
 * put the zero page and the GDT (the entry state needs them). */
static struct bzimage_kernel loaded;
static struct bzimage_layout layout;

static bool probe(const void *image, size_t size)
{
	const uint8_t *p = image;
	return size >= BZ_HEADER + 4 && le16_load(p + BZ_BOOT_FLAG) == BZ_BOOT_FLAG_MAGIC &&
	       le32_load(p + BZ_HEADER) == BZ_HEADER_MAGIC;
}

static bool parse(const void *image, size_t size, const struct memmap *map, struct guest_plan *plan)
{
	if (!bzimage_parse(image, size, &loaded) || !bzimage_place(&loaded, map))
		return false;
	bzimage_plan(&loaded, plan);
	return true;
}

static void segment_name(const struct guest_plan *plan, size_t i, char *buf, size_t n)
{
	fmt_snprintf(buf, n, "the protected-mode kernel with its init_size");
}

/* The initrd, the first module passed on (module 1 after the kernel file), must end by initrd_addr_max. */
static uint64_t module_limit(const struct guest_plan *plan, size_t i)
{
	return i == 1 ? bzimage_initrd_limit(&loaded) : GUEST_ADDR_LIMIT;
}

static size_t build_info(const struct guest_plan *plan, const struct guest_boot *b, void *buf, size_t cap,
			 uint64_t buf_phys)
{
	return bzimage_build_info(&loaded, b, buf, cap, buf_phys, &layout);
}

/*
 * The boot information, once placed: the page holding the RSDP copy is typed ACPI reclaimable, so that Linux
 * neither reuses it before its ACPI code reads the RSDP nor decompresses over it (KASLR avoids only
 * boot_params, the command line and the initrd); and the zero page holds at most BZ_E820_MAX E820 entries.
 */
static bool placed(const struct guest_plan *plan, const struct guest_boot *b, uint64_t info_phys,
		   struct memmap *recorded)
{
	(void)bzimage_build_info(&loaded, b, NULL, 0, info_phys, &layout);
	if (layout.rsdp && !guest_map_mark(recorded, layout.rsdp, b->rsdp_len, MEM_ACPI_RECLAIMABLE))
		return false;
	size_t entries = bzimage_e820_count(recorded);
	if (entries > BZ_E820_MAX) {
		log_error(
			"the guest memory map needs %zu E820 entries, more than the %u a Linux zero page holds; the firmware map is unusually fragmented",
			entries, BZ_E820_MAX);
		return false;
	}
	return true;
}

/* boot.rst "32-bit BOOT PROTOCOL": ESI the zero page, __BOOT_CS / __BOOT_DS in a GDT of ours. */
static void entry(const struct guest_plan *plan, uint64_t info_phys, struct guest_entry_state *out)
{
	*out = (struct guest_entry_state){
		.eip = plan->entry,
		.esi = layout.boot_params,
		.cs_sel = BZ_BOOT_CS,
		.ds_sel = BZ_BOOT_DS,
		.gdtr_base = layout.gdt,
		.gdtr_limit = BZ_GDT_LIMIT,
	};
}

const struct guest_format_ops guest_format_bzimage = {
	.format = GUEST_FORMAT_LINUX_BZIMAGE,
	.name = "linux-bzimage",
	.probe = probe,
	.parse = parse,
	.segment_name = segment_name,
	.module_limit = module_limit,
	.build_info = build_info,
	.placed = placed,
	.entry = entry,
	.zero_bss = false, /* init_size beyond the file bytes is the decompressor's room: nothing to zero */
};
