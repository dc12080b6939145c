/* Formatted printing (see fmt.h). No floating point: hapvisor runs without SSE state. */
#include "lib/fmt.h"

enum {
	FL_LEFT = 1 << 0,   /* '-' */
	FL_ZERO = 1 << 1,   /* '0' */
	FL_PLUS = 1 << 2,   /* '+' */
	FL_SPACE = 1 << 3,  /* ' ' */
	FL_ALT = 1 << 4,    /* '#' */
	FL_SIGNED = 1 << 5, /* a signed conversion (d, i): only these take '+' and ' ' (C11 7.21.6.1) */
};

struct out {
	char *buf;
	size_t size;
	size_t len; /* characters produced so far, including those that did not fit */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void pad(struct out *o, char c, int n)
{
	while (n-- > 0)
		put(o, c);
}

/* One converted field: sign/prefix, zero padding to precision, digits, width padding. */
static void emit_field(struct out *o, const char *prefix, const char *body, int body_len, int zeros,
		       int width, int flags)
{
	int prefix_len = 0;
	while (prefix[prefix_len])
		prefix_len++;
	int total = prefix_len + zeros + body_len;
	if (!(flags & FL_LEFT))
		pad(o, ' ', width - total);
	for (int i = 0; i < prefix_len; i++)
		put(o, prefix[i]);
	pad(o, '0', zeros);
	for (int i = 0; i < body_len; i++)
		put(o, body[i]);
	if (flags & FL_LEFT)
		pad(o, ' ', width - total);
}

static void emit_number(struct out *o, uint64_t v, bool negative, unsigned base, bool upper, int flags,
			int width, int prec)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	if (!(v == 0 && prec == 0)) {
		do {
			tmp[n++] = digits[v % base];
			v /= base;
		} while (v);
	}
	char body[24];
	for (int i = 0; i < n; i++)
		body[i] = tmp[n - 1 - i];

	const char *prefix = "";
	if (negative)
		prefix = "-";
	else if ((flags & FL_SIGNED) && (flags & FL_PLUS))
		prefix = "+";
	else if ((flags & FL_SIGNED) && (flags & FL_SPACE))
		prefix = " ";
	else if ((flags & FL_ALT) && base == 16 && n > 0 && !(n == 1 && body[0] == '0'))
		prefix = upper ? "0X" : "0x";
	else if ((flags & FL_ALT) && base == 8 && (n == 0 || body[0] != '0') && prec <= n)
		prefix = "0"; /* '#' with o: the first digit is 0, unless the precision already made it so */

	int zeros = 0;
	if (prec >= 0) {
		zeros = prec > n ? prec - n : 0;
	} else if ((flags & FL_ZERO) && !(flags & FL_LEFT)) {
		int prefix_len = 0;
		while (prefix[prefix_len])
			prefix_len++;
		zeros = width - prefix_len - n;
		if (zeros < 0)
			zeros = 0;
	}
	emit_field(o, prefix, body, n, zeros, width, flags);
}

enum length { LEN_INT, LEN_CHAR, LEN_SHORT, LEN_LONG, LEN_LLONG, LEN_SIZE };

static uint64_t fetch_unsigned(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:
		return (unsigned char)va_arg(*ap, unsigned int);
	case LEN_SHORT:
		return (unsigned short)va_arg(*ap, unsigned int);
	case LEN_LONG:
		return va_arg(*ap, unsigned long);
	case LEN_LLONG:
		return va_arg(*ap, unsigned long long);
	case LEN_SIZE:
		return va_arg(*ap, size_t);
	default:
		return va_arg(*ap, unsigned int);
	}
}

static int64_t fetch_signed(va_list *ap, enum length len)
{
	switch (len) {
	case LEN_CHAR:
		return (signed char)va_arg(*ap, int);
	case LEN_SHORT:
		return (short)va_arg(*ap, int);
	case LEN_LONG:
		return va_arg(*ap, long);
	case LEN_LLONG:
		return va_arg(*ap, long long);
	case LEN_SIZE:
		return (int64_t)va_arg(*ap, size_t);
	default:
		return va_arg(*ap, int);
	}
}

int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
	struct out o = {buf, size, 0};
	va_list ap;
	va_copy(ap, ap_in);

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		int flags = 0;
		for (;; p++) {
			if (*p == '-')
				flags |= FL_LEFT;
			else if (*p == '0')
				flags |= FL_ZERO;
			else if (*p == '+')
				flags |= FL_PLUS;
			else if (*p == ' ')
				flags |= FL_SPACE;
			else if (*p == '#')
				flags |= FL_ALT;
			else
				break;
		}
		int width = 0;
		if (*p == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= FL_LEFT;
				width = -width;
			}
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		}
		int prec = -1;
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int);
				if (prec < 0)
					prec = -1;
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
			}
		}
		enum length len = LEN_INT;
		if (*p == 'h') {
			len = LEN_SHORT;
			if (*++p == 'h') {
				len = LEN_CHAR;
				p++;
			}
		} else if (*p == 'l') {
			len = LEN_LONG;
			if (*++p == 'l') {
				len = LEN_LLONG;
				p++;
			}
		} else if (*p == 'z' || *p == 't' || *p == 'j') {
			len = LEN_SIZE;
			p++;
		}

		switch (*p) {
		case 'd':
		case 'i': {
			int64_t v = fetch_signed(&ap, len);
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			emit_number(&o, mag, v < 0, 10, false, flags | FL_SIGNED, width, prec);
			break;
		}
		case 'u':
			emit_number(&o, fetch_unsigned(&ap, len), false, 10, false, flags, width, prec);
			break;
		case 'x':
		case 'X':
			emit_number(&o, fetch_unsigned(&ap, len), false, 16, *p == 'X', flags, width, prec);
			break;
		case 'o':
			emit_number(&o, fetch_unsigned(&ap, len), false, 8, false, flags, width, prec);
			break;
		case 'p':
			emit_number(&o, (uintptr_t)va_arg(ap, void *), false, 16, false, flags | FL_ALT,
				    width, prec);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			emit_field(&o, "", &c, 1, 0, width, flags);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);
			if (!s)
				s = "(null)";
			int n = 0;
			while (s[n] && (prec < 0 || n < prec))
				n++;
			emit_field(&o, "", s, n, 0, width, flags);
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--; /* a lone '%' at the end: stop */
			break;
		default: /* unknown conversion: print it verbatim so the mistake is visible */
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size > 0)
		buf[o.len < size ? o.len : size - 1] = '\0';
	va_end(ap);
	return (int)o.len;
}

int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = fmt_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
