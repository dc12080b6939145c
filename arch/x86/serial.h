/* 16550 UART console on COM1, 115200 8N1. */
#ifndef HV_ARCH_X86_SERIAL_H
#define HV_ARCH_X86_SERIAL_H

#include "lib/types.h"

/* Program COM1 and detect it through the scratch register; without a UART, writes become no-ops. */
void serial_init(void);
void serial_write(const char *s, size_t len);
bool serial_present(void);
/* Wait (bounded) until every byte written has left the UART: before power-off or reset. */
void serial_flush(void);

#endif
