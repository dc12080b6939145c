/* hapvisor's frame allocator (see pmm.h): a bitmap, one bit per 4 KiB frame, set = in use. */
#include "mm/pmm.h"
#include "lib/log.h"
#include "lib/panic.h"
#include "lib/spinlock.h"
#include "lib/str.h"
#include "mm/phys.h"

#define WORD_BITS 64u
#define ALL_USED (~0ull)

/* Every CPU allocates (EPT fills run on the CPU that faulted): one lock around the bitmap. */
static struct spinlock pool_lock;

/* A panic from inside the lock releases it first (the host unit tests recover from panics). */
#define locked_panic(...)                                                                                    \
	do {                                                                                                 \
		spin_unlock(&pool_lock);                                                                     \
		panic(__VA_ARGS__);                                                                          \
	} while (0)

static struct {
	uint64_t base, size;	/* the pool, bytes */
	uint64_t frames;	/* frames in the pool, the bitmap's included */
	uint64_t bitmap_frames; /* the first frames, holding the bitmap: never handed out */
	uint64_t *bitmap;	/* bit i: frame i in use; bits past `frames` stay set */
	size_t words;		/* 64-bit words of the bitmap */
	size_t hint;		/* every word below this one is full: searches start here */
	uint64_t free;		/* frames free */
	uint64_t peak_used;	/* most frames handed out at once */
} pool;

static uint64_t frame_pa(uint64_t i)
{
	return pool.base + (i << PAGE_SHIFT);
}

static bool frame_used(uint64_t i)
{
	return (pool.bitmap[i / WORD_BITS] >> (i % WORD_BITS)) & 1;
}

static void mark(uint64_t i, bool used)
{
	uint64_t bit = 1ull << (i % WORD_BITS);
	if (used)
		pool.bitmap[i / WORD_BITS] |= bit;
	else
		pool.bitmap[i / WORD_BITS] &= ~bit;
}

static uint64_t usable_frames(void)
{
	return pool.frames - pool.bitmap_frames;
}

void pmm_init(uint64_t base, uint64_t size)
{
	if (base == 0 || !IS_ALIGNED(base, PAGE_SIZE) || !IS_ALIGNED(size, PAGE_SIZE) || size == 0)
		panic("pmm_init: pool [%#llx, +%#llx) must be non-empty, 4 KiB aligned and not at 0",
		      (unsigned long long)base, (unsigned long long)size);
	uint64_t frames = size >> PAGE_SHIFT;
	size_t words = (size_t)((frames + WORD_BITS - 1) / WORD_BITS);
	uint64_t bitmap_frames = ALIGN_UP(words * sizeof(uint64_t), PAGE_SIZE) >> PAGE_SHIFT;
	if (bitmap_frames >= frames)
		panic("pmm_init: a pool of %llu frames has no room beside its %llu-frame bitmap",
		      (unsigned long long)frames, (unsigned long long)bitmap_frames);

	pool.base = base;
	pool.size = size;
	pool.frames = frames;
	pool.bitmap_frames = bitmap_frames;
	pool.bitmap = phys_to_virt(base);
	pool.words = words;
	pool.hint = 0;
	pool.free = frames - bitmap_frames;
	pool.peak_used = 0;

	memset(pool.bitmap, 0, words * sizeof(uint64_t));
	for (uint64_t i = 0; i < bitmap_frames; i++)
		mark(i, true);
	for (uint64_t i = frames; i < words * WORD_BITS; i++) /* the tail of the last word */
		mark(i, true);
}

/* Account for n frames just handed out and clear them. */
static uint64_t hand_out(uint64_t first, uint64_t n)
{
	pool.free -= n;
	pool.peak_used = MAX(pool.peak_used, usable_frames() - pool.free);
	uint64_t pa = frame_pa(first);
	memset(phys_to_virt(pa), 0, (size_t)(n << PAGE_SHIFT));
	return pa;
}

static uint64_t alloc_frame(void)
{
	if (pool.free == 0)
		return 0;
	for (size_t w = pool.hint; w < pool.words; w++) {
		uint64_t bits = pool.bitmap[w];
		if (bits == ALL_USED)
			continue;
		pool.hint = w;
		uint64_t i = w * WORD_BITS + (uint64_t)__builtin_ctzll(~bits);
		mark(i, true);
		return hand_out(i, 1);
	}
	locked_panic("pmm: %llu frames counted free but none found in the bitmap",
		     (unsigned long long)pool.free);
}

uint64_t pmm_alloc_frame(void)
{
	spin_lock(&pool_lock);
	uint64_t pa = alloc_frame();
	spin_unlock(&pool_lock);
	return pa;
}

uint64_t pmm_alloc_frame_or_panic(const char *what)
{
	uint64_t pa = pmm_alloc_frame();
	if (!pa) {
		bool mib = IS_ALIGNED(pool.size, MiB(1));
		unsigned long long hvmem = mib ? pool.size >> 20 : pool.size >> 10;
		panic("hapvisor's memory pool (hvmem=%llu%s) is exhausted while allocating %s; boot with a larger hvmem=",
		      hvmem, mib ? "M" : "K", what);
	}
	return pa;
}

/* The first frame in use in [from, to), or `to` when they are all free. */
static uint64_t next_used(uint64_t from, uint64_t to)
{
	while (from < to) {
		uint64_t bits = pool.bitmap[from / WORD_BITS] >> (from % WORD_BITS);
		if (bits)
			return MIN(from + (uint64_t)__builtin_ctzll(bits), to);
		from = ALIGN_DOWN(from, WORD_BITS) + WORD_BITS;
	}
	return to;
}

/* The first frame index >= i whose address is a multiple of align; pool.frames when there is none. */
static uint64_t next_aligned(uint64_t i, uint64_t align)
{
	uint64_t pa = frame_pa(i);
	uint64_t up = ALIGN_UP(pa, align);
	if (up < pa || up - pool.base >= pool.size)
		return pool.frames;
	return (up - pool.base) >> PAGE_SHIFT;
}

static uint64_t alloc_contig(size_t frames, uint64_t align)
{
	align = MAX(align, (uint64_t)PAGE_SIZE);
	uint64_t n = frames;
	if (n > pool.free)
		return 0;
	uint64_t i = next_aligned((uint64_t)pool.hint * WORD_BITS, align);
	while (i < pool.frames && n <= pool.frames - i) {
		uint64_t used = next_used(i, i + n);
		if (used == i + n) {
			for (uint64_t j = i; j < i + n; j++)
				mark(j, true);
			return hand_out(i, n);
		}
		i = next_aligned(used + 1, align);
	}
	return 0;
}

uint64_t pmm_alloc_contig(size_t frames, uint64_t align)
{
	HV_ASSERT(frames > 0 && (align & (align - 1)) == 0);
	spin_lock(&pool_lock);
	uint64_t pa = alloc_contig(frames, align);
	spin_unlock(&pool_lock);
	return pa;
}

bool pmm_owns(uint64_t pa)
{
	return pa >= pool.base && pa - pool.base < pool.size;
}

static void free_frame(uint64_t pa)
{
	if (!IS_ALIGNED(pa, PAGE_SIZE) || !pmm_owns(pa))
		locked_panic("pmm_free_frame(%#llx): not a frame of hapvisor's pool [%#llx, %#llx)",
			     (unsigned long long)pa, (unsigned long long)pool.base,
			     (unsigned long long)(pool.base + pool.size));
	uint64_t i = (pa - pool.base) >> PAGE_SHIFT;
	if (i < pool.bitmap_frames)
		locked_panic("pmm_free_frame(%#llx): that frame holds the pool's own bitmap",
			     (unsigned long long)pa);
	if (!frame_used(i))
		locked_panic("pmm_free_frame(%#llx): the frame is not allocated (double free?)",
			     (unsigned long long)pa);
	mark(i, false);
	pool.free++;
	pool.hint = MIN(pool.hint, (size_t)(i / WORD_BITS));
}

void pmm_free_frame(uint64_t pa)
{
	spin_lock(&pool_lock);
	free_frame(pa);
	spin_unlock(&pool_lock);
}

void pmm_free_contig(uint64_t pa, size_t frames)
{
	for (size_t k = 0; k < frames; k++)
		pmm_free_frame(pa + ((uint64_t)k << PAGE_SHIFT));
}

void pmm_get_stats(struct pmm_stats *out)
{
	out->total = usable_frames();
	out->free = pool.free;
	out->peak_used = pool.peak_used;
}

void pmm_print(void)
{
	log_event(
		"pmm base=0x%llx size=%llu frames_total=%llu frames_free=%llu frames_peak_used=%llu bitmap_frames=%llu",
		(unsigned long long)pool.base, (unsigned long long)pool.size,
		(unsigned long long)usable_frames(), (unsigned long long)pool.free,
		(unsigned long long)pool.peak_used, (unsigned long long)pool.bitmap_frames);
}
