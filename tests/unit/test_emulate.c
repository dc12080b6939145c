/*
 * The page-table-write emulator (vmx/emulate.c). The oracle is the host CPU itself: every handled
 * instruction form (64-bit mode) is copied into an executable page and run natively on the same registers,
 * flags and memory as the emulator gets, many times with random values, and the memory, every register
 * and the defined flags must come out the same. 32- and 16-bit code, segment bases and the refusals are
 * checked against values worked out from SDM Vol. 2A chapter 2.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/unit/host_stubs.h"
#include "vmx/emulate.h"

#define FLAG_CF BIT(0)
#define FLAG_PF BIT(2)
#define FLAG_AF BIT(4)
#define FLAG_ZF BIT(6)
#define FLAG_SF BIT(7)
#define FLAG_OF BIT(11)
#define FLAG_FIXED BIT(1)
#define FLAGS_ARITH (FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF)
#define FLAGS_LOGIC (FLAG_CF | FLAG_PF | FLAG_ZF | FLAG_SF | FLAG_OF) /* AF is undefined after AND/OR/XOR */
#define ITERATIONS 400
#define DATA_OFFSET 2048 /* the memory operand's bytes, in the same page as the code (RIP-relative case) */
#define MEM_BYTES 16
#define RET 0xC3

/* ---- the native oracle ------------------------------------------------------------------------------- */

/* Registers in and out of run_native (RSP is never an operand here and is not loaded). */
struct native_state {
	uint64_t gpr[GPR_COUNT];
	uint64_t rflags;
};
struct native_state native_io;
void *native_code;
void run_native(void);

/*
 * run_native: load every GPR but RSP and RFLAGS from native_io, call native_code (the instruction, then
 * RET), store them back. Callee-saved registers are kept on the stack around it.
 */
__asm__(".text\n"
	".globl run_native\n"
	"run_native:\n"
	"	push %rbx\n	push %rbp\n	push %r12\n	push %r13\n	push %r14\n	push %r15\n"
	"	pushq native_io+128(%rip)\n	popfq\n"
	"	mov native_io+0(%rip), %rax\n	mov native_io+8(%rip), %rcx\n"
	"	mov native_io+16(%rip), %rdx\n	mov native_io+24(%rip), %rbx\n"
	"	mov native_io+40(%rip), %rbp\n	mov native_io+48(%rip), %rsi\n"
	"	mov native_io+56(%rip), %rdi\n	mov native_io+64(%rip), %r8\n"
	"	mov native_io+72(%rip), %r9\n	mov native_io+80(%rip), %r10\n"
	"	mov native_io+88(%rip), %r11\n	mov native_io+96(%rip), %r12\n"
	"	mov native_io+104(%rip), %r13\n	mov native_io+112(%rip), %r14\n"
	"	mov native_io+120(%rip), %r15\n"
	"	call *native_code(%rip)\n"
	"	pushfq\n	popq native_io+128(%rip)\n"
	"	mov %rax, native_io+0(%rip)\n	mov %rcx, native_io+8(%rip)\n"
	"	mov %rdx, native_io+16(%rip)\n	mov %rbx, native_io+24(%rip)\n"
	"	mov %rbp, native_io+40(%rip)\n	mov %rsi, native_io+48(%rip)\n"
	"	mov %rdi, native_io+56(%rip)\n	mov %r8, native_io+64(%rip)\n"
	"	mov %r9, native_io+72(%rip)\n	mov %r10, native_io+80(%rip)\n"
	"	mov %r11, native_io+88(%rip)\n	mov %r12, native_io+96(%rip)\n"
	"	mov %r13, native_io+104(%rip)\n	mov %r14, native_io+112(%rip)\n"
	"	mov %r15, native_io+120(%rip)\n"
	"	pop %r15\n	pop %r14\n	pop %r13\n	pop %r12\n	pop %rbp\n	pop %rbx\n"
	"	ret\n");

static uint8_t *page;

static int setup(void **state)
{
	page = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return -1;
	native_code = page;
	return 0;
}

static int teardown(void **state)
{
	munmap(page, PAGE_SIZE);
	return 0;
}

static uint64_t rnd64(void)
{
	return ((uint64_t)(unsigned)rand() << 62) ^ ((uint64_t)(unsigned)rand() << 31) ^ (unsigned)rand();
}

/* One handled form: its bytes (the memory operand is at RDI + disp, or RIP-relative), the flags it defines.
 */
struct form {
	const char *name;
	uint8_t bytes[X86_INSN_MAX_LEN];
	unsigned len;
	uint64_t defined_flags;
	int bit_offset_reg;  /* >= 0: this register holds a bit offset, kept inside the operand */
	unsigned mem_offset; /* the memory operand is at DATA_OFFSET + mem_offset */
	bool rip_relative;   /* the displacement is patched so that RIP + disp = the data */
};

#define B(...) {__VA_ARGS__}, sizeof((uint8_t[]){__VA_ARGS__})
static const struct form forms[] = {
	{"mov r64", B(0x48, 0x89, 0x37), 0, -1, 0, false},
	{"mov r32", B(0x89, 0x37), 0, -1, 0, false},
	{"mov r16", B(0x66, 0x89, 0x37), 0, -1, 0, false},
	{"mov dh", B(0x88, 0x37), 0, -1, 0, false},
	{"mov sil", B(0x40, 0x88, 0x37), 0, -1, 0, false},
	{"mov r8 to [r8]", B(0x4D, 0x89, 0x00), 0, -1, 0, false},
	{"mov imm32 sx", B(0x48, 0xC7, 0x07, 0x78, 0x56, 0x34, 0xF2), 0, -1, 0, false},
	{"mov imm16", B(0x66, 0xC7, 0x47, 0x02, 0x34, 0x12), 0, -1, 2, false},
	{"mov imm8 disp8", B(0xC6, 0x47, 0x05, 0xAB), 0, -1, 5, false},
	{"mov sib disp8", B(0x48, 0x89, 0x74, 0x8F, 0x08), 0, -1, 8, false},
	{"mov rip-relative", B(0x48, 0x89, 0x35, 0, 0, 0, 0), 0, -1, 0, true},
	{"xrelease mov", B(0xF3, 0x48, 0x89, 0x37), 0, -1, 0, false},
	{"xchg r64", B(0x48, 0x87, 0x37), 0, -1, 0, false},
	{"xchg r32", B(0x87, 0x37), 0, -1, 0, false},
	{"xchg dh", B(0x86, 0x37), 0, -1, 0, false},
	{"lock cmpxchg r64", B(0xF0, 0x48, 0x0F, 0xB1, 0x37), FLAGS_ARITH, -1, 0, false},
	{"cmpxchg r32", B(0x0F, 0xB1, 0x37), FLAGS_ARITH, -1, 0, false},
	{"cmpxchg r16", B(0x66, 0x0F, 0xB1, 0x37), FLAGS_ARITH, -1, 0, false},
	{"lock cmpxchg dh", B(0xF0, 0x0F, 0xB0, 0x37), FLAGS_ARITH, -1, 0, false},
	{"xacquire lock cmpxchg", B(0xF2, 0xF0, 0x48, 0x0F, 0xB1, 0x37), FLAGS_ARITH, -1, 0, false},
	{"lock cmpxchg8b", B(0xF0, 0x0F, 0xC7, 0x0F), FLAG_ZF, -1, 0, false},
	{"lock cmpxchg16b", B(0xF0, 0x48, 0x0F, 0xC7, 0x0F), FLAG_ZF, -1, 0, false},
	{"lock and imm8 byte", B(0xF0, 0x80, 0x27, 0xFD), FLAGS_LOGIC, -1, 0, false},
	{"lock or imm8 byte", B(0xF0, 0x80, 0x0F, 0x02), FLAGS_LOGIC, -1, 0, false},
	{"and r64", B(0x48, 0x21, 0x37), FLAGS_LOGIC, -1, 0, false},
	{"or r32", B(0x09, 0x37), FLAGS_LOGIC, -1, 0, false},
	{"xor r64", B(0x48, 0x31, 0x37), FLAGS_LOGIC, -1, 0, false},
	{"or dh", B(0x08, 0x37), FLAGS_LOGIC, -1, 0, false},
	{"lock and imm8 sx", B(0xF0, 0x48, 0x83, 0x27, 0xF0), FLAGS_LOGIC, -1, 0, false},
	{"xor imm32", B(0x48, 0x81, 0x37, 0x78, 0x56, 0x34, 0x12), FLAGS_LOGIC, -1, 0, false},
	{"and imm16", B(0x66, 0x81, 0x27, 0xFF, 0x0F), FLAGS_LOGIC, -1, 0, false},
	{"lock btr imm 64", B(0xF0, 0x48, 0x0F, 0xBA, 0x37, 0x05), FLAG_CF, -1, 0, false},
	{"lock bts imm 32", B(0xF0, 0x0F, 0xBA, 0x2F, 0x3F), FLAG_CF, -1, 0, false},
	{"btc imm 16", B(0x66, 0x0F, 0xBA, 0x3F, 0x0B), FLAG_CF, -1, 0, false},
	{"lock bts reg 64", B(0xF0, 0x48, 0x0F, 0xAB, 0x37), FLAG_CF, GPR_RSI, 0, false},
	{"btr reg 32", B(0x0F, 0xB3, 0x37), FLAG_CF, GPR_RSI, 0, false},
	{"btc reg 64", B(0x48, 0x0F, 0xBB, 0x37), FLAG_CF, GPR_RSI, 0, false},
};

/* Random registers for one run: RDI and R8 point at the data, RCX indexes it (scale 4, disp8 8). */
static void random_state(const struct form *f, struct x86_regs *r, uint8_t *mem, unsigned iteration)
{
	memset(r, 0, sizeof(*r));
	r->mode = X86_MODE_64;
	for (unsigned i = 0; i < GPR_COUNT; i++)
		r->gpr[i] = rnd64();
	uint64_t data = (uint64_t)(uintptr_t)(page + DATA_OFFSET);
	r->gpr[GPR_RDI] = data;
	r->gpr[GPR_R8] = data;
	r->gpr[GPR_RCX] = 0; /* 8(%rdi,%rcx,4) = data + 8 */
	r->gpr[GPR_RSP] = 0;
	r->rflags = FLAG_FIXED | (rnd64() & FLAGS_ARITH);
	for (unsigned i = 0; i < MEM_BYTES; i++)
		mem[i] = (uint8_t)rand();
	if (f->bit_offset_reg >= 0) {
		unsigned bits = f->bytes[0] == 0x48 || f->bytes[1] == 0x48 ? 64 : 32;
		r->gpr[f->bit_offset_reg] = rnd64() % bits;
	}
	/* Half the compare-exchanges find what they compare with. */
	if ((iteration & 1) && f->defined_flags == FLAG_ZF) {
		memcpy(&r->gpr[GPR_RAX], mem, 8);
		memcpy(&r->gpr[GPR_RDX], mem + 8, 8);
		if (f->len == 4) { /* cmpxchg8b: EDX:EAX */
			r->gpr[GPR_RDX] = r->gpr[GPR_RAX] >> 32;
			r->gpr[GPR_RAX] &= 0xFFFFFFFFu;
		}
	} else if ((iteration & 1) && f->defined_flags == FLAGS_ARITH) {
		memcpy(&r->gpr[GPR_RAX], mem, 8);
	}
}

static void check_form(const struct form *f)
{
	for (unsigned it = 0; it < ITERATIONS; it++) {
		struct x86_regs r;
		uint8_t mem[MEM_BYTES], emu[MEM_BYTES];
		random_state(f, &r, mem, it);
		memcpy(page, f->bytes, f->len);
		if (f->rip_relative) { /* disp32 = data - next instruction */
			int32_t disp = (int32_t)(DATA_OFFSET - (int)f->len);
			memcpy(page + f->len - 4, &disp, 4);
		}
		page[f->len] = RET;
		r.rip = (uint64_t)(uintptr_t)page;

		struct x86_insn insn;
		assert_int_equal(x86_decode_insn(page, f->len, &r, &insn), X86_DECODE_OK);
		assert_int_equal(insn.len, f->len);
		assert_int_equal(insn.gla, (uint64_t)(uintptr_t)(page + DATA_OFFSET + f->mem_offset));
		assert_true(insn.size <= MEM_BYTES - f->mem_offset);

		struct x86_regs er = r;
		memcpy(emu, mem, sizeof(mem));
		x86_emulate_insn(&insn, &er, mem + f->mem_offset, emu + f->mem_offset);

		memcpy(page + DATA_OFFSET, mem, sizeof(mem));
		memcpy(native_io.gpr, r.gpr, sizeof(native_io.gpr));
		native_io.rflags = r.rflags;
		run_native();

		if (memcmp(page + DATA_OFFSET, emu, sizeof(emu)) != 0)
			fail_msg("%s: memory differs", f->name);
		for (unsigned i = 0; i < GPR_COUNT; i++)
			if (i != GPR_RSP && native_io.gpr[i] != er.gpr[i])
				fail_msg("%s: register %u: native %#llx emulated %#llx", f->name, i,
					 (unsigned long long)native_io.gpr[i], (unsigned long long)er.gpr[i]);
		/* The flags the instruction defines; for MOV and XCHG (none): all must stay as they were. */
		uint64_t mask = f->defined_flags ? f->defined_flags : FLAGS_ARITH;
		if ((native_io.rflags & mask) != (er.rflags & mask))
			fail_msg("%s: rflags native %#llx emulated %#llx (mask %#llx)", f->name,
				 (unsigned long long)native_io.rflags, (unsigned long long)er.rflags,
				 (unsigned long long)mask);
		assert_int_equal(er.rip, r.rip + f->len);
	}
}

static void test_native_oracle(void **state)
{
	srand(1);
	for (size_t i = 0; i < ARRAY_SIZE(forms); i++)
		check_form(&forms[i]);
}

/* ---- decoding without the oracle ---------------------------------------------------------------------- */

static struct x86_regs regs32(void)
{
	struct x86_regs r = {.mode = X86_MODE_32, .rip = 0xC0100000, .rflags = FLAG_FIXED};
	r.gpr[GPR_RDI] = 0x1000;
	r.gpr[GPR_RSI] = 0xAABBCCDD;
	r.gpr[GPR_RBP] = 0x2000;
	return r;
}

static enum x86_decode_result decode(const uint8_t *b, size_t n, const struct x86_regs *r, struct x86_insn *i)
{
	return x86_decode_insn(b, n, r, i);
}

static void test_32bit_code(void **state)
{
	struct x86_regs r = regs32();
	struct x86_insn i;
	/* mov %esi,(%edi) with DS base 0x10000000 */
	r.seg_base[X86_SEG_DS] = 0x10000000;
	assert_int_equal(decode((const uint8_t[]){0x89, 0x37}, 2, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.size, 4);
	assert_int_equal(i.gla, 0x10001000);
	/* 0x40-0x4F are INC/DEC outside 64-bit mode: no REX, so not an instruction handled here */
	assert_int_equal(decode((const uint8_t[]){0x48, 0x89, 0x37}, 3, &r, &i), X86_DECODE_UNHANDLED);
	/* 66: 16-bit operand; the address wraps at 4 GiB with the segment base added */
	r.seg_base[X86_SEG_DS] = 0xFFFFF800;
	assert_int_equal(decode((const uint8_t[]){0x66, 0x89, 0x37}, 3, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.size, 2);
	assert_int_equal(i.gla, 0x800);
	/* [ebp+8] defaults to SS; an ES override wins */
	r.seg_base[X86_SEG_SS] = 0x300000;
	r.seg_base[X86_SEG_ES] = 0x500000;
	assert_int_equal(decode((const uint8_t[]){0x89, 0x75, 0x08}, 3, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0x302008);
	assert_int_equal(decode((const uint8_t[]){0x26, 0x89, 0x75, 0x08}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0x502008);
	/* disp32 alone is an absolute address outside 64-bit mode (not RIP-relative) */
	r.seg_base[X86_SEG_DS] = 0;
	assert_int_equal(decode((const uint8_t[]){0x89, 0x35, 0x00, 0x30, 0x00, 0x00}, 6, &r, &i),
			 X86_DECODE_OK);
	assert_int_equal(i.gla, 0x3000);
	/* 67 in 32-bit code is 16-bit addressing: not handled */
	assert_int_equal(decode((const uint8_t[]){0x67, 0x89, 0x37}, 3, &r, &i), X86_DECODE_UNHANDLED);
	/* cmpxchg8b is 8 bytes; the 32-bit result registers */
	assert_int_equal(decode((const uint8_t[]){0xF0, 0x0F, 0xC7, 0x0F}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.size, 8);
	r.gpr[GPR_RAX] = 1;
	r.gpr[GPR_RDX] = 2;
	const uint8_t old[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
	uint8_t new[8];
	x86_emulate_insn(&i, &r, old, new);
	assert_memory_equal(old, new, 8);
	assert_int_equal(r.gpr[GPR_RAX], 0x44332211);
	assert_int_equal(r.gpr[GPR_RDX], 0x88776655);
	assert_int_equal(r.rflags & FLAG_ZF, 0);
	assert_int_equal(r.rip, 0xC0100004);
}

static void test_16bit_code(void **state)
{
	struct x86_regs r = regs32();
	struct x86_insn i;
	r.mode = X86_MODE_16;
	/* default 16-bit operand and addressing: 16-bit addressing is not handled */
	assert_int_equal(decode((const uint8_t[]){0x89, 0x37}, 2, &r, &i), X86_DECODE_UNHANDLED);
	/* 67 66: 32-bit addressing and operand */
	assert_int_equal(decode((const uint8_t[]){0x67, 0x66, 0x89, 0x37}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.size, 4);
	assert_int_equal(i.gla, 0x1000);
	assert_int_equal(decode((const uint8_t[]){0x67, 0x89, 0x37}, 3, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.size, 2);
}

static void test_64bit_segments(void **state)
{
	struct x86_regs r = {.mode = X86_MODE_64, .rip = 0xFFFFFFFF81000000ull};
	struct x86_insn i;
	r.gpr[GPR_RDI] = 0x1000;
	r.seg_base[X86_SEG_DS] = 0x5000; /* ignored in 64-bit mode */
	r.seg_base[X86_SEG_GS] = 0xFFFF888000000000ull;
	assert_int_equal(decode((const uint8_t[]){0x48, 0x89, 0x37}, 3, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0x1000);
	assert_int_equal(decode((const uint8_t[]){0x65, 0x48, 0x89, 0x37}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0xFFFF888000001000ull);
	/* a legacy prefix after REX makes the REX void: 32-bit operand */
	assert_int_equal(decode((const uint8_t[]){0x48, 0x65, 0x89, 0x37}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.size, 4);
	/* 67: 32-bit address, truncated */
	r.gpr[GPR_RDI] = 0x123456789000ull;
	assert_int_equal(decode((const uint8_t[]){0x67, 0x48, 0x89, 0x37}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0x56789000);
	/* RIP-relative with the next instruction's address */
	assert_int_equal(decode((const uint8_t[]){0x48, 0x89, 0x35, 0x10, 0, 0, 0}, 7, &r, &i),
			 X86_DECODE_OK);
	assert_int_equal(i.gla, 0xFFFFFFFF81000017ull);
	/* [r12] needs a SIB; [r13] with mod 0 is [r13+disp8]: both DS, not SS */
	r.gpr[GPR_R12] = 0x7000;
	r.gpr[GPR_R13] = 0x9000;
	r.seg_base[X86_SEG_SS] = 0x100;
	assert_int_equal(decode((const uint8_t[]){0x49, 0x89, 0x34, 0x24}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0x7000);
	assert_int_equal(decode((const uint8_t[]){0x49, 0x89, 0x75, 0x00}, 4, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0x9000);
	/* SIB with no base (disp32) and an index; index 100b without REX.X is "none" */
	r.gpr[GPR_RCX] = 3;
	assert_int_equal(decode((const uint8_t[]){0x89, 0x34, 0x8D, 0x00, 0x10, 0, 0}, 7, &r, &i),
			 X86_DECODE_OK);
	assert_int_equal(i.gla, 0x100C);
	assert_int_equal(decode((const uint8_t[]){0x89, 0x34, 0x27}, 3, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.gla, 0x123456789000ull);
}

static void test_refusals(void **state)
{
	struct x86_regs r = {.mode = X86_MODE_64};
	struct x86_insn i;
	static const struct {
		const char *what;
		uint8_t bytes[X86_INSN_MAX_LEN];
		unsigned len;
	} cases[] = {
		{"rep stosq", B(0xF3, 0x48, 0xAB)},
		{"movsq", B(0x48, 0xA5)},
		{"mov to a register", B(0x48, 0x8B, 0x37)},
		{"mov with a register destination", B(0x48, 0x89, 0xF7)},
		{"lock mov", B(0xF0, 0x48, 0x89, 0x37)},
		{"rep on or without lock", B(0xF3, 0x48, 0x09, 0x37)},
		{"xacquire on mov", B(0xF2, 0x48, 0x89, 0x37)},
		{"movq xmm", B(0x66, 0x0F, 0xD6, 0x07)},
		{"movnti", B(0x48, 0x0F, 0xC3, 0x37)},
		{"add", B(0x48, 0x01, 0x37)},
		{"bt (no write)", B(0x48, 0x0F, 0xBA, 0x27, 0x05)},
		{"c7 /1", B(0x48, 0xC7, 0x0F, 0, 0, 0, 0)},
		{"0f c7 /6 rdrand", B(0x0F, 0xC7, 0xF0)},
		{"66 cmpxchg8b", B(0x66, 0x0F, 0xC7, 0x0F)},
		{"vex", B(0xC5, 0xF9, 0xD6, 0x07)},
	};
	for (size_t k = 0; k < ARRAY_SIZE(cases); k++)
		if (decode(cases[k].bytes, cases[k].len, &r, &i) != X86_DECODE_UNHANDLED)
			fail_msg("%s was decoded", cases[k].what);
	/* a bit offset in a register beyond the operand addresses other memory */
	r.gpr[GPR_RSI] = 64;
	assert_int_equal(decode((const uint8_t[]){0x48, 0x0F, 0xAB, 0x37}, 4, &r, &i), X86_DECODE_UNHANDLED);
	r.gpr[GPR_RSI] = 63;
	assert_int_equal(decode((const uint8_t[]){0x48, 0x0F, 0xAB, 0x37}, 4, &r, &i), X86_DECODE_OK);
	/* cmpxchg16b of an unaligned operand would have been #GP */
	r.gpr[GPR_RDI] = 8;
	assert_int_equal(decode((const uint8_t[]){0x48, 0x0F, 0xC7, 0x0F}, 4, &r, &i), X86_DECODE_UNHANDLED);
}

static void test_truncation_and_length(void **state)
{
	struct x86_regs r = {.mode = X86_MODE_64};
	struct x86_insn i;
	const uint8_t full[] = {0x48, 0xC7, 0x47, 0x08, 0x78, 0x56, 0x34, 0x12};
	for (size_t n = 0; n < sizeof(full); n++)
		assert_int_equal(decode(full, n, &r, &i), X86_DECODE_TRUNCATED);
	assert_int_equal(decode(full, sizeof(full), &r, &i), X86_DECODE_OK);
	assert_int_equal(i.len, sizeof(full));
	/* 15 bytes at most: 11 prefixes + 89 37 is 13 bytes and fine; 14 prefixes + 89 37 is too long */
	uint8_t longest[X86_INSN_MAX_LEN + 4];
	memset(longest, 0x3E, sizeof(longest));
	longest[11] = 0x89;
	longest[12] = 0x37;
	assert_int_equal(decode(longest, 13, &r, &i), X86_DECODE_OK);
	assert_int_equal(i.len, 13);
	memset(longest, 0x3E, sizeof(longest));
	longest[14] = 0x89;
	longest[15] = 0x37;
	assert_int_equal(decode(longest, sizeof(longest), &r, &i), X86_DECODE_UNHANDLED);
	assert_string_equal(x86_op_name(X86_OP_CMPXCHG), "cmpxchg");
	assert_string_equal(x86_op_name((enum x86_op)99), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_native_oracle, setup, teardown),
		cmocka_unit_test(test_32bit_code),
		cmocka_unit_test(test_16bit_code),
		cmocka_unit_test(test_64bit_segments),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_truncation_and_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
