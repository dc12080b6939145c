/* A checksum of hapvisor's code and read-only data, printed at boot and at the end of the run: a guest
 * that reached hapvisor's memory would show up as a changed checksum (tests assert it does not change). */
#ifndef HV_ARCH_X86_INTEGRITY_H
#define HV_ARCH_X86_INTEGRITY_H

#include "lib/types.h"

/* Print "hapvisor: event=integrity stage=<stage> text_rodata=0x<fnv1a-64> bytes=N [match=0|1]";
 * match compares with the first call's value. Returns false on a mismatch. */
bool integrity_check(const char *stage);

#endif
