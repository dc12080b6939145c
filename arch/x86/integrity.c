/* Checksum of hapvisor's text and rodata (see integrity.h). FNV-1a, 64-bit, over words in four lanes. */
#include "arch/x86/integrity.h"
#include "arch/x86/layout.h"
#include "lib/log.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

#define FNV_LANES 4 /* words hashed side by side: the range is page aligned, so a multiple of 4 words */

/*
 * FNV-1a over 8-byte words in FNV_LANES interleaved lanes (word i goes to lane i % 4), the lanes folded
 * together at the end: one XOR and one multiply per word, the loop's own cost shared by four words, which
 * keeps the boot path short. Any change to a word changes its lane and so the result.
 */
static uint64_t fnv1a(const uint64_t *p, const uint64_t *end)
{
	uint64_t h0 = FNV64_OFFSET, h1 = FNV64_OFFSET + 1, h2 = FNV64_OFFSET + 2, h3 = FNV64_OFFSET + 3;
	for (; p < end; p += FNV_LANES) {
		h0 = (h0 ^ p[0]) * FNV64_PRIME;
		h1 = (h1 ^ p[1]) * FNV64_PRIME;
		h2 = (h2 ^ p[2]) * FNV64_PRIME;
		h3 = (h3 ^ p[3]) * FNV64_PRIME;
	}
	return (((((FNV64_OFFSET ^ h0) * FNV64_PRIME ^ h1) * FNV64_PRIME ^ h2) * FNV64_PRIME) ^ h3) *
	       FNV64_PRIME;
}

bool integrity_check(const char *stage)
{
	static uint64_t first;
	static bool have_first;
	const uint64_t *start = (const uint64_t *)(const void *)__text_start;
	const uint64_t *end = (const uint64_t *)(const void *)__rodata_end;
	uint64_t h = fnv1a(start, end);
	if (!have_first) {
		first = h;
		have_first = true;
		log_event("integrity stage=%s text_rodata=%#llx bytes=%llu", stage, (unsigned long long)h,
			  (unsigned long long)((uintptr_t)end - (uintptr_t)start));
		return true;
	}
	log_event("integrity stage=%s text_rodata=%#llx bytes=%llu match=%d", stage, (unsigned long long)h,
		  (unsigned long long)((uintptr_t)end - (uintptr_t)start), h == first);
	if (h != first)
		log_error(
			"hapvisor's code or read-only data changed during the run (checksum %#llx, was %#llx)",
			(unsigned long long)h, (unsigned long long)first);
	return h == first;
}
