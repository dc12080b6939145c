/* testkernel: ending the run. */
#ifndef TK_POWER_H
#define TK_POWER_H

#include "cpu.h"

/*
 * power_off: HC_POWER_OFF(status); if that VMCALL faults or returns (no hypervisor), power the
 * emulator off through its ports (emulator_power_off). Never returns.
 */
__attribute__((noreturn)) void power_off(uint64_t status);

/* emulator_power_off: ACPI S5 on QEMU's and Bochs's PM1a control ports, Bochs's shutdown port, halt. */
__attribute__((noreturn)) void emulator_power_off(void);

#endif
