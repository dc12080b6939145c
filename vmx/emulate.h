/*
 * The instruction emulator of shadow paging (KVM's x86_decode_insn / x86_emulate_insn in
 * arch/x86/kvm/emulate.c, cut down to one job): decode and perform the one guest instruction whose store
 * to a write-protected guest page table made a page-fault exit, so that hapvisor can update its shadow
 * tables and resume the guest after the instruction (vmx/shadow_exit.c).
 *
 * Only the instructions operating systems use to write paging-structure entries are handled, each with a
 * memory destination (SDM Vol. 2 for each):
 *   MOV r/m, reg | imm            88, 89, C6 /0, C7 /0
 *   XCHG r/m, reg                 86, 87
 *   CMPXCHG r/m, reg              0F B0, 0F B1
 *   CMPXCHG8B / CMPXCHG16B m      0F C7 /1
 *   AND, OR, XOR r/m, reg | imm   20, 21, 08, 09, 30, 31, 80 / 81 / 83 with /1 /4 /6
 *   BTS, BTR, BTC r/m, reg | imm8 0F AB, 0F B3, 0F BB, 0F BA /5 /6 /7
 * with the prefixes LOCK, XACQUIRE/XRELEASE (F2/F3 with LOCK or XCHG), operand size (66), address size
 * (67), the segment overrides and REX (64-bit mode). Operand sizes 1, 2, 4 and 8 bytes (16 for
 * CMPXCHG16B). Everything else (string stores, SSE, VEX, 16-bit addressing, a register destination, a
 * bit offset outside the operand) is X86_DECODE_UNHANDLED: the caller then unprotects the page instead,
 * as KVM does when it cannot emulate. Pure C over plain structures: it runs in host unit tests (checked
 * against the host CPU executing the same instructions) and under libFuzzer (tests/fuzz/fuzz_emulate.c).
 */
#ifndef HV_VMX_EMULATE_H
#define HV_VMX_EMULATE_H

#include "lib/types.h"
#include "vmx/vcpu.h" /* enum gpr: the SDM's register numbering */

#define X86_INSN_MAX_LEN 15 /* SDM Vol. 2A 2.1.1: longer is #GP */
#define X86_OPERAND_MAX 16  /* CMPXCHG16B */

/* Segment registers in the SDM's encoding (Vol. 2A 3.1.1.3 "Sreg"). */
enum x86_seg { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS, X86_SEG_COUNT };

/* The code segment's default sizes (SDM Vol. 3A 5.2.1): CS.L in IA-32e mode, else CS.D. */
enum x86_mode {
	X86_MODE_16, /* 16-bit protected mode (CS.D = 0) */
	X86_MODE_32, /* 32-bit protected or compatibility mode (CS.D = 1) */
	X86_MODE_64, /* 64-bit mode (IA32_EFER.LMA = 1, CS.L = 1) */
};

/* What an instruction may read or change besides its memory operand. */
struct x86_regs {
	uint64_t gpr[GPR_COUNT]; /* RSP included */
	uint64_t rip, rflags;
	uint64_t seg_base[X86_SEG_COUNT]; /* 64-bit mode uses only FS's and GS's (SDM Vol. 3A 3.4.4) */
	enum x86_mode mode;
};

enum x86_op {
	X86_OP_MOV,
	X86_OP_XCHG,
	X86_OP_CMPXCHG,
	X86_OP_CMPXCHG_DOUBLE, /* CMPXCHG8B, CMPXCHG16B */
	X86_OP_AND,
	X86_OP_OR,
	X86_OP_XOR,
	X86_OP_BTS,
	X86_OP_BTR,
	X86_OP_BTC,
};

/* A decoded instruction. */
struct x86_insn {
	unsigned len; /* bytes, prefixes included */
	enum x86_op op;
	unsigned size;	    /* operand size in bytes: the memory bytes read and written */
	bool lock;	    /* LOCK prefix (or XCHG's implicit lock) */
	bool src_imm;	    /* the source is imm, not register src_reg */
	unsigned src_reg;   /* enum gpr; with src_high_byte: AH, CH, DH or BH (src_reg 0..3) */
	bool src_high_byte; /* a byte register without REX, numbers 4..7 */
	uint64_t imm;	    /* sign-extended to the operand size (the bit number for BTx imm8) */
	uint64_t gla;	    /* linear address of the memory operand: segment base + effective address */
};

enum x86_decode_result {
	X86_DECODE_OK,
	X86_DECODE_UNHANDLED, /* not an instruction this emulator performs (or not a valid one) */
	X86_DECODE_TRUNCATED, /* the bytes given end inside the instruction */
};

/*
 * x86_decode_insn: decode the instruction in bytes[0..n) (n <= X86_INSN_MAX_LEN) executed with the state r
 * (r->rip is its address; RIP-relative operands and the memory operand's linear address use r). Fills
 * *insn on X86_DECODE_OK. Never reads beyond bytes[n - 1]; reads nothing but bytes and r.
 */
enum x86_decode_result x86_decode_insn(const uint8_t *bytes, size_t n, const struct x86_regs *r,
				       struct x86_insn *insn);

/*
 * x86_emulate_insn: perform insn as the CPU would: from old[0..insn->size), the memory operand before
 * the instruction, compute new[0..insn->size), the operand after it, and update r (registers, RFLAGS as
 * SDM Vol. 2 specifies for the instruction, leaving undefined flags as they were, RIP past the
 * instruction, RF cleared). A failed compare-exchange writes the old value back, as the CPU does.
 * Needs insn from x86_decode_insn with the same r.
 */
void x86_emulate_insn(const struct x86_insn *insn, struct x86_regs *r, const uint8_t *old, uint8_t *new);

/* Names for reports: "mov", "cmpxchg" ... */
const char *x86_op_name(enum x86_op op);

#endif
