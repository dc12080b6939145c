/*
 * The TSC as hapvisor's clock: its rate, found once at boot, and the busy-wait delays timed by it.
 *
 * Every wait hapvisor makes (INIT-SIPI-SIPI to the APs, waiting for an AP or a vCPU to answer) counts TSC
 * ticks. The rate comes from CPUID (leaf 0x15, else 0x16), else from one calibration against the 8254 PIT
 * (arch/x86/pit.c), else against the ACPI PM timer (arch/x86/pm_timer.c): recent Intel chipsets can gate
 * the PIT's clock, and then it never counts. With none of them, hapvisor assumes the highest plausible
 * rate, so that every wait is at least as long as asked (and at most TSC_HZ_ASSUMED / real rate times
 * longer), and says so. The TSC is invariant on every CPU hapvisor runs on (VT-x with EPT and unrestricted
 * guest means Westmere or later), so one rate serves every CPU.
 *
 * tsc_calibrate() and tsc_ticks_for_us() are pure logic (host unit tests); tsc_init() and udelay() use
 * the hardware.
 */
#ifndef HV_ARCH_X86_TSC_H
#define HV_ARCH_X86_TSC_H

#include "arch/x86/cpuid.h"
#include "lib/types.h"

/* How long one calibration against a reference clock counts (the PIT's 16-bit counter holds 54 ms). */
#define TSC_CALIBRATE_MS 10u
/* Rates outside [TSC_HZ_MIN, TSC_HZ_MAX] are taken for garbage; TSC_HZ_MAX bounds every measurement. */
#define TSC_HZ_MIN 1000000ull	  /* 1 MHz: Bochs at its lowest ips= setting */
#define TSC_HZ_MAX 10000000000ull /* 10 GHz: above any x86 processor's base frequency */
#define TSC_HZ_ASSUMED TSC_HZ_MAX /* the rate assumed when nothing tells: waits are never too short */

/* Where the rate came from, best first. */
enum tsc_source {
	TSC_SOURCE_CPUID15, /* CPUID leaf 0x15: crystal clock times the TSC/crystal ratio */
	TSC_SOURCE_CPUID16, /* CPUID leaf 0x16: the processor base frequency (the TSC rate on Intel CPUs) */
	TSC_SOURCE_PIT,	    /* measured against the 8254 PIT's channel 2 */
	TSC_SOURCE_PMTIMER, /* measured against the ACPI PM timer (the PIT did not count) */
	TSC_SOURCE_ASSUMED, /* nothing told: TSC_HZ_ASSUMED */
};

struct tsc_rate {
	uint64_t hz; /* ticks per second, never 0 */
	enum tsc_source source;
};

/*
 * What tsc_calibrate() asks of the machine. The CPUID leaves are given as read (leaves above max_leaf
 * are ignored); each reference clock is a function that counts TSC ticks while the reference counts
 * TSC_CALIBRATE_MS, and returns 0 when the reference did not count (it gives up after TSC_HZ_MAX worth
 * of ticks, so a dead clock costs at most TSC_CALIBRATE_MS at the fastest rate). A NULL clock is absent.
 */
struct tsc_clocks {
	uint32_t max_leaf; /* CPUID.0:EAX */
	struct cpuid_regs leaf15, leaf16;
	uint64_t (*pit)(void);
	uint64_t (*pm_timer)(void);
};

/*
 * tsc_calibrate: the TSC rate, from the first source that gives a plausible one (in [TSC_HZ_MIN,
 * TSC_HZ_MAX]): CPUID 0x15 (ECX crystal Hz * EBX / EAX, SDM Vol. 3B 19.7.3), CPUID 0x16 (EAX base MHz),
 * the PIT, the PM timer; else TSC_HZ_ASSUMED. A reference clock is called only when every source before
 * it failed, so a machine whose CPUID tells never has its PIT touched.
 */
struct tsc_rate tsc_calibrate(const struct tsc_clocks *c);

/* "cpuid15", "cpuid16", "pit", "pmtimer", "assumed". */
const char *tsc_source_name(enum tsc_source source);

/* TSC ticks in `us` microseconds at `hz` ticks per second, rounded up; no overflow for any argument. */
uint64_t tsc_ticks_for_us(uint64_t hz, uint64_t us);

/*
 * tsc_init: find the TSC rate once (tsc_calibrate over this CPU's CPUID, the PIT and, when pm_tmr_port is
 * not 0, the ACPI PM timer of the FADT); print event=tsc, and a warning sentence when the rate had to be
 * assumed. Needs: the boot processor, before any other CPU runs hapvisor's code; the PIT unused.
 */
void tsc_init(uint16_t pm_tmr_port, bool pm_tmr_32bit);

/* The rate tsc_init() found (TSC_HZ_ASSUMED before it). */
struct tsc_rate tsc_rate_get(void);

/* Busy-wait at least `us` microseconds on the TSC (any CPU, any time; interrupts need not be off). */
void udelay(uint64_t us);

#endif
