/* hapvisor's C entry: the boot sequence from the Multiboot2 hand-off to the end of the run. */
#include "arch/x86/cpu.h"
#include "arch/x86/layout.h"
#include "arch/x86/serial.h"
#include "lib/log.h"
#include "lib/panic.h"

void hv_main(uint32_t magic, uint32_t info_phys);

uint64_t hv_image_phys = HV_LOAD_PHYS;

void hv_main(uint32_t magic, uint32_t info_phys)
{
	serial_init();
	log_event("boot stage=c_entry magic=%#x info=%#x image_phys=%#llx", magic, info_phys,
		  (unsigned long long)hv_image_phys);
	log_info("hapvisor starting");
	panic("nothing more to do yet");
}
