/* The TSC's rate: how many RDTSC ticks make a second on this machine. */
#ifndef HV_ARCH_X86_TSC_H
#define HV_ARCH_X86_TSC_H

#include "lib/types.h"

/* Where the rate came from, best first. */
enum tsc_source {
	TSC_SOURCE_CPUID15, /* CPUID leaf 0x15: crystal clock times the TSC/crystal ratio */
	TSC_SOURCE_CPUID16, /* CPUID leaf 0x16: the processor base frequency (the TSC rate on Intel CPUs) */
	TSC_SOURCE_PIT,	    /* measured against the 8254 PIT's channel 2 */
	TSC_SOURCE_NONE,    /* no figure: no usable CPUID leaf and the PIT measurement failed */
};

struct tsc_rate {
	uint64_t hz; /* ticks per second; 0 with TSC_SOURCE_NONE */
	enum tsc_source source;
};

/*
 * tsc_rate_get: the TSC rate from CPUID leaf 0x15, else leaf 0x16, else measured against the PIT over
 * TSC_PIT_CALIBRATE_MS (SDM Vol. 3B 18.7.3 "Determining the Processor Base Frequency"). Needs: the PIT
 * unused by hapvisor (it never programs it). Bounded: a PIT that never counts gives TSC_SOURCE_NONE.
 * In Bochs the TSC counts instructions, so any of these figures describes emulated time, not wall time.
 */
struct tsc_rate tsc_rate_get(void);

/* "cpuid15", "cpuid16", "pit" or "none". */
const char *tsc_source_name(enum tsc_source source);

#endif
