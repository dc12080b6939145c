/*
 * MTRR snapshot and memory-type resolution (see mtrr.h; SDM Vol. 3A 13.11).
 *
 * A variable range n contains pa when (pa & M) == (PHYSBASEn & M), M being PHYSMASKn's address field with
 * every bit at or above MAXPHYADDR set as well, so that a range ends below 2^MAXPHYADDR (SDM Vol. 3A
 * 13.11.2.3). Whether pa is inside then changes only where a bit of M changes, which gives
 * mtrr_range_type() the next point to look at without walking pages; this holds for discontiguous masks
 * too (the SDM does not forbid them), they just have more such points.
 */
#include "arch/x86/mtrr.h"
#include "lib/log.h"
#include "lib/str.h"

#ifndef HV_HOST_TEST
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#endif

/* MTRR MSRs (SDM Vol. 4 Table 2-2). IA32_MTRRCAP and IA32_MTRR_DEF_TYPE are in arch/x86/cpu.h. */
#define MSR_IA32_MTRR_PHYSBASE0 0x200u
#define MSR_IA32_MTRR_PHYSMASK0 0x201u
#define MSR_IA32_MTRR_FIX64K_00000 0x250u
#define MSR_IA32_MTRR_FIX16K_80000 0x258u
#define MSR_IA32_MTRR_FIX16K_A0000 0x259u
#define MSR_IA32_MTRR_FIX4K_C0000 0x268u /* ... through FIX4K_F8000, 0x26F */

#define MTRR_ADDR_SHIFT 12 /* address fields start at bit 12; PHYSMASK's bits 11:0 are never compared */
#define MTRR_FIXED_PER_MSR 8
#define MTRR_TYPE_NONE 0xFFu /* no variable range matched */

/*
 * The fixed ranges (SDM Vol. 3A 13.11.2.2): [start, end) is cut into units of 2^unit_shift bytes, whose
 * type bytes are, in address order, the bytes (low byte first) of MSRs first_msr, first_msr + 1, ... of
 * struct mtrr_state's fixed[].
 */
struct mtrr_fixed_seg {
	uint32_t start, end;
	unsigned unit_shift, first_msr;
};

static const struct mtrr_fixed_seg mtrr_fixed_segs[] = {
	{0x00000, 0x80000, 16, 0},  /* FIX64K_00000: 8 x 64 KiB */
	{0x80000, 0xC0000, 14, 1},  /* FIX16K_80000, FIX16K_A0000: 16 x 16 KiB */
	{0xC0000, 0x100000, 12, 3}, /* FIX4K_C0000 .. FIX4K_F8000: 64 x 4 KiB */
};

static const char *const mtrr_type_names[] = {
	[MTRR_TYPE_UC] = "UC", [MTRR_TYPE_WC] = "WC", [MTRR_TYPE_WT] = "WT",
	[MTRR_TYPE_WP] = "WP", [MTRR_TYPE_WB] = "WB",
};

const char *mtrr_type_name(uint8_t type)
{
	if (type < ARRAY_SIZE(mtrr_type_names) && mtrr_type_names[type])
		return mtrr_type_names[type];
	return "reserved";
}

/* A defined type as is; a reserved encoding (which the CPU refuses to store with #GP) as UC. */
static uint8_t mtrr_sanitize(uint64_t type)
{
	return type < ARRAY_SIZE(mtrr_type_names) && mtrr_type_names[type] ? (uint8_t)type : MTRR_TYPE_UC;
}

static bool mtrr_enabled(const struct mtrr_state *s)
{
	return s->supported && (s->def_type & MTRR_DEF_E);
}

static bool mtrr_fixed_enabled(const struct mtrr_state *s)
{
	return mtrr_enabled(s) && (s->cap & MTRR_CAP_FIX) && (s->def_type & MTRR_DEF_FE);
}

static unsigned mtrr_var_count(const struct mtrr_state *s)
{
	return (unsigned)MIN(s->cap & MTRR_CAP_VCNT_MASK, (uint64_t)MTRR_VAR_MAX);
}

static unsigned mtrr_phys_bits(const struct mtrr_state *s)
{
	return MIN(MAX(s->phys_bits, (unsigned)MTRR_PHYS_BITS_MIN), (unsigned)MTRR_PHYS_BITS_MAX);
}

/* Bits [MAXPHYADDR-1:12]: the address field of PHYSBASE / PHYSMASK. */
static uint64_t mtrr_addr_field(const struct mtrr_state *s)
{
	return (BIT(mtrr_phys_bits(s)) - 1) & ~(BIT(MTRR_ADDR_SHIFT) - 1);
}

/* The compare mask M of a variable range: PHYSMASK's address field plus every bit above MAXPHYADDR. */
static uint64_t mtrr_var_mask(const struct mtrr_state *s, const struct mtrr_var *v)
{
	return (v->mask & mtrr_addr_field(s)) | ~(BIT(mtrr_phys_bits(s)) - 1);
}

/* PHYSBASE's address field: where the range starts (reserved bits above MAXPHYADDR dropped). */
static uint64_t mtrr_var_base(const struct mtrr_state *s, const struct mtrr_var *v)
{
	return v->base & mtrr_addr_field(s);
}

static bool mtrr_var_valid(const struct mtrr_var *v)
{
	return (v->mask & MTRR_PHYSMASK_VALID) != 0;
}

static bool mtrr_var_contains(const struct mtrr_state *s, const struct mtrr_var *v, uint64_t pa)
{
	uint64_t m = mtrr_var_mask(s, v);
	return (pa & m) == (mtrr_var_base(s, v) & m);
}

/* The fixed-range segment holding pa (< MTRR_FIXED_END). */
static const struct mtrr_fixed_seg *mtrr_fixed_seg_of(uint64_t pa)
{
	size_t i = 0;
	while (i + 1 < ARRAY_SIZE(mtrr_fixed_segs) && pa >= mtrr_fixed_segs[i].end)
		i++;
	return &mtrr_fixed_segs[i];
}

static uint8_t mtrr_fixed_type(const struct mtrr_state *s, uint64_t pa)
{
	const struct mtrr_fixed_seg *seg = mtrr_fixed_seg_of(pa);
	uint64_t unit = (pa - seg->start) >> seg->unit_shift;
	uint64_t msr = s->fixed[seg->first_msr + unit / MTRR_FIXED_PER_MSR];
	return mtrr_sanitize((msr >> (8 * (unit % MTRR_FIXED_PER_MSR))) & 0xFF);
}

/*
 * The type of overlapping variable ranges, from the set of their types (SDM Vol. 3A 13.11.4.1): one type
 * is itself; any UC gives UC; exactly WT and WB give WT; any other mix is undefined, taken as UC.
 */
static uint8_t mtrr_combine(unsigned types_seen)
{
	if (types_seen == 0)
		return MTRR_TYPE_NONE;
	if ((types_seen & (types_seen - 1)) == 0) {
		uint8_t t = 0;
		while (!(types_seen & (1u << t)))
			t++;
		return t;
	}
	if (types_seen == ((1u << MTRR_TYPE_WT) | (1u << MTRR_TYPE_WB)))
		return MTRR_TYPE_WT;
	return MTRR_TYPE_UC;
}

uint8_t mtrr_type_at(const struct mtrr_state *s, uint64_t pa)
{
	if (!mtrr_enabled(s))
		return MTRR_TYPE_UC;
	if (pa < MTRR_FIXED_END && mtrr_fixed_enabled(s))
		return mtrr_fixed_type(s, pa);
	unsigned seen = 0;
	for (unsigned i = 0; i < mtrr_var_count(s); i++) {
		const struct mtrr_var *v = &s->var[i];
		if (mtrr_var_valid(v) && mtrr_var_contains(s, v, pa))
			seen |= 1u << mtrr_sanitize(v->base & MTRR_PHYSBASE_TYPE_MASK);
	}
	uint8_t t = mtrr_combine(seen);
	return t != MTRR_TYPE_NONE ? t : mtrr_sanitize(s->def_type & MTRR_DEF_TYPE_MASK);
}

/*
 * The smallest y >= from with (y & m) == want (want holds only bits of m). Returns false when there is none
 * below 2^64. Scans from the top bit: at the highest bit of m where `from` disagrees with want, either want
 * has the 1 (take from's higher bits, that 1, and the least of the rest), or `from` has it (carry into the
 * lowest free bit above that is 0 in `from`, and the least of the rest).
 */
static bool mtrr_next_match(uint64_t from, uint64_t m, uint64_t want, uint64_t *y)
{
	for (int i = 63; i >= 0; i--) {
		uint64_t bit = BIT(i), below = bit - 1, at_or_above = ~below;
		if (!(m & bit) || (from & bit) == (want & bit))
			continue;
		if (want & bit) {
			*y = (from & ~below & ~bit) | bit | (want & below);
			return true;
		}
		uint64_t free_zero = ~m & ~from & at_or_above & ~bit;
		if (free_zero == 0)
			return false;
		uint64_t j = free_zero & (~free_zero + 1);
		*y = (from & ~(j - 1) & ~j) | j | (want & (j - 1));
		return true;
	}
	*y = from;
	return true;
}

/*
 * The smallest address above pa where variable range v may start or stop containing addresses (false: none
 * below 2^64). Inside, that is the end of pa's aligned block of 2^(lowest bit of M) bytes; outside, the
 * next address whose M bits equal the base's.
 */
static bool mtrr_var_next_edge(const struct mtrr_state *s, const struct mtrr_var *v, uint64_t pa,
			       uint64_t *edge)
{
	uint64_t m = mtrr_var_mask(s, v), want = mtrr_var_base(s, v) & m;
	if ((pa & m) == want) {
		uint64_t low = m & (~m + 1);
		*edge = (pa | (low - 1)) + 1;
		return *edge != 0;
	}
	return pa != UINT64_MAX && mtrr_next_match(pa + 1, m, want, edge);
}

/*
 * The smallest address above pa where the effective type may change (false: none below 2^64). All of
 * [pa, *edge) has mtrr_type_at(s, pa).
 */
static bool mtrr_next_edge(const struct mtrr_state *s, uint64_t pa, uint64_t *edge)
{
	if (!mtrr_enabled(s))
		return false;
	if (pa < MTRR_FIXED_END && mtrr_fixed_enabled(s)) {
		const struct mtrr_fixed_seg *seg = mtrr_fixed_seg_of(pa);
		*edge = ALIGN_DOWN(pa, BIT(seg->unit_shift)) + BIT(seg->unit_shift);
		return true;
	}
	bool found = false;
	uint64_t nearest = UINT64_MAX;
	for (unsigned i = 0; i < mtrr_var_count(s); i++) {
		const struct mtrr_var *v = &s->var[i];
		uint64_t e;
		if (mtrr_var_valid(v) && mtrr_var_next_edge(s, v, pa, &e)) {
			nearest = MIN(nearest, e);
			found = true;
		}
	}
	*edge = nearest;
	return found;
}

bool mtrr_range_type(const struct mtrr_state *s, uint64_t base, uint64_t size, uint8_t *type)
{
	if (size == 0 || size - 1 > UINT64_MAX - base)
		return false;
	uint64_t last = base + (size - 1);
	uint8_t first = mtrr_type_at(s, base);
	uint64_t pa = base, edge;
	while (mtrr_next_edge(s, pa, &edge) && edge <= last) {
		pa = edge;
		if (mtrr_type_at(s, pa) != first)
			return false;
	}
	*type = first;
	return true;
}

uint64_t mtrr_run_end(const struct mtrr_state *s, uint64_t pa, uint8_t *type)
{
	*type = mtrr_type_at(s, pa);
	uint64_t edge;
	while (mtrr_next_edge(s, pa, &edge)) {
		if (mtrr_type_at(s, edge) != *type)
			return edge;
		pa = edge;
	}
	return UINT64_MAX;
}

void mtrr_log(const struct mtrr_state *s)
{
	unsigned valid = 0;
	for (unsigned i = 0; i < mtrr_var_count(s); i++)
		valid += mtrr_var_valid(&s->var[i]);
	uint8_t def = mtrr_enabled(s) ? mtrr_sanitize(s->def_type & MTRR_DEF_TYPE_MASK) : MTRR_TYPE_UC;
	log_event("mtrr enabled=%d fixed=%d default=%s variable=%u vcnt=%u maxphyaddr=%u", mtrr_enabled(s),
		  mtrr_fixed_enabled(s), mtrr_type_name(def), valid, (unsigned)(s->cap & MTRR_CAP_VCNT_MASK),
		  mtrr_phys_bits(s));
	for (unsigned i = 0; i < mtrr_var_count(s); i++) {
		const struct mtrr_var *v = &s->var[i];
		if (!mtrr_var_valid(v))
			continue;
		uint64_t m = mtrr_var_mask(s, v);
		unsigned clear = 0; /* address bits M leaves free: the range covers 2^clear bytes */
		for (unsigned b = 0; b < 64; b++)
			clear += !(m & BIT(b));
		log_event("mtrr_var index=%u base=0x%llx mask=0x%llx size=%llu type=%s", i,
			  (unsigned long long)mtrr_var_base(s, v),
			  (unsigned long long)(v->mask & mtrr_addr_field(s)), (unsigned long long)BIT(clear),
			  mtrr_type_name((uint8_t)(v->base & MTRR_PHYSBASE_TYPE_MASK)));
	}
}

#ifndef HV_HOST_TEST
static const uint32_t mtrr_fixed_msrs[MTRR_FIXED_MSRS] = {
	MSR_IA32_MTRR_FIX64K_00000,    MSR_IA32_MTRR_FIX16K_80000,    MSR_IA32_MTRR_FIX16K_A0000,
	MSR_IA32_MTRR_FIX4K_C0000 + 0, MSR_IA32_MTRR_FIX4K_C0000 + 1, MSR_IA32_MTRR_FIX4K_C0000 + 2,
	MSR_IA32_MTRR_FIX4K_C0000 + 3, MSR_IA32_MTRR_FIX4K_C0000 + 4, MSR_IA32_MTRR_FIX4K_C0000 + 5,
	MSR_IA32_MTRR_FIX4K_C0000 + 6, MSR_IA32_MTRR_FIX4K_C0000 + 7,
};

void mtrr_read(struct mtrr_state *s)
{
	memset(s, 0, sizeof(*s));
	s->phys_bits = cpu_maxphyaddr();
	s->supported = (cpuid(CPUID_LEAF_FEATURES, 0).edx & CPUID1_EDX_MTRR) != 0;
	if (!s->supported) {
		log_warn("this CPU has no MTRRs: all guest memory will be uncacheable (slow)");
		return;
	}
	s->cap = rdmsr(MSR_IA32_MTRRCAP);
	s->def_type = rdmsr(MSR_IA32_MTRR_DEF_TYPE);
	if (s->cap & MTRR_CAP_FIX)
		for (unsigned i = 0; i < MTRR_FIXED_MSRS; i++)
			s->fixed[i] = rdmsr(mtrr_fixed_msrs[i]);
	unsigned vcnt = (unsigned)(s->cap & MTRR_CAP_VCNT_MASK);
	if (vcnt > MTRR_VAR_MAX)
		log_warn("IA32_MTRRCAP reports %u variable MTRRs; only the first %u can exist and are used",
			 vcnt, MTRR_VAR_MAX);
	for (unsigned i = 0; i < mtrr_var_count(s); i++) {
		s->var[i].base = rdmsr(MSR_IA32_MTRR_PHYSBASE0 + 2 * i);
		s->var[i].mask = rdmsr(MSR_IA32_MTRR_PHYSMASK0 + 2 * i);
	}
	if (!(s->def_type & MTRR_DEF_E))
		log_warn("the firmware left the MTRRs disabled: all guest memory will be uncacheable (slow)");
}
#endif
