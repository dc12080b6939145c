/* Formatted printing into a buffer: the subset of C99 printf hapvisor uses. Host-testable. */
#ifndef HV_LIB_FMT_H
#define HV_LIB_FMT_H

#include "lib/types.h"

/*
 * fmt_vsnprintf: format like C99 vsnprintf into buf (size bytes, always NUL-terminated when size > 0).
 * Supports flags '-', '0', '+', ' ', '#'; width and precision (also '*'); length modifiers hh h l ll z t j;
 * conversions d i u x X o c s p %. Returns the length the full output would have (as C99 does).
 */
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
