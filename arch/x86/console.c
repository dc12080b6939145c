/*
 * The console: every output device hapvisor writes its log to: COM1, then the screen (docs/screen.md).
 * lib/log.h declares console_write(), the sink of every log line, and console_write_event(), the sink of the
 * structured event= lines; this file implements them for hapvisor. The screen is for people: it shows the
 * sentences and reports, and the event= lines only with screen_events=on (console_screen_events); COM1
 * gets everything.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/screen.h"
#include "arch/x86/serial.h"
#include "lib/log.h"
#include "lib/spinlock.h"

/* RDTSC ticks spent writing to the console (mostly waiting for the UART), so that path-length figures
 * can leave the console out (docs/performance.md); the screen's share of them on its own. */
uint64_t console_tsc;
uint64_t console_screen_tsc;

bool console_screen_events;

/* One writer at a time, so that lines from different CPUs never interleave. */
static struct spinlock console_lock;
static volatile unsigned console_owner; /* CPU index + 1 of the holder, 0 when free */

/*
 * Write len bytes as one piece, to the screen too when on_screen. A CPU that already holds the lock (an
 * exception report raised while it was writing) writes without taking it again, so a fault in the middle
 * of a line cannot deadlock.
 */
static void console_out(const char *s, size_t len, bool on_screen)
{
	unsigned me = this_cpu()->index + 1;
	bool nested = console_owner == me;
	if (!nested) {
		spin_lock(&console_lock);
		console_owner = me;
	}
	uint64_t t = rdtsc();
	serial_write(s, len);
	uint64_t t_screen = rdtsc();
	if (on_screen)
		screen_write(s, len);
	uint64_t t_end = rdtsc();
	console_screen_tsc += t_end - t_screen;
	console_tsc += t_end - t;
	if (!nested) {
		console_owner = 0;
		spin_unlock(&console_lock);
	}
}

void console_write(const char *s, size_t len)
{
	console_out(s, len, true);
}

void console_write_event(const char *s, size_t len)
{
	console_out(s, len, console_screen_events);
}

void console_take_over(void)
{
	console_owner = this_cpu()->index + 1;
}
