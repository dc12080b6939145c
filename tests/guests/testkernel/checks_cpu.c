/*
 * testkernel: what the CPU looks like from inside the guest. hapvisor withholds VMX from its guest, which
 * must therefore see a CPU without VMX: CPUID.1:ECX.VMX clear, the VMX instructions raising #UD, CR4.VMXE
 * a reserved bit (#GP), no VMX capability MSRs (#GP), IA32_FEATURE_CONTROL locked with VMX off. CPUID
 * also says that a hypervisor is present, and which (the ABI in guest/hypercall_abi.h).
 */
#include "checks.h"
#include "hypercall.h"
#include "serial.h"

#define VMCS_GUEST_RIP 0x681Eu	/* any valid field encoding (SDM Vol. 3D B.4.3) */
#define INVEPT_SINGLE_CONTEXT 1 /* SDM Vol. 2A INVEPT */
#define INVVPID_SINGLE_CONTEXT 1
#define NONCANONICAL_ADDR 0x8000000000000000ull
#define HV_SIGNATURE_BYTES 12
/* CPUID 0x40000000 EBX:ECX:EDX under QEMU TCG: "TCGTCGTCGTCG" */
#define QEMU_TCG_SIGNATURE_EBX 0x54474354u
#define QEMU_TCG_SIGNATURE_ECX 0x43544743u
#define QEMU_TCG_SIGNATURE_EDX 0x47435447u

static uint8_t vmx_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE))); /* operand for VMXON & co. */

struct msr_access {
	uint32_t msr;
	uint64_t value;
};

static void do_rdmsr(void *ctx)
{
	struct msr_access *m = ctx;
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(m->msr));
	m->value = (uint64_t)hi << 32 | lo;
}

static void do_wrmsr(void *ctx)
{
	const struct msr_access *m = ctx;

	__asm__ volatile("wrmsr"
			 :
			 : "c"(m->msr), "a"((uint32_t)m->value), "d"((uint32_t)(m->value >> 32))
			 : "memory");
}

static void do_write_cr4(void *ctx)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(*(const uint64_t *)ctx) : "memory");
}

/* A short name of a probe outcome: "none" (no exception) or the vector's ("#GP"). */
static const char *outcome(int vector)
{
	return vector == PROBE_NO_FAULT ? "none" : vector_name((uint64_t)vector);
}

static void do_nothing(void *ctx)
{
	(void)ctx;
}

static void do_ud2(void *ctx)
{
	(void)ctx;
	__asm__ volatile("ud2");
}

static void do_noncanonical_load(void *ctx)
{
	(void)ctx;
	*(volatile const uint64_t *)NONCANONICAL_ADDR;
}

void check_fault_probe(struct check *c, struct tk_context *t)
{
	(void)t;
	int none = fault_probe(do_nothing, NULL), ud = fault_probe(do_ud2, NULL);
	int gp = fault_probe(do_noncanonical_load, NULL);

	check_note(c, "nothing=%s ud2=%s noncanonical_load=%s", outcome(none), outcome(ud), outcome(gp));
	if (none != PROBE_NO_FAULT || ud != VEC_UD || gp != VEC_GP)
		check_fail(c, "expected=none,#UD,#GP");
}

void check_cpuid_hypervisor_bit(struct check *c, struct tk_context *t)
{
	(void)t;
	struct cpuid_regs r = cpuid(1, 0);

	check_note(c, "cpuid1_ecx=0x%08x", r.ecx);
	if (!(r.ecx & CPUID1_ECX_HYPERVISOR))
		check_fail(c, "hypervisor_bit=0");
}

void check_cpuid_signature(struct check *c, struct tk_context *t)
{
	(void)t;
	struct cpuid_regs r = cpuid(HV_CPUID_LEAF_SIGNATURE, 0);
	uint32_t sig[3] = {r.ebx, r.ecx, r.edx};
	char text[HV_SIGNATURE_BYTES + 1];
	size_t n = 0;

	for (const char *p = (const char *)sig; n < HV_SIGNATURE_BYTES && p[n]; n++)
		text[n] = p[n] >= ' ' && p[n] <= '~' ? p[n] : '?';
	text[n] = '\0';
	check_note(c, "max_leaf=0x%08x signature=\"%s\"", r.eax, text);
	if (r.ebx != HV_CPUID_SIGNATURE_EBX || r.ecx != HV_CPUID_SIGNATURE_ECX ||
	    r.edx != HV_CPUID_SIGNATURE_EDX)
		check_fail(c, "signature_regs=0x%08x,0x%08x,0x%08x", r.ebx, r.ecx, r.edx);
	if (r.eax < HV_CPUID_LEAF_FEATURES) {
		check_fail(c, "max_leaf_below=0x%08x", HV_CPUID_LEAF_FEATURES);
		return;
	}
	struct cpuid_regs f = cpuid(HV_CPUID_LEAF_FEATURES, 0);
	bool shadow = f.ecx & HV_FEATURE_SHADOW_PAGING;
	uint32_t all = (1u << HC_FUNCTION_COUNT) - 1, want = shadow ? all & ~HC_EPT_FUNCTIONS : all;

	check_note(c, "abi_version=%u functions=0x%x paging=%s", f.eax, f.ebx, shadow ? "shadow" : "ept");
	if (f.eax != HC_ABI_VERSION)
		check_fail(c, "expected_abi_version=%u", HC_ABI_VERSION);
	if ((f.ebx & all) != want)
		check_fail(c, "functions_expected=0x%x", want);
}

bool tk_shadow_paging(void)
{
	struct cpuid_regs r = cpuid(HV_CPUID_LEAF_SIGNATURE, 0);
	if (r.ebx != HV_CPUID_SIGNATURE_EBX || r.ecx != HV_CPUID_SIGNATURE_ECX ||
	    r.eax < HV_CPUID_LEAF_FEATURES)
		return false;
	return (cpuid(HV_CPUID_LEAF_FEATURES, 0).ecx & HV_FEATURE_SHADOW_PAGING) != 0;
}

void check_cpuid_no_vmx(struct check *c, struct tk_context *t)
{
	(void)t;
	struct cpuid_regs r = cpuid(1, 0);

	if (r.ecx & CPUID1_ECX_VMX)
		check_fail(c, "vmx_bit=1 cpuid1_ecx=0x%08x", r.ecx);
	else
		check_note(c, "vmx_bit=0");
}

/* The VMX instructions, each alone (SDM Vol. 3C, "VMX Instruction Reference", for the #UD conditions). */
static void do_vmxon(void *ctx)
{
	(void)ctx;
	uint64_t pa = (uint64_t)vmx_page;
	__asm__ volatile("vmxon %0" : : "m"(pa) : "memory", "cc");
}

static void do_vmclear(void *ctx)
{
	(void)ctx;
	uint64_t pa = (uint64_t)vmx_page;
	__asm__ volatile("vmclear %0" : : "m"(pa) : "memory", "cc");
}

static void do_vmptrld(void *ctx)
{
	(void)ctx;
	uint64_t pa = (uint64_t)vmx_page;
	__asm__ volatile("vmptrld %0" : : "m"(pa) : "memory", "cc");
}

static void do_vmptrst(void *ctx)
{
	(void)ctx;
	uint64_t pa;
	__asm__ volatile("vmptrst %0" : "=m"(pa) : : "memory", "cc");
}

static void do_vmread(void *ctx)
{
	(void)ctx;
	uint64_t value, field = VMCS_GUEST_RIP;
	__asm__ volatile("vmread %1, %0" : "=r"(value) : "r"(field) : "cc");
}

static void do_vmwrite(void *ctx)
{
	(void)ctx;
	uint64_t value = 0, field = VMCS_GUEST_RIP;
	__asm__ volatile("vmwrite %1, %0" : : "r"(field), "r"(value) : "cc");
}

static void do_vmlaunch(void *ctx)
{
	(void)ctx;
	__asm__ volatile("vmlaunch" : : : "memory", "cc");
}

static void do_vmresume(void *ctx)
{
	(void)ctx;
	__asm__ volatile("vmresume" : : : "memory", "cc");
}

static void do_vmxoff(void *ctx)
{
	(void)ctx;
	__asm__ volatile("vmxoff" : : : "memory", "cc");
}

struct inv_descriptor {
	uint64_t low, high; /* EPTP / VPID and linear address: zero is fine, only #UD matters */
};

static void do_invept(void *ctx)
{
	(void)ctx;
	struct inv_descriptor d = {0, 0};
	uint64_t type = INVEPT_SINGLE_CONTEXT;
	__asm__ volatile("invept %0, %1" : : "m"(d), "r"(type) : "memory", "cc");
}

static void do_invvpid(void *ctx)
{
	(void)ctx;
	struct inv_descriptor d = {0, 0};
	uint64_t type = INVVPID_SINGLE_CONTEXT;
	__asm__ volatile("invvpid %0, %1" : : "m"(d), "r"(type) : "memory", "cc");
}

static void do_vmfunc(void *ctx)
{
	(void)ctx;
	/* VMFUNC (0F 01 D4), EAX = 0 (EPTP switching); encoded by hand for older assemblers. */
	__asm__ volatile(".byte 0x0f, 0x01, 0xd4" : : "a"(0), "c"(0) : "memory", "cc");
}

void check_vmx_insns_ud(struct check *c, struct tk_context *t)
{
	(void)t;
	static const struct {
		const char *name;
		probe_fn fn;
	} insns[] = {
		{"vmxon", do_vmxon},	   {"vmclear", do_vmclear},   {"vmptrld", do_vmptrld},
		{"vmptrst", do_vmptrst},   {"vmread", do_vmread},     {"vmwrite", do_vmwrite},
		{"vmlaunch", do_vmlaunch}, {"vmresume", do_vmresume}, {"vmxoff", do_vmxoff},
		{"invept", do_invept},	   {"invvpid", do_invvpid},   {"vmfunc", do_vmfunc},
	};
	unsigned ud = 0;

	for (size_t i = 0; i < ARRAY_SIZE(insns); i++) {
		int vector = fault_probe(insns[i].fn, NULL);

		if (vector == VEC_UD)
			ud++;
		else
			check_fail(c, "%s=%s", insns[i].name, outcome(vector));
	}
	check_note(c, "ud=%u/%zu", ud, ARRAY_SIZE(insns));
}

/*
 * QEMU's TCG (seen with 7.2) never completes a MOV to CR4 that sets a reserved bit: it neither raises #GP
 * nor moves on. hapvisor cannot run there (TCG has no VMX), so the write is skipped on it.
 */
static bool on_qemu_tcg(void)
{
	struct cpuid_regs r = cpuid(HV_CPUID_LEAF_SIGNATURE, 0);

	return r.ebx == QEMU_TCG_SIGNATURE_EBX && r.ecx == QEMU_TCG_SIGNATURE_ECX &&
	       r.edx == QEMU_TCG_SIGNATURE_EDX;
}

void check_cr4_vmxe(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t before = read_cr4(), value = before | CR4_VMXE;

	check_note(c, "cr4=0x%lx", before);
	if (before & CR4_VMXE)
		check_fail(c, "vmxe_set=1");
	if (on_qemu_tcg()) {
		check_fail(c, "write_vmxe=skipped (QEMU TCG hangs on a reserved CR4 bit)");
		return;
	}
	int vector = fault_probe(do_write_cr4, &value);
	uint64_t after = read_cr4();

	check_note(c, "write_vmxe=%s", outcome(vector));
	if (vector != VEC_GP)
		check_fail(c, "expected=#GP");
	if (after != before) {
		check_fail(c, "cr4_after=0x%lx", after);
		fault_probe(do_write_cr4, &before); /* leave CR4 as it was */
	}
}

static int probe_rdmsr(uint32_t msr, uint64_t *value)
{
	struct msr_access m = {.msr = msr};
	int vector = fault_probe(do_rdmsr, &m);

	*value = m.value;
	return vector;
}

void check_vmx_msrs_gp(struct check *c, struct tk_context *t)
{
	(void)t;
	unsigned gp = 0, total = 0;

	for (uint32_t msr = MSR_IA32_VMX_BASIC; msr <= MSR_IA32_VMX_VMFUNC; msr++, total++) {
		uint64_t value;
		int vector = probe_rdmsr(msr, &value);

		if (vector == VEC_GP)
			gp++;
		else if (vector == PROBE_NO_FAULT)
			check_fail(c, "msr_0x%x=read:0x%lx", msr, value);
		else
			check_fail(c, "msr_0x%x=%s", msr, outcome(vector));
	}
	check_note(c, "gp=%u/%u", gp, total);
}

void check_feature_control(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t value;
	int vector = probe_rdmsr(MSR_IA32_FEATURE_CONTROL, &value);

	if (vector != PROBE_NO_FAULT) {
		check_fail(c, "rdmsr=%s", outcome(vector));
		return;
	}
	check_note(c, "value=0x%lx", value);
	if (!(value & FEATURE_CONTROL_LOCK))
		check_fail(c, "lock=0");
	if (value & (FEATURE_CONTROL_VMX_IN_SMX | FEATURE_CONTROL_VMX_OUTSIDE_SMX))
		check_fail(c, "vmx_enabled=1");
	/* Writing the value it has: harmless if the write is wrongly allowed. */
	struct msr_access m = {.msr = MSR_IA32_FEATURE_CONTROL, .value = value};
	vector = fault_probe(do_wrmsr, &m);
	check_note(c, "wrmsr=%s", outcome(vector));
	if (vector != VEC_GP)
		check_fail(c, "expected_wrmsr=#GP");
}

void check_serial(struct check *c, struct tk_context *t)
{
	(void)t;
	static const uint8_t values[] = {0x00, 0x55, 0xAA, 0xFF};
	uint8_t saved = inb(COM1_BASE + UART_SCR);

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		outb(COM1_BASE + UART_SCR, values[i]);
		uint8_t got = inb(COM1_BASE + UART_SCR);
		if (got != values[i])
			check_fail(c, "scratch_wrote=0x%02x read=0x%02x", values[i], got);
	}
	outb(COM1_BASE + UART_SCR, saved);
	check_note(c, "port=0x%x scratch_values=%zu", COM1_BASE + UART_SCR, ARRAY_SIZE(values));
}
