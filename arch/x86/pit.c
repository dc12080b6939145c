/* PIT channel-2 delays (see pit.h). */
#include "arch/x86/pit.h"
#include "arch/x86/cpu.h"

#define PIT_HZ 1193182u
#define PIT_CH2_DATA 0x42
#define PIT_MODE_CMD 0x43
/* Mode command: channel 2, access lobyte/hibyte, mode 0 (interrupt on terminal count), binary. */
#define PIT_CMD_CH2_MODE0 0xB0
#define PIT_COUNT_MAX 0xFFFFu

/* System control port B (PC/AT): bit 0 gates channel 2, bit 1 drives the speaker, bit 5 reads OUT2. */
#define PORT_B 0x61
#define PORT_B_GATE2 BIT(0)
#define PORT_B_SPEAKER BIT(1)
#define PORT_B_OUT2 BIT(5)

/* Polls of port B per chunk before giving up: far more than a 55 ms chunk takes (a port read is > 100 ns). */
#define PIT_POLL_LIMIT 2000000u

/* Count `ticks` (1..PIT_COUNT_MAX) PIT ticks on channel 2. */
static void delay_ticks(uint16_t ticks)
{
	uint8_t b = (uint8_t)((inb(PORT_B) & ~PORT_B_SPEAKER) & ~PORT_B_GATE2);
	outb(PORT_B, b); /* gate low: the count loads on the next rising edge */
	outb(PIT_MODE_CMD, PIT_CMD_CH2_MODE0);
	outb(PIT_CH2_DATA, (uint8_t)ticks);
	outb(PIT_CH2_DATA, (uint8_t)(ticks >> 8));
	outb(PORT_B, (uint8_t)(b | PORT_B_GATE2));
	/* Mode 0: OUT2 goes low when the count is written and high at terminal count. */
	for (uint32_t i = 0; i < PIT_POLL_LIMIT && !(inb(PORT_B) & PORT_B_OUT2); i++)
		cpu_relax();
	outb(PORT_B, b);
}

void pit_delay_us(uint32_t us)
{
	uint64_t ticks = ((uint64_t)us * PIT_HZ + 999999u) / 1000000u;
	while (ticks) {
		uint16_t chunk = (uint16_t)MIN(ticks, (uint64_t)PIT_COUNT_MAX);
		delay_ticks(chunk);
		ticks -= chunk;
	}
}
