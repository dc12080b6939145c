/* Command-line tokenizer and value parsers (see cmdline.h). No allocation, no recursion. */
#include "lib/cmdline.h"
#include "lib/str.h"

#define CMDLINE_QUOTE '"'
#define CMDLINE_ASSIGN '='
#define DIGIT_NONE 0xffu /* digit_value(): not a digit of any base we read */
#define BASE_DEC 10u
#define BASE_HEX 16u
#define SHIFT_K 10u
#define SHIFT_M 20u
#define SHIFT_G 30u
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

void cmdline_iter_init(struct cmdline_iter *it, const char *line)
{
	if (!line)
		line = "";
	it->line = line;
	it->pos = line;
}

/* Append c to dst (len characters so far, room for max) unless full; a full buffer sets *overflow. */
static void put_char(char *dst, size_t *len, size_t max, char c, bool *overflow)
{
	if (*len < max)
		dst[(*len)++] = c;
	else
		*overflow = true;
}

enum cmdline_status cmdline_next(struct cmdline_iter *it, struct cmdline_word *word)
{
	const char *p = it->pos;
	while (is_blank(*p))
		p++;
	word->key[0] = '\0';
	word->value[0] = '\0';
	word->has_value = false;
	word->offset = (size_t)(p - it->line);
	if (*p == '\0') {
		it->pos = p;
		return CMDLINE_END;
	}

	size_t key_len = 0, value_len = 0;
	bool quoted = false, key_long = false, value_long = false;
	for (; *p != '\0' && (quoted || !is_blank(*p)); p++) {
		char c = *p;
		if (c == CMDLINE_QUOTE)
			quoted = !quoted;
		else if (!word->has_value && !quoted && c == CMDLINE_ASSIGN)
			word->has_value = true;
		else if (word->has_value)
			put_char(word->value, &value_len, CMDLINE_VALUE_MAX, c, &value_long);
		else
			put_char(word->key, &key_len, CMDLINE_KEY_MAX, c, &key_long);
	}
	word->key[key_len] = '\0';
	word->value[value_len] = '\0';
	it->pos = p;

	if (key_long)
		return CMDLINE_KEY_TOO_LONG;
	if (value_long)
		return CMDLINE_VALUE_TOO_LONG;
	if (quoted)
		return CMDLINE_UNTERMINATED_QUOTE;
	if (key_len == 0)
		return CMDLINE_EMPTY_KEY;
	return CMDLINE_OK;
}

const char *cmdline_status_str(enum cmdline_status status)
{
	switch (status) {
	case CMDLINE_OK:
		return "ok";
	case CMDLINE_END:
		return "end of line";
	case CMDLINE_KEY_TOO_LONG:
		return "name longer than " STRINGIFY(CMDLINE_KEY_MAX) " characters";
	case CMDLINE_VALUE_TOO_LONG:
		return "value longer than " STRINGIFY(CMDLINE_VALUE_MAX) " characters";
	case CMDLINE_UNTERMINATED_QUOTE:
		return "a '\"' without its closing '\"'";
	case CMDLINE_EMPTY_KEY:
		return "no name before the value";
	}
	return "unknown status";
}

/* The value of c as a digit in base (10 or 16), or DIGIT_NONE. */
static unsigned digit_value(char c, unsigned base)
{
	unsigned v = DIGIT_NONE;
	if (c >= '0' && c <= '9')
		v = (unsigned)(c - '0');
	else if (c >= 'a' && c <= 'f')
		v = (unsigned)(c - 'a') + BASE_DEC;
	else if (c >= 'A' && c <= 'F')
		v = (unsigned)(c - 'A') + BASE_DEC;
	return v < base ? v : DIGIT_NONE;
}

/*
 * Read a decimal or 0x-hex number at s into *out. Returns the first character after the digits, or NULL
 * when there are no digits or the value overflows 64 bits.
 */
static const char *parse_number(const char *s, uint64_t *out)
{
	unsigned base = BASE_DEC;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = BASE_HEX;
		s += 2;
	}
	uint64_t v = 0;
	const char *start = s;
	for (unsigned d; (d = digit_value(*s, base)) != DIGIT_NONE; s++) {
		if (v > (UINT64_MAX - d) / base)
			return NULL;
		v = v * base + d;
	}
	if (s == start)
		return NULL;
	*out = v;
	return s;
}

bool cmdline_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *end = parse_number(s, &v);
	if (!end || *end != '\0')
		return false;
	*out = v;
	return true;
}

bool cmdline_parse_size(const char *s, uint64_t *out)
{
	uint64_t v;
	const char *end = parse_number(s, &v);
	if (!end)
		return false;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'K':
	case 'k':
		shift = SHIFT_K;
		break;
	case 'M':
	case 'm':
		shift = SHIFT_M;
		break;
	case 'G':
	case 'g':
		shift = SHIFT_G;
		break;
	default:
		return false;
	}
	if (shift != 0 && *++end != '\0')
		return false;
	if (v > (UINT64_MAX >> shift))
		return false;
	*out = v << shift;
	return true;
}

bool cmdline_parse_choice(const char *s, const char *const *names, size_t count, size_t *index)
{
	for (size_t i = 0; i < count; i++) {
		if (strcmp(s, names[i]) == 0) {
			*index = i;
			return true;
		}
	}
	return false;
}

/* Append the string s to buf (len used so far, size bytes); keeps room for the final NUL. */
static void put_str(char *buf, size_t size, size_t *len, const char *s)
{
	for (; *s != '\0' && *len + 1 < size; s++)
		buf[(*len)++] = *s;
}

const char *cmdline_choice_list(char *buf, size_t size, const char *const *names, size_t count)
{
	size_t len = 0;
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			put_str(buf, size, &len, i + 1 == count ? " or " : ", ");
		put_str(buf, size, &len, names[i]);
	}
	if (size > 0)
		buf[len] = '\0';
	return buf;
}
