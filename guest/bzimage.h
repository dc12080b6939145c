/*
 * The Linux x86 boot protocol (Linux Documentation/arch/x86/boot.rst, protocol 2.12 - 2.15), 32-bit entry:
 * a bzImage is a real-mode setup part ((setup_sects + 1) * 512 bytes, the setup header at 0x1F1) followed
 * by the protected-mode kernel, a self-decompressor that needs init_size bytes of RAM from where it is
 * loaded. hapvisor loads only the protected-mode kernel and enters it at its first byte ("32-bit BOOT
 * PROTOCOL"): protected mode, paging off, a GDT with __BOOT_CS = 0x10 and __BOOT_DS = 0x18 loaded, ESI =
 * the physical address of struct boot_params (the "zero page"), EBP = EDI = EBX = 0, interrupts off.
 *
 * Pure: reads the image and the caller's descriptions, writes only the caller's structures and buffers.
 * Copying the kernel into guest memory is guest/loader.c's job.
 */
#ifndef HV_GUEST_BZIMAGE_H
#define HV_GUEST_BZIMAGE_H

#include "guest/format.h"
#include "lib/types.h"
#include "mm/memmap.h"

/* Setup header fields: offsets in the file, which are also their offsets in struct boot_params. */
#define BZ_SETUP_SECTS 0x1f1u	   /* u8: sectors of setup code after the boot sector; 0 means 4 */
#define BZ_SYSSIZE 0x1f4u	   /* u32: protected-mode kernel size in 16-byte paragraphs */
#define BZ_BOOT_FLAG 0x1feu	   /* u16: 0xAA55 */
#define BZ_JUMP 0x200u		   /* u16: a short jump; its second byte + 0x202 ends the setup header */
#define BZ_HEADER 0x202u	   /* u32: "HdrS" */
#define BZ_VERSION 0x206u	   /* u16: protocol version, major << 8 | minor */
#define BZ_TYPE_OF_LOADER 0x210u   /* u8 */
#define BZ_LOADFLAGS 0x211u	   /* u8 */
#define BZ_CODE32_START 0x214u	   /* u32 */
#define BZ_RAMDISK_IMAGE 0x218u	   /* u32 */
#define BZ_RAMDISK_SIZE 0x21cu	   /* u32 */
#define BZ_CMD_LINE_PTR 0x228u	   /* u32 */
#define BZ_INITRD_ADDR_MAX 0x22cu  /* u32: highest address the initrd may occupy */
#define BZ_KERNEL_ALIGNMENT 0x230u /* u32 */
#define BZ_RELOCATABLE 0x234u	   /* u8 */
#define BZ_XLOADFLAGS 0x236u	   /* u16 */
#define BZ_CMDLINE_SIZE 0x238u	   /* u32: longest command line, without its NUL */
#define BZ_PAYLOAD_OFFSET 0x248u   /* u32: of the compressed payload, in the protected-mode kernel */
#define BZ_PAYLOAD_LENGTH 0x24cu   /* u32 */
#define BZ_SETUP_DATA 0x250u	   /* u64: setup_data list (hapvisor gives none) */
#define BZ_PREF_ADDRESS 0x258u	   /* u64 */
#define BZ_INIT_SIZE 0x260u	   /* u32 */
#define BZ_HEADER_END_MAX 0x290u   /* struct boot_params: the setup header area ends here */

/* Other fields of struct boot_params (arch/x86/include/uapi/asm/bootparam.h). */
#define BP_SIZE 4096u
#define BP_SCREEN_INFO 0x000u /* struct screen_info, 0x40 bytes */
#define BP_ACPI_RSDP_ADDR 0x070u
#define BP_EXT_RAMDISK_IMAGE 0x0c0u
#define BP_EXT_RAMDISK_SIZE 0x0c4u
#define BP_EXT_CMD_LINE_PTR 0x0c8u
#define BP_E820_ENTRIES 0x1e8u
#define BP_E820_TABLE 0x2d0u
#define BP_E820_ENTRY_SIZE 20u /* u64 addr, u64 size, u32 type */
#define BZ_E820_MAX 128u       /* entries in the zero page */

#define BZ_HEADER_MAGIC 0x53726448u /* "HdrS" */
#define BZ_BOOT_FLAG_MAGIC 0xaa55u
#define BZ_MIN_VERSION 0x020cu	/* 2.12: xloadflags; everything hapvisor reads exists */
#define BZ_RSDP_VERSION 0x020eu /* 2.14: acpi_rsdp_addr */
#define BZ_SECTOR 512u
#define BZ_DEFAULT_SETUP_SECTS 4u
#define BZ_LOADER_UNDEFINED 0xffu /* type_of_loader: a loader without an assigned ID */

#define BZ_LOADED_HIGH BIT(0) /* loadflags: the protected-mode kernel is loaded at 0x100000 or above */
#define BZ_XLF_KERNEL_64 BIT(0)

/* The GDT the 32-bit entry needs (boot.rst: __BOOT_CS and __BOOT_DS), in the boot information. */
#define BZ_BOOT_CS 0x10u
#define BZ_BOOT_DS 0x18u
#define BZ_GDT_ENTRIES 4u
#define BZ_GDT_LIMIT (BZ_GDT_ENTRIES * 8u - 1u)
#define BZ_GDT_CODE32                                                                                        \
	0x00cf9b000000ffffull /* base 0, limit 4 GiB, G, D/B, P, DPL 0, execute/read, accessed */
#define BZ_GDT_DATA32                                                                                        \
	0x00cf93000000ffffull /* base 0, limit 4 GiB, G, D/B, P, DPL 0, read/write, accessed                 \
			       */

/* screen_info (include/uapi/linux/screen_info.h). */
#define BZ_VIDEO_TYPE_VGAC 0x22u /* orig_video_isVGA: VGA text, colour */
#define BZ_VIDEO_TYPE_VLFB 0x23u /* orig_video_isVGA: VESA linear framebuffer */
#define BZ_VIDEO_CAPABILITY_64BIT_BASE BIT(1)

/*
 * Layout of the boot information block (offsets from its start, which is page-aligned):
 * page 0 struct boot_params; page 1 the GDT, then the RSDP copy (16-byte aligned); page 2 the command line.
 * Page 1 is its own page so that the loader can give it a type of its own in the guest's memory map.
 */
#define BZ_INFO_BOOT_PARAMS 0u
#define BZ_INFO_TABLES PAGE_SIZE
#define BZ_INFO_GDT BZ_INFO_TABLES
#define BZ_INFO_RSDP (BZ_INFO_TABLES + 32u)
#define BZ_INFO_CMDLINE (2u * PAGE_SIZE)

#define BZ_HEADER_COPY_MAX (BZ_HEADER_END_MAX - BZ_SETUP_SECTS)

/* A validated bzImage: its setup header's fields, and (after bzimage_place()) where it loads. */
struct bzimage_kernel {
	uint16_t version;      /* e.g. 0x020f for 2.15 */
	unsigned setup_sects;  /* as read: 0 is already taken as 4 */
	uint32_t setup_bytes;  /* (setup_sects + 1) * 512: file offset of the protected-mode kernel */
	uint64_t kernel_bytes; /* the protected-mode kernel: from setup_bytes to the end of the file */
	uint32_t syssize;      /* paragraphs */
	uint8_t loadflags;
	bool relocatable;
	uint32_t kernel_alignment; /* a power of two */
	uint64_t pref_address;
	uint32_t init_size; /* RAM the decompressor needs from the load address, >= kernel_bytes here */
	uint16_t xloadflags;
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	size_t header_len;		    /* bytes of header[] */
	uint8_t header[BZ_HEADER_COPY_MAX]; /* the file's setup header: file bytes from 0x1F1 */
	uint32_t load_addr;		    /* set by bzimage_place() */
};

/* Where bzimage_build_info() put what the entry state names (physical addresses). */
struct bzimage_layout {
	uint32_t boot_params; /* ESI */
	uint32_t gdt;	      /* GDTR base; the limit is BZ_GDT_LIMIT */
	uint32_t rsdp;	      /* 0 when there is no RSDP */
	uint32_t cmdline;
};

/*
 * bzimage_parse: validate the bzImage in [image, image + size) into *out (load_addr left 0).
 * Refused: no 0xAA55 / "HdrS", protocol older than 2.12, LOADED_HIGH clear, a kernel_alignment that is not
 * a power of two, a setup part or compressed payload that runs past the end of the file (truncated), a
 * file shorter than syssize says by more than BZ_SYSSIZE_SLACK bytes.
 * Returns false after exactly one log_error line ("guest kernel: Linux bzImage: ...").
 */
bool bzimage_parse(const void *image, size_t size, struct bzimage_kernel *out);

/*
 * The file may fall short of syssize * 16 by a little: signing tools rewrite the tail of the PE image that
 * a bzImage also is (Debian's 6.1 kernel is 64 bytes short). The compressed payload must be whole.
 */
#define BZ_SYSSIZE_SLACK 512u

/*
 * bzimage_place: choose k->load_addr in *map. [load, load + init_size) must lie in guest RAM (MEM_AVAILABLE
 * or MEM_BOOT ranges, contiguous), at or above 1 MiB and below 4 GiB. First choice pref_address; a
 * relocatable kernel otherwise goes to the lowest kernel_alignment-aligned place above pref_address
 * (Linux's head_32.S/head_64.S decompress at max(aligned load address, LOAD_PHYSICAL_ADDR), and
 * pref_address is LOAD_PHYSICAL_ADDR: a lower place would not be used as loaded). A kernel that is not
 * relocatable decompresses at pref_address whatever the load address, so it is placed there or refused.
 * Returns false after one log_error line.
 */
bool bzimage_place(struct bzimage_kernel *k, const struct memmap *map);

/* The load plan as one segment: the protected-mode kernel's bytes at load_addr, memsz = init_size. */
void bzimage_plan(const struct bzimage_kernel *k, struct guest_plan *out);

/* Exclusive end of where the initrd may lie: initrd_addr_max + 1 (4 GiB at most). */
uint64_t bzimage_initrd_limit(const struct bzimage_kernel *k);

/* How many E820 entries the map becomes (neighbours of one E820 type merged); at most BZ_E820_MAX fit. */
size_t bzimage_e820_count(const struct memmap *map);

/*
 * bzimage_build_info: write the boot information (layout above) into buf, which will lie at physical
 * buf_phys, and return its size; with buf NULL only the size is computed (it does not depend on the map).
 * boot_params: zeroed, the setup header copied from the file, then type_of_loader 0xFF, loadflags =
 * LOADED_HIGH only (QUIET, KEEP_SEGMENTS, CAN_USE_HEAP cleared), code32_start = load_addr, cmd_line_ptr,
 * ramdisk_image/size = b->modules[0] (the initrd) when there is one, setup_data 0, e820_table from b->map,
 * acpi_rsdp_addr (protocol 2.14+) = the RSDP copy, screen_info from b->fb. The command line is cut to
 * cmdline_size bytes (a log_warn line says so when buf is not NULL). *layout is filled in either case.
 * Needs: k placed (bzimage_place), buf_phys page-aligned and the block below 4 GiB, bzimage_e820_count(map)
 * <= BZ_E820_MAX (extra entries are dropped). Writes nothing past cap.
 */
size_t bzimage_build_info(const struct bzimage_kernel *k, const struct guest_boot *b, void *buf, size_t cap,
			  uint64_t buf_phys, struct bzimage_layout *layout);

#endif
