/* testkernel: the checks. Each adds details to c and fails it where the machine misbehaves. */
#ifndef TK_CHECKS_H
#define TK_CHECKS_H

#include "check.h"
#include "main.h"

#define FOUR_GIB (4 * GIB) /* entry.asm maps this much; memory above it is not tested */
#define MEMORY_SPARED_MAX (BOOT_MAX_IN_USE + 2)

/* checks_boot.c: the loader protocol and memory */
void check_boot_magic(struct check *c, struct tk_context *t);
void check_memory_map(struct check *c, struct tk_context *t);
void check_memory_rw(struct check *c, struct tk_context *t);
void check_low_memory(struct check *c, struct tk_context *t);

/* checks_acpi.c: the processors the ACPI MADT offers the guest */
void check_acpi_madt(struct check *c, struct tk_context *t);

/*
 * find_hv_region: the range of b's memory map taken to be hapvisor's region (the largest `reserved` range
 * in [1 MiB, 4 GiB) that borders available RAM) into *out; false when there is none.
 */
bool find_hv_region(const struct boot_info *b, struct mem_range *out);

/*
 * memory_spared_ranges: what the memory checks never write, into out: page 0, this kernel's image (its
 * stack, page tables and buffers included) and what the loader handed over. Returns the count.
 */
size_t memory_spared_ranges(const struct boot_info *b, struct mem_range out[MEMORY_SPARED_MAX]);

/* ranges_overlap: whether [base, end) shares a byte with one of list[0..count). */
bool ranges_overlap(const struct mem_range *list, size_t count, uint64_t base, uint64_t end);

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

/* tk_shadow_paging: hapvisor says (CPUID 0x40000001 ECX) that it runs this guest under shadow paging. */
bool tk_shadow_paging(void);

/* checks_hypercall.c: hapvisor's hypercall ABI */
void check_hypercall_version(struct check *c, struct tk_context *t);
void check_hypercall_regs_preserved(struct check *c, struct tk_context *t);
void check_hypercall_console(struct check *c, struct tk_context *t);
void check_hypercall_exit_stats(struct check *c, struct tk_context *t);

/* checks_ept.c: hapvisor's EPT as the guest sees it: statistics, dirty tracking, the 2D walk */
void check_ept_stats(struct check *c, struct tk_context *t);
void check_ept_touch(struct check *c, struct tk_context *t);
void check_dirty_tracking(struct check *c, struct tk_context *t);
void check_walk(struct check *c, struct tk_context *t);

/* checks_paging.c: paging as the guest sees it (EPT or shadow paging underneath) */
void check_paging_remap(struct check *c, struct tk_context *t);
void check_paging_cr3_switch(struct check *c, struct tk_context *t);
void check_paging_faults(struct check *c, struct tk_context *t);
void check_paging_accessed_dirty(struct check *c, struct tk_context *t);
void check_paging_write_protect(struct check *c, struct tk_context *t);
void check_paging_large_pages(struct check *c, struct tk_context *t);
void check_paging_table_writes(struct check *c, struct tk_context *t);

/* checks_events.c: faults hapvisor raises, and events whose delivery makes a VM exit */
void check_injected_faults(struct check *c, struct tk_context *t);
void check_event_delivery(struct check *c, struct tk_context *t);

/* checks_smp.c: with `smp` on the command line, start the second CPU and hear from it */
void check_smp(struct check *c, struct tk_context *t);

#endif
