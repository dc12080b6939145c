/* hapvisor's command-line options (see options.h): a table of known names, each with its value parser. */
#include "boot/options.h"
#include "lib/cmdline.h"
#include "lib/fmt.h"
#include "lib/str.h"

#define OPTIONS_TEXT_MAX 160	   /* room for an "expected ..." phrase or the list of known names */
#define OPTIONS_SHOWN_VALUE_MAX 32 /* characters of a bad word's value quoted in a message */
#define OPTIONS_CPUS_TEXT_MAX 12   /* "all" or a count */

static const char *const on_exit_names[] = {
	[ON_EXIT_HALT] = "halt",
	[ON_EXIT_POWEROFF] = "poweroff",
	[ON_EXIT_REBOOT] = "reboot",
};

static const char *const loglevel_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

static const char *const ept_names[] = {
	[EPT_LAZY] = "lazy",
	[EPT_EAGER] = "eager",
	[EPT_4K] = "4k",
};

/*
 * One known option. parse() stores the value in *out and returns true, or stores the option's default and
 * returns false; expect() writes into buf what the option accepts, as the end of "expected ...".
 */
struct option_spec {
	const char *name;
	bool (*parse)(const char *value, struct hv_options *out);
	const char *(*expect)(char *buf, size_t size);
};

static bool parse_on_exit(const char *value, struct hv_options *out)
{
	size_t i;
	bool ok = cmdline_parse_choice(value, on_exit_names, ARRAY_SIZE(on_exit_names), &i);
	out->on_exit = ok ? (enum on_exit_action)i : OPTIONS_DEFAULT_ON_EXIT;
	return ok;
}

static const char *expect_on_exit(char *buf, size_t size)
{
	return cmdline_choice_list(buf, size, on_exit_names, ARRAY_SIZE(on_exit_names));
}

static bool parse_loglevel(const char *value, struct hv_options *out)
{
	size_t i;
	bool ok = cmdline_parse_choice(value, loglevel_names, ARRAY_SIZE(loglevel_names), &i);
	out->loglevel = ok ? (enum log_level)i : OPTIONS_DEFAULT_LOGLEVEL;
	return ok;
}

static const char *expect_loglevel(char *buf, size_t size)
{
	return cmdline_choice_list(buf, size, loglevel_names, ARRAY_SIZE(loglevel_names));
}

static bool parse_ept(const char *value, struct hv_options *out)
{
	size_t i;
	bool ok = cmdline_parse_choice(value, ept_names, ARRAY_SIZE(ept_names), &i);
	out->ept = ok ? (enum ept_policy)i : OPTIONS_DEFAULT_EPT;
	return ok;
}

static const char *expect_ept(char *buf, size_t size)
{
	return cmdline_choice_list(buf, size, ept_names, ARRAY_SIZE(ept_names));
}

/* hvmem=SIZE: within [OPTIONS_HVMEM_MIN, OPTIONS_HVMEM_MAX], then rounded up to OPTIONS_HVMEM_ALIGN. */
static bool parse_hvmem(const char *value, struct hv_options *out)
{
	uint64_t bytes;
	if (!cmdline_parse_size(value, &bytes) || bytes < OPTIONS_HVMEM_MIN || bytes > OPTIONS_HVMEM_MAX) {
		out->hvmem = OPTIONS_HVMEM_DEFAULT;
		out->hvmem_requested = OPTIONS_HVMEM_DEFAULT;
		return false;
	}
	_Static_assert(OPTIONS_HVMEM_MAX % OPTIONS_HVMEM_ALIGN == 0, "rounding must not pass the maximum");
	out->hvmem_requested = bytes;
	out->hvmem = ALIGN_UP(bytes, OPTIONS_HVMEM_ALIGN);
	return true;
}

static const char *expect_hvmem(char *buf, size_t size)
{
	fmt_snprintf(
		buf, size, "a size from %lluM to %lluG with an optional K, M or G suffix, e.g. hvmem=%lluM",
		(unsigned long long)(OPTIONS_HVMEM_MIN >> 20), (unsigned long long)(OPTIONS_HVMEM_MAX >> 30),
		(unsigned long long)(OPTIONS_HVMEM_DEFAULT >> 20));
	return buf;
}

/* cpus=N: at most N vCPUs for the guest, 1..OPTIONS_CPUS_MAX; the other processors stay parked. */
static bool parse_cpus(const char *value, struct hv_options *out)
{
	uint64_t n;
	bool ok = cmdline_parse_u64(value, &n) && n >= 1 && n <= OPTIONS_CPUS_MAX;
	out->cpus = ok ? (unsigned)n : OPTIONS_CPUS_ALL;
	return ok;
}

static const char *expect_cpus(char *buf, size_t size)
{
	fmt_snprintf(buf, size, "a number of CPUs from 1 to %u", OPTIONS_CPUS_MAX);
	return buf;
}

static const struct option_spec option_table[] = {
	{"on_exit", parse_on_exit, expect_on_exit}, {"loglevel", parse_loglevel, expect_loglevel},
	{"hvmem", parse_hvmem, expect_hvmem},	    {"ept", parse_ept, expect_ept},
	{"cpus", parse_cpus, expect_cpus},
};

void options_defaults(struct hv_options *out)
{
	out->on_exit = OPTIONS_DEFAULT_ON_EXIT;
	out->loglevel = OPTIONS_DEFAULT_LOGLEVEL;
	out->hvmem = OPTIONS_HVMEM_DEFAULT;
	out->hvmem_requested = OPTIONS_HVMEM_DEFAULT;
	out->ept = OPTIONS_DEFAULT_EPT;
	out->cpus = OPTIONS_CPUS_ALL;
}

/* The known option names as "a, b, c" in buf. */
static const char *known_names(char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(option_table) && len < size; i++)
		len += (size_t)fmt_snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
					    option_table[i].name);
	return buf;
}

/* One log_error line for a word the tokenizer rejected. */
static void report_bad_word(enum cmdline_status status, const struct cmdline_word *word)
{
	const char *more =
		strnlen(word->value, OPTIONS_SHOWN_VALUE_MAX + 1) > OPTIONS_SHOWN_VALUE_MAX ? "..." : "";
	if (status == CMDLINE_KEY_TOO_LONG)
		log_error("option %s...: %s", word->key, cmdline_status_str(status));
	else
		log_error("option %s%s%.*s%s: %s", word->key, word->has_value ? "=" : "",
			  OPTIONS_SHOWN_VALUE_MAX, word->value, more, cmdline_status_str(status));
}

/* Apply one well-formed word; false (after one log line) when it was malformed. Unknown names only warn. */
static bool apply_word(const struct cmdline_word *word, struct hv_options *out)
{
	char text[OPTIONS_TEXT_MAX];
	for (size_t i = 0; i < ARRAY_SIZE(option_table); i++) {
		const struct option_spec *spec = &option_table[i];
		if (strcmp(word->key, spec->name) != 0)
			continue;
		if (!word->has_value) {
			spec->parse("", out); /* back to the default */
			log_error("option %s has no value: expected %s", spec->name,
				  spec->expect(text, sizeof(text)));
			return false;
		}
		if (spec->parse(word->value, out))
			return true;
		log_error("option %s=%s: expected %s", spec->name, word->value,
			  spec->expect(text, sizeof(text)));
		return false;
	}
	log_warn("unknown option '%s' ignored; known options: %s", word->key,
		 known_names(text, sizeof(text)));
	return true;
}

bool options_parse(const char *cmdline, struct hv_options *out)
{
	struct cmdline_iter it;
	struct cmdline_word word;
	enum cmdline_status status;
	bool ok = true;

	options_defaults(out);
	cmdline_iter_init(&it, cmdline);
	while ((status = cmdline_next(&it, &word)) != CMDLINE_END) {
		if (status != CMDLINE_OK) {
			report_bad_word(status, &word);
			ok = false;
		} else if (!apply_word(&word, out)) {
			ok = false;
		}
	}
	return ok;
}

const char *on_exit_name(enum on_exit_action action)
{
	return (size_t)action < ARRAY_SIZE(on_exit_names) ? on_exit_names[action] : "?";
}

const char *ept_policy_name(enum ept_policy policy)
{
	return (size_t)policy < ARRAY_SIZE(ept_names) ? ept_names[policy] : "?";
}

const char *options_log_level_name(enum log_level level)
{
	return (size_t)level < ARRAY_SIZE(loglevel_names) ? loglevel_names[level] : "?";
}

void options_log(const struct hv_options *opt)
{
	char cpus[OPTIONS_CPUS_TEXT_MAX] = "all";
	if (opt->cpus != OPTIONS_CPUS_ALL)
		fmt_snprintf(cpus, sizeof(cpus), "%u", opt->cpus);
	log_event("options on_exit=%s loglevel=%s hvmem=%llu ept=%s cpus=%s", on_exit_name(opt->on_exit),
		  options_log_level_name(opt->loglevel), (unsigned long long)opt->hvmem,
		  ept_policy_name(opt->ept), cpus);
	if (opt->hvmem != opt->hvmem_requested)
		log_debug("hvmem=%llu rounded up to %llu (a multiple of 2 MiB)",
			  (unsigned long long)opt->hvmem_requested, (unsigned long long)opt->hvmem);
}
