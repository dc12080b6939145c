/* elf_parse, elf_entry_paddr and elf_find_note on the input as a guest kernel image. */
#include "guest/elf.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	uint8_t *img = fuzz_dup(data, size, 0);
	struct elf_image elf;
	(void)elf_is_elf(img, size);
	if (elf_parse(img, size, &elf)) {
		FUZZ_CHECK(elf.segment_count <= ELF_MAX_SEGMENTS);
		for (size_t i = 0; i < elf.segment_count; i++) {
			const struct elf_segment *s = &elf.segments[i];
			FUZZ_CHECK(s->filesz <= s->memsz && s->memsz > 0);
			FUZZ_CHECK(s->offset <= size && s->filesz <= size - s->offset);
		}
		(void)elf_entry_paddr(&elf);
	}
	const void *desc = NULL;
	uint32_t desc_size = 0;
	if (elf_find_note(img, size, "Xen", 18, &desc, &desc_size))
		FUZZ_CHECK(fuzz_inside(desc, desc_size, img, size));
	(void)elf_has_note(img, size, "GNU", 3);
	free(img);
	return 0;
}
