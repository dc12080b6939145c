/*
 * The local APIC, as far as hapvisor uses it: its own APIC ID and inter-processor interrupts to start or
 * stop another CPU (SDM Vol. 3A 11.6.1 "Interrupt Command Register"), in xAPIC mode (MMIO at the MADT's
 * address) or x2APIC mode (MSRs, SDM Vol. 3A 11.12), whichever the CPU is in when called.
 */
#ifndef HV_ARCH_X86_APIC_H
#define HV_ARCH_X86_APIC_H

#include "lib/types.h"

/* apic_init: remember the xAPIC MMIO base (the MADT's, or IA32_APIC_BASE's when the MADT gave none). */
void apic_init(uint64_t mmio_phys);
/* This CPU's local APIC ID (x2APIC: the 32-bit ID; xAPIC: bits 31:24 of the ID register). */
uint32_t apic_id(void);
/* Send an INIT IPI (level assert) to apic_id; false if the previous IPI was never accepted. */
bool apic_send_init(uint32_t apic_id);
/* Send an NMI IPI to apic_id (smp_stop_all); false if the previous IPI was never accepted. */
bool apic_send_nmi(uint32_t apic_id);
/* Send a start-up IPI with `vector` (the start page's number below 1 MiB) to apic_id. */
bool apic_send_sipi(uint32_t apic_id, uint8_t vector);

#endif
