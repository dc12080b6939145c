/* PIT channel 2 as a reference clock (see pit.h). */
#include "arch/x86/pit.h"
#include "arch/x86/cpu.h"

#define PIT_HZ 1193182ull
#define PIT_CH2_DATA 0x42
#define PIT_MODE_CMD 0x43
/* Mode command: channel 2, access lobyte/hibyte, mode 0 (interrupt on terminal count), binary. */
#define PIT_CMD_CH2_MODE0 0xB0
#define PIT_COUNT_MAX 0xFFFFu
#define MS_PER_S 1000ull

/* System control port B (PC/AT): bit 0 gates channel 2, bit 1 drives the speaker, bit 5 reads OUT2. */
#define PORT_B 0x61
#define PORT_B_GATE2 BIT(0)
#define PORT_B_SPEAKER BIT(1)
#define PORT_B_OUT2 BIT(5)

uint64_t pit_tsc_ticks(uint32_t ms, uint64_t tsc_limit)
{
	uint64_t count = PIT_HZ * ms / MS_PER_S;
	if (count == 0 || count > PIT_COUNT_MAX)
		return 0;
	uint8_t b = (uint8_t)(inb(PORT_B) & ~(PORT_B_SPEAKER | PORT_B_GATE2));
	outb(PORT_B, (uint8_t)(b | PORT_B_GATE2)); /* gate high: mode 0 counts from the count's last byte */
	outb(PIT_MODE_CMD, PIT_CMD_CH2_MODE0);
	outb(PIT_CH2_DATA, (uint8_t)count);
	uint64_t start = rdtsc();
	outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
	/* Mode 0: OUT2 goes low when the count is written and high at terminal count. */
	uint64_t ticks;
	bool done;
	do {
		done = (inb(PORT_B) & PORT_B_OUT2) != 0;
		ticks = rdtsc() - start;
	} while (!done && ticks < tsc_limit);
	outb(PORT_B, b);
	return done ? ticks : 0;
}
