/* testkernel: the checks. Each adds details to c and fails it where the machine misbehaves. */
#ifndef TK_CHECKS_H
#define TK_CHECKS_H

#include "check.h"
#include "main.h"

/* checks_boot.c: the loader protocol and memory */
void check_boot_magic(struct check *c, struct tk_context *t);
void check_memory_map(struct check *c, struct tk_context *t);
void check_memory_rw(struct check *c, struct tk_context *t);

/* checks_cpu.c: what the CPU looks like to the guest */
void check_fault_probe(struct check *c, struct tk_context *t);
void check_cpuid_hypervisor_bit(struct check *c, struct tk_context *t);
void check_cpuid_signature(struct check *c, struct tk_context *t);
void check_cpuid_no_vmx(struct check *c, struct tk_context *t);
void check_vmx_insns_ud(struct check *c, struct tk_context *t);
void check_cr4_vmxe(struct check *c, struct tk_context *t);
void check_vmx_msrs_gp(struct check *c, struct tk_context *t);
void check_feature_control(struct check *c, struct tk_context *t);
void check_serial(struct check *c, struct tk_context *t);

/* checks_hypercall.c: hapvisor's hypercall ABI */
void check_hypercall_version(struct check *c, struct tk_context *t);
void check_hypercall_regs_preserved(struct check *c, struct tk_context *t);
void check_hypercall_console(struct check *c, struct tk_context *t);
void check_hypercall_exit_stats(struct check *c, struct tk_context *t);

#endif
