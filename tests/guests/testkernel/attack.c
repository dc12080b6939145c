/* testkernel: hostile-guest mode, one attack on hapvisor's region per run (see attack.h). */
#include "attack.h"
#include "attack_cpu.h"
#include "checks.h"
#include "hypercall.h"
#include "paging.h"
#include "serial.h"

#define ATTACK_KEY "attack="
#define ATTACK_KEY_LEN (sizeof(ATTACK_KEY) - 1)
#define ATTACK_WRITE_VALUE UINT64_C(0xBADC0FFEE0DDF00D)
#define PAGETABLE_GLA UINT64_C(0x0000600000000000)   /* PML4 slot 192: the alias of the target frame */
#define PTSTRUCTURE_GLA UINT64_C(0x0000580000000000) /* PML4 slot 176: a 1 GiB region nothing else maps */
#define HYPERCALL_LEN 16
#define GDT_CODE64 0x08 /* entry.asm's GDT */
#define GDT_DATA 0x18

struct attack_ctx {
	uint64_t target; /* the physical address attacked: the middle page of hapvisor's region */
	uint64_t gla;	 /* the linear address the attack instruction uses */
	uint64_t value;	 /* what a read returned */
};

struct attack {
	const char *name;
	bool (*prepare)(struct attack_ctx *a); /* sets a->gla; false if the kernel cannot set up */
	probe_fn run;			       /* the attack instruction */
	/* Or the whole attack, without a target in hapvisor's region (attack_cpu.c). */
	__attribute__((noreturn)) void (*whole)(struct tk_context *t);
};

/* ---- preparations: what linear address reaches the target, and how ---------------------------------- */

/* Through the identity map, as any kernel can. */
static bool via_identity(struct attack_ctx *a)
{
	a->gla = a->target;
	return true;
}

/* Through a fresh 4 KiB mapping of the target frame in the kernel's own page tables. */
static bool via_alias(struct attack_ctx *a)
{
	a->gla = PAGETABLE_GLA;
	return pg_map_4k(PAGETABLE_GLA, a->target, PTE_P);
}

/*
 * Through a page-directory entry whose page table is the target frame: the CPU's own walk of
 * PTSTRUCTURE_GLA then reads a PTE from hapvisor's memory, before any data access.
 */
static bool via_page_table_at_target(struct attack_ctx *a)
{
	a->gla = PTSTRUCTURE_GLA;
	return pg_set_pde(PTSTRUCTURE_GLA, (a->target & PTE_ADDR_MASK) | PTE_P | PTE_W);
}

/* ---- attack instructions (run under the fault probe) ------------------------------------------------- */

static void do_read(void *ctx)
{
	struct attack_ctx *a = ctx;

	a->value = *(volatile uint64_t *)a->gla;
}

static void do_write(void *ctx)
{
	const struct attack_ctx *a = ctx;

	*(volatile uint64_t *)a->gla = ATTACK_WRITE_VALUE;
}

/*
 * Jump to the target with IRETQ and RFLAGS.TF set: the CPU fetches and executes the one instruction there,
 * then raises a single-step #DB (SDM Vol. 3B 18.3.1.4), which ends the probe. So an exec that hapvisor
 * fails to stop comes back (exception=#DB, or the instruction's own fault) instead of running on through
 * whatever the target holds. RAX points at a scratch word, for the many instructions that address [RAX].
 */
static void do_exec(void *ctx)
{
	const struct attack_ctx *a = ctx;
	static uint64_t scratch[2];

	__asm__ volatile("mov %%rsp, %%rdx\n\t"
			 "pushq %[ss]\n\t"
			 "pushq %%rdx\n\t"
			 "pushfq\n\t"
			 "orq %[tf], (%%rsp)\n\t"
			 "pushq %[cs]\n\t"
			 "pushq %[rip]\n\t"
			 "mov %[scratch], %%rax\n\t"
			 "iretq"
			 :
			 : [ss] "i"(GDT_DATA), [cs] "i"(GDT_CODE64), [tf] "i"(RFLAGS_TF), [rip] "r"(a->gla),
			   [scratch] "r"(scratch)
			 : "rax", "rdx", "memory");
}

static const struct attack attacks[] = {
	{"read", via_identity, do_read, NULL},
	{"write", via_identity, do_write, NULL},
	{"exec", via_identity, do_exec, NULL},
	{"pagetable", via_alias, do_read, NULL},
	{"ptstructure", via_page_table_at_target, do_read, NULL},
	{"hypercall", NULL, NULL, NULL}, /* HC_CONSOLE_WRITE from the target: attack_hypercall */
	{"storm", NULL, NULL, attack_storm},
	{"spin", NULL, NULL, attack_spin},
	{"triplefault", NULL, NULL, attack_triplefault},
};

bool attack_requested(const char *cmdline, char *name, size_t size)
{
	for (const char *p = cmdline; *p; p++) {
		if ((p != cmdline && p[-1] != ' ') || tk_strncmp(p, ATTACK_KEY, ATTACK_KEY_LEN) != 0)
			continue;
		size_t n = 0;
		for (p += ATTACK_KEY_LEN; *p && *p != ' ' && n + 1 < size; p++)
			name[n++] = *p;
		name[n] = '\0';
		return true;
	}
	return false;
}

static __attribute__((noreturn)) void verdict(bool pass)
{
	check_passed = pass ? 1 : 0;
	check_failed = pass ? 0 : 1;
	tk_finish();
}

/* The one attack hapvisor contains without stopping the guest: a hypercall buffer in its memory. */
static __attribute__((noreturn)) void attack_hypercall(const struct attack_ctx *a)
{
	struct hc_result r = hc_call(HC_CONSOLE_WRITE, a->target, HYPERCALL_LEN, 0, 0);

	if (r.vector != PROBE_NO_FAULT) {
		tk_printf("testkernel: attack=hypercall result=fail vmcall=%s\n",
			  vector_name((uint64_t)r.vector));
		verdict(false);
	}
	if (r.value != HC_EFAULT) {
		const char *name = hc_error_name(r.value);
		tk_printf("testkernel: attack=hypercall result=fail returned=%ld%s%s expected=HC_EFAULT\n",
			  r.value, name ? ":" : "", name ? name : "");
		verdict(false);
	}
	tk_printf("testkernel: attack=hypercall result=pass contained=HC_EFAULT\n");
	verdict(true);
}

void attack_run(const char *name, struct tk_context *t)
{
	const struct attack *at = NULL;
	struct attack_ctx a = {0};

	for (size_t i = 0; i < ARRAY_SIZE(attacks) && !at; i++)
		if (tk_strncmp(name, attacks[i].name, ATTACK_NAME_MAX) == 0)
			at = &attacks[i];
	if (!at) {
		tk_printf(
			"testkernel: attack=%s result=fail unknown attack (known: read write exec pagetable "
			"ptstructure hypercall storm spin triplefault)\n",
			name);
		verdict(false);
	}
	if (at->whole)
		at->whole(t);
	if (!find_hv_region(&t->boot, &t->hv_region)) {
		tk_printf("testkernel: attack=%s result=fail no target: no reserved range in [1 MiB, 4 GiB) "
			  "next to "
			  "RAM in the memory map\n",
			  name);
		verdict(false);
	}
	a.target = ALIGN_DOWN(t->hv_region.base + (t->hv_region.end - t->hv_region.base) / 2, PAGE_SIZE);
	if (at->prepare && !at->prepare(&a)) {
		tk_printf("testkernel: attack=%s result=fail could not set up the page tables\n", name);
		verdict(false);
	}
	tk_printf("testkernel: attack=%s target=0x%lx starting\n", name, a.target);
	serial_flush(); /* the line must be out before hapvisor stops the guest */
	if (!at->run)
		attack_hypercall(&a);

	int vector = fault_probe(at->run, &a);
	char detail[TK_PRINTF_MAX / 4] = "";
	if (vector != PROBE_NO_FAULT) /* e.g. the walk read a PTE there: that access completed too */
		fmt_snprintf(detail, sizeof(detail), " exception=%s", vector_name((uint64_t)vector));
	else if (at->run == do_read)
		fmt_snprintf(detail, sizeof(detail), " value=0x%lx", a.value);
	tk_printf("testkernel: attack=%s result=fail the access completed gla=0x%lx%s\n", name, a.gla,
		  detail);
	verdict(false);
}
