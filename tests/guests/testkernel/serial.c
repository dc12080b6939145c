/* testkernel: 16550 UART driver, polled (PC16550D data sheet). */
#include "serial.h"

#define UART_THR 0 /* transmit holding (DLAB=0) */
#define UART_DLL 0 /* divisor low (DLAB=1) */
#define UART_IER 1
#define UART_DLH 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0xC7 /* FIFO on, clear both, 14-byte trigger */
#define MCR_DTR_RTS 0x03
#define LSR_THR_EMPTY 0x20
#define LSR_TX_IDLE 0x40
#define BAUD_DIVISOR_115200 1
#define TX_SPIN_LIMIT 1000000

void serial_init(void)
{
	outb(COM1_BASE + UART_IER, 0);
	outb(COM1_BASE + UART_LCR, LCR_DLAB);
	outb(COM1_BASE + UART_DLL, BAUD_DIVISOR_115200);
	outb(COM1_BASE + UART_DLH, 0);
	outb(COM1_BASE + UART_LCR, LCR_8N1);
	outb(COM1_BASE + UART_FCR, FCR_ENABLE_CLEAR);
	outb(COM1_BASE + UART_MCR, MCR_DTR_RTS);
}

static void wait_lsr(uint8_t bit)
{
	for (long spin = 0; spin < TX_SPIN_LIMIT; spin++) {
		if (inb(COM1_BASE + UART_LSR) & bit)
			return;
		cpu_relax();
	}
}

static void put_byte(char c)
{
	wait_lsr(LSR_THR_EMPTY);
	outb(COM1_BASE + UART_THR, (uint8_t)c);
}

/* One writer at a time: the second CPU (check smp) prints too, and its lines must not interleave. */
static uint32_t serial_lock;

void serial_write(const char *s, size_t len)
{
	while (__atomic_exchange_n(&serial_lock, 1u, __ATOMIC_ACQUIRE))
		cpu_relax();
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\n')
			put_byte('\r');
		put_byte(s[i]);
	}
	__atomic_store_n(&serial_lock, 0u, __ATOMIC_RELEASE);
}

void serial_flush(void)
{
	wait_lsr(LSR_TX_IDLE);
}
