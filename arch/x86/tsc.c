/* The TSC's rate (see tsc.h): CPUID leaves 0x15 and 0x16 (SDM Vol. 2A CPUID), else the 8254 PIT. */
#include "arch/x86/tsc.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"

#define HZ_PER_MHZ 1000000ull

/* The 8254 PIT, channel 2 (gated by port 0x61, its output readable there): 8254 datasheet, mode 0. */
#define PIT_HZ 1193182ull
#define PIT_PORT_CH2 0x42
#define PIT_PORT_COMMAND 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xB0 /* channel 2, low then high byte, mode 0 (interrupt on count), binary */
#define PORT_NMI_SC 0x61	    /* NMI status and control: PIT channel 2 gate and output */
#define NMI_SC_GATE2 BIT(0)
#define NMI_SC_SPEAKER BIT(1)
#define NMI_SC_OUT2 BIT(5)
#define TSC_PIT_CALIBRATE_MS 10
#define MS_PER_S 1000ull
#define PIT_POLL_MAX 100000000ull /* port reads before the measurement gives up (a PIT that never counts) */

/* TSC ticks while the PIT counts down TSC_PIT_CALIBRATE_MS, or 0 when its output never rises. */
static uint64_t pit_measure(void)
{
	uint16_t count = (uint16_t)(PIT_HZ * TSC_PIT_CALIBRATE_MS / MS_PER_S);
	uint8_t sc = inb(PORT_NMI_SC);
	outb(PORT_NMI_SC, (uint8_t)((sc & ~NMI_SC_SPEAKER) | NMI_SC_GATE2));
	outb(PIT_PORT_COMMAND, PIT_CMD_CH2_LOHI_MODE0);
	outb(PIT_PORT_CH2, (uint8_t)count);
	uint64_t start = rdtsc();
	outb(PIT_PORT_CH2, (uint8_t)(count >> 8)); /* mode 0 starts counting after the high byte */
	uint64_t polls = 0;
	while (!(inb(PORT_NMI_SC) & NMI_SC_OUT2) && ++polls < PIT_POLL_MAX)
		;
	uint64_t ticks = rdtsc() - start;
	outb(PORT_NMI_SC, sc);
	return polls < PIT_POLL_MAX ? ticks : 0;
}

struct tsc_rate tsc_rate_get(void)
{
	uint32_t max_leaf = cpuid(CPUID_LEAF_MAX, 0).eax;
	if (max_leaf >= CPUID_LEAF_TSC) {
		struct cpuid_regs r = cpuid(CPUID_LEAF_TSC, 0);
		if (r.eax && r.ebx && r.ecx)
			return (struct tsc_rate){(uint64_t)r.ecx * r.ebx / r.eax, TSC_SOURCE_CPUID15};
	}
	if (max_leaf >= CPUID_LEAF_FREQ) {
		uint32_t mhz = CPUID16_EAX_BASE_MHZ(cpuid(CPUID_LEAF_FREQ, 0).eax);
		if (mhz)
			return (struct tsc_rate){mhz * HZ_PER_MHZ, TSC_SOURCE_CPUID16};
	}
	uint64_t ticks = pit_measure();
	if (ticks)
		return (struct tsc_rate){ticks * MS_PER_S / TSC_PIT_CALIBRATE_MS, TSC_SOURCE_PIT};
	return (struct tsc_rate){0, TSC_SOURCE_NONE};
}

const char *tsc_source_name(enum tsc_source source)
{
	static const char *const names[] = {
		[TSC_SOURCE_CPUID15] = "cpuid15",
		[TSC_SOURCE_CPUID16] = "cpuid16",
		[TSC_SOURCE_PIT] = "pit",
		[TSC_SOURCE_NONE] = "none",
	};
	return (size_t)source < ARRAY_SIZE(names) ? names[source] : "?";
}
