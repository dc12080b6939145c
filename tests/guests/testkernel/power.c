/* testkernel: power-off, through hapvisor or else through the emulator's ports. */
#include "power.h"
#include "hypercall.h"
#include "serial.h"

/*
 * PM1a control register (ACPI 6.5 section 4.8.3.2.1): SLP_EN (bit 13) with SLP_TYP 0, which is S5 (soft
 * off) in the DSDTs of QEMU's PIIX4/ICH9 and of Bochs. The port is where each firmware put PMBASE + 4:
 * 0x604 under SeaBIOS in QEMU, 0xB004 under the Bochs BIOS. Writes to the other machine's port are ignored.
 */
#define PM1A_CNT_QEMU 0x604
#define PM1A_CNT_BOCHS 0xB004
#define PM1_CNT_SLP_EN_S5 0x2000
#define BOCHS_SHUTDOWN_PORT 0x8900 /* Bochs: writing the bytes "Shutdown" ends the emulator */

void emulator_power_off(void)
{
	static const char shutdown[] = "Shutdown";

	serial_flush();
	outw(PM1A_CNT_QEMU, PM1_CNT_SLP_EN_S5);
	outw(PM1A_CNT_BOCHS, PM1_CNT_SLP_EN_S5);
	for (const char *p = shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	cpu_halt_forever();
}

void power_off(uint64_t status)
{
	serial_flush();
	hc_call(HC_POWER_OFF, status, 0, 0, 0);
	emulator_power_off();
}
