/* Fatal exceptions in hapvisor itself: print everything a developer needs, then stop cleanly. */
#include "arch/x86/cpu.h"
#include "arch/x86/desc.h"
#include "arch/x86/layout.h"
#include "arch/x86/mce.h"
#include "arch/x86/nmi.h"
#include "arch/x86/smp.h"
#include "lib/log.h"
#include "lib/panic.h"

#define BACKTRACE_MAX_FRAMES 16

static const char *const exception_names[EXC_COUNT] = {
	[EXC_DE] = "#DE divide error",
	[EXC_DB] = "#DB debug",
	[EXC_NMI] = "NMI",
	[EXC_BP] = "#BP breakpoint",
	[EXC_OF] = "#OF overflow",
	[EXC_BR] = "#BR bound range",
	[EXC_UD] = "#UD invalid opcode",
	[EXC_NM] = "#NM device not available",
	[EXC_DF] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[EXC_TS] = "#TS invalid TSS",
	[EXC_NP] = "#NP segment not present",
	[EXC_SS] = "#SS stack fault",
	[EXC_GP] = "#GP general protection",
	[EXC_PF] = "#PF page fault",
	[EXC_MF] = "#MF x87 error",
	[EXC_AC] = "#AC alignment check",
	[EXC_MC] = "#MC machine check",
	[EXC_XM] = "#XM SIMD error",
	[EXC_VE] = "#VE virtualization exception",
	[EXC_CP] = "#CP control protection",
};

static bool in_image(uint64_t addr)
{
	return addr >= HV_VBASE && addr < (uint64_t)(uintptr_t)__image_end;
}

/*
 * Follows the saved-RBP chain. Needs: frame pointers (-fno-omit-frame-pointer). Only frames inside the
 * hapvisor image (where every hapvisor stack lives) are followed, so a corrupt chain cannot fault.
 */
void backtrace_print(uint64_t rbp, unsigned max_frames)
{
	for (unsigned i = 0; i < max_frames && rbp; i++) {
		if (!in_image(rbp) || !in_image(rbp + 16) || (rbp & 7))
			break;
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		uint64_t ret = frame[1];
		if (!in_image(ret))
			break;
		log_raw("  #%u  %#018llx\n", i, (unsigned long long)ret);
		if (frame[0] <= rbp) /* stacks grow down: the chain must go up */
			break;
		rbp = frame[0];
	}
}

static void dump_frame(const struct exception_frame *f)
{
	log_raw("  rip=%#018llx cs=%#llx rflags=%#llx rsp=%#018llx ss=%#llx\n", (unsigned long long)f->rip,
		(unsigned long long)f->cs, (unsigned long long)f->rflags, (unsigned long long)f->rsp,
		(unsigned long long)f->ss);
	log_raw("  rax=%#018llx rbx=%#018llx rcx=%#018llx rdx=%#018llx\n", (unsigned long long)f->rax,
		(unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	log_raw("  rsi=%#018llx rdi=%#018llx rbp=%#018llx r8 =%#018llx\n", (unsigned long long)f->rsi,
		(unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
	log_raw("  r9 =%#018llx r10=%#018llx r11=%#018llx r12=%#018llx\n", (unsigned long long)f->r9,
		(unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	log_raw("  r13=%#018llx r14=%#018llx r15=%#018llx\n", (unsigned long long)f->r13,
		(unsigned long long)f->r14, (unsigned long long)f->r15);
	log_raw("  cr0=%#llx cr2=%#018llx cr3=%#llx cr4=%#llx\n", (unsigned long long)read_cr0(),
		(unsigned long long)read_cr2(), (unsigned long long)read_cr3(),
		(unsigned long long)read_cr4());
}

/* (faulting RIP, resume RIP) pairs from arch/x86/msr_safe.asm, ended by a zero pair. */
extern const uint64_t msr_safe_fixups[][2];

/* A #GP at a registered instruction is expected: resume at its fix-up. */
static bool apply_fixup(struct exception_frame *f)
{
	if (f->vector != EXC_GP)
		return false;
	for (size_t i = 0; msr_safe_fixups[i][0]; i++) {
		if (f->rip == msr_safe_fixups[i][0]) {
			f->rip = msr_safe_fixups[i][1];
			return true;
		}
	}
	return false;
}

/*
 * Called by isr.asm for every exception vector. An NMI is the guest's and goes to nmi_root()
 * (arch/x86/nmi.h). A #GP on a registered instruction (msr_read_safe, msr_write_safe) returns to its fix-up.
 * hapvisor takes no exceptions by design, so any other exception is a hypervisor bug (or a hardware error, a
 * machine check): every other CPU is stopped first (smp_stop_all), then the exception is reported and the run
 * ends through the on_exit action. A second exception while reporting stops at once with a short line.
 */
void exception_dispatch(struct exception_frame *f)
{
	static volatile int nesting;
	if (f->vector == EXC_NMI) {
		nmi_root(f);
		return;
	}
	if (apply_fixup(f))
		return;
	if (!smp_stop_all())
		smp_halt_stopped(); /* another CPU is reporting its own fatal error and stops this one */
	if (nesting++) {
		log_raw("hapvisor: event=exception nested=1 vector=%llu rip=%#llx\n",
			(unsigned long long)f->vector, (unsigned long long)f->rip);
		cpu_halt_forever();
	}
	const char *name = f->vector < EXC_COUNT && exception_names[f->vector] ? exception_names[f->vector]
									       : "reserved vector";
	log_error("CPU exception in hapvisor: %s (vector %llu), error code %#llx", name,
		  (unsigned long long)f->vector, (unsigned long long)f->error_code);
	dump_frame(f);
	if (f->vector == EXC_MC)
		mce_report();
	log_raw("  call chain:\n  #-   %#018llx\n", (unsigned long long)f->rip);
	backtrace_print(f->rbp, BACKTRACE_MAX_FRAMES);
	log_event("exception vector=%llu error=%#llx rip=%#llx cr2=%#llx", (unsigned long long)f->vector,
		  (unsigned long long)f->error_code, (unsigned long long)f->rip,
		  (unsigned long long)read_cr2());
	hv_abort("CPU exception in hapvisor");
}
