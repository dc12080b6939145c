/*
 * Multiboot guests, their headers (see multiboot.h): the search, the validation of every field and tag
 * (Multiboot2 3.1, Multiboot1 3.1), and the load plan. Header fields are read byte by byte at offsets
 * checked against the header's bounds, themselves checked against the image size.
 */
#include "guest/multiboot.h"
#include "lib/fmt.h"
#include "lib/le.h"
#include "lib/log.h"
#include "lib/str.h"

/* Multiboot2 header (3.1.1 - 3.1.3): fixed part, then 8-byte-aligned tags {u16 type, u16 flags, u32 size}. */
#define MB2H_ARCH_OFF 4u
#define MB2H_LENGTH_OFF 8u
#define MB2H_CHECKSUM_OFF 12u
#define MB2H_FIXED_SIZE 16u
#define MB2H_TAG_FLAGS_OFF 2u
#define MB2H_TAG_SIZE_OFF 4u
#define MB2H_TAG_HEADER_SIZE 8u
#define MB2H_TAG_ALIGN 8u
#define MB2H_END_SIZE 8u
#define MB2H_REQUESTS_OFF 8u /* 3.1.4: u32 mbi_tag_types[] */
#define MB2H_REQUEST_SIZE 4u
#define MB2H_ADDR_HEADER_OFF 8u /* 3.1.5 */
#define MB2H_ADDR_LOAD_OFF 12u
#define MB2H_ADDR_LOAD_END_OFF 16u
#define MB2H_ADDR_BSS_END_OFF 20u
#define MB2H_ADDR_SIZE 24u
#define MB2H_ENTRY_OFF 8u /* 3.1.6 - 3.1.8 */
#define MB2H_ENTRY_SIZE 12u
#define MB2H_CONSOLE_FLAGS_OFF 8u /* 3.1.9 */
#define MB2H_CONSOLE_SIZE 12u
#define MB2H_CONSOLE_REQUIRED BIT(0)
#define MB2H_FB_WIDTH_OFF 8u /* 3.1.10 */
#define MB2H_FB_HEIGHT_OFF 12u
#define MB2H_FB_DEPTH_OFF 16u
#define MB2H_FB_SIZE 20u
#define MB2H_RELOC_MIN_OFF 8u /* 3.1.13 */
#define MB2H_RELOC_MAX_OFF 12u
#define MB2H_RELOC_ALIGN_OFF 16u
#define MB2H_RELOC_SIZE 24u
#define MB2H_LOAD_FROM_START UINT32_MAX /* 3.1.5: load_addr -1 loads the file from its beginning */

/* Multiboot1 header (3.1.1 - 3.1.4). */
#define MB1H_FLAGS_OFF 4u
#define MB1H_CHECKSUM_OFF 8u
#define MB1H_FIXED_SIZE 12u
#define MB1H_HEADER_ADDR_OFF 12u /* 3.1.3: valid with MB1_HF_AOUT_KLUDGE */
#define MB1H_LOAD_ADDR_OFF 16u
#define MB1H_LOAD_END_OFF 20u
#define MB1H_BSS_END_OFF 24u
#define MB1H_ENTRY_OFF 28u
#define MB1H_AOUT_SIZE 32u
#define MB1H_MODE_TYPE_OFF 32u /* 3.1.4: valid with MB1_HF_VIDEO_MODE */
#define MB1H_WIDTH_OFF 36u
#define MB1H_HEIGHT_OFF 40u
#define MB1H_DEPTH_OFF 44u
#define MB1H_VIDEO_SIZE 48u

#define ADDR_LIMIT_32 GiB(4)
#define MB_DETAIL_MAX 400

/* ---- reading -------------------------------------------------------------------------------------- */

/* A header being checked: the image, where the header is, what it is called, the plan being built. */
struct mb_ctx {
	const uint8_t *image;
	size_t size;
	uint32_t hdr;	  /* header offset */
	uint64_t limit;	  /* the header must end by here: MIN(size, the search window) */
	const char *what; /* "Multiboot2 header", "Multiboot1 header" */
	struct guest_plan *k;
};

/* The a.out-kludge fields (Multiboot2 3.1.5, Multiboot1 3.1.3). */
struct aout_fields {
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
};

static bool hdr_fail(const struct mb_ctx *c, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Print "guest kernel: <header> at offset 0x<hdr>: <problem>". Returns false. */
static bool hdr_fail(const struct mb_ctx *c, const char *fmt, ...)
{
	char detail[MB_DETAIL_MAX];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_error("guest kernel: %s at offset 0x%x: %s", c->what, c->hdr, detail);
	return false;
}

/* "the first 32 KiB" or "the end of the 1234-byte module": what ends the header's window. */
static const char *window_name(const struct mb_ctx *c, uint32_t search, char *buf, size_t n)
{
	if (c->size < search)
		fmt_snprintf(buf, n, "the end of the %zu-byte module", c->size);
	else
		fmt_snprintf(buf, n, "the first %u KiB of the file", search >> 10);
	return buf;
}

/* ---- header search -------------------------------------------------------------------------------- */

static bool find_mb2(const uint8_t *p, size_t size, uint32_t *offset)
{
	size_t window = MIN(size, (size_t)MB2_HEADER_SEARCH);
	for (size_t o = 0; o + MB2H_FIXED_SIZE <= window; o += MB2_HEADER_ALIGN) {
		if (le32_load(p + o) != MB2_HEADER_MAGIC)
			continue;
		uint32_t sum = MB2_HEADER_MAGIC + le32_load(p + o + MB2H_ARCH_OFF) +
			       le32_load(p + o + MB2H_LENGTH_OFF) + le32_load(p + o + MB2H_CHECKSUM_OFF);
		if (sum == 0) {
			*offset = (uint32_t)o;
			return true;
		}
	}
	return false;
}

static bool find_mb1(const uint8_t *p, size_t size, uint32_t *offset)
{
	size_t window = MIN(size, (size_t)MB1_HEADER_SEARCH);
	for (size_t o = 0; o + MB1H_FIXED_SIZE <= window; o += MB1_HEADER_ALIGN) {
		if (le32_load(p + o) != MB1_HEADER_MAGIC)
			continue;
		uint32_t sum = MB1_HEADER_MAGIC + le32_load(p + o + MB1H_FLAGS_OFF) +
			       le32_load(p + o + MB1H_CHECKSUM_OFF);
		if (sum == 0) {
			*offset = (uint32_t)o;
			return true;
		}
	}
	return false;
}

bool multiboot_find_header(const void *image, size_t size, enum multiboot_version *version, uint32_t *offset)
{
	*version = MULTIBOOT_NONE;
	if (find_mb2(image, size, offset))
		*version = MULTIBOOT_2;
	else if (find_mb1(image, size, offset))
		*version = MULTIBOOT_1;
	return *version != MULTIBOOT_NONE;
}

/* ---- load plans ----------------------------------------------------------------------------------- */

/*
 * One segment from the a.out-kludge fields (Multiboot2 3.1.5, Multiboot1 3.1.3): the file from offset
 * (header offset - (header_addr - load_addr)) is loaded at load_addr, up to load_end_addr (0: the rest of
 * the file), then zeroed up to bss_end_addr (0: no bss). Multiboot2 also allows load_addr -1: from the
 * file's start, which then sits at header_addr - header offset.
 */
static bool aout_plan(struct mb_ctx *c, const struct aout_fields *a, bool mb2)
{
	uint64_t load_addr = a->load_addr, file_off;
	if (mb2 && a->load_addr == MB2H_LOAD_FROM_START) {
		if (a->header_addr < c->hdr)
			return hdr_fail(
				c,
				"header_addr 0x%x is below the header's file offset with load_addr -1: the file would start below address 0",
				a->header_addr);
		load_addr = a->header_addr - c->hdr;
		file_off = 0;
	} else {
		if (a->load_addr > a->header_addr)
			return hdr_fail(
				c,
				"load_addr 0x%x is above header_addr 0x%x (they must satisfy load_addr <= header_addr)",
				a->load_addr, a->header_addr);
		if (a->header_addr - a->load_addr > c->hdr)
			return hdr_fail(
				c,
				"header_addr 0x%x - load_addr 0x%x is larger than the header's file offset: the load would start before the file",
				a->header_addr, a->load_addr);
		file_off = c->hdr - (a->header_addr - a->load_addr);
	}
	uint64_t filesz = c->size - file_off;
	if (a->load_end_addr != 0) {
		if (a->load_end_addr <= load_addr)
			return hdr_fail(c, "load_end_addr 0x%x is not above the load address 0x%llx",
					a->load_end_addr, (unsigned long long)load_addr);
		filesz = a->load_end_addr - load_addr;
		if (filesz > c->size - file_off)
			return hdr_fail(
				c,
				"load range (file offset 0x%llx, 0x%llx bytes up to load_end_addr) runs past the end of the %zu-byte module",
				(unsigned long long)file_off, (unsigned long long)filesz, c->size);
	}
	uint64_t memsz = filesz;
	if (a->bss_end_addr != 0) {
		if (a->bss_end_addr < load_addr + filesz)
			return hdr_fail(c, "bss_end_addr 0x%x is below the end of the loaded data 0x%llx",
					a->bss_end_addr, (unsigned long long)(load_addr + filesz));
		memsz = a->bss_end_addr - load_addr;
	}
	if (memsz == 0)
		return hdr_fail(c, "the address fields load nothing");
	c->k->segments[0] = (struct guest_segment){
		.paddr = load_addr,
		.offset = file_off,
		.filesz = filesz,
		.memsz = memsz,
		.phdr = GUEST_SEGMENT_NO_PHDR,
	};
	c->k->segment_count = 1;
	c->k->mb.aout = true;
	return true;
}

/* The segments of an ELF kernel (elf_parse()), and its entry point unless the header gave one. */
static bool elf_plan(struct mb_ctx *c, bool have_entry, uint32_t entry)
{
	if (!elf_is_elf(c->image, c->size))
		return hdr_fail(
			c,
			"no %s and the kernel is not an ELF file, so hapvisor cannot tell where to load it; link it as ELF or add the address fields",
			c->k->mb.version == MULTIBOOT_2 ? "address tag" : "address fields (flags bit 16)");
	struct elf_image elf;
	if (!elf_parse(c->image, c->size, &elf))
		return false;
	for (size_t i = 0; i < elf.segment_count; i++) {
		const struct elf_segment *s = &elf.segments[i];
		c->k->segments[i] = (struct guest_segment){
			.paddr = s->paddr,
			.offset = s->offset,
			.filesz = s->filesz,
			.memsz = s->memsz,
			.phdr = s->phdr,
		};
	}
	c->k->segment_count = elf.segment_count;
	c->k->elf_bits = elf.bits;
	uint64_t e = have_entry ? entry : elf_entry_paddr(&elf);
	if (e >= ADDR_LIMIT_32)
		return hdr_fail(
			c,
			"the ELF entry point 0x%llx is above 4 GiB; a Multiboot kernel is entered in 32-bit protected mode",
			(unsigned long long)e);
	c->k->entry = (uint32_t)e;
	return true;
}

/* The checks every plan must pass: all below 4 GiB (32-bit entry), the entry inside a segment. */
static bool finish_plan(struct mb_ctx *c)
{
	struct guest_plan *k = c->k;
	char name[GUEST_NAME_MAX];
	uint64_t base = UINT64_MAX;
	bool entry_inside = false;
	for (size_t i = 0; i < k->segment_count; i++) {
		const struct guest_segment *s = &k->segments[i];
		if (s->paddr >= ADDR_LIMIT_32 || s->memsz > ADDR_LIMIT_32 - s->paddr) {
			guest_segment_name(k, i, name, sizeof(name));
			return hdr_fail(
				c,
				"%s [0x%llx, 0x%llx) ends above 4 GiB; a Multiboot kernel is entered in 32-bit mode and must load below 4 GiB",
				name, (unsigned long long)s->paddr,
				(unsigned long long)(s->paddr + s->memsz));
		}
		base = MIN(base, s->paddr);
		if (k->entry >= s->paddr && k->entry - s->paddr < s->memsz)
			entry_inside = true;
	}
	if (!entry_inside)
		return hdr_fail(c, "the entry point 0x%x is outside every loaded segment", k->entry);
	k->load_base = (uint32_t)base;
	return true;
}

/* ---- Multiboot2 header ---------------------------------------------------------------------------- */

/* One Multiboot2 header tag: where it is (offset from the header start) and its header fields. */
struct mb2h_tag {
	const uint8_t *p;
	uint32_t offset, size;
	uint16_t type, flags;
};

/* What the tags said, for the plan. */
struct mb2h_state {
	bool have_address, have_entry;
	struct aout_fields address;
	uint32_t entry;
};

/* Header tag names and the least size each must have (3.1.4 - 3.1.13). */
static const struct {
	const char *name;
	uint32_t min_size;
} mb2h_tag_specs[] = {
	[MB2H_TAG_END] = {"end", MB2H_END_SIZE},
	[MB2H_TAG_INFO_REQUEST] = {"information request", MB2H_TAG_HEADER_SIZE},
	[MB2H_TAG_ADDRESS] = {"address", MB2H_ADDR_SIZE},
	[MB2H_TAG_ENTRY] = {"entry address", MB2H_ENTRY_SIZE},
	[MB2H_TAG_CONSOLE_FLAGS] = {"console flags", MB2H_CONSOLE_SIZE},
	[MB2H_TAG_FRAMEBUFFER] = {"framebuffer", MB2H_FB_SIZE},
	[MB2H_TAG_MODULE_ALIGN] = {"module alignment", MB2H_TAG_HEADER_SIZE},
	[MB2H_TAG_EFI_BS] = {"EFI boot services", MB2H_TAG_HEADER_SIZE},
	[MB2H_TAG_ENTRY_EFI32] = {"EFI i386 entry address", MB2H_ENTRY_SIZE},
	[MB2H_TAG_ENTRY_EFI64] = {"EFI amd64 entry address", MB2H_ENTRY_SIZE},
	[MB2H_TAG_RELOCATABLE] = {"relocatable", MB2H_RELOC_SIZE},
};

/*
 * Boot information tags (3.6) by type: a name, and why hapvisor never gives it (NULL: it gives it whenever
 * the information exists; 3.1.4 lets a loader omit a supported tag whose information is not available).
 */
static const struct {
	const char *name;
	const char *not_given;
} mb2_info_kinds[MB2_TAG_LOAD_BASE_ADDR + 1] = {
	[MB2_TAG_END] = {"end", "the end tag carries no information"},
	[MB2_TAG_CMDLINE] = {"command line", NULL},
	[MB2_TAG_LOADER_NAME] = {"boot loader name", NULL},
	[MB2_TAG_MODULE] = {"modules", NULL},
	[MB2_TAG_BASIC_MEMINFO] = {"basic memory information", NULL},
	[MB2_TAG_BOOTDEV] = {"BIOS boot device", "hapvisor does not pass the boot device"},
	[MB2_TAG_MMAP] = {"memory map", NULL},
	[MB2_TAG_VBE] = {"VBE info",
			 "hapvisor passes no VBE data (the framebuffer tag 8 describes the screen)"},
	[MB2_TAG_FRAMEBUFFER] = {"framebuffer info", NULL},
	[MB2_TAG_ELF_SECTIONS] = {"ELF symbols", "hapvisor does not pass the kernel's section headers"},
	[MB2_TAG_APM] = {"APM table", "hapvisor does not pass an APM table"},
	[MB2_TAG_EFI32] = {"EFI 32-bit system table", "hapvisor runs on 64-bit UEFI only (it passes tag 12)"},
	[MB2_TAG_EFI64] = {"EFI 64-bit system table", NULL},
	[MB2_TAG_SMBIOS] = {"SMBIOS tables", "hapvisor does not pass SMBIOS tables"},
	[MB2_TAG_ACPI_OLD] = {"ACPI old RSDP", NULL},
	[MB2_TAG_ACPI_NEW] = {"ACPI new RSDP", NULL},
	[MB2_TAG_NETWORK] = {"networking information", "hapvisor does not pass network information"},
	[MB2_TAG_EFI_MMAP] =
		{"EFI memory map",
		 "it would show hapvisor's region as free memory; the memory map (tag 6) is the authoritative one"},
	[MB2_TAG_EFI_BS] = {"EFI boot services not terminated", "hapvisor has exited UEFI boot services"},
	[MB2_TAG_EFI32_IH] = {"EFI 32-bit image handle", "UEFI boot services are gone: no image handle"},
	[MB2_TAG_EFI64_IH] = {"EFI 64-bit image handle", "UEFI boot services are gone: no image handle"},
	[MB2_TAG_LOAD_BASE_ADDR] = {"image load base address", NULL},
};

/* 3.1.4: refuse a non-optional request for a tag hapvisor never gives (optional ones are just omitted). */
static bool mb2h_info_request(struct mb_ctx *c, const struct mb2h_tag *t)
{
	bool optional = t->flags & MB2H_TAG_OPTIONAL;
	uint32_t n = (t->size - MB2H_REQUESTS_OFF) / MB2H_REQUEST_SIZE;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t type = le32_load(t->p + MB2H_REQUESTS_OFF + i * MB2H_REQUEST_SIZE);
		bool known = type < ARRAY_SIZE(mb2_info_kinds);
		const char *why =
			known ? mb2_info_kinds[type].not_given : "it is not a tag type of Multiboot2 1.0";
		if (!why)
			continue;
		if (optional) {
			log_debug("guest kernel: optional request for boot information tag %u not met: %s",
				  type, why);
			continue;
		}
		return hdr_fail(
			c,
			"requires boot information tag %u (%s), which hapvisor never provides: %s. Mark the information request tag optional (flags bit 0) or drop that type",
			type, known ? mb2_info_kinds[type].name : "unknown", why);
	}
	return true;
}

/* Decode one header tag (size already checked to fit the header and to be at least its type's minimum). */
static bool mb2h_tag(struct mb_ctx *c, const struct mb2h_tag *t, struct mb2h_state *st)
{
	bool optional = t->flags & MB2H_TAG_OPTIONAL;
	switch (t->type) {
	case MB2H_TAG_INFO_REQUEST:
		return mb2h_info_request(c, t);
	case MB2H_TAG_ADDRESS:
		st->have_address = true;
		st->address = (struct aout_fields){
			.header_addr = le32_load(t->p + MB2H_ADDR_HEADER_OFF),
			.load_addr = le32_load(t->p + MB2H_ADDR_LOAD_OFF),
			.load_end_addr = le32_load(t->p + MB2H_ADDR_LOAD_END_OFF),
			.bss_end_addr = le32_load(t->p + MB2H_ADDR_BSS_END_OFF),
		};
		return true;
	case MB2H_TAG_ENTRY:
		st->have_entry = true;
		st->entry = le32_load(t->p + MB2H_ENTRY_OFF);
		return true;
	case MB2H_TAG_CONSOLE_FLAGS:
		if (le32_load(t->p + MB2H_CONSOLE_FLAGS_OFF) & MB2H_CONSOLE_REQUIRED)
			log_info(
				"guest kernel: asks for a console; hapvisor passes the firmware framebuffer when GRUB gave it one, and the serial port is the guest's");
		return true;
	case MB2H_TAG_FRAMEBUFFER:
		log_info(
			"guest kernel: prefers a %ux%ux%u framebuffer; hapvisor sets no video mode and passes the firmware's framebuffer, if any, as it is",
			le32_load(t->p + MB2H_FB_WIDTH_OFF), le32_load(t->p + MB2H_FB_HEIGHT_OFF),
			le32_load(t->p + MB2H_FB_DEPTH_OFF));
		return true;
	case MB2H_TAG_MODULE_ALIGN: /* modules are always page-aligned */
		return true;
	case MB2H_TAG_EFI_BS:
		if (!optional)
			return hdr_fail(
				c,
				"the EFI boot services tag (3.1.12) is not optional: the kernel wants UEFI boot services kept running, but hapvisor has exited them. Mark the tag optional (flags bit 0) so the kernel is entered in the i386 state");
		log_info("guest kernel: optional EFI boot services tag ignored (boot services are gone)");
		return true;
	case MB2H_TAG_ENTRY_EFI32:
	case MB2H_TAG_ENTRY_EFI64: /* only used together with the EFI boot services tag (3.1.7, 3.1.8) */
		return true;
	case MB2H_TAG_RELOCATABLE:
		c->k->mb.mb2_relocatable = true;
		log_info(
			"guest kernel: relocatable (min 0x%x, max 0x%x, align 0x%x); hapvisor loads it at its linked address",
			le32_load(t->p + MB2H_RELOC_MIN_OFF), le32_load(t->p + MB2H_RELOC_MAX_OFF),
			le32_load(t->p + MB2H_RELOC_ALIGN_OFF));
		return true;
	default:
		if (!optional)
			return hdr_fail(
				c,
				"header tag type %u at header offset 0x%x is not optional, and hapvisor does not know it",
				t->type, t->offset);
		return true;
	}
}

/* Walk the Multiboot2 header (3.1.1 - 3.1.3), then plan the load. */
static bool mb2_plan(struct mb_ctx *c)
{
	const uint8_t *h = c->image + c->hdr;
	uint32_t arch = le32_load(h + MB2H_ARCH_OFF), len = le32_load(h + MB2H_LENGTH_OFF);
	char window[MB_DETAIL_MAX / 4];
	if (arch != MB2_HEADER_ARCH_I386)
		return hdr_fail(c, "architecture %u is not i386 (0): not an x86 kernel", arch);
	if (len < MB2H_FIXED_SIZE + MB2H_END_SIZE)
		return hdr_fail(c, "header_length %u is smaller than %u (fixed part and end tag)", len,
				MB2H_FIXED_SIZE + MB2H_END_SIZE);
	if (len > c->limit - c->hdr)
		return hdr_fail(c, "header_length %u runs past %s", len,
				window_name(c, MB2_HEADER_SEARCH, window, sizeof(window)));

	struct mb2h_state st = {0};
	uint32_t off = MB2H_FIXED_SIZE;
	for (;;) {
		if (len - off < MB2H_TAG_HEADER_SIZE)
			return hdr_fail(c, "no end tag (type 0) within header_length %u", len);
		struct mb2h_tag t = {
			.p = h + off,
			.offset = off,
			.type = le16_load(h + off),
			.flags = le16_load(h + off + MB2H_TAG_FLAGS_OFF),
			.size = le32_load(h + off + MB2H_TAG_SIZE_OFF),
		};
		if (t.size < MB2H_TAG_HEADER_SIZE || t.size > len - off)
			return hdr_fail(
				c, "header tag type %u at header offset 0x%x: size %u is outside [%u, %u]",
				t.type, off, t.size, MB2H_TAG_HEADER_SIZE, len - off);
		if (t.type < ARRAY_SIZE(mb2h_tag_specs) && t.size < mb2h_tag_specs[t.type].min_size)
			return hdr_fail(c, "%s tag at header offset 0x%x: size %u is smaller than %u",
					mb2h_tag_specs[t.type].name, off, t.size,
					mb2h_tag_specs[t.type].min_size);
		if (t.type == MB2H_TAG_END)
			break;
		if (!mb2h_tag(c, &t, &st))
			return false;
		off = (uint32_t)MIN((uint64_t)off + ALIGN_UP((uint64_t)t.size, MB2H_TAG_ALIGN),
				    (uint64_t)len);
	}

	if (st.have_address) {
		if (!st.have_entry)
			return hdr_fail(
				c,
				"an address tag (3.1.5) without an entry address tag (3.1.6): the entry point is unknown");
		if (!aout_plan(c, &st.address, true))
			return false;
		c->k->entry = st.entry;
	} else if (!elf_plan(c, st.have_entry, st.entry)) {
		return false;
	}
	return finish_plan(c);
}

/* ---- Multiboot1 header ---------------------------------------------------------------------------- */

/* Check the Multiboot1 flags (3.1.2), read the fields they announce (3.1.3, 3.1.4), plan the load. */
static bool mb1_plan(struct mb_ctx *c)
{
	const uint8_t *h = c->image + c->hdr;
	uint32_t flags = le32_load(h + MB1H_FLAGS_OFF);
	uint32_t unknown = flags & MB1_HF_REQUIRED_MASK & ~(uint32_t)MB1_HF_KNOWN;
	char window[MB_DETAIL_MAX / 4];
	c->k->mb.mb1_flags = flags;
	if (unknown)
		return hdr_fail(
			c,
			"flags 0x%x require features hapvisor does not know (bits 0x%x; bits 0-15 are requirements, spec 3.1.2)",
			flags, unknown);
	if (flags & MB1_HF_VIDEO_MODE) {
		if (c->hdr + (uint64_t)MB1H_VIDEO_SIZE <= c->limit)
			log_info(
				"guest kernel: asks for video mode type %u, %ux%ux%u; hapvisor sets no video mode (the request is ignored)",
				le32_load(h + MB1H_MODE_TYPE_OFF), le32_load(h + MB1H_WIDTH_OFF),
				le32_load(h + MB1H_HEIGHT_OFF), le32_load(h + MB1H_DEPTH_OFF));
		else
			log_info("guest kernel: asks for a video mode; hapvisor sets none (request ignored)");
	}
	if (!(flags & MB1_HF_AOUT_KLUDGE)) {
		if (!elf_plan(c, false, 0))
			return false;
		return finish_plan(c);
	}
	if (c->hdr + (uint64_t)MB1H_AOUT_SIZE > c->limit)
		return hdr_fail(c, "flags bit 16 announces the address fields, but they run past %s",
				window_name(c, MB1_HEADER_SEARCH, window, sizeof(window)));
	struct aout_fields a = {
		.header_addr = le32_load(h + MB1H_HEADER_ADDR_OFF),
		.load_addr = le32_load(h + MB1H_LOAD_ADDR_OFF),
		.load_end_addr = le32_load(h + MB1H_LOAD_END_OFF),
		.bss_end_addr = le32_load(h + MB1H_BSS_END_OFF),
	};
	if (!aout_plan(c, &a, false))
		return false;
	c->k->entry = le32_load(h + MB1H_ENTRY_OFF);
	return finish_plan(c);
}

bool multiboot_parse(const void *image, size_t size, struct guest_plan *out)
{
	memset(out, 0, sizeof(*out));
	if (!multiboot_find_header(image, size, &out->mb.version, &out->mb.header_offset)) {
		log_error(
			"guest kernel: no Multiboot2 header in its first 32 KiB and no Multiboot1 header in its first 8 KiB");
		return false;
	}
	bool mb2 = out->mb.version == MULTIBOOT_2;
	struct mb_ctx c = {
		.image = image,
		.size = size,
		.hdr = out->mb.header_offset,
		.limit = MIN((uint64_t)size, mb2 ? (uint64_t)MB2_HEADER_SEARCH : (uint64_t)MB1_HEADER_SEARCH),
		.what = mb2 ? "Multiboot2 header" : "Multiboot1 header",
		.k = out,
	};
	return mb2 ? mb2_plan(&c) : mb1_plan(&c);
}

uint32_t multiboot_boot_magic(const struct guest_plan *k)
{
	return k->mb.version == MULTIBOOT_2 ? MB2_BOOTLOADER_MAGIC : MB1_BOOTLOADER_MAGIC;
}

/* ---- the formats (guest/format.h) ---- */

static bool probe_version(const void *image, size_t size, enum multiboot_version want)
{
	enum multiboot_version version;
	uint32_t offset;
	return multiboot_find_header(image, size, &version, &offset) && version == want;
}

static bool probe_mb2(const void *image, size_t size)
{
	return probe_version(image, size, MULTIBOOT_2);
}

static bool probe_mb1(const void *image, size_t size)
{
	return probe_version(image, size, MULTIBOOT_1);
}

static bool parse(const void *image, size_t size, const struct memmap *map, struct guest_plan *plan)
{
	return multiboot_parse(image, size, plan);
}

/* Multiboot2 3.2 / Multiboot1 3.2: EAX the boot loader's magic, EBX the boot information. */
static void entry(const struct guest_plan *plan, uint64_t info_phys, struct guest_entry_state *out)
{
	*out = (struct guest_entry_state){
		.eip = plan->entry,
		.eax = multiboot_boot_magic(plan),
		.ebx = (uint32_t)info_phys,
	};
}

const struct guest_format_ops guest_format_mb2 = {
	.format = GUEST_FORMAT_MB2,
	.name = "mb2",
	.probe = probe_mb2,
	.parse = parse,
	.segment_name = guest_segment_name,
	.build_info = multiboot_build_info,
	.entry = entry,
	.zero_bss = true,
};

const struct guest_format_ops guest_format_mb1 = {
	.format = GUEST_FORMAT_MB1,
	.name = "mb1",
	.probe = probe_mb1,
	.parse = parse,
	.segment_name = guest_segment_name,
	.build_info = multiboot_build_info,
	.entry = entry,
	.zero_bss = true,
};
