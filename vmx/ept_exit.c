/*
 * EPT exits (SDM Vol. 3C 29.3.3).
 * - a violation on an unmapped guest-physical address is a fill (ept_fill), the guest resumes;
 * - a write to a page write-protected for dirty tracking is logged and re-enabled (vmx/dirty.c);
 * - a violation on hapvisor's memory is an isolation breach: the guest is stopped with a report
 *   (address, access, guest RIP, the guest-linear address and its translation), hapvisor is untouched.
 */
#include "lib/log.h"
#include "mm/guest_mem.h"
#include "vmx/caps.h"
#include "vmx/dirty.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/vmx_ops.h"
#include "vmx/walk2d_glue.h"

static const char *access_name(uint64_t q)
{
	return (q & EPT_VIOL_FETCH) ? "fetch" : (q & EPT_VIOL_WRITE) ? "write" : "read";
}

static unsigned hc_access_of(uint64_t q)
{
	return (q & EPT_VIOL_WRITE)   ? HC_ACCESS_WRITE
	       : (q & EPT_VIOL_FETCH) ? HC_ACCESS_FETCH
				      : HC_ACCESS_READ;
}

/*
 * The report of a violation that stops the guest: event=ept_violation, then for a breach the report shared
 * with shadow paging (vcpu_report_breach), else the sentence, the 2D walk of the address and the dump.
 */
static void report_violation(struct vcpu *v, uint64_t gpa, bool breach)
{
	uint64_t q = v->exit_qualification;
	bool gla_valid = q & EPT_VIOL_GLA_VALID, translation = q & EPT_VIOL_TRANSLATION;
	uint64_t gla = gla_valid ? vmcs_readnat(GUEST_LINEAR_ADDRESS) : 0;
	log_event(
		"ept_violation cpu=%u gpa=%#llx access=%s gla=%#llx gla_valid=%d translation=%d entry_rights=%#llx breach=%d rip=%#llx",
		v->cpu, (unsigned long long)gpa, access_name(q), (unsigned long long)gla, gla_valid,
		translation, (unsigned long long)((q >> 3) & 7), breach,
		(unsigned long long)vmcs_readnat(GUEST_RIP));
	if (breach) {
		vcpu_report_breach(v, "ept", gpa, hc_access_of(q), gla, gla_valid, translation);
		return;
	}
	log_error("guest access hapvisor cannot map: guest %s of physical address %#llx at guest rip %#llx%s",
		  access_name(q), (unsigned long long)gpa, (unsigned long long)vmcs_readnat(GUEST_RIP),
		  translation ? "" : ", while the CPU walked the guest's own page tables");
	if (gla_valid)
		walk2d_report_guest(v, gla, hc_access_of(q), NULL);
	vcpu_dump(v, "EPT violation");
}

/* The EPT rights the access in exit qualification q needed. */
static uint64_t needed_rights(uint64_t q)
{
	return ((q & EPT_VIOL_READ) ? EPT_READ : 0) | ((q & EPT_VIOL_WRITE) ? EPT_WRITE : 0) |
	       ((q & EPT_VIOL_FETCH) ? EPT_EXEC : 0);
}

static void handle_violation(struct vcpu *v)
{
	uint64_t q = v->exit_qualification;
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);

	if (guest_mem_is_hapvisor(gpa)) {
		ept_counters.breach++;
		report_violation(v, gpa, true);
		vcpu_stop(v, 1, "isolation breach: the guest touched hapvisor's memory");
		return;
	}
	if (q & EPT_VIOL_ENTRY_PRESENT) { /* mapped, but without the right the access needed */
		if (ept_allows(gpa, needed_rights(q))) {
			/* Another CPU gave the right back (dirty tracking ended) after this CPU cached the
			 * old entry: drop this CPU's stale translation and retry (SDM Vol. 3C 29.4.3). */
			ept_sync_context(ept_pointer());
			return;
		}
		ept_counters.protection++;
		if ((q & EPT_VIOL_WRITE) && dirty_write_fault(gpa))
			return;
		report_violation(v, gpa, false);
		vcpu_stop(v, 1, "EPT permission violation outside any tracked range");
		return;
	}
	uint64_t base;
	unsigned level;
	switch (ept_fill_around(gpa, &base, &level)) {
	case EPT_FILL_MAPPED:
		ept_counters.fill++;
		log_debug("EPT fill: %#llx -> %s page at %#llx", (unsigned long long)gpa,
			  level == PG_LEVEL_1G	 ? "1G"
			  : level == PG_LEVEL_2M ? "2M"
						 : "4K",
			  (unsigned long long)base);
		return;
	case EPT_FILL_PRESENT: /* another path mapped it meanwhile: just retry */
		return;
	case EPT_FILL_NO_MEMORY:
		vcpu_stop(v, 1, "hapvisor's pool is exhausted (EPT); boot with a larger hvmem=");
		return;
	default:
		report_violation(v, gpa, false);
		vcpu_stop(v, 1, "guest access beyond the physical address width");
		return;
	}
}

/*
 * Fills and protection changes are made under the EPT lock: vCPUs on other CPUs share the tables. An IRET
 * that faulted here had ended virtual-NMI blocking: it is restored for the retry (vmx/events.h); an event
 * the violation interrupted is delivered again after this handler (vmx/run.c).
 */
void exit_ept_violation(struct vcpu *v)
{
	vcpu_nmi_iret_unblocking(v, v->exit_qualification);
	ept_lock();
	handle_violation(v);
	ept_unlock();
}

/* Name the field of an EPT entry that makes it a misconfiguration (SDM Vol. 3C 29.3.3.1). */
static const char *misconfig_cause(uint64_t entry, unsigned level)
{
	uint64_t rwx = entry & EPT_RWX;
	uint64_t memtype = (entry & EPT_MEMTYPE_MASK) >> EPT_MEMTYPE_SHIFT;
	if ((rwx & EPT_WRITE) && !(rwx & EPT_READ))
		return "write permission without read (bits 1:0 = 10b)";
	if (rwx == EPT_EXEC && !vmx_caps.ept_exec_only)
		return "execute-only, which this CPU does not support";
	if ((level == PG_LEVEL_4K || (entry & PT_LARGE_PAGE)) &&
	    (memtype == 2 || memtype == 3 || memtype == 7))
		return "reserved memory type in bits 5:3";
	return "a reserved bit is set";
}

void exit_ept_misconfig(struct vcpu *v)
{
	uint64_t gpa = vmcs_read64(GUEST_PHYSICAL_ADDRESS);
	struct pt_step steps[PT_LEVELS];
	uint64_t hpa;
	ept_lock();
	unsigned n = ept_walk(gpa, steps, &hpa);
	ept_counters.misconfig++;
	ept_unlock();
	const struct pt_step *last = &steps[n - 1];
	log_error(
		"EPT misconfiguration at guest-physical %#llx: level-%u entry %#llx at %#llx[%u]: %s (a hapvisor bug)",
		(unsigned long long)gpa, last->level, (unsigned long long)last->entry,
		(unsigned long long)last->table_pa, last->index, misconfig_cause(last->entry, last->level));
	log_event("ept_misconfig gpa=%#llx level=%u entry=%#llx", (unsigned long long)gpa, last->level,
		  (unsigned long long)last->entry);
	vcpu_dump(v, "EPT misconfiguration");
	vcpu_stop(v, 1, "EPT misconfiguration");
}
