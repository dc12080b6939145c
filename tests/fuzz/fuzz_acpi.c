/*
 * The ACPI table code on the input: acpi_rsdp_parse, acpi_fadt_decode and acpi_aml_find_s5 on the bytes
 * themselves, then acpi_tables_init / acpi_find_table / acpi_power_discover over the input as a physical
 * window at FUZZ_PA (mm/phys.h: host_phys_offset). The first bytes pick the RSDP's pointers; the harness
 * fixes the checksums of the root table, the tables it lists and the FADT's DSDT so the walk gets deep.
 * Over the same tables, the guest's copies (guest/acpi.h): planned from an RSDP naming the same roots,
 * written into an exactly sized block, each copy summing to 0 and no longer than its original.
 */
#include "arch/x86/acpi_tables.h"
#include "guest/acpi.h"
#include "mm/phys.h"
#include "tests/fuzz/fuzz_common.h"

#define FUZZ_PA 0x40000000ull
#define FUZZ_FIXUPS 8

/* Make the table at offset off (if its header and length fit) sum to 0 via its checksum byte. */
static uint64_t fix_table(uint8_t *a, size_t size, uint64_t off)
{
	if (off >= size || size - off < ACPI_HDR_SIZE)
		return 0;
	uint32_t len = (uint32_t)fuzz_le(a + off + 4, 4);
	if (len < ACPI_HDR_SIZE || len > size - off)
		return 0;
	uint8_t sum = 0;
	a[off + 9] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + a[off + i]);
	a[off + 9] = (uint8_t)-sum;
	return len;
}

static void fix_chain(uint8_t *a, size_t size, uint64_t root_pa, unsigned entry_bytes)
{
	uint64_t off = root_pa - FUZZ_PA;
	uint64_t len = fix_table(a, size, off);
	for (uint64_t e = ACPI_HDR_SIZE, n = 0; len && e + entry_bytes <= len && n < FUZZ_FIXUPS;
	     e += entry_bytes, n++) {
		uint64_t t = fuzz_le(a + off + e, entry_bytes) - FUZZ_PA;
		if (t < size && size - t >= 4 && memcmp(a + t, "FACP", 4) == 0 && size - t >= 44)
			(void)fix_table(a, size, fuzz_le(a + t + 40, 4) - FUZZ_PA); /* its DSDT */
		(void)fix_table(a, size, t);
	}
	(void)fix_table(a, size, off); /* again: a listed table may overlap the root */
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* The guest's copies over the window: an RSDP naming r's roots, the plan, the block. */
static void check_guest_copies(const struct acpi_rsdp *r, size_t size)
{
	uint8_t rsdp[36] = "RSD PTR ";
	rsdp[15] = r->revision ? 2 : 0;
	rsdp[20] = 36;
	acpi_rsdp_rewrite(rsdp, sizeof(rsdp), (uint32_t)r->rsdt, r->xsdt);
	struct guest_acpi g;
	if (!guest_acpi_plan(&g, rsdp, sizeof(rsdp), FUZZ_PA, FUZZ_PA + size))
		return;
	FUZZ_CHECK(g.madt.ptr && g.size >= g.madt.len);
	uint8_t *block = fuzz_dup(NULL, 0, g.size);
	static const uint32_t keep[] = {0, 1};
	struct guest_cpus cpus = {keep, 2};
	(void)guest_acpi_write(&g, &cpus, block, 0x1000);
	FUZZ_CHECK(sum(block, g.madt.len) == 0);
	if (g.xsdt.ptr) {
		uint32_t len = (uint32_t)fuzz_le(block + g.xsdt_off + 4, 4);
		FUZZ_CHECK(len <= g.xsdt.len && g.xsdt_off + len <= g.size &&
			   sum(block + g.xsdt_off, len) == 0);
	}
	if (g.rsdt.ptr) {
		uint32_t len = (uint32_t)fuzz_le(block + g.rsdt_off + 4, 4);
		FUZZ_CHECK(len <= g.rsdt.len && g.rsdt_off + len <= g.size &&
			   sum(block + g.rsdt_off, len) == 0);
	}
	struct acpi_rsdp back;
	FUZZ_CHECK(acpi_rsdp_parse(rsdp, sizeof(rsdp), &back) == ACPI_OK || (!r->rsdt && !r->xsdt));
	free(block);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	uint8_t *buf = fuzz_dup(data, size, 0);
	struct acpi_rsdp rsdp;
	(void)acpi_rsdp_parse(buf, size, &rsdp);
	struct acpi_fadt fadt;
	uint32_t len32 = size > ACPI_TABLE_MAX_LEN ? ACPI_TABLE_MAX_LEN : (uint32_t)size;
	(void)acpi_fadt_decode(buf, len32, &fadt);
	struct acpi_sleep_type s5;
	if (size >= ACPI_HDR_SIZE && acpi_aml_find_s5(buf, len32, &s5) == ACPI_OK)
		FUZZ_CHECK(s5.slp_typa <= ACPI_SLP_TYP_MAX && s5.slp_typb <= ACPI_SLP_TYP_MAX);
	(void)acpi_strerror((enum acpi_err)(size % 10));

	if (size >= 8) {
		struct acpi_rsdp r = {
			.revision = (uint8_t)(data[0] & 2),
			.rsdt = FUZZ_PA + fuzz_le(data + 1, 2),
			.xsdt = (data[0] & 1) ? FUZZ_PA + fuzz_le(data + 3, 2) : 0,
		};
		if (data[0] & 4)
			fix_chain(buf, size, r.rsdt, 4);
		if (r.xsdt && (data[0] & 8))
			fix_chain(buf, size, r.xsdt, 8);
		host_phys_offset = (uintptr_t)buf - (uintptr_t)FUZZ_PA;
		struct acpi_tables t;
		if (acpi_tables_init(&t, &r, FUZZ_PA, FUZZ_PA + size) == ACPI_OK) {
			struct acpi_table_ref ref;
			if (acpi_find_table(&t, "APIC", 0, &ref) == ACPI_OK)
				FUZZ_CHECK(fuzz_inside(ref.ptr, ref.len, buf, size));
			struct acpi_power_info pi;
			if (acpi_power_discover(&t, &pi) == ACPI_OK)
				FUZZ_CHECK(fuzz_inside(pi.fadt_ref.ptr, pi.fadt_ref.len, buf, size));
			check_guest_copies(&r, size);
		}
	}
	free(buf);
	return 0;
}
