/*
 * ACPI table discovery (see acpi_tables.h). Section numbers are ACPI 6.5's.
 * All multi-byte fields are read byte by byte (little endian, no alignment assumed): firmware puts 64-bit
 * XSDT entries at offset 36, and garbage may put anything anywhere.
 */
#include "arch/x86/acpi_tables.h"
#include "lib/le.h"
#include "lib/str.h"
#include "mm/phys.h"

/* Root System Description Pointer (5.2.5.3, Table 5.3). */
#define RSDP_SIGNATURE "RSD PTR "
#define RSDP_SIGNATURE_LEN 8
#define RSDP_OFF_CHECKSUM 8
#define RSDP_OFF_REVISION 15
#define RSDP_OFF_RSDT 16
#define RSDP_V1_SIZE 20 /* the part the first checksum covers */
#define RSDP_OFF_LENGTH 20
#define RSDP_OFF_XSDT 24
#define RSDP_OFF_EXT_CHECKSUM 32
#define RSDP_V2_SIZE 36 /* the smallest Length of an ACPI 2.0+ RSDP */
#define RSDP_REVISION_2 2

/* Root table entries (5.2.7 RSDT: 32-bit, 5.2.8 XSDT: 64-bit), right after the header. */
#define RSDT_ENTRY_SIZE 4
#define XSDT_ENTRY_SIZE 8

/* FADT field offsets (5.2.9, Table 5.9). */
#define FADT_OFF_DSDT 40
#define FADT_OFF_SMI_CMD 48
#define FADT_OFF_ACPI_ENABLE 52
#define FADT_OFF_PM1A_CNT_BLK 64
#define FADT_OFF_PM1B_CNT_BLK 68
#define FADT_OFF_PM_TMR_BLK 76
#define FADT_OFF_PM_TMR_LEN 91
#define FADT_OFF_FLAGS 112
#define FADT_OFF_RESET_REG 116
#define FADT_OFF_RESET_VALUE 128
#define FADT_OFF_X_DSDT 140
#define FADT_OFF_X_PM1A_CNT_BLK 172
#define FADT_OFF_X_PM1B_CNT_BLK 184
#define FADT_OFF_X_PM_TMR_BLK 208
#define FADT_OFF_SLEEP_CONTROL_REG 244
#define FADT_MIN_LEN (FADT_OFF_PM1B_CNT_BLK + 4) /* shorter cannot hold the PM1 control blocks */
#define FADT_PM_TMR_LEN 4			 /* the PM timer block is one 32-bit register (4.8.3.3) */

/* Generic Address Structure layout (5.2.3.2, Table 5.1). */
#define GAS_OFF_SPACE_ID 0
#define GAS_OFF_BIT_WIDTH 1
#define GAS_OFF_BIT_OFFSET 2
#define GAS_OFF_ACCESS_SIZE 3
#define GAS_OFF_ADDRESS 4
#define GAS_SIZE 12

#define IO_PORT_MAX 0xFFFFu

/* AML encoding (20.2): the opcodes and prefixes the \_S5_ scan understands. */
#define AML_ZERO_OP 0x00
#define AML_ONE_OP 0x01
#define AML_NAME_OP 0x08
#define AML_BYTE_PREFIX 0x0A
#define AML_WORD_PREFIX 0x0B
#define AML_DWORD_PREFIX 0x0C
#define AML_PACKAGE_OP 0x12
#define AML_ROOT_CHAR 0x5C /* '\' */
#define AML_S5_NAME "_S5_"
#define AML_NAMESEG_LEN 4
/* PkgLength (20.2.4): lead byte bits 7-6 = count of following bytes; bits 5-4 must be 0 if any follow. */
#define AML_PKGLEN_COUNT_SHIFT 6
#define AML_PKGLEN_SHORT_MASK 0x3Fu
#define AML_PKGLEN_NIBBLE_MASK 0x0Fu
#define AML_PKGLEN_RESERVED_MASK 0x30u
#define AML_PKGLEN_NIBBLE_BITS 4
#define AML_SLEEP_PKG_MIN_ELEMENTS 2

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

const char *acpi_strerror(enum acpi_err err)
{
	switch (err) {
	case ACPI_OK:
		return "ok";
	case ACPI_ERR_ABSENT:
		return "not present";
	case ACPI_ERR_SIGNATURE:
		return "bad signature";
	case ACPI_ERR_CHECKSUM:
		return "bad checksum";
	case ACPI_ERR_LENGTH:
		return "bad length";
	case ACPI_ERR_RANGE:
		return "outside readable memory";
	case ACPI_ERR_NOT_FOUND:
		return "not found";
	case ACPI_ERR_MALFORMED:
		return "malformed";
	}
	return "unknown error";
}

enum acpi_err acpi_rsdp_parse(const void *buf, size_t len, struct acpi_rsdp *out)
{
	const uint8_t *p = buf;
	if (!p || len == 0)
		return ACPI_ERR_ABSENT;
	if (len < RSDP_V1_SIZE)
		return ACPI_ERR_LENGTH;
	if (memcmp(p, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN) != 0)
		return ACPI_ERR_SIGNATURE;
	if (checksum(p, RSDP_V1_SIZE) != 0)
		return ACPI_ERR_CHECKSUM;

	struct acpi_rsdp r = {
		.revision = p[RSDP_OFF_REVISION],
		.rsdt = le32_load(p + RSDP_OFF_RSDT),
		.xsdt = 0,
	};
	/* Revision >= 2 has Length, XsdtAddress and the extended checksum; use them only once verified. */
	if (r.revision >= RSDP_REVISION_2 && len >= RSDP_V2_SIZE) {
		uint32_t full = le32_load(p + RSDP_OFF_LENGTH);
		if (full < RSDP_V2_SIZE || full > len)
			return ACPI_ERR_LENGTH;
		if (checksum(p, full) != 0)
			return ACPI_ERR_CHECKSUM;
		r.xsdt = le64_load(p + RSDP_OFF_XSDT);
	}
	if (r.rsdt == 0 && r.xsdt == 0)
		return ACPI_ERR_ABSENT;
	*out = r;
	return ACPI_OK;
}

/* True when [pa, pa + len) lies inside the readable window (which never includes page 0). */
static bool window_has(const struct acpi_tables *t, uint64_t pa, uint64_t len)
{
	return pa >= t->win_lo && pa < t->win_hi && len <= t->win_hi - pa;
}

enum acpi_err acpi_table_check(const struct acpi_tables *t, uint64_t pa, const char *sig,
			       struct acpi_table_ref *out)
{
	if (pa == 0)
		return ACPI_ERR_ABSENT;
	if (!window_has(t, pa, ACPI_HDR_SIZE))
		return ACPI_ERR_RANGE;
	const uint8_t *p = phys_to_virt(pa);
	if (sig && memcmp(p + ACPI_HDR_SIGNATURE, sig, ACPI_SIG_LEN) != 0)
		return ACPI_ERR_SIGNATURE;
	uint32_t len = le32_load(p + ACPI_HDR_LENGTH);
	if (len < ACPI_HDR_SIZE || len > ACPI_TABLE_MAX_LEN)
		return ACPI_ERR_LENGTH;
	if (!window_has(t, pa, len))
		return ACPI_ERR_RANGE;
	if (checksum(p, len) != 0)
		return ACPI_ERR_CHECKSUM;
	out->pa = pa;
	out->ptr = p;
	out->len = len;
	return ACPI_OK;
}

enum acpi_err acpi_tables_init(struct acpi_tables *t, const struct acpi_rsdp *rsdp, uint64_t win_lo,
			       uint64_t win_hi)
{
	*t = (struct acpi_tables){
		.win_lo = MAX(win_lo, (uint64_t)PAGE_SIZE),
		.win_hi = win_hi,
		.rsdp_revision = rsdp->revision,
		.xsdt_err = ACPI_ERR_ABSENT,
	};
	enum acpi_err err = ACPI_ERR_ABSENT;
	if (rsdp->xsdt != 0) {
		err = acpi_table_check(t, rsdp->xsdt, ACPI_SIG_XSDT, &t->root);
		if (err == ACPI_OK) {
			t->xsdt = true;
			t->xsdt_err = ACPI_OK;
			return ACPI_OK;
		}
		t->xsdt_rejected = true;
		t->xsdt_err = err;
	}
	if (rsdp->rsdt != 0)
		err = acpi_table_check(t, rsdp->rsdt, ACPI_SIG_RSDT, &t->root);
	return err;
}

enum acpi_err acpi_find_table(const struct acpi_tables *t, const char *sig, uint32_t index,
			      struct acpi_table_ref *out)
{
	if (!t->root.ptr)
		return ACPI_ERR_ABSENT;
	uint32_t esize = t->xsdt ? XSDT_ENTRY_SIZE : RSDT_ENTRY_SIZE;
	uint32_t count = (t->root.len - ACPI_HDR_SIZE) / esize;
	const uint8_t *entry = t->root.ptr + ACPI_HDR_SIZE;
	enum acpi_err last = ACPI_ERR_NOT_FOUND;
	uint32_t seen = 0;

	for (uint32_t i = 0; i < count; i++, entry += esize) {
		uint64_t pa = t->xsdt ? le64_load(entry) : le32_load(entry);
		if (pa == 0 || !window_has(t, pa, ACPI_HDR_SIZE))
			continue;
		const uint8_t *hdr = phys_to_virt(pa);
		if (memcmp(hdr + ACPI_HDR_SIGNATURE, sig, ACPI_SIG_LEN) != 0)
			continue;
		struct acpi_table_ref ref;
		enum acpi_err err = acpi_table_check(t, pa, sig, &ref);
		if (err != ACPI_OK) {
			last = err;
			continue;
		}
		if (seen++ == index) {
			*out = ref;
			return ACPI_OK;
		}
	}
	return last;
}

void acpi_table_set_checksum(void *table, uint32_t len)
{
	uint8_t *p = table;
	p[ACPI_HDR_CHECKSUM] = 0;
	p[ACPI_HDR_CHECKSUM] = (uint8_t)-checksum(p, len);
}

/* Whether the entry's target is a table with signature sig (its header inside the window). */
static bool points_to(const struct acpi_tables *t, uint64_t pa, const char *sig)
{
	return pa != 0 && window_has(t, pa, ACPI_HDR_SIZE) &&
	       memcmp((const uint8_t *)phys_to_virt(pa) + ACPI_HDR_SIGNATURE, sig, ACPI_SIG_LEN) == 0;
}

uint32_t acpi_root_copy(const struct acpi_tables *t, const struct acpi_table_ref *root, bool xsdt,
			const char *sig, uint64_t new_pa, void *dst)
{
	uint32_t esize = xsdt ? XSDT_ENTRY_SIZE : RSDT_ENTRY_SIZE;
	uint32_t count = (root->len - ACPI_HDR_SIZE) / esize;
	const uint8_t *entry = root->ptr + ACPI_HDR_SIZE;
	uint8_t *out = dst;
	uint32_t len = ACPI_HDR_SIZE;
	bool replaced = false;
	if (out)
		memcpy(out, root->ptr, ACPI_HDR_SIZE);
	for (uint32_t i = 0; i < count; i++, entry += esize) {
		uint64_t pa = xsdt ? le64_load(entry) : le32_load(entry);
		if (points_to(t, pa, sig)) {
			if (replaced)
				continue;
			replaced = true;
			pa = new_pa;
		}
		if (out && xsdt)
			le64_store(out + len, pa);
		else if (out)
			le32_store(out + len, (uint32_t)pa);
		len += esize;
	}
	if (out) {
		le32_store(out + ACPI_HDR_LENGTH, len);
		acpi_table_set_checksum(out, len);
	}
	return len;
}

void acpi_rsdp_rewrite(uint8_t *rsdp, size_t len, uint32_t rsdt, uint64_t xsdt)
{
	le32_store(rsdp + RSDP_OFF_RSDT, rsdt);
	rsdp[RSDP_OFF_CHECKSUM] = 0;
	rsdp[RSDP_OFF_CHECKSUM] = (uint8_t)-checksum(rsdp, RSDP_V1_SIZE);
	if (rsdp[RSDP_OFF_REVISION] < RSDP_REVISION_2 || len < RSDP_V2_SIZE)
		return;
	uint32_t full = le32_load(rsdp + RSDP_OFF_LENGTH);
	le64_store(rsdp + RSDP_OFF_XSDT, xsdt);
	rsdp[RSDP_OFF_EXT_CHECKSUM] = 0;
	rsdp[RSDP_OFF_EXT_CHECKSUM] = (uint8_t)-checksum(rsdp, MIN((size_t)full, len));
}

/* Decode the GAS at p (GAS_SIZE readable bytes). */
static struct acpi_gas gas_decode(const uint8_t *p)
{
	return (struct acpi_gas){
		.space_id = p[GAS_OFF_SPACE_ID],
		.bit_width = p[GAS_OFF_BIT_WIDTH],
		.bit_offset = p[GAS_OFF_BIT_OFFSET],
		.access_size = p[GAS_OFF_ACCESS_SIZE],
		.address = le64_load(p + GAS_OFF_ADDRESS),
	};
}

/* A 32-bit legacy port field as a port number; 0 (absent) if it does not fit 16 bits. */
static uint16_t io_port(uint64_t v)
{
	return v <= IO_PORT_MAX ? (uint16_t)v : 0;
}

/*
 * A register block's I/O port: X_ field (a GAS at x_off) when the table holds it, it is set and it is in
 * I/O space (5.2.9: the X_ field wins over the legacy one when non-zero), else the legacy 32-bit field.
 */
static uint16_t fadt_port(const uint8_t *p, uint32_t len, uint32_t legacy_off, uint32_t x_off)
{
	if (len >= x_off + GAS_SIZE) {
		struct acpi_gas g = gas_decode(p + x_off);
		if (g.address != 0 && g.space_id == ACPI_GAS_SYSTEM_IO && io_port(g.address) != 0)
			return io_port(g.address);
	}
	return io_port(le32_load(p + legacy_off));
}

enum acpi_err acpi_fadt_decode(const void *fadt, uint32_t len, struct acpi_fadt *out)
{
	const uint8_t *p = fadt;
	if (len < FADT_MIN_LEN)
		return ACPI_ERR_LENGTH;

	struct acpi_fadt f = {
		.revision = p[ACPI_HDR_REVISION],
		.length = len,
		.dsdt = le32_load(p + FADT_OFF_DSDT),
		.smi_cmd = io_port(le32_load(p + FADT_OFF_SMI_CMD)),
		.acpi_enable = p[FADT_OFF_ACPI_ENABLE],
		.pm1a_cnt = fadt_port(p, len, FADT_OFF_PM1A_CNT_BLK, FADT_OFF_X_PM1A_CNT_BLK),
		.pm1b_cnt = fadt_port(p, len, FADT_OFF_PM1B_CNT_BLK, FADT_OFF_X_PM1B_CNT_BLK),
	};
	/* The PM timer (4.8.3.3): PM_TMR_LEN must be 4 when the block is there, else it counts as absent. */
	if (len > FADT_OFF_PM_TMR_LEN && p[FADT_OFF_PM_TMR_LEN] == FADT_PM_TMR_LEN)
		f.pm_tmr = fadt_port(p, len, FADT_OFF_PM_TMR_BLK, FADT_OFF_X_PM_TMR_BLK);
	if (len >= FADT_OFF_X_DSDT + sizeof(uint64_t)) {
		uint64_t x_dsdt = le64_load(p + FADT_OFF_X_DSDT);
		if (x_dsdt != 0) {
			f.dsdt_alt = f.dsdt != x_dsdt ? f.dsdt : 0;
			f.dsdt = x_dsdt;
		}
	}
	if (len >= FADT_OFF_FLAGS + sizeof(uint32_t))
		f.flags = le32_load(p + FADT_OFF_FLAGS);
	f.hw_reduced = (f.flags & ACPI_FADT_F_HW_REDUCED_ACPI) != 0;
	f.pm_tmr_32bit = f.pm_tmr && (f.flags & ACPI_FADT_F_TMR_VAL_EXT);
	if ((f.flags & ACPI_FADT_F_RESET_REG_SUP) && len > FADT_OFF_RESET_VALUE) {
		f.reset_reg = gas_decode(p + FADT_OFF_RESET_REG);
		f.reset_value = p[FADT_OFF_RESET_VALUE];
		f.reset_supported = f.reset_reg.address != 0;
	}
	if (len >= FADT_OFF_SLEEP_CONTROL_REG + GAS_SIZE) {
		f.sleep_ctl = gas_decode(p + FADT_OFF_SLEEP_CONTROL_REG);
		f.have_sleep_ctl = f.sleep_ctl.address != 0;
	}
	*out = f;
	return ACPI_OK;
}

/*
 * Decode one small integer data object (20.2.3) at b[*pos], which must end at or before end; advance *pos.
 * Accepts ZeroOp, OneOp, Byte/Word/DWordPrefix and, for old firmware, a bare byte <= ACPI_SLP_TYP_MAX.
 */
static bool aml_sleep_int(const uint8_t *b, uint32_t *pos, uint32_t end, uint8_t *val)
{
	uint32_t p = *pos;
	if (p >= end)
		return false;
	uint32_t width;
	switch (b[p]) {
	case AML_BYTE_PREFIX:
		width = 1;
		break;
	case AML_WORD_PREFIX:
		width = 2;
		break;
	case AML_DWORD_PREFIX:
		width = 4;
		break;
	default: /* ZeroOp, OneOp or a bare byte: the opcode is the value */
		if (b[p] > ACPI_SLP_TYP_MAX)
			return false;
		*val = b[p];
		*pos = p + 1;
		return true;
	}
	if (end - p - 1 < width)
		return false;
	uint32_t v = 0;
	for (uint32_t i = 0; i < width; i++)
		v |= (uint32_t)b[p + 1 + i] << (8 * i);
	if (v > ACPI_SLP_TYP_MAX)
		return false;
	*val = (uint8_t)v;
	*pos = p + 1 + width;
	return true;
}

/*
 * Parse the package whose PackageOp is at b[k - 1] (k = its PkgLength byte), len bytes in b, into *out.
 * ACPI_ERR_MALFORMED unless it is a well-formed package of >= 2 small integers inside b.
 */
static enum acpi_err aml_sleep_package(const uint8_t *b, uint32_t len, uint32_t k,
				       struct acpi_sleep_type *out)
{
	uint8_t lead = b[k];
	uint32_t follow = lead >> AML_PKGLEN_COUNT_SHIFT;
	uint32_t pkglen;
	if (len - k <= follow + 1) /* PkgLength bytes and NumElements must be inside b */
		return ACPI_ERR_MALFORMED;
	if (follow == 0) {
		pkglen = lead & AML_PKGLEN_SHORT_MASK;
	} else {
		if (lead & AML_PKGLEN_RESERVED_MASK)
			return ACPI_ERR_MALFORMED;
		pkglen = lead & AML_PKGLEN_NIBBLE_MASK;
		for (uint32_t i = 1; i <= follow; i++)
			pkglen |= (uint32_t)b[k + i] << (AML_PKGLEN_NIBBLE_BITS + 8 * (i - 1));
	}
	/* PkgLength counts itself (20.2.4): the package ends at k + pkglen. */
	if (pkglen < follow + 2 || pkglen > len - k)
		return ACPI_ERR_MALFORMED;
	uint32_t end = k + pkglen;
	uint32_t pos = k + 1 + follow;
	if (b[pos++] < AML_SLEEP_PKG_MIN_ELEMENTS)
		return ACPI_ERR_MALFORMED;
	struct acpi_sleep_type s;
	if (!aml_sleep_int(b, &pos, end, &s.slp_typa) || !aml_sleep_int(b, &pos, end, &s.slp_typb))
		return ACPI_ERR_MALFORMED;
	*out = s;
	return ACPI_OK;
}

enum acpi_err acpi_aml_find_s5(const void *table, uint32_t len, struct acpi_sleep_type *out)
{
	const uint8_t *b = table;
	enum acpi_err result = ACPI_ERR_NOT_FOUND;
	/* NameOp [\] "_S5_" PackageOp: the shortest match needs these bytes before the PkgLength. */
	const uint32_t head = 1 + AML_NAMESEG_LEN + 1;

	for (uint32_t i = ACPI_HDR_SIZE; i < len && len - i > head; i++) {
		if (b[i] != AML_NAME_OP)
			continue;
		uint32_t j = i + 1;
		if (b[j] == AML_ROOT_CHAR)
			j++;
		if (len - j <= AML_NAMESEG_LEN + 1) /* name, PackageOp and at least one byte more */
			break;
		if (memcmp(b + j, AML_S5_NAME, AML_NAMESEG_LEN) != 0 ||
		    b[j + AML_NAMESEG_LEN] != AML_PACKAGE_OP)
			continue;
		enum acpi_err err = aml_sleep_package(b, len, j + AML_NAMESEG_LEN + 1, out);
		if (err == ACPI_OK)
			return ACPI_OK;
		result = err;
	}
	return result;
}

enum acpi_err acpi_power_discover(const struct acpi_tables *t, struct acpi_power_info *out)
{
	*out = (struct acpi_power_info){.dsdt_err = ACPI_ERR_ABSENT};
	enum acpi_err err = acpi_find_table(t, ACPI_SIG_FADT, 0, &out->fadt_ref);
	if (err != ACPI_OK)
		return err;
	err = acpi_fadt_decode(out->fadt_ref.ptr, out->fadt_ref.len, &out->fadt);
	if (err != ACPI_OK)
		return err;

	const uint64_t candidates[] = {out->fadt.dsdt, out->fadt.dsdt_alt};
	for (size_t i = 0; i < ARRAY_SIZE(candidates); i++) {
		struct acpi_table_ref dsdt;
		if (candidates[i] == 0)
			continue;
		err = acpi_table_check(t, candidates[i], ACPI_SIG_DSDT, &dsdt);
		if (err == ACPI_OK)
			err = acpi_aml_find_s5(dsdt.ptr, dsdt.len, &out->s5);
		out->dsdt_err = err;
		if (err == ACPI_OK) {
			out->dsdt_pa = dsdt.pa;
			out->have_s5 = true;
			break;
		}
	}
	return ACPI_OK;
}
