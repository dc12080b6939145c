/* AP bring-up (see smp.h). SDM Vol. 3A 9.4.4 "MP Initialization Example", 11.6 "Issuing Interprocessor
 * Interrupts"; the ACPI MADT (arch/x86/madt.c). */
#include "arch/x86/smp.h"
#include "arch/x86/acpi_tables.h"
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_init.h"
#include "arch/x86/desc.h"
#include "arch/x86/madt.h"
#include "arch/x86/mce.h"
#include "arch/x86/paging.h"
#include "arch/x86/tsc.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "mm/pmm.h"

/* The start page must be below 1 MiB (a SIPI vector is its page number) and, to stay clear of the EBDA
 * and the legacy video and ROM ranges, below 640 KiB; page 0 holds the real-mode interrupt table. */
#define START_PAGE_MIN PAGE_SIZE
#define START_PAGE_LIMIT KiB(640)

/* SDM Vol. 3A 9.4.4.1: INIT, wait 10 ms, SIPI, wait 200 us, a second SIPI, wait 200 us. */
#define INIT_DELAY_US 10000u
#define SIPI_DELAY_US 200u
#define SMP_AP_TIMEOUT_MS 1000u	 /* then the AP is taken for absent */
#define SMP_STOP_TIMEOUT_MS 100u /* for a CPU to halt after smp_stop_all's NMI */

#define AP_STACK_SIZE KiB(16)

struct percpu percpu[HV_MAX_CPUS];
unsigned percpu_count = 1;

static uint64_t start_page;	      /* physical; 0: none, no AP is started */
static struct memmap *start_page_map; /* the guest's map, in which start_page is MEM_HAPVISOR */
static smp_ap_setup_fn *ap_setup;     /* the caller's step on each AP (smp_start_aps) */

/* The trampoline (arch/x86/ap_trampoline.asm): its bounds, and the fields smp.c writes in the copy. */
extern const char ap_tramp_start[], ap_tramp_end[], ap_tramp_gdt[], ap_tramp_gdtr_base[], ap_tramp_far32[],
	ap_tramp_far64[], ap_tramp_pm32[], ap_tramp_lm64[], ap_tramp_cr3[], ap_tramp_efer[], ap_tramp_stack[],
	ap_tramp_percpu[], ap_tramp_target[];

NORETURN void smp_ap_main(struct percpu *cpu);

static uint32_t tramp_off(const char *sym)
{
	return (uint32_t)(sym - ap_tramp_start);
}

static void *tramp_field(const char *sym)
{
	return (uint8_t *)phys_to_virt(start_page) + tramp_off(sym);
}

bool smp_reserve_start_page(const struct memmap *free, struct memmap *guest_map)
{
	uint64_t page;
	if (!memmap_find_top(free, PAGE_SIZE, PAGE_SIZE, START_PAGE_MIN, START_PAGE_LIMIT, &page) ||
	    !memmap_set(guest_map, page, PAGE_SIZE, MEM_HAPVISOR)) {
		log_warn(
			"no free page below 640 KiB for the application processors' start code; the guest runs on the boot processor only");
		return false;
	}
	start_page = page;
	start_page_map = guest_map;
	log_event("smp_start_page page=%#llx vector=%#llx", (unsigned long long)page,
		  (unsigned long long)(page >> PAGE_SHIFT));
	return true;
}

/*
 * Give the start page back to the guest, zeroed. Guests read low memory whatever its type (Linux scans
 * 0x9FC00-0x9FFFF for an MP table early in boot), and a read of a hapvisor page would stop the guest with
 * an isolation breach, so the page goes back in every case. Needs: no processor can still run it: each AP
 * either runs hapvisor's own code (it left the page in its first instructions) or was sent a last INIT
 * after it did not answer (stop_unanswered()), which leaves it waiting for a SIPI, not executing.
 */
static void release_start_page(void)
{
	memset(phys_to_virt(start_page), 0, PAGE_SIZE);
	memmap_set(start_page_map, start_page, PAGE_SIZE, MEM_AVAILABLE);
	log_event("smp_start_page page=%#llx released=1", (unsigned long long)start_page);
}

/*
 * An AP that did not report within SMP_AP_TIMEOUT_MS gets one more INIT (SDM Vol. 3A 9.4.4.1): if it
 * exists and was only slow, it stops wherever it was (in the start page, say) and waits for a SIPI, so
 * the start page can go back to the guest. Returns how many were sent.
 */
static unsigned stop_unanswered(void)
{
	unsigned sent = 0;
	for (unsigned i = 1; i < percpu_count; i++) {
		if (percpu[i].state == CPU_ABSENT && apic_send_init(percpu[i].apic_id))
			sent++;
	}
	if (sent)
		udelay(INIT_DELAY_US);
	return sent;
}

/* The MADT through the RSDP copy; false when any step fails (one warning says which). */
static bool find_madt(const void *rsdp_copy, size_t rsdp_len, struct madt_info *out)
{
	struct acpi_rsdp rsdp;
	struct acpi_tables tables;
	struct acpi_table_ref ref;
	enum acpi_err err = ACPI_ERR_ABSENT;
	if (rsdp_copy && (err = acpi_rsdp_parse(rsdp_copy, rsdp_len, &rsdp)) == ACPI_OK &&
	    (err = acpi_tables_init(&tables, &rsdp, 0, GiB(4))) == ACPI_OK &&
	    (err = acpi_find_table(&tables, ACPI_SIG_MADT, 0, &ref)) == ACPI_OK &&
	    (err = madt_parse(ref.ptr, ref.len, out)) == ACPI_OK)
		return true;
	log_warn(
		"no usable ACPI MADT (%s): hapvisor runs the guest on the boot processor only, and cannot keep other processors from the guest",
		acpi_strerror(err));
	return false;
}

bool smp_discover(const void *rsdp, size_t rsdp_len)
{
	static struct madt_info madt; /* 1 KiB: not on the boot stack */
	percpu[0].index = 0;
	percpu[0].state = CPU_ONLINE;
	percpu_count = 1;
	apic_init(0);
	percpu[0].apic_id = apic_id();
	if (!find_madt(rsdp, rsdp_len, &madt)) {
		log_event("smp_madt cpus=1 found=0");
		return true;
	}
	apic_init(madt.lapic_phys);
	percpu[0].apic_id = apic_id();
	bool bsp_listed = false;
	for (uint32_t i = 0; i < madt.count && percpu_count < HV_MAX_CPUS; i++) {
		if (madt.cpus[i].apic_id == percpu[0].apic_id) {
			bsp_listed = true;
			continue;
		}
		struct percpu *c = &percpu[percpu_count];
		c->index = percpu_count++;
		c->apic_id = madt.cpus[i].apic_id;
		c->state = CPU_ABSENT;
	}
	log_event(
		"smp_madt cpus=%u found=1 bsp_apic_id=%u bsp_listed=%d lapic=%#llx disabled=%u duplicates=%u dropped=%u",
		percpu_count, percpu[0].apic_id, bsp_listed, (unsigned long long)madt.lapic_phys,
		madt.disabled, madt.duplicates, madt.dropped);
	if (madt.dropped) {
		log_error(
			"the ACPI MADT lists %u processors, more than the %u hapvisor supports; it cannot keep the other %u from the guest, which could start them outside hapvisor, so it does not run one: disable Hyper-Threading or some cores in the firmware setup",
			madt.count + madt.dropped, HV_MAX_CPUS, madt.dropped);
		return false;
	}
	return true;
}

unsigned smp_cpu_count(void)
{
	return percpu_count;
}

/* Copy the trampoline to the start page and write the fields every AP shares. */
static void prepare_start_page(void)
{
	memcpy(phys_to_virt(start_page), ap_tramp_start, (size_t)(ap_tramp_end - ap_tramp_start));
	*(uint32_t *)tramp_field(ap_tramp_gdtr_base) = (uint32_t)start_page + tramp_off(ap_tramp_gdt);
	*(uint32_t *)tramp_field(ap_tramp_far32) = (uint32_t)start_page + tramp_off(ap_tramp_pm32);
	*(uint32_t *)tramp_field(ap_tramp_far64) = (uint32_t)start_page + tramp_off(ap_tramp_lm64);
	*(uint32_t *)tramp_field(ap_tramp_cr3) = (uint32_t)read_cr3();
	*(uint32_t *)tramp_field(ap_tramp_efer) = (uint32_t)(rdmsr(MSR_IA32_EFER) & (EFER_LME | EFER_NXE));
	*(uint64_t *)tramp_field(ap_tramp_target) = (uint64_t)(uintptr_t)smp_ap_main;
}

/* INIT-SIPI-SIPI to one AP and wait for it to come online; true when it did. */
static bool start_one(struct percpu *c)
{
	size_t desc_frames = ALIGN_UP(desc_size(), PAGE_SIZE) / PAGE_SIZE;
	size_t frames = desc_frames + AP_STACK_SIZE / PAGE_SIZE;
	uint64_t block = pmm_alloc_contig(frames, PAGE_SIZE);
	if (!block) {
		log_error("hapvisor's pool is exhausted while starting CPU %u; boot with a larger hvmem=",
			  c->index);
		return false;
	}
	c->desc = phys_to_virt(block);
	c->stack_top = (uint64_t)(uintptr_t)phys_to_virt(block + frames * PAGE_SIZE);
	*(uint64_t *)tramp_field(ap_tramp_stack) = c->stack_top;
	*(uint64_t *)tramp_field(ap_tramp_percpu) = (uint64_t)(uintptr_t)c;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);

	uint8_t vector = (uint8_t)(start_page >> PAGE_SHIFT);
	if (!apic_send_init(c->apic_id))
		return false;
	udelay(INIT_DELAY_US);
	for (int i = 0; i < 2 && c->state == CPU_ABSENT; i++) {
		if (!apic_send_sipi(c->apic_id, vector))
			return false;
		udelay(SIPI_DELAY_US);
	}
	for (unsigned ms = 0; ms < SMP_AP_TIMEOUT_MS && c->state == CPU_ABSENT; ms++)
		udelay(1000);
	return c->state != CPU_ABSENT;
}

unsigned smp_start_aps(smp_ap_setup_fn *setup)
{
	ap_setup = setup;
	if (percpu_count == 1) {
		if (start_page)
			release_start_page();
		return 0;
	}
	if (!start_page) {
		log_event("smp_start cpus=%u online=1 failed=0 absent=%u", percpu_count, percpu_count - 1);
		return 0;
	}
	if (!paging_set_exec(start_page, true)) {
		log_error("the AP start page %#llx is not mapped by a 4 KiB page; APs not started",
			  (unsigned long long)start_page);
		release_start_page();
		return 0;
	}
	prepare_start_page();
	uint64_t t0 = rdtsc();
	unsigned online = 1, failed = 0, absent = 0;
	for (unsigned i = 1; i < percpu_count; i++) {
		struct percpu *c = &percpu[i];
		if (!start_one(c)) {
			absent++;
			log_event("cpu_start cpu=%u apic_id=%u result=timeout", c->index, c->apic_id);
			log_warn(
				"CPU %u (APIC ID %u) did not answer its start-up IPIs within %u ms; the guest's ACPI tables list it as disabled, but if it exists, a guest that sends it a SIPI would run it outside hapvisor",
				c->index, c->apic_id, SMP_AP_TIMEOUT_MS);
		} else if (c->state == CPU_FAILED) {
			failed++;
		} else {
			online++;
		}
	}
	unsigned late_inits = absent ? stop_unanswered() : 0;
	paging_set_exec(start_page, false);
	log_event("smp_start cpus=%u online=%u failed=%u absent=%u late_inits=%u tsc=%llu", percpu_count,
		  online, failed, absent, late_inits, (unsigned long long)(rdtsc() - t0));
	release_start_page();
	return failed;
}

void smp_call(struct percpu *cpu, void (*fn)(struct percpu *cpu))
{
	__atomic_store_n(&cpu->work, fn, __ATOMIC_RELEASE);
}

void smp_halt_self(enum cpu_state state)
{
	this_cpu()->state = state;
	for (;;)
		__asm__ volatile("cli; hlt" ::: "memory");
}

static uint32_t stopper; /* CPU index + 1 of the CPU that called smp_stop_all first; 0: none */

bool smp_stopping(void)
{
	return __atomic_load_n(&stopper, __ATOMIC_ACQUIRE) != 0;
}

void smp_halt_stopped(void)
{
	smp_halt_self(CPU_HALTED);
}

/* A CPU that runs code smp_stop_all must stop: hapvisor's (online, parked) or the guest's. */
static bool runs_code(const struct percpu *c)
{
	return c->state == CPU_ONLINE || c->state == CPU_PARKED || c->state == CPU_RUNNING;
}

bool smp_stop_all(void)
{
	struct percpu *self = this_cpu();
	uint32_t me = self->index + 1, first = 0;
	if (!__atomic_compare_exchange_n(&stopper, &first, me, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return first == me;
	unsigned sent = 0, stopped = 0, waiting = 0;
	for (unsigned i = 0; i < percpu_count; i++) {
		struct percpu *c = &percpu[i];
		if (c == self || !runs_code(c))
			continue;
		apic_send_nmi(
			c->apic_id); /* latched by a vCPU waiting for a SIPI: it halts if it ever starts */
		if (c->wait_for_sipi) {
			waiting++;
			continue;
		}
		sent++;
		for (unsigned ms = 0; ms < SMP_STOP_TIMEOUT_MS && c->state != CPU_HALTED; ms++)
			udelay(1000);
		stopped += c->state == CPU_HALTED;
	}
	if (!sent && !waiting) /* no other CPU runs code: nothing to report (a refusal at boot) */
		return true;
	console_take_over();
	log_event("fatal_stop cpu=%u cpus=%u nmis=%u stopped=%u waiting_for_sipi=%u", self->index,
		  percpu_count, sent + waiting, stopped, waiting);
	if (stopped < sent)
		log_error(
			"%u of the other %u processors did not stop within %u ms of an NMI; they may still run",
			sent - stopped, sent, SMP_STOP_TIMEOUT_MS);
	return true;
}

/*
 * The AP's C entry, from the trampoline on the AP's own stack: the processor state every hapvisor CPU has
 * (cpu_init_this), the caller's step (ap_setup: VMXON), then it waits for smp_call() with interrupts off.
 * Never returns.
 */
void smp_ap_main(struct percpu *cpu)
{
	cpu_init_this(cpu);
	uint32_t id = apic_id();
	if (id != cpu->apic_id || !ap_setup(cpu)) {
		log_error("CPU %u (APIC ID %u, expected %u) cannot enter VMX operation; it stays halted",
			  cpu->index, id, cpu->apic_id);
		log_event("cpu_online cpu=%u apic_id=%u result=fail", cpu->index, id);
		smp_halt_self(CPU_FAILED);
	}
	mce_log_this_cpu();
	log_event("cpu_online cpu=%u apic_id=%u result=ok", cpu->index, id);
	cpu->state = CPU_ONLINE;
	void (*fn)(struct percpu *);
	while (!(fn = __atomic_load_n(&cpu->work, __ATOMIC_ACQUIRE)))
		cpu_relax();
	fn(cpu);
	smp_halt_self(CPU_STOPPED);
}
