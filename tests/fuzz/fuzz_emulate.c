/*
 * x86_decode_insn and x86_emulate_insn on the fuzzer's bytes: byte 0 picks the code size (16, 32, 64),
 * byte 1 how many instruction bytes are readable, the next 16 bytes the memory operand before the
 * instruction, then every GPR, RIP, RFLAGS and the six segment bases, then the instruction. The decoder
 * may read only the bytes it is given (an exact-size copy: ASan sees one byte more); what it accepts must
 * have a sane length, size and address, decode the same way twice, and emulate without touching any
 * register but the ones the instruction names.
 */
#include "tests/fuzz/fuzz_common.h"
#include "vmx/emulate.h"

#define REGS_BYTES ((GPR_COUNT + 2 + X86_SEG_COUNT) * 8)
#define FUZZ_HDR (2 + X86_OPERAND_MAX + REGS_BYTES)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	if (size < FUZZ_HDR)
		return 0;
	struct x86_regs r = {.mode = (enum x86_mode)(data[0] % 3)};
	const uint8_t *p = data + 2 + X86_OPERAND_MAX;
	for (unsigned i = 0; i < GPR_COUNT; i++, p += 8)
		r.gpr[i] = fuzz_le(p, 8);
	r.rip = fuzz_le(p, 8);
	r.rflags = fuzz_le(p + 8, 8);
	p += 16;
	for (unsigned i = 0; i < X86_SEG_COUNT; i++, p += 8)
		r.seg_base[i] = fuzz_le(p, 8);
	size_t n = MIN(size - FUZZ_HDR, (size_t)data[1] % (X86_INSN_MAX_LEN + 2));
	uint8_t *bytes = fuzz_dup(data + FUZZ_HDR, n, 0);

	struct x86_insn insn, again;
	enum x86_decode_result res = x86_decode_insn(bytes, n, &r, &insn);
	FUZZ_CHECK(res == X86_DECODE_OK || res == X86_DECODE_UNHANDLED || res == X86_DECODE_TRUNCATED);
	if (res == X86_DECODE_OK) {
		FUZZ_CHECK(insn.len >= 1 && insn.len <= n && insn.len <= X86_INSN_MAX_LEN);
		FUZZ_CHECK(insn.size == 1 || insn.size == 2 || insn.size == 4 || insn.size == 8 ||
			   insn.size == 16);
		FUZZ_CHECK(insn.src_reg < GPR_COUNT);
		FUZZ_CHECK(r.mode == X86_MODE_64 || insn.gla <= 0xFFFFFFFFull);
		FUZZ_CHECK(x86_decode_insn(bytes, insn.len, &r, &again) == X86_DECODE_OK);
		FUZZ_CHECK(again.len == insn.len && again.op == insn.op && again.size == insn.size &&
			   again.gla == insn.gla && again.imm == insn.imm && again.src_reg == insn.src_reg &&
			   again.src_imm == insn.src_imm && again.src_high_byte == insn.src_high_byte &&
			   again.lock == insn.lock);
		uint8_t *old = fuzz_dup(data + 2, insn.size, 0), *new = fuzz_dup(data + 2, insn.size, 0);
		struct x86_regs before = r;
		x86_emulate_insn(&insn, &r, old, new);
		for (unsigned i = 0; i < GPR_COUNT; i++)
			FUZZ_CHECK(r.gpr[i] == before.gpr[i] || i == GPR_RAX || i == GPR_RDX ||
				   (i == insn.src_reg && insn.op == X86_OP_XCHG));
		FUZZ_CHECK(r.mode == X86_MODE_64 || r.rip <= 0xFFFFFFFFull);
		(void)x86_op_name(insn.op);
		free(old);
		free(new);
	}
	free(bytes);
	return 0;
}
