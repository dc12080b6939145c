/* testkernel: the paging microbenchmark (see measure.h): fresh pages, PTE rewrites, address-space switches.
 */
#include "hypercall.h"
#include "measure.h"
#include "paging.h"
#include "fmt.h"
#include "idt.h"
#include "serial.h"

#define MEASURE_SLOT UINT64_C(0x00004C0000000000) /* PML4 slot 152: nothing else maps there */
#define MEASURE_FRAMES 16
#define EXIT_REASON_EXCEPTION 0 /* SDM Vol. 3D Appendix C: the guest's #PF under shadow paging */
#define EXIT_REASON_INVLPG 14
#define EXIT_REASON_CR_ACCESS 28
#define LEAF_FLAGS (PTE_P | PTE_W | PTE_A | PTE_D) /* A and D preset: no exit just to set them */

static uint64_t measure_frames[MEASURE_FRAMES][PAGE_SIZE / 8] __attribute__((aligned(PAGE_SIZE)));

struct exit_counts {
	bool ok;
	uint64_t total, pf, cr, invlpg;
};

static void read_exits(struct exit_counts *x)
{
	static struct hc_exit_stats s;
	struct hc_result r = hc_call(HC_EXIT_STATS, (uint64_t)&s, sizeof(s), 0, 0);
	x->ok = r.vector == PROBE_NO_FAULT && r.value == (int64_t)sizeof(s);
	x->total = s.total_exits;
	x->pf = s.by_reason[EXIT_REASON_EXCEPTION];
	x->cr = s.by_reason[EXIT_REASON_CR_ACCESS];
	x->invlpg = s.by_reason[EXIT_REASON_INVLPG];
}

/* One line: the loop's TSC delta and, where hapvisor answered, the exits it took (minus the VMCALL). */
static void report(const char *name, uint64_t tsc, const struct exit_counts *a, const struct exit_counts *b)
{
	if (!a->ok || !b->ok) {
		tk_printf("testkernel: measure=paging_%s iterations=%u tsc_delta=%lu per_op=%lu exits=na\n",
			  name, MEASURE_PAGING_OPS, tsc, tsc / MEASURE_PAGING_OPS);
		return;
	}
	tk_printf(
		"testkernel: measure=paging_%s iterations=%u tsc_delta=%lu per_op=%lu exits=%lu pf_exits=%lu "
		"cr_exits=%lu invlpg_exits=%lu\n",
		name, MEASURE_PAGING_OPS, tsc, tsc / MEASURE_PAGING_OPS, b->total - a->total - 1,
		b->pf - a->pf, b->cr - a->cr, b->invlpg - a->invlpg);
}

static uint64_t page_va(unsigned i)
{
	return MEASURE_SLOT + (uint64_t)i * PAGE_SIZE;
}

void measure_paging(void)
{
	static uint64_t *pte[MEASURE_PAGING_OPS];
	struct exit_counts a, b;
	uint64_t root_a = read_cr3();
	for (unsigned i = 0; i < MEASURE_PAGING_OPS; i++) {
		pte[i] = pg_entry(root_a, page_va(i), PG_LEVEL_PT);
		if (!pte[i]) {
			tk_printf("testkernel: measure=paging skipped=no_page_tables\n");
			return;
		}
		*pte[i] = (uint64_t)measure_frames[i % MEASURE_FRAMES] | LEAF_FLAGS;
	}
	uint64_t *root_b = pg_new_root(); /* shares every mapping, slot 152 included */
	if (!root_b) {
		tk_printf("testkernel: measure=paging skipped=no_page_tables\n");
		return;
	}

	read_exits(&a);
	uint64_t t0 = rdtsc();
	for (unsigned i = 0; i < MEASURE_PAGING_OPS; i++)
		(void)*(volatile const uint64_t *)page_va(i);
	uint64_t t = rdtsc() - t0;
	read_exits(&b);
	report("touch_pages", t, &a, &b);

	read_exits(&a);
	t0 = rdtsc();
	for (unsigned i = 0; i < MEASURE_PAGING_OPS; i++) {
		*pte[i] = (uint64_t)measure_frames[(i + 1) % MEASURE_FRAMES] | LEAF_FLAGS;
		invlpg(page_va(i));
		(void)*(volatile const uint64_t *)page_va(i);
	}
	t = rdtsc() - t0;
	read_exits(&b);
	report("remap", t, &a, &b);

	read_exits(&a);
	t0 = rdtsc();
	for (unsigned i = 0; i < MEASURE_PAGING_OPS; i++) {
		write_cr3((i & 1) ? (uint64_t)root_b : root_a);
		(void)*(volatile const uint64_t *)page_va(i);
	}
	t = rdtsc() - t0;
	write_cr3(root_a);
	read_exits(&b);
	report("cr3_switch", t, &a, &b);
}
