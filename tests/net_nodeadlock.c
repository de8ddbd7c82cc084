/*
 * net_nodeadlock - the deadlock detector stays silent while goroutines wait
 * for I/O: as in Go, I/O can always arrive, so "every goroutine blocked,
 * some in I/O" is not a deadlock.  Each case leaves every goroutine parked
 * (in the netpoller, or on a channel or WaitGroup behind one that is) until
 * a sleeper or a timer makes the I/O happen; the test passes by finishing
 * (exit 0) instead of dying with "all goroutines are asleep".  No watchdog
 * timers here: a pending timer alone would keep the detector quiet.
 *
 *   accept_sleeper  main blocks in accept; goroutine 2 sleeps 30 ms, dials
 *                   and writes; main reads it
 *   read_afterfunc  main blocks reading; an AfterFunc (30 ms) writes to the
 *                   peer
 *   chain           main waits on a WaitGroup; 10 goroutines block reading;
 *                   a sleeper writes to the first, and each reader passes
 *                   the byte to the next connection before it is Done
 *   fd_wait         main blocks in gort_fd_wait on a pipe a sleeper writes to
 *   deadline_only   main blocks reading with a 30 ms deadline and nothing
 *                   else in the program: the deadline's timer wakes it
 *   io_only         after the sleeper has dialled, no timer is pending at
 *                   all while main waits for the second message, which the
 *                   dialler's goroutine sends after blocking in a read of
 *                   its own that main's first reply completes
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "net_util.h"

static char addr[64];

static void dial_after_sleep(void *arg)
{
	gort_sleep(30 * MS);
	gort_conn *c;
	CHECK_OK(gort_dial("tcp", addr, &c));
	test_write_full(c, "hello", 5);
	CHECK_OK(gort_conn_close(c));
}

static void test_accept_sleeper(void)
{
	int port;
	gort_conn *ln = test_listen(&port), *s;
	test_addr(addr, sizeof addr, port);
	gort_go(dial_after_sleep, NULL);
	CHECK_OK(gort_accept(ln, &s));
	char buf[8];
	test_read_full(s, buf, 5);
	CHECK(memcmp(buf, "hello", 5) == 0, "wrong bytes");
	CHECK_ERR(gort_conn_read(s, buf, sizeof buf), 0);
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));
}

static void write_byte(void *arg)
{
	test_write_full(arg, "a", 1);
}

static void test_read_afterfunc(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	gort_timer *t = gort_afterfunc(30 * MS, write_byte, b);
	char c;
	test_read_full(a, &c, 1);
	CHECK(c == 'a', "wrong byte");
	gort_timer_stop_wait(t); /* write_byte may still be on its way out of its write */
	gort_timer_free(t);
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

enum { CHAIN = 10 };
static gort_conn *chain_in[CHAIN], *chain_out[CHAIN];
static gort_waitgroup chain_wg = GORT_WAITGROUP_INIT;

static void chain_link(void *arg)
{
	int i = (int)(intptr_t)arg;
	char c;
	test_read_full(chain_in[i], &c, 1);
	CHECK(c == 'a' + i, "link %d got %c", i, c);
	if (i + 1 < CHAIN) {
		c++;
		test_write_full(chain_out[i + 1], &c, 1);
	}
	gort_waitgroup_done(&chain_wg);
}

static void chain_start(void *arg)
{
	gort_sleep(30 * MS);
	test_write_full(chain_out[0], "a", 1);
}

static void test_chain(void)
{
	for (int i = 0; i < CHAIN; i++)
		test_pair(&chain_out[i], &chain_in[i]);
	gort_waitgroup_add(&chain_wg, CHAIN);
	for (int i = 0; i < CHAIN; i++)
		gort_go(chain_link, (void *)(intptr_t)i);
	gort_go(chain_start, NULL);
	gort_waitgroup_wait(&chain_wg);
	for (int i = 0; i < CHAIN; i++) {
		CHECK_OK(gort_conn_close(chain_in[i]));
		CHECK_OK(gort_conn_close(chain_out[i]));
	}
}

static gort_waitgroup writer_done = GORT_WAITGROUP_INIT;

static void pipe_after_sleep(void *arg)
{
	gort_sleep(30 * MS);
	CHECK(write((int)(intptr_t)arg, "p", 1) == 1, "write");
	gort_waitgroup_done(&writer_done);
}

static void test_fd_wait(void)
{
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	gort_waitgroup_add(&writer_done, 1);
	gort_go(pipe_after_sleep, (void *)(intptr_t)p[1]);
	CHECK_ERR(gort_fd_wait(p[0], GORT_READABLE, 0), GORT_READABLE);
	/* the write is done (the pipe is readable), but the writer may not have
	 * left its call: close the descriptor once it has */
	gort_waitgroup_wait(&writer_done);
	close(p[0]);
	close(p[1]);
}

static void test_deadline_only(void)
{
	gort_conn *a, *b;
	test_pair(&a, &b);
	int64_t t0 = gort_nanotime(), d = t0 + 30 * MS;
	CHECK_OK(gort_conn_set_read_deadline(a, d));
	char c;
	CHECK_ERR(gort_conn_read(a, &c, 1), GORT_ETIMEOUT);
	CHECK_ELAPSED(t0, d, gort_nanotime());
	CHECK_OK(gort_conn_close(a));
	CHECK_OK(gort_conn_close(b));
}

static void ping_pong_peer(void *arg)
{
	gort_sleep(20 * MS);
	gort_conn *c;
	CHECK_OK(gort_dial("tcp", addr, &c));
	test_write_full(c, "1", 1);
	char x;
	test_read_full(c, &x, 1); /* parked in I/O, with no timer anywhere */
	CHECK(x == 'r', "wrong reply");
	test_write_full(c, "2", 1);
	CHECK_OK(gort_conn_close(c));
}

static void test_io_only(void)
{
	int port;
	gort_conn *ln = test_listen(&port), *s;
	test_addr(addr, sizeof addr, port);
	gort_go(ping_pong_peer, NULL);
	CHECK_OK(gort_accept(ln, &s));
	char x;
	test_read_full(s, &x, 1);
	CHECK(x == '1', "wrong first byte");
	test_write_full(s, "r", 1);
	test_read_full(s, &x, 1);
	CHECK(x == '2', "wrong second byte");
	CHECK_OK(gort_conn_close(s));
	CHECK_OK(gort_conn_close(ln));
}

static int test_main(int argc, char **argv)
{
	test_accept_sleeper();
	test_read_afterfunc();
	test_chain();
	test_fd_wait();
	test_deadline_only();
	test_io_only();
	return test_pass("net_nodeadlock");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
