/*
 * guest/acpi.c (with arch/x86/acpi_tables.c and madt.c): the guest's copies of the MADT, XSDT and RSDT,
 * and its RSDP pointed at them. Firmware tables are built in a host arena standing for physical memory at
 * ARENA_PA (mm/phys.h); each block of copies is written into an exactly sized heap buffer first (so ASan
 * catches a write past g.size), then placed in the arena at BLOCK_OFF and read back the way the guest
 * reads it: through acpi_rsdp_parse, acpi_tables_init, acpi_find_table and madt_parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "arch/x86/madt.h"
#include "guest/acpi.h"
#include "mm/phys.h"
#include "tests/unit/host_stubs.h"

#define ARENA_PA 0x7F000000ull
#define ARENA_SIZE 0x10000u
#define OFF_RSDT 0x100
#define OFF_XSDT 0x200
#define OFF_FADT 0x400
#define OFF_MADT 0x800
#define OFF_MADT2 0xA00
#define OFF_HPET 0xC00
#define BLOCK_OFF 0x4000
#define WIN_HI (4ull << 30)

#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36

static uint8_t *arena;

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

static uint64_t pa(uint32_t off)
{
	return ARENA_PA + off;
}

/* A sealed table of len bytes at arena offset off: signature, length, revision, OEM ID, checksum. */
static uint8_t *table(uint32_t off, const char *sig, uint32_t len, uint8_t rev)
{
	uint8_t *p = arena + off;
	memset(p, 0, len);
	memcpy(p, sig, 4);
	put32(p + ACPI_HDR_LENGTH, len);
	p[ACPI_HDR_REVISION] = rev;
	memcpy(p + ACPI_HDR_OEM_ID, "FWOEM ", 6);
	return p;
}

static void seal(uint32_t off)
{
	uint8_t *p = arena + off;
	acpi_table_set_checksum(p, get32(p + ACPI_HDR_LENGTH));
}

static void root(uint32_t off, bool xsdt, const uint64_t *pas, size_t n)
{
	uint32_t es = xsdt ? 8 : 4;
	uint8_t *p = table(off, xsdt ? "XSDT" : "RSDT", (uint32_t)(ACPI_HDR_SIZE + n * es), 1);
	for (size_t i = 0; i < n; i++) {
		if (xsdt)
			put64(p + ACPI_HDR_SIZE + i * 8, pas[i]);
		else
			put32(p + ACPI_HDR_SIZE + i * 4, (uint32_t)pas[i]);
	}
	seal(off);
}

/* A MADT at off listing `n` xAPIC processors with IDs ids[] (all enabled), an I/O APIC after them. */
static void madt(uint32_t off, const uint8_t *ids, unsigned n)
{
	uint32_t len = ACPI_HDR_SIZE + 8 + n * 8 + 12;
	uint8_t *p = table(off, "APIC", len, 5);
	put32(p + ACPI_HDR_SIZE, 0xFEE00000u);
	put32(p + ACPI_HDR_SIZE + 4, 1);
	uint8_t *e = p + ACPI_HDR_SIZE + 8;
	for (unsigned i = 0; i < n; i++, e += 8) {
		e[0] = 0;
		e[1] = 8;
		e[2] = (uint8_t)i;
		e[3] = ids[i];
		put32(e + 4, MADT_LAPIC_ENABLED);
	}
	e[0] = 1;
	e[1] = 12;
	e[2] = n;
	put32(e + 4, 0xFEC00000u);
	seal(off);
}

/* An RSDP (20 or 36 bytes) in buf naming rsdt and xsdt. */
static size_t rsdp(uint8_t *buf, uint8_t rev, uint64_t rsdt, uint64_t xsdt)
{
	memset(buf, 0, RSDP_V2_LEN);
	memcpy(buf, "RSD PTR ", 8);
	memcpy(buf + 9, "FWOEM ", 6);
	buf[RSDP_REVISION] = rev;
	put32(buf + RSDP_RSDT, (uint32_t)rsdt);
	buf[8] = (uint8_t)-sum(buf, RSDP_V1_LEN);
	if (rev < 2)
		return RSDP_V1_LEN;
	put32(buf + RSDP_LENGTH, RSDP_V2_LEN);
	put64(buf + RSDP_XSDT, xsdt);
	buf[32] = (uint8_t)-sum(buf, RSDP_V2_LEN);
	return RSDP_V2_LEN;
}

/* The firmware of a 4-CPU q35-like machine: FADT, MADT (APIC IDs 0, 1, 2, 3), HPET in both roots. */
static void firmware(bool with_xsdt)
{
	static const uint8_t ids[] = {0, 1, 2, 3};
	table(OFF_FADT, "FACP", 116, 1);
	seal(OFF_FADT);
	table(OFF_HPET, "HPET", 56, 1);
	seal(OFF_HPET);
	madt(OFF_MADT, ids, 4);
	const uint64_t list[] = {pa(OFF_FADT), pa(OFF_MADT), pa(OFF_HPET)};
	root(OFF_RSDT, false, list, 3);
	if (with_xsdt)
		root(OFF_XSDT, true, list, 3);
}

/* Plan, point the RSDP and write the block into an exact heap buffer, then place it in the arena. */
static struct guest_acpi_result build(struct guest_acpi *g, uint8_t *guest_rsdp, size_t len,
				      const uint32_t *keep, uint32_t n)
{
	assert_true(guest_acpi_plan(g, guest_rsdp, len, 0, WIN_HI) > 0);
	guest_acpi_point_rsdp(g, pa(BLOCK_OFF), guest_rsdp, len);
	uint8_t *buf = malloc(g->size);
	assert_non_null(buf);
	struct guest_cpus cpus = {keep, n};
	struct guest_acpi_result r = guest_acpi_write(g, &cpus, buf, pa(BLOCK_OFF));
	memcpy(arena + BLOCK_OFF, buf, g->size);
	free(buf);
	return r;
}

/* What a guest finds through the RSDP: the MADT's address and its usable processors. */
static uint64_t guest_view(const uint8_t *guest_rsdp, size_t len, bool use_xsdt, struct madt_info *m)
{
	struct acpi_rsdp r;
	struct acpi_tables t;
	struct acpi_table_ref ref;
	assert_int_equal(acpi_rsdp_parse(guest_rsdp, len, &r), ACPI_OK); /* both checksums right */
	if (!use_xsdt)
		r.xsdt = 0;
	assert_int_equal(acpi_tables_init(&t, &r, 0, WIN_HI), ACPI_OK);
	assert_int_equal(t.xsdt, use_xsdt);
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_MADT, 0, &ref), ACPI_OK);
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_MADT, 1, &ref), ACPI_ERR_NOT_FOUND); /* only one */
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_MADT, 0, &ref), ACPI_OK);
	assert_int_equal(madt_parse(ref.ptr, ref.len, m), ACPI_OK);
	struct acpi_table_ref fadt, hpet;
	assert_int_equal(acpi_find_table(&t, ACPI_SIG_FADT, 0, &fadt), ACPI_OK);
	assert_int_equal(fadt.pa, pa(OFF_FADT)); /* every other table is the firmware's own */
	assert_int_equal(acpi_find_table(&t, "HPET", 0, &hpet), ACPI_OK);
	assert_int_equal(hpet.pa, pa(OFF_HPET));
	return ref.pa;
}

static int setup(void **state)
{
	memset(arena, 0, ARENA_SIZE);
	host_phys_offset = (uintptr_t)arena - (uintptr_t)ARENA_PA;
	return 0;
}

static void test_xsdt_and_rsdt_copies(void **state)
{
	uint8_t r[RSDP_V2_LEN], before[0x1000];
	struct guest_acpi g;
	struct madt_info m;
	firmware(true);
	memcpy(before, arena, sizeof(before));
	size_t len = rsdp(r, 2, pa(OFF_RSDT), pa(OFF_XSDT));
	static const uint32_t keep[] = {2, 0};
	struct guest_acpi_result res = build(&g, r, len, keep, 2);
	assert_int_equal(res.cpus_kept, 2);
	assert_int_equal(res.cpus_disabled, 2);
	assert_int_equal(g.madt.pa, pa(OFF_MADT));
	assert_memory_equal(arena, before, sizeof(before)); /* the firmware's tables are untouched */
	/* Through the XSDT copy, and through the RSDT copy (an ACPI 1.0 guest): the same MADT copy. */
	assert_int_equal(guest_view(r, len, true, &m), pa(BLOCK_OFF));
	assert_int_equal(m.count, 2);
	assert_int_equal(m.cpus[0].apic_id, 0);
	assert_int_equal(m.cpus[1].apic_id, 2);
	assert_int_equal(m.disabled, 2);
	assert_int_equal(guest_view(r, len, false, &m), pa(BLOCK_OFF));
	assert_int_equal(m.count, 2);
	/* The copies keep the firmware's OEM fields, and the RSDP its OEM ID and revision. */
	assert_memory_equal(arena + BLOCK_OFF + g.xsdt_off + ACPI_HDR_OEM_ID, "FWOEM ", 6);
	assert_memory_equal(r + 9, "FWOEM ", 6);
	assert_int_equal(r[RSDP_REVISION], 2);
	assert_int_equal(g.xsdt_off % 8, 0);
	assert_int_equal(g.rsdt_off % 8, 0);
}

static void test_acpi_1_rsdp(void **state)
{
	uint8_t r[RSDP_V2_LEN];
	struct guest_acpi g;
	struct madt_info m;
	firmware(false);
	size_t len = rsdp(r, 0, pa(OFF_RSDT), 0);
	static const uint32_t keep[] = {0};
	build(&g, r, len, keep, 1);
	assert_null(g.xsdt.ptr);
	assert_int_equal(g.size, g.rsdt_off + ACPI_HDR_SIZE + 3 * 4);
	assert_int_equal(guest_view(r, len, false, &m), pa(BLOCK_OFF));
	assert_int_equal(m.count, 1);
	assert_int_equal(get32(r + RSDP_RSDT), pa(BLOCK_OFF) + g.rsdt_off);
}

/* A 20-byte copy of a revision-2 RSDP (the Multiboot2 "old" tag): only its RSDT part can be rewritten. */
static void test_v2_rsdp_given_as_20_bytes(void **state)
{
	uint8_t r[RSDP_V2_LEN];
	struct guest_acpi g;
	struct madt_info m;
	firmware(true);
	rsdp(r, 2, pa(OFF_RSDT), pa(OFF_XSDT));
	static const uint32_t keep[] = {0, 1, 2, 3};
	struct guest_acpi_result res = build(&g, r, RSDP_V1_LEN, keep, 4);
	assert_int_equal(res.cpus_disabled, 0);
	assert_int_equal(guest_view(r, RSDP_V1_LEN, false, &m), pa(BLOCK_OFF));
	assert_int_equal(m.count, 4);
}

static void test_bad_xsdt_is_not_named(void **state)
{
	uint8_t r[RSDP_V2_LEN];
	struct guest_acpi g;
	struct madt_info m;
	firmware(true);
	arena[OFF_XSDT + ACPI_HDR_CHECKSUM] ^= 1; /* firmware bug: the XSDT's checksum is wrong */
	size_t len = rsdp(r, 2, pa(OFF_RSDT), pa(OFF_XSDT));
	static const uint32_t keep[] = {1};
	build(&g, r, len, keep, 1);
	assert_null(g.xsdt.ptr);
	assert_int_equal(get32(r + RSDP_XSDT), 0); /* the guest is not sent to the unchanged firmware MADT */
	assert_int_equal(get32(r + RSDP_XSDT + 4), 0);
	assert_int_equal(guest_view(r, len, false, &m), pa(BLOCK_OFF));
	assert_int_equal(m.count, 1);
	assert_int_equal(m.cpus[0].apic_id, 1);
}

static void test_second_madt_left_out(void **state)
{
	uint8_t r[RSDP_V2_LEN];
	struct guest_acpi g;
	struct madt_info m;
	static const uint8_t ids[] = {0, 1, 2, 3, 4, 5};
	firmware(true);
	madt(OFF_MADT2, ids, 6);
	const uint64_t list[] = {pa(OFF_FADT), pa(OFF_MADT), pa(OFF_HPET), pa(OFF_MADT2), 0x100000000ull};
	root(OFF_XSDT, true, list, 5); /* the last entry lies above the window: copied as it is */
	root(OFF_RSDT, false, list, 4);
	size_t len = rsdp(r, 2, pa(OFF_RSDT), pa(OFF_XSDT));
	static const uint32_t keep[] = {0, 1};
	build(&g, r, len, keep, 2);
	const uint8_t *x = arena + BLOCK_OFF + g.xsdt_off;
	assert_int_equal(get32(x + ACPI_HDR_LENGTH), ACPI_HDR_SIZE + 4 * 8);
	assert_int_equal(get32(x + ACPI_HDR_SIZE + 3 * 8), 0); /* 0x100000000: low half */
	assert_int_equal(get32(x + ACPI_HDR_SIZE + 3 * 8 + 4), 1);
	assert_int_equal(get32(arena + BLOCK_OFF + g.rsdt_off + ACPI_HDR_LENGTH), ACPI_HDR_SIZE + 3 * 4);
	assert_int_equal(guest_view(r, len, true, &m), pa(BLOCK_OFF));
	assert_int_equal(m.count, 2);
	assert_int_equal(guest_view(r, len, false, &m), pa(BLOCK_OFF));
}

static void test_nothing_to_copy(void **state)
{
	uint8_t r[RSDP_V2_LEN];
	struct guest_acpi g;
	firmware(true);
	const uint64_t list[] = {pa(OFF_FADT), pa(OFF_HPET)};
	root(OFF_XSDT, true, list, 2);
	root(OFF_RSDT, false, list, 2);
	size_t len = rsdp(r, 2, pa(OFF_RSDT), pa(OFF_XSDT));
	assert_int_equal(guest_acpi_plan(&g, r, len, 0, WIN_HI), 0); /* no MADT */
	r[0] = 'X';
	assert_int_equal(guest_acpi_plan(&g, r, len, 0, WIN_HI), 0); /* no RSDP */
	assert_int_equal(guest_acpi_plan(&g, NULL, 0, 0, WIN_HI), 0);
}

int main(void)
{
	arena = malloc(ARENA_SIZE);
	if (!arena)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_xsdt_and_rsdt_copies, setup),
		cmocka_unit_test_setup(test_acpi_1_rsdp, setup),
		cmocka_unit_test_setup(test_v2_rsdp_given_as_20_bytes, setup),
		cmocka_unit_test_setup(test_bad_xsdt_is_not_named, setup),
		cmocka_unit_test_setup(test_second_madt_left_out, setup),
		cmocka_unit_test_setup(test_nothing_to_copy, setup),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(arena);
	return rc;
}
