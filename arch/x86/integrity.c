/* Checksum of hapvisor's text and rodata (see integrity.h). FNV-1a, 64-bit. */
#include "arch/x86/integrity.h"
#include "arch/x86/layout.h"
#include "lib/log.h"

#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

/* FNV-1a over 8-byte words (the range is page aligned): one step per word keeps the boot path short. */
static uint64_t fnv1a(const uint64_t *p, const uint64_t *end)
{
	uint64_t h = FNV64_OFFSET;
	for (; p < end; p++)
		h = (h ^ *p) * FNV64_PRIME;
	return h;
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
		log_error("hapvisor's code or read-only data changed during the run (checksum %#llx, was "
			  "%#llx)",
			  (unsigned long long)h, (unsigned long long)first);
	return h == first;
}
