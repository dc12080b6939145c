/* testkernel: exit round-trip measurements (see measure.h). */
#include "measure.h"
#include "fmt.h"
#include "hypercall.h"
#include "idt.h"
#include "multiboot.h"

#define MEASURE_ITERATIONS 1000u
#define CPUID_LEAF_MAX_BASIC 0
#define PORT_RESET_CONTROL 0xCF9u   /* caught by hapvisor (vmx/exit_io.c) */
#define RESET_CONTROL_NONE 0x00u    /* no reset bit: the write changes nothing */
#define FILL_WINDOW_BASE 0x2000000u /* 32 MiB: above the kernel and GRUB's modules in the lanes' machines */
#define TK_IMAGE_END_MAX 0x1000000u /* the test kernel's image ends below 16 MiB */

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

/*
 * OUT to a port hapvisor catches (the reset-control register 0xCF9, with no reset bit set: hapvisor checks
 * the value and writes it to the device), n times.
 */
static uint64_t out_loop(unsigned n)
{
	uint64_t start = rdtsc();

	for (unsigned i = 0; i < n; i++)
		outb(PORT_RESET_CONTROL, RESET_CONTROL_NONE);
	return rdtsc() - start;
}

/* The EPT-fill measurement, taken before the checks touch memory (measure_ept_fill) and printed after. */
static struct {
	const char *skipped; /* NULL when measured */
	uint64_t tsc_delta, fills;
} fill;

/* HC_EPT_STATS' count of fills, or false when the hypercall is not there. */
static bool ept_fills(uint64_t *fills)
{
	static struct hc_ept_stats s;
	struct hc_result r = hc_call(HC_EPT_STATS, (uint64_t)&s, sizeof(s), 0, 0);
	*fills = s.violations_fill;
	return r.vector == PROBE_NO_FAULT && r.value == (int64_t)sizeof(s);
}

/* Is [base, end) inside one available range of the memory map and clear of what the loader handed over? */
static bool ram_untouched(const struct boot_info *b, uint64_t base, uint64_t end)
{
	bool inside = false;
	for (size_t i = 0; i < b->map_count; i++)
		inside |= b->map[i].type == MEM_AVAILABLE && b->map[i].base <= base && end <= b->map[i].end;
	for (size_t i = 0; i < b->in_use_count; i++)
		if (b->in_use[i].base < end && base < b->in_use[i].end)
			return false;
	return inside && base >= TK_IMAGE_END_MAX;
}

void measure_ept_fill(const struct boot_info *b)
{
	uint64_t before, after;
	const uint64_t base = FILL_WINDOW_BASE, end = base + (uint64_t)MEASURE_ITERATIONS * PAGE_SIZE;

	fill.skipped = !b->have_mmap || !ram_untouched(b, base, end) ? "no_free_ram" : NULL;
	if (!fill.skipped && !ept_fills(&before))
		fill.skipped = "no_hypercall";
	if (fill.skipped)
		return;
	uint64_t start = rdtsc();
	for (uint64_t pa = base; pa < end; pa += PAGE_SIZE) /* a read: RAM nobody has used, left as it is */
		(void)*(volatile const uint32_t *)pa;
	fill.tsc_delta = rdtsc() - start;
	fill.fills = ept_fills(&after) ? after - before : 0;
}

static void print_measure(const char *name, uint64_t delta)
{
	tk_printf("testkernel: measure=%s iterations=%u tsc_delta=%lu per_op=%lu\n", name, MEASURE_ITERATIONS,
		  delta, delta / MEASURE_ITERATIONS);
}

void measure_exits(void)
{
	print_measure("cpuid_loop", cpuid_loop(MEASURE_ITERATIONS));
	print_measure("out_loop", out_loop(MEASURE_ITERATIONS));
	if (fill.skipped)
		tk_printf("testkernel: measure=ept_fill_loop skipped=%s\n", fill.skipped);
	else
		tk_printf(
			"testkernel: measure=ept_fill_loop iterations=%u tsc_delta=%lu per_op=%lu fills=%lu\n",
			MEASURE_ITERATIONS, fill.tsc_delta, fill.tsc_delta / MEASURE_ITERATIONS, fill.fills);

	struct hc_result r = hc_call(HC_VERSION, 0, 0, 0, 0);
	if (r.vector != PROBE_NO_FAULT) {
		tk_printf("testkernel: measure=vmcall_loop skipped=vmcall:%s\n",
			  vector_name((uint64_t)r.vector));
		return;
	}
	print_measure("vmcall_loop", vmcall_loop(MEASURE_ITERATIONS));
}
