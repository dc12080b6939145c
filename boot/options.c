/* hapvisor's command-line options (see options.h): a table of known names, each with its value parser. */
#include "boot/options.h"
#include "lib/cmdline.h"
#include "lib/fmt.h"
#include "lib/str.h"

#define OPTIONS_TEXT_MAX 160	   /* room for an "expected ..." phrase or the list of known names */
#define OPTIONS_SHOWN_VALUE_MAX 32 /* characters of a bad word's value quoted in a message */
#define OPTIONS_CPUS_TEXT_MAX 12   /* "all" or a count */

/* The values of each word-valued option, from the list its module keeps beside the enum. */
#define VALUE_NAME(value, name) [value] = name,
static const char *const on_exit_names[] = {ON_EXIT_ACTIONS(VALUE_NAME)};
static const char *const loglevel_names[] = {LOG_LEVELS(VALUE_NAME)};
static const char *const ept_names[] = {EPT_POLICIES(VALUE_NAME)};
static const char *const paging_names[] = {PAGING_CHOICES(VALUE_NAME)};
static const char *const entry_check_names[] = {ENTRY_CHECK_MODES(VALUE_NAME)};
#undef VALUE_NAME

static const char *const off_on_names[] = {"off", "on"};

#ifdef HV_TEST_HOOKS
static const char *const vmcs_break_names[] = {[VMCS_BREAK_NONE] = "none",
#define VMCS_BREAK_NAME(name, rule) [VMCS_BREAK_##name] = #name,
					       VMCS_BREAKS(VMCS_BREAK_NAME)
#undef VMCS_BREAK_NAME
};
#define FATAL_TEST_NAME(value, name) [value] = name,
static const char *const fatal_test_names[] = {FATAL_TESTS(FATAL_TEST_NAME)};
#undef FATAL_TEST_NAME
#endif

/*
 * One known option. parse() stores the value in *out and returns true, or stores the option's default and
 * returns false; expect() writes into buf what the option accepts, as the end of "expected ...".
 */
struct option_spec {
	const char *name;
	bool (*parse)(const char *value, struct hv_options *out);
	const char *(*expect)(char *buf, size_t size);
};

/*
 * CHOICE_OPTION(name, field, type, names, fallback): parse_name() and expect_name() for an option whose value
 * is one word of names[] (its index, cast to type, goes to out->field; fallback when the word is unknown).
 */
#define CHOICE_OPTION(name, field, type, names, fallback)                                                    \
	static bool parse_##name(const char *value, struct hv_options *out)                                  \
	{                                                                                                    \
		size_t i;                                                                                    \
		bool ok = cmdline_parse_choice(value, names, ARRAY_SIZE(names), &i);                         \
		out->field = ok ? (type)i : (fallback);                                                      \
		return ok;                                                                                   \
	}                                                                                                    \
	static const char *expect_##name(char *buf, size_t size)                                             \
	{                                                                                                    \
		return cmdline_choice_list(buf, size, names, ARRAY_SIZE(names));                             \
	}

CHOICE_OPTION(on_exit, on_exit, enum on_exit_action, on_exit_names, OPTIONS_DEFAULT_ON_EXIT)
CHOICE_OPTION(loglevel, loglevel, enum log_level, loglevel_names, OPTIONS_DEFAULT_LOGLEVEL)
CHOICE_OPTION(ept, ept, enum ept_policy, ept_names, OPTIONS_DEFAULT_EPT)
CHOICE_OPTION(paging, paging, enum paging_choice, paging_names, OPTIONS_DEFAULT_PAGING)
CHOICE_OPTION(entry_check, entry_check, enum entry_check_mode, entry_check_names, OPTIONS_DEFAULT_ENTRY_CHECK)
CHOICE_OPTION(screen_events, screen_events, bool, off_on_names, false)
#ifdef HV_TEST_HOOKS
CHOICE_OPTION(vmcs_break, vmcs_break, enum vmcs_break, vmcs_break_names, VMCS_BREAK_NONE)
CHOICE_OPTION(fatal_test, fatal_test, enum fatal_test, fatal_test_names, FATAL_TEST_NONE)
#endif

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

#define MS_PER_S 1000ull

/*
 * guest_timeout=DURATION: a number (cmdline_parse_u64) with an optional unit "ms" or "s" (the default);
 * 0 turns the limit off; otherwise from 1 ms to OPTIONS_GUEST_TIMEOUT_MAX_MS.
 */
static bool parse_guest_timeout(const char *value, struct hv_options *out)
{
	char number[CMDLINE_VALUE_MAX + 1];
	size_t len = strnlen(value, CMDLINE_VALUE_MAX);
	uint64_t scale = MS_PER_S, n;
	if (len > 2 && strcmp(value + len - 2, "ms") == 0) {
		scale = 1;
		len -= 2;
	} else if (len > 1 && value[len - 1] == 's') {
		len -= 1;
	}
	memcpy(number, value, len);
	number[len] = '\0';
	out->guest_timeout_ms = OPTIONS_GUEST_TIMEOUT_OFF;
	if (!cmdline_parse_u64(number, &n) || n > OPTIONS_GUEST_TIMEOUT_MAX_MS / scale)
		return false;
	out->guest_timeout_ms = n * scale;
	return true;
}

static const char *expect_guest_timeout(char *buf, size_t size)
{
	fmt_snprintf(
		buf, size,
		"a duration up to %llus with an optional unit s or ms, e.g. guest_timeout=30s or guest_timeout=500ms (0: no limit)",
		(unsigned long long)(OPTIONS_GUEST_TIMEOUT_MAX_MS / MS_PER_S));
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
	{"on_exit", parse_on_exit, expect_on_exit},
	{"loglevel", parse_loglevel, expect_loglevel},
	{"hvmem", parse_hvmem, expect_hvmem},
	{"ept", parse_ept, expect_ept},
	{"paging", parse_paging, expect_paging},
	{"guest_timeout", parse_guest_timeout, expect_guest_timeout},
	{"entry_check", parse_entry_check, expect_entry_check},
#ifdef HV_TEST_HOOKS
	{"vmcs_break", parse_vmcs_break, expect_vmcs_break}, /* the test build only (docs/options.md) */
#endif
	{"cpus", parse_cpus, expect_cpus},
	{"screen_events", parse_screen_events, expect_screen_events},
#ifdef HV_TEST_HOOKS
	{"fatal_test", parse_fatal_test, expect_fatal_test}, /* the test build only (docs/options.md) */
#endif
};

void options_defaults(struct hv_options *out)
{
	out->on_exit = OPTIONS_DEFAULT_ON_EXIT;
	out->loglevel = OPTIONS_DEFAULT_LOGLEVEL;
	out->hvmem = OPTIONS_HVMEM_DEFAULT;
	out->hvmem_requested = OPTIONS_HVMEM_DEFAULT;
	out->ept = OPTIONS_DEFAULT_EPT;
	out->paging = OPTIONS_DEFAULT_PAGING;
	out->guest_timeout_ms = OPTIONS_GUEST_TIMEOUT_OFF;
	out->entry_check = OPTIONS_DEFAULT_ENTRY_CHECK;
	out->vmcs_break = VMCS_BREAK_NONE;
	out->cpus = OPTIONS_CPUS_ALL;
	out->screen_events = false;
	out->fatal_test = FATAL_TEST_NONE;
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

/* " vmcs_break=NAME fatal_test=NAME" for the test build's options that are set; "" otherwise, and always in
 * the release image. */
static const char *test_hook_words(const struct hv_options *opt, char *buf, size_t size)
{
	buf[0] = '\0';
#ifdef HV_TEST_HOOKS
	size_t n = 0;
	if (opt->vmcs_break != VMCS_BREAK_NONE)
		n += (size_t)fmt_snprintf(buf + n, size - n, " vmcs_break=%s",
					  vmcs_break_names[opt->vmcs_break]);
	if (opt->fatal_test != FATAL_TEST_NONE && n < size)
		fmt_snprintf(buf + n, size - n, " fatal_test=%s", fatal_test_names[opt->fatal_test]);
#endif
	return buf;
}

void options_log(const struct hv_options *opt)
{
	bool ec = opt->entry_check != OPTIONS_DEFAULT_ENTRY_CHECK;
	char vb[OPTIONS_TEXT_MAX];
	char cpus[OPTIONS_CPUS_TEXT_MAX] = "all";
	if (opt->cpus != OPTIONS_CPUS_ALL)
		fmt_snprintf(cpus, sizeof(cpus), "%u", opt->cpus);
	log_event(
		"options on_exit=%s loglevel=%s hvmem=%llu ept=%s paging=%s guest_timeout_ms=%llu cpus=%s%s%s%s%s",
		on_exit_name(opt->on_exit), log_level_name(opt->loglevel), (unsigned long long)opt->hvmem,
		ept_policy_name(opt->ept), paging_choice_name(opt->paging),
		(unsigned long long)opt->guest_timeout_ms, cpus, ec ? " entry_check=" : "",
		ec ? entry_check_mode_name(opt->entry_check) : "",
		opt->screen_events ? " screen_events=on" : "", test_hook_words(opt, vb, sizeof(vb)));
	if (opt->hvmem != opt->hvmem_requested)
		log_debug("hvmem=%llu rounded up to %llu (a multiple of 2 MiB)",
			  (unsigned long long)opt->hvmem_requested, (unsigned long long)opt->hvmem);
}
