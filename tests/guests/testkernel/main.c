/*
 * testkernel: run every check in order, print the exit measurements and the summary, report it to
 * hapvisor and power off; or, with attack=NAME on the command line, make that one attack instead.
 */
#include "main.h"
#include "attack.h"
#include "checks.h"
#include "hypercall.h"
#include "measure.h"
#include "power.h"
#include "serial.h"

struct check_entry {
	const char *name;
	void (*run)(struct check *c, struct tk_context *t);
	bool ept_only; /* needs hapvisor's EPT functions: not run under shadow paging */
};

/*
 * Order matters: memory_map finds the reserved range that memory_rw spares and hypercall_console and
 * dirty_tracking use; the EPT checks come last, after memory_rw has touched all RAM; event_delivery before
 * smp (dirty tracking needs a single vCPU).
 */
static const struct check_entry checks[] = {
	{"boot_magic", check_boot_magic, false},
	{"fault_probe", check_fault_probe, false},
	{"cpuid_hypervisor_bit", check_cpuid_hypervisor_bit, false},
	{"cpuid_signature", check_cpuid_signature, false},
	{"cpuid_no_vmx", check_cpuid_no_vmx, false},
	{"vmx_insns_ud", check_vmx_insns_ud, false},
	{"cr4_vmxe", check_cr4_vmxe, false},
	{"vmx_msrs_gp", check_vmx_msrs_gp, false},
	{"feature_control", check_feature_control, false},
	{"injected_faults", check_injected_faults, false},
	{"memory_map", check_memory_map, false},
	{"low_memory", check_low_memory, false},
	{"acpi_madt", check_acpi_madt, false},
	{"memory_rw", check_memory_rw, false},
	{"hypercall_version", check_hypercall_version, false},
	{"hypercall_regs_preserved", check_hypercall_regs_preserved, false},
	{"hypercall_console", check_hypercall_console, false},
	{"hypercall_exit_stats", check_hypercall_exit_stats, false},
	{"serial", check_serial, false},
	{"ept_stats", check_ept_stats, true},
	{"ept_touch", check_ept_touch, true},
	{"dirty_tracking", check_dirty_tracking, true},
	{"walk", check_walk, false},
	{"event_delivery", check_event_delivery, false},
	{"paging_remap", check_paging_remap, false},
	{"paging_cr3_switch", check_paging_cr3_switch, false},
	{"paging_faults", check_paging_faults, false},
	{"paging_accessed_dirty", check_paging_accessed_dirty, false},
	{"paging_write_protect", check_paging_write_protect, false},
	{"paging_large_pages", check_paging_large_pages, false},
	{"paging_table_writes", check_paging_table_writes, false},
	{"smp", check_smp, false}, /* last: a second vCPU ends dirty tracking */
};

static struct tk_context context;
static struct check the_check;
static bool in_fatal;

void tk_finish(void)
{
	tk_printf("testkernel: %u passed, %u failed\n", check_passed, check_failed);
	hc_call(HC_REPORT_RESULT, check_passed, check_failed, 0, 0);
	power_off(check_failed ? 1 : 0);
}

void tk_main(uint32_t magic, uint32_t info)
{
	char attack[ATTACK_NAME_MAX];

	serial_init();
	idt_init();
	context.magic = magic;
	boot_info_parse(magic, info, &context.boot);
	if (attack_requested(context.boot.cmdline, attack, sizeof(attack)))
		attack_run(attack, &context);
	measure_ept_fill(&context.boot); /* before the checks touch memory */
	bool shadow = tk_shadow_paging();
	size_t count = 0;
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++)
		count += !(shadow && checks[i].ept_only);
	if (shadow)
		tk_printf("testkernel: paging=shadow: the EPT-only checks ept_stats, ept_touch and "
			  "dirty_tracking "
			  "do not apply\n");
	tk_printf("testkernel: start, %zu checks\n", count);
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		if (shadow && checks[i].ept_only)
			continue;
		check_begin(&the_check, checks[i].name);
		checks[i].run(&the_check, &context);
		check_end(&the_check);
	}
	measure_exits();
	measure_paging();
	tk_finish();
}

void tk_fatal_exception(const struct trap_frame *f)
{
	if (in_fatal) /* an exception while reporting one: just stop */
		power_off(1);
	in_fatal = true;

	uint64_t cr2 = f->vector == VEC_PF ? read_cr2() : 0;
	tk_printf("testkernel: unexpected exception %s vector=%lu rip=0x%lx error_code=0x%lx cr2=0x%lx "
		  "rsp=0x%lx rflags=0x%lx\n",
		  vector_name(f->vector), f->vector, f->rip, f->error_code, cr2, f->rsp, f->rflags);
	struct check *c = check_current();
	if (!c) {
		c = &the_check;
		check_begin(c, "unexpected_exception");
	}
	check_fail(c, "exception=%s rip=0x%lx error_code=0x%lx", vector_name(f->vector), f->rip,
		   f->error_code);
	check_end(c);
	tk_finish();
}
