/* testkernel: Multiboot1 and Multiboot2 boot information decoding (see multiboot.h). */
#include "multiboot.h"
#include "fmt.h"

/* Multiboot 0.6.96 section 3.3: struct multiboot_info, the fields this kernel reads. */
#define MB1_FLAG_CMDLINE BIT(2)
#define MB1_FLAG_MODS BIT(3)
#define MB1_FLAG_MMAP BIT(6)
#define MB1_FLAG_LOADER_NAME BIT(9)
#define MB1_INFO_SIZE 120 /* up to and including the framebuffer fields */

struct mb1_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
};

struct mb1_module {
	uint32_t mod_start, mod_end, string, reserved;
};

struct __attribute__((packed)) mb1_mmap_entry {
	uint32_t size; /* of the rest of the entry */
	uint64_t base_addr, length;
	uint32_t type;
};

/* Multiboot2 1.0 section 3.6: fixed part, then tags on 8-byte boundaries. */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_MMAP 6
#define MB2_TAG_ACPI_OLD 14 /* a copy of the ACPI 1.0 RSDP */
#define MB2_TAG_ACPI_NEW 15 /* a copy of the ACPI 2.0+ RSDP */
#define MB2_INFO_FIXED 8
#define MB2_TAG_HEADER 8
#define MB2_TAG_ALIGN 8
#define MB2_INFO_MAX (1u << 20) /* a larger block is taken as garbage */
#define MB2_MODULE_HEADER 16	/* type, size, mod_start, mod_end */
#define MB2_MMAP_HEADER 16	/* type, size, entry_size, entry_version */

struct mb2_tag {
	uint32_t type, size;
};

struct __attribute__((packed)) mb2_mmap_entry {
	uint64_t base_addr, length;
	uint32_t type, reserved;
};

static const void *phys(uint64_t addr)
{
	return (const void *)(uintptr_t)addr;
}

/* Record [base, end) as loader data the kernel still needs. */
static void add_in_use(struct boot_info *b, uint64_t base, uint64_t end)
{
	if (end < base) {
		b->error = "a loader range ends before it starts";
		return;
	}
	if (end == base)
		return;
	if (b->in_use_count == BOOT_MAX_IN_USE) {
		b->error = "too many loader ranges to track";
		return;
	}
	b->in_use[b->in_use_count++] = (struct mem_range){base, end, 0};
}

static void add_map(struct boot_info *b, uint64_t base, uint64_t len, uint32_t type)
{
	if (b->map_count == BOOT_MAX_RANGES) {
		b->map_dropped++;
		return;
	}
	b->map[b->map_count++] = (struct mem_range){base, base + len, type};
}

/* A loader string at phys addr, recorded as in use; "" (and an error) when it has no NUL in reach. */
static const char *loader_string(struct boot_info *b, uint64_t addr)
{
	const char *s = phys(addr);
	size_t n = 0;

	while (n < BOOT_STRING_MAX && s[n])
		n++;
	if (n == BOOT_STRING_MAX) {
		b->error = "a loader string is not NUL-terminated";
		return "";
	}
	add_in_use(b, addr, addr + n + 1);
	return s;
}

static void parse_mb1(uint64_t addr, struct boot_info *b)
{
	const struct mb1_info *mi = phys(addr);

	add_in_use(b, addr, addr + MB1_INFO_SIZE);
	if (mi->flags & MB1_FLAG_CMDLINE)
		b->cmdline = loader_string(b, mi->cmdline);
	if (mi->flags & MB1_FLAG_LOADER_NAME)
		b->loader_name = loader_string(b, mi->boot_loader_name);
	if (mi->flags & MB1_FLAG_MODS) {
		const struct mb1_module *mod = phys(mi->mods_addr);

		add_in_use(b, mi->mods_addr, mi->mods_addr + mi->mods_count * sizeof(*mod));
		for (uint32_t i = 0; i < mi->mods_count && i < BOOT_MAX_IN_USE; i++) {
			add_in_use(b, mod[i].mod_start, mod[i].mod_end);
			loader_string(b, mod[i].string);
			b->module_count++;
		}
	}
	if (!(mi->flags & MB1_FLAG_MMAP))
		return;
	b->have_mmap = true;
	add_in_use(b, mi->mmap_addr, (uint64_t)mi->mmap_addr + mi->mmap_length);
	/* Each entry starts with its size, which does not count the size field itself. */
	for (uint64_t off = 0; off + sizeof(struct mb1_mmap_entry) <= mi->mmap_length;) {
		const struct mb1_mmap_entry *e = phys(mi->mmap_addr + off);

		if (e->size < sizeof(*e) - sizeof(e->size)) {
			b->error = "MB1 mmap entry shorter than 20 bytes";
			return;
		}
		add_map(b, e->base_addr, e->length, e->type);
		off += e->size + sizeof(e->size);
	}
}

static void parse_mb2_mmap(const uint8_t *tag, uint32_t size, struct boot_info *b)
{
	uint32_t entry_size = *(const uint32_t *)(tag + MB2_TAG_HEADER);

	if (size < MB2_MMAP_HEADER || entry_size < sizeof(struct mb2_mmap_entry)) {
		b->error = "MB2 mmap tag: entry_size below 24 bytes";
		return;
	}
	b->have_mmap = true;
	for (uint32_t off = MB2_MMAP_HEADER; off + entry_size <= size; off += entry_size) {
		const struct mb2_mmap_entry *e = (const void *)(tag + off);

		add_map(b, e->base_addr, e->length, e->type);
	}
}

/* A string inside a tag, [tag + off, tag + size): "" and an error when it has no NUL there. */
static const char *tag_string(const uint8_t *tag, uint32_t off, uint32_t size, struct boot_info *b)
{
	for (uint32_t i = off; i < size; i++)
		if (tag[i] == '\0')
			return (const char *)tag + off;
	b->error = "MB2 string tag without a NUL";
	return "";
}

static void parse_mb2(uint64_t addr, struct boot_info *b)
{
	const uint8_t *base = phys(addr);
	uint32_t total = *(const uint32_t *)base;

	if (total < MB2_INFO_FIXED + MB2_TAG_HEADER || total > MB2_INFO_MAX) {
		b->error = "MB2 total_size out of range";
		return;
	}
	add_in_use(b, addr, addr + total);
	for (uint32_t off = MB2_INFO_FIXED; off + MB2_TAG_HEADER <= total;) {
		const struct mb2_tag *t = (const void *)(base + off);
		const uint8_t *tag = base + off;

		if (t->size < MB2_TAG_HEADER || t->size > total - off) {
			b->error = "MB2 tag size runs past the block";
			return;
		}
		switch (t->type) {
		case MB2_TAG_END:
			return;
		case MB2_TAG_CMDLINE:
			b->cmdline = tag_string(tag, MB2_TAG_HEADER, t->size, b);
			break;
		case MB2_TAG_LOADER_NAME:
			b->loader_name = tag_string(tag, MB2_TAG_HEADER, t->size, b);
			break;
		case MB2_TAG_MODULE:
			if (t->size >= MB2_MODULE_HEADER) {
				uint32_t start = *(const uint32_t *)(tag + 8),
					 end = *(const uint32_t *)(tag + 12);

				add_in_use(b, start, end);
				b->module_count++;
			}
			break;
		case MB2_TAG_MMAP:
			parse_mb2_mmap(tag, t->size, b);
			break;
		case MB2_TAG_ACPI_OLD:
		case MB2_TAG_ACPI_NEW:
			if (t->size > MB2_TAG_HEADER && (!b->rsdp || t->type == MB2_TAG_ACPI_NEW)) {
				b->rsdp = tag + MB2_TAG_HEADER;
				b->rsdp_len = t->size - MB2_TAG_HEADER;
			}
			break;
		default:
			break;
		}
		off += (uint32_t)ALIGN_UP(t->size, MB2_TAG_ALIGN);
	}
	b->error = "MB2 block has no end tag";
}

void boot_info_parse(uint32_t magic, uint64_t info, struct boot_info *out)
{
	*out = (struct boot_info){.cmdline = "", .loader_name = ""};
	if (magic == MB1_BOOT_MAGIC) {
		out->protocol = BOOT_MB1;
		parse_mb1(info, out);
	} else if (magic == MB2_BOOT_MAGIC) {
		out->protocol = BOOT_MB2;
		parse_mb2(info, out);
	} else {
		out->error = "unknown loader magic";
	}
}

const char *mem_type_name(uint32_t type)
{
	static char other[16];

	switch (type) {
	case MEM_AVAILABLE:
		return "available";
	case MEM_RESERVED:
		return "reserved";
	case MEM_ACPI_RECLAIMABLE:
		return "acpi";
	case MEM_ACPI_NVS:
		return "nvs";
	case MEM_BADRAM:
		return "bad";
	default:
		fmt_snprintf(other, sizeof(other), "type%u", type);
		return other;
	}
}
