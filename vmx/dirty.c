/* Dirty tracking by PML or by EPT write protection (see dirty.h). */
#include "vmx/dirty.h"
#include "guest/hypercall_abi.h"
#include "lib/log.h"
#include "lib/str.h"
#include "mm/guest_mem.h"
#include "mm/phys.h"
#include "mm/pmm.h"
#include "vmx/caps.h"
#include "vmx/controls.h"
#include "vmx/ept.h"
#include "vmx/exit.h"
#include "vmx/run.h"
#include "vmx/vmx_ops.h"

#define PML_ENTRIES 512
#define PML_INDEX_START (PML_ENTRIES - 1)
#define DIRTY_PAGES_MAX (HC_DIRTY_MAX / PAGE_SIZE)

static struct {
	bool active, pml;
	uint64_t base, pages;
	uint64_t pml_page;
	uint8_t bitmap[DIRTY_PAGES_MAX / 8];
} dirty;

static bool use_pml(void)
{
	return vmx_caps.pml && vmx_caps.ept_ad;
}

const char *dirty_method(void)
{
	return use_pml() ? "pml" : "write-protect";
}

static void mark(uint64_t gpa)
{
	if (gpa < dirty.base || gpa >= dirty.base + dirty.pages * PAGE_SIZE)
		return;
	uint64_t n = (gpa - dirty.base) / PAGE_SIZE;
	dirty.bitmap[n / 8] |= (uint8_t)(1u << (n % 8));
}

/* Move the logged GPAs into the bitmap and empty the log (SDM Vol. 3C 29.3.6: the index counts down). */
static void pml_drain(void)
{
	const uint64_t *log = phys_to_virt(dirty.pml_page);
	uint16_t index = vmcs_read16(GUEST_PML_INDEX);
	unsigned first = index >= PML_ENTRIES ? 0 : index + 1u; /* >= 512: the log is full */
	for (unsigned i = first; i < PML_ENTRIES; i++)
		mark(log[i] & ~(uint64_t)(PAGE_SIZE - 1));
	vmcs_write16(GUEST_PML_INDEX, PML_INDEX_START);
}

static void set_pml(bool on)
{
	uint32_t cpu2 = vmcs_read32(SECONDARY_VM_EXEC_CONTROL);
	if (on) {
		vmcs_write64(PML_ADDRESS, dirty.pml_page);
		vmcs_write16(GUEST_PML_INDEX, PML_INDEX_START);
		cpu2 |= (uint32_t)CPU2_ENABLE_PML;
	} else {
		cpu2 &= ~(uint32_t)CPU2_ENABLE_PML;
	}
	vmcs_write32(SECONDARY_VM_EXEC_CONTROL, cpu2);
}

/* Re-arm tracking of the pages: clear D (PML) or W (write protection) in their EPT entries. */
static bool arm(uint64_t gpa, uint64_t pages)
{
	return ept_protect(gpa, pages * PAGE_SIZE, dirty.pml ? EPT_DIRTY : EPT_WRITE, 0);
}

static int64_t stop(void);

static int64_t start(uint64_t gpa, uint64_t len)
{
	if (!IS_ALIGNED(gpa, PAGE_SIZE) || !IS_ALIGNED(len, PAGE_SIZE) || len == 0 || len > HC_DIRTY_MAX)
		return HC_EINVAL;
	if (!guest_mem_is_ram(gpa, len))
		return HC_EFAULT;
	if (dirty.active)
		stop();
	dirty.pml = use_pml();
	if (dirty.pml && !dirty.pml_page && !(dirty.pml_page = pmm_alloc_frame()))
		return HC_EINVAL;
	dirty.base = gpa;
	dirty.pages = len / PAGE_SIZE;
	memset(dirty.bitmap, 0, sizeof(dirty.bitmap));
	if (!arm(gpa, dirty.pages))
		return HC_EFAULT;
	ept_sync_context(ept_pointer());
	if (dirty.pml)
		set_pml(true);
	dirty.active = true;
	log_event("dirty_track start=%#llx pages=%llu method=%s", (unsigned long long)gpa,
		  (unsigned long long)dirty.pages, dirty_method());
	return 0;
}

static int64_t read_bitmap(uint8_t *bitmap, uint64_t len)
{
	uint64_t bytes = (dirty.pages + 7) / 8;
	if (!dirty.active || len < bytes)
		return HC_EINVAL;
	if (dirty.pml)
		pml_drain();
	int64_t count = 0;
	for (uint64_t n = 0; n < dirty.pages; n++) {
		if (!(dirty.bitmap[n / 8] & (1u << (n % 8))))
			continue;
		count++;
		arm(dirty.base + n * PAGE_SIZE, 1);
	}
	memcpy(bitmap, dirty.bitmap, bytes);
	memset(bitmap + bytes, 0, len - bytes);
	memset(dirty.bitmap, 0, bytes);
	ept_sync_context(ept_pointer());
	return count;
}

static int64_t stop(void)
{
	if (!dirty.active)
		return 0;
	if (dirty.pml)
		set_pml(false);
	else
		ept_protect(dirty.base, dirty.pages * PAGE_SIZE, 0, EPT_WRITE);
	ept_sync_context(ept_pointer());
	dirty.active = false;
	return 0;
}

/*
 * The hypercalls take the EPT lock (the protections they change are shared by every vCPU). Tracking
 * reduces EPT permissions, which another CPU could keep cached, so it runs only while one vCPU is active:
 * starting it with more is refused, and a second vCPU's start ends it (dirty_abandon).
 */
int64_t dirty_start(uint64_t gpa, uint64_t len)
{
	/* The count is read under the lock: a SIPI counts its vCPU before dirty_abandon() takes the lock, so
	 * either this start sees it, or that abandon comes after this start. */
	ept_lock();
	int64_t r = vmx_active_vcpus() > 1 ? HC_EBUSY : start(gpa, len);
	ept_unlock();
	return r;
}

int64_t dirty_read(uint8_t *bitmap, uint64_t len)
{
	ept_lock();
	int64_t r = read_bitmap(bitmap, len);
	ept_unlock();
	return r;
}

int64_t dirty_stop(void)
{
	ept_lock();
	int64_t r = stop();
	ept_unlock();
	return r;
}

bool dirty_abandon(void)
{
	ept_lock();
	bool was_active = dirty.active;
	if (was_active) {
		/* Write access comes back (a permission increase: stale read-only entries on the owner's CPU
		 * only cause an EPT violation that ept_exit.c retries). The owner's VMCS keeps PML on: its
		 * log is emptied on PML-full exits and never read. */
		if (!dirty.pml)
			ept_protect(dirty.base, dirty.pages * PAGE_SIZE, 0, EPT_WRITE);
		ept_sync_context(ept_pointer());
		dirty.active = false;
	}
	ept_unlock();
	return was_active;
}

bool dirty_write_fault(uint64_t gpa)
{
	if (!dirty.active || dirty.pml || gpa < dirty.base || gpa >= dirty.base + dirty.pages * PAGE_SIZE)
		return false;
	uint64_t page = ALIGN_DOWN(gpa, PAGE_SIZE);
	mark(page);
	ept_protect(page, PAGE_SIZE, 0, EPT_WRITE);
	ept_sync_context(ept_pointer());
	return true;
}

void exit_pml_full(struct vcpu *v)
{
	vcpu_nmi_iret_unblocking(v, v->exit_qualification); /* bit 12 is its only defined bit */
	ept_lock();
	if (dirty.active && dirty.pml)
		pml_drain();
	else
		vmcs_write16(GUEST_PML_INDEX, PML_INDEX_START);
	ept_unlock();
}
