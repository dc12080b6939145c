/* hapvisor's firmware memory map, read from the boot loader's Multiboot2 information. */
#ifndef HV_BOOT_MEMMAP_MB2_H
#define HV_BOOT_MEMMAP_MB2_H

#include "guest/mb2.h"
#include "lib/types.h"
#include "mm/memmap.h"

/*
 * memmap_from_mb2: build *map (initialized here) from the boot loader's memory map: the EFI memory map
 * (tag 17) when there is one, else the Multiboot2 map (tag 6). UEFI types are read as they stand after
 * ExitBootServices (UEFI 2.10 7.2, table "Memory Type Usage after ExitBootServices()").
 * AVAILABLE ranges are shrunk to whole 4 KiB pages, all others grown to whole pages (memmap_add_firmware).
 * Returns false after a log_error line when there is no map, the map is malformed, or it is too fragmented.
 */
bool memmap_from_mb2(struct memmap *map, const struct mb2_info *info);

#endif
