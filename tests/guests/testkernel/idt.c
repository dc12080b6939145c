/* testkernel: IDT setup and exception dispatch (SDM Vol. 3A 6.10-6.14). */
#include "idt.h"
#include "main.h"

#define GDT_CODE64 0x08
#define GATE_INTERRUPT64 0x8E /* present, DPL 0, type 0xE: 64-bit interrupt gate (SDM Vol. 3A 6.14.1) */

struct idt_gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_high;
	uint32_t reserved;
};
_Static_assert(sizeof(struct idt_gate) == 16, "64-bit IDT gate is 16 bytes");

struct __attribute__((packed)) table_pointer {
	uint16_t limit;
	uint64_t base;
};

extern const uint64_t isr_stub_table[TK_IDT_VECTORS];
extern uint64_t fault_probe_rsp;
extern char fault_probe_recover[];

static struct idt_gate idt[TK_IDT_VECTORS];
static volatile trap_handler handlers[TK_IDT_VECTORS];
struct probe_fault probe_last;

void idt_load(void)
{
	struct table_pointer ptr = {.limit = sizeof(idt) - 1, .base = (uint64_t)idt};
	__asm__ volatile("lidt %0" : : "m"(ptr));
}

void idt_set_handler(unsigned vector, trap_handler h)
{
	if (vector < TK_IDT_VECTORS)
		handlers[vector] = h;
}

void idt_init(void)
{
	for (unsigned v = 0; v < TK_IDT_VECTORS; v++) {
		uint64_t stub = isr_stub_table[v];

		idt[v] = (struct idt_gate){
			.offset_low = (uint16_t)stub,
			.selector = GDT_CODE64,
			.type_attr = GATE_INTERRUPT64,
			.offset_mid = (uint16_t)(stub >> 16),
			.offset_high = (uint32_t)(stub >> 32),
		};
	}
	idt_load();
}

uint64_t *idt_dispatch(struct trap_frame *f)
{
	trap_handler h = f->vector < TK_IDT_VECTORS ? handlers[f->vector] : NULL;
	if (h)
		return h(f);
	if (fault_probe_rsp != 0) {
		/* Resume in fault_probe with the vector as its return value (see isr.asm). */
		probe_last = (struct probe_fault){f->vector, f->error_code, f->rip, f->rflags,
						  f->vector == VEC_PF ? read_cr2() : 0};
		f->rip = (uint64_t)fault_probe_recover;
		f->rsp = fault_probe_rsp;
		f->rax = f->vector;
		f->rflags &= ~RFLAGS_TF; /* a probe that single-stepped (attack exec) stops stepping here */
		fault_probe_rsp = 0;
		return &f->rip;
	}
	tk_fatal_exception(f);
}

const char *vector_name(uint64_t vector)
{
	static const char *const names[VEC_COUNT] = {
		"#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
		"#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE",  "#CP",
	};

	return vector < VEC_COUNT && names[vector] ? names[vector] : "#??";
}
