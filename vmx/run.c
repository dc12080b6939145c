/*
 * The VM-entry/exit loop (SDM Vol. 3C 27, 28) of every vCPU, their launch, and the end-of-run report.
 *
 * vCPU n runs on CPU n (percpu[n]) with VPID n + 1 and its own VMCS; all share the EPT, the MSR and I/O
 * bitmaps. The BSP's vCPU starts at the guest kernel's entry; each AP's vCPU starts in the state after INIT,
 * waiting for a SIPI (SDM Vol. 3C 25.4.2), so the guest starts its CPUs itself with INIT-SIPI-SIPI and every
 * one of them runs under hapvisor. The first vCPU to end ends the run: it stops the others with an INIT IPI
 * (which makes a VM exit in VMX non-root operation, SDM Vol. 3C 26.2, and is blocked in VMX root), prints
 * one summary and does the on_exit action.
 */
#include "vmx/run.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/integrity.h"
#include "arch/x86/mtrr.h"
#include "arch/x86/nmi.h"
#include "arch/x86/percpu.h"
#include "arch/x86/power.h"
#include "arch/x86/screen.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "lib/log.h"
#include "mm/guest_mem.h"
#include "mm/pmm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/entry_check_vmcs.h"
#include "vmx/ept.h"
#include "vmx/events.h"
#include "vmx/fatal_test.h"
#include "vmx/exit.h"
#include "vmx/gwalk.h"
#include "vmx/io_bitmap.h"
#include "vmx/msr_bitmap.h"
#include "vmx/shadow.h"
#include "vmx/shadow_exit.h"
#include "vmx/time_limit.h"
#include "vmx/vcpu.h"
#include "vmx/vmx_ops.h"
#include "vmx/vmcs_setup.h"
#include "vmx/vmxon.h"

#define VMFAIL_INVALID 1
#define AP_LAUNCH_TIMEOUT_MS 1000u /* for an AP to reach its first VM entry */
#define STOP_TIMEOUT_MS 100u	   /* for the other vCPUs to leave the guest at the end of the run */

int vmx_enter(struct guest_regs *regs, int launched);
extern const char vmx_resume_restart[], vmx_resume_insn[]; /* vmx/entry.asm */

static struct vcpu vcpus[HV_MAX_CPUS];
static struct mtrr_state mtrr;
static struct vmcs_config shared_cfg; /* what every vCPU's VMCS shares: EPT, bitmaps */
static enum on_exit_action run_on_exit;
static uint32_t run_over;	  /* set once, by the vCPU that ends the run */
static uint32_t active_vcpus = 1; /* vCPUs out of wait-for-SIPI (the BSP's from launch) */

unsigned vmx_active_vcpus(void)
{
	return __atomic_load_n(&active_vcpus, __ATOMIC_ACQUIRE);
}

void vmx_vcpu_activity(int delta)
{
	__atomic_add_fetch(&active_vcpus, (uint32_t)delta, __ATOMIC_ACQ_REL);
}

bool vmx_run_over(void)
{
	return __atomic_load_n(&run_over, __ATOMIC_ACQUIRE) != 0;
}

/* Guest-physical addresses the CPU can form: 2^MAXPHYADDR. */
static uint64_t phys_addr_limit(void)
{
	return 1ull << cpu_maxphyaddr();
}

static unsigned ept_max_level(void)
{
	return vmx_caps.ept_1g ? PG_LEVEL_1G : vmx_caps.ept_2m ? PG_LEVEL_2M : PG_LEVEL_4K;
}

static bool shadow_paging; /* this run translates guest memory with shadow paging, not EPT */
static const char *park_reason = "cpus_option";

static const char *const entry_failure_reasons[] = {
	[EXIT_REASON_INVALID_GUEST_STATE] = "invalid guest state (SDM Vol. 3C 27.3.1)",
	[EXIT_REASON_MSR_LOADING] = "MSR loading failed (SDM Vol. 3C 27.4)",
	[EXIT_REASON_MACHINE_CHECK] = "machine-check event during VM entry (SDM Vol. 3C 27.9)",
};

/* What EPT (paging=ept) needs that this CPU lacks, or NULL; *reason the event's word for it. */
static const char *ept_missing(const char **reason)
{
	const struct vmx_caps *c = &vmx_caps;
	const struct {
		bool ok;
		const char *what, *reason;
	} needs[] = {
		{c->ept, "EPT (extended page tables)", "no_ept"},
		{c->unrestricted_guest, "unrestricted guest", "no_unrestricted_guest"},
		{c->ept_wb, "write-back EPT paging structures", "no_ept_wb"},
		{c->ept_walk4, "4-level EPT", "no_ept_walk4"},
		{c->invept && (c->invept_single || c->invept_all), "INVEPT", "no_invept"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(needs); i++) {
		if (!needs[i].ok) {
			*reason = needs[i].reason;
			return needs[i].what;
		}
	}
	return NULL;
}

/* Whether option paging means shadow paging on this CPU: asked for, or auto on a CPU short of EPT. */
static bool uses_shadow_paging(enum paging_choice choice)
{
	const char *reason;
	return choice == PAGING_SHADOW || (choice == PAGING_AUTO && ept_missing(&reason));
}

/*
 * Decide how guest memory is translated (option paging): EPT where asked or where the CPU can (EPT with
 * unrestricted guest), else shadow paging (vmx/shadow_exit.h). paging=ept on a CPU that cannot is a
 * refusal in words. Logs event=guest_paging. False: refused.
 */
static bool choose_paging(enum paging_choice choice)
{
	const char *reason = "option", *missing = ept_missing(&reason);
	if (choice == PAGING_EPT && missing) {
		log_error(
			"this CPU's VT-x lacks %s, which paging=ept needs; leave paging=ept out (hapvisor then runs the guest with shadow paging) or use an Intel CPU from the Westmere (2010) generation or later",
			missing);
		log_event("vmx_refused reason=%s paging=ept", reason);
		return false;
	}
	shadow_paging = uses_shadow_paging(choice);
	if (choice != PAGING_AUTO)
		reason = "option";
	else if (!missing)
		reason = "cpu_has_ept";
	if (shadow_paging && missing)
		log_info(
			"this CPU's VT-x lacks %s: hapvisor translates guest memory with shadow page tables (slower; one CPU for the guest)",
			missing);
	log_event("guest_paging mode=%s reason=%s", shadow_paging ? "shadow" : "ept", reason);
	return true;
}

/* The EPT (paging=ept): built with the MTRR snapshot; its pointer goes to cfg. */
static bool prepare_ept(const struct vmx_guest *g, struct vmcs_config *cfg)
{
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
	cfg->eptp = ept_pointer();
	return true;
}

/* Whether the CPU allows a control bit to be 1 (the allowed-1 settings: the capability MSR's high half). */
static bool control_allowed(uint64_t cap, uint32_t bits)
{
	return ((cap >> 32) & bits) == bits;
}

/*
 * NMI exiting, virtual NMIs and NMI-window exiting (vmx/events.h), in either paging mode: without them an
 * NMI that comes while hapvisor runs could not be held for the guest. False: refused in words.
 */
static bool nmi_controls_met(void)
{
	const struct vmx_caps *c = &vmx_caps;
	if (control_allowed(c->pinbased, PIN_NMI_EXITING | PIN_VIRTUAL_NMIS) &&
	    control_allowed(c->procbased, CPU_NMI_WINDOW_EXITING))
		return true;
	log_error(
		"this CPU's VT-x lacks virtual NMIs and NMI-window exiting, which hapvisor needs to run a guest; use an Intel CPU from the Nehalem (2008) generation or later, or give the VM a newer virtual CPU model");
	log_event("vmx_refused reason=no_virtual_nmis");
	return false;
}

/* What every vCPU shares: the MTRR snapshot, the EPT, the MSR and I/O bitmaps (in shared_cfg). */
static bool prepare_shared(const struct vmx_guest *g)
{
	struct vmcs_config cfg = {
		.entry_eip = g->entry_eip,
		.cs_sel = g->cs_sel,
		.ds_sel = g->ds_sel,
		.gdtr_base = g->gdtr_base,
		.gdtr_limit = g->gdtr_limit,
		.preemption_timer = g->time_limit_ms != 0,
	};
	/* The time limit is the boot CPU's: its vCPU runs from launch; the others start when the guest asks.
	 */
	if (cfg.preemption_timer && !time_limit_setup(&vcpus[0], g->time_limit_ms))
		return false;
	mtrr_read(&mtrr);
	mtrr_log(&mtrr);
	guest_mem_init(g->memory, phys_addr_limit());
	cfg.shadow = shadow_paging;
	if (shadow_paging) {
		if (!shadow_exit_setup(g->memory, &mtrr))
			return false;
	} else if (!prepare_ept(g, &cfg)) {
		return false;
	}
	cfg.msr_bitmap = msr_bitmap_create(shadow_paging);
	if (!cfg.msr_bitmap || !io_bitmap_create(&cfg.io_bitmap_a, &cfg.io_bitmap_b)) {
		log_error(
			"hapvisor's memory pool is exhausted while preparing the guest; boot with a larger hvmem=");
		return false;
	}
	shared_cfg = cfg;
	return true;
}

/*
 * This CPU's vCPU: its own VMCS (controls, host state of this CPU, the guest's entry state) with VPID
 * index + 1, loaded and current; this CPU's cached EPT and VPID translations dropped.
 */
static bool prepare_vcpu(struct vcpu *v, struct percpu *cpu)
{
	struct vmcs_config cfg = shared_cfg;
	cfg.vpid = vmx_caps.vpid ? (uint16_t)(cpu->index + 1) : 0;
	cfg.preemption_timer = shared_cfg.preemption_timer && cpu->index == 0; /* guest_timeout: the BSP's */
	v->cpu = cpu->index;
	v->vmcs_pa = pmm_alloc_frame();
	if (!v->vmcs_pa) {
		log_error(
			"hapvisor's memory pool is exhausted while preparing vCPU %u; boot with a larger hvmem=",
			cpu->index);
		return false;
	}
	if (cfg.shadow)
		cfg.guest_cr3 = shadow_vcpu_start(v);
	if (!vmcs_load(v->vmcs_pa, vmx_caps.revision) || !vmcs_setup(&cfg))
		return false;
	if (cfg.preemption_timer)
		time_limit_arm(v);
	vcpu_events_launch(v);
	if (!cfg.shadow)
		ept_sync_context(ept_pointer());
	vpid_sync_context(cfg.vpid);
	v->vpid = cfg.vpid;
	v->state = VCPU_RUNNING;
	cpu->vcpu = v;
	return true;
}

void vmx_vcpu_reset_to_init(struct vcpu *v)
{
	for (unsigned i = 0; i < GPR_COUNT; i++)
		v->regs.gpr[i] = 0;
	v->regs.gpr[GPR_RDX] =
		cpuid(CPUID_LEAF_FEATURES, 0).eax; /* the processor signature (SDM Vol. 3A 10.1.2) */
	vmcs_guest_init_state();
	vcpu_events_reset(v);
	v->wait_for_sipi = true;
	percpu[v->cpu].wait_for_sipi = true;
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

static uint64_t report_stats(const struct vcpu *v)
{
	uint64_t cycles = 0;
	for (unsigned i = 0; i < HC_EXIT_REASONS; i++) {
		if (!v->stats.count[i])
			continue;
		cycles += v->stats.cycles[i];
		log_event("exit_stats cpu=%u reason=%u name=%s count=%llu cycles=%llu avg_cycles=%llu",
			  v->cpu, i, exit_reason_name(i), (unsigned long long)v->stats.count[i],
			  (unsigned long long)v->stats.cycles[i],
			  (unsigned long long)(v->stats.cycles[i] / v->stats.count[i]));
	}
	log_event("exit_total cpu=%u count=%llu cycles=%llu", v->cpu, (unsigned long long)v->stats.total,
		  (unsigned long long)cycles);
	vcpu_events_report(v);
	return cycles;
}

/* Every vCPU that ran: its lines, then the sums over all of them (event=exit_total cpu=all). */
static void report_all_stats(void)
{
	uint64_t count = 0, cycles = 0;
	unsigned launched = 0;
	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		const struct vcpu *v = &vcpus[i];
		if (!percpu[i].vcpu) {		/* parked, failed or absent: no vCPU */
			if (percpu[i].nmi_root) /* taken and dropped in VMX root operation: no guest runs
						   there */
				log_event("cpu_nmis cpu=%u nmi_root=%u", i, percpu[i].nmi_root);
			continue;
		}
		launched++;
		cycles += report_stats(v);
		count += v->stats.total;
	}
	log_event("exit_total cpu=all vcpus=%u count=%llu cycles=%llu", launched, (unsigned long long)count,
		  (unsigned long long)cycles);
}

/* What the vCPU needs before each VM entry. */
static void before_entry(struct vcpu *v)
{
	/*
	 * Blocking by SMI must be 0 outside SMM (SDM Vol. 3C 27.3.1.5) and hapvisor never uses SMM, so a
	 * processor never stores it here. Bochs 2.7 does, on every exit of a vCPU it started with a SIPI exit
	 * (it keeps the wait-for-SIPI state's SMI masking), and the next VM entry would fail.
	 */
	if (v->clear_smi_blocking) {
		uint32_t intr = vmcs_read32(GUEST_INTERRUPTIBILITY_INFO);
		if (intr & GUEST_INTR_BLOCKING_SMI)
			vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, intr & ~(uint32_t)GUEST_INTR_BLOCKING_SMI);
	}
	if (v->shadow)
		shadow_before_entry(v);
}

/* The exit's handler from its row, or exit_unknown() for a reason hapvisor never expects. */
static inline void run_handler(const struct exit_desc *d, struct vcpu *v)
{
	if (__builtin_expect(d->handler != NULL, 1))
		d->handler(v);
	else
		exit_unknown(v);
}

/*
 * The lines the INIT and SIPI exits recorded (vmx/exit_misc.c), printed at the vCPU's first exit without
 * their time constraint, after that exit's statistics. Out of line: the common exit path pays one test.
 */
static NOINLINE void print_deferred(struct vcpu *v)
{
	uint32_t basic = EXIT_REASON_BASIC(v->exit_reason);
	if (basic != EXIT_REASON_INIT && basic != EXIT_REASON_SIPI)
		deferred_log_print(&v->log);
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
	const struct exit_desc *d = exit_desc(basic); /* looked up once: this is every exit's path */
	if (!d->no_qualification) {
		v->exit_qualification = vmcs_readnat(EXIT_QUALIFICATION);
		/* The event the exit interrupted, if it happened during event delivery (SDM Vol. 3C 28.2.4).
		 */
		v->idt_vectoring = vmcs_read32(IDT_VECTORING_INFO);
		if (v->exit_reason & EXIT_REASON_ENTRY_FAILURE)
			report_entry_failure(v);
		else
			run_handler(d, v);
		if (v->idt_vectoring & INTR_INFO_VALID)
			vcpu_complete_interrupts(v);
	} else {
		/* CPUID, RDMSR, WRMSR, VMCALL, XSETBV, INVD: instructions, which have no exit qualification
		 * and never exit during event delivery; two VMREADs saved on the most frequent exits. */
		v->exit_qualification = 0;
		v->idt_vectoring = 0;
		run_handler(d, v);
	}
	/* Still true after a dropped INIT (exit_init_signal): no guest instruction has run in between. */
	v->just_started = basic == EXIT_REASON_SIPI || (basic == EXIT_REASON_INIT && v->just_started);
	if (basic < HC_EXIT_REASONS) {
		v->stats.count[basic]++;
		v->stats.cycles[basic] += rdtsc() - t_exit;
	}
	v->stats.total++;
	if (UNLIKELY(deferred_log_pending(&v->log)))
		print_deferred(v);
	if (v->state != VCPU_RUNNING || vmx_run_over())
		return false;
	before_entry(v);
	return true;
}

void vmx_nmi_before_resume(struct guest_regs *regs);

/*
 * Called by vmx/entry.asm just before VMRESUME when this CPU took an NMI in VMX root operation that the vCPU
 * has not seen (percpu.nmi_root != nmi_root_seen): deliver it, then entry.asm checks again.
 */
void vmx_nmi_before_resume(struct guest_regs *regs)
{
	vcpu_deliver_nmis((struct vcpu *)regs);
}

/*
 * Stop every other active vCPU: an INIT IPI makes a VM exit on a CPU in VMX non-root operation (its handler
 * sees run_over and stops); on a CPU in VMX root operation it stays pending and blocked. A vCPU still waiting
 * for a SIPI runs no guest code and is left waiting (Bochs does not even deliver INIT in that state). Waits
 * up to STOP_TIMEOUT_MS for each; returns how many left the guest.
 */
static unsigned stop_others(const struct percpu *self)
{
	unsigned stopped = 0;
	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		struct percpu *c = &percpu[i];
		if (c == self || c->state != CPU_RUNNING || vcpus[i].wait_for_sipi)
			continue;
		apic_send_init(c->apic_id);
		for (unsigned ms = 0; ms < STOP_TIMEOUT_MS && c->state == CPU_RUNNING; ms++)
			udelay(1000);
		stopped += c->state != CPU_RUNNING;
	}
	return stopped;
}

/*
 * The paging mode the guest's CPU is in as the run ends (SDM Vol. 3A 4.1.1: CR0.PG, CR4.PAE, EFER.LMA,
 * CR4.LA57), as the guest set it (vcpu_guest_paging(): read shadows and, under shadow paging, the vCPU's
 * EFER), v's: the mode a kernel ran in after its boot, which the lanes check (32-bit, PAE, 4-level,
 * 5-level). A fact for the logs; nothing depends on it. event=guest_paging is the other question, how
 * hapvisor translates guest memory.
 */
static void log_guest_mode(const struct vcpu *v)
{
	struct gwalk_cpu cpu;
	vcpu_guest_paging(v, &cpu, NULL);
	log_event("guest_mode cpu=%u paging=%s cr0=%#llx cr4=%#llx efer=%#llx", v->cpu,
		  gwalk_mode_name(gwalk_mode_of(&cpu)), (unsigned long long)cpu.cr0,
		  (unsigned long long)cpu.cr4, (unsigned long long)cpu.efer);
}

/*
 * After this CPU's vCPU left its loop: the first to get here ends the run (the others are stopped, one
 * summary, VMXOFF here, on_exit); any later one halts in VMX root operation.
 */
static NORETURN void end_of_run(struct vcpu *v)
{
	struct percpu *self = this_cpu();
	if (__atomic_exchange_n(&run_over, 1u, __ATOMIC_ACQ_REL))
		smp_halt_self(CPU_STOPPED);
	self->state = CPU_STOPPED;
	unsigned active = 0, waiting = 0;
	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		if (&percpu[i] == self || percpu[i].state != CPU_RUNNING)
			continue;
		if (vcpus[i].wait_for_sipi)
			waiting++;
		else
			active++;
	}
	if (active + waiting) {
		unsigned stopped = active ? stop_others(self) : 0;
		log_event("smp_stop cpu=%u active=%u stopped=%u waiting_for_sipi=%u", self->index, active,
			  stopped, waiting);
	}
	screen_reclaim();
	for (unsigned i = 0; i < smp_cpu_count(); i++) /* what the vCPUs recorded and did not print yet */
		if (percpu[i].vcpu)
			deferred_log_print(&vcpus[i].log);
	report_all_stats();
	if (shadow_paging)
		shadow_log_stats("guest_exit");
	else
		ept_log_stats("guest_exit");
	integrity_check("guest_exit");
	log_guest_mode(v);
	log_event("guest_exit cpu=%u status=%d reason=\"%s\"", v->cpu, v->stop_status, v->stop_reason);
	vmx_off();
	hv_finish(run_on_exit, v->stop_status, v->stop_reason);
}

/* Run the vCPU until it stops (exits are handled inside vmx_enter: vmx_handle_exit), then end the run. */
static NORETURN void run_vcpu(struct vcpu *v)
{
	before_entry(v);
	int r = vmx_enter(&v->regs, v->launched);
	if (r)
		report_vmfail(v, r);
	end_of_run(v);
}

/* An AP's vCPU (smp_call from vmx_run_guest): VMCS, the state after INIT, VMLAUNCH into wait-for-SIPI. */
static void ap_vcpu_main(struct percpu *cpu)
{
	struct vcpu *v = &vcpus[cpu->index];
	if (!prepare_vcpu(v, cpu)) {
		log_event("vmlaunch cpu=%u result=fail", cpu->index);
		smp_halt_self(CPU_FAILED);
	}
	vmx_vcpu_reset_to_init(v);
	log_event("vmlaunch cpu=%u vpid=%u activity=wait_for_sipi", cpu->index, v->vpid);
	cpu->state = CPU_RUNNING;
	run_vcpu(v);
}

/* An AP that runs no vCPU: halted in VMX root operation, where INIT is blocked. */
static void ap_park(struct percpu *cpu)
{
	log_event("cpu_parked cpu=%u apic_id=%u reason=%s", cpu->index, cpu->apic_id, park_reason);
	smp_halt_self(CPU_PARKED);
}

bool vmx_cpu_gets_vcpu(unsigned index, unsigned cpus, enum paging_choice paging)
{
	if (index == 0)
		return true;
	return index < smp_cpu_count() && percpu[index].state == CPU_ONLINE && (cpus == 0 || index < cpus) &&
	       vmcs_wait_for_sipi_supported() && !uses_shadow_paging(paging);
}

/*
 * Hand each online AP its vCPU (vmx_cpu_gets_vcpu) or park it, and wait until each vCPU is about to enter
 * the guest. An AP that fails stays halted; the run goes on without it.
 */
static void launch_aps(unsigned cpus, enum paging_choice paging)
{
	for (unsigned i = 1; i < smp_cpu_count(); i++) {
		struct percpu *c = &percpu[i];
		if (c->state != CPU_ONLINE)
			continue;
		if (!vmx_cpu_gets_vcpu(i, cpus, paging)) {
			smp_call(c, ap_park);
			continue;
		}
		smp_call(c, ap_vcpu_main);
		for (unsigned ms = 0; ms < AP_LAUNCH_TIMEOUT_MS && c->state == CPU_ONLINE; ms++)
			udelay(1000);
	}
}

void vmx_run_guest(const struct vmx_guest *g, enum on_exit_action on_exit)
{
	struct vcpu *v = &vcpus[0];
	run_on_exit = on_exit;
	nmi_set_restart(vmx_resume_restart, vmx_resume_insn);
	fatal_test_arm(g->fatal_test);
	if (!nmi_controls_met() || !choose_paging(g->paging) || !prepare_shared(g) ||
	    !prepare_vcpu(v, &percpu[0])) {
		vmx_off();
		hv_finish(on_exit, 1, "the guest could not be started");
	}
	v->regs.gpr[GPR_RAX] = g->eax;
	v->regs.gpr[GPR_RBX] = g->ebx;
	v->regs.gpr[GPR_RSI] = g->esi;
	if (smp_cpu_count() > 1) {
		if (shadow_paging) {
			/* Without unrestricted guest an AP cannot run its real-mode start-up code. */
			log_warn(
				"paging=shadow runs the guest on one CPU; the other %u processors stay halted under hapvisor",
				smp_cpu_count() - 1);
			park_reason = "paging_shadow";
		} else if (!vmcs_wait_for_sipi_supported()) {
			log_warn(
				"this CPU's VT-x has no wait-for-SIPI activity state; the other processors stay halted under hapvisor and the guest runs on one CPU");
			park_reason = "no_wait_for_sipi";
		}
		launch_aps(g->cpus, g->paging);
	}
	entry_check_before_launch(g->entry_check, g->vmcs_break,
				  on_exit); /* the BSP's VMCS is current here */
	pmm_print();
	uint64_t tsc = rdtsc(), tsc_console = console_tsc;
	log_event(
		"vmlaunch cpu=0 rip=%#x eax=%#x ebx=%#x vpid=%u paging=%s eptp=%#llx tsc=%llu tsc_console=%llu tsc_screen=%llu",
		g->entry_eip, g->eax, g->ebx, v->vpid, shadow_paging ? "shadow" : "ept",
		(unsigned long long)(shadow_paging ? 0 : ept_pointer()), (unsigned long long)tsc,
		(unsigned long long)tsc_console, (unsigned long long)console_screen_tsc);
	screen_release(); /* the guest owns the screen until it ends (docs/screen.md) */
	percpu[0].state = CPU_RUNNING;
	run_vcpu(v);
}
