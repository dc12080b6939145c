/*
 * testkernel: events as the guest sees them under hapvisor (vmx/events.h).
 *
 * injected_faults: each fault hapvisor raises for the guest (a VMX instruction's #UD, #GP for CR4.VMXE, a VMX
 * capability MSR, a write to IA32_FEATURE_CONTROL, an MSR the CPU lacks, a bad XCR0) must look like the
 * CPU's own: the vector, the error code, RIP at the faulting instruction and RFLAGS.RF = 1 in the frame
 * (SDM Vol. 3B 17.3.1.1: every fault-class exception pushes RF = 1). UD2's own #UD is checked alongside.
 *
 * event_delivery: a self-IPI, INT3, INT 0x41 and a #PF, each taken on a stack page whose first write is
 * that event's frame: a fresh page (unmapped in the EPT under ept=4k), then a page write-protected for
 * dirty tracking (where hapvisor tracks by write protection, not PML; not under shadow paging, which has no
 * dirty tracking: there the fresh page is one the shadow MMU has not filled, a #PF exit during delivery).
 * The exit during delivery must not lose the event: each handler runs exactly once, with the frame the CPU
 * pushes natively.
 */
#include "checks.h"
#include "fresh.h"
#include "hypercall.h"

#define TK_VEC_IPI 0x40	 /* the self-IPI */
#define TK_VEC_SOFT 0x41 /* INT n (events.asm) */
#define GDT_CODE64 0x08
#define PF_ADDR UINT64_C(0x100000040) /* 4 GiB: the identity map ends below (entry.asm) */
#define INT3_LEN 1
#define INTN_LEN 2
#define IPI_POLLS UINT64_C(10000000)

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_ADDR_MASK UINT64_C(0xFFFFFF000)
#define APIC_BASE_X2APIC BIT(10)
#define XAPIC_EOI 0xB0
#define XAPIC_SVR 0xF0
#define XAPIC_ICR_LO 0x300
#define SVR_APIC_ENABLE BIT(8)
#define SVR_SPURIOUS_VECTOR 0x4F /* inside the kernel's IDT; low four bits set, as old APICs need */
#define ICR_ASSERT BIT(14)
#define ICR_SELF (1u << 18)
#define PIC1_DATA 0x21
#define PIC2_DATA 0xA1
#define PIC_MASK_ALL 0xFF

#define MSR_NOT_IMPLEMENTED 0x4000FFFFu /* outside the MSR bitmap's ranges and not an MSR the CPU has */
#define MSR_VMX_BASIC 0x480u

/* events.asm */
void tk_int3_on(uint64_t stack_top);
void tk_intn_on(uint64_t stack_top);
void tk_pf_on(uint64_t stack_top, uint64_t addr);
void tk_ipi_on(uint64_t stack_top, volatile uint32_t *icr_lo, uint32_t icr, volatile uint32_t *done,
	       uint64_t polls);
extern char tk_int3_insn[], tk_intn_insn[], tk_pf_insn[], tk_pf_resume[], tk_ipi_wait[], tk_ipi_wait_end[];
void tk_insn_vmxon(void *ctx), tk_insn_vmread(void *ctx), tk_insn_vmptrst(void *ctx),
	tk_insn_invept(void *ctx), tk_insn_mov_cr4(void *ctx), tk_insn_rdmsr(void *ctx),
	tk_insn_wrmsr(void *ctx), tk_insn_xsetbv(void *ctx), tk_insn_ud2(void *ctx);
extern char tk_insn_rdmsr_at[], tk_insn_wrmsr_at[], tk_insn_xsetbv_at[];

static inline void write_cr4(uint64_t v)
{
	__asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory");
}

static bool under_hapvisor(void)
{
	return hc_call(HC_VERSION, 0, 0, 0, 0).vector == PROBE_NO_FAULT;
}

/* ---- injected_faults ------------------------------------------------------------------------------ */

struct fault_case {
	const char *name;
	probe_fn fn;
	const void *at; /* the faulting instruction */
	int vector;
	bool error_code; /* the CPU pushes one (#GP), always 0 here */
	uint64_t arg;	 /* the probe's ctx: an MSR, a CR4 value, or 0 for a pointer to a zero qword */
	bool may_pass;	 /* the machine decides: no fault at all is fine (an emulator that ignores MSRs) */
};

static uint64_t zero_qword;

/* Run one case and check its frame; returns whether it matched. */
static bool fault_matches(struct check *c, const struct fault_case *k)
{
	void *ctx = k->arg ? (void *)k->arg : &zero_qword;
	int vector = fault_probe(k->fn, ctx);
	if (vector == PROBE_NO_FAULT && k->may_pass) {
		check_note(c, "%s=no_fault", k->name);
		return true;
	}
	const struct probe_fault *f = &probe_last;
	bool ok = vector == k->vector && f->rip == (uint64_t)k->at && (f->rflags & RFLAGS_RF) &&
		  (!k->error_code || f->error_code == 0);
	if (!ok)
		check_fail(c, "%s=vector:%d,rip:0x%lx,expected_rip:0x%lx,error:0x%lx,rf:%lu", k->name, vector,
			   f->rip, (uint64_t)k->at, f->error_code, (f->rflags & RFLAGS_RF) >> 16);
	return ok;
}

void check_injected_faults(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t cr4 = read_cr4();
	bool xsave = (cpuid(1, 0).ecx & CPUID1_ECX_XSAVE) != 0;
	struct fault_case cases[] = {
		{"ud2", tk_insn_ud2, (const void *)tk_insn_ud2, VEC_UD, false, 0, false},
		{"vmxon", tk_insn_vmxon, (const void *)tk_insn_vmxon, VEC_UD, false, 0, false},
		{"vmread", tk_insn_vmread, (const void *)tk_insn_vmread, VEC_UD, false, 0, false},
		{"vmptrst", tk_insn_vmptrst, (const void *)tk_insn_vmptrst, VEC_UD, false, 0, false},
		{"invept", tk_insn_invept, (const void *)tk_insn_invept, VEC_UD, false, 0, false},
		{"mov_cr4_vmxe", tk_insn_mov_cr4, (const void *)tk_insn_mov_cr4, VEC_GP, true, cr4 | CR4_VMXE,
		 false},
		{"rdmsr_vmx_basic", tk_insn_rdmsr, tk_insn_rdmsr_at, VEC_GP, true, MSR_VMX_BASIC, false},
		{"wrmsr_feature_control", tk_insn_wrmsr, tk_insn_wrmsr_at, VEC_GP, true,
		 MSR_IA32_FEATURE_CONTROL, false},
		/* hapvisor performs it and raises #GP where the CPU faults; Bochs with ignore_bad_msrs reads
		   0 */
		{"rdmsr_absent", tk_insn_rdmsr, tk_insn_rdmsr_at, VEC_GP, true, MSR_NOT_IMPLEMENTED, true},
		{"xsetbv_xcr0_0", tk_insn_xsetbv, tk_insn_xsetbv_at, VEC_GP, true, 0, false},
	};
	if (!under_hapvisor()) {
		check_note(
			c,
			"skipped=no_hypervisor (the VMX cases fault natively as well, but not all the same)");
		return;
	}
	unsigned matched = 0, run = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (cases[i].fn == tk_insn_xsetbv) {
			if (!xsave)
				continue;
			write_cr4(cr4 | CR4_OSXSAVE); /* XSETBV is #UD without it, before any exit */
		}
		run++;
		matched += fault_matches(c, &cases[i]);
		if (cases[i].fn == tk_insn_xsetbv)
			write_cr4(cr4);
	}
	check_note(c, "faults=%u matched=%u (vector, error code, rip, rf=1)", run, matched);
}

/* ---- event_delivery ------------------------------------------------------------------------------- */

/* What the handlers saw: how often each ran, and the last frame. */
static volatile uint32_t seen_count, ipi_done;
static struct trap_frame seen;
static uint64_t seen_cr2;
static volatile uint32_t *xapic;

static uint64_t *record(struct trap_frame *f)
{
	seen = *f;
	seen_count++;
	return &f->rip;
}

static uint64_t *on_pf(struct trap_frame *f)
{
	seen_cr2 = read_cr2();
	uint64_t *frame = record(f);
	f->rip = (uint64_t)tk_pf_resume; /* past the faulting load */
	return frame;
}

static uint64_t *on_ipi(struct trap_frame *f)
{
	xapic[XAPIC_EOI / 4] = 0;
	ipi_done = 1;
	return record(f);
}

enum event_kind { EV_IPI, EV_INT3, EV_INTN, EV_PF, EV_KINDS };
static const char *const event_names[EV_KINDS] = {"ipi", "int3", "intn", "pf"};

/* Raise one event with its frame on the page below stack_top; false (noted) when its frame is wrong. */
static bool raise_on(struct check *c, const char *how, enum event_kind k, uint64_t stack_top)
{
	seen_count = 0;
	ipi_done = 0;
	uint64_t lo = 0, hi = 0, vector = 0;
	switch (k) {
	case EV_IPI:
		tk_ipi_on(stack_top, &xapic[XAPIC_ICR_LO / 4], ICR_ASSERT | ICR_SELF | TK_VEC_IPI, &ipi_done,
			  IPI_POLLS);
		lo = (uint64_t)tk_ipi_wait, hi = (uint64_t)tk_ipi_wait_end, vector = TK_VEC_IPI;
		break;
	case EV_INT3:
		tk_int3_on(stack_top);
		lo = hi = (uint64_t)tk_int3_insn + INT3_LEN, vector = VEC_BP;
		break;
	case EV_INTN:
		tk_intn_on(stack_top);
		lo = hi = (uint64_t)tk_intn_insn + INTN_LEN, vector = TK_VEC_SOFT;
		break;
	default:
		tk_pf_on(stack_top, PF_ADDR);
		lo = hi = (uint64_t)tk_pf_insn, vector = VEC_PF;
		break;
	}
	const struct trap_frame *f = &seen;
	bool ok = seen_count == 1 && f->vector == vector && f->rip >= lo && f->rip <= hi &&
		  f->cs == GDT_CODE64 && f->rsp == stack_top;
	if (k == EV_IPI)
		ok = ok && (f->rflags & RFLAGS_IF);
	if (k == EV_PF)
		ok = ok && f->error_code == 0 && seen_cr2 == PF_ADDR && (f->rflags & RFLAGS_RF);
	if (!ok)
		check_fail(c, "%s_%s=count:%u,vector:%lu,rip:0x%lx,rsp:0x%lx,rflags:0x%lx,error:0x%lx", how,
			   event_names[k], seen_count, seen_count ? f->vector : 0, seen_count ? f->rip : 0,
			   seen_count ? f->rsp : 0, seen_count ? f->rflags : 0,
			   seen_count ? f->error_code : 0);
	return ok;
}

/* The local APIC on, the 8259s masked (nothing but the self-IPI may arrive while interrupts are on). */
static bool apic_ready(struct check *c)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_X2APIC) {
		check_note(c, "ipi=skipped_x2apic");
		return false;
	}
	xapic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
	xapic[XAPIC_SVR / 4] = SVR_APIC_ENABLE | SVR_SPURIOUS_VECTOR;
	return true;
}

void check_event_delivery(struct check *c, struct tk_context *t)
{
	(void)t;
	bool ipi = apic_ready(c), hv = under_hapvisor();
	bool dirty = hv && !tk_shadow_paging(); /* HC_DIRTY_* are EPT functions */
	idt_set_handler(TK_VEC_IPI, on_ipi);
	idt_set_handler(VEC_BP, record);
	idt_set_handler(TK_VEC_SOFT, record);
	idt_set_handler(VEC_PF, on_pf);
	unsigned ok_fresh = 0, ok_dirty = 0, run = 0;
	for (unsigned k = 0; k < EV_KINDS; k++) {
		if (k == EV_IPI && !ipi)
			continue;
		uint64_t fresh = fresh_page(), tracked = fresh_page();
		if (!fresh || !tracked) {
			check_fail(c, "fresh_pages=used_up");
			break;
		}
		run++;
		ok_fresh += raise_on(c, "fresh", (enum event_kind)k, fresh + PAGE_SIZE);
		if (!dirty)
			continue;
		*(volatile uint64_t *)tracked = 0; /* mapped now; then write-protected or logged (PML) */
		struct hc_result r = hc_call(HC_DIRTY_START, tracked, PAGE_SIZE, 0, 0);
		if (r.vector != PROBE_NO_FAULT || r.value != 0) {
			check_fail(c, "dirty_start=%ld", r.value);
			continue;
		}
		ok_dirty += raise_on(c, "dirty", (enum event_kind)k, tracked + PAGE_SIZE);
		hc_call(HC_DIRTY_STOP, 0, 0, 0, 0);
	}
	idt_set_handler(TK_VEC_IPI, NULL);
	idt_set_handler(VEC_BP, NULL);
	idt_set_handler(TK_VEC_SOFT, NULL);
	idt_set_handler(VEC_PF, NULL);
	check_note(c, "events=%u fresh_ok=%u dirty_ok=%u%s", run, ok_fresh, ok_dirty,
		   dirty ? ""
		   : hv	 ? " dirty=shadow_paging"
			 : " dirty=no_hypervisor");
}
