/*
 * Multiboot2 boot information (Multiboot2 specification 1.0, section 3.6): the validated, decoded view.
 * mb2_parse() checks every tag against the block's total size before it reads it; the pointers in
 * struct mb2_info point into the original block (which the caller keeps reserved while it needs them).
 */
#ifndef HV_GUEST_MB2_H
#define HV_GUEST_MB2_H

#include "arch/x86/framebuffer.h" /* tag 8: struct framebuffer */
#include "lib/types.h"

#define MB2_BOOTLOADER_MAGIC 0x36D76289u
#define MB2_MAX_MODULES 16

/* Boot information tag types (spec 3.6). */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_BOOTDEV 5
#define MB2_TAG_MMAP 6
#define MB2_TAG_VBE 7
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_ELF_SECTIONS 9
#define MB2_TAG_APM 10
#define MB2_TAG_EFI32 11
#define MB2_TAG_EFI64 12
#define MB2_TAG_SMBIOS 13
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_NETWORK 16
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18
#define MB2_TAG_EFI32_IH 19
#define MB2_TAG_EFI64_IH 20
#define MB2_TAG_LOAD_BASE_ADDR 21

/* Memory map entry types of tag 6 (spec 3.6.8). */
#define MB2_MMAP_AVAILABLE 1
#define MB2_MMAP_RESERVED 2
#define MB2_MMAP_ACPI_RECLAIMABLE 3
#define MB2_MMAP_ACPI_NVS 4
#define MB2_MMAP_BADRAM 5

struct PACKED mb2_mmap_entry {
	uint64_t base_addr;
	uint64_t length;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_module {
	uint32_t start;	    /* physical, first byte */
	uint32_t end;	    /* physical, one past the last byte */
	const char *string; /* NUL-terminated, inside the info block ("" if empty) */
};

struct mb2_info {
	const void *base;    /* the block itself */
	uint32_t total_size; /* bytes, from its first field */

	const char *cmdline;	 /* "" when absent */
	const char *loader_name; /* "" when absent */

	/* Tag 6: entries are entry_size bytes apart (>= sizeof(struct mb2_mmap_entry)). */
	const uint8_t *mmap;
	uint32_t mmap_entry_size;
	size_t mmap_count;

	/* Tag 17: EFI memory descriptors (UEFI spec 7.2 GetMemoryMap), desc_size bytes apart. */
	const uint8_t *efi_mmap;
	uint32_t efi_desc_size, efi_desc_version;
	size_t efi_mmap_count;

	/* Tags 14/15: a copy of the RSDP inside the tag; the new (ACPI 2.0+) one wins when both exist. */
	const void *rsdp;
	size_t rsdp_len;
	int rsdp_revision; /* 0 when absent, 1 from tag 14, 2 from tag 15 */

	bool have_framebuffer;
	struct framebuffer fb;

	bool have_basic_meminfo;
	uint32_t mem_lower_kib, mem_upper_kib;

	bool efi_boot; /* an EFI system table tag (11/12) was present: booted through UEFI */
	uint64_t efi_system_table;

	bool have_load_base;
	uint32_t load_base_addr; /* tag 21 */

	struct mb2_module modules[MB2_MAX_MODULES];
	size_t module_count;
};

/*
 * mb2_parse: decode the Multiboot2 information block at info into *out.
 * Needs: at least `avail` readable bytes at info (pass the block size limit you trust; hapvisor passes
 *        MB2_INFO_MAX). Guarantees: on success, every pointer in *out lies inside the block and every
 *        string is NUL-terminated inside its tag. On failure, returns false after printing one log_error
 *        line that names the offending tag (type, offset) and what is wrong; *out is then unspecified.
 */
bool mb2_parse(const void *info, size_t avail, struct mb2_info *out);

/* The largest information block hapvisor accepts. */
#define MB2_INFO_MAX (1u << 20)

/* Entry i of the Multiboot2 memory map (i < mmap_count). */
static inline const struct mb2_mmap_entry *mb2_mmap_at(const struct mb2_info *info, size_t i)
{
	return (const struct mb2_mmap_entry *)(const void *)(info->mmap + i * info->mmap_entry_size);
}

#endif
