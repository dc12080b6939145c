/* The VM-entry/exit loop (SDM Vol. 3C 27, 28) and the end-of-run report. */
#include "vmx/run.h"
#include "arch/x86/cpu.h"
#include "arch/x86/integrity.h"
#include "arch/x86/mtrr.h"
#include "arch/x86/power.h"
#include "arch/x86/screen.h"
#include "lib/log.h"
#include "mm/pmm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/entry_check_vmcs.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/io_bitmap.h"
#include "vmx/msr_bitmap.h"
#include "vmx/time_limit.h"
#include "vmx/vcpu.h"
#include "vmx/vmcs.h"
#include "vmx/vmcs_setup.h"
#include "vmx/vmxon.h"

#define GUEST_VPID 1
#define VMFAIL_INVALID 1

int vmx_enter(struct guest_regs *regs, int launched);

static struct vcpu vcpu0;
static struct mtrr_state mtrr;

/* Guest-physical addresses the CPU can form: 2^MAXPHYADDR. */
static uint64_t phys_addr_limit(void)
{
	return 1ull << cpu_maxphyaddr();
}

static unsigned ept_max_level(void)
{
	return vmx_caps.ept_1g ? PT_LEVEL_1G : vmx_caps.ept_2m ? PT_LEVEL_2M : PT_LEVEL_4K;
}

static const char *const entry_failure_reasons[] = {
	[EXIT_REASON_INVALID_GUEST_STATE] = "invalid guest state (SDM Vol. 3C 27.3.1)",
	[EXIT_REASON_MSR_LOADING] = "MSR loading failed (SDM Vol. 3C 27.4)",
	[EXIT_REASON_MACHINE_CHECK] = "machine-check event during VM entry (SDM Vol. 3C 27.9)",
};

static bool requirements_met(void)
{
	const struct vmx_caps *c = &vmx_caps;
	const char *missing = !c->ept		       ? "EPT (extended page tables)"
			      : !c->unrestricted_guest ? "unrestricted guest"
			      : !c->ept_wb	       ? "write-back EPT paging structures"
			      : !c->ept_walk4	       ? "4-level EPT"
			      : !c->invept || !(c->invept_single || c->invept_all) ? "INVEPT"
										   : NULL;
	if (!missing)
		return true;
	log_error("this CPU's VT-x lacks %s, which hapvisor needs to run a guest; use an Intel CPU from the "
		  "Westmere (2010) generation or later, or give the VM a newer virtual CPU model",
		  missing);
	log_event("vmx_refused reason=%s", !c->ept		    ? "no_ept"
					   : !c->unrestricted_guest ? "no_unrestricted_guest"
					   : !c->ept_wb		    ? "no_ept_wb"
					   : !c->ept_walk4	    ? "no_ept_walk4"
								    : "no_invept");
	return false;
}

static bool prepare(struct vcpu *v, const struct vmx_guest *g)
{
	struct vmcs_config cfg = {
		.entry_eip = g->entry_eip,
		.cs_sel = g->cs_sel,
		.ds_sel = g->ds_sel,
		.gdtr_base = g->gdtr_base,
		.gdtr_limit = g->gdtr_limit,
		.preemption_timer = g->time_limit_ms != 0,
	};
	if (cfg.preemption_timer && !time_limit_setup(v, g->time_limit_ms))
		return false;
	mtrr_read(&mtrr);
	mtrr_log(&mtrr);
	struct ept_config ec = {
		.map = g->memory,
		.mtrr = &mtrr,
		.limit = phys_addr_limit(),
		.ram_limit = g->ram_limit,
		.policy = g->ept_policy,
		.max_level = ept_max_level(),
		.ad = vmx_caps.ept_ad,
	};
	if (!ept_init(&ec))
		return false;
	ept_log_stats("launch");
	cfg.eptp = ept_pointer();
	cfg.vpid = vmx_caps.vpid ? GUEST_VPID : 0;
	cfg.msr_bitmap = msr_bitmap_create();
	v->vmcs_pa = pmm_alloc_frame();
	if (!cfg.msr_bitmap || !v->vmcs_pa || !io_bitmap_create(&cfg.io_bitmap_a, &cfg.io_bitmap_b)) {
		log_error("hapvisor's memory pool is exhausted while preparing the guest; boot with a larger "
			  "hvmem=");
		return false;
	}
	if (!vmcs_load(v->vmcs_pa, vmx_caps.revision) || !vmcs_setup(&cfg))
		return false;
	if (cfg.preemption_timer)
		time_limit_arm(v);
	ept_invalidate();
	vpid_invalidate(cfg.vpid);
	v->vpid = cfg.vpid;
	v->regs.gpr[GPR_RAX] = g->eax;
	v->regs.gpr[GPR_RBX] = g->ebx;
	v->regs.gpr[GPR_RSI] = g->esi;
	v->state = VCPU_RUNNING;
	return true;
}

static void report_entry_failure(struct vcpu *v)
{
	uint32_t basic = EXIT_REASON_BASIC(v->exit_reason);
	const char *why = basic < ARRAY_SIZE(entry_failure_reasons) && entry_failure_reasons[basic]
				  ? entry_failure_reasons[basic]
				  : "unknown reason";
	log_error("VM entry failed: %s, exit qualification %#llx", why,
		  (unsigned long long)v->exit_qualification);
	log_event("vmentry_failure reason=%u qualification=%#llx", basic,
		  (unsigned long long)v->exit_qualification);
	entry_check_after_failure();
	vcpu_dump(v, "VM-entry failure");
	vcpu_stop(v, 1, "VM entry failed");
}

static void report_vmfail(struct vcpu *v, int r)
{
	if (r == VMFAIL_INVALID) {
		log_error("%s failed: VMfailInvalid (no current VMCS)",
			  v->launched ? "VMRESUME" : "VMLAUNCH");
	} else {
		uint32_t err = vmcs_read32(VM_INSTRUCTION_ERROR);
		log_error("%s failed: VM-instruction error %u: %s", v->launched ? "VMRESUME" : "VMLAUNCH",
			  err, vmx_instruction_error_name(err));
		log_event("vmfail insn=%s error=%u", v->launched ? "vmresume" : "vmlaunch", err);
		if (err == VMX_ERROR_ENTRY_INVALID_CONTROL || err == VMX_ERROR_ENTRY_INVALID_HOST)
			entry_check_after_failure();
	}
	vcpu_stop(v, 1, "VMLAUNCH/VMRESUME failed");
}

static void report_stats(const struct vcpu *v)
{
	uint64_t cycles = 0;
	for (unsigned i = 0; i < HC_EXIT_REASONS; i++) {
		if (!v->stats.count[i])
			continue;
		cycles += v->stats.cycles[i];
		log_event("exit_stats cpu=0 reason=%u name=%s count=%llu cycles=%llu avg_cycles=%llu", i,
			  exit_reason_name(i), (unsigned long long)v->stats.count[i],
			  (unsigned long long)v->stats.cycles[i],
			  (unsigned long long)(v->stats.cycles[i] / v->stats.count[i]));
	}
	log_event("exit_total cpu=0 count=%llu cycles=%llu", (unsigned long long)v->stats.total,
		  (unsigned long long)cycles);
}

/* vmx_handle_exit finds the vCPU from its registers: they are its first member. */
_Static_assert(offsetof(struct vcpu, regs) == 0, "struct vcpu must begin with its guest_regs");

bool vmx_handle_exit(struct guest_regs *regs);

/*
 * Called by vmx/entry.asm on every VM exit, the guest's registers saved in regs (the vCPU's own): read the
 * exit, handle it, count it. Returns true to resume the guest at once, false when the vCPU has stopped.
 */
bool vmx_handle_exit(struct guest_regs *regs)
{
	uint64_t t_exit = rdtsc();
	struct vcpu *v = (struct vcpu *)regs;
	v->launched = true;
	v->exit_reason = vmcs_read32(VM_EXIT_REASON);
	uint32_t basic = EXIT_REASON_BASIC(v->exit_reason);
	/* Read only for the exits that have one: a VMREAD saved on every CPUID, MSR and VMCALL exit. */
	v->exit_qualification = exit_has_qualification(basic) ? vmcs_readnat(EXIT_QUALIFICATION) : 0;
	if (v->exit_reason & EXIT_REASON_ENTRY_FAILURE)
		report_entry_failure(v);
	else
		exit_dispatch(v);
	if (basic < HC_EXIT_REASONS) {
		v->stats.count[basic]++;
		v->stats.cycles[basic] += rdtsc() - t_exit;
	}
	v->stats.total++;
	return v->state == VCPU_RUNNING;
}

/* Run the vCPU until it stops: exits are handled inside vmx_enter (vmx_handle_exit). */
static void run_vcpu(struct vcpu *v)
{
	int r = vmx_enter(&v->regs, v->launched);
	if (r)
		report_vmfail(v, r);
}

void vmx_run_guest(const struct vmx_guest *g, enum on_exit_action on_exit)
{
	struct vcpu *v = &vcpu0;
	if (!requirements_met() || !prepare(v, g)) {
		vmx_off();
		hv_finish(on_exit, 1, "the guest could not be started");
	}
	entry_check_before_launch(g->entry_check, g->vmcs_break, on_exit);
	pmm_print();
	uint64_t tsc = rdtsc(), tsc_console = console_tsc;
	log_event("vmlaunch cpu=0 rip=%#x eax=%#x ebx=%#x vpid=%u eptp=%#llx tsc=%llu tsc_console=%llu "
		  "tsc_screen=%llu",
		  g->entry_eip, g->eax, g->ebx, v->vpid, (unsigned long long)ept_pointer(),
		  (unsigned long long)tsc, (unsigned long long)tsc_console,
		  (unsigned long long)console_screen_tsc);
	screen_release(); /* the guest owns the screen until it ends (docs/screen.md) */
	run_vcpu(v);
	screen_reclaim();
	report_stats(v);
	ept_log_stats("guest_exit");
	integrity_check("guest_exit");
	log_event("guest_exit cpu=0 status=%d reason=\"%s\"", v->stop_status, v->stop_reason);
	vmx_off();
	hv_finish(on_exit, v->stop_status, v->stop_reason);
}
