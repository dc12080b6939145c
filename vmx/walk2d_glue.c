/* Wiring of the pure guest walker and 2D report (vmx/gwalk.c, vmx/walk2d.c) to the VMCS and the EPT. */
#include "vmx/walk2d_glue.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpuid.h"
#include "arch/x86/pgtable_types.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/vmx_ops.h"
#include "vmx/walk2d.h"

/* Guest tables are read only where the guest has RAM: never hapvisor's memory, never a device. */
static bool read_guest_ram(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	if (!guest_mem_is_ram(gpa, len))
		return false;
	memcpy(dst, phys_to_virt(gpa), len);
	return true;
}

/*
 * Under shadow paging there is no second dimension: guest-physical is host-physical for every frame but
 * hapvisor's, which no shadow entry maps (no EPT entry is read: 0 steps).
 */
static unsigned identity_steps(void *ctx, uint64_t gpa, struct walk2d_ept_step steps[WALK2D_EPT_MAX_STEPS],
			       uint64_t *hpa)
{
	*hpa = guest_mem_is_hapvisor(gpa) ? WALK2D_NO_HPA : gpa;
	return 0;
}

static unsigned ept_walk_steps(void *ctx, uint64_t gpa, struct walk2d_ept_step steps[WALK2D_EPT_MAX_STEPS],
			       uint64_t *hpa)
{
	struct pt_step s[PT_LEVELS];
	unsigned n = ept_walk(gpa, s, hpa);
	for (unsigned i = 0; i < n; i++)
		steps[i] = (struct walk2d_ept_step){s[i].level, s[i].table_pa, s[i].entry};
	return n;
}

bool walk2d_report_guest(const struct vcpu *v, uint64_t gla, unsigned hc_access, struct hc_walk *out)
{
	unsigned access;
	if (!walk2d_access_from_hc(hc_access, &access))
		return false;
	struct gwalk_cpu cpu;
	uint64_t pdptes[PAE_PDPTES];
	bool pae = vcpu_guest_paging(v, &cpu, pdptes); /* the guest's own view, under EPT or shadow paging */
	struct gwalk_env env = {
		.maxphyaddr = cpu_maxphyaddr(),
		.gbpages = cpu_has_gbpages(),
		.pdptes = pae ? pdptes : NULL,
		.read_gpa = read_guest_ram,
	};
	struct walk2d_ept ept = {v->shadow ? identity_steps : ept_walk_steps, NULL, v->shadow};
	static struct walk2d_report report; /* large: kept off the 16 KiB stack */
	walk2d_run(&cpu, &env, gla, access, &ept, &report);
	walk2d_print(&report);
	if (out)
		walk2d_fill_hc(&report, out);
	return true;
}
