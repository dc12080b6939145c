/* The ACPI PM timer as a reference clock (see pm_timer.h). */
#include "arch/x86/pm_timer.h"
#include "arch/x86/cpu.h"

#define PM_TIMER_HZ 3579545ull
#define PM_TIMER_MASK_24 0xFFFFFFu
#define PM_TIMER_MASK_32 0xFFFFFFFFu
#define MS_PER_S 1000ull

uint64_t pm_timer_tsc_ticks(uint16_t port, bool counts_32bit, uint32_t ms, uint64_t tsc_limit)
{
	uint32_t mask = counts_32bit ? PM_TIMER_MASK_32 : PM_TIMER_MASK_24;
	uint64_t target = PM_TIMER_HZ * ms / MS_PER_S;
	if (port == 0 || target == 0 || target > mask)
		return 0;
	uint32_t first = inl(port) & mask;
	uint64_t start = rdtsc(), ticks;
	bool done;
	do {
		/* The counter wraps; the difference modulo its width is the time passed (less than a wrap).
		 */
		done = ((inl(port) - first) & mask) >= target;
		ticks = rdtsc() - start;
	} while (!done && ticks < tsc_limit);
	return done ? ticks : 0;
}
