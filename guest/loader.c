/*
 * Loading the guest kernel (see loader.h). Two phases: everything that can fail (format, validation,
 * placement) works on copies and plans, and only then does the copying phase touch guest memory. Its
 * state is static: guest_load() runs once, at boot, on the boot processor.
 */
#include "guest/loader.h"
#include "guest/bzimage.h"
#include "guest/elf.h"
#include "guest/multiboot.h"
#include "guest/pvh.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/str.h"
#include "mm/phys.h"

/* Linux x86 boot protocol, setup header (Linux Documentation/arch/x86/boot.rst). */
#define LINUX_BOOT_FLAG_OFF 0x1feu
#define LINUX_BOOT_FLAG 0xaa55u
#define LINUX_HEADER_OFF 0x202u
#define LINUX_HEADER_MAGIC 0x53726448u /* "HdrS" */
#define LINUX_PROBE_MIN (LINUX_HEADER_OFF + 4u)

#define GUEST_LOW_MEMORY MiB(1)	       /* kept free of modules and boot information: guests use low memory */
#define GUEST_ADDR_LIMIT GiB(4)	       /* Multiboot is 32-bit: everything the guest is given lies below */
#define GUEST_FIRST_PAGE_END PAGE_SIZE /* page 0: unmapped in hapvisor, never loaded */
#define GUEST_STRINGS_MAX 16384u
#define GUEST_RSDP_MAX 36u /* the ACPI 2.0+ RSDP (ACPI 6.5 5.2.5.3) */
#define GUEST_NAME_MAX MBGUEST_NAME_MAX

/* What guest_load() still needs from hapvisor's Multiboot2 information, copied into hapvisor's memory. */
struct guest_snapshot {
	char strings[GUEST_STRINGS_MAX];
	size_t strings_used;
	struct mbguest_module modules[MB2_MAX_MODULES]; /* where GRUB put them; [0] is the kernel file */
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
struct guest_plan {
	uint64_t module_dest[MB2_MAX_MODULES];	       /* final places; [0] is the kernel file's */
	struct mbguest_module passed[MB2_MAX_MODULES]; /* modules 1.. at their final places */
	size_t passed_count;
	uint64_t info_phys;
	size_t info_size;
	uint64_t info_span; /* info_size rounded up to pages */
	struct mbguest_boot boot;
};

static struct guest_snapshot snap;
static struct mbguest_kernel kernel;
static enum guest_format kernel_format;
static struct bzimage_kernel bzimage; /* GUEST_FORMAT_LINUX_BZIMAGE: the setup header, the load address */
static struct bzimage_layout bzimage_info; /* GUEST_FORMAT_LINUX_BZIMAGE: where build_info() put things */
static struct guest_plan plan;
static struct memmap placement; /* scratch: the guest map with everything in use marked reserved */
static struct memmap recorded;	/* the guest map plus the guest's boot data (MEM_BOOT) */

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

enum guest_format guest_probe(const void *image, size_t size)
{
	const uint8_t *p = image;
	enum mbguest_version version;
	uint32_t offset;
	if (mbguest_find_header(image, size, &version, &offset))
		return version == MBGUEST_MB2 ? GUEST_FORMAT_MB2 : GUEST_FORMAT_MB1;
	if (size >= LINUX_PROBE_MIN && rd16(p + LINUX_BOOT_FLAG_OFF) == LINUX_BOOT_FLAG &&
	    rd32(p + LINUX_HEADER_OFF) == LINUX_HEADER_MAGIC)
		return GUEST_FORMAT_LINUX_BZIMAGE;
	if (elf_has_note(image, size, XEN_ELFNOTE_NAME, XEN_ELFNOTE_PHYS32_ENTRY))
		return GUEST_FORMAT_LINUX_PVH;
	return GUEST_FORMAT_UNKNOWN;
}

const char *guest_format_name(enum guest_format format)
{
	switch (format) {
	case GUEST_FORMAT_MB2:
		return "mb2";
	case GUEST_FORMAT_MB1:
		return "mb1";
	case GUEST_FORMAT_LINUX_BZIMAGE:
		return "linux-bzimage";
	case GUEST_FORMAT_LINUX_PVH:
		return "linux-pvh";
	default:
		return "unknown";
	}
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
			log_error("the guest's command line and module strings take more than %u bytes; "
				  "shorten the module2 lines in grub.cfg",
				  GUEST_STRINGS_MAX);
			return false;
		}
		snap.modules[i] = (struct mbguest_module){.start = m->start, .end = m->end, .string = s};
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

/* The kernel file: module 0 must hold a kernel of a format hapvisor loads. */
static bool check_format(const void *image, size_t size, const char *string)
{
	switch (guest_probe(image, size)) {
	case GUEST_FORMAT_MB2:
	case GUEST_FORMAT_MB1:
	case GUEST_FORMAT_LINUX_BZIMAGE:
	case GUEST_FORMAT_LINUX_PVH:
		return true;
	default:
		log_error("module 0 (%s, %zu bytes) is not a kernel hapvisor can boot: no Multiboot1 or "
			  "Multiboot2 header in its first 32 KiB, no Linux bzImage setup header, no ELF PVH "
			  "entry note; the first module2 line must name the kernel (docs/guests.md)",
			  string, size);
		return false;
	}
}

/* The kernel's load plan: parse its headers (and, for a bzImage, choose where it goes in *map). */
static bool parse_kernel(const void *image, size_t size, const struct memmap *map)
{
	switch (kernel_format) {
	case GUEST_FORMAT_LINUX_PVH:
		return pvh_parse(image, size, &kernel);
	case GUEST_FORMAT_LINUX_BZIMAGE:
		if (!bzimage_parse(image, size, &bzimage) || !bzimage_place(&bzimage, map))
			return false;
		bzimage_plan(&bzimage, &kernel);
		return true;
	default:
		return mbguest_parse(image, size, &kernel);
	}
}

static void segment_name(size_t i, char *buf, size_t n)
{
	if (kernel_format == GUEST_FORMAT_LINUX_BZIMAGE)
		fmt_snprintf(buf, n, "the protected-mode kernel with its init_size");
	else
		mbguest_segment_name(&kernel, i, buf, n);
}

/*
 * Every segment lies in RAM the guest owns (MEM_AVAILABLE or MEM_BOOT): not hapvisor's, not a hole, and
 * not page 0, which hapvisor's own page tables leave unmapped (arch/x86/paging.c) so it cannot copy there.
 */
static bool check_segments(const struct memmap *map)
{
	char name[GUEST_NAME_MAX];
	for (size_t i = 0; i < kernel.segment_count; i++) {
		const struct mbguest_segment *s = &kernel.segments[i];
		uint64_t addr = s->paddr, end = s->paddr + s->memsz;
		segment_name(i, name, sizeof(name));
		if (addr < GUEST_FIRST_PAGE_END) {
			log_error("guest kernel: %s [0x%llx, 0x%llx) covers page 0, which hapvisor keeps "
				  "unmapped "
				  "(it is the real-mode interrupt vector table); link the kernel higher "
				  "(usually "
				  "at 1 MiB)",
				  name, (unsigned long long)s->paddr, (unsigned long long)end);
			return false;
		}
		while (addr < end) { /* each step moves to a later range of the map */
			const struct mem_range *r = memmap_lookup(map, addr);
			if (!r) {
				log_error("guest kernel: %s [0x%llx, 0x%llx) is not in RAM: address 0x%llx "
					  "is in no range of the memory map; link the kernel to load into "
					  "available RAM",
					  name, (unsigned long long)s->paddr, (unsigned long long)end,
					  (unsigned long long)addr);
				return false;
			}
			if (r->type == MEM_HAPVISOR) {
				log_error(
					"guest kernel: %s [0x%llx, 0x%llx) overlaps hapvisor's region "
					"[0x%llx, 0x%llx) at the top of RAM below 4 GiB; boot with a smaller "
					"hvmem=, give the machine more memory, or link the kernel lower",
					name, (unsigned long long)s->paddr, (unsigned long long)end,
					(unsigned long long)r->base, (unsigned long long)(r->base + r->size));
				return false;
			}
			if (r->type != MEM_AVAILABLE && r->type != MEM_BOOT) {
				log_error("guest kernel: %s [0x%llx, 0x%llx) overlaps [0x%llx, 0x%llx), "
					  "which is %s memory, not available RAM; link the kernel to load "
					  "into available RAM (see the event=memmap map=guest lines)",
					  name, (unsigned long long)s->paddr, (unsigned long long)end,
					  (unsigned long long)r->base,
					  (unsigned long long)(r->base + r->size), mem_type_name(r->type));
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
		const struct mbguest_segment *s = &kernel.segments[i];
		if (base < s->paddr + s->memsz && s->paddr < base + size)
			return true;
	}
	return false;
}

/* Mark [base, base + size) (grown to whole pages) as `type` in map; false after a log line if it is full. */
static bool mark(struct memmap *map, uint64_t base, uint64_t size, enum mem_type type)
{
	if (size == 0)
		return true;
	uint64_t lo = ALIGN_DOWN(base, PAGE_SIZE), hi = ALIGN_UP(base + size, PAGE_SIZE);
	if (memmap_set(map, lo, hi - lo, type))
		return true;
	log_error("the guest memory map is too fragmented (more than %d ranges) to place the guest's modules "
		  "and boot information",
		  MEMMAP_MAX);
	return false;
}

/* The exclusive end below which module i must lie: a bzImage's initrd (module 1) must end by initrd_addr_max.
 */
static uint64_t module_limit(size_t i)
{
	if (kernel_format == GUEST_FORMAT_LINUX_BZIMAGE && i == 1)
		return MIN(bzimage_initrd_limit(&bzimage), GUEST_ADDR_LIMIT);
	return GUEST_ADDR_LIMIT;
}

/* Why module i must move before the segments are copied, or NULL when it may stay. */
static const char *move_reason(size_t i)
{
	const struct mbguest_module *m = &snap.modules[i];
	uint64_t size = m->end - m->start;
	if (overlaps_segments(m->start, MAX(size, 1)))
		return "it overlaps the kernel's segments";
	if (m->start < GUEST_LOW_MEMORY)
		return "it lies in the first MiB";
	if (i > 0 && !IS_ALIGNED(m->start, MBGUEST_MODULE_ALIGN))
		return "it is not page-aligned";
	if (m->end > module_limit(i))
		return "the Linux initrd must end by the kernel's initrd_addr_max";
	return NULL;
}

/*
 * Decide where every module ends up: in place, or moved to the highest free pages below 4 GiB that
 * overlap no segment, no module, not the first MiB and not hapvisor's information block.
 */
static bool plan_modules(const struct memmap *guest_map)
{
	placement = *guest_map;
	if (!mark(&placement, 0, GUEST_LOW_MEMORY, MEM_RESERVED) ||
	    !mark(&placement, snap.info_base, snap.info_size, MEM_RESERVED))
		return false;
	for (size_t i = 0; i < kernel.segment_count; i++) {
		if (!mark(&placement, kernel.segments[i].paddr, kernel.segments[i].memsz, MEM_RESERVED))
			return false;
	}
	for (size_t i = 0; i < snap.module_count; i++) {
		if (!mark(&placement, snap.modules[i].start, snap.modules[i].end - snap.modules[i].start,
			  MEM_RESERVED))
			return false;
	}
	for (size_t i = 0; i < snap.module_count; i++) {
		const struct mbguest_module *m = &snap.modules[i];
		uint64_t size = m->end - m->start, span = ALIGN_UP(MAX(size, 1), (uint64_t)PAGE_SIZE);
		const char *why = move_reason(i);
		plan.module_dest[i] = m->start;
		if (!why)
			continue;
		uint64_t limit = module_limit(i);
		if (!memmap_find_top(&placement, span, MBGUEST_MODULE_ALIGN, GUEST_LOW_MEMORY, limit,
				     &plan.module_dest[i])) {
			char below[24] = "4 GiB";
			if (limit != GUEST_ADDR_LIMIT)
				fmt_snprintf(below, sizeof(below), "0x%llx", (unsigned long long)limit);
			log_error("no free RAM below %s to move module %zu (%s, %llu bytes), which must move "
				  "because %s; use smaller modules or give the machine more memory",
				  below, i, m->string, (unsigned long long)size, why);
			return false;
		}
		if (!mark(&placement, plan.module_dest[i], span, MEM_RESERVED))
			return false;
		log_info("module %zu (%s, %llu bytes) moves from 0x%x to 0x%llx: %s", i, m->string,
			 (unsigned long long)size, m->start, (unsigned long long)plan.module_dest[i], why);
	}
	return true;
}

/* The boot information of the kernel's protocol (Multiboot1/2, PVH, bzImage); buf NULL: only its size. */
static size_t build_info(void *buf, size_t cap, uint64_t phys)
{
	if (kernel_format == GUEST_FORMAT_LINUX_PVH)
		return pvh_build_info(&plan.boot, buf, cap, phys);
	if (kernel_format == GUEST_FORMAT_LINUX_BZIMAGE)
		return bzimage_build_info(&bzimage, &plan.boot, buf, cap, phys, &bzimage_info);
	return mbguest_build_info(&kernel, &plan.boot, buf, cap, phys);
}

/*
 * A bzImage's boot information, once placed: the page holding the RSDP copy is typed ACPI reclaimable, so
 * that Linux neither reuses it before its ACPI code reads the RSDP nor decompresses over it (KASLR avoids
 * only boot_params, the command line and the initrd); and the zero page holds at most 128 E820 entries.
 */
static bool finish_bzimage_info(void)
{
	(void)build_info(NULL, 0, plan.info_phys);
	if (bzimage_info.rsdp && !mark(&recorded, bzimage_info.rsdp, snap.rsdp_len, MEM_ACPI_RECLAIMABLE))
		return false;
	size_t entries = bzimage_e820_count(&recorded);
	if (entries > BZ_E820_MAX) {
		log_error("the guest memory map needs %zu E820 entries, more than the %u a Linux zero page "
			  "holds; "
			  "the firmware map is unusually fragmented",
			  entries, BZ_E820_MAX);
		return false;
	}
	return true;
}

/* Describe the boot information's contents, place it, and record the guest's boot data in `recorded`. */
static bool plan_boot_info(const struct memmap *guest_map)
{
	recorded = *guest_map;
	plan.passed_count = 0;
	for (size_t i = 1; i < snap.module_count; i++) {
		uint64_t size = snap.modules[i].end - snap.modules[i].start;
		plan.passed[plan.passed_count++] = (struct mbguest_module){
			.start = (uint32_t)plan.module_dest[i],
			.end = (uint32_t)(plan.module_dest[i] + size),
			.string = snap.modules[i].string,
		};
		if (!mark(&recorded, plan.module_dest[i], size, MEM_BOOT))
			return false;
	}
	plan.boot = (struct mbguest_boot){
		.cmdline = snap.modules[0].string,
		.map = &recorded,
		.modules = plan.passed,
		.module_count = plan.passed_count,
		.rsdp = snap.rsdp_revision ? snap.rsdp : NULL,
		.rsdp_len = snap.rsdp_len,
		.rsdp_revision = snap.rsdp_revision,
		.fb = snap.have_fb ? &snap.fb : NULL,
		.efi64 = snap.efi64,
		.efi_system_table = snap.efi_system_table,
	};
	plan.info_size = build_info(NULL, 0, 0);
	plan.info_span = ALIGN_UP((uint64_t)plan.info_size, (uint64_t)PAGE_SIZE);
	if (!memmap_find_top(&placement, plan.info_span, PAGE_SIZE, GUEST_LOW_MEMORY, GUEST_ADDR_LIMIT,
			     &plan.info_phys)) {
		log_error("no free RAM below 4 GiB for the guest's %zu-byte boot information; give the "
			  "machine more memory",
			  plan.info_size);
		return false;
	}
	if (!mark(&placement, plan.info_phys, plan.info_span, MEM_RESERVED) ||
	    !mark(&recorded, plan.info_phys, plan.info_span, MEM_BOOT))
		return false;
	if (kernel_format == GUEST_FORMAT_LINUX_BZIMAGE && !finish_bzimage_info())
		return false;
	/* Marking may have changed the map the information describes: it must still fit its pages. */
	plan.info_size = build_info(NULL, 0, 0);
	if (plan.info_size > plan.info_span) {
		log_error("the guest's boot information grew to %zu bytes while it was placed; the memory "
			  "map is too fragmented",
			  plan.info_size);
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
		if (plan.module_dest[i] != from)
			memmove(phys_to_virt(plan.module_dest[i]), phys_to_virt(from), size);
	}
	/* Nothing still to be read (the kernel file, the modules) may lie under a segment any more. */
	for (size_t i = 0; i < snap.module_count; i++)
		HV_ASSERT(
			!overlaps_segments(plan.module_dest[i], snap.modules[i].end - snap.modules[i].start));

	/* A bzImage's init_size beyond its file bytes is the decompressor's to use: nothing to zero there. */
	bool zero_bss = kernel_format != GUEST_FORMAT_LINUX_BZIMAGE;
	const uint8_t *file = phys_to_virt(plan.module_dest[0]);
	for (size_t i = 0; i < kernel.segment_count; i++) {
		const struct mbguest_segment *s = &kernel.segments[i];
		uint8_t *dst = phys_to_virt(s->paddr);
		log_event("guest_segment index=%zu paddr=0x%llx filesz=%llu memsz=%llu", i,
			  (unsigned long long)s->paddr, (unsigned long long)s->filesz,
			  (unsigned long long)s->memsz);
		memmove(dst, file + s->offset, s->filesz);
		if (zero_bss)
			memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}

	uint8_t *info = phys_to_virt(plan.info_phys);
	memset(info, 0, plan.info_span);
	size_t written = build_info(info, plan.info_span, plan.info_phys);
	HV_ASSERT(written == plan.info_size);
}

/* The entry state of the kernel's protocol (loader.h). */
static void entry_state(struct guest_entry_state *out)
{
	switch (kernel_format) {
	case GUEST_FORMAT_LINUX_BZIMAGE: /* boot.rst "32-bit BOOT PROTOCOL" */
		*out = (struct guest_entry_state){
			.eip = kernel.entry,
			.esi = bzimage_info.boot_params,
			.cs_sel = BZ_BOOT_CS,
			.ds_sel = BZ_BOOT_DS,
			.gdtr_base = bzimage_info.gdt,
			.gdtr_limit = BZ_GDT_LIMIT,
		};
		return;
	case GUEST_FORMAT_LINUX_PVH:
		*out = (struct guest_entry_state){.eip = kernel.entry, .ebx = (uint32_t)plan.info_phys};
		return;
	default:
		*out = (struct guest_entry_state){
			.eip = kernel.entry,
			.eax = mbguest_boot_magic(&kernel),
			.ebx = (uint32_t)plan.info_phys,
		};
		return;
	}
}

bool guest_load(const struct mb2_info *hv, struct memmap *guest_map, struct guest_entry_state *out)
{
	if (hv->module_count == 0) {
		log_error("no guest kernel: add 'module2 /boot/KERNEL ARGS' after the multiboot2 line in "
			  "grub.cfg");
		return false;
	}
	memset(&plan, 0, sizeof(plan));
	if (!take_snapshot(hv))
		return false;

	const struct mbguest_module *k = &snap.modules[0];
	size_t kernel_bytes = k->end - k->start;
	const void *image = phys_to_virt(k->start);
	kernel_format = guest_probe(image, kernel_bytes);
	if (!check_format(image, kernel_bytes, k->string))
		return false;
	if (!parse_kernel(image, kernel_bytes, guest_map) || !check_segments(guest_map) ||
	    !plan_modules(guest_map) || !plan_boot_info(guest_map))
		return false;

	copy_everything();
	*guest_map = recorded;
	entry_state(out);
	log_event(
		"guest_load format=%s entry=0x%x segments=%zu kernel_bytes=%zu boot_info=0x%llx modules=%zu",
		guest_format_name(kernel_format), out->eip, kernel.segment_count, kernel_bytes,
		(unsigned long long)plan.info_phys, plan.passed_count);
	return true;
}
