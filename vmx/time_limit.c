/*
 * The guest's time limit (see time_limit.h). The VMX-preemption timer counts down in VMX non-root
 * operation at the TSC rate divided by 2^IA32_VMX_MISC[4:0]; at zero it causes a VM exit with reason 52
 * (SDM Vol. 3C 25.5.1, 26.7.4). With the exit control "save VMX-preemption timer value" (Table 25-13,
 * bit 22) the CPU writes the remaining count back to the VMCS on every exit, so the count carries across
 * the guest's other exits, and hapvisor's own time handling them is not charged to the guest.
 */
#include "vmx/time_limit.h"
#include "arch/x86/tsc.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/vmx_ops.h"

#define VMX_MISC_TIMER_RATE(misc) ((misc)&0x1F) /* IA32_VMX_MISC[4:0] (SDM Vol. 3D A.6) */
#define TIMER_VALUE_MAX 0xFFFFFFFFull		/* the VMCS field is 32 bits wide */
#define MS_PER_S 1000ull
#define TIME_LIMIT_REASON_MAX 64

static char stop_reason[TIME_LIMIT_REASON_MAX];

static bool timer_supported(void)
{
	/* Allowed-1 settings are the high halves of the control capability MSRs (SDM Vol. 3D A.3.1, A.4). */
	return ((vmx_caps.pinbased >> 32) & PIN_PREEMPTION_TIMER) &&
	       ((vmx_caps.exit >> 32) & EXIT_SAVE_PREEMPTION_TIMER);
}

bool time_limit_setup(struct vcpu *v, uint64_t limit_ms)
{
	if (!timer_supported()) {
		log_error(
			"guest_timeout=%llums: this CPU's VT-x has no VMX-preemption timer (or cannot save its value on VM exit), so hapvisor cannot limit the guest's time; boot without guest_timeout= or on a CPU that has the timer",
			(unsigned long long)limit_ms);
		log_event("vmx_refused reason=no_preemption_timer");
		return false;
	}
	struct tsc_rate tsc = tsc_rate_get();
	if (tsc.source == TSC_SOURCE_ASSUMED) {
		log_error(
			"guest_timeout=%llums: hapvisor cannot tell this CPU's TSC rate (no CPUID leaf 0x15 or 0x16, and neither the PIT nor the ACPI PM timer counted), so it cannot time the guest; boot without guest_timeout=",
			(unsigned long long)limit_ms);
		return false;
	}
	unsigned rate = (unsigned)VMX_MISC_TIMER_RATE(vmx_caps.misc);
	uint64_t units = (limit_ms * tsc.hz / MS_PER_S) >> rate; /* no overflow: ms <= 8.64e7, hz < 1e11 */
	v->time_limit_ms = limit_ms;
	v->timer_units_left = MAX(units, 1);
	fmt_snprintf(stop_reason, sizeof(stop_reason), "time limit of %llu ms reached (guest_timeout)",
		     (unsigned long long)limit_ms);
	log_event(
		"time_limit when=launch limit_ms=%llu tsc_hz=%llu tsc_source=%s timer_rate=%u timer_units=%llu",
		(unsigned long long)limit_ms, (unsigned long long)tsc.hz, tsc_source_name(tsc.source), rate,
		(unsigned long long)v->timer_units_left);
	return true;
}

void time_limit_arm(struct vcpu *v)
{
	uint64_t chunk = MIN(v->timer_units_left, TIMER_VALUE_MAX);
	v->timer_units_left -= chunk;
	vmcs_write32(VMX_PREEMPTION_TIMER_VALUE, (uint32_t)chunk);
}

void exit_preemption_timer(struct vcpu *v)
{
	if (v->timer_units_left) {
		time_limit_arm(v);
		return;
	}
	log_error(
		"the guest ran for its whole time limit of %llu ms (guest_timeout) without ending; hapvisor stops it",
		(unsigned long long)v->time_limit_ms);
	vcpu_dump(v, "guest time limit");
	log_event("time_limit when=expired limit_ms=%llu rip=%#llx", (unsigned long long)v->time_limit_ms,
		  (unsigned long long)vmcs_readnat(GUEST_RIP));
	vcpu_stop(v, 1, stop_reason);
}
