/* testkernel: exit round-trip measurements (see measure.h). */
#include "measure.h"
#include "fmt.h"
#include "hypercall.h"
#include "idt.h"

#define MEASURE_ITERATIONS 1000u
#define CPUID_LEAF_MAX_BASIC 0

/* Time n CPUIDs of leaf 0 in a tight loop. */
static uint64_t cpuid_loop(unsigned n)
{
	uint64_t start = rdtsc();

	for (unsigned i = 0; i < n; i++) {
		uint32_t a = CPUID_LEAF_MAX_BASIC, b, c = 0, d;
		__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	}
	uint64_t delta = rdtsc() - start;
	tk_cpuid_count += n;
	return delta;
}

/* Time n HC_VERSION VMCALLs in a tight loop (no fault probe: the caller made sure VMCALL works). */
static uint64_t vmcall_loop(unsigned n)
{
	uint64_t start = rdtsc();

	for (unsigned i = 0; i < n; i++) {
		uint64_t rax = HC_VERSION;
		__asm__ volatile("vmcall" : "+a"(rax) : : "memory");
	}
	uint64_t delta = rdtsc() - start;
	hc_completed += n;
	return delta;
}

static void print_measure(const char *name, uint64_t delta)
{
	tk_printf("testkernel: measure=%s iterations=%u tsc_delta=%lu per_op=%lu\n", name, MEASURE_ITERATIONS,
		  delta, delta / MEASURE_ITERATIONS);
}

void measure_exits(void)
{
	print_measure("cpuid_loop", cpuid_loop(MEASURE_ITERATIONS));

	struct hc_result r = hc_call(HC_VERSION, 0, 0, 0, 0);
	if (r.vector != PROBE_NO_FAULT) {
		tk_printf("testkernel: measure=vmcall_loop skipped=vmcall:%s\n",
			  vector_name((uint64_t)r.vector));
		return;
	}
	print_measure("vmcall_loop", vmcall_loop(MEASURE_ITERATIONS));
}
