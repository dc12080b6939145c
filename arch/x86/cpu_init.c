/* Per-CPU processor state (see cpu_init.h). */
#include "arch/x86/cpu_init.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/desc.h"
#include "arch/x86/mce.h"

void cpu_init_this(struct percpu *cpu)
{
	desc_load_this(cpu);
	if (cpuid(CPUID_LEAF_FEATURES, 0).ecx & CPUID1_ECX_XSAVE)
		write_cr4(read_cr4() | CR4_OSXSAVE);
	mce_enable_this_cpu();
}
