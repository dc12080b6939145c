/*
 * The guest's ACPI tables: the processors the guest reads in the MADT are the ones it can use.
 *
 * The firmware's MADT lists every processor, but the guest may use only those hapvisor gives a vCPU:
 * processors parked by `cpus=`, processors that did not answer their start-up IPIs and processors beyond
 * hapvisor's limit are not among them. An OS that finds them listed as enabled tries to start each one
 * and waits (Linux: about 10 s each) for a processor that never comes. So the guest gets copies: the MADT
 * with those processors marked disabled, and the XSDT and RSDT with their MADT entry pointing at that
 * copy; the RSDP hapvisor hands the guest (in its boot information) points at the root copies. Every
 * other table (FADT, DSDT, ...) stays where the firmware put it and is shared.
 *
 * The copies live in one block of guest RAM below 4 GiB (the RSDT holds 32-bit addresses) that the
 * guest's memory map types ACPI reclaimable (E820 type 3), like the firmware's own tables, so no guest
 * allocates it before it has read its tables; the loader puts it in the highest free pages below 4 GiB
 * (guest/loader.c), away from the kernel, the modules, the boot information and hapvisor's region.
 *
 * Pure logic over tables read through phys_to_virt() (host unit tests, tests/unit/test_guest_acpi.c).
 */
#ifndef HV_GUEST_ACPI_H
#define HV_GUEST_ACPI_H

#include "arch/x86/acpi_tables.h"
#include "lib/types.h"

/* The processors the guest may use, by local APIC ID. */
struct guest_cpus {
	const uint32_t *apic_ids;
	uint32_t count;
};

/* The firmware tables the copies come from, and the block's layout (offsets from its start). */
struct guest_acpi {
	struct acpi_tables fw;	     /* the firmware's root in use, and the window tables are read in */
	struct acpi_table_ref madt;  /* the firmware MADT hapvisor read its processors from */
	struct acpi_table_ref xsdt;  /* ptr NULL: no usable XSDT (the copy's RSDP then names none) */
	struct acpi_table_ref rsdt;  /* ptr NULL: no usable RSDT */
	uint32_t xsdt_off, rsdt_off; /* the MADT copy is at offset 0 */
	uint32_t size;		     /* bytes of the block; 0: nothing to copy */
};

/*
 * guest_acpi_plan: from the firmware RSDP (rsdp_len bytes), find the MADT hapvisor uses (the first valid
 * one of the XSDT, else of the RSDT, as arch/x86/smp.c does) and each usable root table, and lay out the
 * block: MADT, XSDT, RSDT copies, each 8-byte aligned. Tables are read only inside [win_lo, win_hi).
 * Returns g->size, 0 when there is nothing to rewrite (no valid RSDP, root or MADT, or a MADT that
 * madt_parse() refuses: the guest then gets the firmware's RSDP as it is, and hapvisor, which found no
 * usable MADT either, already said it cannot keep processors from the guest).
 */
uint32_t guest_acpi_plan(struct guest_acpi *g, const uint8_t *rsdp, size_t rsdp_len, uint64_t win_lo,
			 uint64_t win_hi);

/*
 * guest_acpi_point_rsdp: rewrite the guest's copy of the RSDP (rsdp_len bytes, the bytes given to
 * guest_acpi_plan) to name the root copies of a block at guest-physical `block` (below 4 GiB), with its
 * checksums set; an absent root copy is named as 0.
 */
void guest_acpi_point_rsdp(const struct guest_acpi *g, uint64_t block, uint8_t *rsdp, size_t rsdp_len);

/* What guest_acpi_write() put in the MADT copy. */
struct guest_acpi_result {
	uint32_t cpus_kept, cpus_disabled;
};

/*
 * guest_acpi_write: write the block (g->size bytes at buf, which the guest sees at `block`): the MADT copy
 * keeping the processors of `cpus` (madt_copy_for_guest), the XSDT and RSDT copies whose MADT entry names
 * the copy (acpi_root_copy). Needs: the firmware tables still intact; buf not overlapping them.
 */
struct guest_acpi_result guest_acpi_write(const struct guest_acpi *g, const struct guest_cpus *cpus,
					  void *buf, uint64_t block);

#endif
