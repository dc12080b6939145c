/* panic(): print the reason, the caller chain and stop. */
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "lib/panic.h"

void panic(const char *fmt, ...)
{
	__asm__ volatile("cli");
	va_list ap;
	va_start(ap, fmt);
	log_vprintf(LOG_ERROR, __func__, fmt, ap);
	va_end(ap);
	log_event("panic");
	cpu_halt_forever();
}
