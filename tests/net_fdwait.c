/*
 * net_fdwait - gort_fd_wait, Go's RawConn.Read/Write wait, on descriptors gort
 * does not own.
 *
 *   pipe          a pipe's read end becomes readable after another goroutine
 *                 writes (and the wait did not consume the data); the write
 *                 end is writable at once; asking for both on the read end
 *                 reports only readable
 *   hangup        the write end closed: the read end reports readable (a
 *                 hang-up counts as both)
 *   eventfd       readable once another goroutine adds to it; writable at once
 *   deadline      an empty pipe with a deadline: GORT_ETIMEOUT no earlier than
 *                 the deadline; a deadline already past: GORT_ETIMEOUT at once
 *   bad           a closed descriptor and -1: -EBADF; events 0, 4, -1: -EINVAL
 *   many_waiters  16 goroutines wait on one pipe at once: one write wakes all
 *   conn_fd       gort_fd_wait on a gort_conn's descriptor wakes on the
 *                 peer's write (and leaves the data for the conn); waits on
 *                 it beside a goroutine blocked in gort_conn_read leave that
 *                 reader to wake on the peer's write; the connection reads,
 *                 writes and times out as before
 *   raw_loop      1 MiB through a non-blocking pipe with the RawConn loop (try
 *                 the call, on EAGAIN gort_fd_wait) on both ends, in order
 *   no_leak       2,000 waits (ready, timed out, woken) leave no descriptor open
 *   regular_file  a regular file does not block the waiter
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/eventfd.h>

#include "net_util.h"

static void write_after(void *arg)
{
	int fd = (int)(intptr_t)arg;
	gort_sleep(10 * MS);
	CHECK(write(fd, "x", 1) == 1, "write: %s", strerror(errno));
}

static void write_after_conn(void *arg)
{
	gort_sleep(10 * MS);
	test_write_full(arg, "c", 1);
}

static void test_pipe(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	CHECK_ERR(gort_fd_wait(p[1], GORT_WRITABLE, 0), GORT_WRITABLE);
	CHECK_ERR(gort_fd_wait(p[1], GORT_READABLE | GORT_WRITABLE, 0), GORT_WRITABLE);
	gort_go(write_after, (void *)(intptr_t)p[1]);
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, 0), GORT_READABLE);
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, 0), GORT_READABLE); /* still there */
	char c;
	CHECK(read(p[0], &c, 1) == 1 && c == 'x', "read");
	gort_go(write_after, (void *)(intptr_t)p[1]);
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE | GORT_WRITABLE, 0), GORT_READABLE);
	CHECK(read(p[0], &c, 1) == 1, "read");
	close(p[0]);
	close(p[1]);
}

static void close_after(void *arg)
{
	gort_sleep(10 * MS);
	close((int)(intptr_t)arg);
}

static void test_hangup(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	gort_go(close_after, (void *)(intptr_t)p[1]);
	int r = gort_fd_wait(p[0], GORT_READABLE, 0);
	CHECK(r > 0 && (r & GORT_READABLE), "hang-up: %d (%s)", r, gort_strerror(r));
	char c;
	CHECK(read(p[0], &c, 1) == 0, "EOF");
	close(p[0]);
}

static void add_after(void *arg)
{
	gort_sleep(10 * MS);
	uint64_t one = 1;
	CHECK(write((int)(intptr_t)arg, &one, sizeof one) == sizeof one, "eventfd write");
}

static void test_eventfd(void)
{
	int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	CHECK(efd >= 0, "eventfd");
	CHECK_ERR(gort_fd_wait(efd, GORT_WRITABLE, 0), GORT_WRITABLE);
	gort_go(add_after, (void *)(intptr_t)efd);
	CHECK_ERR(gort_fd_wait(efd, GORT_READABLE, 0), GORT_READABLE);
	uint64_t v;
	CHECK(read(efd, &v, sizeof v) == sizeof v && v == 1, "eventfd read");
	close(efd);
}

static void test_deadline(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	int64_t t0 = gort_nanotime(), d = t0 + 30 * MS;
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, d), GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d, gort_nanotime());
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, 1), GORT_ETIMEOUT);
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, gort_nanotime() - 1), GORT_ETIMEOUT);
	/* ready beats a deadline */
	CHECK(write(p[1], "r", 1) == 1, "write");
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, gort_nanotime() + GORT_SECOND), GORT_READABLE);
	close(p[0]);
	close(p[1]);
}

static void test_bad(void)
{
	int fd = dup(0);
	CHECK(fd >= 0, "dup");
	close(fd);
	CHECK_ERR(gort_fd_wait(fd, GORT_READABLE, 0), -EBADF);
	CHECK_ERR(gort_fd_wait(-1, GORT_READABLE, 0), -EBADF);
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	CHECK_ERR(gort_fd_wait(p[0], 0, 0), -EINVAL);
	CHECK_ERR(gort_fd_wait(p[0], 4, 0), -EINVAL);
	CHECK_ERR(gort_fd_wait(p[0], -1, 0), -EINVAL);
	close(p[0]);
	close(p[1]);
}

enum { WAITERS = 16 };

typedef struct waiter_args {
	int fd;
	atomic_long *started;
	atomic_long *woke;
	gort_waitgroup *wg;
} waiter_args;

static void waiter(void *arg)
{
	waiter_args *a = arg;
	test_done(a->started);
	CHECK_ERR(gort_fd_wait(a->fd, GORT_READABLE, 0), GORT_READABLE);
	atomic_fetch_add(a->woke, 1);
	gort_waitgroup_done(a->wg);
}

static void test_many_waiters(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	atomic_long started = 0, woke = 0;
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, WAITERS);
	for (int i = 0; i < WAITERS; i++)
		gort_go_with(waiter, waiter_args, .fd = p[0], .started = &started, .woke = &woke, .wg = &wg);
	test_wait(&started, WAITERS, "the waiters to start");
	gort_sleep(10 * MS);
	CHECK(atomic_load(&woke) == 0, "%ld waiters woke with nothing written", atomic_load(&woke));
	CHECK(write(p[1], "!", 1) == 1, "write");
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&woke) == WAITERS, "%ld of %d woke", atomic_load(&woke), WAITERS);
	close(p[0]);
	close(p[1]);
}

typedef struct conn_reader_args {
	gort_conn *c;
	gort_chan *out;
} conn_reader_args;

static void conn_reader(void *arg)
{
	conn_reader_args *a = arg;
	char buf[8] = {0};
	long r = gort_conn_read(a->c, buf, sizeof buf);
	CHECK(r == 1, "the conn reader got %ld (%s)", r, gort_strerror(r));
	r = buf[0];
	gort_chan_send(a->out, &r);
}

static gort_chan *spawn_conn_reader(gort_conn *c)
{
	gort_chan *out = gort_chan_make(sizeof(long), 1);
	gort_go_with(conn_reader, conn_reader_args, .c = c, .out = out);
	return out;
}

/*
 * fd_wait reports readiness that still holds when the waiter runs: a
 * gort_conn_read blocked on the same descriptor may take the data first,
 * and the waiter then waits on (in Go the two could not even overlap:
 * RawConn.Read takes the conn's read lock).  So these cases never race a
 * reader and a readable-waiter for the same bytes.
 */
static void test_conn_fd(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	int fd = gort_conn_fd(a);
	CHECK(fd >= 0, "gort_conn_fd: %d", fd);
	char buf[8];

	/* alone: readable once the peer writes; the conn then reads it */
	gort_go(write_after_conn, b);
	CHECK_ERR(gort_fd_wait(fd, GORT_READABLE, 0), GORT_READABLE);
	test_read_full(a, buf, 1);
	CHECK(buf[0] == 'c', "read %c after fd_wait, want c", buf[0]);

	/* beside a blocked reader: waits for writable and timed-out waits for
	 * readable come and go; the reader still wakes for the peer's byte */
	gort_chan *rc = spawn_conn_reader(a);
	gort_sleep(5 * MS);
	for (int i = 0; i < 20; i++) {
		CHECK_ERR(gort_fd_wait(fd, GORT_WRITABLE, 0), GORT_WRITABLE);
		CHECK_ERR(gort_fd_wait(fd, GORT_READABLE, gort_nanotime() + 100 * GORT_MICROSECOND), GORT_ETIMEOUT);
	}
	test_write_full(b, "x", 1);
	CHECK_ERR(recv_long(rc), 'x');

	/* the connection is as it was */
	for (int i = 0; i < 10; i++) {
		test_write_full(b, "yz", 2);
		test_read_full(a, buf, 2);
		CHECK(memcmp(buf, "yz", 2) == 0, "wrong bytes");
		test_write_full(a, "w", 1);
		test_read_full(b, buf, 1);
	}
	CHECK_OK(gort_conn_set_read_deadline(a, gort_nanotime() + 20 * MS));
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), GORT_ETIMEOUT);
	CHECK_OK(gort_conn_set_read_deadline(a, 0));
	test_write_full(b, "q", 1);
	test_read_full(a, buf, 1);
	CHECK(buf[0] == 'q', "wrong byte");
	/* and closing it wakes a reader as ever */
	rc = spawn_conn_reader(a);
	gort_sleep(5 * MS);
	CHECK_ERR(gort_fd_wait(fd, GORT_WRITABLE, 0), GORT_WRITABLE);
	test_write_full(b, "r", 1);
	CHECK_ERR(recv_long(rc), 'r');
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

enum { RAW = 1 << 20 };

static void raw_writer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	uint8_t buf[3000];
	size_t off = 0;
	while (off < RAW) {
		size_t n = RAW - off < sizeof buf ? RAW - off : sizeof buf;
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((off + i) * 13);
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(fd, buf + done, n - done);
			if (w < 0) {
				CHECK(errno == EAGAIN, "raw write: %s", strerror(errno));
				CHECK_ERR(gort_fd_wait(fd, GORT_WRITABLE, 0), GORT_WRITABLE);
				continue;
			}
			done += (size_t)w;
		}
		off += n;
	}
	close(fd);
}

static void test_raw_loop(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	gort_go(raw_writer, (void *)(intptr_t)p[1]);
	uint8_t buf[4096];
	size_t total = 0;
	for (;;) {
		ssize_t n = read(p[0], buf, sizeof buf);
		if (n < 0) {
			CHECK(errno == EAGAIN, "raw read: %s", strerror(errno));
			int r = gort_fd_wait(p[0], GORT_READABLE, 0);
			CHECK(r & GORT_READABLE, "fd_wait: %d", r);
			continue;
		}
		if (n == 0)
			break;
		for (ssize_t i = 0; i < n; i++, total++)
			CHECK(buf[i] == (uint8_t)(total * 13), "byte %zu wrong", total);
	}
	CHECK(total == RAW, "read %zu of %d bytes", total, RAW);
	close(p[0]);
}

static void test_no_leak(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	int fds0 = test_open_fds();
	for (int i = 0; i < 1000; i++)
		CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, gort_nanotime() + 10 * GORT_MICROSECOND), GORT_ETIMEOUT);
	for (int i = 0; i < 500; i++) {
		gort_go(write_after, (void *)(intptr_t)p[1]);
		CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, 0), GORT_READABLE);
		char c;
		CHECK(read(p[0], &c, 1) == 1, "read");
		if (i == 20)
			break; /* each takes 10 ms: a few are enough */
	}
	for (int i = 0; i < 1000; i++)
		CHECK_ERR(gort_fd_wait(p[1], GORT_WRITABLE, 0), GORT_WRITABLE);
	int fds = test_open_fds();
	CHECK(fds == fds0, "%d descriptors open, %d before the waits", fds, fds0);
	close(p[0]);
	close(p[1]);
}

static void test_regular_file(void)
{
	char path[] = "/tmp/gort_fdwait_XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0, "mkstemp");
	unlink(path);
	/* gort.h says -EPERM; poll(2) calls a regular file always ready.  Either
	 * way the waiter must not block. */
	int r = gort_fd_wait(fd, GORT_READABLE, 0);
	CHECK(r == GORT_READABLE || r == -EPERM, "regular file: %d (%s)", r, gort_strerror(r));
	close(fd);
}

static int test_main(int argc, char **argv)
{
	test_pipe();
	test_hangup();
	test_eventfd();
	test_deadline();
	test_bad();
	test_many_waiters();
	test_conn_fd();
	test_raw_loop();
	test_no_leak();
	test_regular_file();
	return test_pass("net_fdwait");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
