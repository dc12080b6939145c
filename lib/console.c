/* The console: every output device hapvisor writes its log to. */
#include "lib/log.h"
#include "arch/x86/cpu.h"
#include "arch/x86/serial.h"

/* RDTSC ticks spent writing to the console (mostly waiting for the UART), so that path-length figures
 * can leave the console out (docs/performance.md). */
uint64_t console_tsc;

void console_write(const char *s, size_t len)
{
	uint64_t t = rdtsc();
	serial_write(s, len);
	console_tsc += rdtsc() - t;
}
