/* Machine checks in hapvisor (see mce.h). */
#include "arch/x86/mce.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/percpu.h"
#include "lib/log.h"

/* Machine-check MSRs (SDM Vol. 3B 16.3, Vol. 4 Table 2-2). */
#define MSR_IA32_MCG_CAP 0x179
#define MSR_IA32_MCG_STATUS 0x17A
#define MSR_IA32_MC0_STATUS 0x401 /* bank i: STATUS 0x401 + 4i, ADDR 0x402 + 4i, MISC 0x403 + 4i */
#define MC_BANK_MSRS 4
#define MC_ADDR_OFFSET 1
#define MC_MISC_OFFSET 2
#define MCG_CAP_COUNT(cap) ((unsigned)((cap)&0xFF))
#define MCG_STATUS_RIPV BIT(0) /* the interrupted program can restart at the saved RIP */
#define MCG_STATUS_EIPV BIT(1) /* the saved RIP points at the instruction that caused the error */
#define MCG_STATUS_MCIP BIT(2) /* a machine check is in progress */
#define MCI_STATUS_VAL BIT(63)
#define MCI_STATUS_UC BIT(61)
#define MCI_STATUS_MISCV BIT(59)
#define MCI_STATUS_ADDRV BIT(58)

/* Banks this CPU has (0 without the machine-check architecture). */
static unsigned mca_banks(void)
{
	uint64_t cap;
	if (!(cpuid(CPUID_LEAF_FEATURES, 0).edx & CPUID1_EDX_MCA) || msr_read_safe(MSR_IA32_MCG_CAP, &cap))
		return 0;
	return MCG_CAP_COUNT(cap);
}

void mce_enable_this_cpu(void)
{
	if (cpuid(CPUID_LEAF_FEATURES, 0).edx & CPUID1_EDX_MCE)
		write_cr4(read_cr4() | CR4_MCE);
}

void mce_log_this_cpu(void)
{
	log_event("mce cpu=%u cr4_mce=%d banks=%u", this_cpu()->index, (read_cr4() & CR4_MCE) != 0,
		  mca_banks());
}

void mce_report(void)
{
	uint64_t status;
	unsigned banks = mca_banks();
	if (!banks || msr_read_safe(MSR_IA32_MCG_STATUS, &status)) {
		log_raw("  machine check: no machine-check architecture to read (CPUID.1:EDX.MCA=0 or no banks); nothing more is known\n");
		log_event("mce_report cpu=%u banks=0", this_cpu()->index);
		return;
	}
	log_raw("  machine check: mcg_status=%#llx (ripv=%d eipv=%d mcip=%d), %u banks\n",
		(unsigned long long)status, (status & MCG_STATUS_RIPV) != 0, (status & MCG_STATUS_EIPV) != 0,
		(status & MCG_STATUS_MCIP) != 0, banks);
	unsigned valid = 0;
	for (unsigned i = 0; i < banks; i++) {
		uint32_t base = MSR_IA32_MC0_STATUS + MC_BANK_MSRS * i;
		uint64_t st, addr = 0, misc = 0;
		if (msr_read_safe(base, &st) || !(st & MCI_STATUS_VAL))
			continue;
		if ((st & MCI_STATUS_ADDRV) && msr_read_safe(base + MC_ADDR_OFFSET, &addr))
			addr = 0;
		if ((st & MCI_STATUS_MISCV) && msr_read_safe(base + MC_MISC_OFFSET, &misc))
			misc = 0;
		valid++;
		log_raw("  bank %u: status=%#llx%s addr=%#llx misc=%#llx\n", i, (unsigned long long)st,
			(st & MCI_STATUS_UC) ? " (uncorrected)" : "", (unsigned long long)addr,
			(unsigned long long)misc);
		log_event("mce_bank cpu=%u bank=%u status=%#llx addr=%#llx misc=%#llx", this_cpu()->index, i,
			  (unsigned long long)st, (unsigned long long)addr, (unsigned long long)misc);
	}
	log_event("mce_report cpu=%u mcg_status=%#llx banks=%u valid=%u", this_cpu()->index,
		  (unsigned long long)status, banks, valid);
}
