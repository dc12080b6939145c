/* GDT, TSS and IDT set-up (see desc.h). */
#include "arch/x86/desc.h"
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "lib/str.h"

/* Segment descriptor bits (SDM Vol. 3A 3.4.5). */
#define SEG_ACCESSED BIT(40)
#define SEG_RW BIT(41)
#define SEG_EXEC BIT(43)
#define SEG_CODE_DATA BIT(44) /* S: code/data rather than system */
#define SEG_PRESENT BIT(47)
#define SEG_LONG BIT(53) /* L: 64-bit code */
#define SEG_DB BIT(54)
#define SEG_GRAN BIT(55)
#define SEG_LIMIT_MAX (0xFFFFull | (0xFull << 48))
#define SYS_TYPE_TSS_AVAIL 0x9ull /* 64-bit TSS (available) */

/* IDT gate (SDM Vol. 3A 6.14.1). */
#define GATE_TYPE_INTERRUPT 0xE
#define GATE_PRESENT 0x80

#define IST_STACK_SIZE 8192

struct PACKED tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
};
_Static_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes (SDM Vol. 3A Figure 8-11)");

struct PACKED idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

/* One CPU's GDT, TSS and IST stacks: the BSP's is static, each AP's comes from the frame pool. */
struct cpu_desc {
	uint64_t gdt[5];
	struct tss64 tss;
	uint8_t ist_stacks[3][IST_STACK_SIZE];
};

static struct cpu_desc bsp_desc ALIGNED(16);
static struct idt_gate idt[EXC_COUNT] ALIGNED(16); /* one IDT for every CPU: the handlers are shared */

extern const uint64_t isr_stub_table[EXC_COUNT];

uint64_t tss_base(void)
{
	return this_cpu()->tss_base;
}

size_t desc_size(void)
{
	return sizeof(struct cpu_desc);
}

/* Build d's GDT and TSS and load them: GDTR, every segment register, TR, then the GS base = cpu. */
static void load_tables(struct percpu *cpu, struct cpu_desc *d)
{
	struct tss64 *tss = &d->tss;
	uint64_t *gdt = d->gdt;
	uint64_t base = (uint64_t)(uintptr_t)tss;
	uint64_t limit = sizeof(*tss) - 1;

	memset(tss, 0, sizeof(*tss));
	tss->ist[IST_DOUBLE_FAULT - 1] = (uint64_t)(uintptr_t)(d->ist_stacks[0] + IST_STACK_SIZE);
	tss->ist[IST_NMI - 1] = (uint64_t)(uintptr_t)(d->ist_stacks[1] + IST_STACK_SIZE);
	tss->ist[IST_MACHINE_CHECK - 1] = (uint64_t)(uintptr_t)(d->ist_stacks[2] + IST_STACK_SIZE);
	tss->iomap_base = sizeof(*tss); /* no I/O permission bitmap */

	gdt[0] = 0;
	gdt[GDT_SEL_CODE / 8] = SEG_LIMIT_MAX | SEG_ACCESSED | SEG_RW | SEG_EXEC | SEG_CODE_DATA |
				SEG_PRESENT | SEG_LONG | SEG_GRAN;
	gdt[GDT_SEL_DATA / 8] =
		SEG_LIMIT_MAX | SEG_ACCESSED | SEG_RW | SEG_CODE_DATA | SEG_PRESENT | SEG_DB | SEG_GRAN;
	/* A 64-bit TSS descriptor takes two slots (SDM Vol. 3A 8.2.3). */
	gdt[GDT_SEL_TSS / 8] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (SYS_TYPE_TSS_AVAIL << 40) |
			       SEG_PRESENT | (((limit >> 16) & 0xF) << 48) | (((base >> 24) & 0xFF) << 56);
	gdt[GDT_SEL_TSS / 8 + 1] = base >> 32;

	struct desc_ptr gdtr = {sizeof(d->gdt) - 1, (uint64_t)(uintptr_t)gdt};
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t"
			 "mov %2, %%es\n\t"
			 "mov %2, %%ss\n\t"
			 "mov %3, %%fs\n\t"
			 "mov %3, %%gs\n\t"
			 "ltr %4"
			 :
			 : "m"(gdtr), "i"(GDT_SEL_CODE), "r"((uint16_t)GDT_SEL_DATA), "r"((uint16_t)0),
			   "r"((uint16_t)GDT_SEL_TSS)
			 : "rax", "memory");
	cpu->self = cpu;
	cpu->desc = d;
	cpu->tss_base = base;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)cpu); /* after the GS load, which may clear the base */
}

void percpu_set_gs(struct percpu *cpu)
{
	cpu->self = cpu;
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)cpu);
}

static void idt_build(void);

void desc_load_this(struct percpu *cpu)
{
	if (cpu->index == 0)
		idt_build(); /* before any AP runs: they only load it */
	load_tables(cpu, cpu->index == 0 ? &bsp_desc : cpu->desc);
	struct desc_ptr idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr));
}

static uint8_t ist_for_vector(unsigned v)
{
	switch (v) {
	case EXC_DF:
		return IST_DOUBLE_FAULT;
	case EXC_NMI:
		return IST_NMI;
	case EXC_MC:
		return IST_MACHINE_CHECK;
	default:
		return 0;
	}
}

/* The IDT every CPU loads: a gate for each exception vector, to isr.asm's stubs. */
static void idt_build(void)
{
	for (unsigned v = 0; v < EXC_COUNT; v++) {
		uint64_t h = isr_stub_table[v];
		idt[v] = (struct idt_gate){
			.offset_lo = (uint16_t)h,
			.selector = GDT_SEL_CODE,
			.ist = ist_for_vector(v),
			.type_attr = GATE_PRESENT | GATE_TYPE_INTERRUPT,
			.offset_mid = (uint16_t)(h >> 16),
			.offset_hi = (uint32_t)(h >> 32),
		};
	}
}
