/* Test-only corruption of one VMCS field (see vmcs_break.h): compiled in the test build only. */
#include "vmx/vmcs_break.h"
#include "arch/x86/cpu.h"
#include "lib/log.h"
#include "vmx/controls.h"
#include "vmx/vmx_ops.h"

#ifdef HV_TEST_HOOKS
#define SELECTOR_RPL3 3u
#define AR_TYPE_TSS32_AVAILABLE 0x9 /* a TSS not marked busy: VM entry wants a busy one (SDM 26.3.1.2) */

static void log_break(const char *name, enum vmcs_field field, uint64_t value)
{
	log_warn("vmcs_break=%s: %s set to %#llx for a test; VM entry must fail", name,
		 vmcs_field_name(field), (unsigned long long)value);
	log_event("vmcs_break name=%s field=%s value=%#llx", name, vmcs_field_name(field),
		  (unsigned long long)value);
}

void vmcs_break_apply(enum vmcs_break which)
{
	uint64_t v;
	switch (which) {
	case VMCS_BREAK_NONE:
	case VMCS_BREAK_COUNT:
		return;
	case VMCS_BREAK_guest_cr0_pg: /* paging without protection: SDM 26.3.1.1 */
		v = (vmcs_readnat(GUEST_CR0) & ~CR0_PE) | CR0_PG;
		vmcs_writenat(GUEST_CR0, v);
		log_break("guest_cr0_pg", GUEST_CR0, v);
		return;
	case VMCS_BREAK_guest_tr_type: /* an available TSS in TR: SDM 26.3.1.2 */
		v = (vmcs_read32(GUEST_TR_AR_BYTES) & ~(uint32_t)AR_TYPE_MASK) | AR_TYPE_TSS32_AVAILABLE;
		vmcs_write32(GUEST_TR_AR_BYTES, v);
		log_break("guest_tr_type", GUEST_TR_AR_BYTES, v);
		return;
	case VMCS_BREAK_vpid_zero: /* enable VPID with VPID 0: SDM 26.2.1.1 */
		if (!(vmcs_read32(SECONDARY_VM_EXEC_CONTROL) & CPU2_ENABLE_VPID)) {
			log_warn("vmcs_break=vpid_zero: VPID is not enabled on this CPU; nothing broken");
			return;
		}
		v = 0;
		vmcs_write16(VIRTUAL_PROCESSOR_ID, v);
		log_break("vpid_zero", VIRTUAL_PROCESSOR_ID, v);
		return;
	case VMCS_BREAK_host_cs_rpl: /* host CS with RPL 3: SDM 26.2.3 */
		v = vmcs_read16(HOST_CS_SELECTOR) | SELECTOR_RPL3;
		vmcs_write16(HOST_CS_SELECTOR, v);
		log_break("host_cs_rpl", HOST_CS_SELECTOR, v);
		return;
	}
}
#endif /* HV_TEST_HOOKS */
