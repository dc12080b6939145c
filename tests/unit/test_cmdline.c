/* lib/cmdline.c (tokenizer, number/size/choice parsers) and boot/options.c (hapvisor's options). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "boot/options.h"
#include "lib/cmdline.h"
#include "tests/unit/host_stubs.h"

#define WORDS_MAX 16

struct tokens {
	struct cmdline_word word[WORDS_MAX];
	enum cmdline_status status[WORDS_MAX];
	size_t count;
};

/* Walk line to the end, recording every word and status (CMDLINE_END not included). */
static void tokenize(const char *line, struct tokens *t)
{
	struct cmdline_iter it;
	cmdline_iter_init(&it, line);
	t->count = 0;
	for (;;) {
		assert_true(t->count < WORDS_MAX);
		enum cmdline_status st = cmdline_next(&it, &t->word[t->count]);
		if (st == CMDLINE_END)
			break;
		t->status[t->count++] = st;
	}
	/* The end is sticky. */
	struct cmdline_word w;
	assert_int_equal(cmdline_next(&it, &w), CMDLINE_END);
}

static void assert_word(const struct tokens *t, size_t i, const char *key, bool has_value, const char *value)
{
	assert_true(i < t->count);
	assert_int_equal(t->status[i], CMDLINE_OK);
	assert_string_equal(t->word[i].key, key);
	assert_int_equal(t->word[i].has_value, has_value);
	assert_string_equal(t->word[i].value, value);
}

static void test_tokenize_empty(void **state)
{
	struct tokens t;
	tokenize("", &t);
	assert_int_equal(t.count, 0);
	tokenize(NULL, &t);
	assert_int_equal(t.count, 0);
	tokenize("  \t  ", &t);
	assert_int_equal(t.count, 0);
}

static void test_tokenize_words(void **state)
{
	struct tokens t;
	tokenize("  on_exit=poweroff\tquiet   hvmem=64M  ", &t);
	assert_int_equal(t.count, 3);
	assert_word(&t, 0, "on_exit", true, "poweroff");
	assert_word(&t, 1, "quiet", false, "");
	assert_word(&t, 2, "hvmem", true, "64M");
	assert_int_equal(t.word[0].offset, 2);
	assert_int_equal(t.word[1].offset, 19);
	assert_int_equal(t.word[2].offset, 27);

	tokenize("a= b==c", &t);
	assert_int_equal(t.count, 2);
	assert_word(&t, 0, "a", true, "");
	assert_word(&t, 1, "b", true, "=c");
}

static void test_tokenize_quotes(void **state)
{
	struct tokens t;
	tokenize("title=\"two words\" x \"quoted key\"=v path=\"\" e=\"a\"\"b\"", &t);
	assert_int_equal(t.count, 5);
	assert_word(&t, 0, "title", true, "two words");
	assert_word(&t, 1, "x", false, "");
	assert_word(&t, 2, "quoted key", true, "v");
	assert_word(&t, 3, "path", true, "");
	assert_word(&t, 4, "e", true, "ab");

	tokenize("k=\"a = b\tc\"", &t);
	assert_int_equal(t.count, 1);
	assert_word(&t, 0, "k", true, "a = b\tc");

	tokenize("ok k=\"never closed here", &t);
	assert_int_equal(t.count, 2);
	assert_word(&t, 0, "ok", false, "");
	assert_int_equal(t.status[1], CMDLINE_UNTERMINATED_QUOTE);
	assert_string_equal(t.word[1].value, "never closed here");
}

static void test_tokenize_errors_continue(void **state)
{
	char line[600];
	char long_key[40], long_value[300];
	memset(long_key, 'k', 32);
	long_key[32] = '\0';
	memset(long_value, 'v', 256);
	long_value[256] = '\0';
	snprintf(line, sizeof(line), "%s=1 a=%s =x \"\" b=2", long_key, long_value);

	struct tokens t;
	tokenize(line, &t);
	assert_int_equal(t.count, 5);
	assert_int_equal(t.status[0], CMDLINE_KEY_TOO_LONG);
	assert_int_equal(strlen(t.word[0].key), CMDLINE_KEY_MAX);
	assert_int_equal(t.status[1], CMDLINE_VALUE_TOO_LONG);
	assert_string_equal(t.word[1].key, "a");
	assert_int_equal(strlen(t.word[1].value), CMDLINE_VALUE_MAX);
	assert_int_equal(t.status[2], CMDLINE_EMPTY_KEY);
	assert_string_equal(t.word[2].value, "x");
	assert_int_equal(t.status[3], CMDLINE_EMPTY_KEY);
	assert_word(&t, 4, "b", true, "2");

	/* Exactly at the limits is fine. */
	long_key[31] = '\0';
	long_value[255] = '\0';
	snprintf(line, sizeof(line), "%s=%s", long_key, long_value);
	tokenize(line, &t);
	assert_int_equal(t.count, 1);
	assert_word(&t, 0, long_key, true, long_value);
	assert_string_equal(cmdline_status_str(CMDLINE_KEY_TOO_LONG), "name longer than 31 characters");
}

static void test_parse_u64(void **state)
{
	uint64_t v = 0;
	assert_true(cmdline_parse_u64("0", &v));
	assert_int_equal(v, 0);
	assert_true(cmdline_parse_u64("4096", &v));
	assert_int_equal(v, 4096);
	assert_true(cmdline_parse_u64("007", &v));
	assert_int_equal(v, 7);
	assert_true(cmdline_parse_u64("0x1fF", &v));
	assert_int_equal(v, 0x1ff);
	assert_true(cmdline_parse_u64("0X10", &v));
	assert_int_equal(v, 16);
	assert_true(cmdline_parse_u64("18446744073709551615", &v));
	assert_true(v == UINT64_MAX);
	assert_true(cmdline_parse_u64("0xffffffffffffffff", &v));
	assert_true(v == UINT64_MAX);

	v = 77;
	static const char *const bad[] = {"",
					  "18446744073709551616",
					  "99999999999999999999",
					  "0x10000000000000000",
					  "0x",
					  "x10",
					  "-1",
					  "+1",
					  " 1",
					  "1 ",
					  "12a",
					  "0xg",
					  "1.5",
					  "1K",
					  "0b101"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (cmdline_parse_u64(bad[i], &v))
			fail_msg("cmdline_parse_u64(\"%s\") accepted it", bad[i]);
	}
	assert_int_equal(v, 77);
}

static void test_parse_size(void **state)
{
	static const struct {
		const char *s;
		uint64_t v;
	} good[] = {
		{"4096", 4096},
		{"64K", 64 << 10},
		{"64k", 64 << 10},
		{"32M", 32u << 20},
		{"1G", 1ull << 30},
		{"0", 0},
		{"0x200000", 2u << 20},
		{"0x10M", 16u << 20},
		{"16777215G", 16777215ull << 30},
		{"17179869183G", 17179869183ull << 30},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t v = 0;
		if (!cmdline_parse_size(good[i].s, &v) || v != good[i].v)
			fail_msg("cmdline_parse_size(\"%s\") gave %llu", good[i].s, (unsigned long long)v);
	}
	static const char *const bad[] = {"",
					  "M",
					  "32MB",
					  "32MiB",
					  "32 M",
					  "1T",
					  "-1M",
					  "17179869184G",
					  "18014398509481984K",
					  "99999999999999999999",
					  "0x",
					  "1.5G",
					  "32M "};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 5;
		if (cmdline_parse_size(bad[i], &v) || v != 5)
			fail_msg("cmdline_parse_size(\"%s\") accepted it", bad[i]);
	}
}

static void test_parse_choice(void **state)
{
	static const char *const names[] = {"halt", "poweroff", "reboot"};
	size_t i = 9;
	assert_true(cmdline_parse_choice("poweroff", names, 3, &i));
	assert_int_equal(i, 1);
	assert_true(cmdline_parse_choice("halt", names, 3, &i));
	assert_int_equal(i, 0);
	assert_false(cmdline_parse_choice("Halt", names, 3, &i));
	assert_false(cmdline_parse_choice("hal", names, 3, &i));
	assert_false(cmdline_parse_choice("", names, 3, &i));
	assert_int_equal(i, 0);

	char buf[64];
	assert_string_equal(cmdline_choice_list(buf, sizeof(buf), names, 3), "halt, poweroff or reboot");
	assert_string_equal(cmdline_choice_list(buf, sizeof(buf), names, 2), "halt or poweroff");
	assert_string_equal(cmdline_choice_list(buf, sizeof(buf), names, 1), "halt");
	assert_string_equal(cmdline_choice_list(buf, sizeof(buf), names, 0), "");
	assert_string_equal(cmdline_choice_list(buf, 8, names, 3), "halt, p");
}

static void assert_defaults(const struct hv_options *o)
{
	assert_int_equal(o->on_exit, ON_EXIT_HALT);
	assert_int_equal(o->loglevel, LOG_INFO);
	assert_true(o->hvmem == 32ull << 20);
	assert_true(o->hvmem_requested == o->hvmem);
	assert_int_equal(o->ept, EPT_LAZY);
	assert_int_equal(o->paging, PAGING_AUTO);
	assert_true(o->guest_timeout_ms == OPTIONS_GUEST_TIMEOUT_OFF);
}

/* options_parse with the console captured; returns its result. */
static bool parse(const char *line, struct hv_options *o)
{
	host_console_reset();
	memset(o, 0xa5, sizeof(*o));
	return options_parse(line, o);
}

static void assert_console_has(const char *text)
{
	if (!strstr(host_console_buf, text))
		fail_msg("console lacks \"%s\"; it holds:\n%s", text, host_console_buf);
}

static void test_options_defaults(void **state)
{
	struct hv_options o;
	assert_true(parse(NULL, &o));
	assert_defaults(&o);
	assert_true(parse("", &o));
	assert_defaults(&o);
	assert_true(parse("   ", &o));
	assert_defaults(&o);
	assert_int_equal(host_console_len, 0);
	options_defaults(&o);
	assert_defaults(&o);
}

static void test_options_good(void **state)
{
	struct hv_options o;
	assert_true(parse("on_exit=poweroff loglevel=debug hvmem=64M ept=eager", &o));
	assert_int_equal(o.on_exit, ON_EXIT_POWEROFF);
	assert_int_equal(o.loglevel, LOG_DEBUG);
	assert_true(o.hvmem == 64ull << 20);
	assert_int_equal(o.ept, EPT_EAGER);
	assert_int_equal(host_console_len, 0);

	assert_true(parse("on_exit=reboot loglevel=error ept=4k hvmem=1G", &o));
	assert_int_equal(o.on_exit, ON_EXIT_REBOOT);
	assert_int_equal(o.loglevel, LOG_ERROR);
	assert_int_equal(o.ept, EPT_4K);
	assert_true(o.hvmem == 1ull << 30);

	assert_true(parse("paging=shadow", &o));
	assert_int_equal(o.paging, PAGING_SHADOW);
	assert_true(parse("paging=ept", &o));
	assert_int_equal(o.paging, PAGING_EPT);

	assert_true(parse("loglevel=warn on_exit=halt ept=lazy hvmem=4M", &o));
	assert_int_equal(o.paging, PAGING_AUTO);
	assert_int_equal(o.loglevel, LOG_WARN);
	assert_int_equal(o.on_exit, ON_EXIT_HALT);
	assert_int_equal(o.ept, EPT_LAZY);
	assert_true(o.hvmem == 4ull << 20);

	/* Quotes, hex and byte counts; the last of a repeated option wins. */
	assert_true(parse("hvmem=\"0x800000\" on_exit=halt on_exit=\"poweroff\"", &o));
	assert_true(o.hvmem == 8ull << 20);
	assert_int_equal(o.on_exit, ON_EXIT_POWEROFF);
	assert_true(parse("hvmem=16777216", &o));
	assert_true(o.hvmem == 16ull << 20);
}

static void test_options_hvmem_rounding(void **state)
{
	struct hv_options o;
	assert_true(parse("hvmem=5M", &o));
	assert_true(o.hvmem == 6ull << 20);
	assert_true(o.hvmem_requested == 5ull << 20);
	assert_true(parse("hvmem=4097K", &o));
	assert_true(o.hvmem == 6ull << 20);
	assert_true(parse("hvmem=1023M", &o));
	assert_true(o.hvmem == 1ull << 30);

	enum log_level saved = log_threshold;
	log_threshold = LOG_DEBUG;
	assert_true(parse("hvmem=5M", &o));
	host_console_reset();
	options_log(&o);
	log_threshold = saved;
	assert_console_has("hapvisor: event=options on_exit=halt loglevel=info hvmem=6291456 ept=lazy "
			   "paging=auto guest_timeout_ms=0 cpus=all\n");
	assert_console_has("hvmem=5242880 rounded up to 6291456");
}

static void test_options_bad_values(void **state)
{
	static const struct {
		const char *line;
		const char *message;
	} cases[] = {
		{"on_exit=fly", "hapvisor: error: option on_exit=fly: expected halt, poweroff or reboot\n"},
		{"on_exit=", "option on_exit=: expected halt, poweroff or reboot"},
		{"on_exit", "option on_exit has no value: expected halt, poweroff or reboot"},
		{"loglevel=verbose", "option loglevel=verbose: expected error, warn, info or debug"},
		{"ept=1g", "option ept=1g: expected lazy, eager or 4k"},
		{"ept=LAZY", "option ept=LAZY: expected lazy, eager or 4k"},
		{"paging=soft", "option paging=soft: expected auto, ept or shadow"},
		{"hvmem=3M", "option hvmem=3M: expected a size from 4M to 1G"},
		{"hvmem=4194303", "option hvmem=4194303: expected a size from 4M to 1G"},
		{"hvmem=1025M", "option hvmem=1025M: expected a size from 4M to 1G"},
		{"hvmem=2G", "option hvmem=2G: expected a size from 4M to 1G"},
		{"hvmem=lots", "option hvmem=lots: expected a size"},
		{"hvmem=32MB", "option hvmem=32MB: expected"},
		{"hvmem=99999999999999999999", "option hvmem=99999999999999999999: expected"},
		{"hvmem=", "option hvmem=: expected"},
		{"hvmem", "option hvmem has no value: expected a size"},
		{"=poweroff", "option =poweroff: no name before the value"},
		{"on_exit=\"poweroff", "option on_exit=poweroff: a '\"' without its closing '\"'"},
		{"guest_timeout=soon", "option guest_timeout=soon: expected a duration up to 86400s with an "
				       "optional unit s or ms"},
		{"guest_timeout=86401", "option guest_timeout=86401: expected a duration"},
		{"guest_timeout=86400001ms", "option guest_timeout=86400001ms: expected"},
		{"guest_timeout=5m", "option guest_timeout=5m: expected"},
		{"guest_timeout=ms", "option guest_timeout=ms: expected"},
		{"guest_timeout=s", "option guest_timeout=s: expected"},
		{"guest_timeout=-1", "option guest_timeout=-1: expected"},
		{"guest_timeout=18446744073709551615s",
		 "option guest_timeout=18446744073709551615s: expected"},
		{"guest_timeout", "option guest_timeout has no value: expected a duration"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hv_options o;
		if (parse(cases[i].line, &o))
			fail_msg("options_parse(\"%s\") succeeded", cases[i].line);
		assert_console_has(cases[i].message);
		assert_defaults(&o);
		/* Exactly one line. */
		assert_ptr_equal(strchr(host_console_buf, '\n'), host_console_buf + host_console_len - 1);
	}
}

static void test_options_all_errors_reported(void **state)
{
	struct hv_options o;
	assert_false(parse("on_exit=fly hvmem=1M loglevel=debug ept=none on_exit=poweroff", &o));
	assert_console_has("option on_exit=fly:");
	assert_console_has("option hvmem=1M:");
	assert_console_has("option ept=none:");
	/* Good options around the bad ones still count; the bad ones hold defaults. */
	assert_int_equal(o.loglevel, LOG_DEBUG);
	assert_int_equal(o.on_exit, ON_EXIT_POWEROFF);
	assert_int_equal(o.ept, EPT_LAZY);
	assert_true(o.hvmem == 32ull << 20);

	/* A bad value after a good one goes back to the default. */
	assert_false(parse("on_exit=reboot on_exit=fly", &o));
	assert_int_equal(o.on_exit, ON_EXIT_HALT);
}

static void test_options_cpus(void **state)
{
	struct hv_options o;
	assert_true(parse("cpus=2", &o));
	assert_int_equal(o.cpus, 2);
	host_console_reset();
	options_log(&o);
	assert_string_equal(host_console_buf,
			    "hapvisor: event=options on_exit=halt loglevel=info "
			    "hvmem=33554432 ept=lazy paging=auto guest_timeout_ms=0 cpus=2\n");
	assert_true(parse("cpus=1 cpus=64", &o));
	assert_int_equal(o.cpus, 64);
	assert_true(parse("", &o));
	assert_int_equal(o.cpus, OPTIONS_CPUS_ALL);
	for (unsigned i = 0; i < 4; i++) {
		static const char *const bad[] = {"cpus=0", "cpus=65", "cpus=two", "cpus="};
		assert_false(parse(bad[i], &o));
		assert_console_has("a number of CPUs from 1 to 64");
		assert_int_equal(o.cpus, OPTIONS_CPUS_ALL);
	}
}

static void test_options_unknown_warns(void **state)
{
	struct hv_options o;
	assert_true(parse("quiet on_exit=poweroff serial=off", &o));
	assert_console_has(
		"hapvisor: warn: unknown option 'quiet' ignored; known options: on_exit, loglevel, hvmem, "
		"ept, paging, guest_timeout, entry_check, vmcs_break, cpus, screen_events, fatal_test\n");
	assert_console_has("hapvisor: warn: unknown option 'serial' ignored;");
	assert_int_equal(o.on_exit, ON_EXIT_POWEROFF);
}

static void test_options_overlong(void **state)
{
	char line[400];
	struct hv_options o;
	memset(line, 'x', 40);
	strcpy(line + 40, "=1 on_exit=reboot");
	assert_false(parse(line, &o));
	assert_console_has(
		"hapvisor: error: option xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...: name longer than 31 characters");
	assert_int_equal(o.on_exit, ON_EXIT_REBOOT);

	strcpy(line, "on_exit=");
	memset(line + 8, 'p', 300);
	line[308] = '\0';
	assert_false(parse(line, &o));
	assert_console_has(
		"option on_exit=pppppppppppppppppppppppppppppppp...: value longer than 255 characters");
	assert_int_equal(o.on_exit, ON_EXIT_HALT);
}

static void test_option_names(void **state)
{
	assert_string_equal(on_exit_name(ON_EXIT_HALT), "halt");
	assert_string_equal(on_exit_name(ON_EXIT_POWEROFF), "poweroff");
	assert_string_equal(on_exit_name(ON_EXIT_REBOOT), "reboot");
	assert_string_equal(on_exit_name((enum on_exit_action)7), "?");
	assert_string_equal(ept_policy_name(EPT_LAZY), "lazy");
	assert_string_equal(ept_policy_name(EPT_EAGER), "eager");
	assert_string_equal(ept_policy_name(EPT_4K), "4k");
	assert_string_equal(ept_policy_name((enum ept_policy)3), "?");
	assert_string_equal(log_level_name(LOG_ERROR), "error");
	assert_string_equal(log_level_name(LOG_DEBUG), "debug");

	struct hv_options o;
	assert_true(parse("on_exit=reboot loglevel=warn hvmem=128M ept=4k", &o));
	host_console_reset();
	options_log(&o);
	assert_string_equal(host_console_buf,
			    "hapvisor: event=options on_exit=reboot loglevel=warn hvmem=134217728 ept=4k "
			    "paging=auto guest_timeout_ms=0 cpus=all\n");
	assert_string_equal(paging_choice_name(PAGING_SHADOW), "shadow");
	assert_string_equal(paging_choice_name((enum paging_choice)3), "?");
}

static void test_options_guest_timeout(void **state)
{
	static const struct {
		const char *line;
		uint64_t ms;
	} cases[] = {
		{"guest_timeout=30", 30000},
		{"guest_timeout=30s", 30000},
		{"guest_timeout=500ms", 500},
		{"guest_timeout=1ms", 1},
		{"guest_timeout=0", 0},
		{"guest_timeout=0ms", 0},
		{"guest_timeout=86400", 86400000},
		{"guest_timeout=86400000ms", 86400000},
		{"guest_timeout=0x10s", 16000},
		{"guest_timeout=\"250ms\"", 250},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hv_options o;
		if (!parse(cases[i].line, &o))
			fail_msg("options_parse(\"%s\") failed: %s", cases[i].line, host_console_buf);
		if (o.guest_timeout_ms != cases[i].ms)
			fail_msg("%s gave %llu ms", cases[i].line, (unsigned long long)o.guest_timeout_ms);
	}
	struct hv_options o;
	assert_true(parse("guest_timeout=100ms", &o));
	host_console_reset();
	options_log(&o);
	assert_console_has("ept=lazy paging=auto guest_timeout_ms=100 cpus=all\n");
}

/* entry_check and the test-only vmcs_break: parsed, refused when unknown, logged only when not default. */
static void test_options_entry_check(void **state)
{
	struct hv_options o;
	assert_true(parse("on_exit=poweroff", &o));
	assert_int_equal(o.entry_check, ENTRY_CHECK_ENFORCE);
	assert_int_equal(o.vmcs_break, VMCS_BREAK_NONE);
	assert_true(parse("entry_check=warn vmcs_break=guest_tr_type", &o));
	assert_int_equal(o.entry_check, ENTRY_CHECK_WARN);
	assert_int_equal(o.vmcs_break, VMCS_BREAK_guest_tr_type);
	host_console_reset();
	options_log(&o);
	assert_string_equal(
		host_console_buf,
		"hapvisor: event=options on_exit=halt loglevel=info hvmem=33554432 "
		"ept=lazy paging=auto guest_timeout_ms=0 cpus=all entry_check=warn vmcs_break=guest_tr_type\n");
	assert_false(parse("entry_check=maybe vmcs_break=everything", &o));
	assert_console_has("hapvisor: error: option entry_check=maybe: expected enforce, warn or off\n");
	assert_console_has("hapvisor: error: option vmcs_break=everything: expected none, guest_cr0_pg, "
			   "guest_tr_type, vpid_zero or host_cs_rpl\n");
	assert_int_equal(o.entry_check, ENTRY_CHECK_ENFORCE);
	assert_int_equal(o.vmcs_break, VMCS_BREAK_NONE);
}

/* screen_events and the test-only fatal_test: parsed, refused when unknown, logged only when not default. */
static void test_options_screen_events_fatal_test(void **state)
{
	struct hv_options o;
	assert_true(parse("on_exit=poweroff", &o));
	assert_false(o.screen_events);
	assert_int_equal(o.fatal_test, FATAL_TEST_NONE);
	host_console_reset();
	options_log(&o);
	assert_string_equal(host_console_buf,
			    "hapvisor: event=options on_exit=poweroff loglevel=info "
			    "hvmem=33554432 ept=lazy paging=auto guest_timeout_ms=0 cpus=all\n");
	assert_true(parse("screen_events=on fatal_test=machine_check", &o));
	assert_true(o.screen_events);
	assert_int_equal(o.fatal_test, FATAL_TEST_MACHINE_CHECK);
	host_console_reset();
	options_log(&o);
	assert_string_equal(host_console_buf,
			    "hapvisor: event=options on_exit=halt loglevel=info hvmem=33554432 "
			    "ept=lazy paging=auto guest_timeout_ms=0 cpus=all screen_events=on "
			    "fatal_test=machine_check\n");
	assert_true(parse("screen_events=off fatal_test=exception", &o));
	assert_false(o.screen_events);
	assert_int_equal(o.fatal_test, FATAL_TEST_EXCEPTION);
	assert_false(parse("screen_events=yes fatal_test=now", &o));
	assert_console_has("hapvisor: error: option screen_events=yes: expected off or on\n");
	assert_console_has(
		"hapvisor: error: option fatal_test=now: expected none, exception or machine_check\n");
	assert_false(o.screen_events);
	assert_int_equal(o.fatal_test, FATAL_TEST_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenize_empty),
		cmocka_unit_test(test_tokenize_words),
		cmocka_unit_test(test_tokenize_quotes),
		cmocka_unit_test(test_tokenize_errors_continue),
		cmocka_unit_test(test_parse_u64),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_choice),
		cmocka_unit_test(test_options_defaults),
		cmocka_unit_test(test_options_good),
		cmocka_unit_test(test_options_hvmem_rounding),
		cmocka_unit_test(test_options_bad_values),
		cmocka_unit_test(test_options_all_errors_reported),
		cmocka_unit_test(test_options_unknown_warns),
		cmocka_unit_test(test_options_cpus),
		cmocka_unit_test(test_options_overlong),
		cmocka_unit_test(test_option_names),
		cmocka_unit_test(test_options_guest_timeout),
		cmocka_unit_test(test_options_entry_check),
		cmocka_unit_test(test_options_screen_events_fatal_test),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
