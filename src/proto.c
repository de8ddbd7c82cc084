/*
 * proto.c - the bytes of a profile (Go's runtime/pprof/protobuf.go and the
 * compress/gzip writer it wraps), with nothing beyond libc:
 *
 *   pbuf     a growable buffer; out of memory sets a sticky flag instead
 *            of crashing the program that asked for a profile
 *   pb_*     protocol-buffer encoding: a field is its number and wire type
 *            as a varint key, then a varint (type 0) or a length and the
 *            bytes (type 2: strings, packed repeated varints, messages)
 *   gzip     RFC 1952 around RFC 1951's *stored* blocks: deflate without
 *            compression.  Every gzip reader reads it; a profile is a few
 *            tens of KiB, so compressing it would save the network little
 *            and cost a compressor here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprof.h"

/* ---- pbuf ------------------------------------------------------------------ */

static bool grow(pbuf *b, size_t need)
{
	if (b->oom)
		return false;
	if (b->len + need <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + need)
		cap *= 2;
	uint8_t *p = realloc(b->p, cap);
	if (p == NULL) {
		b->oom = true;
		return false;
	}
	b->p = p;
	b->cap = cap;
	return true;
}

void gort__pbuf_put(pbuf *b, const void *p, size_t n)
{
	if (n == 0 || !grow(b, n))
		return;
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void gort__pbuf_puts(pbuf *b, const char *s)
{
	gort__pbuf_put(b, s, strlen(s));
}

void gort__pbuf_printf(pbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0 || !grow(b, (size_t)n + 1))
		return;
	va_start(ap, fmt);
	vsnprintf((char *)b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void gort__pbuf_free(pbuf *b)
{
	free(b->p);
	*b = (pbuf){0};
}

/* ---- protocol buffers ------------------------------------------------------ */

enum { WIRE_VARINT = 0, WIRE_BYTES = 2 };

void gort__pb_varint(pbuf *b, uint64_t v)
{
	uint8_t tmp[10];
	int n = 0;
	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	gort__pbuf_put(b, tmp, (size_t)n);
}

static void key(pbuf *b, int field, int wire)
{
	gort__pb_varint(b, (uint64_t)field << 3 | (uint64_t)wire);
}

void gort__pb_uint64(pbuf *b, int field, uint64_t v)
{
	key(b, field, WIRE_VARINT);
	gort__pb_varint(b, v);
}

void gort__pb_uint64opt(pbuf *b, int field, uint64_t v)
{
	if (v != 0)
		gort__pb_uint64(b, field, v);
}

void gort__pb_bool(pbuf *b, int field, bool v)
{
	if (v)
		gort__pb_uint64(b, field, 1);
}

void gort__pb_packed(pbuf *b, int field, const uint64_t *v, int n)
{
	if (n <= 0)
		return;
	size_t start = gort__pb_begin(b, field);
	for (int i = 0; i < n; i++)
		gort__pb_varint(b, v[i]);
	gort__pb_end(b, start);
}

void gort__pb_string(pbuf *b, int field, const char *s, size_t n)
{
	key(b, field, WIRE_BYTES);
	gort__pb_varint(b, n);
	gort__pbuf_put(b, s, n);
}

/* begin writes the key and returns where the message's bytes start; end
 * then moves them up to make room for their length, a varint. */
size_t gort__pb_begin(pbuf *b, int field)
{
	key(b, field, WIRE_BYTES);
	return b->len;
}

void gort__pb_end(pbuf *b, size_t start)
{
	if (b->oom)
		return;
	size_t n = b->len - start;
	uint8_t tmp[10];
	int k = 0;
	for (uint64_t v = n; ; v >>= 7) {
		tmp[k++] = (uint8_t)(v >= 0x80 ? (v | 0x80) : v);
		if (v < 0x80)
			break;
	}
	if (!grow(b, (size_t)k))
		return;
	memmove(b->p + start + k, b->p + start, n);
	memcpy(b->p + start, tmp, (size_t)k);
	b->len += (size_t)k;
}

/* ---- gzip ---------------------------------------------------------------- */

/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), a byte at a time
 * from a table made on first use. */
static uint32_t crctab[256];
static _Atomic bool crctab_made;

uint32_t gort__crc32(uint32_t crc, const uint8_t *p, size_t n)
{
	if (!atomic_load_explicit(&crctab_made, memory_order_acquire)) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
			crctab[i] = c; /* racing makers write the same values */
		}
		atomic_store_explicit(&crctab_made, true, memory_order_release);
	}
	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = crctab[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void le32(pbuf *b, uint32_t v)
{
	uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	gort__pbuf_put(b, x, 4);
}

/*
 * gzip: a 10-byte header (magic, CM=8 deflate, no flags, no mtime, XFL 0,
 * OS 255 "unknown" as Go writes), the deflate stream as stored blocks of at
 * most 65535 bytes (a byte for BFINAL and BTYPE=00 - a stored block's
 * header is byte-aligned, since the bits before it end the byte - then
 * LEN and its complement NLEN), and the trailer: CRC-32 and length mod 2^32.
 */
void gort__gzip(const uint8_t *in, size_t n, pbuf *out)
{
	static const uint8_t header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
	gort__pbuf_put(out, header, sizeof header);
	size_t off = 0;
	do {
		size_t len = n - off > 65535 ? 65535 : n - off;
		bool final = off + len == n;
		uint8_t h[5] = {final ? 1 : 0, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)~len,
		                (uint8_t)(~len >> 8)};
		gort__pbuf_put(out, h, sizeof h);
		gort__pbuf_put(out, in + off, len);
		off += len;
	} while (off < n);
	le32(out, gort__crc32(0, in, n));
	le32(out, (uint32_t)n);
}

/* ---- writing out -------------------------------------------------------------- */

int gort__pprof_write_all(int fd, const pbuf *b)
{
	if (b->oom)
		return -ENOMEM;
	G *gp = gort__getg();
	bool ong = gp != NULL && gp != &gp->m->g0;
	size_t off = 0;
	int err = 0;
	if (ong)
		gort_entersyscall();
	while (off < b->len) {
		ssize_t w = write(fd, b->p + off, b->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			err = -errno;
			break;
		}
		off += (size_t)w;
	}
	if (ong)
		gort_exitsyscall();
	return err;
}
