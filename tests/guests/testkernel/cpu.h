/*
 * testkernel: x86-64 CPU primitives (SDM Vol. 2 for the instructions, Vol. 3A 2.5 for the control
 * registers). Every CPUID goes through cpuid() so the kernel knows how many it executed (check
 * hypercall_exit_stats compares that with hapvisor's count of CPUID exits).
 */
#ifndef TK_CPU_H
#define TK_CPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BIT(n) (UINT64_C(1) << (n))

#define PAGE_SIZE UINT64_C(4096)
#define MIB (UINT64_C(1) << 20)
#define GIB (UINT64_C(1) << 30)
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define ALIGN_UP(x, a) ALIGN_DOWN((x) + (a)-1, (a))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Exception vectors (SDM Vol. 3A table 6-1). */
#define VEC_NMI 2
#define VEC_BP 3
#define VEC_UD 6
#define VEC_DF 8
#define VEC_GP 13
#define VEC_PF 14
#define VEC_COUNT 32

#define RFLAGS_TF BIT(8) /* single-step: #DB after each instruction (SDM Vol. 3B 18.3.1.4) */
#define RFLAGS_IF BIT(9)
#define RFLAGS_RF BIT(16) /* resume flag: pushed as 1 for a fault-class exception (SDM Vol. 3B 17.3.1.1) */
#define CR0_WP BIT(16)	  /* supervisor writes honour read-only pages (SDM Vol. 3A 2.5) */
#define MSR_IA32_EFER 0xC0000080
#define EFER_NXE BIT(11) /* execute-disable bit in PAE and 4-level paging entries */
#define CPUID_EXT_MAX_LEAF 0x80000000u
#define CPUID_EXT_FEATURES 0x80000001u
#define CPUID_EXT_EDX_PDPE1GB BIT(26) /* 1 GiB pages */
#define CPUID_EXT_EDX_NX BIT(20)
#define CPUID_ADDR_SIZES 0x80000008u /* EAX[7:0]: MAXPHYADDR */
#define CR4_VMXE BIT(13)
#define CR4_OSXSAVE BIT(18)

#define CPUID1_ECX_VMX BIT(5)
#define CPUID1_ECX_XSAVE BIT(26)
#define CPUID1_ECX_HYPERVISOR BIT(31)

#define MSR_IA32_FEATURE_CONTROL 0x3A
#define FEATURE_CONTROL_LOCK BIT(0)
#define FEATURE_CONTROL_VMX_IN_SMX BIT(1)
#define FEATURE_CONTROL_VMX_OUTSIDE_SMX BIT(2)
#define MSR_IA32_VMX_BASIC 0x480  /* first VMX capability MSR (SDM Vol. 4, table 2-2) */
#define MSR_IA32_VMX_VMFUNC 0x491 /* last one */

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

/* CPUID instructions executed so far (entry.asm counts its own, then cpuid() counts). */
extern uint64_t tk_cpuid_count;

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	tk_cpuid_count++;
	return r;
}

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline uint64_t read_cr0(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void write_cr0(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* MOV to CR3: a new address space; every non-global TLB entry is dropped (SDM Vol. 3A 4.10.4.1). */
static inline void write_cr3(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline uint64_t read_cr3(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	return v;
}

/* invlpg: drop the TLB entries for the page holding linear address va (SDM Vol. 2A INVLPG). */
static inline void invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline uint64_t read_cr4(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause");
}

/* Stop this CPU for good: interrupts off, HLT forever (an NMI wakes it only to halt again). */
static inline __attribute__((noreturn)) void cpu_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
