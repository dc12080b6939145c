/*
 * The frame allocator on a host arena posing as physical memory at FAKE_BASE (so 0 is never a frame):
 * every frame exactly once and zeroed, free and reuse, contiguous runs with alignment, exhaustion, the
 * panics that catch hypervisor bugs, and the statistics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "lib/types.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "tests/unit/host_stubs.h"

#define FAKE_BASE 0x10000000ull
#define GARBAGE 0xa5

static uint8_t *arena;
static uint64_t arena_size;

/* A fresh pool of `size` bytes whose memory starts out as garbage. */
static void pool_at(uint64_t size)
{
	free(arena);
	arena = aligned_alloc(PAGE_SIZE, size);
	assert_non_null(arena);
	arena_size = size;
	memset(arena, GARBAGE, size);
	host_phys_offset = (uintptr_t)arena - FAKE_BASE;
	pmm_init(FAKE_BASE, size);
}

static int teardown(void **state)
{
	free(arena);
	arena = NULL;
	host_panic_armed = 0;
	return 0;
}

static bool frame_is_zero(uint64_t pa, size_t frames)
{
	const uint8_t *p = phys_to_virt(pa);
	for (size_t i = 0; i < frames * PAGE_SIZE; i++)
		if (p[i])
			return false;
	return true;
}

/* Expect fn(arg) to panic with a message containing `want`. */
static void expect_panic(void (*fn)(uint64_t), uint64_t arg, const char *want)
{
	host_panic_armed = 1;
	if (setjmp(host_panic_jmp) == 0) {
		fn(arg);
		host_panic_armed = 0;
		fail_msg("no panic; wanted one saying \"%s\"", want);
	}
	host_panic_armed = 0;
	if (!strstr(host_panic_msg, want))
		fail_msg("panic \"%s\" does not say \"%s\"", host_panic_msg, want);
}

static void test_every_frame_once(void **state)
{
	/* 100 frames: not a multiple of 64, so the bitmap's last word is partly past the pool. */
	pool_at(100 * PAGE_SIZE);
	struct pmm_stats st;
	pmm_get_stats(&st);
	assert_int_equal(st.total, 99); /* one frame holds the bitmap */
	assert_int_equal(st.free, 99);
	assert_int_equal(st.peak_used, 0);

	bool seen[100] = {false};
	for (int k = 0; k < 99; k++) {
		uint64_t pa = pmm_alloc_frame();
		assert_true(pa >= FAKE_BASE + PAGE_SIZE && pa < FAKE_BASE + 100 * PAGE_SIZE);
		assert_true(IS_ALIGNED(pa, PAGE_SIZE));
		assert_true(pmm_owns(pa));
		size_t i = (size_t)((pa - FAKE_BASE) / PAGE_SIZE);
		assert_false(seen[i]);
		seen[i] = true;
		assert_true(frame_is_zero(pa, 1));
		memset(phys_to_virt(pa), 0x77, PAGE_SIZE); /* a frame handed out twice would show this */
	}
	assert_int_equal(pmm_alloc_frame(), 0);
	assert_int_equal(pmm_alloc_contig(1, 0), 0);
	pmm_get_stats(&st);
	assert_int_equal(st.free, 0);
	assert_int_equal(st.peak_used, 99);
}

static void test_free_and_reuse(void **state)
{
	pool_at(MiB(1));
	uint64_t a = pmm_alloc_frame(), b = pmm_alloc_frame(), c = pmm_alloc_frame();
	assert_int_equal(a, FAKE_BASE + PAGE_SIZE); /* lowest first */
	assert_int_equal(b, a + PAGE_SIZE);
	assert_int_equal(c, b + PAGE_SIZE);
	memset(phys_to_virt(b), 0x55, PAGE_SIZE);
	pmm_free_frame(b);
	struct pmm_stats st;
	pmm_get_stats(&st);
	assert_int_equal(st.total - st.free, 2);
	assert_int_equal(st.peak_used, 3);
	uint64_t again = pmm_alloc_frame();
	assert_int_equal(again, b); /* the hint goes back to a freed lower frame */
	assert_true(frame_is_zero(again, 1));

	/* Free everything, then the whole pool can be had again. */
	pmm_free_frame(a);
	pmm_free_frame(again);
	pmm_free_frame(c);
	pmm_get_stats(&st);
	assert_int_equal(st.free, st.total);
	assert_int_equal(st.peak_used, 3);
	uint64_t n = 0;
	while (pmm_alloc_frame())
		n++;
	assert_int_equal(n, st.total);
	assert_false(pmm_owns(FAKE_BASE - PAGE_SIZE));
	assert_false(pmm_owns(FAKE_BASE + MiB(1)));
	assert_true(pmm_owns(FAKE_BASE));
	assert_true(pmm_owns(FAKE_BASE + MiB(1) - 1));
}

static void test_contig(void **state)
{
	pool_at(MiB(4)); /* 1024 frames, frame 0 is the bitmap */
	uint64_t a = pmm_alloc_contig(4, KiB(64));
	assert_int_equal(a, FAKE_BASE + KiB(64)); /* frame 0 is taken, so the first 64 KiB boundary after */
	assert_true(frame_is_zero(a, 4));
	uint64_t one = pmm_alloc_contig(1, 0); /* alignment below a page means a page */
	assert_int_equal(one, FAKE_BASE + PAGE_SIZE);
	uint64_t big = pmm_alloc_contig(512, MiB(2));
	assert_int_equal(big, FAKE_BASE + MiB(2));
	assert_true(frame_is_zero(big, 512));
	assert_int_equal(pmm_alloc_contig(512, MiB(2)), 0); /* the other 2 MiB boundary holds the bitmap */
	assert_int_equal(pmm_alloc_contig(600, 0), 0);	    /* more than is free */

	/* First fit: used now are frames 0-1, 16-19 and 512-1023. */
	uint64_t r3 = pmm_alloc_contig(3, 0);
	assert_int_equal(r3, FAKE_BASE + 2 * PAGE_SIZE);
	uint64_t r14 = pmm_alloc_contig(14, 0); /* 5-15 is too short: it lands after 16-19 */
	assert_int_equal(r14, FAKE_BASE + 20 * PAGE_SIZE);
	uint64_t r11 = pmm_alloc_contig(11, 0);
	assert_int_equal(r11, FAKE_BASE + 5 * PAGE_SIZE);

	/* Freed runs are reused. */
	pmm_free_contig(big, 512);
	memset(phys_to_virt(big), 0x99, MiB(2));
	assert_int_equal(pmm_alloc_contig(512, MiB(2)), big);
	assert_true(frame_is_zero(big, 512));
	assert_int_equal(pmm_alloc_contig(2, GiB(1)), 0); /* no 1 GiB boundary inside the pool */

	struct pmm_stats st;
	pmm_get_stats(&st);
	assert_int_equal(st.total - st.free, 4 + 1 + 512 + 3 + 14 + 11);
	assert_int_equal(st.peak_used, 4 + 1 + 512 + 3 + 14 + 11);
}

static void test_large_bitmap(void **state)
{
	/* 33792 frames need a bitmap of 4224 bytes: two frames. */
	pool_at(MiB(132));
	struct pmm_stats st;
	pmm_get_stats(&st);
	assert_int_equal(st.total, 33792 - 2);
	assert_int_equal(pmm_alloc_frame(), FAKE_BASE + 2 * PAGE_SIZE);
	uint64_t n = 1, last = 0, pa;
	while ((pa = pmm_alloc_frame()) != 0) {
		last = pa;
		n++;
	}
	assert_int_equal(n, st.total);
	assert_int_equal(last, FAKE_BASE + MiB(132) - PAGE_SIZE);
	pmm_free_frame(FAKE_BASE + MiB(100));
	assert_int_equal(pmm_alloc_frame(), FAKE_BASE + MiB(100));
	assert_int_equal(pmm_alloc_frame(), 0);
}

/* Random allocations and frees against a model of who holds which frame. */
static void test_random_alloc_free(void **state)
{
	enum { FRAMES = 300 };
	pool_at(FRAMES * PAGE_SIZE);
	static bool held[FRAMES];
	memset(held, 0, sizeof(held));
	uint64_t rng = 0x2545f4914f6cdd1dull, nheld = 0, peak = 0;
	for (int op = 0; op < 20000; op++) {
		rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
		uint64_t k = rng % FRAMES;
		if (rng % 5 < 2 && k > 0 && held[k]) {
			pmm_free_frame(FAKE_BASE + k * PAGE_SIZE);
			held[k] = false;
			nheld--;
			continue;
		}
		size_t n = rng % 7 == 0 ? (size_t)(rng >> 32) % 9 + 1 : 1;
		uint64_t align = PAGE_SIZE << ((rng >> 40) % 4);
		bool contig = n > 1 || rng % 2;
		uint64_t pa = contig ? pmm_alloc_contig(n, align) : pmm_alloc_frame();
		if (!pa)
			continue;
		assert_true(!contig || pa % align == 0);
		for (size_t j = 0; j < n; j++) {
			uint64_t f = (pa - FAKE_BASE) / PAGE_SIZE + j;
			assert_true(f > 0 && f < FRAMES);
			assert_false(held[f]);
			held[f] = true;
			*(uint64_t *)phys_to_virt(FAKE_BASE + f * PAGE_SIZE) = 0xdead;
		}
		nheld += n;
		peak = nheld > peak ? nheld : peak;
	}
	struct pmm_stats st;
	pmm_get_stats(&st);
	assert_int_equal(st.total - st.free, nheld);
	assert_int_equal(st.peak_used, peak);
}

static void free_one(uint64_t pa)
{
	pmm_free_frame(pa);
}

static void alloc_or_panic(uint64_t unused)
{
	pmm_alloc_frame_or_panic("the EPT tables");
}

static void init_bad(uint64_t which)
{
	if (which == 0)
		pmm_init(FAKE_BASE + 0x800, MiB(1));
	else if (which == 1)
		pmm_init(0, MiB(1));
	else
		pmm_init(FAKE_BASE, PAGE_SIZE); /* only room for the bitmap */
}

static void test_bugs_panic(void **state)
{
	pool_at(MiB(1));
	uint64_t a = pmm_alloc_frame();
	pmm_free_frame(a);
	expect_panic(free_one, a, "not allocated (double free?)");
	expect_panic(free_one, FAKE_BASE + 77 * PAGE_SIZE, "not allocated"); /* never handed out */
	expect_panic(free_one, FAKE_BASE + MiB(1), "not a frame of hapvisor's pool");
	expect_panic(free_one, FAKE_BASE - PAGE_SIZE, "not a frame of hapvisor's pool");
	expect_panic(free_one, a + 8, "not a frame of hapvisor's pool");
	expect_panic(free_one, FAKE_BASE, "bitmap");
	expect_panic(init_bad, 0, "4 KiB aligned");
	expect_panic(init_bad, 1, "not at 0");
	expect_panic(init_bad, 2, "no room");
}

static void test_exhaustion_message(void **state)
{
	pool_at(MiB(4));
	assert_int_not_equal(pmm_alloc_frame_or_panic("a VMCS"), 0);
	while (pmm_alloc_frame())
		;
	expect_panic(alloc_or_panic, 0,
		     "hapvisor's memory pool (hvmem=4M) is exhausted while allocating the "
		     "EPT tables; boot with a larger hvmem=");
	pool_at(100 * PAGE_SIZE);
	while (pmm_alloc_frame())
		;
	expect_panic(alloc_or_panic, 0, "(hvmem=400K)");
}

static void test_print(void **state)
{
	pool_at(MiB(4));
	pmm_alloc_frame();
	pmm_free_frame(pmm_alloc_frame());
	host_console_reset();
	pmm_print();
	assert_string_equal(host_console_buf, "hapvisor: event=pmm base=0x10000000 size=4194304 "
					      "frames_total=1023 frames_free=1022 frames_peak_used=2 "
					      "bitmap_frames=1\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_frame_once, teardown),
		cmocka_unit_test_teardown(test_free_and_reuse, teardown),
		cmocka_unit_test_teardown(test_contig, teardown),
		cmocka_unit_test_teardown(test_large_bitmap, teardown),
		cmocka_unit_test_teardown(test_random_alloc_free, teardown),
		cmocka_unit_test_teardown(test_bugs_panic, teardown),
		cmocka_unit_test_teardown(test_exhaustion_message, teardown),
		cmocka_unit_test_teardown(test_print, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
