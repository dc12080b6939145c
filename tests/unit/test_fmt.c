/*
 * fmt_snprintf against the host C library's snprintf: the same format and arguments must give the same
 * text and the same return value, at every buffer size from 0 to one past the full length.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "lib/fmt.h"
#include "tests/unit/host_stubs.h"

#define OUT_MAX 1024
#define CANARY 0x5a

/* Compare one format at every buffer size; fails the test with the format and both outputs on a mismatch. */
static void vcheck(const char *fmt, va_list ap)
{
	char want[OUT_MAX], got[OUT_MAX + 1];
	va_list a;
	va_copy(a, ap);
	int want_len = vsnprintf(want, sizeof(want), fmt, a);
	va_end(a);
	assert_true(want_len >= 0 && want_len < OUT_MAX - 1);

	for (size_t size = 0; size <= (size_t)want_len + 1; size++) {
		memset(got, CANARY, sizeof(got));
		va_copy(a, ap);
		int got_len = fmt_vsnprintf(got, size, fmt, a);
		va_end(a);
		if (got_len != want_len || (size > 0 && strncmp(got, want, size - 1) != 0) ||
		    (size > 0 && got[MIN(size - 1, (size_t)want_len)] != '\0')) {
			print_error("format \"%s\" size %zu: want \"%s\" (%d), got \"%.*s\" (%d)\n", fmt,
				    size, want, want_len, (int)(size ? size - 1 : 0), got, got_len);
			fail();
		}
		if ((unsigned char)got[size] != CANARY) {
			print_error("format \"%s\" size %zu: wrote past the buffer\n", fmt, size);
			fail();
		}
	}
}

static void check(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void check(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcheck(fmt, ap);
	va_end(ap);
}

/* For flag combinations C defines but compilers warn about (a flag that the conversion ignores). */
static void check_unchecked(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vcheck(fmt, ap);
	va_end(ap);
}

static void test_plain_text(void **state)
{
	check("%s", "");
	check("hello, world");
	check("100%%");
	check("%%d%%");
	check("a%cb", 'x');
}

static void test_signed(void **state)
{
	static const int values[] = {0, 1, -1, 7, -42, 12345, -99999, INT_MAX, INT_MIN};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		int v = values[i];
		check("%d", v);
		check("%i", v);
		check("%5d|%-5d|%05d", v, v, v);
		check("%+d|% d|%+5d|% 5d|%+05d|% 05d", v, v, v, v, v, v);
		check("%.3d|%8.3d|%-8.3d|%.0d|%+.4d", v, v, v, v, v);
		check_unchecked("%08.3d", v);
		check("%12i|%-12i|%012i", v, v, v);
		check("%*d|%-*d|%.*d|%*.*d", 7, v, 7, v, 4, v, 9, 5, v);
	}
}

static void test_unsigned(void **state)
{
	static const unsigned values[] = {0,  1,   7,	8,	     9,		  15,
					  16, 255, 256, 0x7fffffffu, 0x80000000u, UINT_MAX};
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		unsigned v = values[i];
		check("%u|%x|%X|%o", v, v, v, v);
		check("%#x|%#X|%#o", v, v, v);
		check("%10u|%-10u|%010u", v, v, v);
		check("%10x|%-10x|%010x|%#010x|%#-10x|%#10X", v, v, v, v, v, v);
		check("%.5x|%#.5x|%#10.5x|%.0x|%#.0x", v, v, v, v, v);
		check("%.5o|%#.5o|%#.0o|%#o|%#08o|%.0o", v, v, v, v, v, v);
		check("%.0u|%5.0u|%-5.0u", v, v, v);
	}
	/* '+' and ' ' apply to signed conversions only. */
	check_unchecked("%+u|% u|%+x|% x", 5u, 5u, 5u, 5u);
	/* '0' is ignored with '-' and when a precision is given. */
	check_unchecked("%-05d|%-08x|%08.3x", 42, 42u, 42u);
}

static void test_length_modifiers(void **state)
{
	check("%hhd|%hhd|%hhu|%hhx", (signed char)127, (signed char)-128, (unsigned char)255,
	      (unsigned char)0x7f);
	check("%hd|%hd|%hu|%hx", (short)32767, (short)-32768, (unsigned short)65535, (unsigned short)0xbeef);
	/* An int argument out of range is converted to the short type first (C11 7.21.6.1p7). */
	check_unchecked("%hhd|%hhd|%hhd|%hhu|%hhx", 127, 128, -129, 300, 0x1ff);
	check_unchecked("%hd|%hd|%hu|%hx|%ho", 32767, 70000, -1, 0x12345, 0x12345);
	check("%ld|%lu|%lx|%ld", LONG_MAX, ULONG_MAX, ULONG_MAX, LONG_MIN);
	check("%lld|%llu|%llx|%llX|%llo", LLONG_MIN, ULLONG_MAX, ULLONG_MAX, 0xdeadbeefcafeULL, ULLONG_MAX);
	check("%lld|%+lld|%25lld|%-25lld|%025lld", (long long)INT64_MIN, (long long)INT64_MAX,
	      (long long)INT64_MIN, (long long)INT64_MIN, (long long)INT64_MIN);
	check("%zu|%zx|%zu", SIZE_MAX, (size_t)0x1000, (size_t)0);
	check("%td|%td|%jd|%ju", (ptrdiff_t)-5, PTRDIFF_MAX, INTMAX_MIN, UINTMAX_MAX);
	check("%lli|%+li|% hi", -1LL, 3L, (short)-3);
}

static void test_chars_and_strings(void **state)
{
	check("%c|%3c|%-3c|%c", 'a', 'b', 'c', '~');
	check("%s|%10s|%-10s|%.3s|%10.3s|%-10.3s", "abcdef", "abcdef", "abcdef", "abcdef", "abcdef",
	      "abcdef");
	check("%s|%5s|%.0s|%.10s", "", "", "abc", "abc");
	check("%*s|%-*s|%*s|%.*s|%.*s", 6, "ab", 6, "ab", -6, "ab", 1, "ab", -1, "ab");
	check("[%s] [%s]", "one", "two");
}

static void test_pointers(void **state)
{
	int x;
	void *ptrs[] = {&x, (void *)(uintptr_t)0x1000, (void *)(uintptr_t)UINTPTR_MAX, (void *)(uintptr_t)1};
	for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++)
		check("%p|%20p|%-20p", ptrs[i], ptrs[i], ptrs[i]);
}

static void test_star_arguments(void **state)
{
	check("%*d", 0, 5);
	check("%*d", -8, 5);
	check("%.*d", -3, 5); /* a negative precision is taken as absent */
	check("%0*d", 6, -5);
	check("%-*.*s|", 8, 2, "xyz");
	check("%*.*x", 12, 10, 0xabcu);
}

static void test_size_zero_and_null(void **state)
{
	assert_int_equal(fmt_snprintf(NULL, 0, "%d-%s", 1234, "abc"), 8);
	char c = CANARY;
	assert_int_equal(fmt_snprintf(&c, 0, "xyz"), 3);
	assert_int_equal((unsigned char)c, CANARY);
	char one[1] = {CANARY};
	assert_int_equal(fmt_snprintf(one, 1, "xyz"), 3);
	assert_int_equal(one[0], '\0');
	char buf[5];
	assert_int_equal(fmt_snprintf(buf, sizeof(buf), "%llu", 12345678901ULL), 11);
	assert_string_equal(buf, "1234");
}

static void test_long_output(void **state)
{
	/* Longer than any internal digit buffer: widths and precisions of hundreds of characters. */
	check("%300d|%-300u", -1, 1u);
	check("%.200d", 42);
	check("%#.150llx", 0xffffffffffffffffULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text),	  cmocka_unit_test(test_signed),
		cmocka_unit_test(test_unsigned),	  cmocka_unit_test(test_length_modifiers),
		cmocka_unit_test(test_chars_and_strings), cmocka_unit_test(test_pointers),
		cmocka_unit_test(test_star_arguments),	  cmocka_unit_test(test_size_zero_and_null),
		cmocka_unit_test(test_long_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
