/* bzimage_parse on the input as a Linux bzImage. */
#include "guest/bzimage.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	uint8_t *img = fuzz_dup(data, size, 0);
	struct bzimage_kernel k;
	(void)bzimage_parse(img, size, &k);
	free(img);
	return 0;
}
