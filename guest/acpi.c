/* The guest's copies of the XSDT, RSDT and MADT (see acpi.h). Section numbers are ACPI 6.5's. */
#include "guest/acpi.h"
#include "arch/x86/madt.h"
#include "lib/str.h"

#define TABLE_ALIGN 8 /* XSDT entries are 64-bit: keep each copy 8-byte aligned */

/* A root table of the RSDP, if it passes its checks in g->fw's window; else an empty ref. */
static struct acpi_table_ref usable_root(const struct guest_acpi *g, uint64_t pa, const char *sig)
{
	struct acpi_table_ref ref = {0, NULL, 0};
	if (pa && acpi_table_check(&g->fw, pa, sig, &ref) != ACPI_OK)
		ref = (struct acpi_table_ref){0, NULL, 0};
	return ref;
}

uint32_t guest_acpi_plan(struct guest_acpi *g, const uint8_t *rsdp, size_t rsdp_len, uint64_t win_lo,
			 uint64_t win_hi)
{
	memset(g, 0, sizeof(*g));
	struct acpi_rsdp r;
	static struct madt_info madt; /* 1 KiB: not on the boot stack */
	if (!rsdp || acpi_rsdp_parse(rsdp, rsdp_len, &r) != ACPI_OK ||
	    acpi_tables_init(&g->fw, &r, win_lo, win_hi) != ACPI_OK ||
	    acpi_find_table(&g->fw, ACPI_SIG_MADT, 0, &g->madt) != ACPI_OK ||
	    madt_parse(g->madt.ptr, g->madt.len, &madt) != ACPI_OK)
		return 0;
	g->xsdt = usable_root(g, r.xsdt, ACPI_SIG_XSDT);
	g->rsdt = usable_root(g, r.rsdt, ACPI_SIG_RSDT);
	uint32_t xsdt_len = g->xsdt.ptr ? acpi_root_copy(&g->fw, &g->xsdt, true, ACPI_SIG_MADT, 0, NULL) : 0;
	uint32_t rsdt_len = g->rsdt.ptr ? acpi_root_copy(&g->fw, &g->rsdt, false, ACPI_SIG_MADT, 0, NULL) : 0;
	g->xsdt_off = ALIGN_UP(g->madt.len, TABLE_ALIGN);
	g->rsdt_off = g->xsdt_off + ALIGN_UP(xsdt_len, TABLE_ALIGN);
	g->size = g->rsdt_off + rsdt_len;
	return g->size;
}

void guest_acpi_point_rsdp(const struct guest_acpi *g, uint64_t block, uint8_t *rsdp, size_t rsdp_len)
{
	uint64_t xsdt = g->xsdt.ptr ? block + g->xsdt_off : 0;
	uint64_t rsdt = g->rsdt.ptr ? block + g->rsdt_off : 0;
	acpi_rsdp_rewrite(rsdp, rsdp_len, (uint32_t)rsdt, xsdt);
}

struct guest_acpi_result guest_acpi_write(const struct guest_acpi *g, const struct guest_cpus *cpus,
					  void *buf, uint64_t block)
{
	uint8_t *b = buf;
	memset(b, 0, g->size);
	struct madt_copy_stats st =
		madt_copy_for_guest(g->madt.ptr, g->madt.len, b, cpus->apic_ids, cpus->count);
	if (g->xsdt.ptr)
		(void)acpi_root_copy(&g->fw, &g->xsdt, true, ACPI_SIG_MADT, block, b + g->xsdt_off);
	if (g->rsdt.ptr)
		(void)acpi_root_copy(&g->fw, &g->rsdt, false, ACPI_SIG_MADT, block, b + g->rsdt_off);
	return (struct guest_acpi_result){st.kept, st.disabled};
}
