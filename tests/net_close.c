/*
 * net_close - closing, half-closing, and peers that go away.
 *
 * SIGPIPE is set to its default action (death) first, so a SIGPIPE that
 * escaped would kill the test instead of passing unnoticed.
 *
 *   peer_gone_tcp   the peer closes (with unread data: an RST) while a
 *                   goroutine writes in a loop: the writer gets -EPIPE or
 *                   -ECONNRESET, and the process lives on
 *   peer_gone_pipe  a pipe's write end via gort_conn_from_fd: with the read
 *                   end closed a write fails with -EPIPE; a writer blocked
 *                   on a full pipe is woken by the reader closing, -EPIPE
 *   eof             the peer's close makes a read return 0, again and again
 *   close_reader    close wakes a goroutine blocked in read: GORT_ECLOSED
 *   close_accept    close wakes a goroutine blocked in accept: GORT_ECLOSED
 *   close_writer    close wakes a goroutine blocked writing to full buffers
 *   close_many      a blocked reader, a second reader queued behind it and a
 *                   blocked writer all get GORT_ECLOSED from one close
 *   after_close     a second close, and every operation on the closed
 *                   handle, returns GORT_ECLOSED
 *   reuse           a new connection that reuses the closed one's descriptor
 *                   number is untouched by operations on the old handle
 *   half_close      gort_conn_close_write: the peer reads EOF while the other
 *                   direction still carries data; writing after it fails
 *                   with -EPIPE
 *   pipe_eof        a pipe read end via gort_conn_from_fd: reads what the
 *                   writer wrote, then EOF when the write end closes
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>

#include "net_util.h"

static void small_buffers(gort_conn *w, gort_conn *r)
{
	int small = 65536;
	CHECK(setsockopt(gort_conn_fd(w), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0, "SO_SNDBUF");
	CHECK(setsockopt(gort_conn_fd(r), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0, "SO_RCVBUF");
}

/* write_until_error writes chunks until a write fails; returns its result. */
static long write_until_error(gort_conn *c)
{
	static char chunk[16384];
	long total = 0;
	for (;;) {
		long r = gort_conn_write(c, chunk, sizeof chunk);
		if (r < 0)
			return r;
		total += r;
		CHECK(total < 256L << 20, "256 MiB written and no error");
		gort_gosched();
	}
}

typedef struct op_args {
	gort_conn *c;
	int op; /* 'r' read, 'w' write until error, 'a' accept */
	gort_chan *out; /* long */
	atomic_long *started;
} op_args;

static void op(void *arg)
{
	op_args *a = arg;
	long r;
	char buf[64];
	gort_conn *s;
	if (a->started != NULL)
		test_done(a->started);
	switch (a->op) {
	case 'r':
		r = gort_conn_read(a->c, buf, sizeof buf);
		break;
	case 'w':
		r = write_until_error(a->c);
		break;
	default:
		r = gort_accept(a->c, &s);
		if (r == 0)
			gort_conn_close(s);
		break;
	}
	gort_chan_send(a->out, &r);
}

static gort_chan *spawn_op(gort_conn *c, int what, atomic_long *started)
{
	gort_chan *out = gort_chan_make(sizeof(long), 1);
	gort_go_with(op, op_args, .c = c, .op = what, .out = out, .started = started);
	return out;
}

static void test_peer_gone_tcp(void)
{
	/* the peer has closed before the writes start */
	gort_conn *a, *b;
	test_pair(&a, &b);
	test_write_full(a, "unread", 6);
	gort_sleep(5 * MS);
	CHECK_OK(gort_conn_close(b)); /* unread data: an RST */
	long r = write_until_error(a);
	CHECK(r == -EPIPE || r == -ECONNRESET, "write to a closed peer: %ld (%s)", r, gort_strerror(r));
	r = gort_conn_write(a, "x", 1);
	CHECK(r == -EPIPE || r == -ECONNRESET, "write again: %ld (%s)", r, gort_strerror(r));
	CHECK_OK(gort_conn_close(a));

	/* the peer closes while a writer is blocked on full buffers */
	test_pair(&a, &b);
	small_buffers(a, b);
	gort_chan *ch = spawn_op(a, 'w', NULL);
	gort_sleep(20 * MS);
	CHECK_OK(gort_conn_close(b));
	r = recv_long(ch);
	CHECK(r == -EPIPE || r == -ECONNRESET, "blocked writer: %ld (%s)", r, gort_strerror(r));
	CHECK_OK(gort_conn_close(a));
}

static void test_peer_gone_pipe(void)
{
	int p[2];
	gort_conn *w;
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	CHECK_OK(gort_conn_from_fd(p[1], &w));
	CHECK(close(p[0]) == 0, "close");
	CHECK_ERR(gort_conn_write(w, "x", 1), -EPIPE);
	CHECK_ERR(gort_conn_write(w, "x", 1), -EPIPE);
	CHECK_OK(gort_conn_close(w));

	/* a writer blocked on a full pipe: the reader goes away */
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	CHECK_OK(gort_conn_from_fd(p[1], &w));
	gort_chan *ch = spawn_op(w, 'w', NULL);
	gort_sleep(20 * MS);
	CHECK(close(p[0]) == 0, "close");
	CHECK_ERR(recv_long(ch), -EPIPE);
	CHECK_OK(gort_conn_close(w));

	/* the same at GOMAXPROCS>1 with many writers in turn, each on its own pipe */
	for (int i = 0; i < 50; i++) {
		CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
		CHECK_OK(gort_conn_from_fd(p[1], &w));
		close(p[0]);
		CHECK_ERR(gort_conn_write(w, "y", 1), -EPIPE);
		CHECK_OK(gort_conn_close(w));
	}
}

static void test_eof(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	test_write_full(b, "last", 4);
	CHECK_OK(gort_conn_close(b));
	char buf[16];
	test_read_full(a, buf, 4);
	CHECK(memcmp(buf, "last", 4) == 0, "wrong data before EOF");
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), 0);
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), 0);
	CHECK_ERR(gort_conn_read(a, buf, 0), 0);
	CHECK_OK(gort_conn_close(a));
}

static void test_close_reader(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_chan *ch = spawn_op(a, 'r', NULL);
	gort_sleep(10 * MS);
	CHECK_OK(gort_conn_close(a));
	CHECK_ERR(recv_long(ch), GORT_ECLOSED);
	/* the peer sees the close */
	char buf[4];
	CHECK_ERR(gort_conn_read(b, buf, sizeof buf), 0);
	CHECK_OK(gort_conn_close(b));
}

static void test_close_accept(void)
{
	gort_conn *ln = test_listen(NULL);
	gort_chan *ch = spawn_op(ln, 'a', NULL);
	gort_sleep(10 * MS);
	CHECK_OK(gort_conn_close(ln));
	CHECK_ERR(recv_long(ch), GORT_ECLOSED);
}

static void test_close_writer(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	small_buffers(a, b);
	gort_chan *ch = spawn_op(a, 'w', NULL);
	gort_sleep(20 * MS);
	CHECK_OK(gort_conn_close(a));
	CHECK_ERR(recv_long(ch), GORT_ECLOSED);
	CHECK_OK(gort_conn_close(b));
}

static void test_close_many(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	small_buffers(a, b);
	atomic_long started = 0;
	gort_chan *r1 = spawn_op(a, 'r', &started);
	gort_chan *r2 = spawn_op(a, 'r', &started);
	gort_chan *w = spawn_op(a, 'w', &started);
	test_wait(&started, 3, "the three goroutines to start");
	gort_sleep(20 * MS);
	CHECK_OK(gort_conn_close(a));
	CHECK_ERR(recv_long(r1), GORT_ECLOSED);
	CHECK_ERR(recv_long(r2), GORT_ECLOSED);
	CHECK_ERR(recv_long(w), GORT_ECLOSED);
	CHECK_OK(gort_conn_close(b));
}

static void test_after_close(void)
{
	gort_conn *a, *b, *s;
	test_pair(&a, &b);
	CHECK_OK(gort_conn_close(a));
	char buf[64];
	CHECK_ERR(gort_conn_close(a), GORT_ECLOSED);
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), GORT_ECLOSED);
	CHECK_ERR(gort_conn_write(a, "x", 1), GORT_ECLOSED);
	CHECK_ERR(gort_conn_close_write(a), GORT_ECLOSED);
	CHECK_ERR(gort_conn_set_deadline(a, 0), GORT_ECLOSED);
	CHECK_ERR(gort_conn_set_read_deadline(a, 1), GORT_ECLOSED);
	CHECK_ERR(gort_conn_set_write_deadline(a, 1), GORT_ECLOSED);
	CHECK_ERR(gort_conn_local_addr(a, buf, sizeof buf), GORT_ECLOSED);
	CHECK_ERR(gort_conn_remote_addr(a, buf, sizeof buf), GORT_ECLOSED);
	CHECK_ERR(gort_conn_port(a), GORT_ECLOSED);
	CHECK_OK(gort_conn_close(b));

	gort_conn *ln = test_listen(NULL);
	CHECK_OK(gort_conn_close(ln));
	CHECK_ERR(gort_accept(ln, &s), GORT_ECLOSED);
	CHECK_ERR(gort_conn_close(ln), GORT_ECLOSED);

	gort_conn *u;
	CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &u));
	CHECK_OK(gort_conn_close(u));
	CHECK_ERR(gort_conn_readfrom(u, buf, sizeof buf, NULL), GORT_ECLOSED);
	CHECK_ERR(gort_conn_close(u), GORT_ECLOSED);
}

static void test_reuse(void)
{
	gort_conn *a, *b, *c, *d;
	test_pair(&a, &b);
	int old = gort_conn_fd(a);
	CHECK_OK(gort_conn_close(a));
	/* the lowest free numbers go to the new pair: one is very likely old */
	test_pair(&c, &d);
	char buf[8];
	CHECK_ERR(gort_conn_write(a, "bad", 3), GORT_ECLOSED);
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), GORT_ECLOSED);
	CHECK_ERR(gort_conn_close(a), GORT_ECLOSED);
	CHECK_ERR(gort_conn_set_deadline(a, 1), GORT_ECLOSED);
	/* the new connection neither got "bad" nor a deadline nor a close */
	test_write_full(d, "good", 4);
	test_read_full(c, buf, 4);
	CHECK(memcmp(buf, "good", 4) == 0, "wrong bytes on the new connection");
	test_write_full(c, "fine", 4);
	test_read_full(d, buf, 4);
	CHECK(memcmp(buf, "fine", 4) == 0, "wrong bytes on the new connection (fd %d was %d)", gort_conn_fd(c),
	      old);
	CHECK_OK(gort_conn_close(b));
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(d));
}

static void test_half_close(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	test_write_full(a, "request", 7);
	CHECK_OK(gort_conn_close_write(a));
	char buf[16];
	test_read_full(b, buf, 7);
	CHECK(memcmp(buf, "request", 7) == 0, "wrong request");
	CHECK_ERR(gort_conn_read(b, buf, sizeof buf), 0); /* EOF */
	CHECK_ERR(gort_conn_read(b, buf, sizeof buf), 0);
	/* the other direction still works, both ways round */
	for (int i = 0; i < 100; i++) {
		char msg[16];
		int n = snprintf(msg, sizeof msg, "response %d", i);
		test_write_full(b, msg, (size_t)n);
		test_read_full(a, buf, (size_t)n);
		CHECK(memcmp(buf, msg, (size_t)n) == 0, "wrong response %d", i);
	}
	CHECK_ERR(gort_conn_write(a, "more", 4), -EPIPE);
	CHECK_OK(gort_conn_close(b));
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), 0);
	CHECK_OK(gort_conn_close(a));
}

static void pipe_writer(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char chunk[1000];
	for (int i = 0; i < 100; i++) {
		memset(chunk, 'a' + i % 26, sizeof chunk);
		CHECK(gort_write(fd, chunk, sizeof chunk) == (long)sizeof chunk, "pipe write");
	}
	gort_close(fd);
}

static void test_pipe_eof(void)
{
	int p[2];
	gort_conn *r;
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe");
	CHECK_OK(gort_conn_from_fd(p[0], &r));
	gort_go(pipe_writer, (void *)(intptr_t)p[1]);
	char buf[777];
	long total = 0, n;
	while ((n = gort_conn_read(r, buf, sizeof buf)) > 0) {
		for (long i = 0; i < n; i++)
			CHECK(buf[i] == 'a' + (total + i) / 1000 % 26, "byte %ld is %c", total + i, buf[i]);
		total += n;
	}
	CHECK_ERR(n, 0);
	CHECK(total == 100000, "read %ld of 100000 bytes", total);
	CHECK_OK(gort_conn_close(r));
}

static int test_main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_DFL);
	test_peer_gone_tcp();
	test_peer_gone_pipe();
	test_eof();
	test_close_reader();
	test_close_accept();
	test_close_writer();
	test_close_many();
	test_after_close();
	test_reuse();
	test_half_close();
	test_pipe_eof();
	return test_pass("net_close");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
