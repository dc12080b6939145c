/*
 * arch/x86/tsc.c: which source gives the TSC rate, in which order, and that a reference clock is touched
 * only when every source before it failed (a gated 8254 PIT, an absent PM timer). Also the microseconds
 * to ticks conversion at its extremes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "arch/x86/tsc.h"

/* Fake reference clocks: what each returns, and how often it was asked. */
static uint64_t pit_result, pm_result;
static unsigned pit_calls, pm_calls;

static uint64_t fake_pit(void)
{
	pit_calls++;
	return pit_result;
}

static uint64_t fake_pm(void)
{
	pm_calls++;
	return pm_result;
}

static int reset(void **state)
{
	pit_result = pm_result = 0;
	pit_calls = pm_calls = 0;
	return 0;
}

/* A machine whose CPUID stops at max_leaf, with both reference clocks present. */
static struct tsc_clocks machine(uint32_t max_leaf)
{
	return (struct tsc_clocks){.max_leaf = max_leaf, .pit = fake_pit, .pm_timer = fake_pm};
}

/* TSC ticks a reference reports over TSC_CALIBRATE_MS for a TSC of hz. */
static uint64_t ticks_at(uint64_t hz)
{
	return hz / 1000 * TSC_CALIBRATE_MS;
}

static void test_cpuid15_first(void **state)
{
	/* Skylake-style leaf 0x15: 24 MHz crystal, ratio 292/2 -> 3.504 GHz; leaf 0x16 says 3500 MHz. */
	struct tsc_clocks c = machine(0x16);
	c.leaf15 = (struct cpuid_regs){.eax = 2, .ebx = 292, .ecx = 24000000};
	c.leaf16 = (struct cpuid_regs){.eax = 3500};
	struct tsc_rate r = tsc_calibrate(&c);
	assert_int_equal(r.source, TSC_SOURCE_CPUID15);
	assert_int_equal(r.hz, 3504000000ull);
	assert_int_equal(pit_calls + pm_calls, 0); /* the PIT is never touched when CPUID tells */
}

static void test_cpuid15_without_crystal_falls_to_16(void **state)
{
	/* Client parts before Ice Lake give the ratio but ECX = 0: the base frequency of leaf 0x16 serves. */
	struct tsc_clocks c = machine(0x16);
	c.leaf15 = (struct cpuid_regs){.eax = 2, .ebx = 300, .ecx = 0};
	c.leaf16 = (struct cpuid_regs){.eax = 0x12340DAC}; /* only EAX[15:0] = 3500 counts */
	struct tsc_rate r = tsc_calibrate(&c);
	assert_int_equal(r.source, TSC_SOURCE_CPUID16);
	assert_int_equal(r.hz, 3500000000ull);
	assert_int_equal(pit_calls + pm_calls, 0);
}

static void test_leaves_above_max_are_ignored(void **state)
{
	/* Leaf values left over from a higher leaf must not count when CPUID.0 does not reach them. */
	struct tsc_clocks c = machine(0xD);
	c.leaf15 = (struct cpuid_regs){.eax = 2, .ebx = 292, .ecx = 24000000};
	c.leaf16 = (struct cpuid_regs){.eax = 3500};
	pit_result = ticks_at(2400000000ull);
	struct tsc_rate r = tsc_calibrate(&c);
	assert_int_equal(r.source, TSC_SOURCE_PIT);
	assert_int_equal(r.hz, 2400000000ull);
	assert_int_equal(pit_calls, 1);
	assert_int_equal(pm_calls, 0);
}

static void test_implausible_cpuid_is_skipped(void **state)
{
	/* A ratio that gives 48 GHz, and leaf 0x16 = 0: both skipped; the PIT measures. */
	struct tsc_clocks c = machine(0x16);
	c.leaf15 = (struct cpuid_regs){.eax = 1, .ebx = 2000, .ecx = 24000000};
	pit_result = ticks_at(1800000000ull);
	struct tsc_rate r = tsc_calibrate(&c);
	assert_int_equal(r.source, TSC_SOURCE_PIT);
	assert_int_equal(r.hz, 1800000000ull);
}

static void test_gated_pit_falls_to_pm_timer(void **state)
{
	/* The chipset gates the 8254's clock: its output never rises (the fake returns 0). */
	struct tsc_clocks c = machine(0xB);
	pm_result = ticks_at(2900000000ull);
	struct tsc_rate r = tsc_calibrate(&c);
	assert_int_equal(r.source, TSC_SOURCE_PMTIMER);
	assert_int_equal(r.hz, 2900000000ull);
	assert_int_equal(pit_calls, 1);
	assert_int_equal(pm_calls, 1);
}

static void test_nothing_counts_assumes_the_fastest(void **state)
{
	struct tsc_clocks c = machine(0xB);
	struct tsc_rate r = tsc_calibrate(&c);
	assert_int_equal(r.source, TSC_SOURCE_ASSUMED);
	assert_int_equal(r.hz, TSC_HZ_ASSUMED);
	assert_true(r.hz >= TSC_HZ_MAX); /* every wait is at least as long as asked */
	assert_string_equal(tsc_source_name(r.source), "assumed");
}

static void test_no_pm_timer_in_fadt(void **state)
{
	struct tsc_clocks c = machine(0xB);
	c.pm_timer = NULL; /* the FADT has no PM_TMR_BLK */
	assert_int_equal(tsc_calibrate(&c).source, TSC_SOURCE_ASSUMED);
	assert_int_equal(pm_calls, 0);
}

static void test_garbage_measurement_is_skipped(void **state)
{
	/* A PIT that "finished" at once (1 tick) or a PM timer read as running 100x fast: both implausible.
	 */
	struct tsc_clocks c = machine(0xB);
	pit_result = 1;
	pm_result = ticks_at(TSC_HZ_MAX) * 100;
	assert_int_equal(tsc_calibrate(&c).source, TSC_SOURCE_ASSUMED);
}

static void test_bochs_pit_rate(void **state)
{
	/* Bochs with ips=100000000: its PIT runs in emulated time, 1e6 instructions per 10 ms. */
	struct tsc_clocks c = machine(0xD);
	pit_result = 1000000;
	struct tsc_rate r = tsc_calibrate(&c);
	assert_int_equal(r.source, TSC_SOURCE_PIT);
	assert_int_equal(r.hz, 100000000ull);
}

static void test_ticks_for_us(void **state)
{
	assert_int_equal(tsc_ticks_for_us(3500000000ull, 10000), 35000000ull); /* the INIT wait */
	assert_int_equal(tsc_ticks_for_us(3500000000ull, 200), 700000ull);     /* a SIPI wait */
	assert_int_equal(tsc_ticks_for_us(1000001, 1), 2);		       /* rounded up, never short */
	assert_int_equal(tsc_ticks_for_us(3000000000ull, 0), 0);
	assert_int_equal(tsc_ticks_for_us(0, 1000), 0);
	/* 30 hours at 10 GHz: 1.08e15 ticks, where hz * us would have overflowed 64 bits. */
	assert_int_equal(tsc_ticks_for_us(TSC_HZ_MAX, 108000000000ull), 1080000000000000ull);
	assert_int_equal(tsc_ticks_for_us(TSC_HZ_MAX, UINT64_MAX), UINT64_MAX); /* saturates */
	assert_int_equal(tsc_ticks_for_us(TSC_HZ_MAX, 2500001), 25000010000ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cpuid15_first, reset),
		cmocka_unit_test_setup(test_cpuid15_without_crystal_falls_to_16, reset),
		cmocka_unit_test_setup(test_leaves_above_max_are_ignored, reset),
		cmocka_unit_test_setup(test_implausible_cpuid_is_skipped, reset),
		cmocka_unit_test_setup(test_gated_pit_falls_to_pm_timer, reset),
		cmocka_unit_test_setup(test_nothing_counts_assumes_the_fastest, reset),
		cmocka_unit_test_setup(test_no_pm_timer_in_fadt, reset),
		cmocka_unit_test_setup(test_garbage_measurement_is_skipped, reset),
		cmocka_unit_test_setup(test_bochs_pit_rate, reset),
		cmocka_unit_test(test_ticks_for_us),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
