/*
 * RDMSR/WRMSR exits (SDM Vol. 3C 26.1.3). The guest reaches every MSR directly except the VMX ones
 * (and, under shadow paging, IA32_EFER, vmx/exit_cr.c), which behave as on a CPU without VT-x: the capability
 * MSRs raise #GP, IA32_FEATURE_CONTROL reads as locked with VMX disabled and cannot be written. MSRs outside
 * the bitmap's ranges always exit; those are performed for the guest, and raise #GP in the guest where the
 * CPU raises it.
 */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/exit.h"
#include "vmx/msr.h"
#include "vmx/msr_bitmap.h"

/* Bitmap layout: read-low, read-high, write-low, write-high, 1 KiB each (SDM Vol. 3C 25.6.9). */
#define MSR_LOW_LAST 0x1FFFu
#define MSR_HIGH_FIRST 0xC0000000u
#define MSR_HIGH_LAST 0xC0001FFFu
#define BITMAP_READ_LOW 0
#define BITMAP_READ_HIGH 1024
#define BITMAP_WRITE_LOW 2048
#define BITMAP_WRITE_HIGH 3072

static bool is_vmx_capability_msr(uint32_t msr)
{
	return msr >= MSR_IA32_VMX_BASIC && msr <= MSR_IA32_VMX_VMFUNC;
}

static void catch_msr(uint8_t *bitmap, uint32_t msr)
{
	uint32_t read = msr <= MSR_LOW_LAST ? BITMAP_READ_LOW : BITMAP_READ_HIGH;
	uint32_t write = msr <= MSR_LOW_LAST ? BITMAP_WRITE_LOW : BITMAP_WRITE_HIGH;
	uint32_t index = msr & MSR_LOW_LAST;
	bitmap[read + index / 8] |= (uint8_t)(1u << (index % 8));
	bitmap[write + index / 8] |= (uint8_t)(1u << (index % 8));
}

uint64_t msr_bitmap_create(bool shadow_paging)
{
	uint64_t pa = pmm_alloc_frame();
	if (!pa)
		return 0;
	uint8_t *bitmap = phys_to_virt(pa);
	catch_msr(bitmap, MSR_IA32_FEATURE_CONTROL);
	if (shadow_paging)
		catch_msr(bitmap, MSR_IA32_EFER);
	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_VMFUNC; msr++)
		catch_msr(bitmap, msr);
	return pa;
}

static uint32_t msr_index(const struct vcpu *v)
{
	return (uint32_t)v->regs.gpr[GPR_RCX];
}

void exit_rdmsr(struct vcpu *v)
{
	uint32_t msr = msr_index(v);
	uint64_t value;

	if (is_vmx_capability_msr(msr)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	if (msr == MSR_IA32_FEATURE_CONTROL) {
		value = (rdmsr(msr) & ~(FEATURE_CONTROL_VMX_IN_SMX | FEATURE_CONTROL_VMX_OUTSIDE_SMX)) |
			FEATURE_CONTROL_LOCKED;
	} else if (msr == MSR_IA32_EFER && v->shadow) {
		value = vcpu_guest_efer(v); /* the guest's own, not the one the CPU runs it with */
	} else if (msr_read_safe(msr, &value)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	v->regs.gpr[GPR_RAX] = (uint32_t)value;
	v->regs.gpr[GPR_RDX] = value >> 32;
	vcpu_skip_instruction(v);
}

void exit_wrmsr(struct vcpu *v)
{
	uint32_t msr = msr_index(v);
	uint64_t value = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];

	if (msr == MSR_IA32_EFER && v->shadow) { /* shadow paging: vmx/exit_cr.c keeps it */
		if (vcpu_set_efer(v, value))
			vcpu_skip_instruction(v);
		else
			vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	/* A locked IA32_FEATURE_CONTROL and the read-only VMX MSRs raise #GP on write (SDM Vol. 4). */
	if (msr == MSR_IA32_FEATURE_CONTROL || is_vmx_capability_msr(msr) || msr_write_safe(msr, value)) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	vcpu_skip_instruction(v);
}
