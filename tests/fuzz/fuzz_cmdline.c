/* options_parse on a NUL-terminated copy of the input as hapvisor's command line. */
#include "boot/options.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	char *line = (char *)fuzz_dup(data, size, 1);
	struct hv_options opt;
	(void)options_parse(line, &opt);
	FUZZ_CHECK(opt.hvmem % OPTIONS_HVMEM_ALIGN == 0 && opt.hvmem >= opt.hvmem_requested);
	FUZZ_CHECK(opt.guest_timeout_ms <= OPTIONS_GUEST_TIMEOUT_MAX_MS);
	options_log(&opt);
	free(line);
	return 0;
}
