/* mb2_parse on the input as a Multiboot2 information block; checks its "pointers inside the block" promise.
 */
#include "guest/mb2.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	uint8_t *blk = fuzz_dup(data, size, 0);
	struct mb2_info info;
	if (mb2_parse(blk, size, &info)) {
		FUZZ_CHECK(info.total_size <= size);
		FUZZ_CHECK(fuzz_inside(info.cmdline, strlen(info.cmdline) + 1, blk, size) ||
			   info.cmdline[0] == '\0');
		FUZZ_CHECK(fuzz_inside(info.loader_name, strlen(info.loader_name) + 1, blk, size) ||
			   info.loader_name[0] == '\0');
		FUZZ_CHECK(info.module_count <= MB2_MAX_MODULES);
		for (size_t i = 0; i < info.module_count; i++) {
			const char *s = info.modules[i].string;
			FUZZ_CHECK(fuzz_inside(s, strlen(s) + 1, blk, size) || s[0] == '\0');
		}
		if (info.mmap_count) {
			FUZZ_CHECK(info.mmap_entry_size >= sizeof(struct mb2_mmap_entry));
			const struct mb2_mmap_entry *last = mb2_mmap_at(&info, info.mmap_count - 1);
			FUZZ_CHECK(fuzz_inside(last, sizeof(*last), blk, size));
		}
		if (info.efi_mmap_count)
			FUZZ_CHECK(fuzz_inside(info.efi_mmap,
					       (size_t)info.efi_desc_size * info.efi_mmap_count, blk, size));
		if (info.rsdp)
			FUZZ_CHECK(fuzz_inside(info.rsdp, info.rsdp_len, blk, size));
	}
	free(blk);
	return 0;
}
