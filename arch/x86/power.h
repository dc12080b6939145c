/*
 * How a hapvisor run ends: halt, ACPI power-off (S5) or reset, with fallbacks for emulators, and the one
 * structured exit line tests read ("hapvisor: event=exit status=... action=... reason=...").
 */
#ifndef HV_ARCH_X86_POWER_H
#define HV_ARCH_X86_POWER_H

#include "lib/types.h"

/* What hapvisor does when the run ends (option on_exit): the action and its command-line name. */
#define ON_EXIT_ACTIONS(X)                                                                                   \
	X(ON_EXIT_HALT, "halt")                                                                              \
	X(ON_EXIT_POWEROFF, "poweroff")                                                                      \
	X(ON_EXIT_REBOOT, "reboot")

enum on_exit_action {
#define ON_EXIT_ENUM(action, name) action,
	ON_EXIT_ACTIONS(ON_EXIT_ENUM)
#undef ON_EXIT_ENUM
		ON_EXIT_COUNT
};

/* The command-line spelling of an action ("poweroff"); "?" for a value out of range. */
static inline const char *on_exit_name(enum on_exit_action action)
{
	static const char *const names[] = {
#define ON_EXIT_NAME(action, name) [action] = name,
		ON_EXIT_ACTIONS(ON_EXIT_NAME)
#undef ON_EXIT_NAME
	};
	return (size_t)action < ARRAY_SIZE(names) ? names[action] : "?";
}

/*
 * Physical memory power_init() may read ACPI tables from: what the early page tables map 1:1
 * (boot/entry.asm maps the first 4 GiB; arch/x86/paging.c must keep [4 KiB, 4 GiB) mapped too).
 */
#define POWER_ACPI_PHYS_LIMIT GiB(4)

/*
 * power_init: read the ACPI tables once, from the copy of the RSDP (rsdp_len bytes; the boot loader's
 * Multiboot2 ACPI tag) at rsdp, and keep what power_off() and power_reboot() need (no pointers into
 * firmware memory are kept).
 * Logs "hapvisor: event=acpi rsdp_revision=N root=xsdt|rsdt fadt=0x... fadt_revision=N pm1a_cnt=0x...
 * pm1b_cnt=0x... slp_typ_s5=N|none slp_typb_s5=N|none reset=io:0xPORT/0xVAL|mem:...|pci:...|none", or a
 * warning sentence when ACPI is missing or broken (power-off then uses only the emulator ports).
 * Needs: the ACPI tables still intact (call before any allocator can reuse ACPI reclaimable memory) and
 * [4 KiB, POWER_ACPI_PHYS_LIMIT) mapped 1:1. Safe to call with rsdp == NULL (no ACPI tag).
 */
void power_init(const void *rsdp, size_t rsdp_len);

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

/*
 * power_set_on_exit: the action every stop after an error takes (hv_abort(), lib/panic.h: panics, CPU
 * exceptions in hapvisor, refusals): the on_exit option once it is parsed. ON_EXIT_HALT until then.
 */
void power_set_on_exit(enum on_exit_action action);

#endif
