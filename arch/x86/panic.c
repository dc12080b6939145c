/* panic(): stop the other CPUs, print the reason and the call chain, then stop through the on_exit action. */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/smp.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/panic.h"

#define PANIC_BACKTRACE_FRAMES 16

void panic(const char *fmt, ...)
{
	static volatile int nesting;
	__asm__ volatile("cli");
	if (!smp_stop_all())
		smp_halt_stopped(); /* another CPU is reporting its own fatal error and stops this one */
	if (nesting++) {
		log_raw("hapvisor: event=panic nested=1\n");
		cpu_halt_forever();
	}
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	fmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_error("hapvisor panic: %s", msg);
	log_raw("  call chain:\n");
	backtrace_print((uint64_t)(uintptr_t)__builtin_frame_address(0), PANIC_BACKTRACE_FRAMES);
	log_event("panic message=\"%s\"", msg);
	hv_abort("panic");
}
