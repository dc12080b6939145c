/* The console: every output device hapvisor writes its log to. */
#include "lib/log.h"
#include "arch/x86/serial.h"

void console_write(const char *s, size_t len)
{
	serial_write(s, len);
}
