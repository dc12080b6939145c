/* testkernel: hypercall wrappers (see hypercall.h). */
#include "hypercall.h"
#include "idt.h"

void hc_vmcall_raw(void *regs); /* vmcall.asm */

uint64_t hc_completed;

int hc_vmcall_regs(struct hc_regs *r)
{
	int vector = fault_probe(hc_vmcall_raw, r);

	if (vector == PROBE_NO_FAULT)
		hc_completed++;
	return vector;
}

struct hc_result hc_call(uint64_t fn, uint64_t rbx, uint64_t rcx, uint64_t rdx, uint64_t rsi)
{
	struct hc_regs r = {.rax = fn, .rbx = rbx, .rcx = rcx, .rdx = rdx, .rsi = rsi};
	int vector = hc_vmcall_regs(&r);

	return (struct hc_result){.value = (int64_t)r.rax, .vector = vector};
}

const char *hc_error_name(int64_t value)
{
	switch (value) {
	case HC_ENOSYS:
		return "HC_ENOSYS";
	case HC_EINVAL:
		return "HC_EINVAL";
	case HC_EFAULT:
		return "HC_EFAULT";
	case HC_EPERM:
		return "HC_EPERM";
	default:
		return NULL;
	}
}
