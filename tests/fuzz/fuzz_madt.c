/* madt_parse on an exactly sized copy of the input as a MADT (arch/x86/madt.h), header included. */
#include "arch/x86/madt.h"
#include "tests/fuzz/fuzz_common.h"

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
	}
	free(table);
	return 0;
}
