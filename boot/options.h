/*
 * hapvisor's own options: the Multiboot2 command line of hapvisor.elf (boot/grub.cfg), e.g.
 *   multiboot2 /boot/hapvisor.elf on_exit=poweroff loglevel=debug hvmem=64M ept=eager cpus=2
 * Words are separated by spaces or tabs; a value may be double-quoted (lib/cmdline.h).
 */
#ifndef HV_BOOT_OPTIONS_H
#define HV_BOOT_OPTIONS_H

#include "arch/x86/power.h" /* enum on_exit_action */
#include "lib/log.h"	    /* enum log_level */
#include "lib/types.h"
#include "vmx/entry_check_vmcs.h" /* enum entry_check_mode */
#include "vmx/ept.h"		  /* enum ept_policy */
#include "vmx/run.h"		  /* enum paging_choice */
#include "vmx/fatal_test.h"	  /* enum fatal_test */
#include "vmx/vmcs_break.h"	  /* enum vmcs_break */

/* Each option's values are an enum of the module that acts on them, with their names beside it. */

#define OPTIONS_DEFAULT_ON_EXIT ON_EXIT_HALT
#define OPTIONS_DEFAULT_LOGLEVEL LOG_INFO
#define OPTIONS_DEFAULT_EPT EPT_LAZY
#define OPTIONS_DEFAULT_PAGING PAGING_AUTO
#define OPTIONS_DEFAULT_ENTRY_CHECK ENTRY_CHECK_ENFORCE
#define OPTIONS_HVMEM_DEFAULT MiB(32)
#define OPTIONS_HVMEM_MIN MiB(4)
#define OPTIONS_HVMEM_MAX GiB(1)
#define OPTIONS_HVMEM_ALIGN MiB(2)		 /* hvmem is rounded up to this */
#define OPTIONS_GUEST_TIMEOUT_OFF 0		 /* no time limit: the VMX-preemption timer stays off */
#define OPTIONS_GUEST_TIMEOUT_MAX_MS 86400000ull /* one day */
#define OPTIONS_CPUS_ALL 0  /* cpus= not given: a vCPU on every processor hapvisor started */
#define OPTIONS_CPUS_MAX 64 /* arch/x86/percpu.h HV_MAX_CPUS */

struct hv_options {
	enum on_exit_action on_exit;
	enum log_level loglevel;
	uint64_t hvmem;		  /* bytes of hapvisor's own pool after its image; a multiple of 2 MiB */
	uint64_t hvmem_requested; /* bytes as given, before rounding (== hvmem when it needed none) */
	enum ept_policy ept;
	enum paging_choice paging;
	uint64_t guest_timeout_ms; /* the guest's time limit (vmx/timer.c); OPTIONS_GUEST_TIMEOUT_OFF: none */
	enum entry_check_mode entry_check;
	enum vmcs_break vmcs_break; /* tests only: VMCS_BREAK_NONE */
	unsigned cpus;		    /* at most this many vCPUs; OPTIONS_CPUS_ALL: one per processor */
	bool screen_events;	    /* event= lines on the screen too (lib/log.h); off: COM1 only */
	enum fatal_test fatal_test; /* tests only: FATAL_TEST_NONE */
};

/*
 * Fill *out with the defaults: on_exit=halt loglevel=info hvmem=32M ept=lazy paging=auto
 * entry_check=enforce screen_events=off, no guest_timeout, no vmcs_break, no fatal_test.
 */
void options_defaults(struct hv_options *out);

/*
 * options_parse: read hapvisor's command line (NULL or "" gives the defaults) into *out.
 * Unknown words get a log_warn and are skipped. Each malformed word (bad or missing value, overlong name or
 * value, unclosed quote) gets one log_error sentence saying what is accepted; parsing goes on so every
 * mistake is reported, and the function then returns false. Options that were bad or absent hold their
 * defaults in *out. Does not change log_threshold: the caller applies out->loglevel.
 */
bool options_parse(const char *cmdline, struct hv_options *out);

/*
 * options_log: print the effective options as one structured line
 * "hapvisor: event=options on_exit=... loglevel=... hvmem=<bytes> ept=... paging=... guest_timeout_ms=N
 * cpus=N|all",
 * with entry_check=..., vmcs_break=..., screen_events=... and fatal_test=... appended only when they differ
 * from the defaults; then a debug line when hvmem was rounded up.
 */
void options_log(const struct hv_options *opt);

#endif
