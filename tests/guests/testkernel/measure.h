/* testkernel: path-length measurements, printed as lines of their own (not checks). */
#ifndef TK_MEASURE_H
#define TK_MEASURE_H

/*
 * measure_exits: time 1000 CPUID (leaf 0) and 1000 HC_VERSION VMCALLs with RDTSC and print
 *   testkernel: measure=cpuid_loop iterations=1000 tsc_delta=N per_op=N
 *   testkernel: measure=vmcall_loop iterations=1000 tsc_delta=N per_op=N
 * Bochs's TSC counts instructions, so per_op is there the instruction count of one exit round trip
 * (plus the loop's own two or three). Where VMCALL faults (no hypervisor) the second line says
 * skipped=vmcall:#UD instead.
 */
void measure_exits(void);

#endif
