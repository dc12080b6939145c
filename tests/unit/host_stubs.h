/* Host-side stand-ins for the hypervisor's console and panic(), shared by every unit test. */
#ifndef HV_TESTS_UNIT_HOST_STUBS_H
#define HV_TESTS_UNIT_HOST_STUBS_H

#include <setjmp.h>
#include <stddef.h>

/* Everything the code under test wrote to the console since the last host_console_reset(). */
extern char host_console_buf[65536];
extern size_t host_console_len;
void host_console_reset(void);

/* If a test sets host_panic_armed, panic() longjmps to host_panic_jmp instead of aborting. */
extern jmp_buf host_panic_jmp;
extern int host_panic_armed;
extern char host_panic_msg[512];

#endif
