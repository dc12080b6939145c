/*
 * ELF executables held in memory: validation and the list of loadable segments (System V gABI, "ELF
 * Header" and "Program Header"; ELF-64 Object File Format 1.5). Little-endian x86 only: ELFCLASS32 with
 * EM_386, ELFCLASS64 with EM_X86_64. Pure: reads only the bytes it is given, writes nothing but *out.
 *
 * Load addresses are the segments' p_paddr (the Multiboot convention: GRUB loads each PT_LOAD segment at
 * its physical address and ignores p_vaddr, except to translate the entry point).
 */
#ifndef HV_GUEST_ELF_H
#define HV_GUEST_ELF_H

#include "lib/types.h"

#define ELF_MAX_SEGMENTS 16 /* PT_LOAD segments with p_memsz > 0 that hapvisor loads */

struct elf_segment {
	uint64_t paddr;	 /* load address: p_paddr */
	uint64_t vaddr;	 /* p_vaddr, only used to translate the entry point */
	uint64_t offset; /* p_offset: where its file data starts in the image */
	uint64_t filesz; /* bytes copied from the image */
	uint64_t memsz;	 /* bytes occupied at paddr (>= filesz, > 0); the rest is zeroed */
	uint32_t flags;	 /* p_flags (PF_X, PF_W, PF_R) */
	uint32_t phdr;	 /* its index in the program header table, for messages */
};

struct elf_image {
	unsigned bits;	/* 32 or 64 */
	uint16_t type;	/* e_type: ET_EXEC or ET_DYN */
	uint64_t entry; /* e_entry, a virtual address */
	size_t segment_count;
	struct elf_segment segments[ELF_MAX_SEGMENTS]; /* in program header order */
};

/* True when the image starts with the ELF magic (\x7fELF); says nothing about its validity. */
bool elf_is_elf(const void *image, size_t size);

/*
 * elf_parse: validate the ELF executable in [image, image + size) and list its loadable segments.
 * Checks: the identification (magic, class, little-endian, version), e_type ET_EXEC or ET_DYN, e_machine
 * matching the class, a program header table that lies inside the image, and for every PT_LOAD entry
 * with p_memsz > 0: its file data inside the image, p_filesz <= p_memsz, [p_paddr, p_paddr + p_memsz)
 * not wrapping the address space (32 bits for ELFCLASS32), and no overlap with another such segment.
 * Needs: size readable bytes at image (any alignment). Returns false after exactly one log_error line
 * ("guest kernel: ...") naming the problem; *out is then unspecified.
 */
bool elf_parse(const void *image, size_t size, struct elf_image *out);

/*
 * elf_entry_paddr: the physical entry address. When e_entry lies inside a segment's virtual range it is
 * translated to that segment's physical range (what GRUB does for higher-half kernels); otherwise e_entry
 * is taken as physical. Needs: *elf from a successful elf_parse().
 */
uint64_t elf_entry_paddr(const struct elf_image *elf);

/*
 * elf_has_note: whether a PT_NOTE segment of the image holds a note with this name (without its NUL) and
 * type (gABI "Note Section"). Silent and tolerant: a malformed image or note area just gives false.
 */
bool elf_has_note(const void *image, size_t size, const char *name, uint32_t type);

/*
 * elf_find_note: like elf_has_note, and on success *desc / *desc_size give the note's descriptor, which
 * lies wholly inside the image.
 */
bool elf_find_note(const void *image, size_t size, const char *name, uint32_t type, const void **desc,
		   uint32_t *desc_size);

#endif
