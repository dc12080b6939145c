/* The normalized physical memory map (see memmap.h). */
#include "mm/memmap.h"
#include "boot/mb2.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/str.h"

/* EFI_MEMORY_TYPE values (UEFI 2.10 7.2, EFI_BOOT_SERVICES.AllocatePages()). */
#define EFI_RESERVED_MEMORY 0
#define EFI_LOADER_CODE 1
#define EFI_LOADER_DATA 2
#define EFI_BOOT_SERVICES_CODE 3
#define EFI_BOOT_SERVICES_DATA 4
#define EFI_RUNTIME_SERVICES_CODE 5
#define EFI_RUNTIME_SERVICES_DATA 6
#define EFI_CONVENTIONAL_MEMORY 7
#define EFI_UNUSABLE_MEMORY 8
#define EFI_ACPI_RECLAIM_MEMORY 9
#define EFI_ACPI_MEMORY_NVS 10
#define EFI_MEMORY_MAPPED_IO 11
#define EFI_MEMORY_MAPPED_IO_PORT_SPACE 12
#define EFI_PAL_CODE 13
#define EFI_PERSISTENT_MEMORY 14
#define EFI_UNACCEPTED_MEMORY 15

/* EFI_MEMORY_DESCRIPTOR.Attribute: the firmware still uses the range at run time (UEFI 2.10 7.2). */
#define EFI_MEMORY_RUNTIME BIT(63)
#define EFI_PAGE_SHIFT 12

/* EFI_MEMORY_DESCRIPTOR, version 1 (UEFI 2.10 7.2, GetMemoryMap()). Firmware spaces them DescriptorSize
 * bytes apart, usually 48, so never index an array of this struct. */
struct PACKED efi_memory_descriptor {
	uint32_t type;
	uint32_t pad;
	uint64_t physical_start;
	uint64_t virtual_start;
	uint64_t number_of_pages;
	uint64_t attribute;
};
_Static_assert(sizeof(struct efi_memory_descriptor) == 40, "EFI_MEMORY_DESCRIPTOR is 40 bytes");

/* What each EFI type means once GRUB has called ExitBootServices() (UEFI 2.10 7.2, "Memory Type Usage
 * after ExitBootServices()"). Types not listed (OEM, OS, future) are reserved. */
static const enum mem_type efi_type_map[] = {
	[EFI_RESERVED_MEMORY] = MEM_RESERVED,
	[EFI_LOADER_CODE] = MEM_AVAILABLE,
	[EFI_LOADER_DATA] = MEM_AVAILABLE,
	[EFI_BOOT_SERVICES_CODE] = MEM_AVAILABLE,
	[EFI_BOOT_SERVICES_DATA] = MEM_AVAILABLE,
	[EFI_RUNTIME_SERVICES_CODE] = MEM_RESERVED,
	[EFI_RUNTIME_SERVICES_DATA] = MEM_RESERVED,
	[EFI_CONVENTIONAL_MEMORY] = MEM_AVAILABLE,
	[EFI_UNUSABLE_MEMORY] = MEM_BAD,
	[EFI_ACPI_RECLAIM_MEMORY] = MEM_ACPI_RECLAIMABLE,
	[EFI_ACPI_MEMORY_NVS] = MEM_ACPI_NVS,
	[EFI_MEMORY_MAPPED_IO] = MEM_RESERVED,
	[EFI_MEMORY_MAPPED_IO_PORT_SPACE] = MEM_RESERVED,
	[EFI_PAL_CODE] = MEM_RESERVED,
	[EFI_PERSISTENT_MEMORY] = MEM_RESERVED,
	[EFI_UNACCEPTED_MEMORY] = MEM_RESERVED,
};

static const char *const type_names[MEM_TYPE_COUNT] = {
	[MEM_AVAILABLE] = "available",
	[MEM_ACPI_RECLAIMABLE] = "acpi_reclaimable",
	[MEM_RESERVED] = "reserved",
	[MEM_ACPI_NVS] = "acpi_nvs",
	[MEM_BAD] = "bad",
	[MEM_BOOT] = "boot",
	[MEM_HAPVISOR] = "hapvisor",
};

/*
 * The result of an update is built here and copied back only when it fits, so a failed update leaves the
 * map as it was. One static buffer (as Linux's e820 sanitizer does) keeps 3 KiB off the 16 KiB boot stack;
 * maps are only built on the boot processor.
 */
static struct mem_range scratch[MEMMAP_MAX];

struct builder {
	size_t count;
	bool full;
};

/* Append [base, end) of `type` to scratch, merging it into the last range when they touch and agree. */
static void emit(struct builder *b, uint64_t base, uint64_t end, enum mem_type type)
{
	if (base >= end || b->full)
		return;
	if (b->count > 0) {
		struct mem_range *last = &scratch[b->count - 1];
		if (last->type == type && last->base + last->size == base) {
			last->size += end - base;
			return;
		}
	}
	if (b->count == MEMMAP_MAX) {
		b->full = true;
		return;
	}
	scratch[b->count++] = (struct mem_range){.base = base, .size = end - base, .type = type};
}

/* The type [base, end) gets: `type`, or with `keep_stronger` the more restrictive of `type` and `old`. */
static enum mem_type combine(enum mem_type old, enum mem_type type, bool keep_stronger)
{
	return keep_stronger && old > type ? old : type;
}

/*
 * paint: give [base, end) the type `type` (with keep_stronger: only where the map holds nothing stronger),
 * filling holes. Needs: base < end <= MEMMAP_ADDR_END. Walks the map once, emitting every piece in address
 * order: what lies below the window, the window's holes and overlaps, what lies above it.
 */
static bool paint(struct memmap *map, uint64_t base, uint64_t end, enum mem_type type, bool keep_stronger)
{
	struct builder b = {0};
	uint64_t cur = base; /* the window's first byte not yet emitted */

	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->ranges[i];
		uint64_t r_end = r->base + r->size;
		if (cur < end && r->base > cur) { /* a hole inside the window */
			uint64_t hole_end = MIN(end, r->base);
			emit(&b, cur, hole_end, type);
			cur = hole_end;
		}
		emit(&b, r->base, MIN(r_end, base), r->type); /* below the window */
		uint64_t lo = MAX(r->base, base), hi = MIN(r_end, end);
		if (lo < hi) {
			emit(&b, lo, hi, combine(r->type, type, keep_stronger));
			cur = hi;
		}
		emit(&b, MAX(r->base, end), r_end, r->type); /* above the window */
	}
	emit(&b, cur, end, type);

	if (b.full) {
		log_error("the physical memory map needs more than %d ranges to add [%#llx, %#llx) %s; the "
			  "firmware's map is too fragmented for this build of hapvisor (raise MEMMAP_MAX)",
			  MEMMAP_MAX, (unsigned long long)base, (unsigned long long)end, mem_type_name(type));
		return false;
	}
	memcpy(map->ranges, scratch, b.count * sizeof(scratch[0]));
	map->count = b.count;
	return true;
}

/* Clip [base, base + size) at MEMMAP_ADDR_END and paint what is left (nothing for size 0). */
static bool update(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type, bool keep_stronger)
{
	HV_ASSERT((unsigned)type < MEM_TYPE_COUNT);
	if (size == 0 || base >= MEMMAP_ADDR_END)
		return true;
	uint64_t end = size > MEMMAP_ADDR_END - base ? MEMMAP_ADDR_END : base + size;
	return paint(map, base, end, type, keep_stronger);
}

void memmap_init(struct memmap *map)
{
	map->count = 0;
}

bool memmap_add(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type)
{
	return update(map, base, size, type, true);
}

bool memmap_set(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type)
{
	return update(map, base, size, type, false);
}

/*
 * add_firmware_range: add one boot loader entry, made of whole pages: an AVAILABLE range shrinks to the
 * pages it fully covers (a partial page is not safe to hand out), any other grows to the pages it touches.
 */
static bool add_firmware_range(struct memmap *map, uint64_t base, uint64_t len, enum mem_type type)
{
	if (len == 0 || base >= MEMMAP_ADDR_END)
		return true;
	uint64_t end = len > MEMMAP_ADDR_END - base ? MEMMAP_ADDR_END : base + len;
	if (type == MEM_AVAILABLE) {
		base = ALIGN_UP(base, PAGE_SIZE); /* base < MEMMAP_ADDR_END, which is page aligned */
		end = ALIGN_DOWN(end, PAGE_SIZE);
	} else {
		base = ALIGN_DOWN(base, PAGE_SIZE);
		end = ALIGN_UP(end, PAGE_SIZE);
	}
	if (base >= end)
		return true;
	return memmap_add(map, base, end - base, type);
}

/* Tag 6 types (Multiboot2 1.0 3.6.8); anything else is reserved. */
static enum mem_type mb2_type(uint32_t t)
{
	switch (t) {
	case MB2_MMAP_AVAILABLE:
		return MEM_AVAILABLE;
	case MB2_MMAP_ACPI_RECLAIMABLE:
		return MEM_ACPI_RECLAIMABLE;
	case MB2_MMAP_ACPI_NVS:
		return MEM_ACPI_NVS;
	case MB2_MMAP_BADRAM:
		return MEM_BAD;
	default:
		return MEM_RESERVED;
	}
}

static enum mem_type efi_type(const struct efi_memory_descriptor *d)
{
	enum mem_type t = d->type < ARRAY_SIZE(efi_type_map) ? efi_type_map[d->type] : MEM_RESERVED;
	/* Memory the firmware still needs at run time is never free, whatever its type says. */
	if (t == MEM_AVAILABLE && (d->attribute & EFI_MEMORY_RUNTIME))
		t = MEM_RESERVED;
	return t;
}

static bool from_efi(struct memmap *map, const struct mb2_info *info)
{
	if (info->efi_desc_size < sizeof(struct efi_memory_descriptor)) {
		log_error("the EFI memory map (Multiboot2 tag 17) has descriptors of %u bytes, fewer than "
			  "the %zu of EFI_MEMORY_DESCRIPTOR; the boot loader or firmware is broken",
			  info->efi_desc_size, sizeof(struct efi_memory_descriptor));
		return false;
	}
	log_info("memory map: %zu descriptors from the EFI memory map (descriptor size %u, version %u)",
		 info->efi_mmap_count, info->efi_desc_size, info->efi_desc_version);
	for (size_t i = 0; i < info->efi_mmap_count; i++) {
		const struct efi_memory_descriptor *d =
			(const void *)(info->efi_mmap + i * (size_t)info->efi_desc_size);
		uint64_t pages = d->number_of_pages;
		uint64_t len = pages > (UINT64_MAX >> EFI_PAGE_SHIFT) ? UINT64_MAX : pages << EFI_PAGE_SHIFT;
		enum mem_type t = efi_type(d);
		log_debug("EFI descriptor %zu: base=%#llx pages=%llu type=%u attribute=%#llx -> %s", i,
			  (unsigned long long)d->physical_start, (unsigned long long)pages, d->type,
			  (unsigned long long)d->attribute, mem_type_name(t));
		if (!add_firmware_range(map, d->physical_start, len, t))
			return false;
	}
	return true;
}

static bool from_mb2_mmap(struct memmap *map, const struct mb2_info *info)
{
	if (info->mmap_entry_size < sizeof(struct mb2_mmap_entry)) {
		log_error("the Multiboot2 memory map (tag 6) has entries of %u bytes, fewer than the %zu the "
			  "specification requires; the boot loader is broken",
			  info->mmap_entry_size, sizeof(struct mb2_mmap_entry));
		return false;
	}
	log_info("memory map: %zu entries from the Multiboot2 memory map", info->mmap_count);
	for (size_t i = 0; i < info->mmap_count; i++) {
		const struct mb2_mmap_entry *e = mb2_mmap_at(info, i);
		enum mem_type t = mb2_type(e->type);
		log_debug("Multiboot2 mmap entry %zu: base=%#llx length=%#llx type=%u -> %s", i,
			  (unsigned long long)e->base_addr, (unsigned long long)e->length, e->type,
			  mem_type_name(t));
		if (!add_firmware_range(map, e->base_addr, e->length, t))
			return false;
	}
	return true;
}

bool memmap_from_mb2(struct memmap *map, const struct mb2_info *info)
{
	memmap_init(map);
	if (info->efi_mmap && info->efi_mmap_count > 0)
		return from_efi(map, info);
	if (info->mmap && info->mmap_count > 0)
		return from_mb2_mmap(map, info);
	log_error("the boot loader gave no memory map (neither Multiboot2 tag 6 nor the EFI map, tag 17); "
		  "boot hapvisor with GRUB 2's multiboot2 command");
	return false;
}

bool memmap_find_top(const struct memmap *map, uint64_t size, uint64_t align, uint64_t min, uint64_t limit,
		     uint64_t *base)
{
	HV_ASSERT(size > 0 && align > 0 && (align & (align - 1)) == 0);
	for (size_t i = map->count; i-- > 0;) { /* from the top: the first fit is the highest */
		const struct mem_range *r = &map->ranges[i];
		if (r->type != MEM_AVAILABLE)
			continue;
		uint64_t lo = MAX(r->base, min), hi = MIN(r->base + r->size, limit);
		if (lo >= hi || hi - lo < size)
			continue;
		uint64_t cand = ALIGN_DOWN(hi - size, align);
		if (cand >= lo) {
			*base = cand;
			return true;
		}
	}
	return false;
}

const struct mem_range *memmap_lookup(const struct memmap *map, uint64_t addr)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->ranges[i];
		if (addr < r->base)
			return NULL;
		if (addr - r->base < r->size)
			return r;
	}
	return NULL;
}

bool memmap_is_type(const struct memmap *map, uint64_t base, uint64_t size, enum mem_type type)
{
	/* Neighbours of one type are merged, so a range of `type` described fully lies in one entry. */
	const struct mem_range *r = memmap_lookup(map, base);
	return r && r->type == type && size > 0 && size <= r->size - (base - r->base);
}

uint64_t memmap_total(const struct memmap *map, enum mem_type type)
{
	uint64_t total = 0;
	for (size_t i = 0; i < map->count; i++)
		if (map->ranges[i].type == type)
			total += map->ranges[i].size;
	return total;
}

const char *mem_type_name(enum mem_type type)
{
	return (unsigned)type < MEM_TYPE_COUNT ? type_names[type] : "unknown";
}

void memmap_print(const struct memmap *map, const char *name)
{
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->ranges[i];
		unsigned long long b = r->base, e = r->base + r->size, s = r->size;
		log_info("%s memory map %2zu: 0x%016llx-0x%016llx %-16s %llu KiB", name, i, b, e - 1,
			 mem_type_name(r->type), s >> 10);
		log_event("memmap map=%s index=%zu base=0x%llx end=0x%llx size=%llu type=%s", name, i, b, e,
			  s, mem_type_name(r->type));
	}
	char totals[MEM_TYPE_COUNT * 40];
	size_t len = 0;
	for (unsigned t = 0; t < MEM_TYPE_COUNT; t++) {
		int n = fmt_snprintf(totals + len, sizeof(totals) - len, " %s=%llu", type_names[t],
				     (unsigned long long)memmap_total(map, (enum mem_type)t));
		len = MIN(len + (size_t)n, sizeof(totals) - 1);
	}
	log_event("memmap_total map=%s ranges=%zu%s", name, map->count, totals);
}
