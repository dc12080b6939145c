/*
 * CPUID (SDM Vol. 2A "CPUID"): the instruction, every leaf and feature bit hapvisor reads, and the
 * answers derived from them, in one place. The hypervisor range 0x40000000-0x4FFFFFFF is reserved for
 * software: hapvisor's own leaves there are the guest ABI (guest/hypercall_abi.h).
 */
#ifndef HV_ARCH_X86_CPUID_H
#define HV_ARCH_X86_CPUID_H

#include "lib/types.h"

/* Leaves */
#define CPUID_LEAF_MAX 0x0u	       /* EAX: the largest basic leaf */
#define CPUID_LEAF_FEATURES 0x1u       /* EAX: signature; ECX, EDX: feature flags */
#define CPUID_LEAF_STRUCTURED_EXT 0x7u /* subleaf 0: structured extended feature flags */
#define CPUID_LEAF_XSAVE 0xDu	       /* subleaf 0: EDX:EAX the XCR0 bits the processor supports */
#define CPUID_LEAF_TSC 0x15u  /* EAX: ratio denominator, EBX: numerator, ECX: crystal Hz (0: not given) */
#define CPUID_LEAF_FREQ 0x16u /* EAX[15:0]: processor base frequency in MHz */
#define CPUID_LEAF_HV_FIRST 0x40000000u /* the range reserved for hypervisors */
#define CPUID_LEAF_HV_LAST 0x4FFFFFFFu
#define CPUID_LEAF_EXT_MAX 0x80000000u	  /* EAX: the largest extended leaf */
#define CPUID_LEAF_EXT_INFO 0x80000001u	  /* EDX: NX, 1 GiB pages, long mode */
#define CPUID_LEAF_ADDR_SIZES 0x80000008u /* EAX[7:0]: MAXPHYADDR, EAX[15:8]: linear-address width */

/* Leaf 1 feature flags */
#define CPUID1_ECX_VMX BIT(5)
#define CPUID1_ECX_SMX BIT(6)
#define CPUID1_ECX_XSAVE BIT(26)
#define CPUID1_ECX_OSXSAVE BIT(27)
#define CPUID1_ECX_HYPERVISOR BIT(31)
#define CPUID1_EDX_MCE BIT(7) /* machine-check exception (CR4.MCE) */
#define CPUID1_EDX_MTRR BIT(12)
#define CPUID1_EDX_MCA BIT(14) /* machine-check architecture: IA32_MCG_CAP and the banks */
#define CPUID1_EDX_PAT BIT(16)

/* Leaf 1 and leaf 7 subleaf 0 feature flags that shadow paging hides from the guest (vmx/shadow_exit.c) */
#define CPUID1_ECX_PCID BIT(17)
#define CPUID7_EBX_INVPCID BIT(10)
#define CPUID7_ECX_PKU BIT(3)
#define CPUID7_ECX_CET_SS BIT(7)
#define CPUID7_ECX_LA57 BIT(16)

/* Leaf 7 subleaf 0 feature flags */
#define CPUID7_ECX_OSPKE BIT(4)

/* Leaf 0x80000001 feature flags */
#define CPUID_EXT1_EDX_NX BIT(20)
#define CPUID_EXT1_EDX_PDPE1GB BIT(26)
#define CPUID_EXT1_EDX_LM BIT(29)

/* Fields */
#define CPUID16_EAX_BASE_MHZ(eax) ((eax)&0xFFFFu)
#define CPUID_ADDR_SIZES_PHYS(eax) ((eax)&0xFFu)	    /* leaf 0x80000008 EAX[7:0]: MAXPHYADDR */
#define CPUID_ADDR_SIZES_LINEAR(eax) (((eax) >> 8) & 0xFFu) /* leaf 0x80000008 EAX[15:8] */
#define CPUID_MAXPHYADDR_DEFAULT 36   /* without leaf 0x80000008, on a CPU with PAE (SDM Vol. 3A 4.1.4) */
#define CPUID_LINEAR_WIDTH_DEFAULT 48 /* without leaf 0x80000008: 4-level paging's width */

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t subleaf)
{
	struct cpuid_regs r;
	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(subleaf));
	return r;
}

/* MAXPHYADDR: the physical-address width (CPUID 0x80000008 EAX[7:0], SDM Vol. 3A 4.1.4). */
static inline unsigned cpu_maxphyaddr(void)
{
	if (cpuid(CPUID_LEAF_EXT_MAX, 0).eax < CPUID_LEAF_ADDR_SIZES)
		return CPUID_MAXPHYADDR_DEFAULT;
	return CPUID_ADDR_SIZES_PHYS(cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax);
}

/* The linear-address width (CPUID 0x80000008 EAX[15:8]). */
static inline unsigned cpu_linear_width(void)
{
	if (cpuid(CPUID_LEAF_EXT_MAX, 0).eax < CPUID_LEAF_ADDR_SIZES)
		return CPUID_LINEAR_WIDTH_DEFAULT;
	return CPUID_ADDR_SIZES_LINEAR(cpuid(CPUID_LEAF_ADDR_SIZES, 0).eax);
}

/* Whether paging structures may map 1 GiB pages (CPUID 0x80000001 EDX[26]). */
/* Whether the execute-disable bit exists (CPUID 0x80000001 EDX[20]): IA32_EFER.NXE may be set. */
static inline bool cpu_has_nx(void)
{
	return cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_EXT_INFO &&
	       (cpuid(CPUID_LEAF_EXT_INFO, 0).edx & CPUID_EXT1_EDX_NX);
}

static inline bool cpu_has_gbpages(void)
{
	return cpuid(CPUID_LEAF_EXT_MAX, 0).eax >= CPUID_LEAF_EXT_INFO &&
	       (cpuid(CPUID_LEAF_EXT_INFO, 0).edx & CPUID_EXT1_EDX_PDPE1GB);
}

#endif
