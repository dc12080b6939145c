/*
 * testkernel: the IDT for the 32 exception vectors, and the fault probe that turns an exception into a
 * return value (SDM Vol. 3A chapter 6). An exception outside a probe is a failed check: it is reported
 * and the kernel powers off (main.c tk_fatal_exception).
 */
#ifndef TK_IDT_H
#define TK_IDT_H

#include "cpu.h"

/* The stack after isr_common's pushes (isr.asm); the order is fixed by the asm. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU (SDM Vol. 3A 6.14.2) */
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "struct trap_frame must match isr_common in isr.asm");

#define PROBE_NO_FAULT (-1)

typedef void (*probe_fn)(void *ctx);

/* The exception the last fault_probe caught: its vector, error code, faulting RIP and, for #PF, CR2. */
struct probe_fault {
	uint64_t vector, error_code, rip, cr2;
};
extern struct probe_fault probe_last;

/* idt_init: install the 32 exception gates and load the IDT. Needs: 64-bit mode, GDT code selector 0x08. */
void idt_init(void);

/*
 * fault_probe (isr.asm): run fn(ctx) and return PROBE_NO_FAULT, or the vector of the first exception it
 * raised, in which case fn is abandoned at the faulting instruction (its callee-saved registers are
 * restored, its frame dropped). fn must not call fault_probe itself.
 */
int fault_probe(probe_fn fn, void *ctx);

/* idt_dispatch: the C half of every exception (called by isr.asm). */
void idt_dispatch(struct trap_frame *f);

/* A short name for a vector ("#GP"), or "#??". */
const char *vector_name(uint64_t vector);

#endif
