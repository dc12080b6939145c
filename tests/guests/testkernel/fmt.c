/* testkernel: a small vsnprintf (the subset fmt.h lists) and the C library calls compilers emit. */
#include "fmt.h"
#include "serial.h"

struct out {
	char *buf;
	size_t size, len;
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len++] = c;
}

static void put_padded(struct out *o, const char *s, size_t n, unsigned width, bool left, char pad)
{
	size_t fill = width > n ? width - n : 0;

	if (!left)
		for (size_t i = 0; i < fill; i++)
			put(o, pad);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		for (size_t i = 0; i < fill; i++)
			put(o, ' ');
}

/* Digits of v in base, with a leading '-' when negative; returns the length in tmp (>= 24 bytes). */
static size_t format_number(char *tmp, uint64_t v, unsigned base, bool negative)
{
	char rev[24];
	size_t n = 0, len = 0;

	do {
		rev[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		tmp[len++] = '-';
	while (n)
		tmp[len++] = rev[--n];
	return len;
}

size_t fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = {buf, size, 0};

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		bool left = false;
		char pad = ' ';
		for (;; p++) {
			if (*p == '-')
				left = true;
			else if (*p == '0')
				pad = '0';
			else
				break;
		}
		unsigned width = 0;
		while (*p >= '0' && *p <= '9')
			width = width * 10 + (unsigned)(*p++ - '0');
		int longs = 0;
		while (*p == 'l' || *p == 'z') {
			longs += *p == 'z' ? 2 : 1;
			p++;
		}

		char tmp[24];
		uint64_t u;
		switch (*p) {
		case 'd':
		case 'i': {
			int64_t s = longs ? va_arg(ap, int64_t) : va_arg(ap, int);
			u = s < 0 ? 0 - (uint64_t)s : (uint64_t)s;
			put_padded(&o, tmp, format_number(tmp, u, 10, s < 0), width, left, pad);
			break;
		}
		case 'u':
		case 'x':
			u = longs ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_padded(&o, tmp, format_number(tmp, u, *p == 'u' ? 10 : 16, false), width, left,
				   pad);
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			u = (uint64_t)va_arg(ap, void *);
			put_padded(&o, tmp, format_number(tmp, u, 16, false), 16, false, '0');
			break;
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			put_padded(&o, s, tk_strlen(s), width, left, ' ');
			break;
		}
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case '%':
			put(&o, '%');
			break;
		default: /* unknown conversion: print it as it stands */
			put(&o, '%');
			if (!*p)
				p--;
			else
				put(&o, *p);
			break;
		}
	}
	if (size)
		o.buf[o.len] = '\0';
	return o.len;
}

size_t fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	size_t n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void tk_printf(const char *fmt, ...)
{
	char buf[TK_PRINTF_MAX];
	va_list ap;

	va_start(ap, fmt);
	size_t n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	serial_write(buf, n);
}

size_t tk_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int tk_strncmp(const char *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
		if (!a[i])
			return 0;
	}
	return 0;
}

/*
 * The compilers may emit calls to these for structure copies and initialisation, even freestanding.
 * Written as REP STOSB/MOVSB so the optimiser cannot turn them back into calls to themselves.
 */
void *memset(void *d, int c, size_t n);
void *memcpy(void *restrict d, const void *restrict s, size_t n);

void *memset(void *d, int c, size_t n)
{
	void *p = d;

	__asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
	return d;
}

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
	void *p = d;

	__asm__ volatile("rep movsb" : "+D"(p), "+S"(s), "+c"(n) : : "memory");
	return d;
}
