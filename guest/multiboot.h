/*
 * Multiboot guests: finding and validating a kernel's Multiboot2 header (Multiboot2 specification 1.0,
 * section 3.1) or Multiboot1 header (Multiboot specification 0.6.96, section 3.1), turning it into a load
 * plan (segments, entry point), and building the boot information the kernel receives in EBX (Multiboot2
 * 3.6, Multiboot1 3.3).
 *
 * Everything here is pure: it reads the kernel image and the caller's descriptions, and writes only into
 * the caller's structures and buffers. Copying segments into guest memory is guest/loader.c's job.
 */
#ifndef HV_GUEST_MULTIBOOT_H
#define HV_GUEST_MULTIBOOT_H

#include "guest/mb2.h"
#include "guest/elf.h"
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

#define MBGUEST_LOADER_NAME "hapvisor"
#define MBGUEST_MODULE_ALIGN PAGE_SIZE /* modules passed to a guest always start on a page */
#define MBGUEST_MAX_SEGMENTS ELF_MAX_SEGMENTS
#define MBGUEST_AOUT_SEGMENT UINT32_MAX /* mbguest_segment.phdr of the address-field (a.out kludge) load */
#define MBGUEST_NAME_MAX 48		/* mbguest_segment_name() output, NUL included */

enum mbguest_version { MBGUEST_NONE, MBGUEST_MB1, MBGUEST_MB2 };

/* One range to load: filesz bytes from the kernel file at offset, then zeros up to memsz, at paddr. */
struct mbguest_segment {
	uint64_t paddr;	 /* physical load address, below 4 GiB */
	uint64_t offset; /* of the file data in the kernel file */
	uint64_t filesz;
	uint64_t memsz; /* > 0, >= filesz */
	uint32_t phdr;	/* ELF program header index, or MBGUEST_AOUT_SEGMENT */
};

/* A validated Multiboot kernel: how to load it and what it asked for. */
struct mbguest_kernel {
	enum mbguest_version version;
	uint32_t header_offset; /* of the header in the kernel file */
	uint32_t entry;		/* physical entry point, inside a segment */
	bool aout;		/* loaded by the header's address fields (a.out kludge), not as ELF */
	unsigned elf_bits;	/* 32 or 64 when loaded as ELF, else 0 */
	uint32_t load_base;	/* lowest segment address */
	size_t segment_count;	/* >= 1 */
	struct mbguest_segment segments[MBGUEST_MAX_SEGMENTS]; /* disjoint */

	uint32_t mb1_flags;   /* Multiboot1: the header's flags */
	bool mb2_relocatable; /* Multiboot2: relocatable tag seen; the load base address tag (21) is given */
};

/* A module passed on to the guest, at its final address. */
struct mbguest_module {
	uint32_t start, end; /* physical; end exclusive */
	const char *string;  /* NUL-terminated, "" when empty */
};

/* Everything the boot information describes, besides the kernel itself. */
struct mbguest_boot {
	const char *cmdline;	  /* the guest's command line */
	const struct memmap *map; /* the guest's memory map (MEM_BOOT and MEM_AVAILABLE are given as RAM) */
	const struct mbguest_module *modules;
	size_t module_count;
	const uint8_t *rsdp; /* NULL, or a copy of the RSDP: 20 bytes (revision 1) or 36 (revision 2) */
	size_t rsdp_len;
	int rsdp_revision;	      /* 0 none, 1 ACPI 1.0, 2 ACPI 2.0+ (as struct mb2_info) */
	const struct framebuffer *fb; /* NULL when there is none */
	bool efi64; /* booted by 64-bit UEFI: pass the system table (boot services are gone) */
	uint64_t efi_system_table;
};

/*
 * mbguest_find_header: the first valid header in the image, Multiboot2 preferred: a Multiboot2 header
 * (magic, architecture, header_length and checksum summing to 0) at an 8-byte-aligned offset whose 16-byte
 * fixed part lies in the first 32 KiB, else a Multiboot1 header (magic, flags, checksum summing to 0) at a
 * 4-byte-aligned offset whose 12-byte fixed part lies in the first 8 KiB. A magic with a bad checksum is
 * not a header: the search goes on. Silent; returns false when there is none.
 */
bool mbguest_find_header(const void *image, size_t size, enum mbguest_version *version, uint32_t *offset);

/*
 * mbguest_parse: validate the Multiboot kernel in [image, image + size) and plan its load into *out.
 * Multiboot2: every header tag (3.1.3 - 3.1.13); a non-optional information request for a tag hapvisor
 * never provides, a non-optional EFI boot services tag, and a non-optional unknown tag are refused.
 * Multiboot1: unknown requirement flags (bits 3-15) are refused; a video mode request is noted, not met.
 * With an address tag / flags bit 16 the a.out-kludge fields define one segment; otherwise the kernel
 * must be ELF (elf_parse()). Every segment must lie below 4 GiB and the entry point inside one.
 * Returns false after exactly one log_error line ("guest kernel: ..."); *out is then unspecified.
 */
bool mbguest_parse(const void *image, size_t size, struct mbguest_kernel *out);

/* The EAX value the kernel expects: MB2_BOOTLOADER_MAGIC or MB1_BOOTLOADER_MAGIC. */
uint32_t mbguest_boot_magic(const struct mbguest_kernel *k);

/* "segment 1 (program header 3)" or "segment 0 (the header's address fields)", into buf (n bytes). */
void mbguest_segment_name(const struct mbguest_kernel *k, size_t i, char *buf, size_t n);

/*
 * mbguest_build_info: write the boot information for kernel k into buf, which will sit at physical
 * address buf_phys (Multiboot1 pointers are absolute), and return its size in bytes.
 * Multiboot2 (3.6): command line, loader name, basic memory information, memory map, modules, framebuffer,
 * EFI 64-bit system table, ACPI old/new RSDP, load base (relocatable kernels), end tag. Never the EFI
 * memory map: it would show hapvisor's region as usable, and the memory map tag is authoritative.
 * Multiboot1 (3.3): flags, mem_lower/mem_upper, cmdline, modules, memory map, boot loader name, framebuffer.
 * Needs: buf_phys 8-byte aligned and buf_phys + size <= 4 GiB; buf NULL (cap 0) only measures.
 * Guarantees: when the returned size is <= cap, the whole block is written (padding zeroed); otherwise
 * nothing past cap is touched.
 */
size_t mbguest_build_info(const struct mbguest_kernel *k, const struct mbguest_boot *b, void *buf, size_t cap,
			  uint64_t buf_phys);

/* The Multiboot memory map type (1 available ... 5 bad RAM; the same in both specifications) of a type. */
uint32_t mbguest_mmap_type(enum mem_type type);

#endif
