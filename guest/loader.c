/*
 * Loading the guest kernel (see loader.h). Two phases: everything that can fail (format, validation,
 * placement) works on copies and plans, and only then does the copying phase touch guest memory. Its
 * state is static: guest_load() runs once, at boot, on the boot processor.
 */
#include "guest/loader.h"
#include "guest/elf.h"
#include "guest/acpi.h"
#include "guest/format.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/str.h"
#include "mm/phys.h"

#define GUEST_LOW_MEMORY MiB(1)	       /* kept free of modules: guests use low memory */
#define GUEST_FIRST_PAGE_END PAGE_SIZE /* page 0: unmapped in hapvisor, never loaded */
/*
 * The boot information goes into conventional memory, below the EBDA and the legacy video and ROM ranges:
 * every kernel can read it before it builds its own page tables (see place_boot_info()).
 */
#define GUEST_INFO_LIMIT KiB(640)
#define GUEST_STRINGS_MAX 16384u
#define GUEST_RSDP_MAX 36u /* the ACPI 2.0+ RSDP (ACPI 6.5 5.2.5.3) */

/* The formats, in the order guest_probe() asks them: a Multiboot2 header before a Multiboot1 one (as
 * multiboot_find_header() prefers it), Multiboot before the Linux formats. */
static const struct guest_format_ops *const formats[] = {
	&guest_format_mb2,
	&guest_format_mb1,
	&guest_format_bzimage,
	&guest_format_pvh,
};

/* What guest_load() still needs from hapvisor's Multiboot2 information, copied into hapvisor's memory. */
struct guest_snapshot {
	char strings[GUEST_STRINGS_MAX];
	size_t strings_used;
	struct guest_module modules[MB2_MAX_MODULES]; /* where GRUB put them; [0] is the kernel file */
	size_t module_count;
	uint8_t rsdp[GUEST_RSDP_MAX];
	size_t rsdp_len;
	int rsdp_revision;
	bool have_fb;
	struct framebuffer fb;
	bool efi64;
	uint64_t efi_system_table;
	uint64_t info_base, info_size; /* hapvisor's own information block: kept clear of new placements */
};

/* Every placement, decided before anything moves. */
struct guest_placement {
	uint64_t module_dest[MB2_MAX_MODULES];	     /* final places; [0] is the kernel file's */
	struct guest_module passed[MB2_MAX_MODULES]; /* modules 1.. at their final places */
	size_t passed_count;
	uint64_t info_phys;
	size_t info_size;
	uint64_t info_span; /* info_size rounded up to pages */
	struct guest_boot boot;
	struct guest_acpi acpi; /* the guest's ACPI table copies (guest/acpi.h); acpi.size 0: none */
	uint64_t acpi_phys;
};

static struct guest_snapshot snap;
static const struct guest_format_ops *fmt; /* module 0's format */
static struct guest_plan kernel;
static struct guest_placement place;
static struct guest_cpus guest_cpus; /* guest_load()'s argument: the processors the guest may use */
static struct memmap placement;	     /* scratch: the guest map with everything in use marked reserved */
static struct memmap recorded;	     /* the guest map plus the guest's boot data (MEM_BOOT) */

static const struct guest_format_ops *format_of(const void *image, size_t size)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i]->probe(image, size))
			return formats[i];
	return NULL;
}

enum guest_format guest_probe(const void *image, size_t size)
{
	const struct guest_format_ops *f = format_of(image, size);
	return f ? f->format : GUEST_FORMAT_UNKNOWN;
}

const char *guest_format_name(enum guest_format format)
{
	for (size_t i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i]->format == format)
			return formats[i]->name;
	return "unknown";
}

uint32_t guest_e820_type(enum mem_type type)
{
	switch (type) {
	case MEM_AVAILABLE:
	case MEM_BOOT: /* boot data the guest reads, in RAM that is the guest's (like GRUB's own) */
		return E820_RAM;
	case MEM_ACPI_RECLAIMABLE:
		return E820_ACPI;
	case MEM_ACPI_NVS:
		return E820_NVS;
	case MEM_BAD:
		return E820_UNUSABLE;
	case MEM_RESERVED:
	case MEM_HAPVISOR: /* hapvisor's region: never the guest's */
	default:
		return E820_RESERVED;
	}
}

void guest_segment_name(const struct guest_plan *plan, size_t i, char *buf, size_t n)
{
	const struct guest_segment *s = &plan->segments[i];
	if (s->phdr == GUEST_SEGMENT_NO_PHDR)
		fmt_snprintf(buf, n, "segment %zu (the header's address fields)", i);
	else
		fmt_snprintf(buf, n, "segment %zu (program header %u)", i, s->phdr);
}

/* ---- phase 1: copy what is still needed out of hapvisor's Multiboot2 information -------------------- */

/* A copy of s in the snapshot's string pool, or NULL when the pool is full. */
static const char *keep_string(const char *s)
{
	size_t n = strlen(s) + 1;
	if (n > GUEST_STRINGS_MAX - snap.strings_used)
		return NULL;
	char *copy = snap.strings + snap.strings_used;
	memcpy(copy, s, n);
	snap.strings_used += n;
	return copy;
}

static bool take_snapshot(const struct mb2_info *hv)
{
	memset(&snap, 0, sizeof(snap));
	snap.module_count = hv->module_count;
	for (size_t i = 0; i < hv->module_count; i++) {
		const struct mb2_module *m = &hv->modules[i];
		const char *s = keep_string(m->string);
		if (!s) {
			log_error(
				"the guest's command line and module strings take more than %u bytes; shorten the module2 lines in grub.cfg",
				GUEST_STRINGS_MAX);
			return false;
		}
		snap.modules[i] = (struct guest_module){.start = m->start, .end = m->end, .string = s};
	}
	if (hv->rsdp && hv->rsdp_revision > 0) {
		snap.rsdp_len = MIN(hv->rsdp_len, (size_t)GUEST_RSDP_MAX);
		memcpy(snap.rsdp, hv->rsdp, snap.rsdp_len);
		snap.rsdp_revision = hv->rsdp_revision;
	}
	snap.have_fb = hv->have_framebuffer;
	snap.fb = hv->fb;
	snap.efi64 = hv->efi_boot;
	snap.efi_system_table = hv->efi_system_table;
	if (hv->base && hv->total_size) {
		snap.info_base = virt_to_phys(hv->base);
		snap.info_size = hv->total_size;
	}
	return true;
}

/* ---- phase 2: validate and plan ------------------------------------------------------------------- */

/* The kernel file: module 0 must hold a kernel of a format hapvisor loads (fmt). */
static bool check_format(const void *image, size_t size, const char *string)
{
	fmt = format_of(image, size);
	if (!fmt && elf_is_elf(image, size)) { /* the usual case: a vmlinux built without CONFIG_PVH */
		log_error(
			"module 0 (%s, %zu bytes) is an ELF file with neither a PVH entry note nor a Multiboot header, so hapvisor cannot enter it: a Linux vmlinux built without CONFIG_PVH (Debian's 32-bit non-PAE 686 kernel is one) boots from its bzImage, the /boot/vmlinuz-* file (docs/guests.md)",
			string, size);
		return false;
	}
	if (!fmt) {
		log_error(
			"module 0 (%s, %zu bytes) is not a kernel hapvisor can boot: no Multiboot1 or Multiboot2 header in its first 32 KiB, no Linux bzImage setup header, no ELF PVH entry note; the first module2 line must name the kernel (docs/guests.md)",
			string, size);
		return false;
	}
	return true;
}

/*
 * Every segment lies in RAM the guest owns (MEM_AVAILABLE or MEM_BOOT): not hapvisor's, not a hole, and
 * not page 0, which hapvisor's own page tables leave unmapped (arch/x86/paging.c) so it cannot copy there.
 */
static bool check_segments(const struct memmap *map)
{
	char name[GUEST_NAME_MAX];
	for (size_t i = 0; i < kernel.segment_count; i++) {
		const struct guest_segment *s = &kernel.segments[i];
		uint64_t addr = s->paddr, end = s->paddr + s->memsz;
		fmt->segment_name(&kernel, i, name, sizeof(name));
		if (addr < GUEST_FIRST_PAGE_END) {
			log_error(
				"guest kernel: %s [0x%llx, 0x%llx) covers page 0, which hapvisor keeps unmapped (it is the real-mode interrupt vector table); link the kernel higher (usually at 1 MiB)",
				name, (unsigned long long)s->paddr, (unsigned long long)end);
			return false;
		}
		while (addr < end) { /* each step moves to a later range of the map */
			const struct mem_range *r = memmap_lookup(map, addr);
			if (!r) {
				log_error(
					"guest kernel: %s [0x%llx, 0x%llx) is not in RAM: address 0x%llx is in no range of the memory map; link the kernel to load into available RAM",
					name, (unsigned long long)s->paddr, (unsigned long long)end,
					(unsigned long long)addr);
				return false;
			}
			if (r->type == MEM_HAPVISOR) {
				log_error(
					"guest kernel: %s [0x%llx, 0x%llx) overlaps hapvisor's region [0x%llx, 0x%llx) at the top of RAM below 4 GiB; boot with a smaller hvmem=, give the machine more memory, or link the kernel lower",
					name, (unsigned long long)s->paddr, (unsigned long long)end,
					(unsigned long long)r->base, (unsigned long long)(r->base + r->size));
				return false;
			}
			if (r->type != MEM_AVAILABLE && r->type != MEM_BOOT) {
				log_error(
					"guest kernel: %s [0x%llx, 0x%llx) overlaps [0x%llx, 0x%llx), which is %s memory, not available RAM; link the kernel to load into available RAM (see the event=memmap map=guest lines)",
					name, (unsigned long long)s->paddr, (unsigned long long)end,
					(unsigned long long)r->base, (unsigned long long)(r->base + r->size),
					mem_type_name(r->type));
				return false;
			}
			addr = r->base + r->size;
		}
	}
	return true;
}

/* Whether [base, base + size) shares a byte with a segment's destination. */
static bool overlaps_segments(uint64_t base, uint64_t size)
{
	for (size_t i = 0; i < kernel.segment_count; i++) {
		const struct guest_segment *s = &kernel.segments[i];
		if (base < s->paddr + s->memsz && s->paddr < base + size)
			return true;
	}
	return false;
}

bool guest_map_mark(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type)
{
	if (size == 0)
		return true;
	uint64_t lo = ALIGN_DOWN(base, PAGE_SIZE), hi = ALIGN_UP(base + size, PAGE_SIZE);
	if (memmap_set(map, lo, hi - lo, type))
		return true;
	log_error(
		"the guest memory map is too fragmented (more than %d ranges) to place the guest's modules and boot information",
		MEMMAP_MAX);
	return false;
}

/* The exclusive end below which module i must lie: below 4 GiB, or lower where the format says. */
static uint64_t module_limit(size_t i)
{
	return fmt->module_limit ? MIN(fmt->module_limit(&kernel, i), GUEST_ADDR_LIMIT) : GUEST_ADDR_LIMIT;
}

/* Why module i must move before the segments are copied, or NULL when it may stay. */
static const char *move_reason(size_t i)
{
	const struct guest_module *m = &snap.modules[i];
	uint64_t size = m->end - m->start;
	if (overlaps_segments(m->start, MAX(size, 1)))
		return "it overlaps the kernel's segments";
	if (m->start < GUEST_LOW_MEMORY)
		return "it lies in the first MiB";
	if (i > 0 && !IS_ALIGNED(m->start, GUEST_MODULE_ALIGN))
		return "it is not page-aligned";
	if (m->end > module_limit(i))
		return "the Linux initrd must end by the kernel's initrd_addr_max"; /* bzImage's module_limit
										     */
	return NULL;
}

/*
 * Decide where every module ends up: in place, or moved to the highest free pages below 4 GiB that
 * overlap no segment, no module, not the first MiB and not hapvisor's information block. `placement` is
 * left with all of those (and page 0) reserved, for place_boot_info().
 */
static bool plan_modules(const struct memmap *guest_map)
{
	placement = *guest_map;
	if (!guest_map_mark(&placement, 0, GUEST_FIRST_PAGE_END, MEM_RESERVED) ||
	    !guest_map_mark(&placement, snap.info_base, snap.info_size, MEM_RESERVED))
		return false;
	for (size_t i = 0; i < kernel.segment_count; i++) {
		if (!guest_map_mark(&placement, kernel.segments[i].paddr, kernel.segments[i].memsz,
				    MEM_RESERVED))
			return false;
	}
	for (size_t i = 0; i < snap.module_count; i++) {
		if (!guest_map_mark(&placement, snap.modules[i].start,
				    snap.modules[i].end - snap.modules[i].start, MEM_RESERVED))
			return false;
	}
	for (size_t i = 0; i < snap.module_count; i++) {
		const struct guest_module *m = &snap.modules[i];
		uint64_t size = m->end - m->start, span = ALIGN_UP(MAX(size, 1), (uint64_t)PAGE_SIZE);
		const char *why = move_reason(i);
		place.module_dest[i] = m->start;
		if (!why)
			continue;
		uint64_t limit = module_limit(i);
		if (!memmap_find_top(&placement, span, GUEST_MODULE_ALIGN, GUEST_LOW_MEMORY, limit,
				     &place.module_dest[i])) {
			char below[24] = "4 GiB";
			if (limit != GUEST_ADDR_LIMIT)
				fmt_snprintf(below, sizeof(below), "0x%llx", (unsigned long long)limit);
			log_error(
				"no free RAM below %s to move module %zu (%s, %llu bytes), which must move because %s; use smaller modules or give the machine more memory",
				below, i, m->string, (unsigned long long)size, why);
			return false;
		}
		if (!guest_map_mark(&placement, place.module_dest[i], span, MEM_RESERVED))
			return false;
		log_info("module %zu (%s, %llu bytes) moves from 0x%x to 0x%llx: %s", i, m->string,
			 (unsigned long long)size, m->start, (unsigned long long)place.module_dest[i], why);
	}
	return true;
}

/* The boot information of the kernel's format; buf NULL: only its size. */
static size_t build_info(void *buf, size_t cap, uint64_t phys)
{
	return fmt->build_info(&kernel, &place.boot, buf, cap, phys);
}

/*
 * Where the boot information goes: the highest free pages of conventional memory (page 1 up to 640 KiB),
 * as GRUB places a Linux zero page and QEMU its PVH start info. A kernel reads it before its own page tables
 * cover much: 32-bit Linux through PVH reads the memory map at __va() of its address with only its image
 * and a little beyond mapped (from physical 0), 64-bit Linux through PVH with the first GiB mapped, and a
 * Multiboot kernel often with only its first MiBs identity-mapped; all of them map low memory. Only when
 * conventional memory is full (a firmware map that leaves none free) does it go to the highest free pages
 * below 4 GiB, with a warning that names the kernels that cannot read it there.
 */
static bool place_boot_info(void)
{
	if (memmap_find_top(&placement, place.info_span, PAGE_SIZE, GUEST_FIRST_PAGE_END, GUEST_INFO_LIMIT,
			    &place.info_phys))
		return true;
	if (!memmap_find_top(&placement, place.info_span, PAGE_SIZE, GUEST_LOW_MEMORY, GUEST_ADDR_LIMIT,
			     &place.info_phys)) {
		log_error(
			"no free RAM below 4 GiB for the guest's %zu-byte boot information; give the machine more memory",
			place.info_size);
		return false;
	}
	log_warn(
		"no free RAM below 640 KiB for the guest's %zu-byte boot information: it goes to 0x%llx, which a kernel that maps only its own image before it reads it (32-bit Linux through PVH) cannot reach; boot such a kernel as a bzImage",
		place.info_size, (unsigned long long)place.info_phys);
	return true;
}

/*
 * The guest's copies of the MADT and root tables (guest/acpi.h): the highest free pages below 4 GiB (the
 * RSDT holds 32-bit addresses; an OS maps its ACPI tables wherever they lie, as it does the firmware's),
 * typed ACPI reclaimable in the guest's map, and the RSDP copy pointed at them. Nothing to do without a
 * usable RSDP and MADT (the guest then gets the firmware's RSDP unchanged).
 */
static bool plan_acpi(void)
{
	/* Multiboot1 information has no RSDP: such a kernel scans the BIOS area for the firmware's. */
	if (fmt->format == GUEST_FORMAT_MB1 || !snap.rsdp_revision ||
	    !guest_acpi_plan(&place.acpi, snap.rsdp, snap.rsdp_len, 0, GUEST_ADDR_LIMIT))
		return true;
	uint64_t span = ALIGN_UP((uint64_t)place.acpi.size, (uint64_t)PAGE_SIZE);
	if (!memmap_find_top(&placement, span, PAGE_SIZE, GUEST_LOW_MEMORY, GUEST_ADDR_LIMIT,
			     &place.acpi_phys)) {
		log_error(
			"no free RAM below 4 GiB for the guest's %u bytes of ACPI tables; give the machine more memory",
			place.acpi.size);
		return false;
	}
	if (!guest_map_mark(&placement, place.acpi_phys, span, MEM_RESERVED) ||
	    !guest_map_mark(&recorded, place.acpi_phys, span, MEM_ACPI_RECLAIMABLE))
		return false;
	guest_acpi_point_rsdp(&place.acpi, place.acpi_phys, snap.rsdp, snap.rsdp_len);
	return true;
}

/* Describe the boot information's contents, place it, and record the guest's boot data in `recorded`. */
static bool plan_boot_info(const struct memmap *guest_map)
{
	recorded = *guest_map;
	place.passed_count = 0;
	for (size_t i = 1; i < snap.module_count; i++) {
		uint64_t size = snap.modules[i].end - snap.modules[i].start;
		place.passed[place.passed_count++] = (struct guest_module){
			.start = (uint32_t)place.module_dest[i],
			.end = (uint32_t)(place.module_dest[i] + size),
			.string = snap.modules[i].string,
		};
		if (!guest_map_mark(&recorded, place.module_dest[i], size, MEM_BOOT))
			return false;
	}
	if (!plan_acpi())
		return false;
	place.boot = (struct guest_boot){
		.cmdline = snap.modules[0].string,
		.map = &recorded,
		.modules = place.passed,
		.module_count = place.passed_count,
		.rsdp = snap.rsdp_revision ? snap.rsdp : NULL,
		.rsdp_len = snap.rsdp_len,
		.rsdp_revision = snap.rsdp_revision,
		.fb = snap.have_fb ? &snap.fb : NULL,
		.efi64 = snap.efi64,
		.efi_system_table = snap.efi_system_table,
	};
	place.info_size = build_info(NULL, 0, 0);
	place.info_span = ALIGN_UP((uint64_t)place.info_size, (uint64_t)PAGE_SIZE);
	if (!place_boot_info())
		return false;
	if (!guest_map_mark(&placement, place.info_phys, place.info_span, MEM_RESERVED) ||
	    !guest_map_mark(&recorded, place.info_phys, place.info_span, MEM_BOOT))
		return false;
	if (fmt->placed && !fmt->placed(&kernel, &place.boot, place.info_phys, &recorded))
		return false;
	/* Marking may have changed the map the information describes: it must still fit its pages. */
	place.info_size = build_info(NULL, 0, 0);
	if (place.info_size > place.info_span) {
		log_error(
			"the guest's boot information grew to %zu bytes while it was placed; the memory map is too fragmented",
			place.info_size);
		return false;
	}
	return true;
}

/* ---- phase 3: copy ------------------------------------------------------------------------------- */

/* Move the modules, copy the segments and zero their bss, write the boot information. Cannot fail. */
static void copy_everything(void)
{
	for (size_t i = 0; i < snap.module_count; i++) {
		uint64_t from = snap.modules[i].start, size = snap.modules[i].end - from;
		if (place.module_dest[i] != from)
			memmove(phys_to_virt(place.module_dest[i]), phys_to_virt(from), size);
	}
	/* Nothing still to be read (the kernel file, the modules) may lie under a segment any more. */
	for (size_t i = 0; i < snap.module_count; i++)
		HV_ASSERT(!overlaps_segments(place.module_dest[i],
					     snap.modules[i].end - snap.modules[i].start));

	const uint8_t *file = phys_to_virt(place.module_dest[0]);
	for (size_t i = 0; i < kernel.segment_count; i++) {
		const struct guest_segment *s = &kernel.segments[i];
		uint8_t *dst = phys_to_virt(s->paddr);
		log_event("guest_segment index=%zu paddr=0x%llx filesz=%llu memsz=%llu", i,
			  (unsigned long long)s->paddr, (unsigned long long)s->filesz,
			  (unsigned long long)s->memsz);
		memmove(dst, file + s->offset, s->filesz);
		if (fmt->zero_bss)
			memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}

	if (place.acpi.size) {
		struct guest_acpi_result r = guest_acpi_write(&place.acpi, &guest_cpus,
							      phys_to_virt(place.acpi_phys), place.acpi_phys);
		log_event(
			"guest_acpi madt=%#llx xsdt=%#llx rsdt=%#llx from_madt=%#llx cpus=%u disabled=%u",
			(unsigned long long)place.acpi_phys,
			(unsigned long long)(place.acpi.xsdt.ptr ? place.acpi_phys + place.acpi.xsdt_off : 0),
			(unsigned long long)(place.acpi.rsdt.ptr ? place.acpi_phys + place.acpi.rsdt_off : 0),
			(unsigned long long)place.acpi.madt.pa, r.cpus_kept, r.cpus_disabled);
	}

	uint8_t *info = phys_to_virt(place.info_phys);
	memset(info, 0, place.info_span);
	size_t written = build_info(info, place.info_span, place.info_phys);
	HV_ASSERT(written == place.info_size);
}

bool guest_load(const struct mb2_info *hv, struct memmap *guest_map, const struct guest_cpus *cpus,
		struct guest_entry_state *out)
{
	if (hv->module_count == 0) {
		log_error(
			"no guest kernel: add 'module2 /boot/KERNEL ARGS' after the multiboot2 line in grub.cfg");
		return false;
	}
	memset(&place, 0, sizeof(place));
	guest_cpus = cpus ? *cpus : (struct guest_cpus){NULL, 0};
	if (!take_snapshot(hv))
		return false;

	const struct guest_module *k = &snap.modules[0];
	size_t kernel_bytes = k->end - k->start;
	const void *image = phys_to_virt(k->start);
	if (!check_format(image, kernel_bytes, k->string))
		return false;
	memset(&kernel, 0, sizeof(kernel));
	if (!fmt->parse(image, kernel_bytes, guest_map, &kernel) || !check_segments(guest_map) ||
	    !plan_modules(guest_map) || !plan_boot_info(guest_map))
		return false;

	copy_everything();
	*guest_map = recorded;
	fmt->entry(&kernel, place.info_phys, out);
	log_event(
		"guest_load format=%s entry=0x%x segments=%zu kernel_bytes=%zu boot_info=0x%llx modules=%zu",
		fmt->name, out->eip, kernel.segment_count, kernel_bytes, (unsigned long long)place.info_phys,
		place.passed_count);
	return true;
}
