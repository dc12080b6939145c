/*
 * Multiboot guests: finding and validating a kernel's Multiboot2 header (Multiboot2 specification 1.0,
 * section 3.1) or Multiboot1 header (Multiboot specification 0.6.96, section 3.1), turning it into a load
 * plan (segments, entry point; guest/multiboot_header.c), and building the boot information the kernel
 * receives in EBX (Multiboot2 3.6, Multiboot1 3.3; guest/multiboot_info.c). The formats guest_format_mb2
 * and guest_format_mb1 (guest/format.h) are these two.
 *
 * Everything here is pure: it reads the kernel image and the caller's descriptions, and writes only into
 * the caller's structures and buffers. Copying segments into guest memory is guest/loader.c's job.
 */
#ifndef HV_GUEST_MULTIBOOT_H
#define HV_GUEST_MULTIBOOT_H

#include "guest/elf.h"
#include "guest/format.h"
#include "guest/mb2.h"
#include "lib/types.h"
#include "mm/memmap.h"

/* Header magic values and the values the boot loader leaves in EAX (MB2_BOOTLOADER_MAGIC: guest/mb2.h). */
#define MB2_HEADER_MAGIC 0xE85250D6u	 /* Multiboot2 3.1.2 */
#define MB1_HEADER_MAGIC 0x1BADB002u	 /* Multiboot1 3.1.2 */
#define MB1_BOOTLOADER_MAGIC 0x2BADB002u /* Multiboot1 3.2 */

/* Where the headers may be (Multiboot2 3.1.1, Multiboot1 3.1.1): aligned, inside the first bytes. */
#define MB2_HEADER_SEARCH 32768u
#define MB2_HEADER_ALIGN 8u
#define MB1_HEADER_SEARCH 8192u
#define MB1_HEADER_ALIGN 4u

/* Multiboot1 header flags (3.1.2). Bits 0-15 are requirements: an unknown one must make the load fail. */
#define MB1_HF_PAGE_ALIGN BIT(0)   /* modules aligned on 4 KiB pages */
#define MB1_HF_MEMORY_INFO BIT(1)  /* mem_* and mmap_* in the boot information */
#define MB1_HF_VIDEO_MODE BIT(2)   /* a video mode table (hapvisor: noted, never set) */
#define MB1_HF_AOUT_KLUDGE BIT(16) /* the address fields are valid: load by them, not as ELF */
#define MB1_HF_REQUIRED_MASK 0xffffu
#define MB1_HF_KNOWN (MB1_HF_PAGE_ALIGN | MB1_HF_MEMORY_INFO | MB1_HF_VIDEO_MODE)

/* Multiboot2 header tag types (3.1.3 - 3.1.13) and the one tag flag. */
#define MB2H_TAG_END 0
#define MB2H_TAG_INFO_REQUEST 1	 /* 3.1.4 */
#define MB2H_TAG_ADDRESS 2	 /* 3.1.5 */
#define MB2H_TAG_ENTRY 3	 /* 3.1.6 */
#define MB2H_TAG_CONSOLE_FLAGS 4 /* 3.1.9 */
#define MB2H_TAG_FRAMEBUFFER 5	 /* 3.1.10 */
#define MB2H_TAG_MODULE_ALIGN 6	 /* 3.1.11 */
#define MB2H_TAG_EFI_BS 7	 /* 3.1.12 */
#define MB2H_TAG_ENTRY_EFI32 8	 /* 3.1.7 */
#define MB2H_TAG_ENTRY_EFI64 9	 /* 3.1.8 */
#define MB2H_TAG_RELOCATABLE 10	 /* 3.1.13 */
#define MB2H_TAG_OPTIONAL BIT(0) /* 3.1.3: the loader may ignore the tag */
#define MB2_HEADER_ARCH_I386 0u	 /* 3.1.2: 32-bit protected mode of i386 */

#define MULTIBOOT_LOADER_NAME "hapvisor"

/*
 * multiboot_find_header: the first valid header in the image, Multiboot2 preferred: a Multiboot2 header
 * (magic, architecture, header_length and checksum summing to 0) at an 8-byte-aligned offset whose 16-byte
 * fixed part lies in the first 32 KiB, else a Multiboot1 header (magic, flags, checksum summing to 0) at a
 * 4-byte-aligned offset whose 12-byte fixed part lies in the first 8 KiB. A magic with a bad checksum is
 * not a header: the search goes on. Silent; returns false when there is none.
 */
bool multiboot_find_header(const void *image, size_t size, enum multiboot_version *version, uint32_t *offset);

/*
 * multiboot_parse: validate the Multiboot kernel in [image, image + size) and plan its load into *out.
 * Multiboot2: every header tag (3.1.3 - 3.1.13); a non-optional information request for a tag hapvisor
 * never provides, a non-optional EFI boot services tag, and a non-optional unknown tag are refused.
 * Multiboot1: unknown requirement flags (bits 3-15) are refused; a video mode request is noted, not met.
 * With an address tag / flags bit 16 the a.out-kludge fields define one segment; otherwise the kernel
 * must be ELF (elf_parse()). Every segment must lie below 4 GiB and the entry point inside one.
 * Returns false after exactly one log_error line ("guest kernel: ..."); *out is then unspecified.
 */
bool multiboot_parse(const void *image, size_t size, struct guest_plan *out);

/* The EAX value the kernel expects: MB2_BOOTLOADER_MAGIC or MB1_BOOTLOADER_MAGIC. */
uint32_t multiboot_boot_magic(const struct guest_plan *k);

/*
 * multiboot_build_info: write the boot information for kernel k into buf, which will sit at physical
 * address buf_phys (Multiboot1 pointers are absolute), and return its size in bytes.
 * Multiboot2 (3.6): command line, loader name, basic memory information, memory map, modules, framebuffer,
 * EFI 64-bit system table, ACPI old/new RSDP, load base (relocatable kernels), end tag. Never the EFI
 * memory map: it would show hapvisor's region as usable, and the memory map tag is authoritative.
 * Multiboot1 (3.3): flags, mem_lower/mem_upper, cmdline, modules, memory map, boot loader name, framebuffer.
 * Needs: buf_phys 8-byte aligned and buf_phys + size <= 4 GiB; buf NULL (cap 0) only measures.
 * Guarantees: when the returned size is <= cap, the whole block is written (padding zeroed); otherwise
 * nothing past cap is touched.
 */
size_t multiboot_build_info(const struct guest_plan *k, const struct guest_boot *b, void *buf, size_t cap,
			    uint64_t buf_phys);

#endif
