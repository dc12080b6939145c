/*
 * Loading the guest kernel: module 0 of hapvisor's Multiboot2 information, its module string the guest's
 * command line, the further modules passed on. Multiboot2 and Multiboot1 kernels (guest/multiboot.h), Linux
 * through its PVH entry (guest/pvh.h) and Linux bzImages through the 32-bit boot protocol (guest/bzimage.h),
 * each a struct guest_format_ops (guest/format.h) in one table.
 */
#ifndef HV_GUEST_LOADER_H
#define HV_GUEST_LOADER_H

#include "guest/acpi.h"
#include "guest/format.h"
#include "guest/mb2.h"
#include "lib/types.h"
#include "mm/memmap.h"

/* The format of the kernel image in [image, image + size). Pure and silent. */
enum guest_format guest_probe(const void *image, size_t size);

/* "mb2", "mb1", "linux-bzimage", "linux-pvh", "unknown". */
const char *guest_format_name(enum guest_format format);

/*
 * guest_load: load module 0 of *hv as the guest kernel into guest memory and build its boot information.
 * Needs: *hv parsed by mb2_parse(); *guest_map the map the guest sees (hapvisor's region MEM_HAPVISOR);
 *        every range of it that is RAM mapped by phys_to_virt(); nothing of hapvisor's but its region in
 *        use. Runs once, on the boot processor.
 * Order, so that nothing still needed is overwritten: (1) copy what is still needed from *hv (strings,
 * RSDP, framebuffer) into hapvisor's memory; (2) validate the kernel and plan every placement: the
 * segments must lie in RAM (MEM_AVAILABLE or MEM_BOOT) below 4 GiB, away from hapvisor's region; modules
 * (the kernel file included) that overlap a segment or the first MiB, or that are not page-aligned, get a
 * new page-aligned place below 4 GiB; the boot information gets the highest free pages below 640 KiB that
 * overlap nothing (place_boot_info() in loader.c: every kernel reads low memory before its own paging),
 * and the guest's copies of the ACPI MADT and root tables the highest free pages below 4 GiB (guest/acpi.h:
 * the processors not in *cpus marked disabled; the RSDP copy names them); (3) only then move modules, copy
 * segments and zero their bss, write the ACPI copies and the boot information. cpus NULL: the MADT copy
 * keeps no processor enabled.
 * The format decides where its segments go (parse), the limit of a module (module_limit) and what its boot
 * information needs recorded (placed): a bzImage places itself (bzimage_place()) and loads as one segment
 * whose memsz is init_size (so modules and boot information stay out of the decompressor's area; nothing of
 * it is zeroed); its first passed module is the initrd, moved when it ends above the kernel's
 * initrd_addr_max; the page of its boot information that holds the RSDP copy is MEM_ACPI_RECLAIMABLE.
 * Returns false, after a log_error line that says what to do, on every failure of (1) and (2): guest
 * memory and *guest_map are then untouched. Step (3) cannot fail.
 * Guarantees on success: *out holds the entry state; *guest_map also records the guest's boot data (its
 * boot information, the modules passed on) as MEM_BOOT, which the guest is told is available RAM, and the
 * ACPI copies as MEM_ACPI_RECLAIMABLE; hapvisor's
 * own Multiboot2 information block may have been overwritten, so the pointers inside *hv (strings, RSDP,
 * memory maps) must not be used any more. Prints one "event=guest_segment" line per segment, one
 * "event=guest_acpi" line when the ACPI tables were copied, and one "event=guest_load" line (docs/guests.md).
 */
bool guest_load(const struct mb2_info *hv, struct memmap *guest_map, const struct guest_cpus *cpus,
		struct guest_entry_state *out);

#endif
