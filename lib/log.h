/*
 * Console logging with levels, and the structured event lines tests and tools parse.
 *
 * Human lines:      "hapvisor: <level>: <message>"
 * Structured lines: "hapvisor: event=<name> key=value key=value ..." (documented in docs/events.md)
 */
#ifndef HV_LIB_LOG_H
#define HV_LIB_LOG_H

#include "lib/types.h"

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages above this level are dropped (command-line option loglevel=error|warn|info|debug). */
extern enum log_level log_threshold;

void log_printf(enum log_level level, const char *func, const char *fmt, ...) PRINTF_LIKE(3, 4);
void log_vprintf(enum log_level level, const char *func, const char *fmt, va_list ap);
/* Print one structured line: "hapvisor: event=" followed by the formatted text. Never filtered. */
void log_event(const char *fmt, ...) PRINTF_LIKE(1, 2);
/* Print raw formatted text (no prefix, no newline added). Never filtered. */
void log_raw(const char *fmt, ...) PRINTF_LIKE(1, 2);

#define log_error(...)                                                                                       \
	do {                                                                                                 \
		log_printf(LOG_ERROR, __func__, __VA_ARGS__);                                                \
	} while (0)
#define log_warn(...)                                                                                        \
	do {                                                                                                 \
		log_printf(LOG_WARN, __func__, __VA_ARGS__);                                                 \
	} while (0)
#define log_info(...)                                                                                        \
	do {                                                                                                 \
		log_printf(LOG_INFO, __func__, __VA_ARGS__);                                                 \
	} while (0)
#define log_debug(...)                                                                                       \
	do {                                                                                                 \
		log_printf(LOG_DEBUG, __func__, __VA_ARGS__);                                                \
	} while (0)

/* The sink: every console (serial, screen). Provided by lib/console.c, or a stub in host tests. */
void console_write(const char *s, size_t len);
/* RDTSC ticks spent in console_write() so far, and the screen's part of them (hapvisor only). */
extern uint64_t console_tsc;
extern uint64_t console_screen_tsc;

#endif
