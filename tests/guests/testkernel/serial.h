/* testkernel: COM1, polled (PC16550D data sheet). The guest owns the UART under hapvisor. */
#ifndef TK_SERIAL_H
#define TK_SERIAL_H

#include "cpu.h"

#define COM1_BASE 0x3F8
#define UART_SCR 7 /* scratch register: no function, any value reads back */

/* serial_init: program COM1 for 115200 8N1, FIFOs on, interrupts off. */
void serial_init(void);

/* serial_write: write len bytes, "\n" as "\r\n", under a lock (both CPUs print). A stuck UART drops
 * bytes instead of hanging. */
void serial_write(const char *s, size_t len);

/* serial_flush: wait (bounded) until the transmitter has sent everything. */
void serial_flush(void);

#endif
