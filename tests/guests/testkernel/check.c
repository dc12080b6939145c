/* testkernel: check bookkeeping and verdict lines (see check.h). */
#include "check.h"
#include "serial.h"

#define CHECK_PREFIX "testkernel: check="

unsigned check_passed, check_failed;
static struct check *current;

void check_begin(struct check *c, const char *name)
{
	c->name = name;
	c->failed = false;
	c->len = 0;
	c->details[0] = '\0';
	current = c;
}

static void add_detail(struct check *c, const char *fmt, va_list ap)
{
	if (c->len + 1 >= sizeof(c->details))
		return;
	c->details[c->len++] = ' ';
	c->len += fmt_vsnprintf(c->details + c->len, sizeof(c->details) - c->len, fmt, ap);
}

void check_note(struct check *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_detail(c, fmt, ap);
	va_end(ap);
}

void check_fail(struct check *c, const char *fmt, ...)
{
	va_list ap;

	c->failed = true;
	va_start(ap, fmt);
	add_detail(c, fmt, ap);
	va_end(ap);
}

void check_end(struct check *c)
{
	const char *verdict = c->failed ? " result=fail" : " result=pass";

	serial_write(CHECK_PREFIX, sizeof(CHECK_PREFIX) - 1);
	serial_write(c->name, tk_strlen(c->name));
	serial_write(verdict, tk_strlen(verdict));
	serial_write(c->details, c->len);
	serial_write("\n", 1);
	if (c->failed)
		check_failed++;
	else
		check_passed++;
	current = NULL;
}

struct check *check_current(void)
{
	return current;
}
