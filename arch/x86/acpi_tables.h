/*
 * ACPI table discovery (ACPI 6.5, chapter 5.2): validate the RSDP, walk the XSDT (or RSDT), find tables by
 * signature, decode what hapvisor needs from the FADT and find the \_S5_ sleep package in the DSDT; and
 * the pieces of the guest's own copies: a root table with one entry replaced, an RSDP pointed at them.
 *
 * Pure logic: no port I/O, no privileged instructions, so it builds for the host unit tests unchanged.
 * Every table is read through phys_to_virt() (mm/phys.h), and only inside a caller-given physical window
 * [win_lo, win_hi): a pointer outside it, a length that does not fit, a bad signature or checksum is refused
 * before a byte beyond the checked range is read. Garbage tables cannot make these functions read out of
 * bounds or loop without end.
 */
#ifndef HV_ARCH_X86_ACPI_TABLES_H
#define HV_ARCH_X86_ACPI_TABLES_H

#include "lib/types.h"

/* Table signatures (ACPI 6.5 Table 5.5 and 5.6). */
#define ACPI_SIG_LEN 4
#define ACPI_SIG_RSDT "RSDT"
#define ACPI_SIG_XSDT "XSDT"
#define ACPI_SIG_FADT "FACP"
#define ACPI_SIG_DSDT "DSDT"
#define ACPI_SIG_MADT "APIC"

/* System description table header (ACPI 6.5 5.2.6, Table 5.4). */
#define ACPI_HDR_SIGNATURE 0
#define ACPI_HDR_LENGTH 4
#define ACPI_HDR_REVISION 8
#define ACPI_HDR_CHECKSUM 9
#define ACPI_HDR_OEM_ID 10
#define ACPI_HDR_SIZE 36

/* The longest table accepted: anything longer is taken for garbage. */
#define ACPI_TABLE_MAX_LEN MiB(16)

/* Generic Address Structure address spaces (ACPI 6.5 5.2.3.2, Table 5.1). */
#define ACPI_GAS_SYSTEM_MEMORY 0
#define ACPI_GAS_SYSTEM_IO 1
#define ACPI_GAS_PCI_CONFIG 2

/* PM1 control register bits (ACPI 6.5 4.8.3.2.1, Table 4.13). */
#define ACPI_PM1_CNT_SCI_EN BIT(0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (0x7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN BIT(13)

/* Sleep control register bits of hardware-reduced ACPI (ACPI 6.5 4.8.3.7, Table 4.19). */
#define ACPI_SLEEP_CTL_SLP_TYP_SHIFT 2
#define ACPI_SLEEP_CTL_SLP_EN BIT(5)

/* SLP_TYP is a 3-bit field (ACPI 6.5 4.8.3.2.1). */
#define ACPI_SLP_TYP_MAX 7

/* Why a step failed; acpi_strerror() gives the words. */
enum acpi_err {
	ACPI_OK = 0,
	ACPI_ERR_ABSENT,    /* no pointer / address 0 */
	ACPI_ERR_SIGNATURE, /* wrong signature */
	ACPI_ERR_CHECKSUM,  /* bytes do not sum to 0 */
	ACPI_ERR_LENGTH,    /* length field too small, too large or beyond the data given */
	ACPI_ERR_RANGE,	    /* outside the readable physical window */
	ACPI_ERR_NOT_FOUND, /* no (valid) table or object of that name */
	ACPI_ERR_MALFORMED, /* a field or an AML object that cannot be right */
};

/* A Generic Address Structure (ACPI 6.5 5.2.3.2). */
struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};

/* What the RSDP says (ACPI 6.5 5.2.5.3). */
struct acpi_rsdp {
	uint8_t revision; /* the RSDP's own revision byte: 0 = ACPI 1.0, 2 = ACPI 2.0 and later */
	uint64_t rsdt;	  /* physical; 0 if absent */
	uint64_t xsdt;	  /* physical; 0 if absent (revision 0, or the extended part was not given) */
};

/* A table that passed acpi_table_check(): ptr maps pa, and len bytes there are readable and summed to 0. */
struct acpi_table_ref {
	uint64_t pa;
	const uint8_t *ptr;
	uint32_t len;
};

/* The root table in use and the physical window every read stays inside. */
struct acpi_tables {
	uint64_t win_lo, win_hi;
	uint8_t rsdp_revision;
	bool xsdt;	    /* the root is the XSDT (8-byte entries), else the RSDT (4-byte entries) */
	bool xsdt_rejected; /* an XSDT was given but failed its checks; the RSDT serves instead */
	enum acpi_err xsdt_err;
	struct acpi_table_ref root;
};

/* What the FADT says about power management (ACPI 6.5 5.2.9, Table 5.9). */
struct acpi_fadt {
	uint8_t revision;
	uint32_t length;
	uint32_t flags;	     /* 0 when the table is too short to hold them */
	uint64_t dsdt;	     /* physical: X_DSDT when set, else DSDT; 0 if neither */
	uint64_t dsdt_alt;   /* the 32-bit DSDT if X_DSDT is used and differs (tried second); or 0 */
	uint16_t smi_cmd;    /* I/O port; 0: none (or not a valid port) */
	uint8_t acpi_enable; /* value to write to smi_cmd to enter ACPI mode; 0: none */
	uint16_t pm1a_cnt;   /* I/O port of PM1a_CNT_BLK; 0: none */
	uint16_t pm1b_cnt;   /* I/O port of PM1b_CNT_BLK; 0: none */
	uint16_t pm_tmr;     /* I/O port of the ACPI PM timer (PM_TMR_BLK, 4.8.3.3); 0: none */
	bool pm_tmr_32bit;   /* TMR_VAL_EXT: the PM timer counts 32 bits, else 24 */
	bool hw_reduced;     /* HW_REDUCED_ACPI: no PM1 blocks, sleep through sleep_ctl */
	bool have_sleep_ctl; /* SLEEP_CONTROL_REG present (hardware-reduced platforms) */
	struct acpi_gas sleep_ctl;
	bool reset_supported; /* RESET_REG_SUP set and the register present */
	struct acpi_gas reset_reg;
	uint8_t reset_value;
};

/* FADT Flags bits (ACPI 6.5 Table 5.10). */
#define ACPI_FADT_F_TMR_VAL_EXT BIT(8)
#define ACPI_FADT_F_RESET_REG_SUP BIT(10)
#define ACPI_FADT_F_HW_REDUCED_ACPI BIT(20)

/* The \_S5_ package: SLP_TYPa and SLP_TYPb of the soft-off state (ACPI 6.5 7.4.2.6). */
struct acpi_sleep_type {
	uint8_t slp_typa;
	uint8_t slp_typb;
};

/* Everything power-off and reset need, gathered by acpi_power_discover(). */
struct acpi_power_info {
	struct acpi_table_ref fadt_ref;
	struct acpi_fadt fadt;
	uint64_t dsdt_pa;	/* the DSDT \_S5_ came from (0 if none passed its checks) */
	enum acpi_err dsdt_err; /* why \_S5_ is unknown when have_s5 is false */
	bool have_s5;
	struct acpi_sleep_type s5;
};

/* Words for an error code ("bad checksum"); never NULL. */
const char *acpi_strerror(enum acpi_err err);

/*
 * acpi_rsdp_parse: validate an RSDP held in memory (the copy in a Multiboot2 tag) of len bytes at buf.
 * Checks the signature and the checksum of the first 20 bytes; for revision >= 2 also the Length field and
 * the extended checksum, when the extended part is present in buf (a 20-byte ACPI 1.0 copy of a newer RSDP
 * gives only its RSDT). Reads nothing beyond buf[len-1]. On ACPI_OK fills *out.
 */
enum acpi_err acpi_rsdp_parse(const void *buf, size_t len, struct acpi_rsdp *out);

/*
 * acpi_tables_init: choose the root table: the XSDT when the RSDP gives one and it passes its checks,
 * else the RSDT. Reads physical memory only inside [win_lo, win_hi) (and never page 0).
 * On ACPI_OK *t is ready for acpi_find_table(); otherwise the error of the last root tried.
 */
enum acpi_err acpi_tables_init(struct acpi_tables *t, const struct acpi_rsdp *rsdp, uint64_t win_lo,
			       uint64_t win_hi);

/*
 * acpi_table_check: validate the table at physical pa: inside the window, ACPI_HDR_SIZE <= length <=
 * ACPI_TABLE_MAX_LEN, whole table inside the window, checksum 0, and the signature sig (ACPI_SIG_LEN
 * characters) unless sig is NULL. On ACPI_OK fills *out.
 */
enum acpi_err acpi_table_check(const struct acpi_tables *t, uint64_t pa, const char *sig,
			       struct acpi_table_ref *out);

/*
 * acpi_find_table: the index-th (from 0) valid table with signature sig listed in the root table.
 * Entries whose header lies outside the window are skipped; a listed table with that signature that fails
 * its checks is skipped too (its error is returned if no valid one is found, else ACPI_ERR_NOT_FOUND).
 * Tables reached only through the FADT (DSDT, FACS) are not in the root: use acpi_power_discover().
 */
enum acpi_err acpi_find_table(const struct acpi_tables *t, const char *sig, uint32_t index,
			      struct acpi_table_ref *out);

/* acpi_table_set_checksum: set the header's checksum byte so that the len (>= ACPI_HDR_SIZE) bytes sum to 0.
 */
void acpi_table_set_checksum(void *table, uint32_t len);

/*
 * acpi_root_copy: copy the root table `root` (an XSDT when xsdt, else an RSDT; accepted by
 * acpi_table_check() in t's window) to dst with every entry that points to a table whose signature is sig
 * replaced: the first by new_pa, any further one left out (so the copy lists one table of that kind).
 * Entries whose header lies outside the window are copied as they are. The copy's Length and checksum are
 * set. Returns its length (at most root->len); with dst NULL only computes it. new_pa must fit the entry
 * width (below 4 GiB for an RSDT).
 */
uint32_t acpi_root_copy(const struct acpi_tables *t, const struct acpi_table_ref *root, bool xsdt,
			const char *sig, uint64_t new_pa, void *dst);

/*
 * acpi_rsdp_rewrite: point the RSDP of len bytes at rsdp (accepted by acpi_rsdp_parse()) at rsdt and, when
 * len holds the ACPI 2.0 part, at xsdt, and set both checksums (the first 20 bytes; then the whole
 * Length, which must be <= len). Signature, OEM ID and revision stay.
 */
void acpi_rsdp_rewrite(uint8_t *rsdp, size_t len, uint32_t rsdt, uint64_t xsdt);

/*
 * acpi_fadt_decode: decode a FADT of len bytes at fadt (already checked). Reads only fields that fit in
 * len, so revision 1 (116 bytes) through 6.x (276 bytes) tables all work. PM1 control ports come from
 * X_PM1x_CNT_BLK when it is set and in I/O space, else from PM1x_CNT_BLK; a "port" that does not fit
 * 16 bits is taken as absent. Returns ACPI_ERR_LENGTH if len cannot hold the fields up to the PM1 blocks.
 */
enum acpi_err acpi_fadt_decode(const void *fadt, uint32_t len, struct acpi_fadt *out);

/*
 * acpi_aml_find_s5: find Name(\_S5_, Package(n) {a, b, ...}) in the AML of a DSDT/SSDT of len bytes at
 * table (header included) by a bounded byte scan: NameOp, an optional root prefix '\', "_S5_", PackageOp,
 * PkgLength, NumElements >= 2, then two integers as ZeroOp, OneOp, Byte/Word/DWordPrefix or a bare byte,
 * each <= ACPI_SLP_TYP_MAX and inside both the package and the table. ACPI_ERR_MALFORMED if the name is
 * there but no well-formed package follows, ACPI_ERR_NOT_FOUND if the name is not there.
 */
enum acpi_err acpi_aml_find_s5(const void *table, uint32_t len, struct acpi_sleep_type *out);

/*
 * acpi_power_discover: find and decode the FADT, then find \_S5_ in its DSDT. Returns the FADT's error
 * (nothing is usable then); a missing or bad DSDT or \_S5_ only clears out->have_s5 and sets dsdt_err.
 */
enum acpi_err acpi_power_discover(const struct acpi_tables *t, struct acpi_power_info *out);

#endif
