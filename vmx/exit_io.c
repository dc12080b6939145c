/*
 * I/O-instruction exits for the caught ports (SDM Vol. 3C 26.1.3; qualification Table 28-5). Each
 * access is performed on the real port for the guest; a write that powers the machine off (ACPI S5:
 * SLP_EN with the \_S5 sleep type) or resets it (0xCF9 with RST_CPU, or the 8042 keyboard controller's
 * pulse-reset command 0xFE, which Linux uses after a panic) ends the run first, so hapvisor
 * prints the exit statistics and then does what on_exit says.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/power.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/exit.h"
#include "vmx/io_bitmap.h"

#define IOQ_SIZE(q) (((q)&7) + 1)
#define IOQ_IN BIT(3)
#define IOQ_STRING BIT(4)
#define IOQ_PORT(q) ((uint16_t)((q) >> 16))
#define PORT_RESET_CONTROL 0xCF9
#define RESET_CONTROL_RST_CPU BIT(2)
#define PORT_KBC_COMMAND 0x64 /* 8042 keyboard controller */
#define KBC_PULSE_RESET 0xFE  /* pulse the CPU reset line */
#define PM1_CNT_SLP_EN BIT(13)
#define PM1_CNT_SLP_TYP(v) (((v) >> 10) & 7)
#define IO_BITMAP_B_FIRST 0x8000u

static struct power_ports ports;

static void catch_port(uint8_t *a, uint8_t *b, uint16_t port)
{
	uint8_t *map = port < IO_BITMAP_B_FIRST ? a : b;
	uint16_t index = port & (IO_BITMAP_B_FIRST - 1);
	map[index / 8] |= (uint8_t)(1u << (index % 8));
}

bool io_bitmap_create(uint64_t *a, uint64_t *b)
{
	*a = pmm_alloc_frame();
	*b = pmm_alloc_frame();
	if (!*a || !*b)
		return false;
	uint8_t *ma = phys_to_virt(*a), *mb = phys_to_virt(*b);
	power_get_ports(&ports);
	/* PM1x_CNT are 16-bit registers: catch both bytes so byte-wide writes are seen too. */
	if (ports.pm1a_cnt) {
		catch_port(ma, mb, ports.pm1a_cnt);
		catch_port(ma, mb, (uint16_t)(ports.pm1a_cnt + 1));
	}
	if (ports.pm1b_cnt) {
		catch_port(ma, mb, ports.pm1b_cnt);
		catch_port(ma, mb, (uint16_t)(ports.pm1b_cnt + 1));
	}
	catch_port(ma, mb, PORT_RESET_CONTROL);
	catch_port(ma, mb, PORT_KBC_COMMAND);
	return true;
}

static uint32_t port_in(uint16_t port, unsigned size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(uint16_t port, unsigned size, uint32_t value)
{
	if (size == 1)
		outb(port, (uint8_t)value);
	else if (size == 2)
		outw(port, (uint16_t)value);
	else
		outl(port, value);
}

/* The PM1 control value a write of `size` bytes at `port` stores, if port is a PM1x_CNT byte. */
static bool pm1_write_value(uint16_t base, uint16_t port, uint32_t value, uint32_t *pm1)
{
	if (!base || port < base || port > base + 1)
		return false;
	*pm1 = port == base ? value : value << 8;
	return true;
}

static bool is_guest_power_off(uint16_t port, uint32_t value)
{
	uint32_t pm1;
	if (!ports.have_s5)
		return false;
	if (pm1_write_value(ports.pm1a_cnt, port, value, &pm1))
		return (pm1 & PM1_CNT_SLP_EN) && PM1_CNT_SLP_TYP(pm1) == ports.slp_typa_s5;
	if (pm1_write_value(ports.pm1b_cnt, port, value, &pm1))
		return (pm1 & PM1_CNT_SLP_EN) && PM1_CNT_SLP_TYP(pm1) == ports.slp_typb_s5;
	return false;
}

void exit_io(struct vcpu *v)
{
	uint64_t q = v->exit_qualification;
	uint16_t port = IOQ_PORT(q);
	unsigned size = IOQ_SIZE(q);
	uint64_t mask = size == 4 ? 0xFFFFFFFFull : (1ull << (8 * size)) - 1;

	if (q & IOQ_STRING) { /* nobody drives these registers with INS/OUTS */
		vcpu_dump(v, "string I/O on a caught port");
		vcpu_stop(v, 1, "string I/O on a caught port");
		return;
	}
	if (q & IOQ_IN) {
		uint32_t value = port_in(port, size);
		v->regs.gpr[GPR_RAX] = (v->regs.gpr[GPR_RAX] & ~mask) | value;
		vcpu_skip_instruction(v);
		return;
	}
	uint32_t value = (uint32_t)(v->regs.gpr[GPR_RAX] & mask);
	if (is_guest_power_off(port, value)) {
		log_event("guest_power_off method=acpi port=%#x value=%#x", port, value);
		vcpu_stop(v, 0, "the guest powered the machine off (ACPI S5)");
		return;
	}
	if (port == PORT_RESET_CONTROL && (value & RESET_CONTROL_RST_CPU)) {
		log_event("guest_reset method=cf9 value=%#x", value);
		vcpu_stop(v, 0, "the guest reset the machine (port 0xCF9)");
		return;
	}
	if (port == PORT_KBC_COMMAND && size == 1 && value == KBC_PULSE_RESET) {
		log_event("guest_reset method=kbc value=%#x", value);
		vcpu_stop(v, 0, "the guest reset the machine (keyboard controller)");
		return;
	}
	port_out(port, size, value);
	vcpu_skip_instruction(v);
}
