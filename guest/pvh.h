/*
 * The PVH boot ABI (Xen's docs/misc/pvh.pandoc and public/arch-x86/hvm/start_info.h; Linux
 * arch/x86/platform/pvh): an ELF kernel with a XEN_ELFNOTE_PHYS32_ENTRY note is entered at that physical
 * address in 32-bit protected mode, paging off, with EBX = the physical address of a struct hvm_start_info
 * that gives the command line, the modules (for Linux: the initrd), the RSDP and the memory map.
 * Unmodified Linux (an uncompressed vmlinux) boots this way without its in-kernel decompressor.
 */
#ifndef HV_GUEST_PVH_H
#define HV_GUEST_PVH_H

#include "guest/format.h"
#include "lib/types.h"

#define PVH_START_INFO_MAGIC 0x336ec578u
#define PVH_START_INFO_VERSION 1 /* version 1 adds the memory map */
#define XEN_ELFNOTE_NAME "Xen"
#define XEN_ELFNOTE_PHYS32_ENTRY 18u

/*
 * pvh_parse: validate the ELF kernel in [image, image + size) and its PVH note, and plan its load into
 * *out (segments at p_paddr; entry = the note's 32-bit physical entry, which must lie inside a segment).
 * Returns false after one log_error line naming the problem.
 */
bool pvh_parse(const void *image, size_t size, struct guest_plan *out);

/*
 * pvh_build_info: write hvm_start_info (version 1) and what it points to (module list, memory map, RSDP
 * copy, strings) into buf, which will lie at physical buf_phys, and return the size in bytes; every pointer
 * in it points inside [buf_phys, buf_phys + size). With buf NULL only the size is computed; nothing is
 * written at or past buf + cap. The memory map merges neighbouring ranges of one E820 type (so hapvisor's
 * region may merge with a reserved neighbour).
 */
size_t pvh_build_info(const struct guest_boot *b, void *buf, size_t cap, uint64_t buf_phys);

#endif
