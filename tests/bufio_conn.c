/*
 * bufio_conn.c - Go's bufio over a loopback TCP connection (issue 17,
 * item 4): lines, slices, exact reads and peeks across packet boundaries
 * (a writer goroutine sending one byte per write, then odd-sized chunks),
 * EOF in the middle of a line, a line longer than the buffer
 * (GORT_EBUFFERFULL), deadlines and contexts (what was read before stays
 * buffered), and a writer that batches until Flush, with sticky errors.
 * Every outcome is exact: the bytes, the line count, the error codes.
 */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "net_util.h"

/* ---- the text: lines of 0..99 bytes, some ending in "\r\n" ---------------- */

enum { NLINES = 300 };

static char text[NLINES * 104];
static size_t textlen;
static size_t linelen[NLINES];

static void make_text(void)
{
	textlen = 0;
	uint32_t x = 12345;
	for (int i = 0; i < NLINES; i++) {
		x = x * 1103515245 + 12345;
		size_t len = (x >> 16) % 100;
		linelen[i] = len;
		for (size_t k = 0; k < len; k++)
			text[textlen++] = (char)('a' + (i + k) % 26);
		if (i % 7 == 3)
			text[textlen++] = '\r';
		text[textlen++] = '\n';
	}
}

/* the sender goroutine: text in chunks of chunk[0], chunk[1], ..., cycling,
 * each its own write (and, on loopback with TCP_NODELAY, its own packet),
 * then CloseWrite (the reader's EOF). */
struct sender {
	gort_conn *c;
	const char *data;
	size_t len;
	const size_t *chunks; /* ended by 0 */
	gort_waitgroup *wg;
};

static void sender(void *arg)
{
	struct sender *s = arg;
	size_t off = 0;
	for (int i = 0; off < s->len; i++) {
		if (s->chunks[i] == 0)
			i = 0;
		size_t k = s->chunks[i] < s->len - off ? s->chunks[i] : s->len - off;
		test_write_full(s->c, s->data + off, k);
		off += k;
		if (i % 8 == 0)
			gort_gosched(); /* let the reader catch up: more, smaller reads */
	}
	CHECK_OK(gort_conn_close_write(s->c));
	gort_waitgroup_done(s->wg);
}

static const size_t ONE_BYTE[] = {1, 0};
static const size_t ODD[] = {1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 61, 127, 0};

static void start_sender(gort_conn *c, const char *data, size_t len, const size_t *chunks,
                         gort_waitgroup *wg)
{
	gort_waitgroup_add(wg, 1);
	gort_go_with(sender, struct sender, .c = c, .data = data, .len = len, .chunks = chunks, .wg = wg);
}

/* ---- reading lines -------------------------------------------------------------- */

static void lines_with(const size_t *chunks, size_t bufsize)
{
	make_text();
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	start_sender(a, text, textlen, chunks, &wg);
	gort_bufio_reader *r = gort_bufio_reader_new(b, bufsize);
	CHECK(r != NULL && gort_bufio_reader_size(r) == bufsize, "reader of %zu", bufsize);
	size_t off = 0;
	int i = 0;
	const char *line;
	long n;
	while ((n = gort_bufio_read_line(r, &line)) >= 0) {
		CHECK(i < NLINES, "more than %d lines", NLINES);
		CHECK((size_t)n == linelen[i] && memcmp(line, text + off, (size_t)n) == 0,
		      "line %d: %ld bytes \"%.*s\", want %zu", i, n, (int)n, line, linelen[i]);
		off += linelen[i] + (i % 7 == 3 ? 2 : 1);
		i++;
	}
	CHECK_ERR(n, GORT_EOF);
	CHECK(i == NLINES && off == textlen, "%d lines, %zu bytes, want %d, %zu", i, off, NLINES, textlen);
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_EOF); /* and again */
	gort_waitgroup_wait(&wg);
	gort_bufio_reader_free(r);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static void TestLinesOneByteAtATime(void)
{
	lines_with(ONE_BYTE, 128);
}

static void TestLinesOddChunks(void)
{
	lines_with(ODD, 101);
}

/* Lines longer than a 16-byte buffer come in pieces of 16, each
 * GORT_EBUFFERFULL, then the rest with its '\n': put together, the text. */
static void TestSliceLongerThanBuffer(void)
{
	make_text();
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	start_sender(a, text, textlen, ODD, &wg);
	gort_bufio_reader *r = gort_bufio_reader_new(b, 1); /* 16: Go's minimum */
	CHECK(gort_bufio_reader_size(r) == 16, "size %zu, want 16", gort_bufio_reader_size(r));
	char *got = malloc(textlen + 1);
	size_t off = 0;
	long full = 0, lines = 0, n;
	const char *p;
	while ((n = gort_bufio_read_slice(r, '\n', &p)) >= 0 || n == GORT_EBUFFERFULL) {
		size_t len = n == GORT_EBUFFERFULL ? gort_bufio_reader_size(r) : (size_t)n;
		CHECK(off + len <= textlen, "more than the text");
		memcpy(got + off, p, len);
		off += len;
		if (n == GORT_EBUFFERFULL)
			full++;
		else
			lines++;
	}
	CHECK_ERR(n, GORT_EOF);
	CHECK(off == textlen && memcmp(got, text, textlen) == 0, "the text came back different (%zu of %zu)", off,
	      textlen);
	long want_full = 0;
	for (int i = 0; i < NLINES; i++)
		want_full += (long)((linelen[i] + (i % 7 == 3 ? 2 : 1) - 1) / 16);
	CHECK(lines == NLINES && full == want_full, "%ld lines and %ld full buffers, want %d and %ld", lines, full,
	      NLINES, want_full);
	free(got);
	gort_waitgroup_wait(&wg);
	gort_bufio_reader_free(r);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* EOF in the middle of a line: the line's bytes, then GORT_EOF. */
static void TestEOFMidLine(void)
{
	static const char msg[] = "first\r\nsecond\n\nlast, no newline";
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	start_sender(a, msg, sizeof msg - 1, ONE_BYTE, &wg);
	gort_bufio_reader *r = gort_bufio_reader_new(b, 0);
	CHECK(gort_bufio_reader_size(r) == 4096, "default size %zu", gort_bufio_reader_size(r));
	const char *line;
	static const char *want[] = {"first", "second", "", "last, no newline"};
	for (int i = 0; i < 4; i++) {
		long n = gort_bufio_read_line(r, &line);
		CHECK(n == (long)strlen(want[i]) && memcmp(line, want[i], (size_t)n) == 0, "line %d: %ld \"%.*s\"", i, n,
		      n > 0 ? (int)n : 0, n > 0 ? line : "");
	}
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_EOF);
	CHECK_ERR(gort_bufio_read_byte(r), GORT_EOF);
	char c;
	CHECK_ERR(gort_bufio_read(r, &c, 1), GORT_EOF);
	gort_waitgroup_wait(&wg);
	gort_bufio_reader_free(r);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* io.ReadFull across odd chunks; the stream ends 1000 bytes into the last. */
static void TestReadFull(void)
{
	enum { LEN = 10000 };
	static char data[LEN];
	for (int i = 0; i < LEN; i++)
		data[i] = (char)(i * 7 + i / 256);
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	start_sender(a, data, LEN, ODD, &wg);
	gort_bufio_reader *r = gort_bufio_reader_new(b, 512);
	static char got[3000];
	size_t have;
	for (int i = 0; i < 3; i++) {
		CHECK(gort_bufio_read_full(r, got, sizeof got, &have) == (long)sizeof got && have == sizeof got,
		      "full read %d: %zu bytes", i, have);
		CHECK(memcmp(got, data + i * 3000, sizeof got) == 0, "full read %d: other bytes", i);
	}
	CHECK_ERR(gort_bufio_read_full(r, got, sizeof got, &have), GORT_EUNEXPECTEDEOF);
	CHECK(have == 1000 && memcmp(got, data + 9000, 1000) == 0, "the last 1000 bytes: %zu", have);
	CHECK_ERR(gort_bufio_read_full(r, got, sizeof got, &have), GORT_EOF);
	CHECK(have == 0, "after the end: %zu bytes", have);
	gort_waitgroup_wait(&wg);
	gort_bufio_reader_free(r);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* Peek, ReadByte, Discard, Read, with the bytes coming one per packet. */
static void TestPeekByteDiscard(void)
{
	static const char msg[] = "0123456789abcdefghijklmnopqrstuvwxyz";
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	start_sender(a, msg, sizeof msg - 1, ONE_BYTE, &wg);
	gort_bufio_reader *r = gort_bufio_reader_new(b, 16);
	const void *p;
	CHECK(gort_bufio_peek(r, 5, &p) == 5 && memcmp(p, "01234", 5) == 0, "peek 5");
	CHECK(gort_bufio_peek(r, 16, &p) == 16 && memcmp(p, "0123456789abcdef", 16) == 0, "peek the whole buffer");
	CHECK_ERR(gort_bufio_peek(r, 17, &p), GORT_EBUFFERFULL);
	CHECK(gort_bufio_read_byte(r) == '0' && gort_bufio_read_byte(r) == '1', "read_byte");
	CHECK(gort_bufio_discard(r, 20) == 20, "discard");
	CHECK(gort_bufio_read_byte(r) == 'm', "after the discard");
	CHECK(gort_bufio_peek(r, 10, &p) == 10 && memcmp(p, "nopqrstuvw", 10) == 0, "peek after sliding");
	char buf[64];
	size_t have = 0;
	long n;
	while ((n = gort_bufio_read(r, buf + have, sizeof buf - have)) > 0)
		have += (size_t)n;
	CHECK_ERR(n, GORT_EOF);
	CHECK(have == 13 && memcmp(buf, "nopqrstuvwxyz", 13) == 0, "the rest: %zu \"%.*s\"", have, (int)have, buf);
	CHECK_ERR(gort_bufio_peek(r, 1, &p), GORT_EOF);
	CHECK(gort_bufio_buffered(r) == 0, "buffered after EOF");
	gort_waitgroup_wait(&wg);
	gort_bufio_reader_free(r);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* A read deadline in the middle of a line: GORT_ETIMEOUT, the half line
 * kept; with a new deadline the line comes whole. */
static void TestDeadlineKeepsPartialLine(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_bufio_reader *r = gort_bufio_reader_new(b, 64);
	test_write_full(a, "hello\npar", 9);
	const char *line;
	CHECK(gort_bufio_read_line(r, &line) == 5 && memcmp(line, "hello", 5) == 0, "the whole line");
	int64_t t0 = gort_nanotime(), deadline = t0 + 50 * MS;
	CHECK_OK(gort_conn_set_read_deadline(b, deadline));
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, deadline, gort_nanotime());
	CHECK(gort_bufio_buffered(r) == 3, "the half line is kept: %zu bytes", gort_bufio_buffered(r));
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_ETIMEOUT); /* the deadline is still past */
	CHECK_OK(gort_conn_set_read_deadline(b, 0));
	test_write_full(a, "tial\n", 5);
	CHECK(gort_bufio_read_line(r, &line) == 7 && memcmp(line, "partial", 7) == 0, "the line, whole");
	gort_bufio_reader_free(r);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* A canceled context ends a read with GORT_ECANCELED; a context's deadline
 * with GORT_EDEADLINE; the half line stays buffered through both. */
struct canceler {
	gort_context *ctx;
	gort_waitgroup *wg;
};

static void canceler(void *arg)
{
	struct canceler *c = arg;
	gort_sleep(20 * MS);
	gort_context_cancel(c->ctx);
	gort_waitgroup_done(c->wg);
}

static void TestContext(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_bufio_reader *r = gort_bufio_reader_new(b, 64);
	test_write_full(a, "ab", 2);
	gort_context *ctx = gort_context_with_cancel(gort_context_background());
	gort_bufio_reader_set_context(r, ctx);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 1);
	gort_go_with(canceler, struct canceler, .ctx = ctx, .wg = &wg);
	const char *line;
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_ECANCELED);
	gort_waitgroup_wait(&wg);
	CHECK(gort_bufio_buffered(r) == 2, "kept %zu bytes", gort_bufio_buffered(r));
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_ECANCELED); /* still done */
	gort_context_end(ctx);

	int64_t t0 = gort_nanotime();
	ctx = gort_context_with_timeout(gort_context_background(), 30 * MS);
	gort_bufio_reader_set_context(r, ctx);
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_EDEADLINE);
	CHECK(gort_nanotime() - t0 >= 30 * MS, "returned before the context's deadline");
	gort_context_end(ctx);

	gort_bufio_reader_set_context(r, NULL);
	test_write_full(a, "c\n", 2);
	CHECK(gort_bufio_read_line(r, &line) == 3 && memcmp(line, "abc", 3) == 0, "the line, whole");
	gort_bufio_reader_free(r);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* ---- writing --------------------------------------------------------------------- */

/* Nothing goes out before the buffer fills or Flush; then all of it. */
static void TestWriterBatches(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_bufio_writer *w = gort_bufio_writer_new(a, 1024);
	CHECK(gort_bufio_write_string(w, "hello, ") == 7 && gort_bufio_printf(w, "%s %d\n", "world", 42) == 9 &&
	          gort_bufio_write_byte(w, '!') == 0,
	      "buffered writes");
	CHECK(gort_bufio_writer_buffered(w) == 17 && gort_bufio_writer_available(w) == 1024 - 17, "buffered %zu",
	      gort_bufio_writer_buffered(w));
	char buf[64];
	CHECK_OK(gort_conn_set_read_deadline(b, gort_nanotime() + 30 * MS));
	CHECK_ERR(gort_conn_read(b, buf, sizeof buf), GORT_ETIMEOUT); /* nothing sent yet */
	CHECK_OK(gort_conn_set_read_deadline(b, 0));
	CHECK_ERR(gort_bufio_flush(w), 0);
	CHECK(gort_bufio_writer_buffered(w) == 0, "flushed");
	test_read_full(b, buf, 17);
	CHECK(memcmp(buf, "hello, world 42\n!", 17) == 0, "got \"%.17s\"", buf);

	/* 5000 short lines through a 1024-byte buffer, one reader goroutine
	 * counting them back; a printf longer than the room left too */
	gort_chan *done = gort_chan_make(sizeof(long), 1);
	gort_go_with(test_read_to_end, test_reader_args, .c = b, .done = done);
	long want = 0;
	for (int i = 0; i < 5000; i++) {
		int n = gort_bufio_printf(w, "line %d\n", i);
		CHECK(n > 0, "printf %d: %d", i, n);
		want += n;
	}
	static char big[3000];
	memset(big, 'x', sizeof big - 1);
	CHECK(gort_bufio_printf(w, "%s", big) == (int)sizeof big - 1, "a printf bigger than the buffer");
	want += (long)sizeof big - 1;
	CHECK(gort_bufio_write(w, big, sizeof big - 1) == (long)sizeof big - 1, "a write bigger than the buffer");
	want += (long)sizeof big - 1;
	CHECK_ERR(gort_bufio_flush(w), 0);
	CHECK_OK(gort_conn_close_write(a));
	long got = recv_long(done);
	CHECK(got == want, "the reader got %ld bytes, want %ld", got, want);
	gort_bufio_writer_free(w);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* A write that fails below makes the writer's error sticky. */
static void TestWriterStickyError(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_bufio_writer *w = gort_bufio_writer_new(a, 64);
	gort_context *ctx = gort_context_with_cancel(gort_context_background());
	gort_context_cancel(ctx);
	gort_bufio_writer_set_context(w, ctx);
	CHECK(gort_bufio_write_string(w, "buffered, not sent") == 18, "a write into the buffer");
	CHECK_ERR(gort_bufio_flush(w), GORT_ECANCELED);
	gort_bufio_writer_set_context(w, NULL);
	CHECK_ERR(gort_bufio_flush(w), GORT_ECANCELED); /* sticky */
	CHECK_ERR(gort_bufio_write_string(w, "more"), GORT_ECANCELED);
	CHECK_ERR(gort_bufio_write_byte(w, 'x'), GORT_ECANCELED);
	CHECK_ERR(gort_bufio_printf(w, "%d", 1), GORT_ECANCELED);
	gort_context_end(ctx);
	gort_bufio_writer_free(w);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/* NULL where a reader, writer or connection belongs. */
static void TestMisuse(void)
{
	const char *line;
	const void *p;
	char c;
	CHECK(gort_bufio_reader_new(NULL, 0) == NULL && gort_bufio_writer_new(NULL, 0) == NULL, "new(NULL)");
	CHECK(gort_bufio_reader_new_fd(-1, 0) == NULL && gort_bufio_writer_new_fd(-1, 0) == NULL, "new_fd(-1)");
	CHECK_ERR(gort_bufio_read(NULL, &c, 1), -EINVAL);
	CHECK_ERR(gort_bufio_read_byte(NULL), -EINVAL);
	CHECK_ERR(gort_bufio_read_line(NULL, &line), -EINVAL);
	CHECK_ERR(gort_bufio_read_full(NULL, &c, 1, NULL), -EINVAL);
	CHECK_ERR(gort_bufio_peek(NULL, 1, &p), -EINVAL);
	CHECK_ERR(gort_bufio_discard(NULL, 1), -EINVAL);
	CHECK_ERR(gort_bufio_write(NULL, &c, 1), -EINVAL);
	CHECK_ERR(gort_bufio_flush(NULL), -EINVAL);
	gort_bufio_reader_free(NULL);
	gort_bufio_writer_free(NULL);
}

static int test_main(int argc, char **argv)
{
	TEST_RUN(TestLinesOneByteAtATime);
	TEST_RUN(TestLinesOddChunks);
	TEST_RUN(TestSliceLongerThanBuffer);
	TEST_RUN(TestEOFMidLine);
	TEST_RUN(TestReadFull);
	TEST_RUN(TestPeekByteDiscard);
	TEST_RUN(TestDeadlineKeepsPartialLine);
	TEST_RUN(TestContext);
	TEST_RUN(TestWriterBatches);
	TEST_RUN(TestWriterStickyError);
	TEST_RUN(TestMisuse);
	return test_pass("bufio_conn");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
