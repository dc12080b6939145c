/* testkernel: attacks on hapvisor's exit handling and control of the CPU (see attack_cpu.h). */
#include "attack_cpu.h"
#include "check.h"
#include "fmt.h"
#include "hypercall.h"
#include "power.h"
#include "serial.h"

/*
 * The storm's size: about 10 microseconds of Bochs per exit round trip (TESTBED.md), so about 10-15 s in
 * all; on hardware a few milliseconds.
 */
#define STORM_CPUIDS 800000u
#define STORM_IOS 200000u
#define STORM_LEAVES 2u	   /* leaves 0 and 1, alternately */
#define STORM_IO_PORT 0x64 /* 8042 status: a port hapvisor catches (vmx/exit_io.c) */
#define STORM_RAX_PATTERN UINT64_C(0x5A5A5A5A5A5A5A00) /* IN AL must leave RAX[63:8] alone */
#define AL_MASK UINT64_C(0xFF)
#define EXIT_REASON_CPUID 10 /* SDM Vol. 3D Appendix C */
#define EXIT_REASON_IO_INSTRUCTION 30

struct __attribute__((packed)) empty_idt_pointer {
	uint16_t limit;
	uint64_t base;
};

static struct hc_exit_stats before, after;

static __attribute__((noreturn)) void storm_verdict(bool pass)
{
	check_passed = pass ? 1 : 0;
	check_failed = pass ? 0 : 1;
	tk_finish();
}

static bool read_exit_stats(struct hc_exit_stats *s)
{
	struct hc_result r = hc_call(HC_EXIT_STATS, (uint64_t)s, sizeof(*s), 0, 0);
	return r.vector == PROBE_NO_FAULT && r.value == (int64_t)sizeof(*s);
}

static bool same_regs(const struct cpuid_regs *a, const struct cpuid_regs *b)
{
	return a->eax == b->eax && a->ebx == b->ebx && a->ecx == b->ecx && a->edx == b->edx;
}

/* STORM_CPUIDS CPUIDs: the number whose answer differed from the first answer of the same leaf. */
static unsigned cpuid_storm(void)
{
	struct cpuid_regs first[STORM_LEAVES];
	unsigned wrong = 0;
	for (unsigned i = 0; i < STORM_CPUIDS; i++) {
		struct cpuid_regs r = cpuid(i % STORM_LEAVES, 0);
		if (i < STORM_LEAVES)
			first[i] = r;
		else if (!same_regs(&r, &first[i % STORM_LEAVES]))
			wrong++;
	}
	return wrong;
}

/* STORM_IOS byte reads of STORM_IO_PORT: the number that changed RAX above AL. */
static unsigned io_storm(void)
{
	unsigned wrong = 0;
	for (unsigned i = 0; i < STORM_IOS; i++) {
		uint64_t rax = STORM_RAX_PATTERN;
		__asm__ volatile("inb %w1, %b0" : "+a"(rax) : "Nd"((uint16_t)STORM_IO_PORT));
		if ((rax & ~AL_MASK) != (STORM_RAX_PATTERN & ~AL_MASK))
			wrong++;
	}
	return wrong;
}

void attack_storm(struct tk_context *t)
{
	(void)t;
	tk_printf("testkernel: attack=storm cpuids=%u ios=%u port=0x%x starting\n", STORM_CPUIDS, STORM_IOS,
		  STORM_IO_PORT);
	if (!read_exit_stats(&before)) {
		tk_printf("testkernel: attack=storm result=fail HC_EXIT_STATS failed before the storm\n");
		storm_verdict(false);
	}
	unsigned wrong_cpuid = cpuid_storm();
	unsigned wrong_io = io_storm();
	if (!read_exit_stats(&after)) {
		tk_printf("testkernel: attack=storm result=fail HC_EXIT_STATS failed after the storm\n");
		storm_verdict(false);
	}
	unsigned long long cpuid_exits =
		after.by_reason[EXIT_REASON_CPUID] - before.by_reason[EXIT_REASON_CPUID];
	unsigned long long io_exits =
		after.by_reason[EXIT_REASON_IO_INSTRUCTION] - before.by_reason[EXIT_REASON_IO_INSTRUCTION];
	bool pass = !wrong_cpuid && !wrong_io && cpuid_exits == STORM_CPUIDS && io_exits == STORM_IOS;
	tk_printf("testkernel: attack=storm result=%s cpuid_exits=%llu io_exits=%llu wrong_cpuid=%u "
		  "wrong_io=%u total_exits=%llu\n",
		  pass ? "pass" : "fail", cpuid_exits, io_exits, wrong_cpuid, wrong_io, after.total_exits);
	storm_verdict(pass);
}

void attack_spin(struct tk_context *t)
{
	(void)t;
	tk_printf("testkernel: attack=spin starting (interrupts off, a jump to itself)\n");
	serial_flush();
	__asm__ volatile("cli\n1: jmp 1b" ::: "memory");
	__builtin_unreachable();
}

void attack_triplefault(struct tk_context *t)
{
	(void)t;
	static const struct empty_idt_pointer empty = {0, 0};
	tk_printf("testkernel: attack=triplefault starting (empty IDT, then UD2)\n");
	serial_flush();
	__asm__ volatile("cli\n\tlidt %0\n\tud2" : : "m"(empty) : "memory");
	/* Came back: the triple fault was not a VM exit and the CPU somehow went on. */
	tk_printf("testkernel: attack=triplefault result=fail the CPU went on after UD2\n");
	power_off(1);
}
