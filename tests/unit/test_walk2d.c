/*
 * The 2D walk report with a fake EPT: reference counts (24 for a 4-level guest under a 4 KiB-page EPT),
 * the readable report and the structured line, EPT holes and write protection, unreadable guest tables,
 * PAE PDPTE registers, and struct hc_walk.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "mm/pagetable.h"
#include "tests/unit/host_stubs.h"
#include "vmx/ept.h"
#include "vmx/walk2d.h"

#define ARENA_BASE 0x00200000ull
#define ARENA_PAGES 16
#define OUTSIDE_GPA 0x7000000000ull
#define TABLE_FLAGS (PTE_P | PTE_RW | PTE_US)
#define PAGE_FLAGS (PTE_P | PTE_RW | PTE_US)
#define GUEST_PAGE 0x00345000ull

/* The fake EPT: identity, tables at made-up host addresses; a hole and a read+execute-only page. */
#define EPT_TABLES_HPA 0xE0000000ull
#define EPT_HOLE_BASE 0x00600000ull /* [2 MiB) not mapped: the walk stops at an empty PDE */
#define EPT_RX_PAGE GUEST_PAGE	    /* read + execute only when fake_ept.write_protect */

static struct {
	bool huge; /* 1 GiB leaves */
	bool root_unusable;
	bool write_protect;
	unsigned calls;
} fake_ept;

static unsigned fake_ept_walk(void *ctx, uint64_t gpa, struct walk2d_ept_step steps[WALK2D_EPT_MAX_STEPS],
			      uint64_t *hpa)
{
	fake_ept.calls++;
	*hpa = WALK2D_NO_HPA;
	if (fake_ept.root_unusable)
		return 0;
	unsigned leaf = fake_ept.huge ? 3 : 1, n = 0;
	for (unsigned level = 4; level >= leaf; level--) {
		uint64_t table = EPT_TABLES_HPA + (uint64_t)(4 - level) * PAGE_SIZE;
		uint64_t entry = (EPT_TABLES_HPA + (uint64_t)(5 - level) * PAGE_SIZE) | EPT_RWX;
		bool hole = gpa >= EPT_HOLE_BASE && gpa < EPT_HOLE_BASE + MiB(2);
		if (level == 2 && hole) {
			steps[n++] = (struct walk2d_ept_step){level, table, 0};
			return n;
		}
		if (level == leaf) {
			uint64_t size = 1ull << (12 + 9 * (level - 1));
			bool wp =
				fake_ept.write_protect && (gpa & ~(size - 1)) == (EPT_RX_PAGE & ~(size - 1));
			entry = (gpa & ~(size - 1)) | (wp ? EPT_READ | EPT_EXEC : EPT_RWX) |
				(level > 1 ? PT_LARGE_PAGE : 0);
		}
		steps[n++] = (struct walk2d_ept_step){level, table, entry};
	}
	*hpa = gpa;
	return n;
}

static const struct walk2d_ept ept = {fake_ept_walk, NULL, false};

static uint8_t arena[ARENA_PAGES * PAGE_SIZE] ALIGNED(PAGE_SIZE);

static bool read_gpa(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	if (gpa < ARENA_BASE || gpa + len > ARENA_BASE + sizeof(arena))
		return false;
	memcpy(dst, arena + (gpa - ARENA_BASE), len);
	return true;
}

static struct gwalk_env env;

static void put64(uint64_t gpa, uint64_t v)
{
	memcpy(arena + (gpa - ARENA_BASE), &v, 8);
}

static uint64_t page(unsigned i)
{
	return ARENA_BASE + (uint64_t)i * PAGE_SIZE;
}

/* A 4-level guest: gla -> GUEST_PAGE through PML4 page(0), PDPT page(1), PD page(2), PT page(3). */
#define GLA 0x00007F0000001234ull
static struct gwalk_cpu guest_4level(void)
{
	put64(page(0) + 0xFE * 8, page(1) | TABLE_FLAGS);
	put64(page(1) + 0, page(2) | TABLE_FLAGS);
	put64(page(2) + 0, page(3) | TABLE_FLAGS);
	put64(page(3) + 1 * 8, GUEST_PAGE | PAGE_FLAGS);
	return (struct gwalk_cpu){.cr0 = CR0_PE | CR0_PG | CR0_WP,
				  .cr3 = page(0),
				  .cr4 = CR4_PAE,
				  .efer = EFER_LME | EFER_LMA | EFER_NXE,
				  .rflags = RFLAGS_FIXED};
}

static int setup(void **state)
{
	memset(arena, 0, sizeof(arena));
	memset(&fake_ept, 0, sizeof(fake_ept));
	env = (struct gwalk_env){.maxphyaddr = 46, .gbpages = true, .read_gpa = read_gpa};
	host_console_reset();
	return 0;
}

static void expect_text(const char *s)
{
	if (!strstr(host_console_buf, s))
		print_error("missing \"%s\" in:\n%s\n", s, host_console_buf);
	assert_non_null(strstr(host_console_buf, s));
}

static void test_24_references(void **state)
{
	struct gwalk_cpu cpu = guest_4level();
	struct walk2d_report r;
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_WRITE | GWALK_ACC_USER, &ept, &r);
	assert_int_equal(r.guest.result, GWALK_OK);
	assert_int_equal(r.guest_refs, 4);
	assert_int_equal(r.ept_refs, 20);
	assert_int_equal(fake_ept.calls, 5);
	assert_true(r.has_final);
	assert_int_equal(r.final.hpa, GUEST_PAGE + 0x234);
	assert_false(r.final.denied);
	assert_int_equal(r.table[2].gpa, page(2));
	assert_int_equal(r.table[2].nsteps, 4);
	walk2d_print(&r);
	expect_text(
		"2D walk of guest-linear 0x00007f0000001234 (write, user), 4-level paging, CR3 0x200000:\n");
	expect_text("  guest PML4E gpa 0x0000000000200000+0x7f0 = 0x0000000000201007\n");
	expect_text("    EPT PML4E hpa 0x00000000e0000000[  0] = 0x00000000e0001007\n");
	expect_text("    EPT PTE   hpa 0x00000000e0003000[325] = 0x0000000000345007  -> hpa "
		    "0x0000000000345234 (rwx)\n");
	expect_text("  final gpa 0x0000000000345234 (4 KiB page)\n");
	expect_text("  result: gpa 0x345234, hpa 0x345234\n");
	expect_text("24 memory references (20 EPT + 4 guest)\n");
	expect_text(
		"hapvisor: event=walk2d gla=0x7f0000001234 gpa=0x345234 hpa=0x345234 fault=0x0 guest_refs=4 "
		"ept_refs=20 result=ok mode=4level access=write,user paging=ept\n");

	struct hc_walk hc;
	walk2d_fill_hc(&r, &hc);
	assert_int_equal(hc.gla, GLA);
	assert_int_equal(hc.gpa, GUEST_PAGE + 0x234);
	assert_int_equal(hc.hpa, GUEST_PAGE + 0x234);
	assert_int_equal(hc.fault, 0);
	assert_int_equal(hc.levels, 4);
	assert_int_equal(hc.ref_gpa[0], page(0) + 0xFE * 8);
	assert_int_equal(hc.ref_entry[3], GUEST_PAGE | PAGE_FLAGS);
	assert_int_equal(hc.ref_gpa[4], 0);
}

static void test_huge_ept(void **state)
{
	struct gwalk_cpu cpu = guest_4level();
	struct walk2d_report r;
	fake_ept.huge = true;
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_FETCH, &ept, &r);
	assert_int_equal(r.ept_refs, 10);
	walk2d_print(&r);
	expect_text("(1 GiB page, rwx)");
	expect_text("14 memory references (10 EPT + 4 guest)\n");
	expect_text("access=fetch paging=ept\n");
}

static void test_guest_page_fault(void **state)
{
	struct gwalk_cpu cpu = guest_4level();
	struct walk2d_report r;
	put64(page(3) + 1 * 8, GUEST_PAGE | PTE_P | PTE_US); /* read-only */
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_WRITE | GWALK_ACC_USER, &ept, &r);
	assert_int_equal(r.guest.result, GWALK_PAGE_FAULT);
	assert_false(r.has_final);
	assert_int_equal(r.ept_refs, 16);
	walk2d_print(&r);
	expect_text("  result: #PF error 0x7 (P W U) at guest PTE\n");
	expect_text("gpa=none hpa=none fault=0x100000007 ");

	struct hc_walk hc;
	walk2d_fill_hc(&r, &hc);
	assert_int_equal(hc.fault, WALK2D_HC_FAULT_PF | 7);
	assert_int_equal(hc.gpa, 0);
	assert_int_equal(hc.hpa, WALK2D_NO_HPA);
	assert_int_equal(hc.levels, 4);

	host_console_reset();
	put64(page(2), 0); /* PDE not present */
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_READ, &ept, &r);
	walk2d_print(&r);
	expect_text("  result: #PF error 0x0 (not-present) at guest PDE\n");
	expect_text("(read, supervisor)");
}

static void test_ept_hole_and_protection(void **state)
{
	struct gwalk_cpu cpu = guest_4level();
	struct walk2d_report r;
	put64(page(3) + 2 * 8, (EPT_HOLE_BASE + PAGE_SIZE) | PAGE_FLAGS);
	walk2d_run(&cpu, &env, GLA + PAGE_SIZE, GWALK_ACC_READ, &ept, &r);
	assert_int_equal(r.guest.result, GWALK_OK);
	assert_int_equal(r.final.hpa, WALK2D_NO_HPA);
	assert_true(r.final.denied);
	assert_int_equal(r.final.nsteps, 3);
	walk2d_print(&r);
	expect_text("  -> not mapped: EPT violation\n");
	expect_text("  result: gpa 0x601234, not mapped by the EPT\n");
	expect_text("gpa=0x601234 hpa=none fault=0x0 ");
	struct hc_walk hc;
	walk2d_fill_hc(&r, &hc);
	assert_int_equal(hc.gpa, EPT_HOLE_BASE + PAGE_SIZE + 0x234);
	assert_int_equal(hc.hpa, WALK2D_NO_HPA);
	assert_int_equal(hc.fault, 0);

	host_console_reset();
	fake_ept.write_protect = true;
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_WRITE, &ept, &r);
	assert_true(r.final.denied);
	assert_int_equal(r.final.rights, EPT_READ | EPT_EXEC);
	walk2d_print(&r);
	expect_text("(r-x): EPT violation for this access\n");
	expect_text("  result: gpa 0x345234, hpa 0x345234 (EPT violation)\n");
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_READ, &ept, &r);
	assert_false(r.final.denied);
}

static void test_bad_table(void **state)
{
	struct gwalk_cpu cpu = guest_4level();
	struct walk2d_report r;
	put64(page(1), (EPT_HOLE_BASE + 0x3000) | TABLE_FLAGS); /* the PD: in the EPT hole, not guest RAM */
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_READ, &ept, &r);
	assert_int_equal(r.guest.result, GWALK_BAD_TABLE_GPA);
	assert_true(r.has_final);
	assert_int_equal(r.final.gpa, EPT_HOLE_BASE + 0x3000);
	assert_int_equal(r.guest_refs, 2);
	assert_int_equal(r.ept_refs, 4 + 4 + 3);
	walk2d_print(&r);
	expect_text("  guest PDE   gpa 0x0000000000603000: not guest RAM\n");
	expect_text("  result: the guest PDE lies outside guest RAM\n");
	expect_text("result=bad_table_gpa");
	struct hc_walk hc;
	walk2d_fill_hc(&r, &hc);
	assert_int_equal(hc.fault, WALK2D_HC_FAULT_BAD_TABLE);
	assert_int_equal(hc.levels, 2);
}

static void test_pae_registers(void **state)
{
	/* PAE: PDPT at page(0) + 0x20, PD page(1), PT page(2); gla 0x40001234 -> GUEST_PAGE. */
	uint64_t pdptes[PAE_PDPTES] = {0, page(1) | PTE_P, 0, 0};
	put64(page(1), page(2) | TABLE_FLAGS);
	put64(page(2) + 1 * 8, GUEST_PAGE | PAGE_FLAGS);
	struct gwalk_cpu cpu = {.cr0 = CR0_PE | CR0_PG, .cr3 = page(0) + 0x20, .cr4 = CR4_PAE, .cpl = 3};
	env.pdptes = pdptes;
	struct walk2d_report r;
	walk2d_run(&cpu, &env, 0x40001234, GWALK_ACC_READ, &ept, &r);
	assert_int_equal(r.guest.result, GWALK_OK);
	assert_int_equal(r.guest_refs, 2);
	assert_int_equal(r.ept_refs, 12);
	walk2d_print(&r);
	expect_text("(read, user), PAE paging, CR3 0x200020:\n");
	expect_text("  guest PDPTE gpa 0x0000000000200020+0x008 = 0x0000000000201001\n");
	expect_text("    (the CPU's PDPTE register, from the VMCS: no memory reference)\n");
	expect_text("14 memory references (12 EPT + 2 guest)\n");
	struct hc_walk hc;
	walk2d_fill_hc(&r, &hc);
	assert_int_equal(hc.levels, 3);
	assert_int_equal(hc.ref_gpa[0], page(0) + 0x28);
}

static void test_other_results(void **state)
{
	struct gwalk_cpu cpu = guest_4level();
	struct walk2d_report r;
	walk2d_run(&cpu, &env, 0x0000800000000000ull, GWALK_ACC_READ, &ept, &r);
	walk2d_print(&r);
	expect_text("  result: #GP(0): the address is not canonical\n");
	expect_text("0 memory references (0 EPT + 0 guest)\n");
	expect_text("fault=0x200000000 ");

	host_console_reset();
	fake_ept.root_unusable = true;
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_READ, &ept, &r);
	walk2d_print(&r);
	expect_text("    EPT: root unusable, no entry read\n");

	host_console_reset();
	cpu.cr0 = CR0_PE;
	fake_ept.root_unusable = false;
	walk2d_run(&cpu, &env, 0x12345678, GWALK_ACC_IMPLICIT, &ept, &r);
	walk2d_print(&r);
	expect_text("(read, implicit supervisor), paging off:\n");
	expect_text("4 memory references (4 EPT + 0 guest)\n");
	expect_text("mode=off access=read,implicit paging=ept\n");

	struct gwalk_walk w = {.result = GWALK_BAD_PDPTE};
	assert_int_equal(walk2d_hc_fault(&w), WALK2D_HC_FAULT_BAD_PDPTE);
	w.result = GWALK_BAD_ACCESS;
	assert_int_equal(walk2d_hc_fault(&w), WALK2D_HC_FAULT_BAD_ACCESS);
}

/* Shadow paging: no EPT; guest-physical is host-physical but for hapvisor's memory, no EPT entry read. */
static unsigned no_ept_walk(void *ctx, uint64_t gpa, struct walk2d_ept_step steps[WALK2D_EPT_MAX_STEPS],
			    uint64_t *hpa)
{
	*hpa = ALIGN_DOWN(gpa, PAGE_SIZE) == GUEST_PAGE ? WALK2D_NO_HPA : gpa; /* GUEST_PAGE: "hapvisor's" */
	return 0;
}

static void test_no_ept(void **state)
{
	static const struct walk2d_ept none = {no_ept_walk, NULL, true};
	struct gwalk_cpu cpu = guest_4level();
	struct walk2d_report r;
	walk2d_run(&cpu, &env, GLA, GWALK_ACC_WRITE, &none, &r);
	assert_int_equal(r.guest_refs, 4);
	assert_int_equal(r.ept_refs, 0);
	assert_int_equal(r.table[0].rights, EPT_RWX);
	assert_false(r.table[0].denied);
	assert_true(r.final.denied); /* the final page is "hapvisor's" here */
	walk2d_print(&r);
	expect_text("    no EPT (shadow paging): hpa = gpa\n");
	expect_text("    no EPT (shadow paging): hapvisor's memory, never mapped\n");
	expect_text("  result: gpa 0x345234, hapvisor's memory: the shadow MMU never maps it\n");
	expect_text("4 memory references (0 EPT + 4 guest)\n");
	expect_text(
		" hpa=none fault=0x0 guest_refs=4 ept_refs=0 result=ok mode=4level access=write paging=shadow\n");
	assert_null(strstr(host_console_buf, "EPT: root unusable"));
}

static void test_access_from_hc(void **state)
{
	static const uint64_t good[] = {HC_ACCESS_READ,
					HC_ACCESS_WRITE,
					HC_ACCESS_FETCH,
					HC_ACCESS_USER,
					HC_ACCESS_USER | HC_ACCESS_WRITE,
					HC_ACCESS_USER | HC_ACCESS_FETCH};
	static const uint64_t bad[] = {HC_ACCESS_WRITE | HC_ACCESS_FETCH, 8, 1ull << 40, ~0ull};
	unsigned acc;
	for (unsigned i = 0; i < ARRAY_SIZE(good); i++) {
		assert_true(walk2d_access_from_hc(good[i], &acc));
		assert_int_equal(acc, good[i]);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		assert_false(walk2d_access_from_hc(bad[i], &acc));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_24_references, setup),
		cmocka_unit_test_setup(test_huge_ept, setup),
		cmocka_unit_test_setup(test_guest_page_fault, setup),
		cmocka_unit_test_setup(test_ept_hole_and_protection, setup),
		cmocka_unit_test_setup(test_bad_table, setup),
		cmocka_unit_test_setup(test_pae_registers, setup),
		cmocka_unit_test_setup(test_other_results, setup),
		cmocka_unit_test_setup(test_no_ept, setup),
		cmocka_unit_test_setup(test_access_from_hc, setup),
	};
	return cmocka_run_group_tests_name("walk2d", tests, NULL, NULL);
}
