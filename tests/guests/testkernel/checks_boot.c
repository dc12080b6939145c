/*
 * testkernel: the loader protocol and memory. Natively the loader is GRUB or QEMU; under hapvisor it is
 * hapvisor's guest loader, whose memory map must show hapvisor's own region as reserved, and whose
 * "available" memory must all be the guest's to use.
 */
#include "checks.h"

#define FIRST_MIB MIB
#define BYTE_BLOCK_SIZE MIB
#define PAGE_PATTERN_MUL 0x9E3779B97F4A7C15ull /* odd: a different pattern for every address */
#define PAGE_PATTERN_XOR 0xA5A5A5A5A5A5A5A5ull
#define BYTE_PATTERN_XOR 0x5A
#define MAX_EXCLUDED MEMORY_SPARED_MAX

extern const uint32_t tk_expected_magic;    /* header.asm */
extern char __image_start[], __image_end[]; /* linker.ld: the image, .bss (stack, page tables) included */

static const char *protocol_name(enum boot_protocol p)
{
	return p == BOOT_MB1 ? "mb1" : p == BOOT_MB2 ? "mb2" : "unknown";
}

void check_boot_magic(struct check *c, struct tk_context *t)
{
	const struct boot_info *b = &t->boot;

	check_note(c, "loader=%s magic=0x%08x cmdline=\"%s\" loader_name=\"%s\" modules=%zu",
		   protocol_name(b->protocol), t->magic, b->cmdline, b->loader_name, b->module_count);
	if (t->magic != tk_expected_magic)
		check_fail(c, "expected_magic=0x%08x", tk_expected_magic);
	if (b->error)
		check_fail(c, "info_error=\"%s\"", b->error);
}

static bool adjacent_to_available(const struct boot_info *b, const struct mem_range *r)
{
	for (size_t i = 0; i < b->map_count; i++) {
		const struct mem_range *a = &b->map[i];

		if (a->type == MEM_AVAILABLE && (a->end == r->base || a->base == r->end))
			return true;
	}
	return false;
}

/*
 * hapvisor's region is the largest `reserved` range above the first MiB and below 4 GiB that borders
 * available RAM (hapvisor carves its region out of RAM; firmware MMIO holes such as the BIOS ROM at the top
 * of 4 GiB or PCIe MMCONFIG do not border RAM).
 */
bool find_hv_region(const struct boot_info *b, struct mem_range *out)
{
	bool found = false;

	for (size_t i = 0; i < b->map_count; i++) {
		const struct mem_range *r = &b->map[i];

		if (r->type == MEM_RESERVED && r->base >= FIRST_MIB && r->end <= FOUR_GIB &&
		    r->end > r->base && adjacent_to_available(b, r) &&
		    (!found || r->end - r->base > out->end - out->base)) {
			found = true;
			*out = *r;
		}
	}
	return found;
}

void check_memory_map(struct check *c, struct tk_context *t)
{
	const struct boot_info *b = &t->boot;
	uint64_t available = 0;

	if (!b->have_mmap) {
		check_fail(c, "mmap=absent");
		return;
	}
	for (size_t i = 0; i < b->map_count; i++) {
		const struct mem_range *r = &b->map[i];

		tk_printf(
			"testkernel: memory_map range=%zu base=0x%016lx end=0x%016lx size_kib=%lu type=%s\n",
			i, r->base, r->end, (r->end - r->base) >> 10, mem_type_name(r->type));
		if (r->type == MEM_AVAILABLE)
			available += r->end - r->base;
	}
	t->have_hv_region = find_hv_region(b, &t->hv_region);
	check_note(c, "ranges=%zu available_kib=%lu", b->map_count, available >> 10);
	if (b->map_dropped)
		check_fail(c, "ranges_dropped=%zu", b->map_dropped);
	if (!t->have_hv_region) {
		check_fail(c, "hv_region=none (no reserved range in [1 MiB, 4 GiB) next to RAM)");
		return;
	}
	check_note(c, "hv_region=0x%lx-0x%lx hv_region_kib=%lu", t->hv_region.base, t->hv_region.end,
		   (t->hv_region.end - t->hv_region.base) >> 10);
}

/* ---- memory_rw -------------------------------------------------------------------------------------- */

struct mem_test {
	struct mem_range excluded[MAX_EXCLUDED]; /* what the test must not write */
	size_t excluded_count;
	uint64_t pages;	       /* pages written and read */
	uint64_t skipped_high; /* available bytes at or above 4 GiB (not mapped) */
	uint64_t mismatches;   /* words or bytes that read back wrong */
	uint64_t first_bad, expected, got;
};

static uint64_t page_pattern(uint64_t addr)
{
	return addr * PAGE_PATTERN_MUL ^ PAGE_PATTERN_XOR;
}

static uint8_t byte_pattern(uint64_t addr)
{
	return (uint8_t)(addr ^ addr >> 8 ^ addr >> 16 ^ BYTE_PATTERN_XOR);
}

static bool page_excluded(const struct mem_test *m, uint64_t page)
{
	return ranges_overlap(m->excluded, m->excluded_count, page, page + PAGE_SIZE);
}

static void record_mismatch(struct mem_test *m, uint64_t addr, uint64_t expected, uint64_t got)
{
	if (m->mismatches++ == 0) {
		m->first_bad = addr;
		m->expected = expected;
		m->got = got;
	}
}

/* Check (verify=true) or write the first and last word of every testable page. */
static void sweep_pages(const struct boot_info *b, struct mem_test *m, bool verify)
{
	for (size_t i = 0; i < b->map_count; i++) {
		const struct mem_range *r = &b->map[i];
		uint64_t end = r->end < FOUR_GIB ? r->end : FOUR_GIB;

		if (r->type != MEM_AVAILABLE)
			continue;
		if (!verify && r->end > FOUR_GIB)
			m->skipped_high += r->end - (r->base > FOUR_GIB ? r->base : FOUR_GIB);
		for (uint64_t page = ALIGN_UP(r->base, PAGE_SIZE); page + PAGE_SIZE <= end;
		     page += PAGE_SIZE) {
			if (page_excluded(m, page))
				continue;
			volatile uint64_t *first = (volatile uint64_t *)page;
			volatile uint64_t *last = (volatile uint64_t *)(page + PAGE_SIZE - sizeof(uint64_t));

			if (!verify) {
				*first = page_pattern((uint64_t)first);
				*last = page_pattern((uint64_t)last);
				m->pages++;
				continue;
			}
			uint64_t a = *first, z = *last;
			if (a != page_pattern((uint64_t)first))
				record_mismatch(m, (uint64_t)first, page_pattern((uint64_t)first), a);
			if (z != page_pattern((uint64_t)last))
				record_mismatch(m, (uint64_t)last, page_pattern((uint64_t)last), z);
		}
	}
}

/* The first 1 MiB-aligned block at or above 1 MiB that is available and excluded nowhere; 0 if none. */
static uint64_t find_byte_block(const struct boot_info *b, const struct mem_test *m)
{
	for (size_t i = 0; i < b->map_count; i++) {
		const struct mem_range *r = &b->map[i];
		uint64_t start = ALIGN_UP(r->base > FIRST_MIB ? r->base : FIRST_MIB, BYTE_BLOCK_SIZE);

		if (r->type != MEM_AVAILABLE)
			continue;
		for (uint64_t blk = start;
		     blk + BYTE_BLOCK_SIZE <= r->end && blk + BYTE_BLOCK_SIZE <= FOUR_GIB;
		     blk += BYTE_BLOCK_SIZE) {
			bool clear = true;
			for (uint64_t p = blk; p < blk + BYTE_BLOCK_SIZE && clear; p += PAGE_SIZE)
				clear = !page_excluded(m, p);
			if (clear)
				return blk;
		}
	}
	return 0;
}

static void test_byte_block(struct mem_test *m, uint64_t blk)
{
	volatile uint8_t *p = (volatile uint8_t *)blk;

	for (uint64_t i = 0; i < BYTE_BLOCK_SIZE; i++)
		p[i] = byte_pattern(blk + i);
	for (uint64_t i = 0; i < BYTE_BLOCK_SIZE; i++) {
		uint8_t got = p[i];
		if (got != byte_pattern(blk + i))
			record_mismatch(m, blk + i, byte_pattern(blk + i), got);
	}
}

static void exclude(struct mem_range *list, size_t *count, uint64_t base, uint64_t end)
{
	if (*count < MAX_EXCLUDED)
		list[(*count)++] = (struct mem_range){base, end, 0};
}

size_t memory_spared_ranges(const struct boot_info *b, struct mem_range out[MEMORY_SPARED_MAX])
{
	size_t n = 0;

	exclude(out, &n, 0, PAGE_SIZE);
	exclude(out, &n, (uint64_t)__image_start, (uint64_t)__image_end);
	for (size_t i = 0; i < b->in_use_count; i++)
		exclude(out, &n, b->in_use[i].base, b->in_use[i].end);
	return n;
}

bool ranges_overlap(const struct mem_range *list, size_t count, uint64_t base, uint64_t end)
{
	for (size_t i = 0; i < count; i++)
		if (base < list[i].end && end > list[i].base)
			return true;
	return false;
}

/*
 * Writes an address-dependent word at the start and end of every 4 KiB page of available memory below
 * 4 GiB, then reads them all back; then fills one 1 MiB block byte by byte and reads it back. Spared:
 * the first page, this kernel's image (with its stack and page tables), the loader's information, its
 * strings and the modules. The memory's old contents are lost.
 */
void check_memory_rw(struct check *c, struct tk_context *t)
{
	static struct mem_test m;
	const struct boot_info *b = &t->boot;

	if (!b->have_mmap) {
		check_fail(c, "mmap=absent");
		return;
	}
	m.excluded_count = memory_spared_ranges(b, m.excluded);

	uint64_t start = rdtsc();
	sweep_pages(b, &m, false);
	sweep_pages(b, &m, true);
	uint64_t blk = find_byte_block(b, &m);
	if (blk)
		test_byte_block(&m, blk);
	uint64_t cycles = rdtsc() - start;

	check_note(c, "pages=%lu tested_kib=%lu excluded_ranges=%zu byte_block=0x%lx tsc_delta=%lu", m.pages,
		   m.pages * (PAGE_SIZE >> 10), m.excluded_count, blk, cycles);
	if (m.skipped_high)
		check_note(c, "untested_above_4g_kib=%lu", m.skipped_high >> 10);
	if (m.pages == 0)
		check_fail(c, "no_pages_tested");
	if (!blk)
		check_fail(c, "byte_block=none");
	if (m.mismatches)
		check_fail(c, "mismatches=%lu first_mismatch=0x%lx expected=0x%lx got=0x%lx", m.mismatches,
			   m.first_bad, m.expected, m.got);
}

/* ---- low_memory ------------------------------------------------------------------------------------- */

#define CONVENTIONAL_END 0xA0000 /* 640 KiB: the EBDA and the last KiB (Linux's MP-table scan) included */
#define BIOS_AREA_START 0xF0000
#define BIOS_AREA_END 0x100000

static uint64_t read_range(uint64_t start, uint64_t end)
{
	uint64_t x = 0;
	for (uint64_t a = start; a < end; a += sizeof(uint64_t))
		x ^= *(volatile const uint64_t *)(uintptr_t)a;
	return x;
}

/*
 * Reads every byte a PC kernel may read early whatever the memory map says: conventional memory up to
 * 640 KiB (the BIOS data area, the EBDA, the last KiB where Linux looks for an MP table) and the BIOS area
 * 0xF0000-0xFFFFF. Under hapvisor every one of those pages must be the guest's: the AP start page hapvisor
 * borrowed below 640 KiB is given back, zeroed, even when a processor did not start (a page hapvisor kept
 * would make this read an isolation breach that stops the guest).
 */
void check_low_memory(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t x = read_range(PAGE_SIZE, CONVENTIONAL_END) ^ read_range(BIOS_AREA_START, BIOS_AREA_END);
	check_note(c, "read_kib=%lu xor=0x%lx",
		   (uint64_t)((CONVENTIONAL_END - PAGE_SIZE + BIOS_AREA_END - BIOS_AREA_START) >> 10), x);
}
