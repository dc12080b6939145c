/*
 * Dirty tracking of one guest-physical range: which 4 KiB pages the guest wrote since the last read.
 * With PML (page-modification logging, SDM Vol. 3C 29.3.6) where the CPU has it and EPT A/D flags are on;
 * otherwise by write-protecting the range in the EPT and logging each first write's EPT violation.
 */
#ifndef HV_VMX_DIRTY_H
#define HV_VMX_DIRTY_H

#include "lib/types.h"
#include "vmx/vcpu.h"

/* Start tracking [gpa, gpa + len): 0, or HC_EINVAL (unaligned, empty, too long) / HC_EFAULT (not RAM) /
 * HC_EBUSY (more than one vCPU runs). Each of these takes the EPT lock; dirty_write_fault needs it held. */
int64_t dirty_start(uint64_t gpa, uint64_t len);
/* Copy the dirty bitmap (bit n = page n) into bitmap (len bytes, the bytes past the range zeroed), clear
 * it and re-arm tracking; nothing is written on an error.
 * Returns the number of dirty pages, or HC_EINVAL when len is too small / nothing is tracked. */
int64_t dirty_read(uint8_t *bitmap, uint64_t len);
int64_t dirty_stop(void);
/* End tracking from another vCPU's exit (a second vCPU starts): write access back. Prints nothing (its
 * caller, the SIPI exit, has a time constraint); true when tracking was active, so the caller reports the
 * stop. */
bool dirty_abandon(void);
/* An EPT write violation at gpa: true if it was a tracked page (logged and made writable). */
bool dirty_write_fault(uint64_t gpa);
/* exit_pml_full (vmx/exit.h) drains a full PML buffer. */
/* "pml" or "write-protect" (the method the CPU allows). */
const char *dirty_method(void);

#endif
