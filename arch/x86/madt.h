/*
 * The processors the firmware lists in the ACPI MADT (ACPI 6.5 5.2.12 "Multiple APIC Description Table"):
 * Processor Local APIC entries (type 0) and Processor Local x2APIC entries (type 9) that are enabled or
 * online-capable, and the local APIC's physical address (the table's own field, or a Local APIC Address
 * Override, type 5). Also the copy of the MADT the guest gets, with the processors it may not use marked
 * disabled (madt_copy_for_guest).
 *
 * Pure logic over a table already checked by acpi_table_check() (arch/x86/acpi_tables.h): it builds for the
 * host unit tests unchanged. Every entry's length is checked against the table before a byte of it is read;
 * a zero or short length, or an entry that runs past the table, stops the parse with ACPI_ERR_MALFORMED.
 */
#ifndef HV_ARCH_X86_MADT_H
#define HV_ARCH_X86_MADT_H

#include "arch/x86/acpi_tables.h"
#include "lib/types.h"

/* The most processors hapvisor keeps; further entries are counted in `dropped`. */
#define MADT_MAX_CPUS 64

/*
 * Local APIC flags (ACPI 6.5 Table 5.23): the processor may be used now, or brought online later. Online
 * Capable was reserved (0) before MADT revision 5 (ACPI 6.3): in an older table the bit means nothing.
 */
#define MADT_LAPIC_ENABLED BIT(0)
#define MADT_LAPIC_ONLINE_CAPABLE BIT(1)
#define MADT_REVISION_ONLINE_CAPABLE 5

/* An xAPIC ID of 0xFF in a type-0 entry names no processor (x2APIC systems list those as type 9). */
#define MADT_XAPIC_ID_NONE 0xFFu

struct madt_cpu {
	uint32_t apic_id;    /* local APIC ID (8-bit from type 0, 32-bit from type 9) */
	uint32_t uid;	     /* ACPI processor UID */
	bool x2apic_entry;   /* listed by a type-9 entry */
	bool online_capable; /* not enabled now, but may be brought online */
};

struct madt_info {
	uint8_t revision;    /* the table's (>= MADT_REVISION_ONLINE_CAPABLE: Online Capable is defined) */
	uint64_t lapic_phys; /* the local APIC's MMIO base for xAPIC mode */
	uint32_t flags;	     /* MADT flags (bit 0: PC-AT compatible 8259s present) */
	uint32_t count;	     /* entries in cpus[] */
	uint32_t dropped;    /* usable processors beyond MADT_MAX_CPUS */
	uint32_t disabled;   /* entries neither enabled nor (from revision 5) online-capable (ignored) */
	uint32_t duplicates; /* entries repeating an APIC ID already listed (ignored) */
	struct madt_cpu cpus[MADT_MAX_CPUS];
};

/*
 * madt_parse: decode the MADT of len bytes at table (header included, already checked). The processors
 * keep the table's order (the firmware lists the boot processor first by convention, but callers must not
 * rely on that: they match their own APIC ID). ACPI_ERR_LENGTH if len cannot hold the fixed part,
 * ACPI_ERR_MALFORMED for a bad entry (out is then untouched), else ACPI_OK.
 */
enum acpi_err madt_parse(const void *table, uint32_t len, struct madt_info *out);

/* What madt_copy_for_guest() did. */
struct madt_copy_stats {
	uint32_t kept;	   /* processor entries left usable: their APIC ID is one the guest may use */
	uint32_t disabled; /* processor entries it marked disabled */
};

/*
 * madt_copy_for_guest: copy the MADT of len bytes at src (which madt_parse() accepted) to dst (len bytes;
 * may not overlap src), marking every processor entry (types 0 and 9) whose APIC ID is not among
 * apic_ids[0..count) neither enabled nor online-capable, and setting the checksum so the copy sums to 0.
 * Everything else is copied unchanged (same length, same OEM fields, same I/O APICs and overrides), so an
 * OS reads the copy as it read the firmware's table, with those processors absent (ACPI 6.5 5.2.12.2: "the
 * OS must not attempt to use" a disabled processor). Entries usable only through a flag their revision
 * does not define stay as they are (the OS ignores them too). Returns what it kept and disabled.
 */
struct madt_copy_stats madt_copy_for_guest(const void *src, uint32_t len, void *dst, const uint32_t *apic_ids,
					   uint32_t count);

#endif
