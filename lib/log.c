/* Console logging (see log.h). Lines are formatted whole, then written at once. */
#include "lib/log.h"
#include "lib/fmt.h"

enum log_level log_threshold = LOG_INFO;

#define LOG_LINE_MAX 512

/* Write buf (of which n characters were meant) and a newline through sink; mark a cut line with "...". */
static void emit_line(char *buf, int n, void (*sink)(const char *s, size_t len))
{
	size_t len = (size_t)n;
	if (len >= LOG_LINE_MAX - 1) {
		len = LOG_LINE_MAX - 4;
		buf[len++] = '.';
		buf[len++] = '.';
		buf[len++] = '.';
	}
	if (len == 0 || buf[len - 1] != '\n')
		buf[len++] = '\n';
	sink(buf, len);
}

void log_vprintf(enum log_level level, const char *func, const char *fmt, va_list ap)
{
	if (level > log_threshold)
		return;
	char buf[LOG_LINE_MAX + 1];
	int n;
	if (level == LOG_DEBUG)
		n = fmt_snprintf(buf, LOG_LINE_MAX, "hapvisor: %s: %s: ", log_level_name(level), func);
	else
		n = fmt_snprintf(buf, LOG_LINE_MAX, "hapvisor: %s: ", log_level_name(level));
	if (n < LOG_LINE_MAX)
		n += fmt_vsnprintf(buf + n, (size_t)(LOG_LINE_MAX - n), fmt, ap);
	emit_line(buf, n, console_write);
}

void log_printf(enum log_level level, const char *func, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vprintf(level, func, fmt, ap);
	va_end(ap);
}

void log_event(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX + 1];
	int n = fmt_snprintf(buf, LOG_LINE_MAX, "hapvisor: event=");
	va_list ap;
	va_start(ap, fmt);
	n += fmt_vsnprintf(buf + n, (size_t)(LOG_LINE_MAX - n), fmt, ap);
	va_end(ap);
	emit_line(buf, n, console_write_event);
}

void log_raw(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	console_write(buf, MIN((size_t)n, sizeof(buf) - 1));
}
