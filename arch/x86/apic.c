/* Local APIC IPIs (see apic.h). SDM Vol. 3A chapter 11 ("Advanced Programmable Interrupt Controller"). */
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "mm/phys.h"

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_X2APIC_ENABLE BIT(10) /* EXTD (SDM Vol. 3A 11.12.1) */
#define APIC_BASE_ADDR_MASK 0xFFFFFF000ull

/* xAPIC register offsets (SDM Vol. 3A Table 11-1) and their x2APIC MSRs (Table 11-6). */
#define XAPIC_ID 0x20
#define XAPIC_ID_SHIFT 24
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define XAPIC_ICR_DEST_SHIFT 24
#define MSR_X2APIC_ID 0x802
#define MSR_X2APIC_ICR 0x830
#define X2APIC_ICR_DEST_SHIFT 32

/* ICR fields (SDM Vol. 3A Figure 11-12). */
#define ICR_DELIVERY_NMI (4u << 8)
#define ICR_DELIVERY_INIT (5u << 8)
#define ICR_DELIVERY_STARTUP (6u << 8)
#define ICR_DELIVERY_PENDING BIT(12) /* xAPIC only: the previous IPI is not yet accepted */
#define ICR_LEVEL_ASSERT BIT(14)
#define ICR_VECTOR_MASK 0xFFu

#define ICR_IDLE_POLLS 1000000u

static uint64_t xapic_phys;

void apic_init(uint64_t mmio_phys)
{
	xapic_phys = mmio_phys ? mmio_phys : rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_ADDR_MASK;
}

static bool x2apic_mode(void)
{
	return (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_X2APIC_ENABLE) != 0;
}

static volatile uint32_t *xapic_reg(uint32_t off)
{
	return (volatile uint32_t *)phys_to_virt(xapic_phys + off);
}

uint32_t apic_id(void)
{
	if (x2apic_mode())
		return (uint32_t)rdmsr(MSR_X2APIC_ID);
	return *xapic_reg(XAPIC_ID) >> XAPIC_ID_SHIFT;
}

/* Write the ICR (x2APIC: one MSR write; xAPIC: high then low, after the previous IPI was accepted). */
static bool send_ipi(uint32_t dest, uint32_t icr_lo)
{
	if (x2apic_mode()) {
		wrmsr(MSR_X2APIC_ICR, ((uint64_t)dest << X2APIC_ICR_DEST_SHIFT) | icr_lo);
		return true;
	}
	uint32_t polls = 0;
	while (*xapic_reg(XAPIC_ICR_LO) & ICR_DELIVERY_PENDING) {
		if (++polls == ICR_IDLE_POLLS)
			return false;
		cpu_relax();
	}
	*xapic_reg(XAPIC_ICR_HI) = dest << XAPIC_ICR_DEST_SHIFT;
	*xapic_reg(XAPIC_ICR_LO) = icr_lo;
	return true;
}

bool apic_send_init(uint32_t dest)
{
	return send_ipi(dest, ICR_DELIVERY_INIT | ICR_LEVEL_ASSERT);
}

bool apic_send_nmi(uint32_t dest)
{
	return send_ipi(dest, ICR_DELIVERY_NMI | ICR_LEVEL_ASSERT);
}

bool apic_send_sipi(uint32_t dest, uint8_t vector)
{
	return send_ipi(dest, ICR_DELIVERY_STARTUP | ICR_LEVEL_ASSERT | (vector & ICR_VECTOR_MASK));
}
