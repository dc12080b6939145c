/*
 * Console logging with levels, and the structured event lines tests and tools parse.
 *
 * Human lines:      "hapvisor: <level>: <message>"
 * Structured lines: "hapvisor: event=<name> key=value key=value ..." (documented in docs/events.md)
 */
#ifndef HV_LIB_LOG_H
#define HV_LIB_LOG_H

#include "lib/types.h"

/* Levels, with the word each one prints ("hapvisor: warn: ...") and option loglevel= takes. */
#define LOG_LEVELS(X)                                                                                        \
	X(LOG_ERROR, "error")                                                                                \
	X(LOG_WARN, "warn")                                                                                  \
	X(LOG_INFO, "info")                                                                                  \
	X(LOG_DEBUG, "debug")

enum log_level {
#define LOG_LEVEL_ENUM(level, name) level,
	LOG_LEVELS(LOG_LEVEL_ENUM)
#undef LOG_LEVEL_ENUM
		LOG_LEVEL_COUNT
};

/* The word of a level ("warn"); "?" for a value out of range. */
static inline const char *log_level_name(enum log_level level)
{
	static const char *const names[] = {
#define LOG_LEVEL_NAME(level, name) [level] = name,
		LOG_LEVELS(LOG_LEVEL_NAME)
#undef LOG_LEVEL_NAME
	};
	return (size_t)level < ARRAY_SIZE(names) ? names[level] : "?";
}

/* Messages above this level are dropped (command-line option loglevel=error|warn|info|debug). */
extern enum log_level log_threshold;

void log_printf(enum log_level level, const char *func, const char *fmt, ...) PRINTF_LIKE(3, 4);
void log_vprintf(enum log_level level, const char *func, const char *fmt, va_list ap);
/* Print one structured line: "hapvisor: event=" followed by the formatted text. Never filtered by loglevel;
 * on COM1 only unless screen_events=on (console_write_event). */
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

/* The sink: every console (serial, screen). Declared here, implemented above: arch/x86/console.c in hapvisor,
 * a stub in the host tests. */
void console_write(const char *s, size_t len);
/* A structured event line: COM1 always, the screen only when console_screen_events (option screen_events). */
void console_write_event(const char *s, size_t len);
extern bool console_screen_events; /* lib/console.c: false until the options say otherwise */
/*
 * After a fatal error, once every other CPU is stopped (smp_stop_all): this CPU writes without the console
 * lock from now on, since a stopped CPU may have held it. lib/console.c (hapvisor only).
 */
void console_take_over(void);
/* RDTSC ticks spent in console_write() so far, and the screen's part of them (hapvisor only). */
extern uint64_t console_tsc;
extern uint64_t console_screen_tsc;

#endif
