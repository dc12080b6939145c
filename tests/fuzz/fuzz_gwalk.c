/*
 * gwalk_translate with the guest's CPU state, the address, the access kind and the PAE PDPTEs taken from
 * the input's first FUZZ_HDR bytes; the rest is guest RAM at gpa 0, served by the read_gpa callback
 * (optionally folded: any gpa reads RAM at gpa mod its size). The callback checks the walker's contract
 * (len 4 or 8, naturally aligned) and counts the reads (at most GWALK_MAX_REFS).
 */
#include "tests/fuzz/fuzz_common.h"
#include "vmx/gwalk.h"

#define FUZZ_HDR (6 * 8 + 4 + 4 * 8)

struct fuzz_ram {
	const uint8_t *p;
	size_t size;
	int fold;
	unsigned reads;
};

static bool fuzz_read_gpa(void *ctx, uint64_t gpa, void *dst, size_t len)
{
	struct fuzz_ram *ram = ctx;
	FUZZ_CHECK((len == 4 || len == 8) && gpa % len == 0);
	FUZZ_CHECK(++ram->reads <= GWALK_MAX_REFS);
	if (ram->size == 0)
		return false;
	if (gpa < ram->size && ram->size - gpa >= len) {
		memcpy(dst, ram->p + gpa, len);
		return true;
	}
	if (!ram->fold)
		return false;
	for (size_t i = 0; i < len; i++)
		((uint8_t *)dst)[i] = ram->p[(gpa + i) % ram->size];
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_begin();
	if (size < FUZZ_HDR)
		return 0;
	struct gwalk_cpu cpu = {
		.cr0 = fuzz_le(data, 8),
		.cr3 = fuzz_le(data + 8, 8),
		.cr4 = fuzz_le(data + 16, 8),
		.efer = fuzz_le(data + 24, 8),
		.rflags = fuzz_le(data + 32, 8),
		.cpl = data[48] & 3u,
	};
	uint64_t gla = fuzz_le(data + 40, 8);
	unsigned access = data[49] & 0x1fu; /* includes one unknown bit */
	uint64_t pdptes[PAE_PDPTES];
	for (unsigned i = 0; i < PAE_PDPTES; i++)
		pdptes[i] = fuzz_le(data + 52 + 8 * i, 8);
	uint8_t *ram_copy = fuzz_dup(data + FUZZ_HDR, size - FUZZ_HDR, 0);
	struct fuzz_ram ram = {.p = ram_copy, .size = size - FUZZ_HDR, .fold = data[51] & 4};
	struct gwalk_env env = {
		.maxphyaddr = data[50],
		.gbpages = data[51] & 1,
		.pdptes = (data[51] & 2) ? pdptes : NULL,
		.read_gpa = fuzz_read_gpa,
		.ctx = &ram,
	};
	struct gwalk_walk w;
	enum gwalk_result r = gwalk_translate(&cpu, &env, gla, access, &w);
	FUZZ_CHECK(r == w.result && w.nrefs <= GWALK_MAX_REFS);
	(void)gwalk_mode_name(gwalk_mode_of(&cpu));
	(void)gwalk_result_name(r);
	(void)gwalk_level_name(w.fault_level);
	if (r == GWALK_OK)
		FUZZ_CHECK(w.page_size >= 4096 && (w.page_size & (w.page_size - 1)) == 0);
	free(ram_copy);
	return 0;
}
