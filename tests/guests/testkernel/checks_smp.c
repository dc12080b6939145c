/*
 * testkernel: check smp. With `smp`, `smp_init` or `smp_init_1sipi` on the kernel's command line (the
 * bochs-smp lanes boot 2 CPUs), the kernel starts its second CPU as a kernel does: (an INIT, then) start-up
 * IPIs to "all excluding self" (SDM Vol. 3A 9.4.4, 11.6.1) with its own real-mode start code (ap_boot.asm).
 * Under hapvisor each of those CPUs runs as a vCPU; the second one reports what it sees (its APIC ID, the
 * CPUID hypervisor bit and hapvisor's signature) under the serial lock, and halts. With an INIT word the
 * kernel then starts that CPU again SMP_RESTARTS times, as Linux brings a CPU back online: an INIT to a
 * processor that already ran, then the start-up IPIs. Without an `smp` word the check only notes that. It
 * runs last: hapvisor ends dirty tracking when a second vCPU starts.
 */
#include "checks.h"
#include "fresh.h"
#include "hypercall.h"
#include "serial.h"

#define TK_AP_PAGE UINT64_C(0x8000) /* ap_boot.asm */
#define SMP_WORD "smp"		    /* start CPU 1 with SIPI-SIPI (it waits for a SIPI after reset) */
#define SMP_INIT_WORD "smp_init"    /* start it with INIT-SIPI-SIPI, then restart it with Linux's timing */
#define SMP_INIT_1SIPI_WORD "smp_init_1sipi" /* start and restart it with an INIT and a single SIPI */
#define SMP_PARKED_WORD "smp_parked"	     /* hapvisor keeps CPU 1 (cpus=1): it must never run this code */
#define SMP_ATTACK_WORD "smp_attack"	     /* CPU 1 reads hapvisor's region: hapvisor must stop the run */
#define SMP_NMI_WORD "smp_nmi"	   /* NMIs: to CPU 1 before its SIPI, then from CPU 1 to CPU 0 (below) */
#define SMP_FATAL_WORD "smp_fatal" /* CPU 1 makes a hypercall that hapvisor fails on (fatal_test=) */
#define PARKED_WAIT_TICKS UINT64_C(300000000)

#define MSR_IA32_APIC_BASE 0x1B
#define APIC_BASE_ADDR_MASK UINT64_C(0xFFFFFF000)
#define APIC_BASE_X2APIC BIT(10)
#define XAPIC_ICR_LO 0x300
#define XAPIC_ICR_HI 0x310
#define MSR_X2APIC_ICR 0x830
#define ICR_NMI (4u << 8)
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
/* Linux 6.1 on a family-6 Intel CPU (smpboot.c, init_udelay = 0): no wait after the INIT, udelay(10) after
 * each start-up IPI; 10 us at the 3.5 GHz TSC rate of Bochs's Skylake-X. */
#define SIPI_GAP_LINUX_TICKS UINT64_C(35000)
#define SMP_RESTARTS 5u
#define AP_WAIT_TICKS UINT64_C(3000000000)
#define CPUID_APIC_ID_SHIFT 24
#define HV_SIGNATURE_LEAF 0x40000000u

/* smp_nmi: CPU 1 sends NMI_COUNT NMIs to CPU 0, each after the last was handled, while CPU 0 runs an exit
 * storm; the handler of NMI_IRET_TEST returns through a fresh GDT (on_nmi). */
#define NMI_COUNT 200u
#define NMI_IRET_TEST 100u
#define NMI_ACK_TICKS UINT64_C(300000000) /* for one NMI to reach its handler */
#define NMI_SETTLE_TICKS UINT64_C(200000) /* for a sent NMI to reach hapvisor */
#define IVT_NMI_ENTRY UINT64_C(0x8)	  /* the real-mode IVT's vector 2: offset, then segment */
#define STORM_STACK_PAGES 2
#define NMI_PHASE_STEP 37u /* the delay before each NMI varies over NMI_PHASE_SPAN ticks */
#define NMI_PHASE_SPAN 509u

/* smp_fatal: CPU 0 prints a heartbeat while CPU 1's hypercall makes hapvisor fail on CPU 1 (fatal_test=);
 * hapvisor must stop CPU 0 too, so no heartbeat follows its report. */
#define HEARTBEATS 200u
#define HEARTBEAT_TICKS UINT64_C(2000000)

extern const char tk_ap_start[], tk_ap_end[], tk_ap_nmi_real[], tk_ap_nmi_real_count[];
extern const char tk_fresh_gdt[], tk_fresh_gdt_end[], tk_gdt[], tk_isr_iret[];
__attribute__((noreturn)) void tk_ap_main(void);
void tk_storm_on(uint64_t stack_top, volatile uint32_t *stop, volatile uint32_t *started); /* events.asm */

/* The NMI run of smp_nmi, shared by both CPUs. */
static volatile struct {
	bool mode;		/* smp_nmi on the command line */
	uint32_t started;	/* CPU 0's storm runs */
	uint32_t sent, handled; /* by CPU 1, by CPU 0's handler */
	uint32_t nested;	/* NMIs taken inside the IRET that ends a handler: NMI blocking was lost */
	uint32_t lost;		/* the first NMI CPU 0 never handled, or 0 */
	uint32_t stop;		/* CPU 1 is done: CPU 0 ends its storm */
	bool iret_test;		/* NMI_IRET_TEST's handler left through the fresh GDT */
} nmi;

static volatile struct {
	bool mode;	/* smp_fatal on the command line */
	uint32_t alive; /* CPU 0's heartbeats so far */
} fatal;

/* What the second CPU reports; written by it, read by the BSP after `done`. */
static volatile struct {
	uint64_t attack_target; /* set by the BSP for smp_attack: CPU 1 reads it */
	uint32_t alive, done;
	uint32_t starts; /* how many times CPU 1 reached tk_ap_main */
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

struct __attribute__((packed)) gdt_pointer {
	uint16_t limit;
	uint64_t base;
};

static void load_gdt(const char *base, const char *end)
{
	struct gdt_pointer p = {.limit = (uint16_t)(end - base - 1), .base = (uint64_t)base};
	__asm__ volatile("lgdt %0" : : "m"(p) : "memory");
}

/*
 * CPU 0's NMI handler under smp_nmi. It counts the NMI (CPU 1 waits for that before sending the next) and
 * notes an NMI delivered with its frame at the IRET that ends a handler: one taken before that IRET had
 * finished, which blocking by NMI must prevent. NMI_IRET_TEST's handler waits until CPU 1 has sent the next
 * NMI (which hapvisor then holds: this handler blocks NMIs), then loads the fresh GDT copy, so that the
 * IRET's descriptor loads are the page's first access: under ept=4k an EPT violation during IRET, after which
 * hapvisor must restore NMI blocking ("NMI unblocking due to IRET") for the retried IRET.
 */
static uint64_t *on_nmi(struct trap_frame *f)
{
	if (f->rip == (uint64_t)tk_isr_iret)
		nmi.nested++;
	uint32_t n = nmi.handled + 1;
	__atomic_store_n(&nmi.handled, n, __ATOMIC_RELEASE);
	if (n == NMI_IRET_TEST) {
		uint64_t t0 = rdtsc();
		while (__atomic_load_n(&nmi.sent, __ATOMIC_ACQUIRE) <= n && rdtsc() - t0 < NMI_ACK_TICKS)
			cpu_relax();
		wait_ticks(NMI_SETTLE_TICKS);
		load_gdt(tk_fresh_gdt, tk_fresh_gdt_end);
		nmi.iret_test = true;
	}
	return &f->rip;
}

/* CPU 1 under smp_nmi: once CPU 0's storm runs, NMI_COUNT NMIs to it, each after the last was handled. */
static void nmi_sender(void)
{
	uint64_t t0 = rdtsc();
	while (!__atomic_load_n(&nmi.started, __ATOMIC_ACQUIRE) && rdtsc() - t0 < AP_WAIT_TICKS)
		cpu_relax();
	for (uint32_t i = 1; i <= NMI_COUNT && nmi.started; i++) {
		wait_ticks((i * NMI_PHASE_STEP) % NMI_PHASE_SPAN); /* NMIs land all over CPU 0's exit path */
		ipi_others(ICR_NMI | ICR_ASSERT);
		__atomic_store_n(&nmi.sent, i, __ATOMIC_RELEASE);
		t0 = rdtsc();
		while (__atomic_load_n(&nmi.handled, __ATOMIC_ACQUIRE) < i && rdtsc() - t0 < NMI_ACK_TICKS)
			cpu_relax();
		if (nmi.handled < i) {
			nmi.lost = i;
			break;
		}
	}
	__atomic_store_n(&nmi.stop, 1, __ATOMIC_RELEASE);
}

/* The second CPU, from ap_boot.asm: look around, report under the serial lock, halt (under smp_nmi, send
 * NMIs first). */
void tk_ap_main(void)
{
	idt_load();
	ap.alive = 1;
	uint32_t start = ++ap.starts;
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
	tk_printf("testkernel: cpu=1 apic_id=%u hypervisor_bit=%u signature=\"%s\" start=%u\n", ap.apic_id,
		  ap.hypervisor_bit, (const char *)ap.signature, start);
	__atomic_store_n(&ap.done, 1, __ATOMIC_RELEASE);
	if (nmi.mode)
		nmi_sender();
	if (fatal.mode) { /* once CPU 0 beats: a hypercall hapvisor must not survive, nor let CPU 0 survive */
		uint64_t t0 = rdtsc();
		while (!__atomic_load_n(&fatal.alive, __ATOMIC_ACQUIRE) && rdtsc() - t0 < AP_WAIT_TICKS)
			cpu_relax();
		struct hc_result hc = hc_call(HC_VERSION, 0, 0, 0, 0);
		tk_printf("testkernel: cpu=1 fatal hypercall returned value=%ld vector=%d\n", hc.value,
			  hc.vector);
	}
	cpu_halt_forever();
}

/* CPU 0 under smp_fatal: heartbeats until hapvisor stops this CPU; their end is a failure. */
static void fatal_heartbeat(struct check *c)
{
	for (uint32_t n = 1; n <= HEARTBEATS; n++) {
		tk_printf("testkernel: cpu=0 alive n=%u\n", n);
		__atomic_store_n(&fatal.alive, n, __ATOMIC_RELEASE);
		wait_ticks(HEARTBEAT_TICKS);
	}
	check_fail(c, "cpu0_still_running heartbeats=%u (hapvisor should have stopped the run)", HEARTBEATS);
}

/* Before CPU 1's SIPI: its real-mode IVT entry 2 points at the counting handler in the start page, and an
 * NMI goes to it while it waits for the SIPI (latched or dropped there; either way the run goes on). */
static void nmi_before_sipi(void)
{
	uint64_t ivt_addr = IVT_NMI_ENTRY;
	__asm__("" : "+r"(ivt_addr)); /* an address near 0 is real here, whatever the compiler assumes */
	volatile uint16_t *ivt = (volatile uint16_t *)(uintptr_t)ivt_addr;
	ivt[0] = (uint16_t)(tk_ap_nmi_real - tk_ap_start);
	ivt[1] = (uint16_t)(TK_AP_PAGE >> 4);
	ipi_others(ICR_NMI | ICR_ASSERT);
}

/* CPU 0 under smp_nmi, once CPU 1 has reported: the exit storm on fresh stack pages (the first NMI's
 * delivery is their first write), until CPU 1 has sent every NMI; then the verdict. */
static void nmi_storm(struct check *c)
{
	uint64_t stack = fresh_page();
	for (unsigned i = 1; i < STORM_STACK_PAGES; i++)
		fresh_page(); /* consecutive: the stack spans them */
	if (!stack) {
		check_fail(c, "fresh_pages=used_up");
		return;
	}
	idt_set_handler(VEC_NMI, on_nmi);
	tk_storm_on(stack + STORM_STACK_PAGES * PAGE_SIZE, &nmi.stop, &nmi.started);
	idt_set_handler(VEC_NMI, NULL);
	load_gdt(tk_gdt, tk_gdt + 4 * 8); /* the fresh copy is the same table; back to the original */
	uint16_t real_mode = *(
		volatile uint16_t *)(uintptr_t)(TK_AP_PAGE + (uint64_t)(tk_ap_nmi_real_count - tk_ap_start));
	check_note(c, "nmis_sent=%u nmis_handled=%u nested=%u lost=%u iret_test=%d cpu1_real_mode_nmis=%u",
		   nmi.sent, nmi.handled, nmi.nested, nmi.lost, nmi.iret_test, real_mode);
	if (nmi.sent != NMI_COUNT || nmi.handled != nmi.sent || nmi.lost)
		check_fail(c, "nmis_expected=%u", NMI_COUNT);
	if (nmi.nested)
		check_fail(c, "nmi_inside_iret (NMI blocking was not restored after an IRET that faulted)");
	if (!nmi.iret_test)
		check_fail(c, "iret_test=not_reached");
}

/* How the kernel starts CPU 1 (SDM Vol. 3A 9.4.4.1). */
enum start_form {
	START_SIPI_SIPI,      /* two start-up IPIs: the CPU waits for one after reset (`smp`) */
	START_INIT_SIPI_SIPI, /* INIT, then two start-up IPIs, as Linux and the SDM's example (`smp_init`) */
	START_INIT_1SIPI,     /* INIT, then a single start-up IPI (`smp_init_1sipi`) */
};

/* The INIT of `form`, if it has one: a level-triggered assert, then de-assert (as Linux's
 * wakeup_secondary_cpu_via_init). */
static void send_init(enum start_form form)
{
	if (form != START_SIPI_SIPI) {
		ipi_others(ICR_INIT | ICR_ASSERT | ICR_LEVEL_TRIGGER);
		ipi_others(ICR_INIT | ICR_LEVEL_TRIGGER);
	}
}

/* The start-up IPIs of `form`, init_wait ticks after its INIT, each followed by sipi_gap ticks. The second
 * SIPI of a pair reaches a processor that already started on the first, which ignores it. */
static void send_sipis(enum start_form form, uint8_t vector, uint64_t init_wait, uint64_t sipi_gap)
{
	wait_ticks(init_wait);
	unsigned sipis = form == START_INIT_1SIPI ? 1 : 2;
	for (unsigned i = 0; i < sipis; i++) {
		ipi_others(ICR_STARTUP | ICR_ASSERT | vector);
		wait_ticks(sipi_gap);
	}
}

/* Wait up to limit ticks for CPU 1's report; true when it came. */
static bool wait_report(uint64_t limit)
{
	uint64_t t0 = rdtsc();
	while (!__atomic_load_n(&ap.done, __ATOMIC_ACQUIRE) && rdtsc() - t0 < limit)
		cpu_relax();
	return __atomic_load_n(&ap.done, __ATOMIC_ACQUIRE) != 0;
}

/*
 * CPU 1 reported and halted: start it again SMP_RESTARTS times, as Linux brings a CPU back online (an INIT to
 * a processor that already ran, which must go back to waiting for a SIPI in time for the first one that
 * follows). INIT-SIPI-SIPI with Linux's timing (no wait after the INIT, 10 us between the SIPIs); INIT + one
 * SIPI with the SDM's 10 ms after the INIT, so the single SIPI must start it. Returns the restarts that
 * reported.
 */
static unsigned restart_cpu1(enum start_form form, uint8_t vector)
{
	unsigned r;
	for (r = 0; r < SMP_RESTARTS; r++) {
		__atomic_store_n(&ap.done, 0, __ATOMIC_RELEASE);
		send_init(form);
		if (form == START_INIT_1SIPI)
			send_sipis(form, vector, INIT_WAIT_TICKS, SIPI_WAIT_TICKS);
		else
			send_sipis(form, vector, 0, SIPI_GAP_LINUX_TICKS);
		if (!wait_report(AP_WAIT_TICKS))
			break;
	}
	return r;
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
	bool init_1sipi = has_word(t->boot.cmdline, SMP_INIT_1SIPI_WORD);
	bool with_init = init_1sipi || has_word(t->boot.cmdline, SMP_INIT_WORD);
	bool parked = has_word(t->boot.cmdline, SMP_PARKED_WORD);
	bool attack = has_word(t->boot.cmdline, SMP_ATTACK_WORD);
	nmi.mode = has_word(t->boot.cmdline, SMP_NMI_WORD);
	fatal.mode = has_word(t->boot.cmdline, SMP_FATAL_WORD);
	enum start_form form = init_1sipi  ? START_INIT_1SIPI
			       : with_init ? START_INIT_SIPI_SIPI
					   : START_SIPI_SIPI;
	if (!with_init && !parked && !attack && !nmi.mode && !fatal.mode &&
	    !has_word(t->boot.cmdline, SMP_WORD)) {
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

	/* The first start, with the SDM's waits (CPU 1 waits for a SIPI, under hapvisor as after reset). */
	send_init(form);
	if (nmi.mode)
		nmi_before_sipi();
	if (parked) /* an NMI to the CPU hapvisor keeps: it must take it in VMX root operation and go on */
		ipi_others(ICR_NMI | ICR_ASSERT);
	send_sipis(form, vector, INIT_WAIT_TICKS, SIPI_WAIT_TICKS);
	wait_report(parked ? PARKED_WAIT_TICKS : AP_WAIT_TICKS);
	if (parked) { /* cpus=1: CPU 1 stays hapvisor's; the guest's start-up IPIs must not reach it */
		check_note(c, "cpus=2 parked=1 cpu1_alive=%u", ap.alive);
		if (ap.alive)
			check_fail(c, "cpu1_ran_guest_code_while_parked");
		return;
	}
	check_note(c, "cpus=2 started=%u init=%d sipis=%u bsp_apic_id=%u", ap.done, with_init,
		   form == START_INIT_1SIPI ? 1u : 2u, bsp_apic_id);
	if (!ap.done) {
		check_fail(c, "cpu1=no_report alive=%u", ap.alive);
		return;
	}
	if (with_init) {
		unsigned restarts = restart_cpu1(form, vector);
		check_note(c, "restarts=%u starts=%u", restarts, ap.starts);
		if (restarts != SMP_RESTARTS)
			check_fail(c, "restart_%u_of_%u=no_report", restarts + 1, SMP_RESTARTS);
		else if (ap.starts != 1 + SMP_RESTARTS)
			check_fail(c, "starts_expected=%u", 1 + SMP_RESTARTS);
	}
	check_note(c, "cpu1_apic_id=%u cpu1_hypervisor_bit=%u cpu1_signature=\"%s\"", ap.apic_id,
		   ap.hypervisor_bit, (const char *)ap.signature);
	if (ap.apic_id == bsp_apic_id)
		check_fail(c, "cpu1_apic_id_equals_bsp");
	if (!ap.hypervisor_bit)
		check_fail(c, "cpu1_runs_outside_hapvisor");
	if (tk_strncmp((const char *)ap.signature, "hapvisor", 8) != 0)
		check_fail(c, "cpu1_signature_mismatch");
	if (nmi.mode)
		nmi_storm(c);
	if (fatal.mode)
		fatal_heartbeat(c);
	/* Two vCPUs run now: dirty tracking (EPT permission reductions) must be refused. */
	struct hc_result r = hc_call(HC_DIRTY_START, TK_AP_PAGE, PAGE_SIZE, 0, 0);
	check_note(c, "dirty_start_with_2_cpus=%ld", r.value);
	if (r.vector != PROBE_NO_FAULT || r.value != HC_EBUSY)
		check_fail(c, "dirty_start_not_refused expected=%d", HC_EBUSY);
}
