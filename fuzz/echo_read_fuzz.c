// fuzz-runtime: gort
// fuzz-flags: -max_len=8192
/*
 * echo_read_fuzz.c - the echo server's read path under libFuzzer.
 *
 * examples/echo_server.c serves each connection with
 *
 *     while ((n = gort_conn_read(c, buf, sizeof buf)) > 0)
 *         if (gort_conn_write(c, buf, n) < 0) break;
 *     gort_conn_close(c);
 *
 * Here that loop (echo, below) runs on one end of a socketpair(AF_UNIX,
 * SOCK_STREAM) adopted with gort_conn_from_fd, and a client on the other
 * end: a writer goroutine sends the input's chunks, a reader goroutine reads
 * the echo with its own read sizes.  Who closes what, and when, comes from
 * the input too.
 *
 * Input bytes:
 *   [0] mode: bits 0-1 the ending -
 *         0  the writer writes every chunk, then close_write; the reader
 *            reads to EOF, then (writer done) closes the client end
 *         1  no close_write: the reader reads every byte back, then closes
 *            the client end, and the echo loop reads EOF
 *         2  the reader stops after m bytes, waits for the writer (which
 *            close_writes if bit 2), then closes: the echo loop's writes
 *            may then fail (-EPIPE, -ECONNRESET)
 *         3  the echo loop hangs up after reading m bytes: the writer's
 *            writes may fail (-EPIPE, -ECONNRESET), the reader sees EOF or
 *            -ECONNRESET
 *       bit 2 close_write in ending 2; bit 3 the writer yields between
 *       chunks; bit 4 it sleeps 1-20 us between chunks; bit 5 the echo loop
 *       reads with a small buffer ([2], 1..256 bytes) instead of 4096;
 *       bits 6-7: GOMAXPROCS 1, 2, 3 or unchanged for this input
 *   [1] m, as a fraction of the stream (m = [1] * total / 255)
 *   [2] the echo loop's small buffer size
 *   then chunks: a length byte L, then L bytes (fewer at the end of the
 *   input); L = 0 is a zero-length write.  The reader's read sizes (1-300)
 *   come from a generator seeded with the input's length.
 *
 * Checked, for every input: the echo loop reads a prefix of the bytes
 * written and the reader a prefix of what the echo loop read, in order -
 * all of them, then EOF, in endings 0 and 1, exactly m in ending 2; every
 * write returns its length except where the ending allows -EPIPE or
 * -ECONNRESET; every goroutine finishes (the driver's watchdog aborts a
 * hang after 10 s); no sanitizer report.  The stream is at most 8 KiB
 * (-max_len), less than a socket buffer, so a reader that stops reading
 * cannot block the writer forever.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gort.h>

#include "gort_fuzz.h"

#define T "echo_read"
#define MAXCHUNKS 8192

struct echo_run {
	int ending, mode;
	size_t m;
	size_t ebuf;                  /* the echo loop's buffer size */
	const uint8_t *stream;        /* every chunk's bytes, concatenated */
	size_t total;
	size_t chunk_off[MAXCHUNKS + 1], nchunks;
	gort_conn *server, *client;
	/* results */
	uint8_t *echo_got;            /* what the echo loop read */
	size_t echo_n;
	long echo_end;                /* its last read's result (0 or an error) */
	long echo_werr;
	size_t reader_n;
	long reader_end;
	bool writer_failed;
	gort_chan *writer_done;       /* int, buffered 1 */
	gort_waitgroup wg;
	uint32_t seed;
};

static bool allowed_peer_error(long err)
{
	return err == -EPIPE || err == -ECONNRESET;
}

/* The echo loop, as examples/echo_server.c's echo(), recording what it reads. */
static void echo(void *p)
{
	struct echo_run *r = *(struct echo_run **)p;
	char buf[4096];
	size_t size = r->ebuf;
	long n;
	r->echo_werr = 0;
	while ((n = gort_conn_read(r->server, buf, size)) > 0) {
		FUZZ_CHECK(T, r->echo_n + (size_t)n <= r->total, "echo read %zu+%ld bytes of %zu", r->echo_n, n,
		           r->total);
		memcpy(r->echo_got + r->echo_n, buf, (size_t)n);
		r->echo_n += (size_t)n;
		long w = gort_conn_write(r->server, buf, (size_t)n);
		if (w < 0) {
			r->echo_werr = w;
			n = w;
			break;
		}
		FUZZ_CHECK(T, w == n, "echo wrote %ld of %ld", w, n);
		if (r->ending == 3 && r->echo_n >= r->m)
			break; /* the server hangs up */
	}
	r->echo_end = n;
	gort_conn_close(r->server);
	gort_waitgroup_done(&r->wg);
}

static void writer(void *p)
{
	struct echo_run *r = *(struct echo_run **)p;
	for (size_t i = 0; i < r->nchunks; i++) {
		size_t off = r->chunk_off[i], len = r->chunk_off[i + 1] - off;
		long w = gort_conn_write(r->client, r->stream + off, len);
		if (w < 0) {
			FUZZ_CHECK(T, r->ending == 3 && allowed_peer_error(w), "write: %s (ending %d)",
			           gort_strerror(w), r->ending);
			r->writer_failed = true;
			break;
		}
		FUZZ_CHECK(T, (size_t)w == len, "wrote %ld of %zu", w, len);
		if (r->mode & 8)
			gort_gosched();
		if (r->mode & 16)
			gort_sleep((int64_t)(1 + (off + len) % 20) * GORT_MICROSECOND);
	}
	if (r->ending == 0 || r->ending == 3 || (r->ending == 2 && (r->mode & 4))) {
		int err = gort_conn_close_write(r->client);
		FUZZ_CHECK(T, err == 0 || (r->ending == 3 && allowed_peer_error(err)), "close_write: %s",
		           gort_strerror(err));
	}
	int one = 1;
	gort_chan_send(r->writer_done, &one);
	gort_waitgroup_done(&r->wg);
}

static uint32_t next_rand(uint32_t *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void reader(void *p)
{
	struct echo_run *r = *(struct echo_run **)p;
	uint8_t buf[300];
	size_t want = r->ending == 2 ? r->m : r->total;
	long n = 0;
	for (;;) {
		size_t size = 1 + next_rand(&r->seed) % sizeof buf;
		if (r->ending == 1 || r->ending == 2) {
			if (r->reader_n == want)
				break;
			if (size > want - r->reader_n)
				size = want - r->reader_n;
		}
		n = gort_conn_read(r->client, buf, size);
		if (n <= 0)
			break;
		FUZZ_CHECK(T, r->reader_n + (size_t)n <= r->total, "read back %zu+%ld of %zu bytes", r->reader_n,
		           n, r->total);
		FUZZ_CHECK(T, memcmp(buf, r->stream + r->reader_n, (size_t)n) == 0,
		           "the echo differs from what was written in bytes %zu..%zu", r->reader_n,
		           r->reader_n + (size_t)n);
		r->reader_n += (size_t)n;
	}
	r->reader_end = n;
	int one;
	gort_chan_recv(r->writer_done, &one); /* no write may follow the close */
	gort_conn_close(r->client);
	gort_waitgroup_done(&r->wg);
}

static int byte_at(const uint8_t *data, size_t size, size_t i)
{
	return i < size ? data[i] : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct echo_run *r = calloc(1, sizeof *r);
	r->mode = byte_at(data, size, 0);
	r->ending = r->mode & 3;
	int procs = (r->mode >> 6) & 3;
	if (procs != 0)
		gort_gomaxprocs(procs);
	r->ebuf = (r->mode & 32) ? 1 + (size_t)byte_at(data, size, 2) : 4096;
	r->ebuf = r->ebuf > 4096 ? 4096 : r->ebuf;

	/* The chunks: copy their bytes into one stream. */
	uint8_t *stream = malloc(size + 1);
	size_t i = 3, total = 0;
	while (i < size && r->nchunks < MAXCHUNKS) {
		size_t len = data[i++];
		if (len > size - i)
			len = size - i;
		r->chunk_off[r->nchunks++] = total;
		memcpy(stream + total, data + i, len);
		total += len;
		i += len;
	}
	r->chunk_off[r->nchunks] = total;
	r->stream = stream;
	r->total = total;
	r->m = (size_t)byte_at(data, size, 1) * total / 255;
	r->echo_got = malloc(total + 1);
	r->seed = (uint32_t)size * 2654435761u;

	int sv[2];
	FUZZ_CHECK(T, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
	           strerror(errno));
	int err = gort_conn_from_fd(sv[0], &r->server);
	FUZZ_CHECK(T, err == 0, "gort_conn_from_fd: %s", gort_strerror(err));
	err = gort_conn_from_fd(sv[1], &r->client);
	FUZZ_CHECK(T, err == 0, "gort_conn_from_fd: %s", gort_strerror(err));
	r->writer_done = gort_chan_make(sizeof(int), 1);

	gort_waitgroup_add(&r->wg, 3);
	gort_go_args(echo, &r, sizeof r);
	gort_go_args(reader, &r, sizeof r);
	gort_go_args(writer, &r, sizeof r);
	gort_waitgroup_wait(&r->wg);

	/* The echo loop read a prefix of the stream, the reader a prefix of that. */
	FUZZ_CHECK(T, memcmp(r->echo_got, stream, r->echo_n) == 0, "the echo loop read other bytes");
	FUZZ_CHECK(T, r->reader_n <= r->echo_n, "read back %zu bytes, echoed %zu", r->reader_n, r->echo_n);
	switch (r->ending) {
	case 0:
	case 1:
		FUZZ_CHECK(T, r->echo_n == total && r->reader_n == total,
		           "ending %d: echoed %zu, read back %zu, of %zu", r->ending, r->echo_n, r->reader_n,
		           total);
		FUZZ_CHECK(T, r->echo_end == 0, "ending %d: the echo loop ended with %s", r->ending,
		           gort_strerror(r->echo_end));
		FUZZ_CHECK(T, r->ending == 1 || r->reader_end == 0, "the reader ended with %ld (%s), not EOF",
		           r->reader_end, gort_strerror(r->reader_end));
		break;
	case 2:
		FUZZ_CHECK(T, r->reader_n == r->m, "read back %zu, wanted %zu", r->reader_n, r->m);
		FUZZ_CHECK(T, r->echo_end == 0 || allowed_peer_error(r->echo_end), "the echo loop ended with %s",
		           gort_strerror(r->echo_end));
		/* The writer finished before the client end closed. */
		FUZZ_CHECK(T, r->echo_n == total || r->echo_end < 0, "echoed %zu of %zu", r->echo_n, total);
		break;
	case 3:
		FUZZ_CHECK(T, r->echo_end >= 0 || allowed_peer_error(r->echo_end), "the echo loop ended with %s",
		           gort_strerror(r->echo_end));
		FUZZ_CHECK(T, r->reader_end == 0 || allowed_peer_error(r->reader_end),
		           "the reader ended with %s", gort_strerror(r->reader_end));
		FUZZ_CHECK(T, r->echo_n >= (r->m < total ? r->m : total) || r->echo_end <= 0,
		           "the echo loop stopped at %zu before m=%zu", r->echo_n, r->m);
		if (!r->writer_failed && r->echo_werr == 0 && r->echo_n == total)
			FUZZ_CHECK(T, r->reader_n == total || r->reader_end != 0, "read back %zu of %zu", r->reader_n,
			           total);
		break;
	}

	gort_chan_free(r->writer_done);
	free(r->echo_got);
	free(stream);
	free(r);
	return 0;
}
