/*
 * Ending a run (see power.h): ACPI S5 power-off (ACPI 6.5 7.4.2, 16.1.6), ACPI reset (4.8.3.6), and the
 * chipset / emulator fallbacks, each tried only after the previous one had time to act.
 */
#include "arch/x86/power.h"
#include "arch/x86/acpi_tables.h"
#include "arch/x86/cpu.h"
#include "arch/x86/screen.h"
#include "arch/x86/serial.h"
#include "arch/x86/smp.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "mm/phys.h"

/*
 * How long a power-off or reset write gets before the next method is tried, in TSC ticks: about 0.1 s at
 * 3 GHz on hardware; in Bochs the TSC counts instructions (about 3 s at ips=100M) but Bochs acts at once.
 */
#define POWER_SETTLE_TICKS 300000000ull
#define POWER_EMU_SETTLE_TICKS 50000000ull   /* per emulator port: they act at once or not at all */
#define POWER_ACPI_ENABLE_TICKS 300000000ull /* for the firmware to set SCI_EN (ACPI 6.5 16.3.1) */
/* Every wait loop iteration costs more than this many ticks, so a stopped TSC cannot hang a wait. */
#define POWER_WAIT_MIN_TICKS_PER_LOOP 8

/* Emulator power-off ports, used when ACPI is missing or did not act. SLP_TYP 0 is S5 on both. */
#define QEMU_PM1A_CNT_PORT 0x604   /* QEMU PIIX4 and ICH9 PM base 0x600 (SeaBIOS, OVMF) + PM1a_CNT */
#define BOCHS_PM1A_CNT_PORT 0xB004 /* Bochs BIOS (and old QEMU) PM base 0xB000 + PM1a_CNT */
#define EMU_S5_VALUE ((uint16_t)ACPI_PM1_CNT_SLP_EN)
#define BOCHS_SHUTDOWN_PORT 0x8900 /* Bochs legacy shutdown port: takes the string "Shutdown" */
#define BOCHS_SHUTDOWN_STRING "Shutdown"

/* Reset control register (Intel PIIX3/ICH9 datasheets "RST_CNT"; QEMU and Bochs emulate it). */
#define RST_CNT_PORT 0xCF9
#define RST_CNT_SYS_RST 0x02 /* the next RST_CPU 0 -> 1 makes a hard (system) reset */
#define RST_CNT_RST_CPU 0x04

/* 8042 keyboard controller: pulse the reset line. */
#define KBC_STATUS_PORT 0x64
#define KBC_STATUS_IBF 0x02 /* input buffer full: not ready for a command */
#define KBC_CMD_PULSE_RESET 0xFE
#define KBC_WAIT_LOOPS 100000

/* PCI configuration mechanism #1, for a reset register in PCI config space (ACPI 6.5 Table 5.1, ID 2). */
#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define PCI_CONFIG_ENABLE 0x80000000u
#define PCI_DEV_SHIFT 11
#define PCI_FN_SHIFT 8
#define PCI_MAX_DEV 32
#define PCI_MAX_FN 8
#define PCI_CONFIG_SIZE 256
#define PCI_CONFIG_DWORD_MASK 0xFCu
#define PCI_CONFIG_BYTE_MASK 0x3u
/* GAS address of a PCI config register: device in bits 47:32, function in 31:16, offset in 15:0. */
#define GAS_PCI_DEV_SHIFT 32
#define GAS_PCI_FN_SHIFT 16
#define GAS_PCI_FIELD_MASK 0xFFFFu

#define IO_PORT_MAX 0xFFFFu
#define POWER_REASON_MAX 160
#define POWER_FIELD_MAX 48
#define ASCII_DEL 0x7F

/* What power_init() learnt; all zero (nothing known) until then. */
static struct {
	bool have_fadt;
	struct acpi_fadt fadt;
	bool have_s5;
	struct acpi_sleep_type s5;
} power;

void power_get_ports(struct power_ports *out)
{
	*out = (struct power_ports){0};
	if (power.have_fadt) {
		out->pm1a_cnt = power.fadt.pm1a_cnt;
		out->pm1b_cnt = power.fadt.pm1b_cnt;
		out->pm_tmr = power.fadt.pm_tmr;
		out->pm_tmr_32bit = power.fadt.pm_tmr_32bit;
	}
	if (power.have_s5) {
		out->have_s5 = true;
		out->slp_typa_s5 = power.s5.slp_typa;
		out->slp_typb_s5 = power.s5.slp_typb;
	}
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}

/* Busy-wait about `ticks` TSC ticks; bounded by an iteration count too. */
static void power_wait(uint64_t ticks)
{
	uint64_t start = rdtsc();
	uint64_t loops = ticks / POWER_WAIT_MIN_TICKS_PER_LOOP;
	for (uint64_t i = 0; i < loops && rdtsc() - start < ticks; i++)
		cpu_relax();
}

/*
 * Write one byte to the register g describes (system I/O, memory inside the 1:1 map, or PCI config
 * space of segment 0 bus 0). Returns false, writing nothing, for anything else.
 */
static bool power_gas_write8(const struct acpi_gas *g, uint8_t v)
{
	switch (g->space_id) {
	case ACPI_GAS_SYSTEM_IO:
		if (g->address > IO_PORT_MAX)
			return false;
		outb((uint16_t)g->address, v);
		return true;
	case ACPI_GAS_SYSTEM_MEMORY:
		if (g->address < PAGE_SIZE || g->address >= POWER_ACPI_PHYS_LIMIT)
			return false;
		*(volatile uint8_t *)phys_to_virt(g->address) = v;
		return true;
	case ACPI_GAS_PCI_CONFIG: {
		uint32_t dev = (uint32_t)(g->address >> GAS_PCI_DEV_SHIFT) & GAS_PCI_FIELD_MASK;
		uint32_t fn = (uint32_t)(g->address >> GAS_PCI_FN_SHIFT) & GAS_PCI_FIELD_MASK;
		uint32_t off = (uint32_t)g->address & GAS_PCI_FIELD_MASK;
		if (dev >= PCI_MAX_DEV || fn >= PCI_MAX_FN || off >= PCI_CONFIG_SIZE)
			return false;
		outl(PCI_CONFIG_ADDRESS, PCI_CONFIG_ENABLE | (dev << PCI_DEV_SHIFT) | (fn << PCI_FN_SHIFT) |
						 (off & PCI_CONFIG_DWORD_MASK));
		outb((uint16_t)(PCI_CONFIG_DATA + (off & PCI_CONFIG_BYTE_MASK)), v);
		return true;
	}
	default:
		return false;
	}
}

/* Format a GAS register and value as "io:0xcf9/0x6" (or mem:, pci:, other:) into buf. */
static void power_format_reg(char *buf, size_t size, const struct acpi_gas *g, uint8_t v)
{
	const char *space = g->space_id == ACPI_GAS_SYSTEM_IO	    ? "io"
			    : g->space_id == ACPI_GAS_SYSTEM_MEMORY ? "mem"
			    : g->space_id == ACPI_GAS_PCI_CONFIG    ? "pci"
								    : "other";
	fmt_snprintf(buf, size, "%s:%#llx/%#x", space, (unsigned long long)g->address, v);
}

/*
 * Enter ACPI mode if the firmware left it off (ACPI 6.5 16.3.1: write ACPI_ENABLE to SMI_CMD, then wait
 * for SCI_EN). Goes on either way: many chipsets and all emulators honour SLP_EN without it.
 */
static void power_enter_acpi_mode(void)
{
	uint16_t pm1a = power.fadt.pm1a_cnt;
	if (inw(pm1a) & ACPI_PM1_CNT_SCI_EN)
		return;
	if (power.fadt.smi_cmd == 0 || power.fadt.acpi_enable == 0) {
		log_debug("SCI_EN is clear and the FADT gives no SMI_CMD/ACPI_ENABLE; trying S5 anyway");
		return;
	}
	outb(power.fadt.smi_cmd, power.fadt.acpi_enable);
	uint64_t start = rdtsc();
	uint64_t loops = POWER_ACPI_ENABLE_TICKS / POWER_WAIT_MIN_TICKS_PER_LOOP;
	for (uint64_t i = 0; i < loops && rdtsc() - start < POWER_ACPI_ENABLE_TICKS; i++) {
		if (inw(pm1a) & ACPI_PM1_CNT_SCI_EN)
			return;
		cpu_relax();
	}
	log_warn("the firmware did not enter ACPI mode (SCI_EN still clear); trying S5 anyway");
}

/* Set SLP_TYP in one PM1 control register, keeping its other bits; SLP_EN only if `enable`. */
static void power_pm1_write(uint16_t port, uint8_t slp_typ, bool enable)
{
	uint16_t v = (uint16_t)(inw(port) & ~(ACPI_PM1_CNT_SLP_TYP_MASK | ACPI_PM1_CNT_SLP_EN));
	v = (uint16_t)(v | ((unsigned)slp_typ << ACPI_PM1_CNT_SLP_TYP_SHIFT));
	if (enable)
		v = (uint16_t)(v | ACPI_PM1_CNT_SLP_EN);
	outw(port, v);
}

/*
 * Request S5 (ACPI 6.5 16.1.6, 7.4.2.6): SLP_TYPa to PM1a_CNT and SLP_TYPb to PM1b_CNT, then SLP_EN to both;
 * on a hardware-reduced platform, SLP_TYPa | SLP_EN to the sleep control register (4.8.3.7).
 * Returns false when the tables gave no way to do it.
 */
static bool power_acpi_s5(void)
{
	if (!power.have_fadt || !power.have_s5)
		return false;
	const struct acpi_fadt *f = &power.fadt;
	if (f->pm1a_cnt != 0) {
		power_enter_acpi_mode();
		power_pm1_write(f->pm1a_cnt, power.s5.slp_typa, false);
		if (f->pm1b_cnt != 0)
			power_pm1_write(f->pm1b_cnt, power.s5.slp_typb, false);
		power_pm1_write(f->pm1a_cnt, power.s5.slp_typa, true);
		if (f->pm1b_cnt != 0)
			power_pm1_write(f->pm1b_cnt, power.s5.slp_typb, true);
		return true;
	}
	if (f->hw_reduced && f->have_sleep_ctl) {
		unsigned typ = (unsigned)power.s5.slp_typa << ACPI_SLEEP_CTL_SLP_TYP_SHIFT;
		uint8_t v = (uint8_t)(typ | ACPI_SLEEP_CTL_SLP_EN);
		return power_gas_write8(&f->sleep_ctl, v);
	}
	return false;
}

/* The emulators' fixed power-off ports, each given time to act. */
static void power_emulator_off(void)
{
	outw(QEMU_PM1A_CNT_PORT, EMU_S5_VALUE);
	power_wait(POWER_EMU_SETTLE_TICKS);
	outw(BOCHS_PM1A_CNT_PORT, EMU_S5_VALUE);
	power_wait(POWER_EMU_SETTLE_TICKS);
	for (const char *s = BOCHS_SHUTDOWN_STRING; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
	power_wait(POWER_EMU_SETTLE_TICKS);
}

void power_init(const void *rsdp_copy, size_t rsdp_len)
{
	power.have_fadt = false;
	power.have_s5 = false;
	if (!rsdp_copy) {
		log_warn("the boot loader gave no ACPI RSDP; power-off will only try the emulator ports");
		return;
	}
	struct acpi_rsdp rsdp;
	enum acpi_err err = acpi_rsdp_parse(rsdp_copy, rsdp_len, &rsdp);
	if (err != ACPI_OK) {
		log_warn("the ACPI RSDP is unusable (%s); power-off will only try the emulator ports",
			 acpi_strerror(err));
		return;
	}
	struct acpi_tables tables;
	err = acpi_tables_init(&tables, &rsdp, 0, POWER_ACPI_PHYS_LIMIT);
	if (tables.xsdt_rejected)
		log_warn("ACPI XSDT at %#llx rejected (%s); using the RSDT", (unsigned long long)rsdp.xsdt,
			 acpi_strerror(tables.xsdt_err));
	if (err != ACPI_OK) {
		log_warn("no usable ACPI RSDT/XSDT (%s); power-off will only try the emulator ports",
			 acpi_strerror(err));
		return;
	}
	struct acpi_power_info pi;
	err = acpi_power_discover(&tables, &pi);
	if (err != ACPI_OK) {
		log_warn("no usable ACPI FADT (%s); power-off will only try the emulator ports",
			 acpi_strerror(err));
		return;
	}
	power.have_fadt = true;
	power.fadt = pi.fadt;
	power.have_s5 = pi.have_s5;
	power.s5 = pi.s5;
	if (!pi.have_s5)
		log_warn("no usable \\_S5_ in the ACPI DSDT (%s); power-off will only try the emulator ports",
			 acpi_strerror(pi.dsdt_err));

	char typa[POWER_FIELD_MAX] = "none", typb[POWER_FIELD_MAX] = "none", reset[POWER_FIELD_MAX] = "none";
	if (pi.have_s5) {
		fmt_snprintf(typa, sizeof(typa), "%u", pi.s5.slp_typa);
		fmt_snprintf(typb, sizeof(typb), "%u", pi.s5.slp_typb);
	}
	if (pi.fadt.reset_supported)
		power_format_reg(reset, sizeof(reset), &pi.fadt.reset_reg, pi.fadt.reset_value);
	log_event(
		"acpi rsdp_revision=%u root=%s fadt=%#llx fadt_revision=%u pm1a_cnt=%#x pm1b_cnt=%#x slp_typ_s5=%s slp_typb_s5=%s reset=%s",
		rsdp.revision, tables.xsdt ? "xsdt" : "rsdt", (unsigned long long)pi.fadt_ref.pa,
		pi.fadt.revision, pi.fadt.pm1a_cnt, pi.fadt.pm1b_cnt, typa, typb, reset);
}

void power_halt(void)
{
	irq_disable();
	log_raw("hapvisor: halted; it is safe to switch the machine off\n");
	cpu_halt_forever();
}

void power_off(void)
{
	irq_disable();
	if (power_acpi_s5()) {
		power_wait(POWER_SETTLE_TICKS);
		log_warn("ACPI S5 did not switch the machine off; trying the QEMU and Bochs power-off ports");
	}
	power_emulator_off();
	log_error("power-off failed; halting - switch the machine off");
	power_halt();
}

void power_reboot(void)
{
	irq_disable();
	if (power.have_fadt && power.fadt.reset_supported &&
	    power_gas_write8(&power.fadt.reset_reg, power.fadt.reset_value))
		power_wait(POWER_SETTLE_TICKS);

	outb(RST_CNT_PORT, RST_CNT_SYS_RST);
	outb(RST_CNT_PORT, RST_CNT_SYS_RST | RST_CNT_RST_CPU);
	power_wait(POWER_SETTLE_TICKS);

	for (int i = 0; i < KBC_WAIT_LOOPS && (inb(KBC_STATUS_PORT) & KBC_STATUS_IBF); i++)
		cpu_relax();
	outb(KBC_STATUS_PORT, KBC_CMD_PULSE_RESET);
	power_wait(POWER_SETTLE_TICKS);

	log_error("reboot failed; halting - reset the machine by hand");
	power_halt();
}

/* Copy why into buf for a quoted log value: '"' becomes '\'', control characters become ' '. */
static void power_quote(char *buf, size_t size, const char *why)
{
	size_t n = 0;
	for (; why && why[n] && n + 1 < size; n++) {
		char c = why[n];
		buf[n] = c == '"' ? '\'' : ((unsigned char)c < ' ' || c == ASCII_DEL) ? ' ' : c;
	}
	buf[n] = '\0';
}

void hv_finish(enum on_exit_action action, int status, const char *why)
{
	irq_disable();
	screen_reclaim(); /* after a stop while the guest ran (a panic): the screen is hapvisor's again */
	char reason[POWER_REASON_MAX];
	power_quote(reason, sizeof(reason), why);
	log_event("exit status=%s action=%s reason=\"%s\"", status == 0 ? "ok" : "error",
		  on_exit_name(action), reason);
	serial_flush();
	switch (action) {
	case ON_EXIT_POWEROFF:
		power_off();
	case ON_EXIT_REBOOT:
		power_reboot();
	case ON_EXIT_HALT:
	default:
		power_halt();
	}
}

/* The action of every stop after an error (power_set_on_exit); the on_exit option's default until set. */
static enum on_exit_action abort_action = ON_EXIT_HALT;

void power_set_on_exit(enum on_exit_action action)
{
	abort_action = action;
}

/* lib/panic.h declares it for every layer; the run ends here, in the layer that knows how: every other CPU
 * stopped first (smp_stop_all; the exception and panic paths have done it already, a no-op then). */
void hv_abort(const char *reason)
{
	if (!smp_stop_all())
		smp_halt_stopped();
	hv_finish(abort_action, 1, reason);
}
