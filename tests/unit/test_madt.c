/*
 * arch/x86/madt.c over synthetic MADTs: the parser and the guest's copy. Every table is heap-allocated at
 * its exact length, so under ASan a read or write past the table (or past an entry's stated length) fails
 * the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "arch/x86/madt.h"

#define HDR 36
#define FIXED (HDR + 8)
#define LAPIC_DEFAULT 0xFEE00000u

struct builder {
	uint8_t buf[4096];
	uint32_t len;
};

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* A MADT of revision rev (5: ACPI 6.3 and later, where Online Capable is defined). */
static void begin_rev(struct builder *b, uint32_t lapic, uint8_t rev)
{
	memset(b, 0, sizeof(*b));
	memcpy(b->buf, "APIC", 4);
	b->buf[8] = rev;
	put32(b->buf + HDR, lapic);
	put32(b->buf + HDR + 4, 1); /* PCAT_COMPAT */
	b->len = FIXED;
}

static void begin(struct builder *b, uint32_t lapic)
{
	begin_rev(b, lapic, MADT_REVISION_ONLINE_CAPABLE);
}

static void lapic(struct builder *b, uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t *e = b->buf + b->len;
	e[0] = 0;
	e[1] = 8;
	e[2] = uid;
	e[3] = id;
	put32(e + 4, flags);
	b->len += 8;
}

static void x2apic(struct builder *b, uint32_t id, uint32_t flags, uint32_t uid)
{
	uint8_t *e = b->buf + b->len;
	memset(e, 0, 16);
	e[0] = 9;
	e[1] = 16;
	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, uid);
	b->len += 16;
}

static void raw(struct builder *b, const uint8_t *bytes, uint32_t n)
{
	memcpy(b->buf + b->len, bytes, n);
	b->len += n;
}

/* Parse a heap copy of exactly the built length (so ASan sees any over-read). */
static enum acpi_err parse(const struct builder *b, uint32_t len, struct madt_info *out)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, b->buf, len);
	enum acpi_err e = madt_parse(copy, len, out);
	free(copy);
	return e;
}

static void test_bochs_like_two_cpus(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	static const uint8_t ioapic[12] = {1, 12, 2, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0};
	static const uint8_t iso[10] = {2, 10, 0, 0, 2, 0, 0, 0, 0, 0};
	begin(&b, LAPIC_DEFAULT);
	lapic(&b, 0, 0, MADT_LAPIC_ENABLED);
	lapic(&b, 1, 1, MADT_LAPIC_ENABLED);
	raw(&b, ioapic, sizeof(ioapic));
	raw(&b, iso, sizeof(iso));
	assert_int_equal(parse(&b, b.len, &m), ACPI_OK);
	assert_int_equal(m.lapic_phys, LAPIC_DEFAULT);
	assert_int_equal(m.flags, 1);
	assert_int_equal(m.count, 2);
	assert_int_equal(m.cpus[0].apic_id, 0);
	assert_int_equal(m.cpus[1].apic_id, 1);
	assert_int_equal(m.cpus[1].uid, 1);
	assert_false(m.cpus[1].x2apic_entry);
	assert_false(m.cpus[1].online_capable);
}

static void test_x2apic_override_and_flags(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	uint8_t ovr[12] = {5, 12, 0, 0};
	put32(ovr + 4, 0xFED00000u);
	put32(ovr + 8, 0x1);
	begin(&b, LAPIC_DEFAULT);
	lapic(&b, 0, 0, MADT_LAPIC_ENABLED);
	lapic(&b, 1, 2, 0);				      /* disabled: ignored */
	lapic(&b, 2, MADT_XAPIC_ID_NONE, MADT_LAPIC_ENABLED); /* no xAPIC ID: ignored */
	lapic(&b, 3, 4, MADT_LAPIC_ONLINE_CAPABLE);
	lapic(&b, 4, 0, MADT_LAPIC_ENABLED); /* duplicate ID 0 */
	x2apic(&b, 0x100, MADT_LAPIC_ENABLED, 7);
	x2apic(&b, 0x100, MADT_LAPIC_ENABLED, 8); /* duplicate */
	raw(&b, ovr, sizeof(ovr));
	assert_int_equal(parse(&b, b.len, &m), ACPI_OK);
	assert_int_equal(m.lapic_phys, 0x1FED00000ull);
	assert_int_equal(m.count, 3);
	assert_int_equal(m.disabled, 2);
	assert_int_equal(m.duplicates, 2);
	assert_int_equal(m.cpus[1].apic_id, 4);
	assert_true(m.cpus[1].online_capable);
	assert_int_equal(m.cpus[2].apic_id, 0x100);
	assert_int_equal(m.cpus[2].uid, 7);
	assert_true(m.cpus[2].x2apic_entry);
}

static void test_too_many_cpus(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	begin(&b, LAPIC_DEFAULT);
	for (unsigned i = 0; i < MADT_MAX_CPUS + 3; i++)
		x2apic(&b, i, MADT_LAPIC_ENABLED, i);
	assert_int_equal(parse(&b, b.len, &m), ACPI_OK);
	assert_int_equal(m.count, MADT_MAX_CPUS);
	assert_int_equal(m.dropped, 3);
}

static void test_malformed(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m = {.count = 99};
	static const uint8_t zero_len[2] = {0x10, 0};
	static const uint8_t short_lapic[6] = {0, 6, 0, 1, 1, 0};
	static const uint8_t short_x2apic[8] = {9, 8, 0, 0, 1, 0, 0, 0};
	static const uint8_t short_override[8] = {5, 8, 0, 0, 0, 0, 0, 0};
	static const uint8_t *const bad[] = {zero_len, short_lapic, short_x2apic, short_override};
	static const uint32_t bad_len[] = {2, 6, 8, 8};

	begin(&b, LAPIC_DEFAULT);
	assert_int_equal(parse(&b, FIXED - 1, &m), ACPI_ERR_LENGTH);
	assert_int_equal(madt_parse(NULL, 100, &m), ACPI_ERR_LENGTH);
	assert_int_equal(parse(&b, FIXED, &m), ACPI_OK); /* no entries: a valid, empty table */
	assert_int_equal(m.count, 0);

	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		begin(&b, LAPIC_DEFAULT);
		lapic(&b, 0, 0, MADT_LAPIC_ENABLED);
		raw(&b, bad[i], bad_len[i]);
		m.count = 99;
		assert_int_equal(parse(&b, b.len, &m), ACPI_ERR_MALFORMED);
		assert_int_equal(m.count, 99); /* untouched on error */
	}
	/* An entry whose length runs past the table, and a lone type byte at the end. */
	begin(&b, LAPIC_DEFAULT);
	lapic(&b, 0, 0, MADT_LAPIC_ENABLED);
	assert_int_equal(parse(&b, b.len - 1, &m), ACPI_ERR_MALFORMED);
	assert_int_equal(parse(&b, FIXED + 1, &m), ACPI_ERR_MALFORMED);
}

/* Random bytes after the fixed part: never a crash or an over-read, and a count within bounds. */
static void test_random(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	srand(6);
	for (unsigned round = 0; round < 20000; round++) {
		begin(&b, LAPIC_DEFAULT);
		uint32_t n = (uint32_t)rand() % 200;
		for (uint32_t i = 0; i < n; i++)
			b.buf[FIXED + i] = (uint8_t)((rand() % 4 == 0) ? rand() % 10 : rand());
		b.len = FIXED + n;
		if (parse(&b, b.len, &m) == ACPI_OK)
			assert_true(m.count <= MADT_MAX_CPUS);
	}
}

/* ACPI 6.3 defined Online Capable with MADT revision 5; before, the bit is reserved and means nothing. */
static void test_online_capable_needs_revision_5(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	for (uint8_t rev = 1; rev <= 6; rev++) {
		begin_rev(&b, LAPIC_DEFAULT, rev);
		lapic(&b, 0, 0, MADT_LAPIC_ENABLED);
		lapic(&b, 1, 1, MADT_LAPIC_ONLINE_CAPABLE);
		x2apic(&b, 0x200, MADT_LAPIC_ONLINE_CAPABLE, 9);
		assert_int_equal(parse(&b, b.len, &m), ACPI_OK);
		assert_int_equal(m.revision, rev);
		if (rev < MADT_REVISION_ONLINE_CAPABLE) {
			assert_int_equal(m.count, 1);
			assert_int_equal(m.disabled, 2);
		} else {
			assert_int_equal(m.count, 3);
			assert_int_equal(m.disabled, 0);
			assert_true(m.cpus[1].online_capable);
			assert_true(m.cpus[2].online_capable);
		}
	}
}

static uint8_t table_sum(const uint8_t *p, uint32_t len)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Seal b (checksum set), copy it for the guest keeping ids into an exactly sized heap buffer, parse the copy.
 */
static struct madt_copy_stats copy_keep(struct builder *b, const uint32_t *ids, uint32_t n,
					uint8_t **copy_out, struct madt_info *out)
{
	b->buf[9] = 0;
	b->buf[9] = (uint8_t)-table_sum(b->buf, b->len);
	uint8_t *src = malloc(b->len), *dst = malloc(b->len);
	assert_non_null(src);
	assert_non_null(dst);
	memcpy(src, b->buf, b->len);
	struct madt_copy_stats st = madt_copy_for_guest(src, b->len, dst, ids, n);
	assert_int_equal(table_sum(dst, b->len), 0);
	assert_int_equal(madt_parse(dst, b->len, out), ACPI_OK);
	assert_memory_equal(src, b->buf, b->len); /* the firmware's table is never written */
	free(src);
	*copy_out = dst;
	return st;
}

static void test_copy_disables_cpus_not_kept(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	uint8_t *copy;
	static const uint8_t ioapic[12] = {1, 12, 2, 0, 0, 0, 0xC0, 0xFE, 0, 0, 0, 0};
	begin(&b, LAPIC_DEFAULT);
	memcpy(b.buf + 10, "BOCHS ", 6); /* OEM ID: must survive the copy */
	lapic(&b, 0, 0, MADT_LAPIC_ENABLED);
	lapic(&b, 1, 1, MADT_LAPIC_ENABLED);
	raw(&b, ioapic, sizeof(ioapic));
	lapic(&b, 2, 2, MADT_LAPIC_ONLINE_CAPABLE);
	lapic(&b, 3, 3, 0);
	x2apic(&b, 0x300, MADT_LAPIC_ENABLED | MADT_LAPIC_ONLINE_CAPABLE, 4);
	lapic(&b, 5, MADT_XAPIC_ID_NONE, MADT_LAPIC_ENABLED);
	static const uint32_t keep[] = {0, 0x300};
	struct madt_copy_stats st = copy_keep(&b, keep, 2, &copy, &m);
	assert_int_equal(st.kept, 2);
	assert_int_equal(st.disabled, 2); /* APIC IDs 1 and 2 */
	assert_int_equal(m.count, 2);
	assert_int_equal(m.cpus[0].apic_id, 0);
	assert_int_equal(m.cpus[1].apic_id, 0x300);
	assert_int_equal(m.disabled, 4); /* 1, 2, the one the firmware had disabled, and the 0xFF entry */
	/* Only the flags bytes of entries 1 and 2 and the checksum differ from the firmware's table. */
	uint32_t e1 = FIXED + 8, e2 = FIXED + 8 + 8 + 12;
	for (uint32_t i = 0; i < b.len; i++) {
		bool may_differ = i == 9 || (i >= e1 + 4 && i < e1 + 8) || (i >= e2 + 4 && i < e2 + 8);
		if (!may_differ)
			assert_int_equal(copy[i], b.buf[i]);
	}
	assert_int_equal(copy[e1 + 4], 0);
	assert_int_equal(copy[e2 + 4], 0);
	free(copy);
}

static void test_copy_keep_all_and_none(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	uint8_t *copy;
	begin(&b, LAPIC_DEFAULT);
	for (uint8_t i = 0; i < 4; i++)
		lapic(&b, i, i, MADT_LAPIC_ENABLED);
	static const uint32_t all[] = {3, 2, 1, 0, 77};
	struct madt_copy_stats st = copy_keep(&b, all, 5, &copy, &m);
	assert_int_equal(st.kept, 4);
	assert_int_equal(st.disabled, 0);
	assert_memory_equal(copy, b.buf, b.len); /* nothing to change: byte for byte the same */
	free(copy);
	st = copy_keep(&b, NULL, 0, &copy, &m);
	assert_int_equal(st.kept, 0);
	assert_int_equal(st.disabled, 4);
	assert_int_equal(m.count, 0);
	free(copy);
}

/* An online-capable entry of a revision-4 table is not usable: the copy leaves its reserved bit alone. */
static void test_copy_revision_4_online_capable_untouched(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m;
	uint8_t *copy;
	begin_rev(&b, LAPIC_DEFAULT, 4);
	lapic(&b, 0, 0, MADT_LAPIC_ENABLED);
	lapic(&b, 1, 7, MADT_LAPIC_ONLINE_CAPABLE);
	static const uint32_t keep[] = {0};
	struct madt_copy_stats st = copy_keep(&b, keep, 1, &copy, &m);
	assert_int_equal(st.kept, 1);
	assert_int_equal(st.disabled, 0);
	assert_memory_equal(copy, b.buf, b.len);
	free(copy);
}

/* Random entries: the copy never writes past the table, sums to 0 and keeps at most what it was given. */
static void test_copy_random(void **state)
{
	(void)state;
	struct builder b;
	struct madt_info m, c;
	srand(7);
	for (unsigned round = 0; round < 5000; round++) {
		begin_rev(&b, LAPIC_DEFAULT, (uint8_t)(rand() % 7));
		uint32_t n = (uint32_t)rand() % 200;
		for (uint32_t i = 0; i < n; i++)
			b.buf[FIXED + i] = (uint8_t)((rand() % 4 == 0) ? rand() % 10 : rand());
		b.len = FIXED + n;
		if (parse(&b, b.len, &m) != ACPI_OK)
			continue;
		uint32_t keep[3] = {(uint32_t)rand() % 4, (uint32_t)rand() % 256, 0};
		uint8_t *src = malloc(b.len), *dst = malloc(b.len);
		assert_non_null(src);
		assert_non_null(dst);
		memcpy(src, b.buf, b.len);
		struct madt_copy_stats st = madt_copy_for_guest(src, b.len, dst, keep, 3);
		assert_int_equal(table_sum(dst, b.len), 0);
		assert_int_equal(madt_parse(dst, b.len, &c), ACPI_OK);
		assert_true(c.count <= 3);
		assert_true(c.count <= m.count);
		assert_true(st.kept >= c.count); /* kept counts duplicates too; the parser drops them */
		for (uint32_t i = 0; i < c.count; i++)
			assert_true(c.cpus[i].apic_id == keep[0] || c.cpus[i].apic_id == keep[1] ||
				    c.cpus[i].apic_id == keep[2]);
		free(src);
		free(dst);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bochs_like_two_cpus),
		cmocka_unit_test(test_x2apic_override_and_flags),
		cmocka_unit_test(test_too_many_cpus),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_online_capable_needs_revision_5),
		cmocka_unit_test(test_copy_disables_cpus_not_kept),
		cmocka_unit_test(test_copy_keep_all_and_none),
		cmocka_unit_test(test_copy_revision_4_online_capable_untouched),
		cmocka_unit_test(test_copy_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
