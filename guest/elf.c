/*
 * ELF executable validation (see elf.h). Every field is read byte by byte (little-endian) at an offset
 * already checked against the image size, so any input, aligned or not, gives one error line and never a
 * read outside the image. The 32- and 64-bit layouts differ only in field offsets and widths, which are
 * data (struct elf_layout), not code.
 */
#include "guest/elf.h"
#include "lib/fmt.h"
#include "lib/le.h"
#include "lib/log.h"
#include "lib/str.h"

/* e_ident (gABI "ELF Identification"). */
#define EI_NIDENT 16u
#define EI_CLASS 4u
#define EI_DATA 5u
#define EI_VERSION 6u
#define ELFMAG_SIZE 4u
#define ELFCLASS32 1u
#define ELFCLASS64 2u
#define ELFDATA2LSB 1u
#define EV_CURRENT 1u

/* ELF header fields common to both classes (gABI "ELF Header"). */
#define E_TYPE_OFF 16u
#define E_MACHINE_OFF 18u
#define E_VERSION_OFF 20u
#define ET_EXEC 2u
#define ET_DYN 3u
#define EM_386 3u
#define EM_X86_64 62u
#define PN_XNUM 0xffffu /* the real count is in section header 0: not supported */

/* Program header types (gABI "Program Header"). */
#define PT_LOAD 1u
#define PT_NOTE 4u

/* Note entry: namesz, descsz, type, then name and desc, each padded (gABI "Note Section"). */
#define NOTE_HEADER_SIZE 12u
#define NOTE_ALIGN_DEFAULT 4u
#define NOTE_ALIGN_WIDE 8u

#define ELF_DETAIL_MAX 320
#define ADDR_SPACE_32 (1ull << 32)

/* Where the fields are in one class: offsets into the ELF header and into one program header entry. */
struct elf_layout {
	unsigned bits;
	unsigned word; /* bytes of an address/offset field: 4 or 8 */
	uint16_t machine;
	uint32_t ehdr_size, e_entry, e_phoff, e_phentsize, e_phnum;
	uint32_t phdr_size, p_type, p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align;
};

static const struct elf_layout elf32_layout = {
	.bits = 32,
	.word = 4,
	.machine = EM_386,
	.ehdr_size = 52,
	.e_entry = 24,
	.e_phoff = 28,
	.e_phentsize = 42,
	.e_phnum = 44,
	.phdr_size = 32,
	.p_type = 0,
	.p_offset = 4,
	.p_vaddr = 8,
	.p_paddr = 12,
	.p_filesz = 16,
	.p_memsz = 20,
	.p_flags = 24,
	.p_align = 28,
};

static const struct elf_layout elf64_layout = {
	.bits = 64,
	.word = 8,
	.machine = EM_X86_64,
	.ehdr_size = 64,
	.e_entry = 24,
	.e_phoff = 32,
	.e_phentsize = 54,
	.e_phnum = 56,
	.phdr_size = 56,
	.p_type = 0,
	.p_flags = 4,
	.p_offset = 8,
	.p_vaddr = 16,
	.p_paddr = 24,
	.p_filesz = 32,
	.p_memsz = 40,
	.p_align = 48,
};

/* The decoded ELF header. */
struct elf_hdr {
	const struct elf_layout *l;
	uint16_t type;
	uint64_t entry, phoff;
	uint32_t phentsize, phnum;
};

/* One decoded program header. */
struct elf_phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

/* An address-sized field: 4 or 8 bytes. */
static uint64_t rdw(const uint8_t *p, unsigned word)
{
	return word == 4 ? le32_load(p) : (uint64_t)le32_load(p) | (uint64_t)le32_load(p + 4) << 32;
}

static bool elf_fail(bool quiet, const char *fmt, ...) PRINTF_LIKE(2, 3);

/* Print "guest kernel: <problem>" unless quiet. Returns false. */
static bool elf_fail(bool quiet, const char *fmt, ...)
{
	if (quiet)
		return false;
	char detail[ELF_DETAIL_MAX];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	log_error("guest kernel: %s", detail);
	return false;
}

bool elf_is_elf(const void *image, size_t size)
{
	return size >= ELFMAG_SIZE && memcmp(image, "\177ELF", ELFMAG_SIZE) == 0;
}

/*
 * Decode and check the ELF header and the program header table's bounds (everything except the
 * segments). Needs: size readable bytes at p. Returns false, after one error line unless quiet.
 */
static bool read_header(const uint8_t *p, size_t size, struct elf_hdr *h, bool quiet)
{
	if (!elf_is_elf(p, size) || size < EI_NIDENT)
		return elf_fail(quiet, "not an ELF file (no \\177ELF identification at offset 0)");
	if (p[EI_CLASS] != ELFCLASS32 && p[EI_CLASS] != ELFCLASS64)
		return elf_fail(quiet, "ELF class %u is neither ELFCLASS32 (1) nor ELFCLASS64 (2)",
				p[EI_CLASS]);
	if (p[EI_DATA] != ELFDATA2LSB)
		return elf_fail(
			quiet,
			"ELF data encoding %u is not little-endian (ELFDATA2LSB, 1): not an x86 kernel",
			p[EI_DATA]);
	if (p[EI_VERSION] != EV_CURRENT)
		return elf_fail(quiet, "ELF identification version %u is not EV_CURRENT (1)", p[EI_VERSION]);
	h->l = p[EI_CLASS] == ELFCLASS32 ? &elf32_layout : &elf64_layout;
	const struct elf_layout *l = h->l;
	if (size < l->ehdr_size)
		return elf_fail(quiet, "the %u-byte ELF%u header runs past the end of the %zu-byte module",
				l->ehdr_size, l->bits, size);
	h->type = le16_load(p + E_TYPE_OFF);
	if (h->type != ET_EXEC && h->type != ET_DYN)
		return elf_fail(
			quiet,
			"ELF type %u is not an executable (ET_EXEC 2 or ET_DYN 3); link the kernel as an executable",
			h->type);
	uint16_t machine = le16_load(p + E_MACHINE_OFF);
	if (machine != l->machine)
		return elf_fail(quiet, "ELF machine %u is not %s (%u), the x86 machine of an ELF%u file",
				machine, l->bits == 32 ? "EM_386" : "EM_X86_64", l->machine, l->bits);
	if (le32_load(p + E_VERSION_OFF) != EV_CURRENT)
		return elf_fail(quiet, "ELF version %u is not EV_CURRENT (1)", le32_load(p + E_VERSION_OFF));
	h->entry = rdw(p + l->e_entry, l->word);
	h->phoff = rdw(p + l->e_phoff, l->word);
	h->phentsize = le16_load(p + l->e_phentsize);
	h->phnum = le16_load(p + l->e_phnum);
	if (h->phnum == 0)
		return elf_fail(quiet, "the ELF file has no program headers: nothing to load");
	if (h->phnum == PN_XNUM)
		return elf_fail(
			quiet,
			"the ELF file has 65535 or more program headers (PN_XNUM); hapvisor does not support that");
	if (h->phentsize < l->phdr_size)
		return elf_fail(quiet, "program header entry size %u is smaller than %u, the ELF%u entry",
				h->phentsize, l->phdr_size, l->bits);
	uint64_t table = (uint64_t)h->phentsize * h->phnum; /* < 2^32: no overflow */
	if (h->phoff > size || table > size - h->phoff)
		return elf_fail(
			quiet,
			"program header table (offset 0x%llx, %u entries of %u bytes) runs past the end of the %zu-byte module",
			(unsigned long long)h->phoff, h->phnum, h->phentsize, size);
	return true;
}

/* Program header i. Needs: a header accepted by read_header() and i < h->phnum. */
static void read_phdr(const uint8_t *p, const struct elf_hdr *h, uint32_t i, struct elf_phdr *ph)
{
	const struct elf_layout *l = h->l;
	const uint8_t *e = p + h->phoff + (uint64_t)i * h->phentsize;
	ph->type = le32_load(e + l->p_type);
	ph->flags = le32_load(e + l->p_flags);
	ph->offset = rdw(e + l->p_offset, l->word);
	ph->vaddr = rdw(e + l->p_vaddr, l->word);
	ph->paddr = rdw(e + l->p_paddr, l->word);
	ph->filesz = rdw(e + l->p_filesz, l->word);
	ph->memsz = rdw(e + l->p_memsz, l->word);
	ph->align = rdw(e + l->p_align, l->word);
}

/* Check one PT_LOAD entry (memsz > 0) on its own: sizes, file bounds, address-space bounds. */
static bool check_load(const struct elf_phdr *ph, uint32_t i, size_t size, unsigned bits)
{
	if (ph->filesz > ph->memsz)
		return elf_fail(false,
				"program header %u: file size 0x%llx is larger than its memory size 0x%llx",
				i, (unsigned long long)ph->filesz, (unsigned long long)ph->memsz);
	if (ph->offset > size || ph->filesz > size - ph->offset)
		return elf_fail(
			false,
			"program header %u: file data (offset 0x%llx, 0x%llx bytes) runs past the end of the %zu-byte module",
			i, (unsigned long long)ph->offset, (unsigned long long)ph->filesz, size);
	bool wraps = bits == 32 ? ph->paddr + ph->memsz > ADDR_SPACE_32 : ph->paddr > UINT64_MAX - ph->memsz;
	if (wraps)
		return elf_fail(
			false,
			"program header %u: load range 0x%llx + 0x%llx bytes wraps around the %u-bit address space",
			i, (unsigned long long)ph->paddr, (unsigned long long)ph->memsz, bits);
	return true;
}

/* Whether [a, a + an) and [b, b + bn) share a byte. Needs: neither wraps. */
static bool ranges_overlap(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

bool elf_parse(const void *image, size_t size, struct elf_image *out)
{
	const uint8_t *p = image;
	struct elf_hdr h;

	memset(out, 0, sizeof(*out));
	if (!read_header(p, size, &h, false))
		return false;
	out->bits = h.l->bits;
	out->type = h.type;
	out->entry = h.entry;

	for (uint32_t i = 0; i < h.phnum; i++) {
		struct elf_phdr ph;
		read_phdr(p, &h, i, &ph);
		if (ph.type != PT_LOAD || (ph.memsz == 0 && ph.filesz == 0))
			continue;
		if (!check_load(&ph, i, size, out->bits))
			return false;
		for (size_t j = 0; j < out->segment_count; j++) {
			const struct elf_segment *o = &out->segments[j];
			if (ranges_overlap(ph.paddr, ph.memsz, o->paddr, o->memsz))
				return elf_fail(
					false,
					"program headers %u and %u overlap: [0x%llx, 0x%llx) and [0x%llx, 0x%llx)",
					o->phdr, i, (unsigned long long)o->paddr,
					(unsigned long long)(o->paddr + o->memsz),
					(unsigned long long)ph.paddr,
					(unsigned long long)(ph.paddr + ph.memsz));
		}
		if (out->segment_count == ELF_MAX_SEGMENTS)
			return elf_fail(false,
					"more than %d loadable (PT_LOAD) segments; hapvisor loads at most %d",
					ELF_MAX_SEGMENTS, ELF_MAX_SEGMENTS);
		out->segments[out->segment_count++] = (struct elf_segment){
			.paddr = ph.paddr,
			.vaddr = ph.vaddr,
			.offset = ph.offset,
			.filesz = ph.filesz,
			.memsz = ph.memsz,
			.flags = ph.flags,
			.phdr = i,
		};
	}
	if (out->segment_count == 0)
		return elf_fail(false, "the ELF file has no loadable (PT_LOAD) segment with a size");
	return true;
}

uint64_t elf_entry_paddr(const struct elf_image *elf)
{
	for (size_t i = 0; i < elf->segment_count; i++) {
		const struct elf_segment *s = &elf->segments[i];
		if (elf->entry >= s->vaddr && elf->entry - s->vaddr < s->memsz)
			return s->paddr + (elf->entry - s->vaddr);
	}
	return elf->entry;
}

/*
 * Whether the note area [p, p + n) holds the note (name, type). Each entry is a 12-byte header, the name
 * right after it, the descriptor at the next `align` boundary, the next entry at the one after that.
 */
/* Find the note (name, type) in the note area [p, p + n); its descriptor must lie inside the area too. */
static bool notes_find(const uint8_t *p, uint64_t n, uint64_t align, const char *name, uint32_t type,
		       const void **desc, uint32_t *desc_size)
{
	uint64_t name_len = strlen(name) + 1; /* n_namesz counts the NUL */
	uint64_t pos = 0;
	while (n - pos >= NOTE_HEADER_SIZE) { /* pos advances by at least NOTE_HEADER_SIZE each time */
		uint32_t namesz = le32_load(p + pos), descsz = le32_load(p + pos + 4),
			 ntype = le32_load(p + pos + 8);
		uint64_t name_off = pos + NOTE_HEADER_SIZE;
		if (namesz > n - name_off)
			return false;
		uint64_t desc_off = ALIGN_UP(name_off + namesz, align);
		if (desc_off > n || descsz > n - desc_off)
			return false;
		if (namesz == name_len && ntype == type && memcmp(p + name_off, name, name_len) == 0) {
			*desc = p + desc_off;
			*desc_size = descsz;
			return true;
		}
		pos = ALIGN_UP(desc_off + descsz, align);
		if (pos >= n)
			return false;
	}
	return false;
}

bool elf_find_note(const void *image, size_t size, const char *name, uint32_t type, const void **desc,
		   uint32_t *desc_size)
{
	const uint8_t *p = image;
	struct elf_hdr h;
	if (!read_header(p, size, &h, true))
		return false;
	for (uint32_t i = 0; i < h.phnum; i++) {
		struct elf_phdr ph;
		read_phdr(p, &h, i, &ph);
		if (ph.type != PT_NOTE || ph.offset > size || ph.filesz > size - ph.offset)
			continue;
		uint64_t align = ph.align == NOTE_ALIGN_WIDE ? NOTE_ALIGN_WIDE : NOTE_ALIGN_DEFAULT;
		if (notes_find(p + ph.offset, ph.filesz, align, name, type, desc, desc_size))
			return true;
	}
	return false;
}

bool elf_has_note(const void *image, size_t size, const char *name, uint32_t type)
{
	const void *desc;
	uint32_t desc_size;
	return elf_find_note(image, size, name, type, &desc, &desc_size);
}
