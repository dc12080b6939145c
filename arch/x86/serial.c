/* 16550 UART driver, polled (PC16550D data sheet; port 0x3F8 is COM1 on every PC). */
#include "arch/x86/serial.h"
#include "arch/x86/cpu.h"

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLH 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_SCR 7

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0xC7 /* FIFO on, clear both, 14-byte trigger */
#define MCR_DTR_RTS 0x03
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE 0x40 /* transmitter empty: holding and shift registers drained */
#define BAUD_DIVISOR_115200 1
#define TX_SPIN_LIMIT 100000 /* a stuck UART must not hang hapvisor */

static bool present;

void serial_init(void)
{
	outb(COM1 + UART_SCR, 0x5A);
	present = inb(COM1 + UART_SCR) == 0x5A;
	if (!present)
		return;
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DLL, BAUD_DIVISOR_115200);
	outb(COM1 + UART_DLH, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1 + UART_MCR, MCR_DTR_RTS);
}

bool serial_present(void)
{
	return present;
}

static void put_byte(char c)
{
	for (int spin = 0; spin < TX_SPIN_LIMIT; spin++) {
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
		cpu_relax();
	}
	outb(COM1 + UART_THR, (uint8_t)c);
}

void serial_write(const char *s, size_t len)
{
	if (!present)
		return;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			put_byte('\r');
		put_byte(s[i]);
	}
}

void serial_flush(void)
{
	if (!present)
		return;
	for (int spin = 0; spin < TX_SPIN_LIMIT; spin++) {
		if (inb(COM1 + UART_LSR) & LSR_TX_IDLE)
			return;
		cpu_relax();
	}
}
