/*
 * madt_parse on an exactly sized copy of the input as a MADT (arch/x86/madt.h), header included; then,
 * for a table it accepts, madt_copy_for_guest keeping the APIC IDs the first input bytes name: the copy
 * (exactly sized too) must sum to 0, parse again, and keep no processor outside that list.
 */
#include "arch/x86/madt.h"
#include "tests/fuzz/fuzz_common.h"

#define FUZZ_KEEP 3

static void check_copy(const uint8_t *table, uint32_t len, const struct madt_info *m)
{
	uint32_t keep[FUZZ_KEEP];
	for (unsigned i = 0; i < FUZZ_KEEP; i++)
		keep[i] = len > ACPI_HDR_SIZE + i ? table[ACPI_HDR_SIZE + i] : i;
	uint8_t *copy = fuzz_dup(table, len, 0);
	memset(copy, 0xA5, len);
	struct madt_copy_stats st = madt_copy_for_guest(table, len, copy, keep, FUZZ_KEEP);
	uint8_t sum = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + copy[i]);
	FUZZ_CHECK(sum == 0);
	struct madt_info c;
	FUZZ_CHECK(madt_parse(copy, len, &c) == ACPI_OK);
	FUZZ_CHECK(c.count <= m->count && c.count <= st.kept);
	for (uint32_t i = 0; i < c.count; i++)
		FUZZ_CHECK(c.cpus[i].apic_id == keep[0] || c.cpus[i].apic_id == keep[1] ||
			   c.cpus[i].apic_id == keep[2]);
	free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	if (size > ACPI_TABLE_MAX_LEN)
		return 0;
	uint8_t *table = fuzz_dup(data, size, 0);
	struct madt_info m;
	if (madt_parse(table, (uint32_t)size, &m) == ACPI_OK) {
		FUZZ_CHECK(m.count <= MADT_MAX_CPUS);
		for (uint32_t i = 0; i < m.count; i++)
			for (uint32_t j = i + 1; j < m.count; j++)
				FUZZ_CHECK(m.cpus[i].apic_id != m.cpus[j].apic_id);
		check_copy(table, (uint32_t)size, &m);
	}
	free(table);
	return 0;
}
