/*
 * hapvisor's C entry: the boot sequence from the Multiboot2 hand-off to the end of the run.
 *
 *   1. console, descriptor tables          (every fault from here on is reported)
 *   2. Multiboot2 information, screen,     (what GRUB gave us, what the user asked for; the screen
 *      options                              shows all output from here on, the earlier lines included)
 *   3. ACPI, the TSC's rate                (so every later stop can power off; every wait is timed)
 *   4. memory map, hapvisor's own region   (image + pool at the top of RAM below 4 GiB)
 *   5. own page tables, move into region   (the GRUB load address becomes guest memory)
 *   6. VMX probe, VMXON; the other processors found (ACPI MADT), started, each in VMX root operation
 *   7. the guest kernel (module 0) loaded, its boot information built
 *   8. EPT, VMCS, launch; exits handled until the guest ends; VMXOFF and the on_exit action
 */
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_init.h"
#include "arch/x86/desc.h"
#include "arch/x86/integrity.h"
#include "arch/x86/layout.h"
#include "arch/x86/mce.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/power.h"
#include "arch/x86/screen_setup.h"
#include "arch/x86/serial.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc.h"
#include "boot/memmap_mb2.h"
#include "boot/options.h"
#include "guest/loader.h"
#include "guest/mb2.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/str.h"
#include "mm/memmap.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/caps.h"
#include "vmx/run.h"
#include "vmx/vmxon.h"

#define HV_REGION_ALIGN MiB(2)
#define HV_REGION_MIN MiB(16)  /* stay clear of the low memory guests like to load at */
#define HV_REGION_LIMIT GiB(4) /* the early page tables map only the first 4 GiB */

void hv_main(uint32_t magic, uint32_t info_phys);
extern const uint64_t hv_boot_tsc; /* RDTSC at the 32-bit entry (boot/entry.asm) */

static struct hv_options options;
static struct mb2_info boot_info;
static struct memmap firmware_map; /* what the firmware reported */
static struct memmap guest_map;	   /* the same, with hapvisor's region reserved: what the guest gets */
static uint64_t ram_limit;	   /* phys_limit() of the firmware map: hapvisor's 1:1 map, eager EPT */

/* Stop cleanly after an error that the user can fix; the message has already been printed. */
static NORETURN void stop(const char *reason)
{
	hv_abort(reason); /* the on_exit action, once options_parse() has read it */
}

static void report_boot_info(const struct mb2_info *mb)
{
	log_event(
		"boot_info firmware=%s loader=\"%s\" cmdline=\"%s\" modules=%zu rsdp_revision=%d framebuffer=%d efi_mmap=%d",
		mb->efi_boot ? "uefi" : "bios", mb->loader_name, mb->cmdline, mb->module_count,
		mb->rsdp_revision, mb->have_framebuffer, mb->efi_mmap != NULL);
	for (size_t i = 0; i < mb->module_count; i++)
		log_event("module index=%zu start=%#x end=%#x size=%u cmdline=\"%s\"", i,
			  mb->modules[i].start, mb->modules[i].end, mb->modules[i].end - mb->modules[i].start,
			  mb->modules[i].string);
}

/*
 * The highest physical address hapvisor maps: everything below 4 GiB (RAM, ACPI, local APIC, I/O APIC,
 * framebuffers) and all memory above. Reserved ranges above 4 GiB (e.g. the 1 TiB HyperTransport hole
 * QEMU reports) are MMIO hapvisor never touches, and mapping them would cost megabytes of tables.
 */
static uint64_t phys_limit(const struct memmap *m)
{
	uint64_t limit = GiB(4);
	for (size_t i = 0; i < m->count; i++) {
		if (m->ranges[i].type != MEM_RESERVED)
			limit = MAX(limit, m->ranges[i].base + m->ranges[i].size);
	}
	return limit;
}

/*
 * Pick hapvisor's region (image + pool) at the top of RAM below 4 GiB, away from everything that must
 * survive (the first MiB, the running image, the Multiboot2 information and the modules), set up the
 * frame pool in it, build the final page tables and move the image there.
 */
static void setup_memory(const struct mb2_info *mb)
{
	if (!memmap_from_mb2(&firmware_map, mb))
		stop("no usable memory map");
	memmap_print(&firmware_map, "firmware");

	/* What GRUB gave that is still needed (its information block, the modules) is not free. */
	static struct memmap boot_data; /* 3 KiB: not on the boot stack */
	boot_data = firmware_map;
	memmap_set(&boot_data, (uint64_t)(uintptr_t)mb->base, mb->total_size, MEM_BOOT);
	for (size_t i = 0; i < mb->module_count; i++)
		memmap_set(&boot_data, mb->modules[i].start, mb->modules[i].end - mb->modules[i].start,
			   MEM_BOOT);
	struct memmap placement = boot_data;
	memmap_set(&placement, 0, MiB(1), MEM_RESERVED);
	memmap_set(&placement, hv_image_phys, hv_image_size(), MEM_BOOT);

	uint64_t image_span = ALIGN_UP(hv_image_size(), HV_REGION_ALIGN);
	uint64_t size = image_span + options.hvmem;
	uint64_t base;
	if (!memmap_find_top(&placement, size, HV_REGION_ALIGN, HV_REGION_MIN, HV_REGION_LIMIT, &base)) {
		log_error(
			"no free RAM range of %llu MiB below 4 GiB for hapvisor's region (image %llu KiB + hvmem=%llu MiB); boot with a smaller hvmem= or give the machine more memory",
			(unsigned long long)(size >> 20), (unsigned long long)(hv_image_size() >> 10),
			(unsigned long long)(options.hvmem >> 20));
		stop("no room for hapvisor's region");
	}

	guest_map = firmware_map;
	if (!memmap_set(&guest_map, base, size, MEM_HAPVISOR))
		stop("memory map full");
	smp_reserve_start_page(&boot_data, &guest_map);
	pmm_init(base + image_span, options.hvmem);

	ram_limit = phys_limit(&firmware_map);
	uint64_t cr3 = paging_build(base, ram_limit);
	if (!cr3)
		stop("hapvisor's page tables do not fit in its pool");
	screen_map(cr3);
	uint64_t old = hv_image_phys;
	paging_relocate_image(base, cr3);
	screen_moved();

	log_event("region base=%#llx size=%llu image=%llu pool=%llu moved_from=%#llx",
		  (unsigned long long)base, (unsigned long long)size, (unsigned long long)hv_image_size(),
		  (unsigned long long)options.hvmem, (unsigned long long)old);
	integrity_check("boot");
	log_event("paging root=%#llx tables=%llu pages_4k=%llu pages_2m=%llu pages_1g=%llu limit=%#llx",
		  (unsigned long long)cr3, (unsigned long long)(1 + paging_stats.tables),
		  (unsigned long long)paging_stats.leaves[PG_LEVEL_4K],
		  (unsigned long long)paging_stats.leaves[PG_LEVEL_2M],
		  (unsigned long long)paging_stats.leaves[PG_LEVEL_1G], (unsigned long long)ram_limit);
	pmm_print();
}

/*
 * The APIC IDs of the processors that will run the guest's vCPUs (vmx_cpu_gets_vcpu): what the guest's
 * MADT copy keeps enabled. Parked, absent and failed processors are not among them.
 */
static struct guest_cpus guest_cpu_list(unsigned cpus_option, enum paging_choice paging)
{
	static uint32_t ids[HV_MAX_CPUS];
	uint32_t n = 0;
	for (unsigned i = 0; i < smp_cpu_count(); i++) {
		if (vmx_cpu_gets_vcpu(i, cpus_option, paging))
			ids[n++] = percpu[i].apic_id;
	}
	return (struct guest_cpus){ids, n};
}

void hv_main(uint32_t magic, uint32_t info_phys)
{
	percpu_set_gs(&percpu[0]);
	serial_init();
	cpu_init_this(&percpu[0]);
	options_defaults(&options);
	log_event("boot stage=c_entry magic=%#x info=%#x image_phys=%#llx tsc_entry=%llu tsc=%llu", magic,
		  info_phys, (unsigned long long)hv_image_phys, (unsigned long long)hv_boot_tsc,
		  (unsigned long long)rdtsc());
	log_info("hapvisor, a type-1 hypervisor for Intel VT-x");
	mce_log_this_cpu();

	if (magic != MB2_BOOTLOADER_MAGIC || !mb2_parse(phys_to_virt(info_phys), MB2_INFO_MAX, &boot_info)) {
		log_error(
			"the Multiboot2 boot information is unusable; boot hapvisor with GRUB 2 ('multiboot2 /boot/hapvisor.elf')");
		stop("bad boot information");
	}
	screen_init(boot_info.have_framebuffer ? &boot_info.fb : NULL);
	bool options_ok = options_parse(boot_info.cmdline, &options);
	power_set_on_exit(options.on_exit);
	log_threshold = options.loglevel;
	console_screen_events = options.screen_events;
	options_log(&options);
	report_boot_info(&boot_info);
	power_init(boot_info.rsdp, boot_info.rsdp_len);
	struct power_ports acpi_ports;
	power_get_ports(&acpi_ports);
	tsc_init(acpi_ports.pm_tmr, acpi_ports.pm_tmr_32bit);
	if (!options_ok)
		stop("bad command line");

	setup_memory(&boot_info);

	if (!vmx_probe())
		stop("no usable VT-x");
	if (!vmx_on())
		stop("VMXON failed");
	if (!smp_discover(boot_info.rsdp, boot_info.rsdp_len)) {
		vmx_off();
		stop("more processors than hapvisor supports");
	}
	if (smp_start_aps(vmx_cpu_up)) {
		log_error(
			"a processor could not enter VMX operation, so hapvisor cannot keep it from the guest; the guest is not started (enable VT-x on every core in the firmware setup)");
		vmx_off();
		stop("a processor could not enter VMX operation");
	}

	struct guest_entry_state entry;
	struct guest_cpus cpus = guest_cpu_list(options.cpus, options.paging);
	if (!guest_load(&boot_info, &guest_map, &cpus, &entry)) {
		vmx_off();
		stop("no loadable guest kernel");
	}
	memmap_print(&guest_map, "guest");
	struct vmx_guest guest = {
		.entry_eip = entry.eip,
		.eax = entry.eax,
		.ebx = entry.ebx,
		.esi = entry.esi,
		.cs_sel = entry.cs_sel,
		.ds_sel = entry.ds_sel,
		.gdtr_base = entry.gdtr_base,
		.gdtr_limit = entry.gdtr_limit,
		.memory = &guest_map,
		.ram_limit = ram_limit,
		.ept_policy = options.ept,
		.paging = options.paging,
		.time_limit_ms = options.guest_timeout_ms,
		.entry_check = options.entry_check,
		.vmcs_break = options.vmcs_break,
		.fatal_test = options.fatal_test,
		.cpus = options.cpus,
	};
	vmx_run_guest(&guest, options.on_exit);
}
