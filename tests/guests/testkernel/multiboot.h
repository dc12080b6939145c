/*
 * testkernel: the boot information of either loader protocol, decoded into one view:
 * Multiboot 0.6.96 section 3.3 (MB1: EAX = 0x2BADB002, EBX = struct multiboot_info) and Multiboot2 1.0
 * section 3.6 (MB2: EAX = 0x36D76289, EBX = tagged block). Memory types are the same numbers in both.
 */
#ifndef TK_MULTIBOOT_H
#define TK_MULTIBOOT_H

#include "cpu.h"

#define MB1_BOOT_MAGIC 0x2BADB002u
#define MB2_BOOT_MAGIC 0x36D76289u

/* Memory map types (MB1 3.3 "mmap_*", MB2 3.6.8). */
#define MEM_AVAILABLE 1
#define MEM_RESERVED 2
#define MEM_ACPI_RECLAIMABLE 3
#define MEM_ACPI_NVS 4
#define MEM_BADRAM 5

#define BOOT_MAX_RANGES 64
#define BOOT_MAX_IN_USE 48
#define BOOT_STRING_MAX 4096 /* longest command line / loader name / module string read */

enum boot_protocol { BOOT_UNKNOWN = 0, BOOT_MB1 = 1, BOOT_MB2 = 2 };

struct mem_range {
	uint64_t base, end; /* [base, end) */
	uint32_t type;
};

struct boot_info {
	enum boot_protocol protocol;
	const char *error;	 /* NULL, or why the information is unusable (then the rest is partial) */
	const char *cmdline;	 /* "" when absent */
	const char *loader_name; /* "" when absent */
	bool have_mmap;
	struct mem_range map[BOOT_MAX_RANGES]; /* in the loader's order */
	size_t map_count;
	size_t map_dropped; /* entries beyond BOOT_MAX_RANGES */
	/* What the loader handed over and the kernel still reads: the info block, its strings, modules. */
	struct mem_range in_use[BOOT_MAX_IN_USE];
	size_t in_use_count;
	size_t module_count;
	/* The ACPI RSDP copy of an MB2 ACPI tag (15 "new" preferred over 14 "old"); NULL when none. */
	const uint8_t *rsdp;
	uint32_t rsdp_len;
};

/*
 * boot_info_parse: decode the information at physical address info for the loader named by magic.
 * Needs: info below 4 GiB (identity mapped). Guarantees: every string in *out is NUL-terminated; on a
 * malformed block, out->error says what is wrong and what was decoded before it is kept.
 */
void boot_info_parse(uint32_t magic, uint64_t info, struct boot_info *out);

/* "available", "reserved", "acpi", "nvs", "bad" or "type<N>" (a static buffer for unknown types). */
const char *mem_type_name(uint32_t type);

#endif
