/*
 * testkernel: check smp. With `smp` or `smp_init` on the kernel's command line (the bochs-smp lane boots 2
 * CPUs), the kernel starts its second CPU as a kernel does: (with smp_init, an INIT, then) two start-up IPIs
 * to "all excluding self" (SDM Vol. 3A 9.4.4, 11.6.1) with its own real-mode start code (ap_boot.asm). Under
 * hapvisor each of those CPUs runs as a vCPU; the second one reports what it sees (its APIC ID, the CPUID
 * hypervisor bit and hapvisor's signature) under the serial lock, and halts. Without `smp` the check only
 * notes that. It runs last: hapvisor ends dirty tracking when a second vCPU starts.
 */
#include "checks.h"
#include "hypercall.h"
#include "serial.h"

#define TK_AP_PAGE UINT64_C(0x8000)  /* ap_boot.asm */
#define SMP_WORD "smp"		     /* start CPU 1 with SIPI-SIPI (it waits for a SIPI after reset) */
#define SMP_INIT_WORD "smp_init"     /* start it with INIT-SIPI-SIPI */
#define SMP_PARKED_WORD "smp_parked" /* hapvisor keeps CPU 1 (cpus=1): it must never run this code */
#define SMP_ATTACK_WORD "smp_attack" /* CPU 1 reads hapvisor's region: hapvisor must stop the run */
#define PARKED_WAIT_TICKS UINT64_C(300000000)

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_ADDR_MASK UINT64_C(0xFFFFFF000)
#define APIC_BASE_X2APIC BIT(10)
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define MSR_X2APIC_ICR 0x830
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define ICR_PENDING BIT(12)
#define ICR_ASSERT BIT(14)
#define ICR_LEVEL_TRIGGER BIT(15)
#define ICR_ALL_EXCLUDING_SELF (3u << 18)

/* Rough TSC waits (Bochs: one tick per instruction; hardware: a few GHz): at least the SDM's 10 ms and
 * 200 us on either. */
#define INIT_WAIT_TICKS UINT64_C(30000000)
#define SIPI_WAIT_TICKS UINT64_C(600000)
#define AP_WAIT_TICKS UINT64_C(3000000000)
#define CPUID_APIC_ID_SHIFT 24
#define HV_SIGNATURE_LEAF 0x40000000u

extern const char tk_ap_start[], tk_ap_end[];
__attribute__((noreturn)) void tk_ap_main(void);

/* What the second CPU reports; written by it, read by the BSP after `done`. */
static volatile struct {
	uint64_t attack_target; /* set by the BSP for smp_attack: CPU 1 reads it */
	uint32_t alive, done;
	uint32_t apic_id;
	uint32_t hypervisor_bit;
	char signature[13];
} ap;

static void wait_ticks(uint64_t ticks)
{
	uint64_t t0 = rdtsc();
	while (rdtsc() - t0 < ticks)
		cpu_relax();
}

static bool has_word(const char *s, const char *w)
{
	size_t n = tk_strlen(w);
	for (const char *p = s; *p; p++) {
		bool start = p == s || p[-1] == ' ';
		if (start && tk_strncmp(p, w, n) == 0 && (p[n] == '\0' || p[n] == ' '))
			return true;
	}
	return false;
}

/* Send an IPI to every other CPU (xAPIC or x2APIC, whichever the CPU is in). */
static void ipi_others(uint32_t icr_lo)
{
	uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
	if (base & APIC_BASE_X2APIC) {
		wrmsr(MSR_X2APIC_ICR, icr_lo | ICR_ALL_EXCLUDING_SELF);
		return;
	}
	volatile uint32_t *apic = (volatile uint32_t *)(uintptr_t)(base & APIC_BASE_ADDR_MASK);
	while (apic[XAPIC_ICR_LO / 4] & ICR_PENDING)
		cpu_relax();
	apic[XAPIC_ICR_HI / 4] = 0;
	apic[XAPIC_ICR_LO / 4] = icr_lo | ICR_ALL_EXCLUDING_SELF;
}

/* The second CPU, from ap_boot.asm: look around, report under the serial lock, halt. */
void tk_ap_main(void)
{
	ap.alive = 1;
	if (ap.attack_target) {
		tk_printf("testkernel: cpu=1 attack=read target=0x%lx starting\n", ap.attack_target);
		uint64_t v = *(volatile uint64_t *)(uintptr_t)ap.attack_target;
		tk_printf("testkernel: cpu=1 attack=read result=fail value=0x%lx (hapvisor's memory was "
			  "read)\n",
			  v);
		__atomic_store_n(&ap.done, 1, __ATOMIC_RELEASE);
		cpu_halt_forever();
	}
	struct cpuid_regs r = cpuid(1, 0);
	ap.apic_id = r.ebx >> CPUID_APIC_ID_SHIFT;
	ap.hypervisor_bit = (r.ecx & CPUID1_ECX_HYPERVISOR) != 0;
	struct cpuid_regs s = cpuid(HV_SIGNATURE_LEAF, 0);
	uint32_t words[3] = {s.ebx, s.ecx, s.edx};
	for (unsigned i = 0; i < 12; i++)
		ap.signature[i] = (char)(words[i / 4] >> (8 * (i % 4)));
	ap.signature[12] = '\0';
	tk_printf("testkernel: cpu=1 apic_id=%u hypervisor_bit=%u signature=\"%s\"\n", ap.apic_id,
		  ap.hypervisor_bit, (const char *)ap.signature);
	__atomic_store_n(&ap.done, 1, __ATOMIC_RELEASE);
	cpu_halt_forever();
}

/* Is [TK_AP_PAGE, + 4 KiB) available RAM in the loader's map (so the start code may go there)? */
static bool start_page_available(const struct boot_info *b)
{
	for (size_t i = 0; i < b->map_count; i++) {
		const struct mem_range *m = &b->map[i];
		if (m->type == 1 && m->base <= TK_AP_PAGE && TK_AP_PAGE + PAGE_SIZE <= m->end)
			return true;
	}
	return false;
}

void check_smp(struct check *c, struct tk_context *t)
{
	bool with_init = has_word(t->boot.cmdline, SMP_INIT_WORD);
	bool parked = has_word(t->boot.cmdline, SMP_PARKED_WORD);
	bool attack = has_word(t->boot.cmdline, SMP_ATTACK_WORD);
	if (!with_init && !parked && !attack && !has_word(t->boot.cmdline, SMP_WORD)) {
		check_note(c, "cpus=1 started=0 (no '%s' on the command line)", SMP_WORD);
		return;
	}
	if (attack) {
		if (!t->have_hv_region) {
			check_fail(c, "attack=no_hv_region");
			return;
		}
		ap.attack_target =
			ALIGN_DOWN(t->hv_region.base + (t->hv_region.end - t->hv_region.base) / 2, PAGE_SIZE);
	}
	if (!start_page_available(&t->boot)) {
		check_fail(c, "start_page=0x%lx not_available_ram", TK_AP_PAGE);
		return;
	}
	uint8_t *page = (uint8_t *)(uintptr_t)TK_AP_PAGE;
	for (const char *p = tk_ap_start; p < tk_ap_end; p++)
		page[p - tk_ap_start] = (uint8_t)*p;
	uint32_t bsp_apic_id = cpuid(1, 0).ebx >> CPUID_APIC_ID_SHIFT;
	uint8_t vector = (uint8_t)(TK_AP_PAGE >> 12);

	/* As Linux does (wakeup_secondary_cpu_via_init): a level-triggered INIT assert, then de-assert.
	 * Only with `smp_init`: Bochs 2.7 leaves an INIT that caused a VM exit pending, so every later VM
	 * entry of that vCPU exits again (docs/testing.md); the processor waits for a SIPI anyway. */
	if (with_init) {
		ipi_others(ICR_INIT | ICR_ASSERT | ICR_LEVEL_TRIGGER);
		ipi_others(ICR_INIT | ICR_LEVEL_TRIGGER);
	}
	wait_ticks(INIT_WAIT_TICKS);
	for (int i = 0; i < 2 && !ap.alive; i++) {
		ipi_others(ICR_STARTUP | ICR_ASSERT | vector);
		wait_ticks(SIPI_WAIT_TICKS);
	}
	uint64_t t0 = rdtsc();
	uint64_t limit = parked ? PARKED_WAIT_TICKS : AP_WAIT_TICKS;
	while (!__atomic_load_n(&ap.done, __ATOMIC_ACQUIRE) && rdtsc() - t0 < limit)
		cpu_relax();
	if (parked) { /* cpus=1: CPU 1 stays hapvisor's; the guest's start-up IPIs must not reach it */
		check_note(c, "cpus=2 parked=1 cpu1_alive=%u", ap.alive);
		if (ap.alive)
			check_fail(c, "cpu1_ran_guest_code_while_parked");
		return;
	}
	check_note(c, "cpus=2 started=%u init=%d bsp_apic_id=%u", ap.done, with_init, bsp_apic_id);
	if (!ap.done) {
		check_fail(c, "cpu1=no_report alive=%u", ap.alive);
		return;
	}
	check_note(c, "cpu1_apic_id=%u cpu1_hypervisor_bit=%u cpu1_signature=\"%s\"", ap.apic_id,
		   ap.hypervisor_bit, (const char *)ap.signature);
	if (ap.apic_id == bsp_apic_id)
		check_fail(c, "cpu1_apic_id_equals_bsp");
	if (!ap.hypervisor_bit)
		check_fail(c, "cpu1_runs_outside_hapvisor");
	if (tk_strncmp((const char *)ap.signature, "hapvisor", 8) != 0)
		check_fail(c, "cpu1_signature_mismatch");
	/* Two vCPUs run now: dirty tracking (EPT permission reductions) must be refused. */
	struct hc_result r = hc_call(HC_DIRTY_START, TK_AP_PAGE, PAGE_SIZE, 0, 0);
	check_note(c, "dirty_start_with_2_cpus=%ld", r.value);
	if (r.vector != PROBE_NO_FAULT || r.value != HC_EBUSY)
		check_fail(c, "dirty_start_not_refused expected=%d", HC_EBUSY);
}
