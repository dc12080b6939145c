/*
 * Memory type range registers: the memory type the firmware gave each physical range (SDM Vol. 3A 13.11,
 * "Memory Type Range Registers"; 11.11 / 12.11 in older editions). The guest runs under EPT, which
 * replaces the MTRRs for every guest access (SDM Vol. 3C 29.3.7.2), so each EPT leaf must carry the type
 * the MTRRs give its range, and a large leaf may only cover a range of one type.
 *
 * Read once, at boot, before the guest runs: the guest may rewrite the MTRRs later (they are its to
 * program on real hardware), and those writes change neither this snapshot nor the EPT types built from
 * it. The snapshot keeps the raw MSR values; everything else is decoded from them on demand.
 *
 * mtrr_read() and mtrr_log() run in the hypervisor; the rest is pure logic over a struct mtrr_state (no
 * privileged instructions, no allocation) and runs in the host unit tests on synthetic MSR values.
 */
#ifndef HV_ARCH_X86_MTRR_H
#define HV_ARCH_X86_MTRR_H

#include "lib/types.h"

/*
 * Memory types (SDM Vol. 3A 13.11, table "Memory Types That Can Be Encoded in MTRRs"); other encodings are
 * reserved. The EPT memory-type field uses the same encoding (SDM Vol. 3C 29.3.7).
 */
#define MTRR_TYPE_UC 0u
#define MTRR_TYPE_WC 1u
#define MTRR_TYPE_WT 4u
#define MTRR_TYPE_WP 5u
#define MTRR_TYPE_WB 6u

/* IA32_MTRRCAP (SDM Vol. 3A 13.11.1). */
#define MTRR_CAP_VCNT_MASK 0xFFull /* number of variable ranges */
#define MTRR_CAP_FIX BIT(8)	   /* fixed ranges supported */
#define MTRR_CAP_WC BIT(10)	   /* write-combining type supported */

/* IA32_MTRR_DEF_TYPE (SDM Vol. 3A 13.11.2.1). */
#define MTRR_DEF_TYPE_MASK 0xFFull /* type of memory no MTRR covers */
#define MTRR_DEF_FE BIT(10)	   /* fixed ranges enabled */
#define MTRR_DEF_E BIT(11)	   /* MTRRs enabled; clear: all memory is UC */

/*
 * IA32_MTRR_PHYSBASEn / PHYSMASKn (SDM Vol. 3A 13.11.2.3). The address fields hold bits [MAXPHYADDR-1:12];
 * bits above MAXPHYADDR are reserved, and a range never reaches past 2^MAXPHYADDR.
 */
#define MTRR_PHYSBASE_TYPE_MASK 0xFFull
#define MTRR_PHYSMASK_VALID BIT(11)

/* Fixed ranges: 11 MSRs of 8 one-byte types each, covering [0, MTRR_FIXED_END) (SDM Vol. 3A 13.11.2.2). */
#define MTRR_FIXED_MSRS 11
#define MTRR_FIXED_END MiB(1)

/*
 * Variable ranges kept: IA32_MTRR_PHYSBASE0 is MSR 0x200 and the first fixed-range MSR is 0x250, so no
 * CPU can have more than 40 pairs (SDM Vol. 4 Table 2-2). A larger VCNT is clamped (and logged).
 */
#define MTRR_VAR_MAX 40

/* MAXPHYADDR bounds (SDM Vol. 3A 4.1.4); values outside are clamped into them. */
#define MTRR_PHYS_BITS_MIN 32
#define MTRR_PHYS_BITS_MAX 52

struct mtrr_var {
	uint64_t base; /* IA32_MTRR_PHYSBASEn: address | type */
	uint64_t mask; /* IA32_MTRR_PHYSMASKn: mask | MTRR_PHYSMASK_VALID */
};

/*
 * Everything that decides memory types, as read from the CPU. A zeroed struct means "no MTRRs": all UC.
 * Fixed ranges count only when supported, E and FE are all set; variable pairs only the first
 * MIN(VCNT, MTRR_VAR_MAX), and only those with MTRR_PHYSMASK_VALID.
 */
struct mtrr_state {
	bool supported;			   /* CPUID.1:EDX.MTRR */
	uint64_t cap;			   /* IA32_MTRRCAP */
	uint64_t def_type;		   /* IA32_MTRR_DEF_TYPE */
	uint64_t fixed[MTRR_FIXED_MSRS];   /* FIX64K_00000, FIX16K_80000 / A0000, FIX4K_C0000..F8000 */
	struct mtrr_var var[MTRR_VAR_MAX]; /* PHYSBASEn / PHYSMASKn */
	unsigned phys_bits;		   /* MAXPHYADDR: top of PHYSBASE / PHYSMASK address fields */
};

/*
 * mtrr_read: snapshot this CPU's MTRRs into *s (every field; no MTRRs per CPUID leaves it "all UC").
 * Needs: CPL 0, on the boot processor, before the guest runs. Reads only MSRs that CPUID and IA32_MTRRCAP
 * say exist. Hypervisor only (not built in host tests).
 */
void mtrr_read(struct mtrr_state *s);

/*
 * mtrr_type_at: the effective memory type of physical address pa (SDM Vol. 3A 13.11.4.1): UC when the
 * MTRRs are off; the fixed-range type in the first MiB when fixed ranges are on; else the type of the
 * variable ranges that contain pa (UC if any is UC, WT if they are WT and WB, UC for any other mix, which
 * the SDM leaves undefined); else the default type. Reserved type encodings read as UC. Addresses at or
 * above 2^MAXPHYADDR lie in no variable range.
 */
uint8_t mtrr_type_at(const struct mtrr_state *s, uint64_t pa);

/*
 * mtrr_range_type: true, with *type set, when every byte of [base, base + size) has one effective type
 * (as mtrr_type_at); false when the range is mixed, empty (size 0) or wraps past 2^64 (*type untouched).
 * Any base and size: it visits only the points where some fixed or variable range starts or ends (a few
 * per range with contiguous masks), never each page, so a 1 GiB query costs about as much as a 4 KiB one.
 */
bool mtrr_range_type(const struct mtrr_state *s, uint64_t base, uint64_t size, uint8_t *type);

/*
 * mtrr_run_end: the end of the run of one type that starts at pa: every byte of [pa, end) has *type =
 * mtrr_type_at(s, pa), and the byte at end (when end != UINT64_MAX) has another type. UINT64_MAX: the type
 * holds to the top of the address space. Visits the same points as mtrr_range_type, up to the change.
 */
uint64_t mtrr_run_end(const struct mtrr_state *s, uint64_t pa, uint8_t *type);

/* "UC", "WC", "WT", "WP", "WB", or "reserved" for any other encoding. */
const char *mtrr_type_name(uint8_t type);

/*
 * mtrr_log: one structured line "event=mtrr enabled= fixed= default= variable= vcnt= maxphyaddr=", then one
 * "event=mtrr_var index= base= mask= size= type=" per valid variable range (size: bytes it covers).
 */
void mtrr_log(const struct mtrr_state *s);

#endif
