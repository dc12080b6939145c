/* testkernel: fresh pages (see fresh.h). */
#include "fresh.h"

extern char __fresh_start[], __fresh_end[]; /* linker.ld */

uint64_t fresh_page(void)
{
	static uint64_t next;
	if (!next)
		next = (uint64_t)__fresh_start;
	if (next >= (uint64_t)__fresh_end)
		return 0;
	uint64_t page = next;
	next += PAGE_SIZE;
	return page;
}
