/*
 * Command-line words and typed values, without allocation: a tokenizer that walks "key=value" and bare
 * "key" words separated by spaces or tabs (a double quote anywhere in a word protects spaces until the next
 * one; the quotes themselves are dropped), and parsers for unsigned numbers, sizes and named choices.
 */
#ifndef HV_LIB_CMDLINE_H
#define HV_LIB_CMDLINE_H

#include "lib/types.h"

#define CMDLINE_KEY_MAX 31    /* characters, not counting the NUL */
#define CMDLINE_VALUE_MAX 255 /* characters, not counting the NUL */

enum cmdline_status {
	CMDLINE_OK,		    /* *word holds the next word */
	CMDLINE_END,		    /* no more words */
	CMDLINE_KEY_TOO_LONG,	    /* key longer than CMDLINE_KEY_MAX; word->key holds its start */
	CMDLINE_VALUE_TOO_LONG,	    /* value longer than CMDLINE_VALUE_MAX; word->value holds its start */
	CMDLINE_UNTERMINATED_QUOTE, /* a '"' without its closing partner; the word ran to the end */
	CMDLINE_EMPTY_KEY,	    /* the word starts with '=' */
};

struct cmdline_iter {
	const char *line; /* the line being walked */
	const char *pos;  /* next character to read */
};

struct cmdline_word {
	char key[CMDLINE_KEY_MAX + 1];
	char value[CMDLINE_VALUE_MAX + 1]; /* "" for a bare word */
	bool has_value;			   /* the word had '=' (the value may still be "") */
	size_t offset;			   /* where the word starts in the line */
};

/* Start walking line (NULL reads as an empty line). The line must stay unchanged while it is walked. */
void cmdline_iter_init(struct cmdline_iter *it, const char *line);

/*
 * cmdline_next: read the next word into *word. Every status but CMDLINE_END consumes one word, so a caller
 * that reports an error and calls again goes on with the rest of the line. On an error, *word holds as much
 * of the word as fits (always NUL-terminated), for the message.
 */
enum cmdline_status cmdline_next(struct cmdline_iter *it, struct cmdline_word *word);

/* A short English phrase for a status ("key longer than 31 characters"). */
const char *cmdline_status_str(enum cmdline_status status);

/*
 * cmdline_parse_u64: a whole string as an unsigned number: decimal digits, or "0x"/"0X" and hex digits.
 * Fails (leaving *out alone) on an empty string, a sign, any other character, or a value above UINT64_MAX.
 */
bool cmdline_parse_u64(const char *s, uint64_t *out);

/*
 * cmdline_parse_size: a number as cmdline_parse_u64 reads it, then an optional unit K, M or G (either case,
 * powers of 1024): "4096", "64K", "32M", "1G", "0x200000". Fails on overflow of the scaled value too.
 */
bool cmdline_parse_size(const char *s, uint64_t *out);

/* cmdline_parse_choice: the index of s in names[0..count) (exact, case-sensitive); false if absent. */
bool cmdline_parse_choice(const char *s, const char *const *names, size_t count, size_t *index);

/*
 * cmdline_choice_list: write names as an English list ("halt, poweroff or reboot") into buf (size bytes,
 * NUL-terminated when size > 0, cut if short). Returns buf, for use as a printf argument.
 */
const char *cmdline_choice_list(char *buf, size_t size, const char *const *names, size_t count);

#endif
