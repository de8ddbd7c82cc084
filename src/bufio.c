/*
 * bufio.c - Go's bufio: a buffered reader and writer over a gort
 * connection or a file descriptor.
 *
 * Built on the public API only, as Go's bufio is on io.Reader: a reader
 * pulls from gort_conn_read (or gort_conn_read_ctx, when a context is
 * attached) or gort_read, a writer pushes with gort_conn_write(_ctx) or
 * gort_write.  So a connection's deadlines hold as they do for the
 * connection itself (GORT_ETIMEOUT), and a context ends a wait with its
 * error.
 *
 * The reader's buffer holds buf[r:w], the bytes read from below and not
 * yet handed out; fill slides them to the front and reads once more.  An
 * error from below is kept in err and given out once, when the buffered
 * bytes before it are gone (Go's readErr): a timeout, then, leaves a
 * half-read line in the buffer, and a read after a later deadline goes
 * on with it.  EOF is the one error that hands out what is buffered first.
 *
 * C has one result where Go has two, (n, err).  So the end of a stream is
 * its own code, GORT_EOF, never 0, and where Go returns data with its
 * error, this file returns the data first and the error at the next call
 * (ReadSlice at EOF), or returns the error and leaves the data buffered
 * (ReadSlice after a timeout: the one place it differs from Go, which
 * hands the partial line out with the error - and leaves its caller to
 * piece lines together).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gort.h"

enum {
	DEFAULT_SIZE = 4096, /* Go's defaultBufSize */
	MIN_READ_SIZE = 16,  /* Go's minReadBufferSize */
};

/* Where the bytes come from or go to: a connection, else a descriptor. */
typedef struct {
	gort_conn *conn;
	int fd;
	gort_context *ctx; /* NULL: none; the caller keeps it alive */
} endpoint;

struct gort_bufio_reader {
	endpoint src;
	size_t r, w; /* buf[r:w] is buffered */
	long err;    /* from below, not given out yet; 0: none */
	size_t size;
	unsigned char buf[];
};

struct gort_bufio_writer {
	endpoint dst;
	size_t n;    /* buf[0:n] is buffered */
	long err;    /* sticky, as Go's: every call returns it from then on */
	size_t size;
	unsigned char buf[];
};

/* ---- below: one read, one write ------------------------------------------- */

/* read_below: one read of up to n bytes; > 0, GORT_EOF, or an error. */
static long read_below(const endpoint *e, void *p, size_t n)
{
	long r;
	if (e->conn != NULL) {
		r = e->ctx != NULL ? gort_conn_read_ctx(e->ctx, e->conn, p, n) : gort_conn_read(e->conn, p, n);
	} else {
		/* A descriptor's read cannot be interrupted: the context is
		 * looked at before it (gort.h says so). */
		int done = e->ctx != NULL ? gort_context_err(e->ctx) : 0;
		if (done != 0)
			return done;
		do
			r = gort_read(e->fd, p, n);
		while (r == -EINTR);
	}
	return r == 0 ? GORT_EOF : r;
}

/* write_below: all n bytes; n, or an error. */
static long write_below(const endpoint *e, const void *p, size_t n)
{
	if (e->conn != NULL)
		return e->ctx != NULL ? gort_conn_write_ctx(e->ctx, e->conn, p, n) : gort_conn_write(e->conn, p, n);
	const unsigned char *b = p;
	size_t done = 0;
	while (done < n) {
		int ctxerr = e->ctx != NULL ? gort_context_err(e->ctx) : 0;
		if (ctxerr != 0)
			return ctxerr;
		long w = gort_write(e->fd, b + done, n - done);
		if (w == -EINTR)
			continue;
		if (w < 0)
			return w;
		done += (size_t)w;
	}
	return (long)n;
}

/* ---- the reader ---------------------------------------------------------------- */

static gort_bufio_reader *reader_new(endpoint src, size_t size)
{
	if (size == 0)
		size = DEFAULT_SIZE;
	if (size < MIN_READ_SIZE)
		size = MIN_READ_SIZE;
	/* one byte spare past size: read_line's NUL after a line that fills
	 * the buffer, or ends the stream at its end */
	gort_bufio_reader *r = malloc(sizeof *r + size + 1);
	if (r == NULL)
		return NULL;
	*r = (gort_bufio_reader){.src = src, .size = size};
	return r;
}

gort_bufio_reader *gort_bufio_reader_new(gort_conn *c, size_t size)
{
	return c == NULL ? NULL : reader_new((endpoint){.conn = c, .fd = -1}, size);
}

gort_bufio_reader *gort_bufio_reader_new_fd(int fd, size_t size)
{
	return fd < 0 ? NULL : reader_new((endpoint){.fd = fd}, size);
}

void gort_bufio_reader_free(gort_bufio_reader *r)
{
	free(r);
}

void gort_bufio_reader_set_context(gort_bufio_reader *r, gort_context *ctx)
{
	if (r != NULL)
		r->src.ctx = ctx;
}

size_t gort_bufio_reader_size(const gort_bufio_reader *r)
{
	return r != NULL ? r->size : 0;
}

size_t gort_bufio_buffered(const gort_bufio_reader *r)
{
	return r != NULL ? r->w - r->r : 0;
}

/* take_err: the pending error, given out once (Go's readErr). */
static long take_err(gort_bufio_reader *r)
{
	long err = r->err;
	r->err = 0;
	return err;
}

/*
 * fill: slide the buffered bytes to the front and read once into the
 * room after them; an error is kept for later.  The buffer must not be
 * full.
 */
static void fill(gort_bufio_reader *r)
{
	if (r->r > 0) {
		memmove(r->buf, r->buf + r->r, r->w - r->r);
		r->w -= r->r;
		r->r = 0;
	}
	/* a full buffer here would be a read of 0 bytes, taken for EOF */
	if (r->w >= r->size) {
		fprintf(stderr, "gort: bufio: fill on a full buffer\n");
		abort();
	}
	long n = read_below(&r->src, r->buf + r->w, r->size - r->w);
	if (n < 0)
		r->err = n;
	else
		r->w += (size_t)n;
}

long gort_bufio_read(gort_bufio_reader *r, void *p, size_t n)
{
	if (r == NULL)
		return -EINVAL;
	if (n == 0)
		return 0;
	if (r->r == r->w) {
		if (r->err != 0)
			return take_err(r);
		if (n >= r->size) /* large read, empty buffer: straight into p */
			return read_below(&r->src, p, n);
		r->r = r->w = 0;
		fill(r);
		if (r->r == r->w)
			return take_err(r);
	}
	size_t k = r->w - r->r < n ? r->w - r->r : n;
	memcpy(p, r->buf + r->r, k);
	r->r += k;
	return (long)k;
}

int gort_bufio_read_byte(gort_bufio_reader *r)
{
	if (r == NULL)
		return -EINVAL;
	while (r->r == r->w) {
		if (r->err != 0)
			return (int)take_err(r);
		fill(r);
	}
	return r->buf[r->r++];
}

long gort_bufio_read_slice(gort_bufio_reader *r, int delim, const char **line)
{
	if (r == NULL || line == NULL)
		return -EINVAL;
	size_t scanned = 0; /* buf[r:r+scanned] holds no delim */
	for (;;) {
		unsigned char *start = r->buf + r->r;
		unsigned char *d = memchr(start + scanned, (unsigned char)delim, r->w - r->r - scanned);
		if (d != NULL) {
			size_t len = (size_t)(d - start) + 1;
			*line = (const char *)start;
			r->r += len;
			return (long)len;
		}
		if (r->err != 0) {
			if (r->err == GORT_EOF && r->w > r->r) {
				/* the last line, without its delim: EOF comes next */
				size_t len = r->w - r->r;
				*line = (const char *)start;
				r->r = r->w;
				return (long)len;
			}
			return take_err(r); /* anything buffered stays */
		}
		if (r->w - r->r >= r->size) {
			*line = (const char *)start;
			r->r = r->w;
			return GORT_EBUFFERFULL;
		}
		scanned = r->w - r->r;
		fill(r);
	}
}

long gort_bufio_read_line(gort_bufio_reader *r, const char **line)
{
	long n = gort_bufio_read_slice(r, '\n', line);
	if (n > 0 && (*line)[n - 1] == '\n') {
		n--;
		if (n > 0 && (*line)[n - 1] == '\r')
			n--;
	}
	/*
	 * A C string: the NUL goes where the "\r" or "\n" was (consumed), or,
	 * for a last line without one and a line filling the buffer
	 * (GORT_EBUFFERFULL, n bytes at buf[0:size]), in the first byte past
	 * the data: buffered bytes end at w, and w is at most size, whose
	 * byte is the spare one.
	 */
	if (n >= 0)
		((char *)*line)[n] = '\0';
	else if (n == GORT_EBUFFERFULL)
		((char *)*line)[r->size] = '\0';
	return n;
}

long gort_bufio_read_full(gort_bufio_reader *r, void *p, size_t n, size_t *got)
{
	size_t done = 0;
	long err = 0;
	if (r == NULL)
		err = -EINVAL;
	while (err == 0 && done < n) {
		long k = gort_bufio_read(r, (unsigned char *)p + done, n - done);
		if (k < 0)
			err = k;
		else
			done += (size_t)k;
	}
	if (got != NULL)
		*got = done;
	if (err == GORT_EOF && done > 0)
		return GORT_EUNEXPECTEDEOF;
	return err != 0 ? err : (long)n;
}

long gort_bufio_peek(gort_bufio_reader *r, size_t n, const void **p)
{
	if (r == NULL || p == NULL)
		return -EINVAL;
	if (n > r->size) {
		*p = r->buf + r->r;
		return GORT_EBUFFERFULL;
	}
	while (r->w - r->r < n && r->err == 0) {
		if (r->r > 0 && r->size - r->r < n) { /* slide, so that n fit */
			memmove(r->buf, r->buf + r->r, r->w - r->r);
			r->w -= r->r;
			r->r = 0;
		}
		fill(r);
	}
	*p = r->buf + r->r;
	if (r->w - r->r < n)
		return take_err(r);
	return (long)n;
}

long gort_bufio_discard(gort_bufio_reader *r, size_t n)
{
	if (r == NULL)
		return -EINVAL;
	size_t done = 0;
	while (done < n) {
		if (r->r == r->w) {
			if (r->err != 0)
				return take_err(r);
			fill(r);
			continue;
		}
		size_t k = r->w - r->r < n - done ? r->w - r->r : n - done;
		r->r += k;
		done += k;
	}
	return (long)n;
}

/* ---- the writer ---------------------------------------------------------------- */

static gort_bufio_writer *writer_new(endpoint dst, size_t size)
{
	if (size == 0)
		size = DEFAULT_SIZE;
	gort_bufio_writer *w = malloc(sizeof *w + size);
	if (w == NULL)
		return NULL;
	*w = (gort_bufio_writer){.dst = dst, .size = size};
	return w;
}

gort_bufio_writer *gort_bufio_writer_new(gort_conn *c, size_t size)
{
	return c == NULL ? NULL : writer_new((endpoint){.conn = c, .fd = -1}, size);
}

gort_bufio_writer *gort_bufio_writer_new_fd(int fd, size_t size)
{
	return fd < 0 ? NULL : writer_new((endpoint){.fd = fd}, size);
}

void gort_bufio_writer_free(gort_bufio_writer *w)
{
	free(w);
}

void gort_bufio_writer_set_context(gort_bufio_writer *w, gort_context *ctx)
{
	if (w != NULL)
		w->dst.ctx = ctx;
}

size_t gort_bufio_writer_buffered(const gort_bufio_writer *w)
{
	return w != NULL ? w->n : 0;
}

size_t gort_bufio_writer_available(const gort_bufio_writer *w)
{
	return w != NULL ? w->size - w->n : 0;
}

/* Writes are whole below (write_below), so a failed flush sends an
 * unknown part of the buffer: the error is sticky, as Go's is. */
int gort_bufio_flush(gort_bufio_writer *w)
{
	if (w == NULL)
		return -EINVAL;
	if (w->err != 0)
		return (int)w->err;
	if (w->n == 0)
		return 0;
	long n = write_below(&w->dst, w->buf, w->n);
	if (n < 0) {
		w->err = n;
		return (int)n;
	}
	w->n = 0;
	return 0;
}

long gort_bufio_write(gort_bufio_writer *w, const void *p, size_t n)
{
	if (w == NULL)
		return -EINVAL;
	const unsigned char *b = p;
	size_t left = n;
	while (left > w->size - w->n && w->err == 0) {
		if (w->n == 0) { /* large write, empty buffer: straight from p */
			long k = write_below(&w->dst, b, left);
			if (k < 0)
				w->err = k;
			else
				left = 0;
			break;
		}
		size_t k = w->size - w->n;
		memcpy(w->buf + w->n, b, k);
		w->n += k;
		b += k;
		left -= k;
		gort_bufio_flush(w);
	}
	if (w->err != 0)
		return w->err;
	memcpy(w->buf + w->n, b, left);
	w->n += left;
	return (long)n;
}

int gort_bufio_write_byte(gort_bufio_writer *w, int c)
{
	unsigned char b = (unsigned char)c;
	long r = gort_bufio_write(w, &b, 1);
	return r < 0 ? (int)r : 0;
}

long gort_bufio_write_string(gort_bufio_writer *w, const char *s)
{
	return gort_bufio_write(w, s, strlen(s));
}

static long write_any_thread(gort_bufio_writer *w, const void *p, size_t n);

/* gort_bufio_printf is variadic, which no shim can forward (cgocall_api.list):
 * it is called directly on any thread, formats without a goroutine, and
 * writes through gort_bufio_write's shim (write_any_thread). */
int gort_bufio_printf(gort_bufio_writer *w, const char *format, ...)
{
	if (w == NULL)
		return -EINVAL;
	if (w->err != 0)
		return (int)w->err;
	va_list ap;
	va_start(ap, format);
	int len = vsnprintf((char *)w->buf + w->n, w->size - w->n, format, ap);
	va_end(ap);
	if (len < 0)
		return -EINVAL;
	if ((size_t)len < w->size - w->n) { /* it fit (vsnprintf's NUL is past n) */
		w->n += (size_t)len;
		return len;
	}
	/* Too long for the room left: format again, into memory of its own. */
	char *tmp = malloc((size_t)len + 1);
	if (tmp == NULL)
		return -ENOMEM;
	va_start(ap, format);
	vsnprintf(tmp, (size_t)len + 1, format, ap);
	va_end(ap);
	long r = write_any_thread(w, tmp, (size_t)len);
	free(tmp);
	return r < 0 ? (int)r : len;
}

/* Last in the file: from here on gort_bufio_write names its shim, not the
 * function itself (cgocall_rename.h), so a foreign thread's call runs as a
 * goroutine as every other public call does. */
#undef gort_bufio_write
long gort_bufio_write(gort_bufio_writer *w, const void *p, size_t n); /* the shim */
static long write_any_thread(gort_bufio_writer *w, const void *p, size_t n)
{
	return gort_bufio_write(w, p, n);
}

/* What gort_defer_free(r) and gort_defer_free(w) defer. */
void gort__defer_bufio_reader_free(void *r)
{
	gort_bufio_reader_free(r);
}

void gort__defer_bufio_writer_free(void *w)
{
	gort_bufio_writer_free(w);
}
