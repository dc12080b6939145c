/* Names for VMCS fields and VM-instruction errors, the VMREAD/VMWRITE failure report, VMCS loading (see
 * vmcs.h). */
#include "vmx/vmcs.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "mm/phys.h"
#include "vmx/vmx_ops.h"

static const struct {
	uint32_t encoding;
	const char *name;
} field_names[] = {
#define VMCS_NAME(name, enc) {enc, #name},
	VMCS_FIELDS(VMCS_NAME)
#undef VMCS_NAME
};

const char *vmcs_field_name(uint32_t encoding)
{
	for (size_t i = 0; i < ARRAY_SIZE(field_names); i++)
		if (field_names[i].encoding == encoding)
			return field_names[i].name;
	return "unknown field";
}

/* SDM Vol. 3C 31.4, Table 31-1. */
static const char *const instruction_errors[] = {
	[1] = "VMCALL executed in VMX root operation",
	[2] = "VMCLEAR with invalid physical address",
	[3] = "VMCLEAR with VMXON pointer",
	[4] = "VMLAUNCH with non-clear VMCS",
	[5] = "VMRESUME with non-launched VMCS",
	[6] = "VMRESUME after VMXOFF",
	[7] = "VM entry with invalid control field(s)",
	[8] = "VM entry with invalid host-state field(s)",
	[9] = "VMPTRLD with invalid physical address",
	[10] = "VMPTRLD with VMXON pointer",
	[11] = "VMPTRLD with incorrect VMCS revision identifier",
	[12] = "VMREAD/VMWRITE from/to unsupported VMCS component",
	[13] = "VMWRITE to read-only VMCS component",
	[15] = "VMXON executed in VMX root operation",
	[16] = "VM entry with invalid executive-VMCS pointer",
	[17] = "VM entry with non-launched executive VMCS",
	[18] = "VM entry with executive-VMCS pointer not VMXON pointer",
	[19] = "VMCALL with non-clear VMCS",
	[20] = "VMCALL with invalid VM-exit control fields",
	[22] = "VMCALL with incorrect MSEG revision identifier",
	[23] = "VMXOFF under dual-monitor treatment of SMIs and SMM",
	[24] = "VMCALL with invalid SMM-monitor features",
	[25] = "VM entry with invalid VM-execution control fields in executive VMCS",
	[26] = "VM entry with events blocked by MOV SS",
	[28] = "invalid operand to INVEPT/INVVPID",
};

const char *vmx_instruction_error_name(uint32_t error)
{
	if (error < ARRAY_SIZE(instruction_errors) && instruction_errors[error])
		return instruction_errors[error];
	return "unknown VM-instruction error";
}

/* A VMfailValid leaves the reason in VM_INSTRUCTION_ERROR; VMfailInvalid means no current VMCS. */
void vmcs_access_failed(const char *insn, enum vmcs_field field)
{
	if (vmptrst_insn() == VMCS_POINTER_NONE)
		panic("%s %s (%#x): VMfailInvalid (no current VMCS)", insn, vmcs_field_name(field), field);
	uint64_t err = 0;
	vmcs_read_safe(VM_INSTRUCTION_ERROR, &err);
	panic("%s %s (%#x) failed: VM-instruction error %llu: %s", insn, vmcs_field_name(field), field,
	      (unsigned long long)err, vmx_instruction_error_name((uint32_t)err));
}

bool vmcs_load(uint64_t pa, uint32_t revision)
{
	/* SDM Vol. 3C 25.2: the first 4 bytes hold the revision identifier, bit 31 clear (no shadow VMCS). */
	*(volatile uint32_t *)phys_to_virt(pa) = revision;
	if (vmclear_insn(pa) != VMX_INSN_OK) {
		log_error("VMCLEAR of the VMCS at %#llx failed", (unsigned long long)pa);
		return false;
	}
	if (vmptrld_insn(pa) != VMX_INSN_OK) {
		log_error("VMPTRLD of the VMCS at %#llx failed", (unsigned long long)pa);
		return false;
	}
	return true;
}
