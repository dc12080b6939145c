/*
 * A bounded byte writer, the one way hapvisor writes the boot information it builds for a guest (Multiboot1
 * and Multiboot2 information, PVH's hvm_start_info): it appends while the bytes fit in cap and counts them
 * always, so the same code first measures (buf NULL) and then writes. Fields are stored little-endian, one
 * byte at a time, at any alignment (lib/le.h). Nothing is ever written past cap.
 */
#ifndef HV_LIB_BYTE_WRITER_H
#define HV_LIB_BYTE_WRITER_H

#include "lib/le.h"
#include "lib/str.h"
#include "lib/types.h"

struct byte_writer {
	uint8_t *buf; /* NULL: count only */
	size_t cap;   /* bytes of buf */
	size_t len;   /* bytes appended so far, written or not */
};

static inline struct byte_writer byte_writer_init(void *buf, size_t cap)
{
	return (struct byte_writer){.buf = buf, .cap = buf ? cap : 0, .len = 0};
}

/* Append n bytes from src; returns their offset. They are written only when all of them fit. */
static inline size_t bw_bytes(struct byte_writer *w, const void *src, size_t n)
{
	size_t at = w->len;
	if (w->buf && n <= w->cap && at <= w->cap - n)
		memcpy(w->buf + at, src, n);
	w->len += n;
	return at;
}

/* Append v as a bytes-byte little-endian field. */
static inline void bw_int(struct byte_writer *w, uint64_t v, unsigned bytes)
{
	uint8_t b[sizeof(uint64_t)];
	le_store(b, v, bytes);
	bw_bytes(w, b, bytes);
}

static inline void bw_u8(struct byte_writer *w, uint8_t v)
{
	bw_int(w, v, 1);
}

static inline void bw_u16(struct byte_writer *w, uint16_t v)
{
	bw_int(w, v, 2);
}

static inline void bw_u32(struct byte_writer *w, uint32_t v)
{
	bw_int(w, v, 4);
}

static inline void bw_u64(struct byte_writer *w, uint64_t v)
{
	bw_int(w, v, 8);
}

static inline void bw_zeros(struct byte_writer *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bw_u8(w, 0);
}

/* Zeros up to the next multiple of align. */
static inline void bw_align(struct byte_writer *w, size_t align)
{
	bw_zeros(w, ALIGN_UP(w->len, align) - w->len);
}

/* The string and its NUL; returns its offset. */
static inline size_t bw_str(struct byte_writer *w, const char *s)
{
	return bw_bytes(w, s, strlen(s) + 1);
}

/* Overwrite n bytes appended earlier, at offset off (each byte only where it lies inside cap). */
static inline void bw_patch(struct byte_writer *w, size_t off, const void *src, size_t n)
{
	const uint8_t *p = src;
	for (size_t i = 0; i < n; i++) {
		if (w->buf && off + i < w->cap)
			w->buf[off + i] = p[i];
	}
}

/* Overwrite a 4-byte little-endian field appended earlier (a size known only at the end). */
static inline void bw_patch32(struct byte_writer *w, size_t off, uint32_t v)
{
	uint8_t b[sizeof(uint32_t)];
	le32_store(b, v);
	bw_patch(w, off, b, sizeof(b));
}

#endif
