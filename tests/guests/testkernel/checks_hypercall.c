/*
 * testkernel: hapvisor's hypercall ABI (guest/hypercall_abi.h, docs/hypercalls.md). Natively VMCALL raises
 * #UD and each check fails with vmcall=#UD.
 */
#include "checks.h"
#include "hypercall.h"

#define EXIT_REASON_CPUID 10 /* SDM Vol. 3D Appendix C */
#define EXIT_REASON_VMCALL 18
#define UNKNOWN_FUNCTION_HIGH UINT64_MAX
#define PROBE_BUFFER_LEN 16
#define WRAPPING_GPA (UINT64_MAX - 7)  /* + PROBE_BUFFER_LEN wraps past 2^64 */
#define BEYOND_MAXPHYADDR (1ull << 63) /* above any physical address width (SDM Vol. 3A 4.1.4) */
#define REG_PATTERN 0x0123456789ABCDEFull

static const char hello[] = "testkernel: hello through the hypercall console\n";
static char too_long[HC_CONSOLE_MAX + 1];
static struct hc_exit_stats stats;

/*
 * expect_call: make hypercall fn(rbx, rcx) and fail c unless it returns want. Returns false when the
 * VMCALL itself faulted (the rest of the check is pointless then).
 */
static bool expect_call(struct check *c, const char *what, uint64_t fn, uint64_t rbx, uint64_t rcx,
			int64_t want)
{
	struct hc_result r = hc_call(fn, rbx, rcx, 0, 0);

	if (r.vector != PROBE_NO_FAULT) {
		check_fail(c, "vmcall=%s", vector_name((uint64_t)r.vector));
		return false;
	}
	if (r.value != want) {
		const char *name = hc_error_name(r.value);
		check_fail(c, "%s=%ld%s%s expected=%ld", what, r.value, name ? ":" : "", name ? name : "",
			   want);
	}
	return true;
}

void check_hypercall_version(struct check *c, struct tk_context *t)
{
	(void)t;
	if (expect_call(c, "version", HC_VERSION, 0, 0, HC_ABI_VERSION))
		check_note(c, "version_expected=%d", HC_ABI_VERSION);
}

void check_hypercall_regs_preserved(struct check *c, struct tk_context *t)
{
	(void)t;
	struct hc_regs before, after;
	uint64_t *b = (uint64_t *)&before, *a = (uint64_t *)&after;
	static const char *const names[] = {"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",
					    "r9",  "r10", "r11", "r12", "r13", "r14", "r15"};
	_Static_assert(ARRAY_SIZE(names) == sizeof(struct hc_regs) / sizeof(uint64_t),
		       "one name per register");

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		b[i] = REG_PATTERN * (i + 1);
	before.rax = HC_VERSION;
	after = before;
	int vector = hc_vmcall_regs(&after);
	if (vector != PROBE_NO_FAULT) {
		check_fail(c, "vmcall=%s", vector_name((uint64_t)vector));
		return;
	}
	if (after.rax != HC_ABI_VERSION)
		check_fail(c, "rax=0x%lx", after.rax);
	for (size_t i = 1; i < ARRAY_SIZE(names); i++)
		if (a[i] != b[i])
			check_fail(c, "%s_changed=0x%lx", names[i], a[i]);
	check_note(c, "registers=%zu", ARRAY_SIZE(names) - 1);
}

void check_hypercall_console(struct check *c, struct tk_context *t)
{
	uint64_t len = sizeof(hello) - 1;

	if (!expect_call(c, "write", HC_CONSOLE_WRITE, (uint64_t)hello, len, (int64_t)len))
		return;
	expect_call(c, "unknown_function", HC_FUNCTION_COUNT, 0, 0, HC_ENOSYS);
	expect_call(c, "unknown_function_high", UNKNOWN_FUNCTION_HIGH, 0, 0, HC_ENOSYS);
	for (size_t i = 0; i < sizeof(too_long); i++)
		too_long[i] = 'x';
	expect_call(c, "too_long", HC_CONSOLE_WRITE, (uint64_t)too_long, sizeof(too_long), HC_EINVAL);
	expect_call(c, "wrapping", HC_CONSOLE_WRITE, WRAPPING_GPA, PROBE_BUFFER_LEN, HC_EFAULT);
	expect_call(c, "beyond_maxphyaddr", HC_CONSOLE_WRITE, BEYOND_MAXPHYADDR, PROBE_BUFFER_LEN, HC_EFAULT);
	if (!t->have_hv_region) {
		check_fail(c, "hv_region=none (see check memory_map)");
		return;
	}
	uint64_t inside = t->hv_region.base + (t->hv_region.end - t->hv_region.base) / 2;
	check_note(c, "hv_region_probe=0x%lx", inside);
	expect_call(c, "in_hv_region", HC_CONSOLE_WRITE, inside, PROBE_BUFFER_LEN, HC_EFAULT);
	/* Starts in guest memory, ends in hapvisor's: the whole buffer must be checked. */
	expect_call(c, "into_hv_region", HC_CONSOLE_WRITE, t->hv_region.base - PROBE_BUFFER_LEN / 2,
		    PROBE_BUFFER_LEN, HC_EFAULT);
}

void check_hypercall_exit_stats(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t cpuids = tk_cpuid_count, vmcalls = hc_completed;

	if (!expect_call(c, "stats", HC_EXIT_STATS, (uint64_t)&stats, sizeof(stats), (int64_t)sizeof(stats)))
		return;
	uint64_t sum = 0;
	for (size_t i = 0; i < HC_EXIT_REASONS; i++)
		sum += stats.by_reason[i];
	check_note(
		c,
		"total_exits=%llu cpuid_exits=%llu vmcall_exits=%llu cpuids_executed=%lu vmcalls_before=%lu",
		stats.total_exits, stats.by_reason[EXIT_REASON_CPUID], stats.by_reason[EXIT_REASON_VMCALL],
		cpuids, vmcalls);
	if (stats.total_exits == 0)
		check_fail(c, "total_exits=0");
	if (stats.by_reason[EXIT_REASON_CPUID] < cpuids)
		check_fail(c, "cpuid_exits_below_cpuids_executed");
	if (stats.by_reason[EXIT_REASON_VMCALL] < vmcalls)
		check_fail(c, "vmcall_exits_below_vmcalls_made");
	if (sum > stats.total_exits)
		check_fail(c, "sum_by_reason=%lu above_total", sum);
	for (size_t i = 0; i < HC_EXIT_REASONS; i++)
		if (stats.by_reason[i] && i != EXIT_REASON_CPUID && i != EXIT_REASON_VMCALL)
			check_note(c, "exits_reason_%zu=%llu", i, stats.by_reason[i]);
	expect_call(c, "small_buffer", HC_EXIT_STATS, (uint64_t)&stats, sizeof(stats) - 1, HC_EINVAL);
}
