/* The TSC's rate and the delays it times (see tsc.h). SDM Vol. 2A CPUID leaves 0x15 and 0x16. */
#include "arch/x86/tsc.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "lib/log.h"

#define HZ_PER_MHZ 1000000ull
#define MS_PER_S 1000ull
#define US_PER_S 1000000ull

static bool plausible(uint64_t hz)
{
	return hz >= TSC_HZ_MIN && hz <= TSC_HZ_MAX;
}

/* The rate from CPUID leaf 0x15 or 0x16 (SDM Vol. 3B 19.7.3), or 0 when neither gives a plausible one. */
static struct tsc_rate from_cpuid(const struct tsc_clocks *c)
{
	const struct cpuid_regs *l15 = &c->leaf15;
	if (c->max_leaf >= CPUID_LEAF_TSC && l15->eax && l15->ebx && l15->ecx) {
		uint64_t hz = (uint64_t)l15->ecx * l15->ebx / l15->eax;
		if (plausible(hz))
			return (struct tsc_rate){hz, TSC_SOURCE_CPUID15};
	}
	if (c->max_leaf >= CPUID_LEAF_FREQ) {
		uint64_t hz = CPUID16_EAX_BASE_MHZ(c->leaf16.eax) * HZ_PER_MHZ;
		if (plausible(hz))
			return (struct tsc_rate){hz, TSC_SOURCE_CPUID16};
	}
	return (struct tsc_rate){0, TSC_SOURCE_ASSUMED};
}

/* The rate from one reference clock (TSC ticks over TSC_CALIBRATE_MS), or 0 when it gave none. */
static uint64_t from_reference(uint64_t (*measure)(void))
{
	if (!measure)
		return 0;
	uint64_t hz = measure() * MS_PER_S / TSC_CALIBRATE_MS;
	return plausible(hz) ? hz : 0;
}

struct tsc_rate tsc_calibrate(const struct tsc_clocks *c)
{
	struct tsc_rate r = from_cpuid(c);
	if (r.hz)
		return r;
	uint64_t hz = from_reference(c->pit);
	if (hz)
		return (struct tsc_rate){hz, TSC_SOURCE_PIT};
	hz = from_reference(c->pm_timer);
	if (hz)
		return (struct tsc_rate){hz, TSC_SOURCE_PMTIMER};
	return (struct tsc_rate){TSC_HZ_ASSUMED, TSC_SOURCE_ASSUMED};
}

const char *tsc_source_name(enum tsc_source source)
{
	static const char *const names[] = {
		[TSC_SOURCE_CPUID15] = "cpuid15", [TSC_SOURCE_CPUID16] = "cpuid16", [TSC_SOURCE_PIT] = "pit",
		[TSC_SOURCE_PMTIMER] = "pmtimer", [TSC_SOURCE_ASSUMED] = "assumed",
	};
	return (size_t)source < ARRAY_SIZE(names) ? names[source] : "?";
}

uint64_t tsc_ticks_for_us(uint64_t hz, uint64_t us)
{
	/* Whole seconds and the rest apart: hz * us would overflow 64 bits from about 30 minutes at 10 GHz.
	 */
	if (hz == 0)
		return 0;
	uint64_t s = us / US_PER_S, rest = us % US_PER_S;
	uint64_t whole = s > UINT64_MAX / hz ? UINT64_MAX : s * hz;
	uint64_t part = (rest * (hz / US_PER_S)) + (rest * (hz % US_PER_S) + US_PER_S - 1) / US_PER_S;
	return whole > UINT64_MAX - part ? UINT64_MAX : whole + part;
}

#ifndef HV_HOST_TEST
#include "arch/x86/pit.h"
#include "arch/x86/pm_timer.h"

static struct tsc_rate rate = {TSC_HZ_ASSUMED, TSC_SOURCE_ASSUMED};
static uint16_t pm_port;
static bool pm_32bit;

/* Each reference counts TSC_CALIBRATE_MS; a dead one is given up after that long at TSC_HZ_MAX. */
static uint64_t measure_pit(void)
{
	return pit_tsc_ticks(TSC_CALIBRATE_MS, tsc_ticks_for_us(TSC_HZ_MAX, TSC_CALIBRATE_MS * MS_PER_S));
}

static uint64_t measure_pm_timer(void)
{
	return pm_timer_tsc_ticks(pm_port, pm_32bit, TSC_CALIBRATE_MS,
				  tsc_ticks_for_us(TSC_HZ_MAX, TSC_CALIBRATE_MS * MS_PER_S));
}

void tsc_init(uint16_t pm_tmr_port, bool pm_tmr_32bit)
{
	pm_port = pm_tmr_port;
	pm_32bit = pm_tmr_32bit;
	struct tsc_clocks c = {
		.max_leaf = cpuid(CPUID_LEAF_MAX, 0).eax,
		.pit = measure_pit,
		.pm_timer = pm_tmr_port ? measure_pm_timer : NULL,
	};
	if (c.max_leaf >= CPUID_LEAF_TSC)
		c.leaf15 = cpuid(CPUID_LEAF_TSC, 0);
	if (c.max_leaf >= CPUID_LEAF_FREQ)
		c.leaf16 = cpuid(CPUID_LEAF_FREQ, 0);
	rate = tsc_calibrate(&c);
	log_event("tsc hz=%llu source=%s pm_timer=%#x", (unsigned long long)rate.hz,
		  tsc_source_name(rate.source), pm_tmr_port);
	if (rate.source == TSC_SOURCE_ASSUMED)
		log_warn(
			"the TSC's rate is unknown (no CPUID leaf 0x15 or 0x16, and neither the 8254 PIT nor the ACPI PM timer counted): hapvisor assumes %llu MHz, the fastest plausible rate, so its waits for the other processors are never too short but may last several times longer than needed (enable the 8254 clock or the ACPI PM timer in the firmware setup)",
			(unsigned long long)(TSC_HZ_ASSUMED / HZ_PER_MHZ));
}

struct tsc_rate tsc_rate_get(void)
{
	return rate;
}

void udelay(uint64_t us)
{
	uint64_t ticks = tsc_ticks_for_us(rate.hz, us), start = rdtsc();
	while (rdtsc() - start < ticks)
		cpu_relax();
}
#endif
