/* VMCALL: hapvisor's hypercall ABI (guest/hypercall_abi.h, docs/hypercalls.md). */
#include "guest/hypercall_abi.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "vmx/dirty.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/fatal_test.h"
#include "vmx/walk2d_glue.h"

static int64_t hc_console_write(const struct vcpu *v)
{
	uint64_t gpa = vcpu_arg(v, GPR_RBX), len = vcpu_arg(v, GPR_RCX);
	if (len > HC_CONSOLE_MAX)
		return HC_EINVAL;
	if (len == 0)
		return 0;
	if (!guest_mem_is_ram(gpa, len))
		return HC_EFAULT;
	console_write(phys_to_virt(gpa), len);
	return (int64_t)len;
}

static int64_t hc_report_result(const struct vcpu *v)
{
	log_event("guest_result passed=%llu failed=%llu", (unsigned long long)vcpu_arg(v, GPR_RBX),
		  (unsigned long long)vcpu_arg(v, GPR_RCX));
	return 0;
}

static int64_t hc_exit_stats(const struct vcpu *v)
{
	uint64_t gpa = vcpu_arg(v, GPR_RBX), len = vcpu_arg(v, GPR_RCX);
	struct hc_exit_stats out;
	if (len < sizeof(out))
		return HC_EINVAL;
	if (!guest_mem_is_ram(gpa, sizeof(out)))
		return HC_EFAULT;
	out.total_exits = v->stats.total;
	for (unsigned i = 0; i < HC_EXIT_REASONS; i++)
		out.by_reason[i] = v->stats.count[i];
	memcpy(phys_to_virt(gpa), &out, sizeof(out));
	return (int64_t)sizeof(out);
}

static int64_t hc_ept_stats(const struct vcpu *v)
{
	uint64_t gpa = vcpu_arg(v, GPR_RBX), len = vcpu_arg(v, GPR_RCX);
	struct hc_ept_stats out;
	if (len < sizeof(out))
		return HC_EINVAL;
	if (!guest_mem_is_ram(gpa, sizeof(out)))
		return HC_EFAULT;
	ept_stats(&out);
	memcpy(phys_to_virt(gpa), &out, sizeof(out));
	return (int64_t)sizeof(out);
}

static int64_t hc_walk(struct vcpu *v)
{
	uint64_t gla = vcpu_arg(v, GPR_RBX), access = vcpu_arg(v, GPR_RCX);
	uint64_t gpa = vcpu_arg(v, GPR_RDX), len = vcpu_arg(v, GPR_RSI);
	struct hc_walk out;
	if (len < sizeof(out) || access > UINT32_MAX)
		return HC_EINVAL;
	if (!guest_mem_is_ram(gpa, sizeof(out)))
		return HC_EFAULT;
	if (!walk2d_report_guest(v, gla, (unsigned)access, &out))
		return HC_EINVAL;
	memcpy(phys_to_virt(gpa), &out, sizeof(out));
	return (int64_t)sizeof(out);
}

static int64_t hc_dirty_read(const struct vcpu *v)
{
	uint64_t gpa = vcpu_arg(v, GPR_RBX), len = vcpu_arg(v, GPR_RCX);
	len = MIN(len, HC_DIRTY_MAX / PAGE_SIZE / 8); /* the largest bitmap a tracked range needs */
	if (len == 0)
		return HC_EINVAL;
	if (!guest_mem_is_ram(gpa, len))
		return HC_EFAULT;
	return dirty_read(phys_to_virt(gpa), len);
}

void exit_vmcall(struct vcpu *v)
{
	int64_t ret;
	uint64_t fn = v->regs.gpr[GPR_RAX];

	fatal_test_hypercall(v); /* tests only: nothing unless fatal_test= is set */
	if (vcpu_cpl() != 0) {
		ret = HC_EPERM;
	} else if (v->shadow && fn < HC_FUNCTION_COUNT && (HC_EPT_FUNCTIONS & (1u << fn))) {
		ret = HC_ENOSYS; /* no EPT under shadow paging: its statistics and dirty tracking do not exist
				  */
	} else {
		switch (fn) {
		case HC_VERSION:
			ret = HC_ABI_VERSION;
			break;
		case HC_CONSOLE_WRITE:
			ret = hc_console_write(v);
			break;
		case HC_REPORT_RESULT:
			ret = hc_report_result(v);
			break;
		case HC_EXIT_STATS:
			ret = hc_exit_stats(v);
			break;
		case HC_EPT_STATS:
			ret = hc_ept_stats(v);
			break;
		case HC_WALK:
			ret = hc_walk(v);
			break;
		case HC_DIRTY_START:
			ret = dirty_start(vcpu_arg(v, GPR_RBX), vcpu_arg(v, GPR_RCX));
			break;
		case HC_DIRTY_READ:
			ret = hc_dirty_read(v);
			break;
		case HC_DIRTY_STOP:
			ret = dirty_stop();
			break;
		case HC_POWER_OFF:
			log_event("guest_power_off method=hypercall status=%llu",
				  (unsigned long long)vcpu_arg(v, GPR_RBX));
			vcpu_stop(v, vcpu_arg(v, GPR_RBX) ? 1 : 0,
				  "the guest powered off through the hypercall");
			return;
		default:
			ret = HC_ENOSYS;
			break;
		}
	}
	v->regs.gpr[GPR_RAX] = (uint64_t)ret;
	vcpu_skip_instruction(v);
}
