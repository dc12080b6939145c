/*
 * A normalized physical memory map: ranges sorted by address, never overlapping, adjacent ranges of one
 * type merged. Built from the boot loader's map (the UEFI memory map when there is one, else the
 * Multiboot2 one: boot/memmap_mb2.c), then carved by hapvisor (its own region, the boot data it still needs).
 *
 * Two maps, one set of types. The map the guest will see (the "machine map") only ever holds what the
 * firmware said plus hapvisor's real claims (MEM_HAPVISOR, MEM_BOOT). Reservations that exist only to keep
 * hapvisor from placing itself somewhere (the first MiB, the image where GRUB loaded it) never go into it,
 * so the guest still sees the first MiB's real types and there is no flag for anyone to forget to strip.
 * To place itself, hapvisor copies the machine map (plain struct assignment), marks what it must avoid in
 * the copy with memmap_set(..., MEM_RESERVED), searches the copy with memmap_find_top(), drops the copy
 * and carves the result out of the machine map with memmap_set(..., MEM_HAPVISOR).
 *
 * The map describes [0, MEMMAP_ADDR_END): the last 4 KiB page of the 64-bit space is left out, so that
 * base + size never wraps and page-aligned ranges stay page-aligned. No physical address reaches it
 * (MAXPHYADDR is at most 52, SDM Vol. 3A 4.1.4). Ranges beyond it are clipped.
 *
 * Not thread-safe: maps are built on the boot processor before anything else runs.
 */
#ifndef HV_MM_MEMMAP_H
#define HV_MM_MEMMAP_H

#include "lib/types.h"

#define MEMMAP_MAX 128
#define MEMMAP_ADDR_END (0ull - PAGE_SIZE) /* exclusive end of what a map describes */

/*
 * Range types. The firmware types are listed by increasing precedence: where firmware ranges overlap,
 * memmap_add() keeps the more restrictive type (BAD > ACPI_NVS > RESERVED > ACPI_RECLAIMABLE > AVAILABLE).
 * MEM_BOOT and MEM_HAPVISOR are hapvisor's own claims, made with memmap_set(); memmap_add() ranks them above
 * every firmware type so that a firmware range added late cannot silently take them back.
 */
enum mem_type {
	MEM_AVAILABLE,	      /* RAM nobody uses: the guest's (or, in a placement map, hapvisor's to take) */
	MEM_ACPI_RECLAIMABLE, /* ACPI tables; RAM once the OS has read them (ACPI 6.5 ch. 15) */
	MEM_RESERVED,	      /* firmware, MMIO, or anything of unknown type */
	MEM_ACPI_NVS,	      /* must be preserved across sleep states (ACPI 6.5 ch. 15) */
	MEM_BAD,	      /* RAM that reported errors */
	MEM_BOOT,	      /* boot data kept until the guest is loaded: Multiboot2 info, modules */
	MEM_HAPVISOR,	      /* hapvisor's region: its image and its frame pool; reserved for the guest */
	MEM_TYPE_COUNT
};

struct mem_range {
	uint64_t base; /* first byte */
	uint64_t size; /* bytes, > 0; base + size <= MEMMAP_ADDR_END */
	enum mem_type type;
};

struct memmap {
	size_t count;
	struct mem_range ranges[MEMMAP_MAX]; /* [0, count): sorted, disjoint, neighbours of one type merged */
};

/* Make *map empty. */
void memmap_init(struct memmap *map);

/*
 * memmap_add: describe [base, base + size) as `type` where the map does not already hold a type of higher
 * precedence (see enum mem_type); holes in the map are filled with `type`.
 * Needs: type < MEM_TYPE_COUNT. Size 0 is a no-op; the range is clipped at MEMMAP_ADDR_END.
 * Guarantees: the map stays normalized. Returns false, after one log_error line, when the result would need
 * more than MEMMAP_MAX ranges; the map is then unchanged.
 */
bool memmap_add(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type);

/* memmap_set: like memmap_add, but [base, base + size) becomes `type` whatever it was before. */
bool memmap_set(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type);

/*
 * memmap_add_firmware: add one range of the boot loader's or firmware's map (boot/memmap_mb2.c), made of
 * whole pages: an AVAILABLE range shrinks to the pages it fully covers (a partial page is not safe to hand
 * out), any other grows to the pages it touches; memmap_add() then applies the precedence of types. Returns
 * false (logged) when the map is full.
 */
bool memmap_add_firmware(struct memmap *map, uint64_t base, uint64_t len, enum mem_type type);

/*
 * memmap_find_top: the highest `align`-aligned *base such that [*base, *base + size) lies inside one
 * MEM_AVAILABLE range and inside [min, limit).
 * Needs: size > 0, align a power of two. Returns false (logging nothing; the caller knows what it wanted)
 * when nothing fits.
 */
bool memmap_find_top(const struct memmap *map, uint64_t size, uint64_t align, uint64_t min, uint64_t limit,
		     uint64_t *base);

/* The range holding addr, or NULL when addr is in a hole of the map. */
const struct mem_range *memmap_lookup(const struct memmap *map, uint64_t addr);

/* True when all of [base, base + size) (size > 0) is described, as `type`. */
bool memmap_is_type(const struct memmap *map, uint64_t base, uint64_t size, enum mem_type type);

/* Bytes described as `type`. */
uint64_t memmap_total(const struct memmap *map, enum mem_type type);

/* "available", "reserved", "acpi_reclaimable", "acpi_nvs", "bad", "boot", "hapvisor"; "unknown" else. */
const char *mem_type_name(enum mem_type type);

/*
 * memmap_print: for each range one human line (log_info) and one structured line
 *   hapvisor: event=memmap map=<name> index=<i> base=0x<hex> end=0x<hex> size=<bytes> type=<type name>
 * (end is exclusive), then
 *   hapvisor: event=memmap_total map=<name> ranges=<count> available=<bytes> reserved=<bytes> ...
 * with one key per type, named by mem_type_name(). Needs: name without spaces ("firmware", "guest").
 */
void memmap_print(const struct memmap *map, const char *name);

#endif
