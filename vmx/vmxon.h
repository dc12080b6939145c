/* Entering and leaving VMX operation (SDM Vol. 3C 24.7, 24.8; Vol. 3D 31.5). */
#ifndef HV_VMX_VMXON_H
#define HV_VMX_VMXON_H

#include "arch/x86/percpu.h"
#include "lib/types.h"

/*
 * vmx_on: put this CPU in VMX root operation.
 * Needs: vmx_probe() returned true; the frame pool ready (the VMXON region comes from it).
 * Checks every precondition itself (CR0/CR4 fixed bits, region revision and alignment), logging the
 * one that fails in words; prints "event=vmxon result=ok|fail ...". Returns true on success.
 */
bool vmx_on(void);

/*
 * vmx_cpu_up: on an application processor, what vmx_probe() + vmx_on() do on the BSP: check CPUID.VMX and
 * this CPU's IA32_FEATURE_CONTROL (enabling and locking it when the firmware left it unlocked), then VMXON
 * with its own region. The per-AP step smp_start_aps() runs (arch/x86/smp.h). True in VMX root operation.
 */
bool vmx_cpu_up(struct percpu *cpu);

/* vmx_off: leave VMX operation and clear CR4.VMXE; prints "event=vmxoff result=ok|fail". */
bool vmx_off(void);

/* Physical address of this CPU's VMXON region (0 before vmx_on). */
uint64_t vmx_region_phys(void);

#endif
