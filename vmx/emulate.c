/* The page-table-write emulator of shadow paging (see emulate.h): SDM Vol. 2A chapter 2 encodings. */
#include "vmx/emulate.h"
#include "arch/x86/cpu.h"
#include "lib/str.h"

/* Legacy prefixes (SDM Vol. 2A 2.1.1). */
#define PFX_LOCK 0xF0
#define PFX_REPNE 0xF2 /* XACQUIRE with LOCK */
#define PFX_REP 0xF3   /* XRELEASE with LOCK, or on MOV to memory */
#define PFX_OPSIZE 0x66
#define PFX_ADDRSIZE 0x67
#define PFX_SEG_ES 0x26
#define PFX_SEG_CS 0x2E
#define PFX_SEG_SS 0x36
#define PFX_SEG_DS 0x3E
#define PFX_SEG_FS 0x64
#define PFX_SEG_GS 0x65
#define REX_FIRST 0x40 /* 0100WRXB (SDM Vol. 2A 2.2.1) */
#define REX_LAST 0x4F
#define REX_B BIT(0)
#define REX_X BIT(1)
#define REX_R BIT(2)
#define REX_W BIT(3)
#define ESCAPE_0F 0x0F

/* ModR/M and SIB (SDM Vol. 2A 2.1.5, Tables 2-2 and 2-3). */
#define MODRM_MOD(b) ((unsigned)(b) >> 6)
#define MODRM_REG(b) (((unsigned)(b) >> 3) & 7)
#define MODRM_RM(b) ((unsigned)(b)&7)
#define MOD_NO_DISP 0
#define MOD_DISP8 1
#define MOD_DISP32 2
#define MOD_REGISTER 3
#define RM_SIB 4
#define RM_DISP32 5 /* with mod 0: disp32 alone, or RIP-relative in 64-bit mode */
#define SIB_NO_INDEX 4
#define SIB_NO_BASE 5 /* with mod 0 */

/* Opcodes handled (SDM Vol. 2 instruction pages). */
#define OP_OR_RM8_R8 0x08
#define OP_OR_RM_R 0x09
#define OP_AND_RM8_R8 0x20
#define OP_AND_RM_R 0x21
#define OP_XOR_RM8_R8 0x30
#define OP_XOR_RM_R 0x31
#define OP_GRP1_RM8_IMM8 0x80
#define OP_GRP1_RM_IMM 0x81
#define OP_GRP1_RM_IMM8 0x83
#define GRP1_OR 1
#define GRP1_AND 4
#define GRP1_XOR 6
#define OP_XCHG_RM8_R8 0x86
#define OP_XCHG_RM_R 0x87
#define OP_MOV_RM8_R8 0x88
#define OP_MOV_RM_R 0x89
#define OP_MOV_RM8_IMM8 0xC6
#define OP_MOV_RM_IMM 0xC7
#define GRP11_MOV 0
#define OP2_CMPXCHG_RM8 0xB0
#define OP2_CMPXCHG_RM 0xB1
#define OP2_GRP9 0xC7
#define GRP9_CMPXCHG8B 1
#define OP2_BTS_RM_R 0xAB
#define OP2_BTR_RM_R 0xB3
#define OP2_BTC_RM_R 0xBB
#define OP2_GRP8_RM_IMM8 0xBA
#define GRP8_BTS 5
#define GRP8_BTR 6
#define GRP8_BTC 7

/* RFLAGS bits an emulated instruction changes (SDM Vol. 1 3.4.3). */
#define FLAG_CF BIT(0)
#define FLAG_PF BIT(2)
#define FLAG_AF BIT(4)
#define FLAG_ZF BIT(6)
#define FLAG_SF BIT(7)
#define FLAG_OF BIT(11)
#define FLAG_RF BIT(16)

#define HIGH_BYTE_FIRST 4 /* without REX, byte registers 4..7 are AH, CH, DH, BH */
#define HIGH_BYTE_SHIFT 8
#define MASK32 0xFFFFFFFFull

/* The instruction being decoded. */
struct decoder {
	const uint8_t *bytes;
	size_t n, pos;
	bool truncated;
};

/* The next byte, or 0 with d->truncated set when the bytes (or the 15-byte limit) end. */
static uint8_t next_byte(struct decoder *d)
{
	if (d->pos >= d->n || d->pos >= X86_INSN_MAX_LEN) {
		d->truncated = true;
		return 0;
	}
	return d->bytes[d->pos++];
}

/* A little-endian immediate or displacement of size bytes, sign-extended to 64 bits. */
static uint64_t next_signed(struct decoder *d, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint64_t)next_byte(d) << (8 * i);
	unsigned bits = 8 * size;
	return bits < 64 && (v & BIT(bits - 1)) ? v | ~(BIT(bits) - 1) : v;
}

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : BIT(8 * size) - 1;
}

/* Prefixes seen before the opcode. */
struct prefixes {
	bool lock, opsize, addrsize;
	uint8_t rep; /* 0, PFX_REPNE or PFX_REP */
	int seg;     /* enum x86_seg of an override, or -1 */
	uint8_t rex; /* 0: none */
};

static int segment_override(uint8_t b)
{
	switch (b) {
	case PFX_SEG_ES:
		return X86_SEG_ES;
	case PFX_SEG_CS:
		return X86_SEG_CS;
	case PFX_SEG_SS:
		return X86_SEG_SS;
	case PFX_SEG_DS:
		return X86_SEG_DS;
	case PFX_SEG_FS:
		return X86_SEG_FS;
	case PFX_SEG_GS:
		return X86_SEG_GS;
	default:
		return -1;
	}
}

/*
 * Read the prefixes; returns the opcode byte. A REX prefix counts only right before the opcode (SDM Vol. 2A
 * 2.2.1: a legacy prefix after it makes the processor ignore it), and only in 64-bit mode (elsewhere
 * 40-4F are INC/DEC, which this emulator does not perform).
 */
static uint8_t read_prefixes(struct decoder *d, enum x86_mode mode, struct prefixes *p)
{
	*p = (struct prefixes){.seg = -1};
	for (;;) {
		uint8_t b = next_byte(d);
		if (d->truncated)
			return 0;
		int seg = segment_override(b);
		if (seg >= 0)
			p->seg = seg;
		else if (b == PFX_LOCK)
			p->lock = true;
		else if (b == PFX_REPNE || b == PFX_REP)
			p->rep = b;
		else if (b == PFX_OPSIZE)
			p->opsize = true;
		else if (b == PFX_ADDRSIZE)
			p->addrsize = true;
		else if (mode == X86_MODE_64 && b >= REX_FIRST && b <= REX_LAST) {
			p->rex = b;
			continue; /* keep the REX only if the opcode follows */
		} else
			return b;
		p->rex = 0;
	}
}

/* Operand size for a non-byte opcode (SDM Vol. 2A 2.2.1.2, Vol. 1 3.6). */
static unsigned operand_size(enum x86_mode mode, const struct prefixes *p)
{
	if (mode == X86_MODE_64 && (p->rex & REX_W))
		return 8;
	bool wide = mode != X86_MODE_16;
	return (wide != p->opsize) ? 4 : 2;
}

static unsigned address_size(enum x86_mode mode, const struct prefixes *p)
{
	if (mode == X86_MODE_64)
		return p->addrsize ? 4 : 8;
	bool wide = mode == X86_MODE_32;
	return (wide != p->addrsize) ? 4 : 2;
}

/* A memory operand: where it is, before the RIP of the next instruction is known. */
struct mem_operand {
	uint64_t ea; /* effective address without RIP (RIP-relative: the displacement) */
	bool rip_relative;
	int seg; /* enum x86_seg */
};

/*
 * Decode the ModR/M byte's memory operand (32- and 64-bit addressing, SDM Vol. 2A Tables 2-2, 2-3 and 2.2.1.3
 * for REX). Returns false for a register operand or 16-bit addressing. *reg gets the reg field (with REX.R).
 */
static bool decode_modrm(struct decoder *d, const struct x86_regs *r, const struct prefixes *p,
			 unsigned asize, unsigned *reg, struct mem_operand *m)
{
	uint8_t modrm = next_byte(d);
	unsigned mod = MODRM_MOD(modrm), rm = MODRM_RM(modrm);
	*reg = MODRM_REG(modrm) | ((p->rex & REX_R) ? 8u : 0u);
	if (d->truncated || mod == MOD_REGISTER || asize == 2)
		return false;
	int base = -1, index = -1;
	unsigned scale = 0;
	uint64_t disp = 0;
	*m = (struct mem_operand){.seg = X86_SEG_DS};
	if (rm == RM_SIB) {
		uint8_t sib = next_byte(d);
		unsigned idx = MODRM_REG(sib) | ((p->rex & REX_X) ? 8u : 0u);
		scale = MODRM_MOD(sib);
		if (idx != SIB_NO_INDEX)
			index = (int)idx;
		if (MODRM_RM(sib) == SIB_NO_BASE && mod == MOD_NO_DISP)
			disp = next_signed(d, 4);
		else
			base = (int)(MODRM_RM(sib) | ((p->rex & REX_B) ? 8u : 0u));
	} else if (rm == RM_DISP32 && mod == MOD_NO_DISP) {
		disp = next_signed(d, 4);
		m->rip_relative = r->mode == X86_MODE_64;
	} else {
		base = (int)(rm | ((p->rex & REX_B) ? 8u : 0u));
	}
	if (mod == MOD_DISP8)
		disp = next_signed(d, 1);
	else if (mod == MOD_DISP32)
		disp = next_signed(d, 4);
	if (base == GPR_RSP || base == GPR_RBP) /* SDM Vol. 1 3.7.5: SS for a base of rSP or rBP */
		m->seg = X86_SEG_SS;
	if (p->seg >= 0)
		m->seg = p->seg;
	uint64_t ea = disp;
	if (base >= 0)
		ea += r->gpr[base];
	if (index >= 0)
		ea += r->gpr[index] << scale;
	m->ea = ea;
	return !d->truncated;
}

/* The linear address of the operand (SDM Vol. 3A 3.4.4: in 64-bit mode only FS and GS have a base). */
static uint64_t linear_address(const struct x86_regs *r, const struct mem_operand *m, unsigned asize,
			       uint64_t next_rip)
{
	uint64_t ea = m->ea + (m->rip_relative ? next_rip : 0);
	ea &= size_mask(asize);
	if (r->mode == X86_MODE_64) {
		bool based = m->seg == X86_SEG_FS || m->seg == X86_SEG_GS;
		return ea + (based ? r->seg_base[m->seg] : 0);
	}
	return (ea + r->seg_base[m->seg]) & MASK32;
}

/* The opcode's job, the size of its immediate (0 if none) and whether it works on bytes. */
struct opcode_info {
	enum x86_op op;
	unsigned imm_size; /* 1, or 4 meaning "2 or 4 by operand size" */
	bool byte;
	bool needs_reg_field; /* the ModR/M reg field selects the operation (group) */
};

#define IMM_BY_SIZE 4

/* Map a group-1 reg field (80, 81, 83) to its operation; false for those not handled. */
static bool group1_op(unsigned reg, enum x86_op *op)
{
	switch (reg & 7) {
	case GRP1_OR:
		*op = X86_OP_OR;
		return true;
	case GRP1_AND:
		*op = X86_OP_AND;
		return true;
	case GRP1_XOR:
		*op = X86_OP_XOR;
		return true;
	default:
		return false;
	}
}

static bool group8_op(unsigned reg, enum x86_op *op)
{
	switch (reg & 7) {
	case GRP8_BTS:
		*op = X86_OP_BTS;
		return true;
	case GRP8_BTR:
		*op = X86_OP_BTR;
		return true;
	case GRP8_BTC:
		*op = X86_OP_BTC;
		return true;
	default:
		return false;
	}
}

/* One-byte opcodes (after the prefixes). False for an opcode not handled. */
static bool primary_opcode(uint8_t op, struct opcode_info *o)
{
	static const struct {
		uint8_t opcode;
		struct opcode_info info;
	} table[] = {
		{OP_OR_RM8_R8, {X86_OP_OR, 0, true, false}},
		{OP_OR_RM_R, {X86_OP_OR, 0, false, false}},
		{OP_AND_RM8_R8, {X86_OP_AND, 0, true, false}},
		{OP_AND_RM_R, {X86_OP_AND, 0, false, false}},
		{OP_XOR_RM8_R8, {X86_OP_XOR, 0, true, false}},
		{OP_XOR_RM_R, {X86_OP_XOR, 0, false, false}},
		{OP_GRP1_RM8_IMM8, {X86_OP_OR, 1, true, true}},
		{OP_GRP1_RM_IMM, {X86_OP_OR, IMM_BY_SIZE, false, true}},
		{OP_GRP1_RM_IMM8, {X86_OP_OR, 1, false, true}},
		{OP_XCHG_RM8_R8, {X86_OP_XCHG, 0, true, false}},
		{OP_XCHG_RM_R, {X86_OP_XCHG, 0, false, false}},
		{OP_MOV_RM8_R8, {X86_OP_MOV, 0, true, false}},
		{OP_MOV_RM_R, {X86_OP_MOV, 0, false, false}},
		{OP_MOV_RM8_IMM8, {X86_OP_MOV, 1, true, true}},
		{OP_MOV_RM_IMM, {X86_OP_MOV, IMM_BY_SIZE, false, true}},
	};
	for (size_t i = 0; i < ARRAY_SIZE(table); i++) {
		if (table[i].opcode == op) {
			*o = table[i].info;
			return true;
		}
	}
	return false;
}

/* Two-byte opcodes 0F xx. */
static bool secondary_opcode(uint8_t op, struct opcode_info *o)
{
	switch (op) {
	case OP2_CMPXCHG_RM8:
		*o = (struct opcode_info){X86_OP_CMPXCHG, 0, true, false};
		return true;
	case OP2_CMPXCHG_RM:
		*o = (struct opcode_info){X86_OP_CMPXCHG, 0, false, false};
		return true;
	case OP2_GRP9:
		*o = (struct opcode_info){X86_OP_CMPXCHG_DOUBLE, 0, false, true};
		return true;
	case OP2_BTS_RM_R:
		*o = (struct opcode_info){X86_OP_BTS, 0, false, false};
		return true;
	case OP2_BTR_RM_R:
		*o = (struct opcode_info){X86_OP_BTR, 0, false, false};
		return true;
	case OP2_BTC_RM_R:
		*o = (struct opcode_info){X86_OP_BTC, 0, false, false};
		return true;
	case OP2_GRP8_RM_IMM8:
		*o = (struct opcode_info){X86_OP_BTS, 1, false, true};
		return true;
	default:
		return false;
	}
}

/* The operation a group opcode's reg field selects; false for those not handled. */
static bool resolve_group(uint8_t opcode, bool escaped, unsigned reg, struct opcode_info *o)
{
	if (!o->needs_reg_field)
		return true;
	if (!escaped && (opcode == OP_MOV_RM8_IMM8 || opcode == OP_MOV_RM_IMM))
		return (reg & 7) == GRP11_MOV;
	if (!escaped)
		return group1_op(reg, &o->op);
	if (opcode == OP2_GRP9)
		return (reg & 7) == GRP9_CMPXCHG8B;
	return group8_op(reg, &o->op);
}

static bool lockable(enum x86_op op)
{
	return op != X86_OP_MOV; /* LOCK on MOV is #UD (SDM Vol. 2A "LOCK") */
}

/*
 * F2/F3 on the instructions handled: XACQUIRE/XRELEASE hints with LOCK or XCHG, XRELEASE on MOV to memory
 * (SDM Vol. 1 16.3.1). Any other use is not one of these instructions.
 */
static bool rep_prefix_ok(const struct prefixes *p, enum x86_op op)
{
	if (!p->rep)
		return true;
	if (p->lock || op == X86_OP_XCHG)
		return true;
	return op == X86_OP_MOV && p->rep == PFX_REP;
}

enum x86_decode_result x86_decode_insn(const uint8_t *bytes, size_t n, const struct x86_regs *r,
				       struct x86_insn *insn)
{
	struct decoder d = {.bytes = bytes, .n = MIN(n, (size_t)X86_INSN_MAX_LEN)};
	struct prefixes p;
	struct opcode_info o;
	uint8_t opcode = read_prefixes(&d, r->mode, &p);
	bool escaped = opcode == ESCAPE_0F;
	if (escaped)
		opcode = next_byte(&d);
	if (d.truncated)
		return n < X86_INSN_MAX_LEN ? X86_DECODE_TRUNCATED : X86_DECODE_UNHANDLED;
	if (!(escaped ? secondary_opcode(opcode, &o) : primary_opcode(opcode, &o)))
		return X86_DECODE_UNHANDLED;

	unsigned asize = address_size(r->mode, &p), reg;
	struct mem_operand m;
	bool mem = decode_modrm(&d, r, &p, asize, &reg, &m);
	if (d.truncated)
		return n < X86_INSN_MAX_LEN ? X86_DECODE_TRUNCATED : X86_DECODE_UNHANDLED;
	if (!mem || !resolve_group(opcode, escaped, reg, &o))
		return X86_DECODE_UNHANDLED;

	*insn = (struct x86_insn){.op = o.op, .lock = p.lock || o.op == X86_OP_XCHG};
	if (o.op == X86_OP_CMPXCHG_DOUBLE) {
		if (p.opsize)
			return X86_DECODE_UNHANDLED;
		insn->size = (r->mode == X86_MODE_64 && (p.rex & REX_W)) ? 16 : 8;
	} else {
		insn->size = o.byte ? 1 : operand_size(r->mode, &p);
	}
	if ((p.lock && !lockable(o.op)) || !rep_prefix_ok(&p, o.op))
		return X86_DECODE_UNHANDLED;
	if (o.imm_size) {
		unsigned isize = o.imm_size == IMM_BY_SIZE ? MIN(insn->size, 4u) : o.imm_size;
		insn->imm = next_signed(&d, isize) & size_mask(insn->size);
		insn->src_imm = true;
	} else if (o.op != X86_OP_CMPXCHG_DOUBLE) {
		insn->src_reg = reg;
		if (o.byte && !p.rex && reg >= HIGH_BYTE_FIRST) {
			insn->src_reg = reg - HIGH_BYTE_FIRST;
			insn->src_high_byte = true;
		}
	}
	if (d.truncated)
		return n < X86_INSN_MAX_LEN ? X86_DECODE_TRUNCATED : X86_DECODE_UNHANDLED;
	insn->len = (unsigned)d.pos;
	uint64_t next_rip = r->rip + insn->len;
	if (r->mode != X86_MODE_64 || asize == 4)
		next_rip &= MASK32;
	insn->gla = linear_address(r, &m, asize, next_rip);
	if (insn->size == X86_OPERAND_MAX && !IS_ALIGNED(insn->gla, X86_OPERAND_MAX))
		return X86_DECODE_UNHANDLED; /* CMPXCHG16B of an unaligned operand is #GP */
	/* A register bit offset may address memory beyond the operand (SDM Vol. 2A "BT"): not handled. */
	if (!insn->src_imm && (o.op == X86_OP_BTS || o.op == X86_OP_BTR || o.op == X86_OP_BTC)) {
		uint64_t off = r->gpr[insn->src_reg] & size_mask(insn->size);
		if (off >= 8ull * insn->size)
			return X86_DECODE_UNHANDLED;
	}
	return X86_DECODE_OK;
}

/* ---- execution ---------------------------------------------------------------------------------------- */

static uint64_t load_le(const uint8_t *p, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < size && i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void store_le(uint8_t *p, unsigned size, uint64_t v)
{
	for (unsigned i = 0; i < size && i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t read_src(const struct x86_insn *insn, const struct x86_regs *r)
{
	if (insn->src_imm)
		return insn->imm;
	uint64_t v = r->gpr[insn->src_reg];
	if (insn->src_high_byte)
		v >>= HIGH_BYTE_SHIFT;
	return v & size_mask(insn->size);
}

/*
 * Write a register with the operand size's rules (SDM Vol. 1 3.4.1.1): 32-bit results are zero-extended to
 * 64 bits, 8- and 16-bit results leave the rest of the register alone.
 */
static void write_reg(struct x86_regs *r, unsigned reg, bool high_byte, unsigned size, uint64_t v)
{
	uint64_t *g = &r->gpr[reg];
	if (high_byte)
		*g = (*g & ~(0xFFull << HIGH_BYTE_SHIFT)) | ((v & 0xFF) << HIGH_BYTE_SHIFT);
	else if (size == 4)
		*g = v & MASK32;
	else if (size >= 8)
		*g = v;
	else
		*g = (*g & ~size_mask(size)) | (v & size_mask(size));
}

/* PF: set when the low byte of the result has an even number of 1 bits (SDM Vol. 1 3.4.3.1). */
static bool even_parity(uint64_t v)
{
	v &= 0xFF;
	v ^= v >> 4;
	v ^= v >> 2;
	v ^= v >> 1;
	return (v & 1) == 0;
}

/* SF, ZF and PF of a result of size bytes, into the flags (the other bits of flags kept). */
static uint64_t result_flags(uint64_t flags, uint64_t res, unsigned size)
{
	res &= size_mask(size);
	flags &= ~(FLAG_SF | FLAG_ZF | FLAG_PF);
	if (res & BIT(8 * size - 1))
		flags |= FLAG_SF;
	if (res == 0)
		flags |= FLAG_ZF;
	if (even_parity(res))
		flags |= FLAG_PF;
	return flags;
}

/* The flags of CMP a, b (a - b), as CMPXCHG sets them (SDM Vol. 2A "CMP", "CMPXCHG"). */
static uint64_t compare_flags(uint64_t flags, uint64_t a, uint64_t b, unsigned size)
{
	uint64_t mask = size_mask(size), sign = BIT(8 * size - 1);
	a &= mask;
	b &= mask;
	uint64_t res = (a - b) & mask;
	flags = result_flags(flags & ~(FLAG_CF | FLAG_AF | FLAG_OF), res, size);
	if (a < b)
		flags |= FLAG_CF;
	if ((a ^ b ^ res) & BIT(4))
		flags |= FLAG_AF;
	if ((a ^ b) & (a ^ res) & sign)
		flags |= FLAG_OF;
	return flags;
}

/* CMPXCHG8B / CMPXCHG16B: rDX:rAX against the operand; rCX:rBX stored if equal (SDM Vol. 2A). */
static void cmpxchg_double(struct x86_regs *r, unsigned size, const uint8_t *old, uint8_t *new)
{
	unsigned half = size / 2;
	uint64_t lo = load_le(old, half), hi = load_le(old + half, half);
	uint64_t mask = size_mask(half);
	bool equal = lo == (r->gpr[GPR_RAX] & mask) && hi == (r->gpr[GPR_RDX] & mask);
	if (equal) {
		store_le(new, half, r->gpr[GPR_RBX]);
		store_le(new + half, half, r->gpr[GPR_RCX]);
		r->rflags |= FLAG_ZF;
	} else {
		memcpy(new, old, size);
		write_reg(r, GPR_RAX, false, half, lo);
		write_reg(r, GPR_RDX, false, half, hi);
		r->rflags &= ~FLAG_ZF;
	}
}

/* BTS/BTR/BTC: CF gets the bit, which is then set, cleared or complemented (SDM Vol. 2A "BTS"). */
static uint64_t bit_op(const struct x86_insn *insn, struct x86_regs *r, uint64_t m, uint64_t src)
{
	uint64_t bit = BIT(src % (8u * insn->size));
	r->rflags = (m & bit) ? r->rflags | FLAG_CF : r->rflags & ~FLAG_CF;
	switch (insn->op) {
	case X86_OP_BTS:
		return m | bit;
	case X86_OP_BTR:
		return m & ~bit;
	default:
		return m ^ bit;
	}
}

void x86_emulate_insn(const struct x86_insn *insn, struct x86_regs *r, const uint8_t *old, uint8_t *new)
{
	unsigned size = insn->size;
	uint64_t m = load_le(old, size), src = read_src(insn, r), res = m;

	switch (insn->op) {
	case X86_OP_MOV:
		res = src;
		break;
	case X86_OP_XCHG:
		res = src;
		write_reg(r, insn->src_reg, insn->src_high_byte, size, m);
		break;
	case X86_OP_AND:
	case X86_OP_OR:
	case X86_OP_XOR:
		res = insn->op == X86_OP_AND ? m & src : insn->op == X86_OP_OR ? m | src : m ^ src;
		/* OF and CF cleared; SF, ZF, PF by the result; AF undefined (kept). */
		r->rflags = result_flags(r->rflags & ~(FLAG_OF | FLAG_CF), res, size);
		break;
	case X86_OP_BTS:
	case X86_OP_BTR:
	case X86_OP_BTC:
		res = bit_op(insn, r, m, src);
		break;
	case X86_OP_CMPXCHG: {
		uint64_t acc = r->gpr[GPR_RAX] & size_mask(size);
		r->rflags = compare_flags(r->rflags, acc, m, size);
		if (acc == m)
			res = src;
		else
			write_reg(r, GPR_RAX, false, size, m);
		break;
	}
	case X86_OP_CMPXCHG_DOUBLE:
		cmpxchg_double(r, size, old, new);
		break;
	}
	if (insn->op != X86_OP_CMPXCHG_DOUBLE)
		store_le(new, size, res);
	r->rip += insn->len;
	if (r->mode != X86_MODE_64)
		r->rip &= MASK32;
	r->rflags &= ~FLAG_RF; /* RF is cleared once an instruction completes (SDM Vol. 3B 18.3.1.1) */
}

const char *x86_op_name(enum x86_op op)
{
	static const char *const names[] = {
		[X86_OP_MOV] = "mov",	      [X86_OP_XCHG] = "xchg",
		[X86_OP_CMPXCHG] = "cmpxchg", [X86_OP_CMPXCHG_DOUBLE] = "cmpxchg8b/16b",
		[X86_OP_AND] = "and",	      [X86_OP_OR] = "or",
		[X86_OP_XOR] = "xor",	      [X86_OP_BTS] = "bts",
		[X86_OP_BTR] = "btr",	      [X86_OP_BTC] = "btc",
	};
	return (unsigned)op < ARRAY_SIZE(names) && names[op] ? names[op] : "?";
}
