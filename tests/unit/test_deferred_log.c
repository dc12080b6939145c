/*
 * lib/deferred_log.c: events recorded on a path with a time constraint and printed later (the INIT and SIPI
 * exits, vmx/exit_misc.c). Order, the lines themselves, a full ring (counted, reported once), index
 * wrap-around, one printer at a time, and a producer thread against a printer thread.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "lib/deferred_log.h"
#include "lib/log.h"
#include "tests/unit/host_stubs.h"

static void print_pair(const uint64_t a[DEFERRED_EVENT_ARGS])
{
	log_event("test_event cpu=%u seq=%llu tsc=%llu", (unsigned)a[0], (unsigned long long)a[1],
		  (unsigned long long)a[3]);
}

static struct deferred_log ring;

static int setup(void **state)
{
	(void)state;
	memset(&ring, 0, sizeof(ring));
	host_console_reset();
	return 0;
}

/* Nothing is printed when recorded; print() writes the lines in order, then nothing is pending. */
static void test_order_and_lines(void **state)
{
	(void)state;
	assert_false(deferred_log_pending(&ring));
	deferred_log_put(&ring, print_pair, 1, 10, 0, 100);
	deferred_log_put(&ring, print_pair, 1, 11, 0, 200);
	deferred_log_put(&ring, print_pair, 2, 12, 0, 300);
	assert_int_equal(host_console_len, 0);
	assert_true(deferred_log_pending(&ring));
	deferred_log_print(&ring);
	assert_string_equal(host_console_buf, "hapvisor: event=test_event cpu=1 seq=10 tsc=100\n"
					      "hapvisor: event=test_event cpu=1 seq=11 tsc=200\n"
					      "hapvisor: event=test_event cpu=2 seq=12 tsc=300\n");
	assert_false(deferred_log_pending(&ring));
	host_console_reset();
	deferred_log_print(&ring); /* an empty ring prints nothing */
	assert_int_equal(host_console_len, 0);
}

/* A full ring keeps the oldest events and counts the rest; the count is reported once, after them. */
static void test_full_ring_counts_lost(void **state)
{
	(void)state;
	for (uint64_t i = 0; i < DEFERRED_LOG_SLOTS + 5; i++)
		deferred_log_put(&ring, print_pair, 0, i, 0, 0);
	assert_int_equal(ring.lost, 5);
	deferred_log_print(&ring);
	char want[64];
	snprintf(want, sizeof(want), "seq=%u tsc=0\nhapvisor: event=deferred_lost count=5\n",
		 DEFERRED_LOG_SLOTS - 1);
	assert_non_null(strstr(host_console_buf, "hapvisor: event=test_event cpu=0 seq=0 tsc=0\n"));
	size_t n = strlen(want);
	assert_true(host_console_len >= n);
	assert_memory_equal(host_console_buf + host_console_len - n, want, n);
	host_console_reset();
	deferred_log_put(&ring, print_pair, 0, 99, 0, 0);
	deferred_log_print(&ring); /* room again; the loss is not reported twice */
	assert_string_equal(host_console_buf, "hapvisor: event=test_event cpu=0 seq=99 tsc=0\n");
}

/* The free-running 32-bit indexes wrap without losing or repeating an event. */
static void test_index_wrap(void **state)
{
	(void)state;
	ring.head = ring.tail = UINT32_MAX - 3;
	for (uint64_t round = 0; round < 4; round++) {
		host_console_reset();
		for (uint64_t i = 0; i < 3; i++)
			deferred_log_put(&ring, print_pair, 0, round * 3 + i, 0, 0);
		deferred_log_print(&ring);
		char want[256];
		snprintf(want, sizeof(want),
			 "hapvisor: event=test_event cpu=0 seq=%llu tsc=0\nhapvisor: event=test_event cpu=0 "
			 "seq=%llu "
			 "tsc=0\nhapvisor: event=test_event cpu=0 seq=%llu tsc=0\n",
			 (unsigned long long)(round * 3), (unsigned long long)(round * 3 + 1),
			 (unsigned long long)(round * 3 + 2));
		assert_string_equal(host_console_buf, want);
	}
	assert_int_equal(ring.lost, 0);
}

/* While another CPU prints the ring, print() returns at once and consumes nothing. */
static void test_one_printer(void **state)
{
	(void)state;
	deferred_log_put(&ring, print_pair, 0, 1, 0, 0);
	ring.printing = 1;
	deferred_log_print(&ring);
	assert_int_equal(host_console_len, 0);
	assert_true(deferred_log_pending(&ring));
	ring.printing = 0;
	deferred_log_print(&ring);
	assert_string_equal(host_console_buf, "hapvisor: event=test_event cpu=0 seq=1 tsc=0\n");
}

/* One thread records, another prints, as the owner CPU and the CPU that ends the run may. */
#define THREAD_EVENTS 200000u
static uint64_t seen_next;  /* the seq the printer expects next (events are never reordered) */
static uint64_t seen_count; /* events printed */
static int seen_out_of_order;

static void print_seq(const uint64_t a[DEFERRED_EVENT_ARGS])
{
	if (a[0] < seen_next || a[1] != a[0] * 3)
		seen_out_of_order = 1;
	seen_next = a[0] + 1;
	seen_count++;
}

static volatile int producer_done;

static void *producer(void *arg)
{
	(void)arg;
	for (uint64_t i = 0; i < THREAD_EVENTS; i++)
		deferred_log_put(&ring, print_seq, i, i * 3, 0, 0);
	__atomic_store_n(&producer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_producer_and_printer_threads(void **state)
{
	(void)state;
	pthread_t t;
	seen_next = seen_count = 0;
	seen_out_of_order = 0;
	producer_done = 0;
	assert_int_equal(pthread_create(&t, NULL, producer, NULL), 0);
	while (!__atomic_load_n(&producer_done, __ATOMIC_ACQUIRE))
		deferred_log_print(&ring);
	assert_int_equal(pthread_join(t, NULL), 0);
	deferred_log_print(&ring);
	assert_false(seen_out_of_order);
	assert_int_equal(seen_count + ring.lost, THREAD_EVENTS);
	assert_false(deferred_log_pending(&ring));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_order_and_lines, setup),
		cmocka_unit_test_setup(test_full_ring_counts_lost, setup),
		cmocka_unit_test_setup(test_index_wrap, setup),
		cmocka_unit_test_setup(test_one_printer, setup),
		cmocka_unit_test_setup(test_producer_and_printer_threads, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
