/* testkernel: path-length measurements, printed as lines of their own (not checks). */
#ifndef TK_MEASURE_H
#define TK_MEASURE_H

/*
 * measure_exits: time 1000 CPUID (leaf 0) and 1000 HC_VERSION VMCALLs with RDTSC and print
 *   testkernel: measure=cpuid_loop iterations=1000 tsc_delta=N per_op=N
 *   testkernel: measure=out_loop iterations=1000 tsc_delta=N per_op=N        (OUT to caught port 0xCF9)
 *   testkernel: measure=ept_fill_loop ...                                     (measure_ept_fill below)
 *   testkernel: measure=vmcall_loop iterations=1000 tsc_delta=N per_op=N
 * Bochs's TSC counts instructions, so per_op is there the instruction count of one exit round trip
 * (plus the loop's own two or three). Where VMCALL faults (no hypervisor) the second line says
 * skipped=vmcall:#UD instead.
 */
void measure_exits(void);

struct boot_info;

/*
 * measure_ept_fill: read one word in each of 1000 pages of RAM nobody has touched (from 32 MiB up, when the
 * memory map has it free) and count the EPT fills that took (HC_EPT_STATS before and after); call it before
 * the checks touch memory. measure_exits prints
 *   testkernel: measure=ept_fill_loop iterations=1000 tsc_delta=N per_op=N fills=N
 * (or skipped=no_free_ram|no_hypercall). Under ept=4k every page is a fill; under lazy fault-around maps
 * the window at the first touch; under eager nothing faults, which makes that the loop's native cost.
 */
void measure_ept_fill(const struct boot_info *b);

/*
 * measure_paging (measure_paging.c): the three operations whose cost differs most between EPT and shadow
 * paging, each repeated MEASURE_PAGING_OPS times in a PML4 slot of its own, with the TSC and hapvisor's
 * exit counts (HC_EXIT_STATS) read around each loop:
 *   touch_pages  the first read of each of N freshly mapped 4 KiB pages
 *   remap        a PTE rewritten to another frame (MOV), INVLPG, a read through it
 *   cr3_switch   MOV to CR3 alternating between two address spaces, a read after each
 * and prints for each
 *   testkernel: measure=paging_NAME iterations=N tsc_delta=N per_op=N exits=N pf_exits=N cr_exits=N
 *   invlpg_exits=N
 * (exits=na and no per-reason counts where the hypercall is not there). In Bochs per_op is instructions.
 */
#define MEASURE_PAGING_OPS 256u
void measure_paging(void);

#endif
