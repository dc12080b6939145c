/* PVH boot: the kernel's ELF note and struct hvm_start_info (see pvh.h). Pure: host-testable. */
#include "guest/pvh.h"
#include "guest/elf.h"
#include "guest/mb2.h" /* MB2_MAX_MODULES */
#include "lib/byte_writer.h"
#include "lib/log.h"
#include "lib/str.h"

/* Xen public/arch-x86/hvm/start_info.h, version 1. */
struct PACKED hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries;
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info layout (start_info.h)");

struct PACKED hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "hvm_modlist_entry layout");

struct PACKED hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type; /* XEN_HVM_MEMMAP_TYPE_*: the E820 numbers, as guest_e820_type() gives them */
	uint32_t reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry layout");

#define PVH_RSDP_ALIGN 16    /* the RSDP copy, as ACPI 6.5 5.2.5.1 places the original */
#define PVH_ENTRY_NOTE_MIN 4 /* the note holds a 32-bit (or 64-bit, low half used) physical address */

bool pvh_parse(const void *image, size_t size, struct guest_plan *out)
{
	struct elf_image elf;
	const void *desc;
	uint32_t desc_size;
	if (!elf_parse(image, size, &elf))
		return false;
	if (!elf_find_note(image, size, XEN_ELFNOTE_NAME, XEN_ELFNOTE_PHYS32_ENTRY, &desc, &desc_size) ||
	    desc_size < PVH_ENTRY_NOTE_MIN) {
		log_error(
			"guest kernel: the PVH entry note (\"Xen\", type 18) is missing or shorter than 4 bytes");
		return false;
	}
	uint32_t entry;
	memcpy(&entry, desc, sizeof(entry));
	memset(out, 0, sizeof(*out));
	out->entry = entry;
	out->elf_bits = elf.bits;
	out->load_base = UINT32_MAX;
	bool entry_inside = false;
	for (size_t i = 0; i < elf.segment_count; i++) {
		const struct elf_segment *s = &elf.segments[i];
		if (s->paddr + s->memsz > (1ull << 32)) {
			log_error(
				"guest kernel: program header %u loads at [0x%llx, 0x%llx), above 4 GiB; a PVH kernel loads below 4 GiB",
				s->phdr, (unsigned long long)s->paddr,
				(unsigned long long)(s->paddr + s->memsz));
			return false;
		}
		out->segments[out->segment_count++] = (struct guest_segment){.paddr = s->paddr,
									     .offset = s->offset,
									     .filesz = s->filesz,
									     .memsz = s->memsz,
									     .phdr = s->phdr};
		out->load_base = MIN(out->load_base, (uint32_t)s->paddr);
		entry_inside |= entry >= s->paddr && entry < s->paddr + s->memsz;
	}
	if (!entry_inside) {
		log_error("guest kernel: the PVH entry point 0x%x lies in no loadable segment", entry);
		return false;
	}
	return true;
}

/* The map as E820-typed entries, neighbours of one type merged, appended to w. Returns how many. */
static uint32_t put_memmap(struct byte_writer *w, const struct memmap *map)
{
	uint32_t n = 0;
	struct hvm_memmap_table_entry cur = {0};
	for (size_t i = 0; i < map->count; i++) {
		const struct mem_range *r = &map->ranges[i];
		uint32_t type = guest_e820_type(r->type);
		if (n && cur.type == type && cur.addr + cur.size == r->base) {
			cur.size += r->size;
			continue;
		}
		if (n)
			bw_bytes(w, &cur, sizeof(cur));
		cur = (struct hvm_memmap_table_entry){r->base, r->size, type, 0};
		n++;
	}
	if (n)
		bw_bytes(w, &cur, sizeof(cur));
	return n;
}

size_t pvh_build_info(const struct guest_boot *b, void *buf, size_t cap, uint64_t buf_phys)
{
	struct byte_writer w = byte_writer_init(buf, cap);
	struct hvm_start_info si = {
		.magic = PVH_START_INFO_MAGIC,
		.version = PVH_START_INFO_VERSION,
		.nr_modules = (uint32_t)b->module_count,
	};
	size_t si_at = bw_bytes(&w, &si, sizeof(si));

	struct hvm_modlist_entry mods[MB2_MAX_MODULES];
	size_t mods_at = w.len;
	bw_zeros(&w, b->module_count * sizeof(struct hvm_modlist_entry)); /* written at the end */

	size_t map_at = w.len;
	si.memmap_entries = put_memmap(&w, b->map);
	si.memmap_paddr = buf_phys + map_at;
	si.modlist_paddr = b->module_count ? buf_phys + mods_at : 0;

	if (b->rsdp) { /* a copy of the RSDP: it names the RSDT/XSDT, which stay where the firmware put them
			*/
		bw_align(&w, PVH_RSDP_ALIGN);
		si.rsdp_paddr = buf_phys + bw_bytes(&w, b->rsdp, b->rsdp_len);
	}
	si.cmdline_paddr = buf_phys + bw_str(&w, b->cmdline);
	for (size_t i = 0; i < b->module_count; i++) {
		const struct guest_module *m = &b->modules[i];
		mods[i] = (struct hvm_modlist_entry){m->start, (uint64_t)m->end - m->start, 0, 0};
		mods[i].cmdline_paddr = buf_phys + bw_str(&w, m->string);
	}
	if (w.len <= w.cap) { /* everything fits: the start info and module list, now complete */
		bw_patch(&w, si_at, &si, sizeof(si));
		bw_patch(&w, mods_at, mods, b->module_count * sizeof(struct hvm_modlist_entry));
	}
	return w.len;
}

/* ---- the format (guest/format.h) ---- */

static bool probe(const void *image, size_t size)
{
	return elf_has_note(image, size, XEN_ELFNOTE_NAME, XEN_ELFNOTE_PHYS32_ENTRY);
}

static bool parse(const void *image, size_t size, const struct memmap *map, struct guest_plan *plan)
{
	return pvh_parse(image, size, plan);
}

static size_t build_info(const struct guest_plan *plan, const struct guest_boot *b, void *buf, size_t cap,
			 uint64_t buf_phys)
{
	return pvh_build_info(b, buf, cap, buf_phys);
}

/* The PVH boot ABI: EBX the physical address of struct hvm_start_info. */
static void entry(const struct guest_plan *plan, uint64_t info_phys, struct guest_entry_state *out)
{
	*out = (struct guest_entry_state){.eip = plan->entry, .ebx = (uint32_t)info_phys};
}

const struct guest_format_ops guest_format_pvh = {
	.format = GUEST_FORMAT_LINUX_PVH,
	.name = "linux-pvh",
	.probe = probe,
	.parse = parse,
	.segment_name = guest_segment_name,
	.build_info = build_info,
	.entry = entry,
	.zero_bss = true,
};
