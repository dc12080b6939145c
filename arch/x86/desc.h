/* hapvisor's GDT, TSS (with IST stacks) and IDT (SDM Vol. 3A 3.4.5, 7.7 (64-bit TSS), 6.14). */
#ifndef HV_ARCH_X86_DESC_H
#define HV_ARCH_X86_DESC_H

#include "lib/types.h"

#define GDT_SEL_CODE 0x08
#define GDT_SEL_DATA 0x10
#define GDT_SEL_TSS 0x18

/* IST slots (1-based in the IDT gate): faults that must run on a known-good stack. */
#define IST_DOUBLE_FAULT 1
#define IST_NMI 2
#define IST_MACHINE_CHECK 3

#define EXC_DE 0
#define EXC_DB 1
#define EXC_NMI 2
#define EXC_BP 3
#define EXC_OF 4
#define EXC_BR 5
#define EXC_UD 6
#define EXC_NM 7
#define EXC_DF 8
#define EXC_TS 10
#define EXC_NP 11
#define EXC_SS 12
#define EXC_GP 13
#define EXC_PF 14
#define EXC_MF 16
#define EXC_AC 17
#define EXC_MC 18
#define EXC_XM 19
#define EXC_VE 20
#define EXC_CP 21
#define EXC_COUNT 32

struct percpu;

/*
 * desc_load_this: on the CPU that runs it, build and load its GDT (flat 64-bit code/data + TSS with IST
 * stacks), reload every segment register and TR, point the GS base at cpu, and load the IDT every CPU
 * shares (a gate for each of the 32 exception vectors, to exception_dispatch()). The boot processor
 * (cpu->index 0) uses static tables and builds the IDT; an application processor's tables are in
 * cpu->desc (desc_size() bytes, 16-byte aligned, owned by that CPU for good). Part of cpu_init_this().
 */
void desc_load_this(struct percpu *cpu);
/* Bytes one CPU's GDT, TSS and IST stacks take. */
size_t desc_size(void);
/* Point the GS base at cpu before anything else runs on it (hv_main's first step; desc_load_this repeats it).
 */
void percpu_set_gs(struct percpu *cpu);

/* Base address of this CPU's TSS (for the VMCS host-state area). */
uint64_t tss_base(void);

/* The register state isr.asm saves on an exception; the layout is fixed by isr.asm. */
struct exception_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

void exception_dispatch(struct exception_frame *f);

/* Print "caller chain" lines by following saved frame pointers from rbp, at most max_frames deep. */
void backtrace_print(uint64_t rbp, unsigned max_frames);

#endif
