/*
 * net_deadline - deadlines on accept, read and write (Go's SetDeadline).
 * Elapsed time is checked only loosely: a timed-out call returns no
 * earlier than its deadline, and within 2 s of it.
 *
 *   accept         accept on a listener with a read deadline and no client:
 *                  GORT_ETIMEOUT; the listener still accepts afterwards
 *   read           read with a deadline and a silent peer: GORT_ETIMEOUT,
 *                  again at once while the deadline is past; cleared, the
 *                  connection reads what the peer then writes
 *   write          small SO_SNDBUF/SO_RCVBUF, a peer that never reads:
 *                  writes block, and time out; the connection still writes
 *                  (and every byte written is read) once the deadline is gone
 *   past           a deadline already past fails read (even with data
 *                  waiting), write and accept at once, without touching the
 *                  descriptor; the data is still there after clearing it
 *   directions     a past read deadline leaves writing alone and vice versa;
 *                  gort_conn_set_deadline sets both
 *   extend         a later deadline set while a reader is blocked extends
 *                  its wait: data written after the first deadline arrives;
 *                  and moved to a nearer time, it times out then
 *   cleared        a deadline cleared while a reader is blocked never fires
 *   wake_reader    a deadline set from another goroutine (past, or soon)
 *                  wakes a reader blocked with no deadline
 *   wake_writer    the same for a writer blocked on full buffers
 *   data_first     data that arrives before the deadline is read, no timeout
 *   dial_timeout   gort_dial_timeout to a listener connects; to a closed
 *                  port fails with -ECONNREFUSED, not a timeout
 */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <sys/socket.h>

#include "net_util.h"

/* A reader's outcome, sent back on a channel. */
typedef struct result {
	long r;
	int64_t end;
	char data[16];
} result;

static void reader(void *arg)
{
	void **a = arg;
	gort_conn *c = a[0];
	result res = {0};
	res.r = gort_conn_read(c, res.data, sizeof res.data - 1);
	res.end = gort_nanotime();
	gort_chan_send(a[1], &res);
}

/* spawn_reader: a goroutine reads c once and sends its result on the
 * returned channel. */
static gort_chan *spawn_reader(gort_conn *c)
{
	gort_chan *ch = gort_chan_make(sizeof(result), 1);
	void *args[2] = {c, ch};
	gort_go_args(reader, args, sizeof args);
	return ch;
}

static result recv_result(gort_chan *ch, const char *what)
{
	result res;
	CHECK(gort_chan_recv(ch, &res), "%s: channel closed", what);
	gort_chan_free(ch);
	return res;
}

static void small_buffers(gort_conn *w, gort_conn *r)
{
	int small = 65536; /* smaller stalls loopback TCP on window probes (kernel, not gort) */
	CHECK(setsockopt(gort_conn_fd(w), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0, "SO_SNDBUF");
	CHECK(setsockopt(gort_conn_fd(r), SOL_SOCKET, SO_RCVBUF, &small, sizeof small) == 0, "SO_RCVBUF");
}

/* fill writes until a write times out (the deadline must already be set);
 * returns the bytes reported written by the writes that succeeded. */
static long fill(gort_conn *w, int64_t *end)
{
	static char chunk[16384];
	long total = 0;
	for (;;) {
		long r = gort_conn_write(w, chunk, sizeof chunk);
		if (r < 0) {
			*end = gort_nanotime();
			CHECK_ERR(r, GORT_ETIMEOUT);
			return total;
		}
		CHECK(r == (long)sizeof chunk, "short write %ld", r);
		total += r;
		CHECK(total < 64L << 20, "wrote 64 MiB to a peer that never reads without blocking");
	}
}

static void test_accept(void)
{
	int port;
	gort_conn *ln = test_listen(&port), *c, *s;
	int64_t t0 = gort_nanotime(), d = t0 + 50 * MS;
	CHECK_OK(gort_conn_set_read_deadline(ln, d));
	CHECK_ERR(gort_accept(ln, &s), GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d, gort_nanotime());
	CHECK_ERR(gort_accept(ln, &s), GORT_ETIMEOUT); /* still past */
	CHECK_OK(gort_conn_set_read_deadline(ln, 0));
	char addr[64];
	test_addr(addr, sizeof addr, port);
	CHECK_OK(gort_dial("tcp", addr, &c));
	CHECK_OK(gort_accept(ln, &s));
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));
}

static void test_read(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	char buf[16];
	int64_t t0 = gort_nanotime(), d = t0 + 50 * MS;
	CHECK_OK(gort_conn_set_read_deadline(a, d));
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d, gort_nanotime());
	CHECK_ERR(gort_conn_read(a, buf, sizeof buf), GORT_ETIMEOUT);
	CHECK_OK(gort_conn_set_read_deadline(a, 0));
	test_write_full(b, "hello", 5);
	test_read_full(a, buf, 5);
	CHECK(memcmp(buf, "hello", 5) == 0, "read the wrong bytes after a timeout");
	/* and the other direction never noticed */
	test_write_full(a, "back", 4);
	test_read_full(b, buf, 4);
	CHECK(memcmp(buf, "back", 4) == 0, "wrong bytes");
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

typedef struct drain_args {
	gort_conn *c;
	gort_chan *done; /* long: bytes read until EOF */
} drain_args;

static void drain(void *arg)
{
	drain_args *a = arg;
	char buf[8192];
	long total = 0, r;
	while ((r = gort_conn_read(a->c, buf, sizeof buf)) > 0)
		total += r;
	CHECK(r == 0, "drain: %ld (%s)", r, gort_strerror(r));
	gort_chan_send(a->done, &total);
}

static void test_write(void)
{
	gort_conn *w, *r;
	test_pair(&w, &r);
	small_buffers(w, r);
	int64_t t0 = gort_nanotime(), d = t0 + 100 * MS, end;
	CHECK_OK(gort_conn_set_write_deadline(w, d));
	long ok_bytes = fill(w, &end);
	CHECK_ELAPSED(t0, d, end);
	CHECK_ERR(gort_conn_write(w, "x", 1), GORT_ETIMEOUT); /* still past */
	/* Usable afterwards: clear the deadline, let the peer drain, write on. */
	CHECK_OK(gort_conn_set_write_deadline(w, 0));
	gort_chan *done = gort_chan_make(sizeof(long), 1);
	gort_go_with(drain, drain_args, .c = r, .done = done);
	static char more[100000];
	test_write_full(w, more, sizeof more);
	CHECK_OK(gort_conn_close_write(w));
	long got;
	CHECK(gort_chan_recv(done, &got), "drain result");
	/* The timed-out write may have sent part of its chunk before it gave up. */
	CHECK(got >= ok_bytes + (long)sizeof more && got < ok_bytes + (long)sizeof more + 16384,
	      "the reader got %ld bytes, the writes reported %ld + %zu", got, ok_bytes, sizeof more);
	gort_chan_free(done);
	CHECK_OK(gort_conn_close(w));
	CHECK_OK(gort_conn_close(r));
}

static void test_past(void)
{
	gort_conn *a, *b, *s;
	test_pair(&a, &b);
	test_write_full(b, "data", 4);
	char buf[8];
	/* Wait until the data is surely there (fd_wait does not consume it). */
	CHECK_ERR(gort_fd_wait(gort_conn_fd(a), GORT_READABLE, 0), GORT_READABLE);
	int64_t past[] = {1, gort_nanotime() - 1};
	for (int i = 0; i < 2; i++) {
		CHECK_OK(gort_conn_set_read_deadline(a, past[i]));
		CHECK_ERR(gort_conn_read(a, buf, sizeof buf), GORT_ETIMEOUT);
		CHECK_OK(gort_conn_set_write_deadline(a, past[i]));
		CHECK_ERR(gort_conn_write(a, "x", 1), GORT_ETIMEOUT);
	}
	CHECK_OK(gort_conn_set_deadline(a, 0));
	test_read_full(a, buf, 4);
	CHECK(memcmp(buf, "data", 4) == 0, "the data waiting was lost");
	/* the timed-out write sent nothing */
	test_write_full(a, "y", 1);
	test_read_full(b, buf, 1);
	CHECK(buf[0] == 'y', "the peer read %c, want y (a timed-out write sent a byte)", buf[0]);

	int port;
	gort_conn *ln = test_listen(&port);
	CHECK_OK(gort_conn_set_read_deadline(ln, gort_nanotime() - 1));
	CHECK_ERR(gort_accept(ln, &s), GORT_ETIMEOUT);
	CHECK_OK(gort_conn_close(ln));
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static void test_directions(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	char buf[8];
	CHECK_OK(gort_conn_set_read_deadline(a, 1));
	test_write_full(a, "w", 1); /* writing is unaffected */
	test_read_full(b, buf, 1);
	CHECK_OK(gort_conn_set_read_deadline(a, 0));
	CHECK_OK(gort_conn_set_write_deadline(a, 1));
	test_write_full(b, "r", 1);
	test_read_full(a, buf, 1); /* reading is unaffected */
	CHECK(buf[0] == 'r', "wrong byte");
	CHECK_OK(gort_conn_set_write_deadline(a, 0));
	CHECK_OK(gort_conn_set_deadline(a, 1));
	CHECK_ERR(gort_conn_read(a, buf, 1), GORT_ETIMEOUT);
	CHECK_ERR(gort_conn_write(a, buf, 1), GORT_ETIMEOUT);
	CHECK_OK(gort_conn_set_deadline(a, 0));
	test_write_full(a, "z", 1);
	test_read_full(b, buf, 1);
	CHECK(buf[0] == 'z', "wrong byte");
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/*
 * Extended past the first deadline, the reader gets data written after it.
 * The extension must come before the first deadline: on a machine loaded
 * enough that the 10 ms sleep took 100, it did not, and the reader's
 * timeout proves nothing - try again on a fresh pair (false).
 */
static bool extend_try(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	int64_t t0 = gort_nanotime(), d1 = t0 + 100 * MS;
	CHECK_OK(gort_conn_set_read_deadline(a, d1));
	gort_chan *ch = spawn_reader(a);
	gort_sleep(10 * MS);
	int64_t extended = gort_nanotime();
	CHECK_OK(gort_conn_set_read_deadline(a, extended + 30 * GORT_SECOND));
	test_sleep_until(d1 + 50 * MS);
	test_write_full(b, "late", 4);
	result res = recv_result(ch, "extended reader");
	bool in_time = extended < d1 - 20 * MS;
	if (in_time) {
		CHECK(res.r == 4 && memcmp(res.data, "late", 4) == 0, "the reader got %ld (%s), want \"late\"",
		      res.r, gort_strerror(res.r));
		CHECK_AFTER(res.end, t0, d1 - t0, "the reader returned before the data was written");
	}
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
	return in_time;
}

static void test_extend(void)
{
	int tries = 0;
	while (!extend_try())
		CHECK(++tries < 10, "10 tries could not extend a deadline 90 ms before it expired");

	gort_conn *a, *b;
	test_pair(&a, &b);
	int64_t t0;
	gort_chan *ch;
	result res;
	/* Moved to a nearer time (still after the first), it times out then. */
	t0 = gort_nanotime();
	CHECK_OK(gort_conn_set_read_deadline(a, t0 + 30 * GORT_SECOND));
	ch = spawn_reader(a);
	gort_sleep(10 * MS);
	int64_t d2 = gort_nanotime() + 80 * MS;
	CHECK_OK(gort_conn_set_read_deadline(a, d2));
	res = recv_result(ch, "moved reader");
	CHECK_ERR(res.r, GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d2, res.end);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

/*
 * Cleared before it expired, the deadline no longer applies: the reader
 * gets data written after it.  As in extend_try, a machine too loaded to
 * clear it in time proves nothing: false, and a fresh pair.
 */
static bool cleared_try(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	int64_t d = gort_nanotime() + 50 * MS;
	CHECK_OK(gort_conn_set_read_deadline(a, d));
	gort_chan *ch = spawn_reader(a);
	gort_sleep(5 * MS);
	int64_t cleared = gort_nanotime();
	CHECK_OK(gort_conn_set_read_deadline(a, 0));
	test_sleep_until(d + 50 * MS);
	test_write_full(b, "ok", 2);
	result res = recv_result(ch, "reader with a cleared deadline");
	bool in_time = cleared < d - 20 * MS;
	if (in_time) {
		CHECK(res.r == 2 && memcmp(res.data, "ok", 2) == 0, "the reader got %ld (%s)", res.r,
		      gort_strerror(res.r));
		CHECK(res.end >= d, "the reader returned before the data");
	}
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
	return in_time;
}

static void test_cleared(void)
{
	int tries = 0;
	while (!cleared_try())
		CHECK(++tries < 10, "10 tries could not clear a deadline 20 ms before it expired");
}

static void test_wake_reader(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	/* a deadline already past, set from another goroutine */
	gort_chan *ch = spawn_reader(a);
	gort_sleep(10 * MS);
	CHECK_OK(gort_conn_set_read_deadline(a, gort_nanotime() - 1));
	result res = recv_result(ch, "reader woken by a past deadline");
	CHECK_ERR(res.r, GORT_ETIMEOUT);
	/* a deadline soon, set from another goroutine */
	CHECK_OK(gort_conn_set_read_deadline(a, 0));
	int64_t t0 = gort_nanotime();
	ch = spawn_reader(a);
	gort_sleep(5 * MS);
	int64_t d = gort_nanotime() + 40 * MS;
	CHECK_OK(gort_conn_set_deadline(a, d));
	res = recv_result(ch, "reader woken by a deadline");
	CHECK_ERR(res.r, GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d, res.end);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static void blocked_writer(void *arg)
{
	void **a = arg;
	int64_t end;
	long n = fill(a[0], &end);
	(void)n;
	gort_chan_send(a[1], &end);
}

static void test_wake_writer(void)
{
	gort_conn *w, *r;
	test_pair(&w, &r);
	small_buffers(w, r);
	gort_chan *ch = gort_chan_make(sizeof(int64_t), 1);
	void *args[2] = {w, ch};
	gort_go_args(blocked_writer, args, sizeof args);
	gort_sleep(20 * MS);
	int64_t d = gort_nanotime() + 30 * MS, end;
	CHECK_OK(gort_conn_set_write_deadline(w, d));
	CHECK(gort_chan_recv(ch, &end), "writer result");
	CHECK(end >= d, "the writer timed out %lld ns before its deadline", (long long)(d - end));
	gort_chan_free(ch);
	CHECK_OK(gort_conn_close(w));
	CHECK_OK(gort_conn_close(r));
}

static void test_data_first(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	int64_t d = gort_nanotime() + 10 * GORT_SECOND;
	CHECK_OK(gort_conn_set_read_deadline(a, d));
	gort_chan *ch = spawn_reader(a);
	gort_sleep(5 * MS);
	test_write_full(b, "first", 5);
	result res = recv_result(ch, "reader");
	CHECK(res.r == 5 && memcmp(res.data, "first", 5) == 0, "got %ld (%s)", res.r, gort_strerror(res.r));
	CHECK(res.end < d, "the reader waited for its deadline");
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static void test_dial_timeout(void)
{
	int port;
	gort_conn *ln = test_listen(&port), *c, *s;
	char addr[64];
	test_addr(addr, sizeof addr, port);
	CHECK_OK(gort_dial_timeout("tcp", addr, 5 * GORT_SECOND, &c));
	CHECK_OK(gort_accept(ln, &s));
	test_write_full(c, "hi", 2);
	char buf[2];
	test_read_full(s, buf, 2);
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));
	CHECK_ERR(gort_dial_timeout("tcp", addr, 5 * GORT_SECOND, &c), -ECONNREFUSED);
}

static int test_main(int argc, char **argv)
{
	test_accept();
	test_read();
	test_write();
	test_past();
	test_directions();
	test_extend();
	test_cleared();
	test_wake_reader();
	test_wake_writer();
	test_data_first();
	test_dial_timeout();
	return test_pass("net_deadline");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
