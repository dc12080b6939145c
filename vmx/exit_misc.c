/* Exits for instructions that always exit in VMX non-root (SDM Vol. 3C 26.1.2) and for fatal events. */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "lib/log.h"
#include "vmx/exit.h"
#include "vmx/vmcs.h"

#define XCR0_X87 BIT(0)
#define XCR0_SSE BIT(1)
#define XCR0_AVX BIT(2)
#define XCR0_BNDREGS BIT(3)
#define XCR0_BNDCSR BIT(4)
#define XCR0_AVX512 (BIT(5) | BIT(6) | BIT(7))
#define CPUID_LEAF_XSAVE 0xD

/* VMX instructions and GETSEC: #UD, as on a CPU without VMX (or SMX) for a guest with CR4.VMXE clear. */
void exit_vmx_instruction(struct vcpu *v)
{
	vcpu_inject_exception(v, EXC_UD, false, 0);
}

/* INVD would drop dirty lines of memory the guest does not own alone; write them back instead. */
void exit_invd(struct vcpu *v)
{
	__asm__ volatile("wbinvd" ::: "memory");
	vcpu_skip_instruction(v);
}

/* XSETBV with the checks the CPU makes (SDM Vol. 2D XSETBV; Vol. 1 13.3), then performed for the guest. */
void exit_xsetbv(struct vcpu *v)
{
	uint32_t xcr = (uint32_t)v->regs.gpr[GPR_RCX];
	uint64_t value = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];
	struct cpuid_regs xs = cpuid(CPUID_LEAF_XSAVE, 0);
	uint64_t supported = ((uint64_t)xs.edx << 32) | xs.eax;

	bool bad = !(read_cr4() & CR4_OSXSAVE) || vcpu_cpl() != 0 || xcr != 0 || !(value & XCR0_X87) ||
		   (value & ~supported) || ((value & XCR0_AVX) && !(value & XCR0_SSE)) ||
		   (!(value & XCR0_BNDREGS) != !(value & XCR0_BNDCSR)) ||
		   ((value & XCR0_AVX512) && ((value & XCR0_AVX512) != XCR0_AVX512 || !(value & XCR0_AVX)));
	if (bad) {
		vcpu_inject_exception(v, EXC_GP, true, 0);
		return;
	}
	__asm__ volatile("xsetbv" : : "c"(xcr), "a"((uint32_t)value), "d"((uint32_t)(value >> 32)));
	vcpu_skip_instruction(v);
}

void exit_triple_fault(struct vcpu *v)
{
	log_error("the guest triple-faulted (an exception it could not handle); on real hardware the "
		  "machine would have reset");
	vcpu_dump(v, "guest triple fault");
	log_event("guest_triple_fault rip=%#llx", (unsigned long long)vmcs_readnat(GUEST_RIP));
	vcpu_stop(v, 1, "guest triple fault");
}

/* An INIT signal: the guest (or a device) reset this CPU. With one vCPU that ends the run. */
void exit_init_signal(struct vcpu *v)
{
	log_event("guest_init_signal rip=%#llx", (unsigned long long)vmcs_readnat(GUEST_RIP));
	vcpu_stop(v, 0, "INIT signal to the guest's CPU (reset)");
}
