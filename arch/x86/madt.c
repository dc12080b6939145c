/* The processors of the ACPI MADT (see madt.h). Section numbers are ACPI 6.5's. */
#include "arch/x86/madt.h"
#include "lib/le.h"
#include "lib/str.h"

/* MADT layout (5.2.12, Table 5.19): the header, then these fields, then interrupt controller entries. */
#define MADT_OFF_LAPIC_ADDR ACPI_HDR_SIZE
#define MADT_OFF_FLAGS (ACPI_HDR_SIZE + 4)
#define MADT_OFF_ENTRIES (ACPI_HDR_SIZE + 8)

/* Every entry starts with its type and its length in bytes (Table 5.21). */
#define MADT_ENTRY_TYPE 0
#define MADT_ENTRY_LENGTH 1
#define MADT_ENTRY_MIN_LEN 2

/* Processor Local APIC (5.2.12.2, Table 5.22). */
#define MADT_TYPE_LAPIC 0
#define LAPIC_LEN 8
#define LAPIC_OFF_UID 2
#define LAPIC_OFF_ID 3
#define LAPIC_OFF_FLAGS 4

/* Local APIC Address Override (5.2.12.8, Table 5.31). */
#define MADT_TYPE_LAPIC_OVERRIDE 5
#define LAPIC_OVERRIDE_LEN 12
#define LAPIC_OVERRIDE_OFF_ADDR 4

/* Processor Local x2APIC (5.2.12.12, Table 5.37). */
#define MADT_TYPE_X2APIC 9
#define X2APIC_LEN 16
#define X2APIC_OFF_ID 4
#define X2APIC_OFF_FLAGS 8
#define X2APIC_OFF_UID 12

/* The flags that make a processor entry usable in a MADT of this revision (Table 5.23). */
static uint32_t usable_flags(uint8_t revision)
{
	return revision >= MADT_REVISION_ONLINE_CAPABLE ? MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE
							: MADT_LAPIC_ENABLED;
}

/* Record one processor entry, unless it is unusable or repeats an APIC ID. */
static void add_cpu(struct madt_info *m, uint32_t apic_id, uint32_t uid, uint32_t flags, bool x2apic)
{
	if (!(flags & usable_flags(m->revision))) {
		m->disabled++;
		return;
	}
	for (uint32_t i = 0; i < m->count; i++) {
		if (m->cpus[i].apic_id == apic_id) {
			m->duplicates++;
			return;
		}
	}
	if (m->count == MADT_MAX_CPUS) {
		m->dropped++;
		return;
	}
	m->cpus[m->count++] = (struct madt_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.x2apic_entry = x2apic,
		.online_capable = !(flags & MADT_LAPIC_ENABLED),
	};
}

/* Decode one entry of elen (>= MADT_ENTRY_MIN_LEN) bytes at e; false if its length is too short. */
static bool parse_entry(struct madt_info *m, const uint8_t *e, uint32_t elen)
{
	switch (e[MADT_ENTRY_TYPE]) {
	case MADT_TYPE_LAPIC:
		if (elen < LAPIC_LEN)
			return false;
		if (e[LAPIC_OFF_ID] == MADT_XAPIC_ID_NONE)
			m->disabled++;
		else
			add_cpu(m, e[LAPIC_OFF_ID], e[LAPIC_OFF_UID], le32_load(e + LAPIC_OFF_FLAGS), false);
		return true;
	case MADT_TYPE_X2APIC:
		if (elen < X2APIC_LEN)
			return false;
		add_cpu(m, le32_load(e + X2APIC_OFF_ID), le32_load(e + X2APIC_OFF_UID),
			le32_load(e + X2APIC_OFF_FLAGS), true);
		return true;
	case MADT_TYPE_LAPIC_OVERRIDE:
		if (elen < LAPIC_OVERRIDE_LEN)
			return false;
		m->lapic_phys = le64_load(e + LAPIC_OVERRIDE_OFF_ADDR);
		return true;
	default: /* I/O APICs, overrides, NMI sources...: not hapvisor's business */
		return true;
	}
}

enum acpi_err madt_parse(const void *table, uint32_t len, struct madt_info *out)
{
	const uint8_t *p = table;
	if (!p || len < MADT_OFF_ENTRIES)
		return ACPI_ERR_LENGTH;
	struct madt_info m;
	memset(&m, 0, sizeof(m));
	m.revision = p[ACPI_HDR_REVISION];
	m.lapic_phys = le32_load(p + MADT_OFF_LAPIC_ADDR);
	m.flags = le32_load(p + MADT_OFF_FLAGS);
	for (uint32_t off = MADT_OFF_ENTRIES; off < len;) {
		if (len - off < MADT_ENTRY_MIN_LEN)
			return ACPI_ERR_MALFORMED;
		uint32_t elen = p[off + MADT_ENTRY_LENGTH];
		if (elen < MADT_ENTRY_MIN_LEN || elen > len - off || !parse_entry(&m, p + off, elen))
			return ACPI_ERR_MALFORMED;
		off += elen;
	}
	*out = m;
	return ACPI_OK;
}

static bool listed(uint32_t apic_id, const uint32_t *apic_ids, uint32_t count)
{
	for (uint32_t i = 0; i < count; i++)
		if (apic_ids[i] == apic_id)
			return true;
	return false;
}

/* In the copy's entry e (a processor entry of type 0 or 9), clear the usable flags unless the ID is kept. */
static void copy_cpu_entry(uint8_t *flags_at, uint32_t apic_id, const uint32_t *apic_ids, uint32_t count,
			   uint8_t revision, struct madt_copy_stats *st)
{
	uint32_t flags = le32_load(flags_at);
	if (!(flags & usable_flags(revision)))
		return;
	if (listed(apic_id, apic_ids, count)) {
		st->kept++;
		return;
	}
	le32_store(flags_at, flags & ~(uint32_t)(MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE));
	st->disabled++;
}

struct madt_copy_stats madt_copy_for_guest(const void *src, uint32_t len, void *dst, const uint32_t *apic_ids,
					   uint32_t count)
{
	struct madt_copy_stats st = {0, 0};
	uint8_t *d = dst;
	memcpy(d, src, len);
	uint8_t revision = d[ACPI_HDR_REVISION];
	/* The same walk as madt_parse(): every entry's length is checked before a byte of it is read. */
	for (uint32_t off = MADT_OFF_ENTRIES; off < len && len - off >= MADT_ENTRY_MIN_LEN;) {
		uint8_t *e = d + off;
		uint32_t elen = e[MADT_ENTRY_LENGTH];
		if (elen < MADT_ENTRY_MIN_LEN || elen > len - off)
			break;
		if (e[MADT_ENTRY_TYPE] == MADT_TYPE_LAPIC && elen >= LAPIC_LEN &&
		    e[LAPIC_OFF_ID] != MADT_XAPIC_ID_NONE)
			copy_cpu_entry(e + LAPIC_OFF_FLAGS, e[LAPIC_OFF_ID], apic_ids, count, revision, &st);
		else if (e[MADT_ENTRY_TYPE] == MADT_TYPE_X2APIC && elen >= X2APIC_LEN)
			copy_cpu_entry(e + X2APIC_OFF_FLAGS, le32_load(e + X2APIC_OFF_ID), apic_ids, count,
				       revision, &st);
		off += elen;
	}
	acpi_table_set_checksum(d, len);
	return st;
}
