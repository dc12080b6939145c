/*
 * testkernel: fresh pages. linker.ld reserves a few pages at the end of the image that nothing reads or
 * writes (entry.asm does not zero them, the memory checks spare the image) until a check takes one. Under
 * hapvisor's ept=4k such a page is not mapped in the EPT until that first access, so an event whose
 * delivery writes its frame there makes an EPT violation during event delivery (SDM Vol. 3C 28.2.4); with
 * the other EPT policies the page is mapped already, and the same check only sees the frames.
 */
#ifndef TK_FRESH_H
#define TK_FRESH_H

#include "cpu.h"

/* fresh_page: the next untouched page (4 KiB aligned), or 0 when they are used up. */
uint64_t fresh_page(void);

#endif
