/*
 * testkernel: check acpi_madt. A kernel learns its processors from the ACPI MADT it reaches through the
 * RSDP (the Multiboot2 ACPI tag; a Multiboot1 kernel scans the BIOS area as a PC kernel does). Under
 * hapvisor that RSDP names hapvisor's copies of the root tables, whose MADT lists as usable exactly the
 * processors the guest may use (guest/acpi.h). The check follows the chain as an OS would (ACPI 6.5
 * 5.2.5-5.2.8, 5.2.12), checks every checksum, that the RSDT and the XSDT name the same MADT, that the
 * MADT lies in memory the map does not offer as available RAM, that the boot processor is listed, and,
 * with `madt_cpus=N` on the command line, that exactly N processors are usable.
 */
#include "checks.h"

#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_SIGNATURE_LEN 8
#define RSDP_OFF_REVISION 15
#define RSDP_OFF_RSDT 16
#define RSDP_OFF_LENGTH 20
#define RSDP_OFF_XSDT 24
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_MAX_LEN 1024 /* a longer RSDP is taken for garbage */
#define RSDP_ALIGN 16
#define BDA_EBDA_SEGMENT 0x40E /* BIOS data area: the EBDA's real-mode segment */
#define EBDA_SCAN_LEN 1024
#define BIOS_AREA_START 0xE0000
#define BIOS_AREA_END 0x100000

#define HDR_OFF_LENGTH 4
#define HDR_OFF_REVISION 8
#define HDR_LEN 36
#define TABLE_MAX_LEN (1u << 20)
#define MADT_OFF_ENTRIES 44
#define MADT_TYPE_LAPIC 0
#define MADT_TYPE_X2APIC 9
#define LAPIC_LEN 8
#define X2APIC_LEN 16
#define LAPIC_ENABLED BIT(0)
#define LAPIC_ONLINE_CAPABLE BIT(1)
#define MADT_REVISION_ONLINE_CAPABLE 5
#define XAPIC_ID_NONE 0xFF
#define CPUID_APIC_ID_SHIFT 24
#define MADT_CPUS_WORD "madt_cpus="
#define IDS_MAX 128

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* An RSDP with a good first checksum at p, or NULL. */
static const uint8_t *rsdp_at(const uint8_t *p)
{
	return tk_strncmp((const char *)p, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN) == 0 &&
			       sum(p, RSDP_V1_LEN) == 0
		       ? p
		       : NULL;
}

/* As a PC kernel finds the RSDP without a loader's help: the EBDA's first KiB, then 0xE0000-0xFFFFF. */
static const uint8_t *scan_rsdp(void)
{
	uintptr_t bda = BDA_EBDA_SEGMENT;
	__asm__("" : "+r"(bda)); /* a real address, not a null-page constant GCC would warn about */
	uint64_t ebda = (uint64_t) * (volatile const uint16_t *)bda << 4;
	const uint8_t *r = NULL;
	for (uint64_t a = ebda; ebda && a < ebda + EBDA_SCAN_LEN && !r; a += RSDP_ALIGN)
		r = rsdp_at((const uint8_t *)(uintptr_t)a);
	for (uint64_t a = BIOS_AREA_START; a < BIOS_AREA_END && !r; a += RSDP_ALIGN)
		r = rsdp_at((const uint8_t *)(uintptr_t)a);
	return r;
}

/* The table at pa if its length is sane, it lies below 4 GiB and it sums to 0; else NULL. */
static const uint8_t *table(uint64_t pa, const char *sig)
{
	if (pa == 0 || pa >= FOUR_GIB - HDR_LEN)
		return NULL;
	const uint8_t *p = (const uint8_t *)(uintptr_t)pa;
	uint32_t len = rd32(p + HDR_OFF_LENGTH);
	if ((sig && tk_strncmp((const char *)p, sig, 4) != 0) || len < HDR_LEN || len > TABLE_MAX_LEN ||
	    pa + len > FOUR_GIB || sum(p, len) != 0)
		return NULL;
	return p;
}

/* The first MADT a root table lists (entries of esize bytes), and how many it lists, into *count. */
static uint64_t root_madt(const uint8_t *root, unsigned esize, unsigned *count)
{
	uint32_t n = (rd32(root + HDR_OFF_LENGTH) - HDR_LEN) / esize;
	uint64_t first = 0;
	*count = 0;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = root + HDR_LEN + i * esize;
		uint64_t pa = esize == 8 ? rd64(e) : rd32(e);
		if (pa && pa < FOUR_GIB - HDR_LEN &&
		    tk_strncmp((const char *)(uintptr_t)pa, "APIC", 4) == 0) {
			if (!*count)
				first = pa;
			(*count)++;
		}
	}
	return first;
}

struct madt_view {
	unsigned usable, disabled;
	uint32_t ids[IDS_MAX];
};

/* Count the MADT's processor entries as an OS does (ACPI 6.5 Table 5.23 and the revision rule). */
static bool read_madt(const uint8_t *m, struct madt_view *v)
{
	uint32_t len = rd32(m + HDR_OFF_LENGTH);
	uint32_t usable = LAPIC_ENABLED;
	if (m[HDR_OFF_REVISION] >= MADT_REVISION_ONLINE_CAPABLE)
		usable |= LAPIC_ONLINE_CAPABLE;
	*v = (struct madt_view){0};
	for (uint32_t off = MADT_OFF_ENTRIES; off < len;) {
		uint32_t elen = len - off >= 2 ? m[off + 1] : 0;
		if (elen < 2 || elen > len - off)
			return false;
		const uint8_t *e = m + off;
		uint32_t id = 0, flags = 0;
		bool cpu = false;
		if (e[0] == MADT_TYPE_LAPIC && elen >= LAPIC_LEN && e[3] != XAPIC_ID_NONE) {
			id = e[3];
			flags = rd32(e + 4);
			cpu = true;
		} else if (e[0] == MADT_TYPE_X2APIC && elen >= X2APIC_LEN) {
			id = rd32(e + 4);
			flags = rd32(e + 8);
			cpu = true;
		}
		if (cpu && (flags & usable)) {
			if (v->usable < IDS_MAX)
				v->ids[v->usable] = id;
			v->usable++;
		} else if (cpu) {
			v->disabled++;
		}
		off += elen;
	}
	return true;
}

/* The value N of `madt_cpus=N` on the command line, or -1. */
static long expected_cpus(const char *cmdline)
{
	size_t n = tk_strlen(MADT_CPUS_WORD);
	for (const char *p = cmdline; *p; p++) {
		if ((p != cmdline && p[-1] != ' ') || tk_strncmp(p, MADT_CPUS_WORD, n) != 0)
			continue;
		long v = 0;
		for (p += n; *p >= '0' && *p <= '9'; p++)
			v = v * 10 + (*p - '0');
		return v;
	}
	return -1;
}

static uint32_t map_type(const struct boot_info *b, uint64_t pa)
{
	for (size_t i = 0; i < b->map_count; i++)
		if (b->map[i].base <= pa && pa < b->map[i].end)
			return b->map[i].type;
	return 0;
}

void check_acpi_madt(struct check *c, struct tk_context *t)
{
	const struct boot_info *b = &t->boot;
	const uint8_t *rsdp = b->rsdp ? rsdp_at(b->rsdp) : scan_rsdp();
	check_note(c, "rsdp_from=%s", b->rsdp ? "mb2_tag" : "bios_scan");
	if (!rsdp) {
		check_fail(c, "rsdp=none_or_bad_checksum");
		return;
	}
	uint8_t rev = rsdp[RSDP_OFF_REVISION];
	const uint8_t *rsdt = table(rd32(rsdp + RSDP_OFF_RSDT), "RSDT"), *xsdt = NULL;
	if (rev >= 2 && (!b->rsdp || b->rsdp_len >= RSDP_V2_LEN)) {
		uint32_t len = rd32(rsdp + RSDP_OFF_LENGTH);
		if (len < RSDP_V2_LEN || len > RSDP_MAX_LEN || (b->rsdp && len > b->rsdp_len) ||
		    sum(rsdp, len))
			check_fail(c, "rsdp_extended_checksum_or_length_bad length=%u", len);
		else
			xsdt = table(rd64(rsdp + RSDP_OFF_XSDT), "XSDT");
	}
	unsigned n_rsdt = 0, n_xsdt = 0;
	uint64_t madt_rsdt = rsdt ? root_madt(rsdt, 4, &n_rsdt) : 0;
	uint64_t madt_xsdt = xsdt ? root_madt(xsdt, 8, &n_xsdt) : 0;
	check_note(c, "rsdp_revision=%u rsdt=0x%lx xsdt=0x%lx madt_via_rsdt=0x%lx madt_via_xsdt=0x%lx", rev,
		   (uint64_t)(uintptr_t)rsdt, (uint64_t)(uintptr_t)xsdt, madt_rsdt, madt_xsdt);
	if (!rsdt && !xsdt) {
		check_fail(c, "no_valid_root_table");
		return;
	}
	if (n_rsdt > 1 || n_xsdt > 1)
		check_fail(c, "madts_listed rsdt=%u xsdt=%u", n_rsdt, n_xsdt);
	if (madt_rsdt && madt_xsdt && madt_rsdt != madt_xsdt)
		check_fail(c, "rsdt_and_xsdt_name_different_madts");
	uint64_t madt_pa = madt_xsdt ? madt_xsdt : madt_rsdt;
	const uint8_t *madt = table(madt_pa, "APIC");
	struct madt_view v;
	if (!madt || !read_madt(madt, &v)) {
		check_fail(c, "madt=0x%lx bad_checksum_or_entries", madt_pa);
		return;
	}
	uint32_t type = map_type(b, madt_pa);
	check_note(c, "madt=0x%lx madt_revision=%u memory=%s cpus=%u disabled=%u", madt_pa,
		   madt[HDR_OFF_REVISION], type ? mem_type_name(type) : "unmapped", v.usable, v.disabled);
	if (type == MEM_AVAILABLE)
		check_fail(c, "madt_in_available_ram");
	uint32_t bsp = cpuid(1, 0).ebx >> CPUID_APIC_ID_SHIFT;
	bool bsp_listed = false;
	for (unsigned i = 0; i < v.usable && i < IDS_MAX; i++) {
		check_note(c, "cpu%u_apic_id=%u", i, v.ids[i]);
		bsp_listed |= v.ids[i] == bsp;
	}
	if (!bsp_listed)
		check_fail(c, "boot_cpu_apic_id=%u not_usable_in_madt", bsp);
	long want = expected_cpus(b->cmdline);
	if (want >= 0 && (long)v.usable != want)
		check_fail(c, "expected_cpus=%ld", want);
}
