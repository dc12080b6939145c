/*
 * testkernel: the IDT (the 32 exception vectors and the interrupt vectors the checks use), handlers a check
 * installs for one vector, and the fault probe that turns an exception into a return value (SDM Vol. 3A
 * chapter 6). An exception neither a handler nor a probe expects is a failed check: it is reported and the
 * kernel powers off (main.c tk_fatal_exception).
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
#define TK_IDT_VECTORS 80 /* isr.asm: 0-31 exceptions, then interrupt vectors up to 0x4F */

typedef void (*probe_fn)(void *ctx);

/* The exception the last fault_probe caught: its vector, error code, faulting RIP, RFLAGS as pushed (RF)
 * and, for #PF, CR2. */
struct probe_fault {
	uint64_t vector, error_code, rip, rflags, cr2;
};
extern struct probe_fault probe_last;

/*
 * A handler for one vector: it may rewrite the frame, and returns where the 5-word IRET frame (RIP, CS,
 * RFLAGS, RSP, SS) is: normally &f->rip, or a copy of it elsewhere that IRETQ then reads.
 */
typedef uint64_t *(*trap_handler)(struct trap_frame *f);

/* idt_init: install the gates and load the IDT. Needs: 64-bit mode, GDT code selector 0x08. */
void idt_init(void);

/* idt_load: load the IDT idt_init built on this CPU (the second CPU, checks_smp.c). */
void idt_load(void);

/* idt_set_handler: vector goes to h from now on (before any fault probe); NULL restores the default. */
void idt_set_handler(unsigned vector, trap_handler h);

/*
 * fault_probe (isr.asm): run fn(ctx) and return PROBE_NO_FAULT, or the vector of the first exception it
 * raised, in which case fn is abandoned at the faulting instruction (its callee-saved registers are
 * restored, its frame dropped). fn must not call fault_probe itself.
 */
int fault_probe(probe_fn fn, void *ctx);

/* idt_dispatch: the C half of every vector (called by isr.asm); returns where the IRET frame is. */
uint64_t *idt_dispatch(struct trap_frame *f);

/* A short name for a vector ("#GP"), or "#??". */
const char *vector_name(uint64_t vector);

#endif
