/* Host-side stand-ins for console_write(), console_write_event() and panic() (see host_stubs.h). */
#include "tests/unit/host_stubs.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/panic.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

char host_console_buf[65536];
size_t host_console_len;
jmp_buf host_panic_jmp;
int host_panic_armed;
char host_panic_msg[512];
uintptr_t host_phys_offset;
uint64_t console_tsc;

void host_console_reset(void)
{
	host_console_len = 0;
	host_console_buf[0] = '\0';
}

void console_write(const char *s, size_t len)
{
	size_t room = sizeof(host_console_buf) - 1 - host_console_len;
	if (len > room)
		len = room;
	memcpy(host_console_buf + host_console_len, s, len);
	host_console_len += len;
	host_console_buf[host_console_len] = '\0';
	if (getenv("HV_UNIT_VERBOSE"))
		fwrite(s, 1, len, stderr);
}

void console_write_event(const char *s, size_t len)
{
	console_write(s, len);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(host_panic_msg, sizeof(host_panic_msg), fmt, ap);
	va_end(ap);
	if (host_panic_armed)
		longjmp(host_panic_jmp, 1);
	fprintf(stderr, "panic: %s\n", host_panic_msg);
	abort();
}
