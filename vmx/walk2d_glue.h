/* The 2D walk report for the running guest: its paging state from the VMCS, its tables through the EPT. */
#ifndef HV_VMX_WALK2D_GLUE_H
#define HV_VMX_WALK2D_GLUE_H

#include "guest/hypercall_abi.h"
#include "vmx/vcpu.h"

/*
 * Print the 2D walk of guest-linear gla for an access hc_access (HC_ACCESS_*) in the current guest state,
 * and fill *out when out is not NULL. Returns false (printing nothing) for an invalid hc_access.
 */
bool walk2d_report_guest(const struct vcpu *v, uint64_t gla, unsigned hc_access, struct hc_walk *out);

#endif
