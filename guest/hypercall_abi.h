/*
 * hapvisor's hypercall ABI, shared by hapvisor and guests (docs/hypercalls.md). Plain C, no hapvisor
 * headers, so any guest can include it.
 *
 * A guest at CPL 0 executes VMCALL with
 *   RAX = function number, RBX, RCX, RDX, RSI = arguments (the upper halves are ignored for a guest in
 *   32-bit mode). hapvisor returns in RAX a non-negative result or a negative HC_E* error, leaves every
 *   other register as it was, and resumes after the VMCALL.
 * Guest buffers are given by guest-physical address (the guest is a passthrough guest: guest-physical
 * equals host-physical); a buffer must lie wholly in guest memory (never hapvisor's) and be no longer
 * than the function allows.
 */
#ifndef HAPVISOR_HYPERCALL_ABI_H
#define HAPVISOR_HYPERCALL_ABI_H

/* CPUID leaf 0x40000000: EAX = highest hypervisor leaf, EBX:ECX:EDX = "hapvisor\0\0\0\0". */
#define HV_CPUID_LEAF_SIGNATURE 0x40000000u
#define HV_CPUID_LEAF_FEATURES                                                                               \
	0x40000001u /* EAX = HC_ABI_VERSION, EBX = supported-function bitmap,                                \
		     * ECX = HV_FEATURE_* */
/* ECX of leaf 0x40000001: hapvisor runs the guest under shadow paging (option paging): there is no EPT, so
 * HC_EPT_FUNCTIONS are absent from EBX. */
#define HV_FEATURE_SHADOW_PAGING (1u << 0)
#define HV_CPUID_SIGNATURE_EBX 0x76706168u /* "hapv" */
#define HV_CPUID_SIGNATURE_ECX 0x726f7369u /* "isor" */
#define HV_CPUID_SIGNATURE_EDX 0x00000000u

#define HC_ABI_VERSION 1

/* Function numbers (RAX). */
#define HC_VERSION 0	   /* -> HC_ABI_VERSION */
#define HC_CONSOLE_WRITE 1 /* RBX = buffer GPA, RCX = length (<= HC_CONSOLE_MAX) -> bytes written */
#define HC_REPORT_RESULT 2 /* RBX = checks passed, RCX = checks failed -> 0; hapvisor logs them */
#define HC_EXIT_STATS 3	   /* RBX = buffer GPA, RCX = buffer length -> bytes of struct hc_exit_stats */
#define HC_POWER_OFF 4	   /* RBX = status (0 = success) -> does not return: ends the run */
#define HC_EPT_STATS 5	   /* RBX = buffer GPA, RCX = buffer length -> bytes of struct hc_ept_stats */
#define HC_WALK                                                                                              \
	6		 /* RBX = guest-linear address, RCX = HC_ACCESS_*, RDX = buffer GPA, RSI = length    \
			  * -> bytes of struct hc_walk; hapvisor also prints the 2D walk report */
#define HC_DIRTY_START 7 /* RBX = GPA, RCX = length (4 KiB aligned, <= HC_DIRTY_MAX) -> 0: track writes */
#define HC_DIRTY_READ                                                                                        \
	8		/* RBX = bitmap GPA, RCX = bitmap length -> number of dirty pages; bit n = page n    \
			 * of the tracked range was written since the last read; the bitmap is then cleared */
#define HC_DIRTY_STOP 9 /* -> 0: stop tracking */
#define HC_FUNCTION_COUNT 10
/* The functions that exist only with EPT (paging=ept). */
#define HC_EPT_FUNCTIONS                                                                                     \
	((1u << HC_EPT_STATS) | (1u << HC_DIRTY_START) | (1u << HC_DIRTY_READ) | (1u << HC_DIRTY_STOP))

#define HC_DIRTY_MAX (64ull << 20)

/* HC_WALK access kinds (combine with HC_ACCESS_USER for a CPL-3 access). */
#define HC_ACCESS_READ 0
#define HC_ACCESS_WRITE 1
#define HC_ACCESS_FETCH 2
#define HC_ACCESS_USER 4

#define HC_CONSOLE_MAX 4096

/* Errors (RAX, as a signed 64-bit value). */
#define HC_ENOSYS (-1) /* unknown function */
#define HC_EINVAL (-2) /* an argument is out of range (length too large, unaligned, ...) */
#define HC_EFAULT (-3) /* a buffer is not wholly in guest memory (hapvisor's memory, wraps, beyond RAM) */
#define HC_EPERM (-4)  /* called from CPL > 0 */
#define HC_EBUSY (-5)  /* not now: dirty tracking while more than one vCPU runs */

/* HC_EXIT_STATS: exits counted by basic exit reason (SDM Vol. 3D Appendix C), since launch. */
#define HC_EXIT_REASONS 80
struct hc_exit_stats {
	unsigned long long total_exits;
	unsigned long long by_reason[HC_EXIT_REASONS];
};

/* HC_EPT_STATS (docs/hypercalls.md). */
struct hc_ept_stats {
	unsigned long long violations_fill;	  /* EPT violations that mapped memory (lazy policies) */
	unsigned long long violations_protection; /* on a present entry: write-protect / dirty tracking */
	unsigned long long violations_breach;	  /* accesses to hapvisor's memory (the guest is stopped) */
	unsigned long long misconfigs;
	unsigned long long pages_4k, pages_2m, pages_1g;  /* leaf entries currently mapped */
	unsigned long long table_pages;			  /* EPT paging-structure pages, root included */
	unsigned long long accessed_leaves, dirty_leaves; /* leaves with the EPT A / D bit set (A/D on) */
};

/* hc_walk.fault: bits 63:32 say what stopped the walk, bits 31:0 hold the #PF error code for _PF. */
#define HC_WALK_FAULT_PF (1ull << 32)		/* the CPU would deliver #PF with this error code */
#define HC_WALK_FAULT_NONCANONICAL (2ull << 32) /* #GP: non-canonical address in 64-bit mode */
#define HC_WALK_FAULT_BAD_TABLE (3ull << 32)	/* a guest paging structure is not in guest RAM */
#define HC_WALK_FAULT_BAD_PDPTE (4ull << 32)	/* a PAE PDPTE has reserved bits set */

/* HC_WALK: the guest walk and, for each guest paging-structure reference, where it lies. */
#define HC_WALK_MAX_REFS 5
struct hc_walk {
	unsigned long long gla;
	unsigned long long gpa;	   /* valid when fault == 0 */
	unsigned long long hpa;	   /* == gpa for a passthrough guest, when mapped */
	unsigned long long fault;  /* 0, or one of HC_WALK_FAULT_* (| the #PF error code for _PF) */
	unsigned long long levels; /* guest paging-structure references made */
	unsigned long long ref_gpa[HC_WALK_MAX_REFS];	/* address of each guest entry read */
	unsigned long long ref_entry[HC_WALK_MAX_REFS]; /* the entry's value */
};

#endif
