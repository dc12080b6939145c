/*
 * arch/x86/acpi_tables.c over synthetic tables in a host arena that stands for physical memory at ARENA_PA
 * (mm/phys.h: phys_to_virt(pa) = pa + host_phys_offset). Every buffer is heap-allocated at its exact size,
 * so under ASan any read past a table, a DSDT or the arena fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "arch/x86/acpi_tables.h"
#include "mm/phys.h"
#include "tests/unit/host_stubs.h"

#define ARENA_PA 0x7F000000ull
#define ARENA_SIZE 0x10000u
#define FUZZ_ARENA_PA 0x40000000ull
#define FUZZ_ARENA_SIZE 0x2000u

/* Layout of the standard arena. */
#define OFF_RSDT 0x100
#define OFF_XSDT 0x200
#define OFF_FADT_A 0x400 /* listed by the RSDT */
#define OFF_FADT_B 0x600 /* listed by the XSDT */
#define OFF_MADT 0x800
#define OFF_DSDT 0x1000
#define OFF_DSDT_ALT 0x3000

/* Field offsets the tests write (ACPI 6.5 Tables 5.3, 5.9, 5.1). */
#define RSDP_CHECKSUM 8
#define RSDP_OEMID 9
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define FADT_DSDT 40
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_CNT 64
#define FADT_PM1B_CNT 68
#define FADT_PM_TMR 76
#define FADT_PM_TMR_LEN 91
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_DSDT 140
#define FADT_X_PM1A_CNT 172
#define FADT_X_PM1B_CNT 184
#define FADT_X_PM_TMR 208
#define FADT_SLEEP_CTL 244
#define FADT_V1_LEN 116
#define FADT_V3_LEN 244
#define FADT_V6_LEN 276

static uint8_t *arena;
static uint8_t *fuzz_arena;

/* ---- building blocks ---------------------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Set p[at] so that the len bytes at p sum to 0. */
static void fix_sum(uint8_t *p, size_t len, size_t at)
{
	uint8_t s = 0;
	p[at] = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)-s;
}

static uint64_t pa(uint32_t off)
{
	return ARENA_PA + off;
}

static uint8_t *at(uint32_t off)
{
	return arena + off;
}

/* A table header at arena offset off; the caller writes the body, then calls seal(). */
static uint8_t *table(uint32_t off, const char *sig, uint32_t len, uint8_t rev)
{
	uint8_t *p = at(off);
	memset(p, 0, len);
	memcpy(p, sig, 4);
	put32(p + ACPI_HDR_LENGTH, len);
	p[ACPI_HDR_REVISION] = rev;
	memcpy(p + ACPI_HDR_OEM_ID, "HAPVIS", 6);
	return p;
}

static void seal(uint32_t off)
{
	uint8_t *p = at(off);
	uint32_t len = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 | (uint32_t)p[7] << 24;
	fix_sum(p, len, ACPI_HDR_CHECKSUM);
}

/* An RSDP of the given revision in buf (RSDP_V2_LEN bytes); returns its length. */
static size_t make_rsdp(uint8_t *buf, uint8_t rev, uint64_t rsdt, uint64_t xsdt)
{
	memset(buf, 0, RSDP_V2_LEN);
	memcpy(buf, "RSD PTR ", 8);
	memcpy(buf + RSDP_OEMID, "HAPVIS", 6);
	buf[RSDP_REVISION] = rev;
	put32(buf + RSDP_RSDT, (uint32_t)rsdt);
	fix_sum(buf, RSDP_V1_LEN, RSDP_CHECKSUM);
	if (rev < 2)
		return RSDP_V1_LEN;
	put32(buf + RSDP_LENGTH, RSDP_V2_LEN);
	put64(buf + RSDP_XSDT, xsdt);
	fix_sum(buf, RSDP_V2_LEN, RSDP_EXT_CHECKSUM);
	return RSDP_V2_LEN;
}

/* A root table (XSDT or RSDT) at arena offset off listing the n physical addresses pas. */
static void make_root(uint32_t off, bool xsdt, const uint64_t *pas, size_t n)
{
	uint32_t esize = xsdt ? 8 : 4;
	uint8_t *p = table(off, xsdt ? "XSDT" : "RSDT", (uint32_t)(ACPI_HDR_SIZE + n * esize), 1);
	for (size_t i = 0; i < n; i++) {
		if (xsdt)
			put64(p + ACPI_HDR_SIZE + i * 8, pas[i]);
		else
			put32(p + ACPI_HDR_SIZE + i * 4, (uint32_t)pas[i]);
	}
	seal(off);
}

static void put_gas(uint8_t *p, uint8_t space, uint8_t width, uint64_t addr)
{
	memset(p, 0, 12);
	p[0] = space;
	p[1] = width;
	put64(p + 4, addr);
}

/* A revision 1 FADT (116 bytes), like SeaBIOS/Bochs give for i440fx: legacy fields only. */
static void make_fadt_v1(uint32_t off, uint32_t dsdt, uint32_t pm1a, uint32_t pm1b)
{
	uint8_t *p = table(off, "FACP", FADT_V1_LEN, 1);
	put32(p + FADT_DSDT, dsdt);
	put32(p + FADT_SMI_CMD, 0xB2);
	p[FADT_ACPI_ENABLE] = 0xF1;
	put32(p + FADT_PM1A_CNT, pm1a);
	put32(p + FADT_PM1B_CNT, pm1b);
	/* Flag set, but the table is too short to hold the register. */
	put32(p + FADT_FLAGS, ACPI_FADT_F_RESET_REG_SUP);
	seal(off);
}

/* A FADT of len bytes (>= 244) with X_ fields, like QEMU q35 (DSDT 0, X_DSDT set) and OVMF. */
static uint8_t *make_fadt_x(uint32_t off, uint32_t len, uint32_t dsdt, uint64_t x_dsdt, uint32_t pm1a,
			    uint64_t x_pm1a)
{
	uint8_t *p = table(off, "FACP", len, len >= FADT_V6_LEN ? 6 : 3);
	put32(p + FADT_DSDT, dsdt);
	put64(p + FADT_X_DSDT, x_dsdt);
	put32(p + FADT_SMI_CMD, 0xB2);
	p[FADT_ACPI_ENABLE] = 0x02;
	put32(p + FADT_PM1A_CNT, pm1a);
	put_gas(p + FADT_X_PM1A_CNT, ACPI_GAS_SYSTEM_IO, 16, x_pm1a);
	put32(p + FADT_FLAGS, ACPI_FADT_F_RESET_REG_SUP);
	put_gas(p + FADT_RESET_REG, ACPI_GAS_SYSTEM_IO, 8, 0xCF9);
	p[FADT_RESET_VALUE] = 0x06;
	seal(off);
	return p;
}

/* QEMU's DSDT bytes for Name (_S5, Package (0x04) { Zero, Zero, Zero, Zero }). */
static const uint8_t aml_s5_qemu[] = {0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};
/* SeaBIOS/Bochs-style Name (\_S5, Package (0x02) { 0x05, 0x07 }) with BytePrefix. */
static const uint8_t aml_s5_byteprefix[] = {
	0x08, '\\', '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0A, 0x05, 0x0A, 0x07,
};
/* Some AML before the name: Scope (\_SB) { Name (_S4X, One) } and an S5 reference without NameOp. */
static const uint8_t aml_prelude[] = {0x10, 0x0C, '\\', '_',  'S', 'B', '_', 0x08, '_',	 'S',
				      '4',  'X',  0x01, 0x70, '_', 'S', '5', '_',  0x60, 0x08};

/* A DSDT at off holding prelude + aml; returns its length. */
static uint32_t make_dsdt(uint32_t off, const uint8_t *aml, size_t n)
{
	uint32_t len = (uint32_t)(ACPI_HDR_SIZE + sizeof(aml_prelude) + n);
	uint8_t *p = table(off, "DSDT", len, 2);
	memcpy(p + ACPI_HDR_SIZE, aml_prelude, sizeof(aml_prelude));
	memcpy(p + ACPI_HDR_SIZE + sizeof(aml_prelude), aml, n);
	seal(off);
	return len;
}

/* Scan aml (after a header) in an exactly-sized heap copy, so ASan sees any overread. */
static enum acpi_err scan_exact(const uint8_t *aml, size_t n, struct acpi_sleep_type *out)
{
	size_t len = ACPI_HDR_SIZE + n;
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	memset(buf, 0, ACPI_HDR_SIZE);
	memcpy(buf + ACPI_HDR_SIZE, aml, n);
	enum acpi_err err = acpi_aml_find_s5(buf, (uint32_t)len, out);
	free(buf);
	return err;
}

static void init_tables(struct acpi_tables *t, uint8_t rev, uint64_t rsdt, uint64_t xsdt, enum acpi_err want)
{
	uint8_t buf[RSDP_V2_LEN];
	struct acpi_rsdp r;
	size_t n = make_rsdp(buf, rev, rsdt, xsdt);
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_OK);
	assert_int_equal(acpi_tables_init(t, &r, ARENA_PA, ARENA_PA + ARENA_SIZE), want);
}

static int group_setup(void **state)
{
	arena = malloc(ARENA_SIZE);
	fuzz_arena = malloc(FUZZ_ARENA_SIZE);
	return arena && fuzz_arena ? 0 : -1;
}

static int group_teardown(void **state)
{
	free(arena);
	free(fuzz_arena);
	return 0;
}

static int test_setup(void **state)
{
	memset(arena, 0, ARENA_SIZE);
	host_phys_offset = (uintptr_t)arena - (uintptr_t)ARENA_PA;
	return 0;
}

/* ---- RSDP (ACPI 6.5 5.2.5) ------------------------------------------------------------------------ */

static void test_rsdp_v1_good(void **state)
{
	uint8_t buf[RSDP_V2_LEN];
	struct acpi_rsdp r;
	size_t n = make_rsdp(buf, 0, 0x7FFE1234, 0);
	assert_int_equal(n, RSDP_V1_LEN);
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_OK);
	assert_int_equal(r.revision, 0);
	assert_int_equal(r.rsdt, 0x7FFE1234);
	assert_int_equal(r.xsdt, 0);
}

static void test_rsdp_v2_good(void **state)
{
	uint8_t buf[RSDP_V2_LEN];
	struct acpi_rsdp r;
	size_t n = make_rsdp(buf, 2, 0x7FFE1234, 0x17FFE0000ull);
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_OK);
	assert_int_equal(r.revision, 2);
	assert_int_equal(r.rsdt, 0x7FFE1234);
	assert_int_equal(r.xsdt, 0x17FFE0000ull);
	/* A Multiboot2 tag may be padded beyond Length: fine. */
	uint8_t big[48] = {0};
	memcpy(big, buf, n);
	assert_int_equal(acpi_rsdp_parse(big, sizeof(big), &r), ACPI_OK);
}

static void test_rsdp_bad(void **state)
{
	uint8_t buf[RSDP_V2_LEN];
	struct acpi_rsdp r;
	size_t n = make_rsdp(buf, 0, 0x1000, 0);
	buf[RSDP_RSDT] ^= 1;
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_ERR_CHECKSUM);

	n = make_rsdp(buf, 0, 0x1000, 0);
	buf[0] = 'X';
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_ERR_SIGNATURE);

	n = make_rsdp(buf, 0, 0x1000, 0);
	assert_int_equal(acpi_rsdp_parse(buf, n - 1, &r), ACPI_ERR_LENGTH);
	assert_int_equal(acpi_rsdp_parse(NULL, 0, &r), ACPI_ERR_ABSENT);

	n = make_rsdp(buf, 0, 0, 0); /* valid, but points nowhere */
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_ERR_ABSENT);
}

static void test_rsdp_v2_bad_extended(void **state)
{
	uint8_t buf[RSDP_V2_LEN];
	struct acpi_rsdp r;
	size_t n = make_rsdp(buf, 2, 0x1000, 0x2000);
	buf[RSDP_XSDT] ^= 0x10; /* first checksum still good, extended one broken */
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_ERR_CHECKSUM);

	n = make_rsdp(buf, 2, 0x1000, 0x2000);
	put32(buf + RSDP_LENGTH, 64); /* longer than the data given */
	fix_sum(buf, RSDP_V1_LEN, RSDP_CHECKSUM);
	fix_sum(buf, RSDP_V2_LEN, RSDP_EXT_CHECKSUM);
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_ERR_LENGTH);

	n = make_rsdp(buf, 2, 0x1000, 0x2000);
	put32(buf + RSDP_LENGTH, 20); /* too short for an ACPI 2.0 RSDP */
	fix_sum(buf, RSDP_V2_LEN, RSDP_EXT_CHECKSUM);
	assert_int_equal(acpi_rsdp_parse(buf, n, &r), ACPI_ERR_LENGTH);
}

static void test_rsdp_v2_only_v1_part_given(void **state)
{
	/* Multiboot2 tag 14 holds the first 20 bytes: the RSDT is usable, the XSDT is not known. */
	uint8_t buf[RSDP_V2_LEN];
	struct acpi_rsdp r;
	make_rsdp(buf, 2, 0x1000, 0x2000);
	uint8_t *copy = malloc(RSDP_V1_LEN);
	memcpy(copy, buf, RSDP_V1_LEN);
	assert_int_equal(acpi_rsdp_parse(copy, RSDP_V1_LEN, &r), ACPI_OK);
	assert_int_equal(r.rsdt, 0x1000);
	assert_int_equal(r.xsdt, 0);
	free(copy);
}

/* ---- root tables and lookup (5.2.6-5.2.8) --------------------------------------------------------- */

static void build_two_roots(void)
{
	make_fadt_v1(OFF_FADT_A, (uint32_t)pa(OFF_DSDT), 0xB004, 0);
	make_fadt_x(OFF_FADT_B, FADT_V6_LEN, 0, pa(OFF_DSDT), 0, 0x604);
	table(OFF_MADT, "APIC", 44, 4);
	seal(OFF_MADT);
	uint64_t r[] = {pa(OFF_FADT_A), pa(OFF_MADT)};
	uint64_t x[] = {pa(OFF_MADT), pa(OFF_FADT_B)};
	make_root(OFF_RSDT, false, r, 2);
	make_root(OFF_XSDT, true, x, 2);
	make_dsdt(OFF_DSDT, aml_s5_qemu, sizeof(aml_s5_qemu));
}

static void test_xsdt_preferred(void **state)
{
	struct acpi_tables t;
	struct acpi_table_ref ref;
	build_two_roots();
	init_tables(&t, 2, pa(OFF_RSDT), pa(OFF_XSDT), ACPI_OK);
	assert_true(t.xsdt);
	assert_false(t.xsdt_rejected);
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_FADT, 0, &ref), ACPI_OK);
	assert_int_equal(ref.pa, pa(OFF_FADT_B));
	assert_int_equal(ref.len, FADT_V6_LEN);
	assert_ptr_equal(ref.ptr, at(OFF_FADT_B));
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_MADT, 0, &ref), ACPI_OK);
	assert_int_equal(ref.pa, pa(OFF_MADT));
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_MADT, 1, &ref), ACPI_ERR_NOT_FOUND);
	assert_int_equal(acpi_find_table(&t, "HPET", 0, &ref), ACPI_ERR_NOT_FOUND);
}

static void test_rsdt_when_v1_or_xsdt_bad(void **state)
{
	struct acpi_tables t;
	struct acpi_table_ref ref;
	build_two_roots();
	init_tables(&t, 0, pa(OFF_RSDT), 0, ACPI_OK);
	assert_false(t.xsdt);
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_FADT, 0, &ref), ACPI_OK);
	assert_int_equal(ref.pa, pa(OFF_FADT_A));

	at(OFF_XSDT)[ACPI_HDR_SIZE] ^= 1; /* XSDT checksum broken: fall back to the RSDT */
	init_tables(&t, 2, pa(OFF_RSDT), pa(OFF_XSDT), ACPI_OK);
	assert_false(t.xsdt);
	assert_true(t.xsdt_rejected);
	assert_int_equal(t.xsdt_err, ACPI_ERR_CHECKSUM);
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_FADT, 0, &ref), ACPI_OK);
	assert_int_equal(ref.pa, pa(OFF_FADT_A));

	/* XSDT outside readable memory and no RSDT: nothing. */
	init_tables(&t, 2, 0, 0x100000000ull, ACPI_ERR_RANGE);
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_FADT, 0, &ref), ACPI_ERR_ABSENT);
	/* The RSDT has the wrong signature. */
	init_tables(&t, 0, pa(OFF_MADT), 0, ACPI_ERR_SIGNATURE);
}

static void test_table_check_rejects(void **state)
{
	struct acpi_tables t;
	struct acpi_table_ref ref;
	build_two_roots();
	init_tables(&t, 2, pa(OFF_RSDT), pa(OFF_XSDT), ACPI_OK);

	assert_int_equal(acpi_table_check(&t, pa(OFF_MADT), "APIC", &ref), ACPI_OK);
	assert_int_equal(acpi_table_check(&t, pa(OFF_MADT), NULL, &ref), ACPI_OK);
	assert_int_equal(acpi_table_check(&t, pa(OFF_MADT), "FACP", &ref), ACPI_ERR_SIGNATURE);
	assert_int_equal(acpi_table_check(&t, 0, "APIC", &ref), ACPI_ERR_ABSENT);
	assert_int_equal(acpi_table_check(&t, ARENA_PA - 1, NULL, &ref), ACPI_ERR_RANGE);
	assert_int_equal(acpi_table_check(&t, 0x10, NULL, &ref), ACPI_ERR_RANGE);
	assert_int_equal(acpi_table_check(&t, ~0ull - 8, NULL, &ref), ACPI_ERR_RANGE);
	/* Header straddling the end of the window. */
	assert_int_equal(acpi_table_check(&t, pa(ARENA_SIZE - 20), NULL, &ref), ACPI_ERR_RANGE);

	uint8_t *m = at(OFF_MADT);
	put32(m + ACPI_HDR_LENGTH, 35);
	seal(OFF_MADT);
	assert_int_equal(acpi_table_check(&t, pa(OFF_MADT), "APIC", &ref), ACPI_ERR_LENGTH);
	put32(m + ACPI_HDR_LENGTH, (uint32_t)ACPI_TABLE_MAX_LEN + 1);
	assert_int_equal(acpi_table_check(&t, pa(OFF_MADT), "APIC", &ref), ACPI_ERR_LENGTH);
	put32(m + ACPI_HDR_LENGTH, ARENA_SIZE); /* runs past the end of readable memory */
	assert_int_equal(acpi_table_check(&t, pa(OFF_MADT), "APIC", &ref), ACPI_ERR_RANGE);
	put32(m + ACPI_HDR_LENGTH, 44);
	seal(OFF_MADT);
	m[40] ^= 0x55;
	assert_int_equal(acpi_table_check(&t, pa(OFF_MADT), "APIC", &ref), ACPI_ERR_CHECKSUM);
	/* A bad listed MADT is skipped and its error reported. */
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_MADT, 0, &ref), ACPI_ERR_CHECKSUM);
}

static void test_find_skips_bad_entries(void **state)
{
	struct acpi_tables t;
	struct acpi_table_ref ref;
	table(0x900, "APIC", 40, 1);
	seal(0x900);
	table(0xA00, "APIC", 48, 1); /* bad checksum: skipped */
	seal(0xA00);
	at(0xA00)[44] = 1;
	table(0xB00, "APIC", 52, 1);
	seal(0xB00);
	uint64_t x[] = {0, 0xFFFFFFFFFFFFF000ull, pa(ARENA_SIZE - 8), pa(0x900), pa(0xA00), 0x10, pa(0xB00)};
	make_root(OFF_XSDT, true, x, ARRAY_SIZE(x));
	/* A trailing partial entry is ignored. */
	put32(at(OFF_XSDT) + ACPI_HDR_LENGTH, (uint32_t)(ACPI_HDR_SIZE + ARRAY_SIZE(x) * 8 + 3));
	seal(OFF_XSDT);
	init_tables(&t, 2, 0, pa(OFF_XSDT), ACPI_OK);
	assert_int_equal(acpi_find_table(&t, "APIC", 0, &ref), ACPI_OK);
	assert_int_equal(ref.pa, pa(0x900));
	assert_int_equal(acpi_find_table(&t, "APIC", 1, &ref), ACPI_OK);
	assert_int_equal(ref.pa, pa(0xB00));
	assert_int_equal(acpi_find_table(&t, "APIC", 2, &ref), ACPI_ERR_CHECKSUM);
}

/* ---- FADT (5.2.9) --------------------------------------------------------------------------------- */

static void test_fadt_v1(void **state)
{
	struct acpi_fadt f;
	make_fadt_v1(OFF_FADT_A, 0x7FFE0040, 0xB004, 0xB104);
	assert_int_equal(acpi_fadt_decode(at(OFF_FADT_A), FADT_V1_LEN, &f), ACPI_OK);
	assert_int_equal(f.revision, 1);
	assert_int_equal(f.dsdt, 0x7FFE0040);
	assert_int_equal(f.dsdt_alt, 0);
	assert_int_equal(f.pm1a_cnt, 0xB004);
	assert_int_equal(f.pm1b_cnt, 0xB104);
	assert_int_equal(f.smi_cmd, 0xB2);
	assert_int_equal(f.acpi_enable, 0xF1);
	assert_false(f.reset_supported); /* flag set, but a 116-byte FADT has no RESET_REG */
	assert_false(f.hw_reduced);
	assert_false(f.have_sleep_ctl);
	assert_int_equal(acpi_fadt_decode(at(OFF_FADT_A), 71, &f), ACPI_ERR_LENGTH);
	/* Only up to the PM1 blocks: still decodable, no flags. */
	assert_int_equal(acpi_fadt_decode(at(OFF_FADT_A), 72, &f), ACPI_OK);
	assert_int_equal(f.flags, 0);
}

static void test_fadt_x_fields(void **state)
{
	struct acpi_fadt f;
	uint8_t *p = make_fadt_x(OFF_FADT_B, FADT_V3_LEN, 0x7FFE0040, 0x17FFE0000ull, 0xB004, 0x604);
	assert_int_equal(acpi_fadt_decode(p, FADT_V3_LEN, &f), ACPI_OK);
	assert_int_equal(f.revision, 3);
	assert_int_equal(f.dsdt, 0x17FFE0000ull);
	assert_int_equal(f.dsdt_alt, 0x7FFE0040);
	assert_int_equal(f.pm1a_cnt, 0x604); /* X_PM1a_CNT_BLK wins */
	assert_int_equal(f.pm1b_cnt, 0);
	assert_true(f.reset_supported);
	assert_int_equal(f.reset_reg.space_id, ACPI_GAS_SYSTEM_IO);
	assert_int_equal(f.reset_reg.bit_width, 8);
	assert_int_equal(f.reset_reg.address, 0xCF9);
	assert_int_equal(f.reset_value, 0x06);
	assert_false(f.have_sleep_ctl); /* a 244-byte FADT has none */

	/* X_PM1a in memory space: the legacy port serves. X_DSDT 0: the 32-bit DSDT serves. */
	put_gas(p + FADT_X_PM1A_CNT, ACPI_GAS_SYSTEM_MEMORY, 16, 0xFED00004);
	put64(p + FADT_X_DSDT, 0);
	assert_int_equal(acpi_fadt_decode(p, FADT_V3_LEN, &f), ACPI_OK);
	assert_int_equal(f.pm1a_cnt, 0xB004);
	assert_int_equal(f.dsdt, 0x7FFE0040);
	assert_int_equal(f.dsdt_alt, 0);

	/* A port beyond 16 bits is no port. Reset flag clear: no reset register. */
	put_gas(p + FADT_X_PM1A_CNT, ACPI_GAS_SYSTEM_IO, 16, 0x10604);
	put32(p + FADT_PM1A_CNT, 0x20000);
	put32(p + FADT_SMI_CMD, 0x100B2);
	put32(p + FADT_FLAGS, 0);
	assert_int_equal(acpi_fadt_decode(p, FADT_V3_LEN, &f), ACPI_OK);
	assert_int_equal(f.pm1a_cnt, 0);
	assert_int_equal(f.smi_cmd, 0);
	assert_false(f.reset_supported);

	/* Shorter than X_PM1a_CNT_BLK: the X_ GAS is not read. */
	put_gas(p + FADT_X_PM1A_CNT, ACPI_GAS_SYSTEM_IO, 16, 0x604);
	put32(p + FADT_PM1A_CNT, 0xB004);
	assert_int_equal(acpi_fadt_decode(p, FADT_X_PM1A_CNT + 11, &f), ACPI_OK);
	assert_int_equal(f.pm1a_cnt, 0xB004);
}

/* The ACPI PM timer block (4.8.3.3), the TSC's second reference clock (arch/x86/tsc.h). */
static void test_fadt_pm_timer(void **state)
{
	struct acpi_fadt f;
	make_fadt_v1(OFF_FADT_A, 0x7FFE0040, 0xB004, 0);
	uint8_t *p = at(OFF_FADT_A);
	put32(p + FADT_PM_TMR, 0xB008); /* Bochs / PIIX4: PM base 0xB000 + 8, 24 bits */
	p[FADT_PM_TMR_LEN] = 4;
	seal(OFF_FADT_A);
	assert_int_equal(acpi_fadt_decode(p, FADT_V1_LEN, &f), ACPI_OK);
	assert_int_equal(f.pm_tmr, 0xB008);
	assert_false(f.pm_tmr_32bit);
	/* PM_TMR_LEN other than 4: no usable timer. Too short to hold PM_TMR_LEN: none either. */
	p[FADT_PM_TMR_LEN] = 2;
	assert_int_equal(acpi_fadt_decode(p, FADT_V1_LEN, &f), ACPI_OK);
	assert_int_equal(f.pm_tmr, 0);
	p[FADT_PM_TMR_LEN] = 4;
	assert_int_equal(acpi_fadt_decode(p, FADT_PM_TMR_LEN, &f), ACPI_OK);
	assert_int_equal(f.pm_tmr, 0);

	/* X_PM_TMR_BLK in I/O space wins (q35: 0x608), TMR_VAL_EXT makes it 32-bit. */
	p = make_fadt_x(OFF_FADT_B, FADT_V6_LEN, 0, pa(OFF_DSDT), 0, 0x604);
	put32(p + FADT_PM_TMR, 0xB008);
	p[FADT_PM_TMR_LEN] = 4;
	put_gas(p + FADT_X_PM_TMR, ACPI_GAS_SYSTEM_IO, 32, 0x608);
	put32(p + FADT_FLAGS, ACPI_FADT_F_TMR_VAL_EXT);
	assert_int_equal(acpi_fadt_decode(p, FADT_V6_LEN, &f), ACPI_OK);
	assert_int_equal(f.pm_tmr, 0x608);
	assert_true(f.pm_tmr_32bit);
	/* Absent timer (both fields 0): TMR_VAL_EXT alone means nothing. */
	put32(p + FADT_PM_TMR, 0);
	put_gas(p + FADT_X_PM_TMR, ACPI_GAS_SYSTEM_IO, 32, 0);
	assert_int_equal(acpi_fadt_decode(p, FADT_V6_LEN, &f), ACPI_OK);
	assert_int_equal(f.pm_tmr, 0);
	assert_false(f.pm_tmr_32bit);
}

static void test_fadt_hw_reduced(void **state)
{
	struct acpi_fadt f;
	uint8_t *p = make_fadt_x(OFF_FADT_B, FADT_V6_LEN, 0, pa(OFF_DSDT), 0, 0);
	put32(p + FADT_FLAGS, ACPI_FADT_F_HW_REDUCED_ACPI);
	put_gas(p + FADT_SLEEP_CTL, ACPI_GAS_SYSTEM_IO, 8, 0x404);
	assert_int_equal(acpi_fadt_decode(p, FADT_V6_LEN, &f), ACPI_OK);
	assert_true(f.hw_reduced);
	assert_int_equal(f.pm1a_cnt, 0);
	assert_true(f.have_sleep_ctl);
	assert_int_equal(f.sleep_ctl.address, 0x404);
	assert_false(f.reset_supported);
}

/* ---- \_S5_ in AML (7.4.2, 20.2) -------------------------------------------------------------------- */

static void test_s5_qemu_and_bochs_forms(void **state)
{
	struct acpi_sleep_type s = {9, 9};
	assert_int_equal(scan_exact(aml_s5_qemu, sizeof(aml_s5_qemu), &s), ACPI_OK);
	assert_int_equal(s.slp_typa, 0);
	assert_int_equal(s.slp_typb, 0);
	assert_int_equal(scan_exact(aml_s5_byteprefix, sizeof(aml_s5_byteprefix), &s), ACPI_OK);
	assert_int_equal(s.slp_typa, 5);
	assert_int_equal(s.slp_typb, 7);

	/* OneOp, WordPrefix, bare byte; a two-byte PkgLength (0x40 | low nibble, then the next byte). */
	const uint8_t mixed[] = {0x08, '_', 'S', '5', '_', 0x12, 0x47, 0x00, 0x03, 0x01, 0x0B, 0x03, 0x00};
	assert_int_equal(scan_exact(mixed, sizeof(mixed), &s), ACPI_OK);
	assert_int_equal(s.slp_typa, 1);
	assert_int_equal(s.slp_typb, 3);
	const uint8_t bare[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x07, 0x06};
	assert_int_equal(scan_exact(bare, sizeof(bare), &s), ACPI_OK);
	assert_int_equal(s.slp_typa, 7);
	assert_int_equal(s.slp_typb, 6);
	const uint8_t dword[] = {0x08, '_', 'S', '5', '_',  0x12, 0x0C, 0x02, 0x0C,
				 0x02, 0,   0,	 0,   0x0C, 0x04, 0,	0,    0};
	assert_int_equal(scan_exact(dword, sizeof(dword), &s), ACPI_OK);
	assert_int_equal(s.slp_typa, 2);
	assert_int_equal(s.slp_typb, 4);
}

static void test_s5_malformed_and_missing(void **state)
{
	struct acpi_sleep_type s;
	const uint8_t one_elem[] = {0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x00, 0x00};
	assert_int_equal(scan_exact(one_elem, sizeof(one_elem), &s), ACPI_ERR_MALFORMED);
	const uint8_t too_big[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0A, 0x08, 0x00};
	assert_int_equal(scan_exact(too_big, sizeof(too_big), &s), ACPI_ERR_MALFORMED);
	const uint8_t string_elem[] = {0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0D, 'a', 0x00};
	assert_int_equal(scan_exact(string_elem, sizeof(string_elem), &s), ACPI_ERR_MALFORMED);
	/* PkgLength shorter than its elements: the second element lies outside the package. */
	const uint8_t short_pkg[] = {0x08, '_', 'S', '5', '_', 0x12, 0x03, 0x02, 0x00, 0x00};
	assert_int_equal(scan_exact(short_pkg, sizeof(short_pkg), &s), ACPI_ERR_MALFORMED);
	/* PkgLength with reserved bits 5:4 set. */
	const uint8_t reserved[] = {0x08, '_', 'S', '5', '_', 0x12, 0x76, 0x00, 0x02, 0x00, 0x00};
	assert_int_equal(scan_exact(reserved, sizeof(reserved), &s), ACPI_ERR_MALFORMED);
	/* A malformed first occurrence does not hide a good second one. */
	uint8_t twice[sizeof(one_elem) + sizeof(aml_s5_byteprefix)];
	memcpy(twice, one_elem, sizeof(one_elem));
	memcpy(twice + sizeof(one_elem), aml_s5_byteprefix, sizeof(aml_s5_byteprefix));
	assert_int_equal(scan_exact(twice, sizeof(twice), &s), ACPI_OK);
	assert_int_equal(s.slp_typa, 5);

	/* Not a Name(_S5_, Package): a method, a reference, another name. */
	const uint8_t method[] = {0x14, 0x08, '_', 'S', '5', '_', 0x00, 0xA4, 0x00};
	assert_int_equal(scan_exact(method, sizeof(method), &s), ACPI_ERR_NOT_FOUND);
	const uint8_t name_int[] = {0x08, '_', 'S', '5', '_', 0x0A, 0x05, 0x00, 0x00, 0x00};
	assert_int_equal(scan_exact(name_int, sizeof(name_int), &s), ACPI_ERR_NOT_FOUND);
	const uint8_t s4[] = {0x08, '_', 'S', '4', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00};
	assert_int_equal(scan_exact(s4, sizeof(s4), &s), ACPI_ERR_NOT_FOUND);
	assert_int_equal(scan_exact(aml_prelude, 0, &s), ACPI_ERR_NOT_FOUND);
	uint8_t small[8] = {0x08, '_', 'S', '5'};
	assert_int_equal(acpi_aml_find_s5(small, sizeof(small), &s), ACPI_ERR_NOT_FOUND);
}

static void test_s5_truncated(void **state)
{
	/* Every cut of a table that ends with the package: never read past the cut, never a result. */
	const uint8_t *forms[] = {aml_s5_qemu, aml_s5_byteprefix};
	const size_t sizes[] = {sizeof(aml_s5_qemu), sizeof(aml_s5_byteprefix)};
	for (size_t f = 0; f < 2; f++) {
		for (size_t cut = 0; cut < sizes[f]; cut++) {
			struct acpi_sleep_type s;
			enum acpi_err err = scan_exact(forms[f], cut, &s);
			assert_true(err == ACPI_ERR_NOT_FOUND || err == ACPI_ERR_MALFORMED);
		}
	}
}

/* ---- the whole path (what power_init() does) ----------------------------------------------------- */

static void test_discover_q35_like(void **state)
{
	struct acpi_tables t;
	struct acpi_power_info pi;
	build_two_roots();
	init_tables(&t, 2, pa(OFF_RSDT), pa(OFF_XSDT), ACPI_OK);
	assert_int_equal(acpi_power_discover(&t, &pi), ACPI_OK);
	assert_int_equal(pi.fadt_ref.pa, pa(OFF_FADT_B));
	assert_int_equal(pi.fadt.pm1a_cnt, 0x604);
	assert_true(pi.have_s5);
	assert_int_equal(pi.dsdt_pa, pa(OFF_DSDT));
	assert_int_equal(pi.s5.slp_typa, 0);
	assert_true(pi.fadt.reset_supported);
}

static void test_discover_i440fx_like(void **state)
{
	struct acpi_tables t;
	struct acpi_power_info pi;
	make_fadt_v1(OFF_FADT_A, (uint32_t)pa(OFF_DSDT), 0xB004, 0);
	uint64_t r[] = {pa(OFF_FADT_A)};
	make_root(OFF_RSDT, false, r, 1);
	make_dsdt(OFF_DSDT, aml_s5_byteprefix, sizeof(aml_s5_byteprefix));
	init_tables(&t, 0, pa(OFF_RSDT), 0, ACPI_OK);
	assert_int_equal(acpi_power_discover(&t, &pi), ACPI_OK);
	assert_int_equal(pi.fadt.pm1a_cnt, 0xB004);
	assert_true(pi.have_s5);
	assert_int_equal(pi.s5.slp_typa, 5);
	assert_int_equal(pi.s5.slp_typb, 7);
	assert_false(pi.fadt.reset_supported);
}

static void test_discover_bad_dsdt(void **state)
{
	struct acpi_tables t;
	struct acpi_power_info pi;
	/* X_DSDT broken, 32-bit DSDT good: the alternative is used. */
	make_fadt_x(OFF_FADT_B, FADT_V6_LEN, (uint32_t)pa(OFF_DSDT_ALT), pa(OFF_DSDT), 0, 0x604);
	uint64_t x[] = {pa(OFF_FADT_B)};
	make_root(OFF_XSDT, true, x, 1);
	make_dsdt(OFF_DSDT, aml_s5_qemu, sizeof(aml_s5_qemu));
	at(OFF_DSDT)[ACPI_HDR_SIZE] ^= 0xFF;
	make_dsdt(OFF_DSDT_ALT, aml_s5_byteprefix, sizeof(aml_s5_byteprefix));
	init_tables(&t, 2, 0, pa(OFF_XSDT), ACPI_OK);
	assert_int_equal(acpi_power_discover(&t, &pi), ACPI_OK);
	assert_true(pi.have_s5);
	assert_int_equal(pi.dsdt_pa, pa(OFF_DSDT_ALT));
	assert_int_equal(pi.s5.slp_typa, 5);

	/* Both broken: FADT still usable, \_S5_ unknown, the reason kept. */
	at(OFF_DSDT_ALT)[ACPI_HDR_SIZE] ^= 0xFF;
	assert_int_equal(acpi_power_discover(&t, &pi), ACPI_OK);
	assert_false(pi.have_s5);
	assert_int_equal(pi.dsdt_err, ACPI_ERR_CHECKSUM);
	assert_int_equal(pi.fadt.pm1a_cnt, 0x604);

	/* A DSDT without \_S5_. */
	make_dsdt(OFF_DSDT_ALT, aml_prelude, sizeof(aml_prelude));
	assert_int_equal(acpi_power_discover(&t, &pi), ACPI_OK);
	assert_false(pi.have_s5);
	assert_int_equal(pi.dsdt_err, ACPI_ERR_NOT_FOUND);

	/* No FADT at all. */
	make_root(OFF_XSDT, true, x, 0);
	init_tables(&t, 2, 0, pa(OFF_XSDT), ACPI_OK);
	assert_int_equal(acpi_power_discover(&t, &pi), ACPI_ERR_NOT_FOUND);
	assert_string_equal(acpi_strerror(ACPI_ERR_NOT_FOUND), "not found");
}

/* ---- seeded random bytes ---------------------------------------------------------------------------- */

static uint64_t rng_state;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

/* A byte biased towards what the parsers look for. */
static uint8_t rng_aml_byte(void)
{
	static const uint8_t interesting[] = {
		0x00, 0x01, 0x02, 0x07, 0x08, 0x0A, 0x0B, 0x0C, 0x12,
		'\\', '_',  'S',  '5',	0x40, 0x4F, 0x80, 0xC0, 0xFF,
	};
	return rng_below(3) ? interesting[rng_below(sizeof(interesting))] : (uint8_t)rng();
}

static void test_random_aml(void **state)
{
	rng_state = 0x9E3779B97F4A7C15ull;
	unsigned found = 0;
	for (int iter = 0; iter < 60000; iter++) {
		uint32_t n = rng_below(80);
		uint8_t *aml = malloc(n + 1);
		for (uint32_t i = 0; i < n; i++)
			aml[i] = rng_aml_byte();
		/* Plant a name prefix at a random place to reach the package parser often. */
		uint8_t head[] = {0x08, '_', 'S', '5', '_', 0x12, (uint8_t)rng_below(12), 0x02};
		if (rng_below(4) == 0)
			head[6] = rng_aml_byte();
		if (rng_below(4) == 0)
			head[7] = rng_aml_byte();
		uint32_t keep = rng_below(2) ? (uint32_t)sizeof(head) : rng_below(sizeof(head) + 1);
		if (n >= keep && rng_below(4)) {
			uint32_t pos = rng_below(n - keep + 1);
			memcpy(aml + pos, head, keep);
			/* Mostly plausible elements after it. */
			for (uint32_t i = pos + keep; i < n && i < pos + keep + 4; i++)
				aml[i] = rng_below(4) ? (uint8_t)rng_below(ACPI_SLP_TYP_MAX + 1)
						      : rng_aml_byte();
		}
		struct acpi_sleep_type s = {0xEE, 0xEE};
		enum acpi_err err = scan_exact(aml, n, &s);
		assert_true(err == ACPI_OK || err == ACPI_ERR_NOT_FOUND || err == ACPI_ERR_MALFORMED);
		if (err == ACPI_OK) {
			found++;
			assert_true(s.slp_typa <= ACPI_SLP_TYP_MAX && s.slp_typb <= ACPI_SLP_TYP_MAX);
		}
		free(aml);
	}
	print_message("random AML: %u of 60000 scans found \\_S5_\n", found);
	assert_true(found > 100); /* the generator does reach the success path */
}

static void test_random_rsdp(void **state)
{
	rng_state = 0x0123456789ABCDEFull;
	for (int iter = 0; iter < 20000; iter++) {
		uint32_t n = rng_below(48);
		uint8_t *buf = malloc(n + 1);
		for (uint32_t i = 0; i < n; i++)
			buf[i] = (uint8_t)rng();
		if (n >= 8 && rng_below(2))
			memcpy(buf, "RSD PTR ", 8);
		if (n > RSDP_REVISION && rng_below(2))
			buf[RSDP_REVISION] = (uint8_t)rng_below(4);
		if (n >= RSDP_V2_LEN && rng_below(2))
			put32(buf + RSDP_LENGTH, rng_below(2) ? RSDP_V2_LEN : rng_below(64));
		if (n >= RSDP_V1_LEN && rng_below(4))
			fix_sum(buf, RSDP_V1_LEN, RSDP_CHECKSUM);
		if (n >= RSDP_V2_LEN && rng_below(2))
			fix_sum(buf, RSDP_V2_LEN, RSDP_EXT_CHECKSUM);
		struct acpi_rsdp r;
		enum acpi_err err = acpi_rsdp_parse(buf, n, &r);
		if (err == ACPI_OK)
			assert_true(r.rsdt != 0 || r.xsdt != 0);
		free(buf);
	}
}

/* A random table at a random offset of the fuzz arena: sig from a set, random length, maybe sealed. */
static uint32_t fuzz_table(const char *sig)
{
	uint32_t off = rng_below(FUZZ_ARENA_SIZE);
	uint32_t room = FUZZ_ARENA_SIZE - off;
	if (room < ACPI_HDR_SIZE)
		return off;
	uint8_t *p = fuzz_arena + off;
	memcpy(p, sig, 4);
	static const uint32_t fadt_lens[] = {FADT_V1_LEN, FADT_V3_LEN, FADT_V6_LEN};
	uint32_t len = ACPI_HDR_SIZE + rng_below(MIN(room - ACPI_HDR_SIZE + 1, 512u));
	if (!strcmp(sig, "FACP") && rng_below(2))
		len = fadt_lens[rng_below(ARRAY_SIZE(fadt_lens))];
	if (rng_below(8) == 0)
		len = rng_below(4) ? rng_below(room + 64) : (uint32_t)rng();
	put32(p + ACPI_HDR_LENGTH, len);
	if (!strcmp(sig, "FACP") && len >= FADT_V6_LEN && len <= room) {
		put32(p + FADT_DSDT, (uint32_t)(FUZZ_ARENA_PA + rng_below(FUZZ_ARENA_SIZE)));
		put64(p + FADT_X_DSDT, rng_below(2) ? FUZZ_ARENA_PA + rng_below(FUZZ_ARENA_SIZE) : rng());
	}
	if (!strcmp(sig, "DSDT") && len > ACPI_HDR_SIZE + 8 && len <= room) {
		for (uint32_t i = ACPI_HDR_SIZE; i < len; i++)
			p[i] = rng_aml_byte();
		if (rng_below(2)) {
			uint32_t pos = ACPI_HDR_SIZE + rng_below(len - ACPI_HDR_SIZE);
			memcpy(p + pos, aml_s5_byteprefix, MIN(sizeof(aml_s5_byteprefix), len - pos));
		}
	}
	if (len <= room && rng_below(8))
		fix_sum(p, len, ACPI_HDR_CHECKSUM);
	return off;
}

static void test_random_tables(void **state)
{
	static const char *const sigs[] = {"FACP", "DSDT", "APIC", "XSDT", "RSDT", "SSDT"};
	rng_state = 0xDEADBEEFCAFEF00Dull;
	host_phys_offset = (uintptr_t)fuzz_arena - (uintptr_t)FUZZ_ARENA_PA;
	unsigned fadts = 0, s5s = 0;
	for (int iter = 0; iter < 20000; iter++) {
		for (uint32_t i = 0; i < FUZZ_ARENA_SIZE; i += 8)
			put64(fuzz_arena + i, rng());
		for (int k = 0; k < 24; k++)
			fuzz_table(sigs[rng_below(ARRAY_SIZE(sigs))]);
		/* Point some DSDT candidates at real DSDT headers so the AML scan runs. */
		uint32_t dsdt = fuzz_table("DSDT");
		uint32_t fadt = fuzz_table("FACP");
		if (FUZZ_ARENA_SIZE - fadt >= FADT_V6_LEN && rng_below(2)) {
			put32(fuzz_arena + fadt + FADT_DSDT, (uint32_t)(FUZZ_ARENA_PA + dsdt));
			if (rng_below(2))
				put64(fuzz_arena + fadt + FADT_X_DSDT, FUZZ_ARENA_PA + dsdt);
			uint8_t *f = fuzz_arena + fadt;
			uint32_t flen = (uint32_t)f[4] | (uint32_t)f[5] << 8 | (uint32_t)f[6] << 16 |
					(uint32_t)f[7] << 24;
			if (flen <= FUZZ_ARENA_SIZE - fadt)
				fix_sum(f, flen, ACPI_HDR_CHECKSUM);
		}
		/* A root table listing random offsets, the FADT among them. */
		bool x = rng_below(2);
		uint32_t root = rng_below(FUZZ_ARENA_SIZE - 200);
		uint32_t n = rng_below(20);
		uint8_t *rp = fuzz_arena + root;
		memcpy(rp, x ? "XSDT" : "RSDT", 4);
		put32(rp + ACPI_HDR_LENGTH, ACPI_HDR_SIZE + n * (x ? 8 : 4));
		for (uint32_t i = 0; i < n; i++) {
			uint64_t e = rng_below(4) ? FUZZ_ARENA_PA + rng_below(FUZZ_ARENA_SIZE) : rng();
			if (i == n / 2)
				e = FUZZ_ARENA_PA + fadt;
			if (x)
				put64(rp + ACPI_HDR_SIZE + i * 8, e);
			else
				put32(rp + ACPI_HDR_SIZE + i * 4, (uint32_t)e);
		}
		if (rng_below(8))
			fix_sum(rp, ACPI_HDR_SIZE + n * (x ? 8 : 4), ACPI_HDR_CHECKSUM);

		struct acpi_rsdp r = {.revision = 2, .rsdt = x ? 0 : FUZZ_ARENA_PA + root};
		r.xsdt = x ? FUZZ_ARENA_PA + root : 0;
		struct acpi_tables t;
		if (acpi_tables_init(&t, &r, FUZZ_ARENA_PA, FUZZ_ARENA_PA + FUZZ_ARENA_SIZE) != ACPI_OK)
			continue;
		struct acpi_power_info pi;
		if (acpi_power_discover(&t, &pi) == ACPI_OK) {
			fadts++;
			assert_true(pi.fadt_ref.ptr >= fuzz_arena &&
				    pi.fadt_ref.ptr + pi.fadt_ref.len <= fuzz_arena + FUZZ_ARENA_SIZE);
			if (pi.have_s5) {
				s5s++;
				assert_true(pi.s5.slp_typa <= ACPI_SLP_TYP_MAX);
			}
		}
		struct acpi_table_ref ref;
		for (uint32_t i = 0; i < 3; i++)
			if (acpi_find_table(&t, sigs[rng_below(ARRAY_SIZE(sigs))], i, &ref) == ACPI_OK)
				assert_true(ref.len >= ACPI_HDR_SIZE && ref.ptr >= fuzz_arena);
	}
	print_message("random tables: %u FADTs decoded, %u with \\_S5_\n", fadts, s5s);
	assert_true(fadts > 50); /* the generator reaches the FADT decoder */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_rsdp_v1_good, test_setup),
		cmocka_unit_test_setup(test_rsdp_v2_good, test_setup),
		cmocka_unit_test_setup(test_rsdp_bad, test_setup),
		cmocka_unit_test_setup(test_rsdp_v2_bad_extended, test_setup),
		cmocka_unit_test_setup(test_rsdp_v2_only_v1_part_given, test_setup),
		cmocka_unit_test_setup(test_xsdt_preferred, test_setup),
		cmocka_unit_test_setup(test_rsdt_when_v1_or_xsdt_bad, test_setup),
		cmocka_unit_test_setup(test_table_check_rejects, test_setup),
		cmocka_unit_test_setup(test_find_skips_bad_entries, test_setup),
		cmocka_unit_test_setup(test_fadt_v1, test_setup),
		cmocka_unit_test_setup(test_fadt_x_fields, test_setup),
		cmocka_unit_test_setup(test_fadt_pm_timer, test_setup),
		cmocka_unit_test_setup(test_fadt_hw_reduced, test_setup),
		cmocka_unit_test_setup(test_s5_qemu_and_bochs_forms, test_setup),
		cmocka_unit_test_setup(test_s5_malformed_and_missing, test_setup),
		cmocka_unit_test_setup(test_s5_truncated, test_setup),
		cmocka_unit_test_setup(test_discover_q35_like, test_setup),
		cmocka_unit_test_setup(test_discover_i440fx_like, test_setup),
		cmocka_unit_test_setup(test_discover_bad_dsdt, test_setup),
		cmocka_unit_test_setup(test_random_aml, test_setup),
		cmocka_unit_test_setup(test_random_rsdp, test_setup),
		cmocka_unit_test_setup(test_random_tables, test_setup),
	};
	return cmocka_run_group_tests_name("acpi", tests, group_setup, group_teardown);
}
