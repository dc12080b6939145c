/*
 * What every guest kernel format gives the loader (guest/loader.c), Linux's struct linux_binfmt for
 * hapvisor's guests: one struct guest_format_ops per format (Multiboot2, Multiboot1, Linux bzImage, Linux
 * PVH), listed once in the loader's table. The loader runs the same three phases for all of them (copy
 * what it still needs, validate and plan, then move and copy, docs/guests.md); a format only answers:
 * is this mine (probe), where do its segments go and where is it entered (parse), what boot information
 * does it get (build_info), and in which state does the guest start (entry).
 *
 * Adding a format: a file guest/NAME.c with its parser and boot information, its ops (below), and one
 * row in the loader's formats[] (guest/loader.c); docs/guests.md, a unit test and a lane.
 */
#ifndef HV_GUEST_FORMAT_H
#define HV_GUEST_FORMAT_H

#include "arch/x86/framebuffer.h"
#include "guest/elf.h"
#include "lib/types.h"
#include "mm/memmap.h"

#define GUEST_MODULE_ALIGN PAGE_SIZE /* modules passed to a guest always start on a page */
#define GUEST_MAX_SEGMENTS ELF_MAX_SEGMENTS
#define GUEST_SEGMENT_NO_PHDR                                                                                \
	UINT32_MAX		/* guest_segment.phdr of a segment not from an ELF program header            \
				 */
#define GUEST_NAME_MAX 48	/* a segment's name for messages (ops->segment_name), NUL included */
#define GUEST_ADDR_LIMIT GiB(4) /* the 32-bit entry protocols: everything the guest is given is below */

/* E820 memory types (ACPI 6.5 15.1), which the Multiboot1/2 and PVH memory maps use too. */
#define E820_RAM 1u
#define E820_RESERVED 2u
#define E820_ACPI 3u
#define E820_NVS 4u
#define E820_UNUSABLE 5u

/* The E820 type of a range of the guest's memory map: its RAM (MEM_BOOT included) is E820_RAM. */
uint32_t guest_e820_type(enum mem_type type);

/* One range to load: filesz bytes from the kernel file at offset, then zeros up to memsz, at paddr. */
struct guest_segment {
	uint64_t paddr;	 /* physical load address, below 4 GiB */
	uint64_t offset; /* of the file data in the kernel file */
	uint64_t filesz;
	uint64_t memsz; /* > 0, >= filesz */
	uint32_t phdr;	/* ELF program header index, or GUEST_SEGMENT_NO_PHDR */
};

enum multiboot_version { MULTIBOOT_NONE, MULTIBOOT_1, MULTIBOOT_2 };

/*
 * A validated kernel's load plan, what every format's parse() produces: where each segment of the kernel
 * file goes, and where the kernel is entered. `mb` is what a Multiboot header said that the Multiboot boot
 * information needs (guest/multiboot_header.c); it stays zero for the other formats.
 */
struct guest_plan {
	uint32_t entry;					   /* physical entry point, inside a segment */
	unsigned elf_bits;				   /* 32 or 64 when loaded as ELF, else 0 */
	uint32_t load_base;				   /* lowest segment address */
	size_t segment_count;				   /* >= 1 */
	struct guest_segment segments[GUEST_MAX_SEGMENTS]; /* disjoint */
	struct {
		enum multiboot_version version;
		uint32_t header_offset; /* of the header in the kernel file */
		bool aout;		/* loaded by the header's address fields (a.out kludge), not as ELF */
		uint32_t mb1_flags;	/* Multiboot1: the header's flags */
		bool mb2_relocatable; /* Multiboot2: relocatable tag seen; the load base address tag is given
				       */
	} mb;
};

/* A module passed on to the guest, at its final address. */
struct guest_module {
	uint32_t start, end; /* physical; end exclusive */
	const char *string;  /* NUL-terminated, "" when empty */
};

/* Everything the boot information describes, besides the kernel itself. */
struct guest_boot {
	const char *cmdline;	  /* the guest's command line */
	const struct memmap *map; /* the guest's memory map (MEM_BOOT and MEM_AVAILABLE are given as RAM) */
	const struct guest_module *modules;
	size_t module_count;
	const uint8_t *rsdp; /* NULL, or a copy of the RSDP: 20 bytes (revision 1) or 36 (revision 2) */
	size_t rsdp_len;
	int rsdp_revision;	      /* 0 none, 1 ACPI 1.0, 2 ACPI 2.0+ (as struct mb2_info) */
	const struct framebuffer *fb; /* NULL when there is none */
	bool efi64; /* booted by 64-bit UEFI: pass the system table (boot services are gone) */
	uint64_t efi_system_table;
};

/*
 * How the guest's boot processor starts. The VMX core sets the rest: CS a flat 32-bit code segment (base 0,
 * limit 4 GiB - 1), DS/ES/FS/GS/SS flat 32-bit data segments, CR0.PE = 1 and CR0.PG = 0, EFLAGS.VM = 0 and
 * IF = 0, A20 on, ESP = 0, the other general registers 0, IDTR base 0 limit 0xFFFF.
 * - Multiboot (Multiboot2 3.3, Multiboot1 3.2) and PVH: EAX/EBX as below; selectors and GDTR left 0, which
 *   means the defaults CS = 0x08, DS = ES = FS = GS = SS = 0x10, GDTR base 0 limit 0xFFFF (the kernel loads
 *   its own GDT before it reloads a segment register).
 * - bzImage (boot.rst "32-bit BOOT PROTOCOL"): ESI = boot_params, CS = __BOOT_CS 0x10, the data segments
 *   __BOOT_DS 0x18, GDTR = a GDT in the boot information that holds those descriptors; EAX = EBX = 0.
 */
struct guest_entry_state {
	uint32_t eip;	     /* the entry point (physical; paging is off) */
	uint32_t eax;	     /* MB2_BOOTLOADER_MAGIC, MB1_BOOTLOADER_MAGIC, or 0 */
	uint32_t ebx;	     /* Multiboot, PVH: physical address of the boot information; bzImage: 0 */
	uint32_t esi;	     /* bzImage: physical address of struct boot_params; else 0 */
	uint16_t cs_sel;     /* 0: 0x08 */
	uint16_t ds_sel;     /* DS, ES, FS, GS, SS; 0: 0x10 */
	uint32_t gdtr_base;  /* with gdtr_limit 0: base 0 */
	uint16_t gdtr_limit; /* 0: limit 0xFFFF and base 0 (no GDT given) */
};

/* Kernel formats guest_probe() recognizes; guest_load() loads them all. */
enum guest_format {
	GUEST_FORMAT_UNKNOWN,
	GUEST_FORMAT_MB2,	    /* a Multiboot2 header in the first 32 KiB */
	GUEST_FORMAT_MB1,	    /* a Multiboot1 header in the first 8 KiB */
	GUEST_FORMAT_LINUX_BZIMAGE, /* Linux x86 boot protocol ("HdrS"), entered by its 32-bit entry */
	GUEST_FORMAT_LINUX_PVH,	    /* ELF with a XEN_ELFNOTE_PHYS32_ENTRY note (PVH entry) */
};

/*
 * One guest kernel format. Every function is pure but parse()'s log lines (it reads the image and the
 * caller's structures, writes only the caller's), so each runs in the host unit tests. Optional members
 * may be NULL.
 */
struct guest_format_ops {
	enum guest_format format;
	const char *name; /* the event's format= ("mb2", "linux-bzimage") */
	/* Is [image, image + size) of this format? Silent. The loader asks each format in table order. */
	bool (*probe)(const void *image, size_t size);
	/*
	 * Validate the image and fill *plan: segments and entry. map is the guest's memory map (a format that
	 * chooses its own load address, bzImage, places itself there). Refusal: false after exactly one
	 * log_error line ("guest kernel: ...").
	 */
	bool (*parse)(const void *image, size_t size, const struct memmap *map, struct guest_plan *plan);
	/* A segment's name for messages: "segment 1 (program header 3)". */
	void (*segment_name)(const struct guest_plan *plan, size_t i, char *buf, size_t n);
	/* Optional: the exclusive end below which passed module i (1 = the first after the kernel) must lie;
	 * NULL: GUEST_ADDR_LIMIT. */
	uint64_t (*module_limit)(const struct guest_plan *plan, size_t i);
	/*
	 * The boot information into buf, which will lie at physical buf_phys (page-aligned, below 4 GiB); its
	 * size in bytes. buf NULL (cap 0): only the size. Nothing is written past cap.
	 */
	size_t (*build_info)(const struct guest_plan *plan, const struct guest_boot *b, void *buf, size_t cap,
			     uint64_t buf_phys);
	/*
	 * Optional: once the boot information has a place, record in *recorded (the guest's map to be) what
	 * the format needs typed there, and check what it needs of the map. False after one log_error line.
	 */
	bool (*placed)(const struct guest_plan *plan, const struct guest_boot *b, uint64_t info_phys,
		       struct memmap *recorded);
	/* The entry state (struct guest_entry_state), the boot information at info_phys. */
	void (*entry)(const struct guest_plan *plan, uint64_t info_phys, struct guest_entry_state *out);
	bool zero_bss; /* zero each segment's memsz beyond filesz (not a bzImage's: the decompressor's room)
			*/
};

/* Each format's ops (guest/multiboot_header.c, guest/bzimage.c, guest/pvh.c). */
extern const struct guest_format_ops guest_format_mb2, guest_format_mb1, guest_format_bzimage,
	guest_format_pvh;

/* "segment 1 (program header 3)", or "segment 0 (the header's address fields)" for a non-ELF segment. */
void guest_segment_name(const struct guest_plan *plan, size_t i, char *buf, size_t n);

/*
 * guest_map_mark: [base, base + size), grown to whole pages, becomes `type` in map (memmap_set). False after
 * one log_error line when the map is full. For the loader and the formats' placed().
 */
bool guest_map_mark(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type);

#endif
