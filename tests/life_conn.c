/*
 * life_conn - Go's connection lifetimes (issue 17, item 1): Close is
 * idempotent and wakes every waiter; a closed connection's handle stays
 * safe to use forever, every call on it returning GORT_ECLOSED ("use of
 * closed network connection"), however many connections were opened and
 * closed since - also when its slot now holds a live connection.
 *
 *   stale_conn      a closed TCP conn after 10,000 other closes: read,
 *                   write, close, deadlines, addresses, fd all say
 *                   GORT_ECLOSED; the live conn now in its slot is untouched
 *   stale_listener  the same for a listener (accept) and a UDP socket
 *   stale_fileconn  the same for a gort_conn_from_fd pipe
 *   defer_close     defer close + an explicit close, then the handle again
 *   close_wakes     readers, writers and accepters blocked on a conn and a
 *                   listener; another goroutine closes both: each blocked
 *                   call returns GORT_ECLOSED exactly once (100 rounds)
 *   close_races     two goroutines close one conn at once, while a third
 *                   reads: exactly one close returns 0 (1,000 rounds)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sys/socket.h>

#include "net_util.h"

enum { OTHERS = 10000 };

/* churn opens and closes n connections (pipes: cheap, and through the same
 * slots as sockets), keeping none. */
static void churn(int n)
{
	for (int i = 0; i < n; i++) {
		int p[2];
		CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe2: %m");
		gort_conn *r, *w;
		CHECK_OK(gort_conn_from_fd(p[0], &r));
		CHECK_OK(gort_conn_from_fd(p[1], &w));
		CHECK_OK(gort_conn_close(r));
		CHECK_OK(gort_conn_close(w));
	}
}

/* every_call_closed: each call on c returns GORT_ECLOSED. */
static void every_call_closed(gort_conn *c)
{
	char buf[16], addr[64];
	struct sockaddr_storage from;
	CHECK_ERR(gort_conn_read(c, buf, sizeof buf), GORT_ECLOSED);
	CHECK_ERR(gort_conn_write(c, "x", 1), GORT_ECLOSED);
	CHECK_ERR(gort_conn_readfrom(c, buf, sizeof buf, &from), GORT_ECLOSED);
	CHECK_ERR(gort_conn_writeto(c, "x", 1, NULL, 0), GORT_ECLOSED);
	CHECK_ERR(gort_conn_close_write(c), GORT_ECLOSED);
	CHECK_ERR(gort_conn_set_deadline(c, 0), GORT_ECLOSED);
	CHECK_ERR(gort_conn_set_read_deadline(c, 0), GORT_ECLOSED);
	CHECK_ERR(gort_conn_set_write_deadline(c, 0), GORT_ECLOSED);
	CHECK_ERR(gort_conn_local_addr(c, addr, sizeof addr), GORT_ECLOSED);
	CHECK_ERR(gort_conn_remote_addr(c, addr, sizeof addr), GORT_ECLOSED);
	CHECK_ERR(gort_conn_port(c), GORT_ECLOSED);
	CHECK_ERR(gort_conn_fd(c), GORT_ECLOSED);
	gort_conn *got;
	CHECK_ERR(gort_accept(c, &got), GORT_ECLOSED);
	CHECK_ERR(gort_conn_close(c), GORT_ECLOSED);
}

static void stale_conn(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	CHECK_OK(gort_conn_close(a));
	every_call_closed(a);

	/* The next connection most likely takes a's slot: a stale a must not
	 * reach it. */
	gort_conn *c, *d;
	test_pair(&c, &d);
	every_call_closed(a);
	CHECK_OK(gort_conn_write(d, "ok", 2));
	char buf[2];
	test_read_full(c, buf, 2);
	CHECK(memcmp(buf, "ok", 2) == 0, "c read the wrong bytes");

	churn(OTHERS);
	every_call_closed(a);
	CHECK_OK(gort_conn_close(c));
	CHECK_OK(gort_conn_close(d));
	CHECK_ERR(gort_conn_close(c), GORT_ECLOSED);
	/* b's peer is gone: it reads the end of the stream, then closes once */
	CHECK(gort_conn_read(b, buf, sizeof buf) == 0, "b did not read EOF");
	CHECK_OK(gort_conn_close(b));
	every_call_closed(b);
}

static void stale_listener(void)
{
	int port;
	gort_conn *ln = test_listen(&port);
	CHECK_OK(gort_conn_close(ln));
	every_call_closed(ln);

	gort_conn *udp;
	CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &udp));
	CHECK_OK(gort_conn_close(udp));
	every_call_closed(udp);

	churn(OTHERS);
	every_call_closed(ln);
	every_call_closed(udp);
}

static void stale_fileconn(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC) == 0, "pipe2: %m");
	gort_conn *r, *w;
	CHECK_OK(gort_conn_from_fd(p[0], &r));
	CHECK_OK(gort_conn_from_fd(p[1], &w));
	CHECK_OK(gort_conn_write(w, "hi", 2));
	CHECK_OK(gort_conn_close(w));
	char buf[4];
	CHECK(gort_conn_read(r, buf, sizeof buf) == 2, "pipe read");
	CHECK_OK(gort_conn_close(r));
	every_call_closed(r);
	every_call_closed(w);
	churn(OTHERS);
	every_call_closed(r);
	every_call_closed(w);
}

/* serve: Go's `defer c.Close()` in a handler that also closes c itself. */
static int serve(gort_conn *c)
{
	GORT_FRAME_NORECOVER;
	gort_defer_close(c);
	char buf[8];
	long n = gort_conn_read(c, buf, sizeof buf);
	CHECK(n == 4 && memcmp(buf, "quit", 4) == 0, "serve read %ld", n);
	return gort_conn_close(c); /* the deferred one then finds it closed */
}

static void defer_close(void)
{
	for (int i = 0; i < 100; i++) {
		gort_conn *a, *b;
		test_pair(&a, &b);
		CHECK_OK(gort_conn_write(a, "quit", 4));
		CHECK_OK(serve(b));
		every_call_closed(b);
		CHECK_OK(gort_conn_close(a));
	}
	churn(OTHERS / 10);
}

/* ---- close wakes every waiter ----------------------------------------------
 *
 * The waiters are given time to park with yields, and every third round
 * with a 1 ms gort_sleep: with twelve goroutines parked here and other
 * processes busy on every CPU, that sleep once never returned (a
 * non-blocking netpoll took the break meant for the poller, which then
 * slept past the timer: netpoll_epoll.c keeps it for a wait now).
 */

enum { WAITERS = 4, ROUNDS = 100 };

typedef struct round {
	gort_conn *c, *ln;
	atomic_long started, eclosed, other;
	gort_waitgroup wg;
} round;

static void count(round *r, long err)
{
	if (err == GORT_ECLOSED)
		atomic_fetch_add(&r->eclosed, 1);
	else
		atomic_fetch_add(&r->other, 1);
}

static void blocked_reader(void *arg)
{
	round *r = arg;
	char buf[64];
	atomic_fetch_add(&r->started, 1);
	count(r, gort_conn_read(r->c, buf, sizeof buf));
	gort_waitgroup_done(&r->wg);
}

static void blocked_writer(void *arg)
{
	round *r = arg;
	enum { BIG = 8 << 20 }; /* far more than the socket buffers hold */
	char *buf = calloc(1, BIG);
	CHECK(buf != NULL, "calloc");
	atomic_fetch_add(&r->started, 1);
	count(r, gort_conn_write(r->c, buf, BIG));
	free(buf);
	gort_waitgroup_done(&r->wg);
}

static void blocked_accepter(void *arg)
{
	round *r = arg;
	gort_conn *got;
	atomic_fetch_add(&r->started, 1);
	count(r, gort_accept(r->ln, &got));
	gort_waitgroup_done(&r->wg);
}

static void closer(void *arg)
{
	round *r = arg;
	CHECK_OK(gort_conn_close(r->c));
	CHECK_OK(gort_conn_close(r->ln));
	gort_waitgroup_done(&r->wg);
}

static void close_wakes(void)
{
	for (int k = 0; k < ROUNDS; k++) {
		round r = {.wg = GORT_WAITGROUP_INIT};
		gort_conn *peer;
		test_pair(&r.c, &peer);
		int port;
		r.ln = test_listen(&port);
		gort_waitgroup_add(&r.wg, 3 * WAITERS);
		for (int i = 0; i < WAITERS; i++) {
			gort_go(blocked_reader, &r);
			gort_go(blocked_writer, &r);
			gort_go(blocked_accepter, &r);
		}
		test_wait(&r.started, 3 * WAITERS, "the waiters to start");
		for (int i = 0; i < k % 3 * 100; i++)
			gort_gosched(); /* most of them parked, mostly */
		if (k % 3 == 0)
			gort_sleep(GORT_MILLISECOND);
		gort_waitgroup_add(&r.wg, 1);
		gort_go(closer, &r);
		gort_waitgroup_wait(&r.wg);
		CHECK(atomic_load(&r.eclosed) == 3 * WAITERS && atomic_load(&r.other) == 0,
		      "round %d: %ld GORT_ECLOSED, %ld other results, of %d", k, atomic_load(&r.eclosed),
		      atomic_load(&r.other), 3 * WAITERS);
		every_call_closed(r.c);
		every_call_closed(r.ln);
		CHECK_OK(gort_conn_close(peer));
	}
}

/* ---- two closes racing --------------------------------------------------------- */

typedef struct race {
	gort_conn *c;
	atomic_long ok, eclosed, readerr;
	gort_waitgroup wg;
} race;

static void race_close(void *arg)
{
	race *r = arg;
	int err = gort_conn_close(r->c);
	CHECK(err == 0 || err == GORT_ECLOSED, "close: %s", gort_strerror(err));
	atomic_fetch_add(err == 0 ? &r->ok : &r->eclosed, 1);
	gort_waitgroup_done(&r->wg);
}

static void race_read(void *arg)
{
	race *r = arg;
	char buf[8];
	long n = gort_conn_read(r->c, buf, sizeof buf);
	CHECK(n == GORT_ECLOSED, "read: %ld", n);
	atomic_fetch_add(&r->readerr, 1);
	gort_waitgroup_done(&r->wg);
}

static void close_races(void)
{
	for (int k = 0; k < 1000; k++) {
		race r = {.wg = GORT_WAITGROUP_INIT};
		gort_conn *peer;
		test_pair(&r.c, &peer);
		gort_waitgroup_add(&r.wg, 3);
		gort_go(race_read, &r);
		gort_go(race_close, &r);
		gort_go(race_close, &r);
		gort_waitgroup_wait(&r.wg);
		CHECK(r.ok == 1 && r.eclosed == 1 && r.readerr == 1, "round %d: %ld ok, %ld GORT_ECLOSED", k,
		      atomic_load(&r.ok), atomic_load(&r.eclosed));
		CHECK_OK(gort_conn_close(peer));
	}
}

static int test_main(int argc, char **argv)
{
	test_nofile(4096);
	TEST_RUN(stale_conn);
	TEST_RUN(stale_listener);
	TEST_RUN(stale_fileconn);
	TEST_RUN(defer_close);
	TEST_RUN(close_wakes);
	TEST_RUN(close_races);
	return test_pass("life_conn");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
