/* The normalized physical memory map (see memmap.h). */
#include "mm/memmap.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/str.h"

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
		log_error(
			"the physical memory map needs more than %d ranges to add [%#llx, %#llx) %s; the firmware's map is too fragmented for this build of hapvisor (raise MEMMAP_MAX)",
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

bool memmap_add_firmware(struct memmap *map, uint64_t base, uint64_t len, enum mem_type type)
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
