/* pvh_parse on the input as an ELF kernel with a PVH entry note. */
#include "guest/pvh.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	uint8_t *img = fuzz_dup(data, size, 0);
	struct guest_plan k;
	(void)pvh_parse(img, size, &k);
	free(img);
	return 0;
}
