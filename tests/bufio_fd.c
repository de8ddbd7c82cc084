/*
 * bufio_fd.c - Go's bufio over descriptors (issue 17, item 4): lines from
 * a pipe that a goroutine fills one byte per write, a file written through
 * a writer and read back through a reader (EOF in the middle of its last
 * line), and a context, looked at before each read or write below; a
 * line from read_line is a C string, also when it fills the buffer or
 * ends the stream.  Exact outcomes: every byte and code.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "net_util.h"

enum { NLINES = 500 };

struct piper {
	int fd;
	gort_waitgroup *wg;
};

/* "line <i>\n" for every i, one byte per gort_write, then the pipe closed. */
static void piper(void *arg)
{
	struct piper *p = arg;
	char line[32];
	for (int i = 0; i < NLINES; i++) {
		int n = snprintf(line, sizeof line, "line %d\n", i);
		for (int k = 0; k < n; k++)
			CHECK(gort_write(p->fd, line + k, 1) == 1, "pipe write");
	}
	CHECK(gort_close(p->fd) == 0, "close the pipe");
	gort_waitgroup_done(p->wg);
}

static void TestPipeLines(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0, "pipe");
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 1);
	gort_go_with(piper, struct piper, .fd = fds[1], .wg = &wg);
	gort_bufio_reader *r = gort_bufio_reader_new_fd(fds[0], 32);
	const char *line;
	long n;
	int i = 0;
	char want[32];
	while ((n = gort_bufio_read_line(r, &line)) >= 0) {
		int wn = snprintf(want, sizeof want, "line %d", i);
		CHECK(n == wn && memcmp(line, want, (size_t)n) == 0, "line %d: \"%.*s\"", i, (int)n, line);
		i++;
	}
	CHECK_ERR(n, GORT_EOF);
	CHECK(i == NLINES, "%d lines, want %d", i, NLINES);
	gort_waitgroup_wait(&wg);
	gort_bufio_reader_free(r);
	close(fds[0]);
}

static void TestFileRoundTrip(void)
{
	char path[] = "/tmp/gort-bufio-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	gort_bufio_writer *w = gort_bufio_writer_new_fd(fd, 100);
	long want = 0;
	for (int i = 0; i < NLINES; i++) {
		int n = gort_bufio_printf(w, "%d squared is %d\n", i, i * i);
		CHECK(n > 0, "printf: %d", n);
		want += n;
	}
	CHECK(gort_bufio_write_string(w, "the end, no newline") == 19, "last line");
	want += 19;
	CHECK_ERR(gort_bufio_flush(w), 0);
	gort_bufio_writer_free(w);
	CHECK(lseek(fd, 0, SEEK_END) == want, "the file has %ld bytes, want %ld", (long)lseek(fd, 0, SEEK_END), want);
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "rewind");

	gort_bufio_reader *r = gort_bufio_reader_new_fd(fd, 0);
	const char *line;
	char expect[64];
	for (int i = 0; i < NLINES; i++) {
		long n = gort_bufio_read_line(r, &line);
		int wn = snprintf(expect, sizeof expect, "%d squared is %d", i, i * i);
		CHECK(n == wn && memcmp(line, expect, (size_t)n) == 0, "line %d: %ld", i, n);
	}
	long n = gort_bufio_read_line(r, &line);
	CHECK(n == 19 && memcmp(line, "the end, no newline", 19) == 0, "the last line: %ld", n);
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_EOF);
	gort_bufio_reader_free(r);
	close(fd);
}

/* read_line's line ends in a NUL where its "\r\n" or "\n" was, past a
 * line that fills the buffer, and past the last line at EOF: strtol and
 * strcmp may read it (under ASan, a byte past the buffer would fault). */
static void TestLineIsCString(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0, "pipe");
	const char *in = "12 apples\r\n\n0123456789abcdef0123\ntail";
	CHECK(write(fds[1], in, strlen(in)) == (ssize_t)strlen(in), "write");
	close(fds[1]);
	gort_bufio_reader *r = gort_bufio_reader_new_fd(fds[0], 16);
	const char *line;
	CHECK(gort_bufio_read_line(r, &line) == 9 && strcmp(line, "12 apples") == 0, "\"%s\"", line);
	CHECK(strtol(line, NULL, 10) == 12 && strcspn(line, "\r\n") == 9, "strtol/strcspn");
	CHECK(gort_bufio_read_line(r, &line) == 0 && line[0] == '\0', "the empty line");
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_EBUFFERFULL);
	CHECK(strcmp(line, "0123456789abcdef") == 0, "the full buffer: \"%s\"", line);
	CHECK(gort_bufio_read_line(r, &line) == 4 && strcmp(line, "0123") == 0, "the rest: \"%s\"", line);
	CHECK(gort_bufio_read_line(r, &line) == 4 && strcmp(line, "tail") == 0, "the last line: \"%s\"", line);
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_EOF);
	gort_bufio_reader_free(r);
	close(fds[0]);
}

/* gort_defer_free takes bufio's reader and writer. */
static void deferred_bufio(int fd)
{
	GORT_FRAME_VOID;
	gort_bufio_reader *r = gort_bufio_reader_new_fd(fd, 0);
	gort_defer_free(r);
	gort_bufio_writer *w = gort_bufio_writer_new_fd(fd, 0);
	gort_defer_free(w);
	CHECK(gort_bufio_reader_size(r) == 4096 && gort_bufio_writer_available(w) == 4096, "sizes");
}

/* A descriptor cannot be interrupted, but a done context stops the next
 * read or write below - and not what is already buffered. */
static void TestContextBeforeEachCall(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0, "pipe");
	CHECK(write(fds[1], "one\ntwo\n", 8) == 8, "write");
	gort_context *ctx = gort_context_with_cancel(gort_context_background());
	gort_bufio_reader *r = gort_bufio_reader_new_fd(fds[0], 64);
	gort_bufio_reader_set_context(r, ctx);
	const char *line;
	CHECK(gort_bufio_read_line(r, &line) == 3 && memcmp(line, "one", 3) == 0, "one");
	gort_context_cancel(ctx);
	CHECK(gort_bufio_read_line(r, &line) == 3 && memcmp(line, "two", 3) == 0, "two, buffered already");
	CHECK_ERR(gort_bufio_read_line(r, &line), GORT_ECANCELED);

	gort_bufio_writer *w = gort_bufio_writer_new_fd(fds[1], 64);
	gort_bufio_writer_set_context(w, ctx);
	CHECK(gort_bufio_write_string(w, "three\n") == 6, "buffered");
	CHECK_ERR(gort_bufio_flush(w), GORT_ECANCELED);
	gort_context_end(ctx);
	gort_bufio_writer_free(w);
	gort_bufio_reader_free(r);
	close(fds[0]);
	close(fds[1]);
}

/* A descriptor's errors are gort's: -EBADF, sticky in the writer. */
static void TestBadDescriptor(void)
{
	int fd = open("/dev/null", O_RDONLY);
	CHECK(fd >= 0, "open /dev/null");
	gort_bufio_reader *r = gort_bufio_reader_new_fd(fd, 0);
	gort_bufio_writer *w = gort_bufio_writer_new_fd(fd, 0); /* read-only: writes fail */
	char c;
	CHECK_ERR(gort_bufio_read(r, &c, 1), GORT_EOF);
	CHECK(gort_bufio_write_byte(w, 'x') == 0, "buffered");
	CHECK_ERR(gort_bufio_flush(w), -EBADF);
	CHECK_ERR(gort_bufio_write_byte(w, 'x'), -EBADF);
	gort_bufio_reader_free(r);
	gort_bufio_writer_free(w);
	close(fd);
}

static int test_main(int argc, char **argv)
{
	TEST_RUN(TestPipeLines);
	TEST_RUN(TestLineIsCString);
	deferred_bufio(0); /* leaks nothing: ASan's leak check at exit */
	TEST_RUN(TestFileRoundTrip);
	TEST_RUN(TestContextBeforeEachCall);
	TEST_RUN(TestBadDescriptor);
	return test_pass("bufio_fd");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
