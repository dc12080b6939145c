/*
 * The guest's EPT and the EPT exits (SDM Vol. 3C 29.3). For now the EPT is built in full before launch;
 * an EPT violation can then only be an access to hapvisor's own memory (or past the mapped range), which
 * is an isolation breach: the guest is stopped with a report and hapvisor stays intact.
 */
#include "vmx/ept.h"
#include "arch/x86/layout.h"
#include "lib/log.h"
#include "mm/pagetable.h"
#include "mm/pmm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/exit.h"
#include "vmx/msr.h"
#include "vmx/vmcs.h"

#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2

static struct {
	uint64_t root;
	uint64_t limit;
	const struct memmap *map;
	uint64_t pages[PT_LEVELS];
	uint64_t tables;
} ept;

static struct pt_format ept_format = {
	.name = "EPT",
	.present_mask = EPT_RWX,
	.table_flags = EPT_RWX,
	.max_leaf_level = PT_LEVEL_4K,
};

static bool is_ram(enum mem_type t)
{
	return t == MEM_AVAILABLE || t == MEM_ACPI_RECLAIMABLE || t == MEM_ACPI_NVS || t == MEM_BOOT;
}

static bool map_piece(uint64_t base, uint64_t end, uint64_t memtype)
{
	if (base >= end)
		return true;
	uint64_t flags = EPT_RWX | (memtype << EPT_MEMTYPE_SHIFT);
	return pt_map(&ept_format, ept.root, base, base, end - base, flags, ept.pages);
}

bool ept_build(const struct memmap *guest_map, uint64_t limit)
{
	ept_format.max_leaf_level = vmx_caps.ept_1g ? PT_LEVEL_1G : vmx_caps.ept_2m ? PT_LEVEL_2M : PT_LEVEL_4K;
	ept.map = guest_map;
	ept.limit = limit;
	ept.root = pmm_alloc_frame();
	if (!ept.root)
		return false;
	uint64_t cursor = 0;
	for (size_t i = 0; i < guest_map->count && cursor < limit; i++) {
		const struct mem_range *r = &guest_map->ranges[i];
		uint64_t end = MIN(r->base + r->size, limit);
		if (!map_piece(cursor, MIN(r->base, limit), EPT_MEMTYPE_UC)) /* a hole: MMIO */
			return false;
		if (r->type != MEM_HAPVISOR &&
		    !map_piece(r->base, end, is_ram(r->type) ? EPT_MEMTYPE_WB : EPT_MEMTYPE_UC))
			return false;
		cursor = MAX(cursor, end);
	}
	if (!map_piece(cursor, limit, EPT_MEMTYPE_UC))
		return false;
	ept.tables = pt_count_tables(&ept_format, ept.root);
	log_event("ept policy=prebuilt root=%#llx limit=%#llx tables=%llu pages_4k=%llu pages_2m=%llu "
		  "pages_1g=%llu",
		  (unsigned long long)ept.root, (unsigned long long)limit, (unsigned long long)ept.tables,
		  (unsigned long long)ept.pages[PT_LEVEL_4K], (unsigned long long)ept.pages[PT_LEVEL_2M],
		  (unsigned long long)ept.pages[PT_LEVEL_1G]);
	return true;
}

uint64_t ept_pointer(void)
{
	return ept.root | EPTP_MEMTYPE_WB | EPTP_WALK_LENGTH_4;
}

void ept_invalidate(void)
{
	struct {
		uint64_t eptp, reserved;
	} desc = {ept_pointer(), 0};
	uint64_t type = vmx_caps.invept_single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXTS;
	if (!vmx_caps.invept)
		return;
	__asm__ volatile("invept %0, %1" : : "m"(desc), "r"(type) : "memory", "cc");
}

bool ept_guest_ram(uint64_t gpa, uint64_t len)
{
	if (len == 0 || gpa + len < gpa || gpa + len > ept.limit)
		return false;
	uint64_t end = gpa + len;
	while (gpa < end) {
		const struct mem_range *r = memmap_lookup(ept.map, gpa);
		if (!r || !is_ram(r->type))
			return false;
		gpa = r->base + r->size;
	}
	return true;
}

static const char *access_name(uint64_t q)
{
	return (q & EPT_VIOL_FETCH) ? "fetch" : (q & EPT_VIOL_WRITE) ? "write" : "read";
}

void exit_ept_violation(struct vcpu *v)
{
	uint64_t q = v->exit_qualification;
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	uint64_t gla = (q & EPT_VIOL_GLA_VALID) ? vmcs_readnat(GUEST_LINEAR_ADDRESS) : 0;
	const struct mem_range *r = memmap_lookup(ept.map, gpa);
	bool breach = r && r->type == MEM_HAPVISOR;

	log_error("%s: guest %s of physical address %#llx%s at guest rip %#llx%s", breach ? "isolation breach"
		  : "guest access outside the mapped physical range", access_name(q), (unsigned long long)gpa,
		  breach ? " (hapvisor's memory)" : "", (unsigned long long)vmcs_readnat(GUEST_RIP),
		  (q & EPT_VIOL_TRANSLATION) ? "" : " while walking its own page tables");
	log_event("ept_violation gpa=%#llx access=%s gla=%#llx gla_valid=%d translation=%d breach=%d rip=%#llx",
		  (unsigned long long)gpa, access_name(q), (unsigned long long)gla, (q & EPT_VIOL_GLA_VALID) != 0,
		  (q & EPT_VIOL_TRANSLATION) != 0, breach, (unsigned long long)vmcs_readnat(GUEST_RIP));
	vcpu_dump(v, breach ? "isolation breach" : "EPT violation");
	vcpu_stop(v, 1, breach ? "isolation breach: the guest touched hapvisor's memory" : "EPT violation");
}

void exit_ept_misconfig(struct vcpu *v)
{
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	uint64_t entry = 0;
	unsigned level = 0;
	bool mapped = pt_lookup(&ept_format, ept.root, gpa, &entry, &level);
	log_error("EPT misconfiguration at guest-physical %#llx: leaf entry %#llx at level %u (%s) - a "
		  "hapvisor bug", (unsigned long long)gpa, (unsigned long long)entry, level,
		  mapped ? "present" : "not present");
	vcpu_dump(v, "EPT misconfiguration");
	vcpu_stop(v, 1, "EPT misconfiguration");
}
