/*
 * Shared helpers for the libFuzzer harnesses in tests/fuzz/ (built by `make fuzz`, see docs/security.md).
 * Each harness feeds one parser of external input with the fuzzer's bytes. A panic() on such input, an
 * ASan/UBSan report, or a broken parser guarantee (FUZZ_CHECK) is a crash: libFuzzer saves the input.
 */
#ifndef HV_TESTS_FUZZ_FUZZ_COMMON_H
#define HV_TESTS_FUZZ_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/host_stubs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A parser broke a promise its header makes: report it and let libFuzzer record the input. */
#define FUZZ_CHECK(cond)                                                                                     \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "fuzz: %s:%d: guarantee broken: %s\n", __FILE__, __LINE__, #cond);   \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

/* Start of an input: forget the previous input's console output (keeps log paths exercised). */
static inline void fuzz_begin(void)
{
	host_console_reset();
	host_panic_armed = 0;
}

/* An exact-size heap copy (so ASan flags a read one byte past the input), plus `extra` zero bytes. */
static inline uint8_t *fuzz_dup(const uint8_t *data, size_t size, size_t extra)
{
	uint8_t *p = malloc(size + extra ? size + extra : 1);
	if (!p)
		abort();
	if (size)
		memcpy(p, data, size);
	memset(p + size, 0, extra);
	return p;
}

/* Whether [p, p + n) lies inside [base, base + size). */
static inline int fuzz_inside(const void *p, size_t n, const void *base, size_t size)
{
	uintptr_t a = (uintptr_t)p, b = (uintptr_t)base;
	return a >= b && a - b <= size && n <= size - (a - b);
}

static inline uint64_t fuzz_le(const uint8_t *p, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

#endif
