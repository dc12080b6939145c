/* NMIs in VMX root operation (see nmi.h). */
#include "arch/x86/nmi.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"

static uint64_t restart_start, restart_end;

void nmi_set_restart(const void *start, const void *end)
{
	restart_start = (uint64_t)(uintptr_t)start;
	restart_end = (uint64_t)(uintptr_t)end;
}

void nmi_root(struct exception_frame *f)
{
	if (smp_stopping())
		smp_halt_stopped(); /* the NMI of smp_stop_all: never IRET, so further NMIs stay blocked */
	struct percpu *c = this_cpu();
	c->nmi_root = c->nmi_root + 1; /* the only writer; NMIs are blocked until our IRET */
	if (f->rip >= restart_start && f->rip <= restart_end) {
		f->rip = restart_start;
		c->nmi_restarts++;
	}
}
