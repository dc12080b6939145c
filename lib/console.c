/* The console: every output device hapvisor writes its log to: COM1, then the screen (docs/screen.md). */
#include "lib/log.h"
#include "arch/x86/cpu.h"
#include "arch/x86/screen.h"
#include "arch/x86/serial.h"

/* RDTSC ticks spent writing to the console (mostly waiting for the UART), so that path-length figures
 * can leave the console out (docs/performance.md); the screen's share of them on its own. */
uint64_t console_tsc;
uint64_t console_screen_tsc;

void console_write(const char *s, size_t len)
{
	uint64_t t = rdtsc();
	serial_write(s, len);
	uint64_t t_screen = rdtsc();
	screen_write(s, len);
	uint64_t t_end = rdtsc();
	console_screen_tsc += t_end - t_screen;
	console_tsc += t_end - t;
}
