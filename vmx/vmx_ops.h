/*
 * Every VMX instruction hapvisor executes, in one place (KVM's arch/x86/kvm/vmx/vmx_ops.h): VMXON, VMXOFF,
 * VMCLEAR, VMPTRLD, VMPTRST, VMREAD, VMWRITE, INVEPT and INVVPID, and the width-checked VMCS accessors
 * built on VMREAD/VMWRITE. VMLAUNCH and VMRESUME are the exception: they run with the guest's registers
 * loaded, so they live in the entry trampoline vmx/entry.asm (KVM's vmenter.S).
 *
 * Each instruction reports its outcome in RFLAGS (SDM Vol. 3C 31.2 "Conventions"): VMsucceed (CF = ZF = 0),
 * VMfailInvalid (CF = 1: no current VMCS, or a bad operand before any VMCS is involved) or VMfailValid
 * (ZF = 1: the reason is in the current VMCS's VM-instruction error field). The wrappers return that as
 * enum vmx_insn_result; the accessors and the invalidations, whose failure is always a hapvisor bug, panic.
 *
 * Only code that runs on the target includes this file: the host unit tests never execute VMX instructions
 * (the field names and encodings they need are in vmx/vmcs.h).
 */
#ifndef HV_VMX_VMX_OPS_H
#define HV_VMX_VMX_OPS_H

#include "lib/panic.h"
#include "lib/types.h"
#include "vmx/caps.h"
#include "vmx/vmcs.h"

enum vmx_insn_result {
	VMX_INSN_OK = 0,	   /* VMsucceed */
	VMX_INSN_FAIL_INVALID = 1, /* VMfailInvalid (CF = 1) */
	VMX_INSN_FAIL_VALID = 2,   /* VMfailValid (ZF = 1): see VM_INSTRUCTION_ERROR */
};

static inline enum vmx_insn_result vmx_insn_result(uint8_t cf, uint8_t zf)
{
	return cf ? VMX_INSN_FAIL_INVALID : zf ? VMX_INSN_FAIL_VALID : VMX_INSN_OK;
}

/* VMXON with the VMXON region at pa (SDM Vol. 3C 31.3 "VMXON"). */
static inline enum vmx_insn_result vmxon_insn(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxon %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory", "cc");
	return vmx_insn_result(cf, zf);
}

/* VMXOFF (SDM Vol. 3C 31.3 "VMXOFF"). */
static inline enum vmx_insn_result vmxoff_insn(void)
{
	uint8_t cf, zf;
	__asm__ volatile("vmxoff" : "=@ccc"(cf), "=@ccz"(zf) : : "memory", "cc");
	return vmx_insn_result(cf, zf);
}

/* VMCLEAR of the VMCS at pa: its data written back, its launch state "clear" (SDM Vol. 3C 31.3). */
static inline enum vmx_insn_result vmclear_insn(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmclear %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory", "cc");
	return vmx_insn_result(cf, zf);
}

/* VMPTRLD: the VMCS at pa becomes this CPU's current VMCS (SDM Vol. 3C 31.3). */
static inline enum vmx_insn_result vmptrld_insn(uint64_t pa)
{
	uint8_t cf, zf;
	__asm__ volatile("vmptrld %2" : "=@ccc"(cf), "=@ccz"(zf) : "m"(pa) : "memory", "cc");
	return vmx_insn_result(cf, zf);
}

#define VMCS_POINTER_NONE UINT64_MAX /* VMPTRST's answer when there is no current VMCS (SDM Vol. 3C 31.3) */

/* VMPTRST: the physical address of the current VMCS, or VMCS_POINTER_NONE. */
static inline uint64_t vmptrst_insn(void)
{
	uint64_t current = 0;
	__asm__ volatile("vmptrst %0" : "=m"(current) : : "memory", "cc");
	return current;
}

/*
 * Report a failed VMREAD/VMWRITE (a hapvisor bug): panic naming the field and, for VMfailValid, the
 * VM-instruction error (VMfailInvalid, no current VMCS, is told apart with VMPTRST). vmx/vmcs.c.
 */
NORETURN void vmcs_access_failed(const char *insn, enum vmcs_field field);

/*
 * Raw accessors, inline because every exit uses several: on VMfail (CF or ZF set) they panic via
 * vmcs_access_failed. One flag output ("below or equal": CF | ZF) makes the check a single jump.
 */
static inline uint64_t vmcs_read_raw(enum vmcs_field field)
{
	uint64_t value;
	bool failed;
	__asm__ volatile("vmread %2, %0" : "=r"(value), "=@ccbe"(failed) : "r"((uint64_t)field) : "cc");
	if (__builtin_expect(failed, 0))
		vmcs_access_failed("VMREAD", field);
	return value;
}

static inline void vmcs_write_raw(enum vmcs_field field, uint64_t value)
{
	bool failed;
	__asm__ volatile("vmwrite %1, %2" : "=@ccbe"(failed) : "r"(value), "r"((uint64_t)field) : "cc");
	if (__builtin_expect(failed, 0))
		vmcs_access_failed("VMWRITE", field);
}

/*
 * VMREAD that reports failure instead of panicking: for diagnostics that read fields this CPU may not
 * support (VMfailValid, VM-instruction error 12). Returns false and stores 0 when VMREAD fails.
 */
static inline bool vmcs_read_safe(uint32_t field, uint64_t *value)
{
	uint64_t v = 0;
	uint8_t cf, zf;
	__asm__ volatile("vmread %3, %0" : "=r"(v), "=@ccc"(cf), "=@ccz"(zf) : "r"((uint64_t)field) : "cc");
	*value = (cf | zf) ? 0 : v;
	return !(cf | zf);
}

/* Width-checked accessors: a field of another width is a compile-time error (SDM Vol. 3C 25.11.2). */
#define VMCS_CHECK_WIDTH(f, w) _Static_assert(VMCS_WIDTH(f) == (w), #f " has another width")
#define vmcs_read16(f)                                                                                       \
	({                                                                                                   \
		VMCS_CHECK_WIDTH(f, VMCS_W16);                                                               \
		(uint16_t) vmcs_read_raw(f);                                                                 \
	})
#define vmcs_read32(f)                                                                                       \
	({                                                                                                   \
		VMCS_CHECK_WIDTH(f, VMCS_W32);                                                               \
		(uint32_t) vmcs_read_raw(f);                                                                 \
	})
#define vmcs_read64(f)                                                                                       \
	({                                                                                                   \
		VMCS_CHECK_WIDTH(f, VMCS_W64);                                                               \
		vmcs_read_raw(f);                                                                            \
	})
#define vmcs_readnat(f)                                                                                      \
	({                                                                                                   \
		VMCS_CHECK_WIDTH(f, VMCS_WNAT);                                                              \
		vmcs_read_raw(f);                                                                            \
	})
#define vmcs_write16(f, v)                                                                                   \
	do {                                                                                                 \
		VMCS_CHECK_WIDTH(f, VMCS_W16);                                                               \
		vmcs_write_raw(f, (uint16_t)(v));                                                            \
	} while (0)
#define vmcs_write32(f, v)                                                                                   \
	do {                                                                                                 \
		VMCS_CHECK_WIDTH(f, VMCS_W32);                                                               \
		vmcs_write_raw(f, (uint32_t)(v));                                                            \
	} while (0)
#define vmcs_write64(f, v)                                                                                   \
	do {                                                                                                 \
		VMCS_CHECK_WIDTH(f, VMCS_W64);                                                               \
		vmcs_write_raw(f, (uint64_t)(v));                                                            \
	} while (0)
#define vmcs_writenat(f, v)                                                                                  \
	do {                                                                                                 \
		VMCS_CHECK_WIDTH(f, VMCS_WNAT);                                                              \
		vmcs_write_raw(f, (uint64_t)(v));                                                            \
	} while (0)

/* INVEPT and INVVPID types (SDM Vol. 3C 31.3 "INVEPT", "INVVPID"). */
#define INVEPT_SINGLE_CONTEXT 1
#define INVEPT_ALL_CONTEXTS 2
#define INVVPID_INDIVIDUAL_ADDRESS 0
#define INVVPID_SINGLE_CONTEXT 1
#define INVVPID_ALL_CONTEXTS 2

/* INVEPT of type for the EPT that eptp names (ignored by all-context). */
static inline enum vmx_insn_result invept_insn(uint64_t type, uint64_t eptp)
{
	struct {
		uint64_t eptp, reserved;
	} desc = {eptp, 0};
	uint8_t cf, zf;
	__asm__ volatile("invept %2, %3" : "=@ccc"(cf), "=@ccz"(zf) : "m"(desc), "r"(type) : "memory", "cc");
	return vmx_insn_result(cf, zf);
}

/* INVVPID of type for the mappings tagged vpid (and, for an individual address, of gla). */
static inline enum vmx_insn_result invvpid_insn(uint64_t type, uint16_t vpid, uint64_t gla)
{
	struct {
		uint64_t vpid, gla;
	} desc = {vpid, gla};
	uint8_t cf, zf;
	__asm__ volatile("invvpid %2, %3" : "=@ccc"(cf), "=@ccz"(zf) : "m"(desc), "r"(type) : "memory", "cc");
	return vmx_insn_result(cf, zf);
}

/*
 * ept_sync_context (KVM's name): drop this CPU's cached guest-physical and combined translations of the
 * EPT eptp, with the narrowest INVEPT type the CPU has (single-context, else all-context; SDM Vol. 3C
 * 29.4.3.1). Local to this CPU. Nothing to do on a CPU without INVEPT. A failure is a hapvisor bug: panic.
 */
static inline void ept_sync_context(uint64_t eptp)
{
	if (!vmx_caps.invept)
		return;
	uint64_t type = vmx_caps.invept_single ? INVEPT_SINGLE_CONTEXT : INVEPT_ALL_CONTEXTS;
	enum vmx_insn_result r = invept_insn(type, eptp);
	if (r != VMX_INSN_OK)
		panic("INVEPT type %llu of EPTP %#llx failed (%s)", (unsigned long long)type,
		      (unsigned long long)eptp, r == VMX_INSN_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
}

/*
 * vpid_sync_context (KVM's name): drop this CPU's linear and combined translations tagged vpid, with the
 * narrowest INVVPID type the CPU has (single-context, else all-context; SDM Vol. 3C 29.4.3.3). VPID 0 (no
 * VPID in use: VM entries and exits flush instead) and a CPU without INVVPID need nothing. Panics on VMfail.
 */
static inline void vpid_sync_context(uint16_t vpid)
{
	if (!vpid || !vmx_caps.invvpid || !(vmx_caps.invvpid_single || vmx_caps.invvpid_all))
		return;
	uint64_t type = vmx_caps.invvpid_single ? INVVPID_SINGLE_CONTEXT : INVVPID_ALL_CONTEXTS;
	enum vmx_insn_result r = invvpid_insn(type, vpid, 0);
	if (r != VMX_INSN_OK)
		panic("INVVPID type %llu of VPID %u failed (%s)", (unsigned long long)type, vpid,
		      r == VMX_INSN_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
}

/*
 * vpid_sync_vcpu_addr (KVM's name): drop this CPU's cached translations of guest-linear gla tagged vpid
 * (INVVPID individual-address, SDM Vol. 3C 29.4.3.3), or all of vpid's where the CPU lacks that type.
 * VPID 0 needs nothing (VM entries and exits flush). Panics on VMfail.
 */
static inline void vpid_sync_vcpu_addr(uint16_t vpid, uint64_t gla)
{
	if (!vpid || !vmx_caps.invvpid)
		return;
	if (!vmx_caps.invvpid_addr) {
		vpid_sync_context(vpid);
		return;
	}
	enum vmx_insn_result r = invvpid_insn(INVVPID_INDIVIDUAL_ADDRESS, vpid, gla);
	if (r != VMX_INSN_OK)
		panic("INVVPID of %#llx for VPID %u failed (%s)", (unsigned long long)gla, vpid,
		      r == VMX_INSN_FAIL_INVALID ? "VMfailInvalid" : "VMfailValid");
}

#endif
