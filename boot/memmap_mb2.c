/*
 * hapvisor's firmware memory map from its Multiboot2 information (see memmap_mb2.h): the UEFI memory map
 * (tag 17) or the Multiboot2 one (tag 6), each entry added to a struct memmap with memmap_add_firmware().
 */
#include "boot/memmap_mb2.h"
#include "lib/log.h"

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
		log_error(
			"the EFI memory map (Multiboot2 tag 17) has descriptors of %u bytes, fewer than the %zu of EFI_MEMORY_DESCRIPTOR; the boot loader or firmware is broken",
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
		if (!memmap_add_firmware(map, d->physical_start, len, t))
			return false;
	}
	return true;
}

static bool from_mb2_mmap(struct memmap *map, const struct mb2_info *info)
{
	if (info->mmap_entry_size < sizeof(struct mb2_mmap_entry)) {
		log_error(
			"the Multiboot2 memory map (tag 6) has entries of %u bytes, fewer than the %zu the specification requires; the boot loader is broken",
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
		if (!memmap_add_firmware(map, e->base_addr, e->length, t))
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
	log_error(
		"the boot loader gave no memory map (neither Multiboot2 tag 6 nor the EFI map, tag 17); boot hapvisor with GRUB 2's multiboot2 command");
	return false;
}
