/*
 * Multiboot2 boot information parser (Multiboot2 specification 1.0, section 3.6; see mb2.h).
 * Every byte is read through rd8, tag_rd32 and tag_rd64 at an offset already checked against the tag size,
 * and every tag size against the block's total_size, itself checked against what the caller trusts (avail):
 * garbage input gives one error line, never a read outside the block.
 */
#include "guest/mb2.h"
#include "lib/fmt.h"
#include "lib/le.h"
#include "lib/log.h"
#include "lib/str.h"

/* Block layout (spec 3.6.1): 8-byte fixed part, then 8-byte-aligned tags, the last an 8-byte end tag. */
#define MB2_ALIGN 8u
#define MB2_FIXED_PART_SIZE 8u /* u32 total_size, u32 reserved */
#define MB2_TAG_HEADER_SIZE 8u /* u32 type, u32 size */
#define MB2_END_TAG_SIZE 8u
#define MB2_MIN_TOTAL_SIZE (MB2_FIXED_PART_SIZE + MB2_END_TAG_SIZE)
#define MB2_TAG_TYPE_OFF 0u
#define MB2_TAG_SIZE_OFF 4u

/* Field offsets from the start of a tag. */
#define MB2_STRING_OFF 8u    /* tags 1 and 2 (3.6.3, 3.6.4) */
#define MB2_MOD_START_OFF 8u /* tag 3 (3.6.6) */
#define MB2_MOD_END_OFF 12u
#define MB2_MOD_STRING_OFF 16u
#define MB2_MEM_LOWER_OFF 8u /* tag 4 (3.6.2) */
#define MB2_MEM_UPPER_OFF 12u
#define MB2_MEMINFO_SIZE 16u
#define MB2_MMAP_ENTRY_SIZE_OFF 8u /* tag 6 (3.6.8) */
#define MB2_MMAP_ENTRY_VERSION_OFF 12u
#define MB2_MMAP_ENTRIES_OFF 16u
#define MB2_MMAP_ENTRY_VERSION 0u
#define MB2_MMAP_ENTRY_MIN 24u /* sizeof(struct mb2_mmap_entry) */
#define MB2_FB_ADDR_OFF 8u     /* tag 8 (3.6.12) */
#define MB2_FB_PITCH_OFF 16u
#define MB2_FB_WIDTH_OFF 20u
#define MB2_FB_HEIGHT_OFF 24u
#define MB2_FB_BPP_OFF 28u
#define MB2_FB_TYPE_OFF 29u
#define MB2_FB_COLOR_OFF 32u	     /* color_info, after a u16 reserved field (GRUB layout) */
#define MB2_FB_RGB_SIZE 6u	     /* red/green/blue field position and mask size, one byte each */
#define MB2_FB_PALETTE_COUNT_SIZE 2u /* u16 framebuffer_palette_num_colors */
#define MB2_FB_PALETTE_ENTRY_SIZE 3u /* red, green, blue bytes */
#define MB2_EFI_PTR_OFF 8u	     /* tags 11 and 12 (3.6.13, 3.6.14) */
#define MB2_EFI32_SIZE 12u
#define MB2_EFI64_SIZE 16u
#define MB2_RSDP_OFF 8u		 /* tags 14 and 15 (3.6.16, 3.6.17) */
#define MB2_RSDP_V1_SIZE 20u	 /* ACPI 6.5 5.2.5.3: RSDP up to RsdtAddress */
#define MB2_RSDP_V2_SIZE 36u	 /* the whole ACPI 2.0+ RSDP */
#define MB2_EFI_DESC_SIZE_OFF 8u /* tag 17 (3.6.19) */
#define MB2_EFI_DESC_VERSION_OFF 12u
#define MB2_EFI_DESCS_OFF 16u
#define MB2_EFI_DESC_MIN 40u /* sizeof(EFI_MEMORY_DESCRIPTOR) with its padding, UEFI 2.10 7.2 */
#define MB2_LOAD_BASE_OFF 8u /* tag 21 (3.6.20) */
#define MB2_LOAD_BASE_SIZE 12u

#define MB2_RSDP_REV_OLD 1
#define MB2_RSDP_REV_NEW 2
#define MB2_DETAIL_MAX 160     /* the "what is wrong" part of an error line */
#define MB2_KNOWN_TYPES_MAX 32 /* bits in struct mb2_seen's mask */

/* One tag being decoded: where it is and what its header says (size already checked to fit the block). */
struct mb2_tag {
	const uint8_t *p;
	uint32_t type, size, offset;
};

/* Tags seen so far, to refuse a second copy of a tag that must be unique. */
struct mb2_seen {
	uint32_t mask;			      /* BIT(type) for each unique type seen */
	uint32_t offset[MB2_KNOWN_TYPES_MAX]; /* where it was */
};

typedef bool (*mb2_decode_fn)(const struct mb2_tag *tag, struct mb2_info *out);

/* What hapvisor knows about a tag type: its name, the size it must have at least, whether it is unique. */
struct mb2_tag_spec {
	const char *name;
	uint32_t min_size;
	bool unique;
	mb2_decode_fn decode; /* NULL: legal but not used by hapvisor, skipped */
};

static uint8_t rd8(const struct mb2_tag *tag, uint32_t off)
{
	return tag->p[off];
}

static uint32_t tag_rd32(const struct mb2_tag *tag, uint32_t off)
{
	return le32_load(tag->p + off);
}

static uint64_t tag_rd64(const struct mb2_tag *tag, uint32_t off)
{
	return le64_load(tag->p + off);
}

static const char *mb2_tag_name(uint32_t type);

static bool tag_error(const struct mb2_tag *tag, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Print the one error line for a bad tag: type, name, offset, then the formatted problem. Returns false. */
static bool tag_error(const struct mb2_tag *tag, const char *fmt, ...)
{
	char detail[MB2_DETAIL_MAX];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_error("Multiboot2 info: tag %u (%s) at offset 0x%x: %s", tag->type, mb2_tag_name(tag->type),
		  tag->offset, detail);
	return false;
}

/*
 * The NUL-terminated string at off inside the tag into *out, or false (after the error line) when the tag
 * ends before a NUL.
 */
static bool tag_string(const struct mb2_tag *tag, uint32_t off, const char *what, const char **out)
{
	const char *s = (const char *)(tag->p + off);
	size_t room = tag->size - off;
	if (strnlen(s, room) == room)
		return tag_error(tag, "the %s is not NUL-terminated inside the tag (size %u)", what,
				 tag->size);
	*out = s;
	return true;
}

static bool decode_cmdline(const struct mb2_tag *tag, struct mb2_info *out)
{
	return tag_string(tag, MB2_STRING_OFF, "command line", &out->cmdline);
}

static bool decode_loader_name(const struct mb2_tag *tag, struct mb2_info *out)
{
	return tag_string(tag, MB2_STRING_OFF, "loader name", &out->loader_name);
}

/* Tag 3 (spec 3.6.6): one more module, at most MB2_MAX_MODULES, with end >= start. */
static bool decode_module(const struct mb2_tag *tag, struct mb2_info *out)
{
	if (out->module_count >= MB2_MAX_MODULES)
		return tag_error(tag,
				 "more than %d modules; hapvisor takes at most %d (drop some module2 lines)",
				 MB2_MAX_MODULES, MB2_MAX_MODULES);
	struct mb2_module *mod = &out->modules[out->module_count];
	mod->start = tag_rd32(tag, MB2_MOD_START_OFF);
	mod->end = tag_rd32(tag, MB2_MOD_END_OFF);
	if (mod->end < mod->start)
		return tag_error(tag, "module end 0x%x is below its start 0x%x", mod->end, mod->start);
	if (!tag_string(tag, MB2_MOD_STRING_OFF, "module string", &mod->string))
		return false;
	out->module_count++;
	return true;
}

static bool decode_basic_meminfo(const struct mb2_tag *tag, struct mb2_info *out)
{
	out->have_basic_meminfo = true;
	out->mem_lower_kib = tag_rd32(tag, MB2_MEM_LOWER_OFF);
	out->mem_upper_kib = tag_rd32(tag, MB2_MEM_UPPER_OFF);
	return true;
}

/*
 * Check an array of entries after a 16-byte tag header (tags 6 and 17): entry size at least min and a
 * multiple of 8 (so 64-bit fields stay aligned). Returns the entry count in *count; bytes after the last
 * whole entry are ignored.
 */
static bool entry_array(const struct mb2_tag *tag, uint32_t entry_size, uint32_t min, uint32_t entries_off,
			size_t *count)
{
	if (entry_size < min)
		return tag_error(tag, "entry size %u is smaller than %u", entry_size, min);
	if (!IS_ALIGNED(entry_size, MB2_ALIGN))
		return tag_error(tag, "entry size %u is not a multiple of %u", entry_size, MB2_ALIGN);
	uint32_t bytes = tag->size - entries_off;
	if (bytes % entry_size != 0)
		log_debug("Multiboot2 tag %u at offset 0x%x: %u bytes after the last whole entry ignored",
			  tag->type, tag->offset, bytes % entry_size);
	*count = bytes / entry_size;
	return true;
}

/* Tag 6 (spec 3.6.8): the BIOS-style memory map. */
static bool decode_mmap(const struct mb2_tag *tag, struct mb2_info *out)
{
	uint32_t entry_size = tag_rd32(tag, MB2_MMAP_ENTRY_SIZE_OFF);
	uint32_t version = tag_rd32(tag, MB2_MMAP_ENTRY_VERSION_OFF);
	if (!entry_array(tag, entry_size, MB2_MMAP_ENTRY_MIN, MB2_MMAP_ENTRIES_OFF, &out->mmap_count))
		return false;
	if (version != MB2_MMAP_ENTRY_VERSION)
		return tag_error(tag, "entry version %u is not %u, the only one the specification defines",
				 version, MB2_MMAP_ENTRY_VERSION);
	out->mmap = tag->p + MB2_MMAP_ENTRIES_OFF;
	out->mmap_entry_size = entry_size;
	return true;
}

/* Tag 17 (spec 3.6.19): the UEFI memory map, as GetMemoryMap returned it. */
static bool decode_efi_mmap(const struct mb2_tag *tag, struct mb2_info *out)
{
	uint32_t desc_size = tag_rd32(tag, MB2_EFI_DESC_SIZE_OFF);
	if (!entry_array(tag, desc_size, MB2_EFI_DESC_MIN, MB2_EFI_DESCS_OFF, &out->efi_mmap_count))
		return false;
	out->efi_mmap = tag->p + MB2_EFI_DESCS_OFF;
	out->efi_desc_size = desc_size;
	out->efi_desc_version = tag_rd32(tag, MB2_EFI_DESC_VERSION_OFF);
	return true;
}

/* Tag 8 (spec 3.6.12): the common part, then the color info its type needs (RGB layout or palette). */
static bool decode_framebuffer(const struct mb2_tag *tag, struct mb2_info *out)
{
	struct framebuffer *fb = &out->fb;
	fb->addr = tag_rd64(tag, MB2_FB_ADDR_OFF);
	fb->pitch = tag_rd32(tag, MB2_FB_PITCH_OFF);
	fb->width = tag_rd32(tag, MB2_FB_WIDTH_OFF);
	fb->height = tag_rd32(tag, MB2_FB_HEIGHT_OFF);
	fb->bpp = rd8(tag, MB2_FB_BPP_OFF);
	fb->type = rd8(tag, MB2_FB_TYPE_OFF);
	if (fb->type == FB_TYPE_RGB) {
		if (tag->size < MB2_FB_COLOR_OFF + MB2_FB_RGB_SIZE)
			return tag_error(tag, "size %u leaves no room for the RGB color info (needs %u)",
					 tag->size, MB2_FB_COLOR_OFF + MB2_FB_RGB_SIZE);
		uint32_t c = MB2_FB_COLOR_OFF;
		fb->red_pos = rd8(tag, c);
		fb->red_size = rd8(tag, c + 1);
		fb->green_pos = rd8(tag, c + 2);
		fb->green_size = rd8(tag, c + 3);
		fb->blue_pos = rd8(tag, c + 4);
		fb->blue_size = rd8(tag, c + 5);
	} else if (fb->type == FB_TYPE_INDEXED) {
		if (tag->size < MB2_FB_COLOR_OFF + MB2_FB_PALETTE_COUNT_SIZE)
			return tag_error(tag, "size %u leaves no room for the palette size", tag->size);
		uint32_t colors =
			(uint32_t)rd8(tag, MB2_FB_COLOR_OFF) | (uint32_t)rd8(tag, MB2_FB_COLOR_OFF + 1) << 8;
		uint32_t need =
			MB2_FB_COLOR_OFF + MB2_FB_PALETTE_COUNT_SIZE + colors * MB2_FB_PALETTE_ENTRY_SIZE;
		if (tag->size < need)
			return tag_error(tag, "a palette of %u colors needs size %u, the tag has %u", colors,
					 need, tag->size);
	}
	out->have_framebuffer = true;
	return true;
}

/* Tag 11 (spec 3.6.13): a 32-bit EFI system table; the 64-bit one (tag 12) wins when both are present. */
static bool decode_efi32(const struct mb2_tag *tag, struct mb2_info *out)
{
	if (!out->efi_boot)
		out->efi_system_table = tag_rd32(tag, MB2_EFI_PTR_OFF);
	out->efi_boot = true;
	return true;
}

static bool decode_efi64(const struct mb2_tag *tag, struct mb2_info *out)
{
	out->efi_system_table = tag_rd64(tag, MB2_EFI_PTR_OFF);
	out->efi_boot = true;
	return true;
}

/* Tags 14 and 15 (spec 3.6.16, 3.6.17): a copy of the RSDP; the ACPI 2.0+ one wins whatever the order. */
static bool decode_acpi(const struct mb2_tag *tag, struct mb2_info *out)
{
	int revision = tag->type == MB2_TAG_ACPI_NEW ? MB2_RSDP_REV_NEW : MB2_RSDP_REV_OLD;
	if (revision < out->rsdp_revision)
		return true;
	out->rsdp = tag->p + MB2_RSDP_OFF;
	out->rsdp_len = tag->size - MB2_RSDP_OFF;
	out->rsdp_revision = revision;
	return true;
}

static bool decode_load_base(const struct mb2_tag *tag, struct mb2_info *out)
{
	out->have_load_base = true;
	out->load_base_addr = tag_rd32(tag, MB2_LOAD_BASE_OFF);
	return true;
}

/* Indexed by tag type (spec 3.6); types past the end are unknown, legal, and skipped. */
static const struct mb2_tag_spec mb2_tag_specs[] = {
	[MB2_TAG_END] = {"end", MB2_END_TAG_SIZE, false, NULL},
	[MB2_TAG_CMDLINE] = {"command line", MB2_STRING_OFF + 1, true, decode_cmdline},
	[MB2_TAG_LOADER_NAME] = {"boot loader name", MB2_STRING_OFF + 1, true, decode_loader_name},
	[MB2_TAG_MODULE] = {"module", MB2_MOD_STRING_OFF + 1, false, decode_module},
	[MB2_TAG_BASIC_MEMINFO] = {"basic memory information", MB2_MEMINFO_SIZE, true, decode_basic_meminfo},
	[MB2_TAG_BOOTDEV] = {"BIOS boot device", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_MMAP] = {"memory map", MB2_MMAP_ENTRIES_OFF, true, decode_mmap},
	[MB2_TAG_VBE] = {"VBE info", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_FRAMEBUFFER] = {"framebuffer info", MB2_FB_COLOR_OFF, true, decode_framebuffer},
	[MB2_TAG_ELF_SECTIONS] = {"ELF symbols", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_APM] = {"APM table", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_EFI32] = {"EFI 32-bit system table", MB2_EFI32_SIZE, true, decode_efi32},
	[MB2_TAG_EFI64] = {"EFI 64-bit system table", MB2_EFI64_SIZE, true, decode_efi64},
	[MB2_TAG_SMBIOS] = {"SMBIOS tables", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_ACPI_OLD] = {"ACPI old RSDP", MB2_RSDP_OFF + MB2_RSDP_V1_SIZE, true, decode_acpi},
	[MB2_TAG_ACPI_NEW] = {"ACPI new RSDP", MB2_RSDP_OFF + MB2_RSDP_V2_SIZE, true, decode_acpi},
	[MB2_TAG_NETWORK] = {"networking information", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_EFI_MMAP] = {"EFI memory map", MB2_EFI_DESCS_OFF, true, decode_efi_mmap},
	[MB2_TAG_EFI_BS] = {"EFI boot services not terminated", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_EFI32_IH] = {"EFI 32-bit image handle", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_EFI64_IH] = {"EFI 64-bit image handle", MB2_TAG_HEADER_SIZE, false, NULL},
	[MB2_TAG_LOAD_BASE_ADDR] = {"image load base address", MB2_LOAD_BASE_SIZE, true, decode_load_base},
};
_Static_assert(ARRAY_SIZE(mb2_tag_specs) <= MB2_KNOWN_TYPES_MAX,
	       "struct mb2_seen keeps one bit per known tag type");

static const char *mb2_tag_name(uint32_t type)
{
	return type < ARRAY_SIZE(mb2_tag_specs) ? mb2_tag_specs[type].name : "unknown";
}

/* Check one non-end tag against its type's rules and decode it into *out. Unknown types pass. */
static bool decode_tag(const struct mb2_tag *tag, struct mb2_seen *seen, struct mb2_info *out)
{
	if (tag->type >= ARRAY_SIZE(mb2_tag_specs))
		return true;
	const struct mb2_tag_spec *spec = &mb2_tag_specs[tag->type];
	if (tag->size < spec->min_size)
		return tag_error(tag, "size %u is smaller than %u", tag->size, spec->min_size);
	if (spec->unique) {
		if (seen->mask & BIT(tag->type))
			return tag_error(tag, "a second %s tag (the first is at offset 0x%x)", spec->name,
					 seen->offset[tag->type]);
		seen->mask |= (uint32_t)BIT(tag->type);
		seen->offset[tag->type] = tag->offset;
	}
	return spec->decode ? spec->decode(tag, out) : true;
}

/* Check the fixed part (spec 3.6.1): alignment, then 16 <= total_size <= avail. Sets *total. */
static bool check_fixed_part(const void *info, size_t avail, uint32_t *total)
{
	if (!info || !IS_ALIGNED((uintptr_t)info, MB2_ALIGN)) {
		log_error(
			"Multiboot2 info at %p: not 8-byte aligned (spec 3.6.1); use a Multiboot2-compliant boot loader such as GRUB 2",
			info);
		return false;
	}
	if (avail < MB2_FIXED_PART_SIZE) {
		log_error("Multiboot2 info: only %zu bytes available, not even the 8-byte fixed part", avail);
		return false;
	}
	*total = le32_load(info);
	if (*total < MB2_MIN_TOTAL_SIZE) {
		log_error("Multiboot2 info: total_size %u is smaller than %u (fixed part and end tag)",
			  *total, MB2_MIN_TOTAL_SIZE);
		return false;
	}
	if (*total > avail) {
		log_error("Multiboot2 info: total_size %u is larger than the %zu bytes hapvisor accepts",
			  *total, avail);
		return false;
	}
	return true;
}

bool mb2_parse(const void *info, size_t avail, struct mb2_info *out)
{
	struct mb2_seen seen = {0};
	uint32_t total;

	memset(out, 0, sizeof(*out));
	out->cmdline = "";
	out->loader_name = "";
	if (!check_fixed_part(info, avail, &total))
		return false;
	out->base = info;
	out->total_size = total;

	const uint8_t *base = info;
	uint32_t offset = MB2_FIXED_PART_SIZE;
	for (;;) {
		/* offset <= total here (8-aligned unless it is total): the next tag header must fit. */
		if (total - offset < MB2_TAG_HEADER_SIZE) {
			log_error("Multiboot2 info: no end tag (type 0) within total_size %u (offset 0x%x)",
				  total, offset);
			return false;
		}
		struct mb2_tag tag = {
			.p = base + offset,
			.type = le32_load(base + offset + MB2_TAG_TYPE_OFF),
			.size = le32_load(base + offset + MB2_TAG_SIZE_OFF),
			.offset = offset,
		};
		if (tag.size < MB2_TAG_HEADER_SIZE)
			return tag_error(&tag, "size %u is smaller than the %u-byte tag header", tag.size,
					 MB2_TAG_HEADER_SIZE);
		if (tag.size > total - offset)
			return tag_error(&tag, "size %u runs past the end of the block (total_size %u)",
					 tag.size, total);
		if (tag.type == MB2_TAG_END) {
			if (tag.size != MB2_END_TAG_SIZE)
				return tag_error(&tag, "size %u is not %u", tag.size, MB2_END_TAG_SIZE);
			return true;
		}
		if (!decode_tag(&tag, &seen, out))
			return false;
		uint64_t next = (uint64_t)offset + ALIGN_UP((uint64_t)tag.size, MB2_ALIGN);
		offset = (uint32_t)MIN(next, (uint64_t)total);
	}
}
