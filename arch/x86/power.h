/*
 * How a hapvisor run ends: halt, ACPI power-off (S5) or reset, with fallbacks for emulators, and the one
 * structured exit line tests read ("hapvisor: event=exit status=... action=... reason=...").
 */
#ifndef HV_ARCH_X86_POWER_H
#define HV_ARCH_X86_POWER_H

#include "boot/mb2.h"
#include "boot/options.h"
#include "lib/types.h"

/*
 * Physical memory power_init() may read ACPI tables from: what the early page tables map 1:1
 * (boot/entry.asm maps the first 4 GiB; arch/x86/paging.c must keep [4 KiB, 4 GiB) mapped too).
 */
#define POWER_ACPI_PHYS_LIMIT GiB(4)

/*
 * power_init: read the ACPI tables once, from the RSDP copy in the Multiboot2 tags, and keep what
 * power_off() and power_reboot() need (no pointers into firmware memory are kept).
 * Logs "hapvisor: event=acpi rsdp_revision=N root=xsdt|rsdt fadt=0x... fadt_revision=N pm1a_cnt=0x...
 * pm1b_cnt=0x... slp_typ_s5=N|none slp_typb_s5=N|none reset=io:0xPORT/0xVAL|mem:...|pci:...|none", or a
 * warning sentence when ACPI is missing or broken (power-off then uses only the emulator ports).
 * Needs: the ACPI tables still intact (call before any allocator can reuse ACPI reclaimable memory) and
 * [4 KiB, POWER_ACPI_PHYS_LIMIT) mapped 1:1. Safe to call with info == NULL or without ACPI tags.
 */
void power_init(const struct mb2_info *info);

/*
 * The PM1 control ports and S5 sleep type the guest uses to power off, and the ACPI PM timer's port
 * (0 / false when unknown).
 */
struct power_ports {
	uint16_t pm1a_cnt, pm1b_cnt;
	bool have_s5;
	uint8_t slp_typa_s5, slp_typb_s5;
	uint16_t pm_tmr;
	bool pm_tmr_32bit;
};
void power_get_ports(struct power_ports *out);

/* Stop for good: "hapvisor: halted; it is safe to switch the machine off", then cli; hlt forever. */
NORETURN void power_halt(void);

/*
 * power_off: ACPI S5 (entering ACPI mode first when SCI_EN is clear); if the machine still runs after a
 * short wait, the QEMU and Bochs power-off ports; if it still runs, an error sentence and power_halt().
 */
NORETURN void power_off(void);

/*
 * power_reboot: the FADT reset register, then port 0xCF9, then the keyboard controller; if the machine
 * still runs, an error sentence and power_halt(). Never a deliberate triple fault.
 */
NORETURN void power_reboot(void);

/*
 * hv_finish: end the run. Prints "hapvisor: event=exit status=ok|error action=halt|poweroff|reboot
 * reason=\"why\"" (status 0 is ok; why may be NULL; double quotes and control characters in it are
 * replaced), then performs action. Interrupts are disabled first. Callable from any point after
 * serial_init(), power_init() included or not (without it power-off uses the emulator ports only).
 */
NORETURN void hv_finish(enum on_exit_action action, int status, const char *why);

#endif
