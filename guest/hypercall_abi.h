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
#define HV_CPUID_LEAF_FEATURES 0x40000001u /* EAX = HC_ABI_VERSION, EBX = supported-function bitmap */
#define HV_CPUID_SIGNATURE_EBX 0x76706168u /* "hapv" */
#define HV_CPUID_SIGNATURE_ECX 0x726f7369u /* "isor" */
#define HV_CPUID_SIGNATURE_EDX 0x00000000u

#define HC_ABI_VERSION 1

/* Function numbers (RAX). */
#define HC_VERSION 0       /* -> HC_ABI_VERSION */
#define HC_CONSOLE_WRITE 1 /* RBX = buffer GPA, RCX = length (<= HC_CONSOLE_MAX) -> bytes written */
#define HC_REPORT_RESULT 2 /* RBX = checks passed, RCX = checks failed -> 0; hapvisor logs them */
#define HC_EXIT_STATS 3    /* RBX = buffer GPA, RCX = buffer length -> bytes of struct hc_exit_stats */
#define HC_POWER_OFF 4     /* RBX = status (0 = success) -> does not return: ends the run */
#define HC_FUNCTION_COUNT 5

#define HC_CONSOLE_MAX 4096

/* Errors (RAX, as a signed 64-bit value). */
#define HC_ENOSYS (-1) /* unknown function */
#define HC_EINVAL (-2) /* an argument is out of range (length too large, unaligned, ...) */
#define HC_EFAULT (-3) /* a buffer is not wholly in guest memory (hapvisor's memory, wraps, beyond RAM) */
#define HC_EPERM (-4)  /* called from CPL > 0 */

/* HC_EXIT_STATS: exits counted by basic exit reason (SDM Vol. 3D Appendix C), since launch. */
#define HC_EXIT_REASONS 80
struct hc_exit_stats {
	unsigned long long total_exits;
	unsigned long long by_reason[HC_EXIT_REASONS];
};

#endif
