/*
 * testkernel: the paging behaviour a guest kernel relies on (SDM Vol. 3A chapter 4), whatever hapvisor does
 * underneath: EPT, where the CPU walks the guest's tables itself, or shadow paging, where hapvisor keeps
 * tables of its own built from these and must make every effect below look the same. Each check passes
 * natively too. The mappings live in PML4 slots the identity map leaves empty (paging.h).
 */
#include "checks.h"
#include "paging.h"

#define SLOT_TABLES UINT64_C(0x0000400000000000) /* PML4 slot 128: the 4 KiB-page checks share one PT */
#define SLOT_CR3 UINT64_C(0x0000440000000000)	 /* slot 136: mapped differently in two address spaces */
#define SLOT_LARGE UINT64_C(0x0000480000000000)	 /* slot 144: a 2 MiB and a 1 GiB page */
#define REMAP_VA (SLOT_TABLES + 0x0000)
#define PRESENT_LATER_VA (SLOT_TABLES + 0x1000)
#define FAULT_VA (SLOT_TABLES + 0x10000)
#define AD_VA (SLOT_TABLES + 0x20000)
#define AD_LARGE_VA (SLOT_TABLES + 0x200000) /* the second PDE of the slot: a 2 MiB page */
#define WP_VA (SLOT_TABLES + 0x30000)
#define TABLE_WRITE_VA (SLOT_TABLES + 0x40000)
#define LARGE_2M_VA SLOT_LARGE
#define LARGE_1G_VA (SLOT_LARGE + GIB)
#define PAGE_2M (2 * MIB)
#define CR3_SWITCHES 8
#define PATTERN(n) (UINT64_C(0x5A5A000000000000) | ((uint64_t)(n) << 32) | 0x1234)
#define MARK UINT64_C(0xC0FFEE0000C0FFEE)
#define RET_OPCODE 0xC3
#define MAXPHYADDR_MAX 52
#define PTE_A_BIT 5 /* for BTR */
#define FRAMES 10

static uint64_t frames[FRAMES][PAGE_SIZE / 8] __attribute__((aligned(PAGE_SIZE)));
static volatile uint64_t large_probe; /* read and written through the large-page aliases */

static uint64_t frame_pa(unsigned i)
{
	return (uint64_t)frames[i]; /* identity-mapped: linear == physical */
}

/*
 * A word of a frame as memory holds it now: the compiler cannot know that a store through another linear
 * address (an alias this file made) changed it, so every read is volatile and after a compiler barrier.
 */
static uint64_t frame_word(unsigned i, unsigned w)
{
	__asm__ volatile("" : : : "memory");
	return ((volatile const uint64_t *)frames[i])[w];
}

static void fill_frame(unsigned i)
{
	for (unsigned w = 0; w < PAGE_SIZE / 8; w++)
		frames[i][w] = PATTERN(i);
}

static uint64_t *entry_or_fail(struct check *c, uint64_t root, uint64_t va, unsigned level)
{
	uint64_t *e = pg_entry(root, va, level);
	if (!e)
		check_fail(c, "page_tables=none_left va=0x%lx", va);
	return e;
}

static uint64_t peek(uint64_t va)
{
	return *(volatile const uint64_t *)va;
}

static void poke(uint64_t va, uint64_t v)
{
	*(volatile uint64_t *)va = v;
}

/* ---- faults under the probe ---------------------------------------------------------------------- */

struct access {
	uint64_t va, value;
};

static void do_read(void *ctx)
{
	struct access *a = ctx;
	a->value = peek(a->va);
}

static void do_write(void *ctx)
{
	const struct access *a = ctx;
	poke(a->va, a->value);
}

static void do_call(void *ctx)
{
	const struct access *a = ctx;
	((void (*)(void))a->va)();
}

/*
 * Probe one access; when want_error is >= 0 it must raise #PF with exactly that error code and CR2 = va,
 * otherwise it must complete. Fails c with what came instead. Returns true when the outcome was as wanted.
 */
static bool expect_access(struct check *c, const char *what, probe_fn fn, struct access *a,
			  int64_t want_error)
{
	int v = fault_probe(fn, a);
	if (want_error < 0) {
		if (v != PROBE_NO_FAULT) {
			check_fail(c, "%s=%s error_code=0x%lx cr2=0x%lx expected=none", what,
				   vector_name((uint64_t)v), probe_last.error_code, probe_last.cr2);
			return false;
		}
		return true;
	}
	if (v != VEC_PF || probe_last.error_code != (uint64_t)want_error || probe_last.cr2 != a->va) {
		check_fail(c, "%s=%s error_code=0x%lx cr2=0x%lx expected=#PF,0x%lx,0x%lx", what,
			   v == PROBE_NO_FAULT ? "none" : vector_name((uint64_t)v), probe_last.error_code,
			   probe_last.cr2, (uint64_t)want_error, a->va);
		return false;
	}
	return true;
}

static void expect_value(struct check *c, const char *what, uint64_t got, uint64_t want)
{
	if (got != want)
		check_fail(c, "%s=0x%lx expected=0x%lx", what, got, want);
}

/* ---- paging_remap ------------------------------------------------------------------------------------ */

/*
 * A present PTE rewritten to another frame and flushed with INVLPG takes effect for reads and writes; a
 * not-present PTE made present needs no flush (SDM Vol. 3A 4.10.4.3); a PTE cleared and flushed faults.
 */
void check_paging_remap(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t *e = entry_or_fail(c, read_cr3(), REMAP_VA, PG_LEVEL_PT);
	uint64_t *later = entry_or_fail(c, read_cr3(), PRESENT_LATER_VA, PG_LEVEL_PT);
	if (!e || !later)
		return;
	fill_frame(0);
	fill_frame(1);
	*e = frame_pa(0) | PTE_P | PTE_W;
	invlpg(REMAP_VA);
	expect_value(c, "first_map", peek(REMAP_VA), PATTERN(0));
	*e = frame_pa(1) | PTE_P | PTE_W;
	invlpg(REMAP_VA);
	expect_value(c, "remapped", peek(REMAP_VA), PATTERN(1));
	poke(REMAP_VA + 8, MARK);
	expect_value(c, "write_new_frame", frame_word(1, 1), MARK);
	expect_value(c, "old_frame_untouched", frame_word(0, 1), PATTERN(0));

	struct access a = {.va = PRESENT_LATER_VA};
	*later = 0;
	invlpg(PRESENT_LATER_VA);
	expect_access(c, "not_present_read", do_read, &a, 0);
	*later = frame_pa(0) | PTE_P; /* no INVLPG: not-present entries are never cached */
	if (expect_access(c, "made_present_read", do_read, &a, -1))
		expect_value(c, "made_present_value", a.value, PATTERN(0));

	*e = 0;
	invlpg(REMAP_VA);
	a.va = REMAP_VA;
	expect_access(c, "cleared_read", do_read, &a, 0);
	check_note(c, "va=0x%lx frames=0x%lx,0x%lx", REMAP_VA, frame_pa(0), frame_pa(1));
}

/* ---- paging_cr3_switch ------------------------------------------------------------------------------- */

/* Two address spaces map one linear address to two frames; each MOV to CR3 switches what it reads. */
void check_paging_cr3_switch(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t root_a = read_cr3();
	uint64_t *root_b = pg_new_root();
	if (!root_b) {
		check_fail(c, "page_tables=none_left");
		return;
	}
	uint64_t *ea = entry_or_fail(c, root_a, SLOT_CR3, PG_LEVEL_PT);
	uint64_t *eb = entry_or_fail(c, (uint64_t)root_b, SLOT_CR3, PG_LEVEL_PT);
	if (!ea || !eb)
		return;
	fill_frame(2);
	fill_frame(3);
	*ea = frame_pa(2) | PTE_P | PTE_W;
	*eb = frame_pa(3) | PTE_P | PTE_W;
	unsigned wrong = 0;
	for (unsigned i = 0; i < CR3_SWITCHES; i++) {
		bool b = i & 1;
		write_cr3(b ? (uint64_t)root_b : root_a);
		if (peek(SLOT_CR3) != PATTERN(b ? 3 : 2))
			wrong++;
	}
	poke(SLOT_CR3 + 8, MARK); /* in address space B */
	write_cr3(root_a);
	expect_value(c, "write_in_b", frame_word(3, 1), MARK);
	expect_value(c, "a_untouched", frame_word(2, 1), PATTERN(2));
	if (wrong)
		check_fail(c, "wrong_reads=%u of %u", wrong, CR3_SWITCHES);
	check_note(c, "switches=%u root_a=0x%lx root_b=0x%lx", CR3_SWITCHES, root_a, (uint64_t)root_b);
}

/* ---- paging_faults ----------------------------------------------------------------------------------- */

static unsigned maxphyaddr(void)
{
	if (cpuid(CPUID_EXT_MAX_LEAF, 0).eax < CPUID_ADDR_SIZES)
		return 36;
	return cpuid(CPUID_ADDR_SIZES, 0).eax & 0xFF;
}

/*
 * Page faults carry the error code and CR2 the SDM gives (Vol. 3A 4.7): a read and a write of a
 * not-present page, a supervisor write to a read-only page with CR0.WP = 1, a fetch from an
 * execute-disabled page (IA32_EFER.NXE = 1), a reserved address bit in a PTE.
 */
void check_paging_faults(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t *e = entry_or_fail(c, read_cr3(), FAULT_VA, PG_LEVEL_PT);
	if (!e)
		return;
	uint64_t cr0 = read_cr0(), efer = rdmsr(MSR_IA32_EFER);
	struct access a = {.va = FAULT_VA, .value = MARK};
	fill_frame(4);
	((uint8_t *)frames[4])[0] = RET_OPCODE;
	uint64_t word0 = frame_word(4, 0);
	write_cr0(cr0 | CR0_WP);

	*e = 0;
	invlpg(FAULT_VA);
	expect_access(c, "not_present_read", do_read, &a, 0);
	expect_access(c, "not_present_write", do_write, &a, PF_EC_W);

	*e = frame_pa(4) | PTE_P;
	invlpg(FAULT_VA);
	expect_access(c, "read_only_write", do_write, &a, PF_EC_P | PF_EC_W);
	expect_value(c, "read_only_kept", frame_word(4, 0), word0);

	bool nx = cpuid(CPUID_EXT_MAX_LEAF, 0).eax >= CPUID_EXT_FEATURES &&
		  (cpuid(CPUID_EXT_FEATURES, 0).edx & CPUID_EXT_EDX_NX);
	if (nx) {
		wrmsr(MSR_IA32_EFER, efer | EFER_NXE);
		*e = frame_pa(4) | PTE_P | PTE_XD;
		invlpg(FAULT_VA);
		if (expect_access(c, "nx_fetch", do_call, &a, PF_EC_P | PF_EC_ID))
			expect_value(c, "nx_fetch_rip", probe_last.rip, FAULT_VA);
		*e = frame_pa(4) | PTE_P;
		invlpg(FAULT_VA);
		expect_access(c, "executable_fetch", do_call, &a, -1);
		wrmsr(MSR_IA32_EFER, efer);
	}
	unsigned m = maxphyaddr();
	if (m < MAXPHYADDR_MAX) {
		*e = frame_pa(4) | PTE_P | BIT(m);
		invlpg(FAULT_VA);
		expect_access(c, "reserved_bit_read", do_read, &a, PF_EC_P | PF_EC_RSVD);
	}
	*e = 0;
	invlpg(FAULT_VA);
	write_cr0(cr0);
	check_note(c, "va=0x%lx nx=%d maxphyaddr=%u", FAULT_VA, nx, m);
}

/* ---- paging_accessed_dirty --------------------------------------------------------------------------- */

static void clear_accessed(uint64_t *entry)
{
	__asm__ volatile("lock btrq %1, %0" : "+m"(*entry) : "i"(PTE_A_BIT) : "cc", "memory");
}

/*
 * The CPU sets the accessed flag of every paging-structure entry a walk uses and the dirty flag of the
 * leaf on the first write (SDM Vol. 3A 4.8), for a 4 KiB page and a 2 MiB page.
 */
void check_paging_accessed_dirty(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t root = read_cr3();
	uint64_t *pte = entry_or_fail(c, root, AD_VA, PG_LEVEL_PT);
	uint64_t *pde = entry_or_fail(c, root, AD_VA, PG_LEVEL_PD);
	uint64_t *pdpte = entry_or_fail(c, root, AD_VA, PG_LEVEL_PDPT);
	uint64_t *pml4e = entry_or_fail(c, root, AD_VA, PG_LEVEL_PML4);
	uint64_t *large = entry_or_fail(c, root, AD_LARGE_VA, PG_LEVEL_PD);
	if (!pte || !pde || !pdpte || !pml4e || !large)
		return;
	fill_frame(5);
	*pte = frame_pa(5) | PTE_P | PTE_W;
	clear_accessed(pde);
	clear_accessed(pdpte);
	clear_accessed(pml4e);
	invlpg(AD_VA);
	expect_value(c, "read", peek(AD_VA), PATTERN(5));
	uint64_t after_read = *pte;
	if (!(after_read & PTE_A) || (after_read & PTE_D))
		check_fail(c, "pte_after_read=0x%lx expected=A,!D", after_read);
	if (!(*pde & PTE_A) || !(*pdpte & PTE_A) || !(*pml4e & PTE_A))
		check_fail(c, "upper_accessed=%d,%d,%d expected=1,1,1", (*pde & PTE_A) != 0,
			   (*pdpte & PTE_A) != 0, (*pml4e & PTE_A) != 0);
	poke(AD_VA + 16, MARK);
	if (!(*pte & PTE_D))
		check_fail(c, "pte_after_write=0x%lx expected=D", *pte);
	expect_value(c, "written", frame_word(5, 2), MARK);

	/* A 2 MiB page over the frames: its PDE gets A on a read, D on a write. */
	uint64_t base = ALIGN_DOWN(frame_pa(5), PAGE_2M), offset = frame_pa(5) - base;
	*large = base | PTE_P | PTE_W | PTE_PS;
	invlpg(AD_LARGE_VA + offset);
	expect_value(c, "large_read", peek(AD_LARGE_VA + offset), PATTERN(5));
	if (!(*large & PTE_A) || (*large & PTE_D))
		check_fail(c, "pde_after_read=0x%lx expected=A,!D", *large);
	poke(AD_LARGE_VA + offset + 24, MARK);
	if (!(*large & PTE_D))
		check_fail(c, "pde_after_write=0x%lx expected=D", *large);
	expect_value(c, "large_written", frame_word(5, 3), MARK);
	check_note(c, "pte=0x%lx pde_2m=0x%lx", *pte, *large);
}

/* ---- paging_write_protect ---------------------------------------------------------------------------- */

/* CR0.WP = 0 lets supervisor writes through a read-only PTE; CR0.WP = 1 makes them fault (SDM 4.6.1).
 * The entry starts accessed and dirty: a CPU with CET never sets D in an entry whose R/W is clear (SDM
 * 4.8), older CPUs do, and Bochs 3.0's CET models stop with a panic there. This check is about WP only. */
void check_paging_write_protect(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t *e = entry_or_fail(c, read_cr3(), WP_VA, PG_LEVEL_PT);
	if (!e)
		return;
	uint64_t cr0 = read_cr0();
	fill_frame(6);
	*e = frame_pa(6) | PTE_P | PTE_A | PTE_D;
	invlpg(WP_VA);
	struct access a = {.va = WP_VA, .value = MARK};
	write_cr0(cr0 & ~CR0_WP);
	if (expect_access(c, "wp0_write", do_write, &a, -1))
		expect_value(c, "wp0_written", frame_word(6, 0), MARK);
	write_cr0(cr0 | CR0_WP);
	a.value = PATTERN(9);
	expect_access(c, "wp1_write", do_write, &a, PF_EC_P | PF_EC_W);
	expect_value(c, "wp1_kept", frame_word(6, 0), MARK);
	write_cr0(cr0);
}

/* ---- paging_large_pages ------------------------------------------------------------------------------ */

/* A 2 MiB page and (where CPUID offers them) a 1 GiB page alias memory the identity map also reaches. */
void check_paging_large_pages(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t root = read_cr3(), probe_pa = (uint64_t)&large_probe;
	uint64_t *pde = entry_or_fail(c, root, LARGE_2M_VA, PG_LEVEL_PD);
	if (!pde)
		return;
	*pde = ALIGN_DOWN(probe_pa, PAGE_2M) | PTE_P | PTE_W | PTE_PS;
	uint64_t alias = LARGE_2M_VA + (probe_pa & (PAGE_2M - 1));
	invlpg(alias);
	poke(alias, PATTERN(7));
	expect_value(c, "2m_write", large_probe, PATTERN(7));
	large_probe = PATTERN(8);
	expect_value(c, "2m_read", peek(alias), PATTERN(8));

	bool gb = cpuid(CPUID_EXT_MAX_LEAF, 0).eax >= CPUID_EXT_FEATURES &&
		  (cpuid(CPUID_EXT_FEATURES, 0).edx & CPUID_EXT_EDX_PDPE1GB);
	if (gb && probe_pa < GIB) {
		uint64_t *pdpte = entry_or_fail(c, root, LARGE_1G_VA, PG_LEVEL_PDPT);
		if (!pdpte)
			return;
		*pdpte = 0 | PTE_P | PTE_W | PTE_PS; /* the first GiB of physical memory */
		invlpg(LARGE_1G_VA + probe_pa);
		poke(LARGE_1G_VA + probe_pa, PATTERN(9));
		expect_value(c, "1g_write", large_probe, PATTERN(9));
		large_probe = MARK;
		expect_value(c, "1g_read", peek(LARGE_1G_VA + probe_pa), MARK);
	}
	check_note(c, "pages=2m%s", gb ? ",1g" : "");
}

/* ---- paging_table_writes ----------------------------------------------------------------------------- */

/*
 * The instructions kernels change live page-table entries with: MOV, XCHG, LOCK CMPXCHG (succeeding and
 * failing), LOCK BTR of the accessed bit, LOCK AND / OR of the writable bit, a 32-bit MOV of the low half,
 * and REP STOSQ over the whole table; each change is flushed with INVLPG and must take effect.
 */
void check_paging_table_writes(struct check *c, struct tk_context *t)
{
	(void)t;
	uint64_t *e = entry_or_fail(c, read_cr3(), TABLE_WRITE_VA, PG_LEVEL_PT);
	if (!e)
		return;
	uint64_t cr0 = read_cr0();
	write_cr0(cr0 | CR0_WP);
	fill_frame(7);
	fill_frame(8);
	uint64_t e7 = frame_pa(7) | PTE_P | PTE_W, e8 = frame_pa(8) | PTE_P | PTE_W;
	struct access a = {.va = TABLE_WRITE_VA, .value = MARK};

	__asm__ volatile("movq %1, %0" : "=m"(*e) : "r"(e7) : "memory");
	invlpg(TABLE_WRITE_VA);
	expect_value(c, "mov", peek(TABLE_WRITE_VA), PATTERN(7));

	uint64_t old = e8;
	__asm__ volatile("xchgq %0, %1" : "+m"(*e), "+r"(old) : : "memory");
	invlpg(TABLE_WRITE_VA);
	expect_value(c, "xchg", peek(TABLE_WRITE_VA), PATTERN(8));
	expect_value(c, "xchg_old", old & PTE_ADDR_MASK, frame_pa(7));

	uint64_t expected = *e;
	__asm__ volatile("lock cmpxchgq %2, %0" : "+m"(*e), "+a"(expected) : "r"(e7) : "cc", "memory");
	invlpg(TABLE_WRITE_VA);
	expect_value(c, "cmpxchg", peek(TABLE_WRITE_VA), PATTERN(7));
	uint64_t stale = e8, current = *e;
	__asm__ volatile("lock cmpxchgq %2, %0" : "+m"(*e), "+a"(stale) : "r"(e8) : "cc", "memory");
	invlpg(TABLE_WRITE_VA);
	expect_value(c, "cmpxchg_failed", peek(TABLE_WRITE_VA), PATTERN(7));
	expect_value(c, "cmpxchg_failed_rax", stale, current);

	clear_accessed(e);
	if (*e & PTE_A)
		check_fail(c, "btr_accessed=0x%lx", *e);
	invlpg(TABLE_WRITE_VA);
	expect_value(c, "btr_read", peek(TABLE_WRITE_VA), PATTERN(7));

	__asm__ volatile("lock andq %1, %0" : "+m"(*e) : "r"(~PTE_W) : "cc", "memory");
	invlpg(TABLE_WRITE_VA);
	expect_access(c, "and_write", do_write, &a, PF_EC_P | PF_EC_W);
	__asm__ volatile("lock orq %1, %0" : "+m"(*e) : "r"(PTE_W) : "cc", "memory");
	invlpg(TABLE_WRITE_VA);
	if (expect_access(c, "or_write", do_write, &a, -1))
		expect_value(c, "or_written", frame_word(7, 0), MARK);

	__asm__ volatile("movl %1, %0" : "=m"(*(uint32_t *)e) : "r"((uint32_t)e8) : "memory");
	invlpg(TABLE_WRITE_VA);
	expect_value(c, "mov32", peek(TABLE_WRITE_VA), PATTERN(8));

	/* The whole table zeroed by a string store, then one entry written again. */
	uint64_t *table = (uint64_t *)ALIGN_DOWN((uint64_t)e, PAGE_SIZE);
	uint64_t count = PAGE_SIZE / 8;
	__asm__ volatile("rep stosq" : "+D"(table), "+c"(count) : "a"(UINT64_C(0)) : "memory");
	invlpg(TABLE_WRITE_VA);
	expect_access(c, "zeroed_read", do_read, &a, 0);
	*e = e7;
	invlpg(TABLE_WRITE_VA);
	expect_value(c, "rewritten", peek(TABLE_WRITE_VA + 8), PATTERN(7));
	write_cr0(cr0);
}
