/* multiboot_find_header and multiboot_parse on the input as a Multiboot1/2 guest kernel. */
#include "guest/multiboot.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	uint8_t *img = fuzz_dup(data, size, 0);
	enum multiboot_version version;
	uint32_t offset;
	if (multiboot_find_header(img, size, &version, &offset))
		FUZZ_CHECK(offset < size && size - offset >= 12);
	struct guest_plan k;
	(void)multiboot_parse(img, size, &k);
	free(img);
	return 0;
}
