/*
 * testkernel: formatted output. Conversions: %d %i %u %x %p %s %c %%, flags 0 and -, a field width, and
 * the length modifiers l, ll, z. %p prints 0x and 16 hex digits.
 */
#ifndef TK_FMT_H
#define TK_FMT_H

#include <stdarg.h>
#include "cpu.h"

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

/* fmt_vsnprintf: format into buf (always NUL-terminated when size > 0); returns the length written. */
size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

/* tk_printf: format and write to COM1 (at most TK_PRINTF_MAX bytes a call). */
#define TK_PRINTF_MAX 512
void tk_printf(const char *fmt, ...) PRINTF_LIKE(1, 2);

size_t tk_strlen(const char *s);

/* tk_strncmp: compare at most n bytes of a and b, as strncmp does. */
int tk_strncmp(const char *a, const char *b, size_t n);

#endif
