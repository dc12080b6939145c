/* Exits for instructions that always exit in VMX non-root (SDM Vol. 3C 26.1.2) and for fatal events. */
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/desc.h"
#include "arch/x86/percpu.h"
#include "lib/log.h"
#include "vmx/dirty.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/run.h"
#include "vmx/vmx_ops.h"
#include "vmx/vmcs_setup.h"

#define SIPI_VECTOR_MASK 0xFFu	 /* the exit qualification of a SIPI exit (SDM Vol. 3C 28.2.1) */
#define SIPI_CS_SELECTOR_SHIFT 8 /* CS = vector << 8, base vector << 12 (SDM Vol. 3A 9.4.4.1) */
#define SIPI_CS_BASE_SHIFT 12

#define XCR0_X87 BIT(0)
#define XCR0_SSE BIT(1)
#define XCR0_AVX BIT(2)
#define XCR0_BNDREGS BIT(3)
#define XCR0_BNDCSR BIT(4)
#define XCR0_AVX512 (BIT(5) | BIT(6) | BIT(7))

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
	log_error(
		"the guest triple-faulted (an exception it could not handle); on real hardware the machine would have reset");
	vcpu_dump(v, "guest triple fault");
	log_event("guest_triple_fault rip=%#llx", (unsigned long long)vmcs_readnat(GUEST_RIP));
	vcpu_stop(v, 1, "guest triple fault");
}

/*
 * The INIT and SIPI exits have a time constraint: the guest sends its start-up IPIs microseconds after the
 * INIT (Linux: about 10 us apart), and a SIPI that arrives before the VM entry in wait-for-SIPI is lost. So
 * they print nothing; they record their event lines for later (lib/deferred_log.h, struct vcpu's log), with
 * the TSC of the exit (tsc=), since the lines come out later than lines printed directly.
 */
#define INIT_ACTION_WAIT "wait_for_sipi"
#define INIT_ACTION_DROPPED "dropped_blocked_before_sipi"

/* arg: CPU, guest RIP, action (a string above), TSC */
static void print_init_signal(const uint64_t a[DEFERRED_EVENT_ARGS])
{
	log_event("guest_init_signal cpu=%u rip=%#llx action=%s tsc=%llu", (unsigned)a[0],
		  (unsigned long long)a[1], (const char *)(uintptr_t)a[2], (unsigned long long)a[3]);
}

/* arg: CPU, vector, active vCPUs, TSC */
static void print_sipi(const uint64_t a[DEFERRED_EVENT_ARGS])
{
	log_event("vcpu_sipi cpu=%u vector=%#x active_vcpus=%u tsc=%llu", (unsigned)a[0], (unsigned)a[1],
		  (unsigned)a[2], (unsigned long long)a[3]);
}

static void print_dirty_stop(const uint64_t a[DEFERRED_EVENT_ARGS])
{
	log_event("dirty_track stop reason=second_vcpu cpu=%u", (unsigned)a[0]);
}

/*
 * An INIT signal (SDM Vol. 3C 26.2: INIT always exits in VMX non-root operation).
 * - the run is over (another vCPU ended it and sent the INIT): this vCPU stops;
 * - an AP's vCPU: what the hardware does, it goes back to the state after INIT, waiting for a SIPI (the
 *   guest restarts its CPUs this way: Linux's CPU hot-plug, kexec);
 * - the BSP's vCPU: a guest that resets its boot processor wants the machine reset, which hapvisor cannot
 *   give it (the firmware does not run again under it): the run ends, with success, as before SMP;
 * - right after a SIPI exit, before any guest instruction: the INIT of the guest's INIT-SIPI-SIPI, which
 *   was blocked while the vCPU waited for the SIPI (SDM Vol. 3C 26.2: "If a logical processor is in the
 *   wait-for-SIPI state, INIT signals are blocked") and is delivered only now. On bare metal it came first
 *   and the SIPI started the processor after it: it is dropped, and the guest's second SIPI then finds the
 *   processor running and is ignored, as on bare metal.
 */
void exit_init_signal(struct vcpu *v)
{
	if (vmx_run_over()) {
		vcpu_stop(v, 0, "stopped: another vCPU ended the run");
		return;
	}
	if (v->cpu == 0) { /* no time constraint: the run ends */
		log_event("guest_init_signal cpu=0 rip=%#llx action=end_run",
			  (unsigned long long)vmcs_readnat(GUEST_RIP));
		vcpu_stop(v, 0, "INIT signal to the guest's boot CPU (reset)");
		return;
	}
	uint64_t rip = vmcs_readnat(GUEST_RIP);
	if (v->just_started) {
		if (v->inits_dropped++ == 0) /* once per SIPI, should a CPU deliver it again */
			deferred_log_put(&v->log, print_init_signal, v->cpu, rip,
					 (uintptr_t)INIT_ACTION_DROPPED, rdtsc());
		vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0); /* as after the SIPI exit (exit_sipi) */
		return;
	}
	if (!v->wait_for_sipi)
		vmx_vcpu_activity(-1);
	vmx_vcpu_reset_to_init(v);
	deferred_log_put(&v->log, print_init_signal, v->cpu, rip, (uintptr_t)INIT_ACTION_WAIT, rdtsc());
}

/*
 * A start-up IPI to a vCPU waiting for one (SDM Vol. 3C 25.4.2, 28.2.1): do what the processor does, start
 * in real mode at vector:0000 (CS = vector << 8, base vector << 12, IP 0), active. Dirty tracking ends
 * (it needs a single vCPU, vmx/dirty.c), and this CPU's EPT translations are dropped so that no permission
 * reduction made while it waited can be stale here. NMIs that came while it waited are delivered now.
 */
void exit_sipi(struct vcpu *v)
{
	uint32_t vector = (uint32_t)(v->exit_qualification & SIPI_VECTOR_MASK);
	vmcs_write16(GUEST_CS_SELECTOR, (uint16_t)(vector << SIPI_CS_SELECTOR_SHIFT));
	vmcs_writenat(GUEST_CS_BASE, (uint64_t)vector << SIPI_CS_BASE_SHIFT);
	vmcs_writenat(GUEST_RIP, 0);
	vmcs_write32(GUEST_ACTIVITY_STATE, ACTIVITY_ACTIVE);
	/* The CPU may store the wait-for-SIPI state's event blocking (Bochs: blocking by SMI and NMI; VM
	 * entry refuses the first outside SMM, SDM Vol. 3C 27.3.1.5); a started processor blocks nothing. */
	vmcs_write32(GUEST_INTERRUPTIBILITY_INFO, 0);
	v->clear_smi_blocking = true;
	if (v->wait_for_sipi) {
		v->wait_for_sipi = false;
		percpu[v->cpu].wait_for_sipi = false;
		vmx_vcpu_activity(1);
	}
	v->inits_dropped = 0;
	bool dirty_stopped = dirty_abandon();
	ept_sync_context(ept_pointer());
	deferred_log_put(&v->log, print_sipi, v->cpu, vector, vmx_active_vcpus(), rdtsc());
	if (dirty_stopped)
		deferred_log_put(&v->log, print_dirty_stop, v->cpu, 0, 0, 0);
	vcpu_deliver_nmis(v); /* NMIs held while it waited */
}
