/*
 * die_net - net programs that must die with "fatal error: all goroutines
 * are asleep - deadlock!", exit status 2.
 *
 * Goroutines waiting in the netpoller keep the detector quiet (I/O can
 * always arrive: net_nodeadlock checks that side), but only while they wait.
 * Open descriptors with nobody waiting on them, and waits that are over, do
 * not count:
 *   idle_conns  a listener and a connected pair are open, registered with
 *               the poller, and nobody waits on them; main receives from a
 *               channel nobody sends on
 *   after_io    goroutines have waited in the netpoller and been woken every
 *               way there is - data, a deadline, a close, a deadline set from
 *               another goroutine, gort_fd_wait (ready and timed out), accept
 *               - and have ended; then main receives from a channel nobody
 *               sends on (if a wake-up path leaked the count of I/O waiters,
 *               the detector would stay silent and this would hang)
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>

#include "../net_util.h"

static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static GORT_NORETURN void block_main(void)
{
	gort_chan *never = gort_chan_make(sizeof(int), 0);
	gort_chan_recv(never, NULL);
	fprintf(stderr, "die_net: main woke up\n");
	exit(1);
}

static void read_one(void *arg)
{
	char c;
	long r = gort_conn_read(arg, &c, 1);
	CHECK(r == 1 || r == GORT_ETIMEOUT || r == GORT_ECLOSED, "read: %ld (%s)", r, gort_strerror(r));
	gort_waitgroup_done(&wg);
}

static void fd_wait_one(void *arg)
{
	int r = gort_fd_wait((int)(intptr_t)arg, GORT_READABLE, 0);
	CHECK(r == GORT_READABLE, "fd_wait: %d", r);
	gort_waitgroup_done(&wg);
}

static void accept_one(void *arg)
{
	gort_conn *s;
	CHECK_OK(gort_accept(arg, &s));
	CHECK_OK(gort_conn_close(s));
	gort_waitgroup_done(&wg);
}

static void after_io(void)
{
	gort_conn *a[4], *b[4];
	for (int i = 0; i < 4; i++)
		test_pair(&a[i], &b[i]);
	int p[2];
	CHECK(pipe2(p, O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
	int port;
	gort_conn *ln = test_listen(&port);

	gort_waitgroup_add(&wg, 6);
	gort_go(read_one, a[0]);                                         /* data */
	CHECK_OK(gort_conn_set_read_deadline(a[1], gort_nanotime() + 10 * MS));
	gort_go(read_one, a[1]);                                         /* deadline */
	gort_go(read_one, a[2]);                                         /* close */
	gort_go(read_one, a[3]);                                         /* deadline from here */
	gort_go(fd_wait_one, (void *)(intptr_t)p[0]);                    /* fd_wait */
	gort_go(accept_one, ln);                                         /* accept */
	gort_sleep(20 * MS);
	test_write_full(b[0], "x", 1);
	CHECK_OK(gort_conn_close(a[2]));
	CHECK_OK(gort_conn_set_read_deadline(a[3], gort_nanotime() - 1));
	CHECK(write(p[1], "y", 1) == 1, "write");
	char addr[64];
	test_addr(addr, sizeof addr, port);
	gort_conn *c;
	CHECK_OK(gort_dial("tcp", addr, &c));
	CHECK_ERR(gort_fd_wait(p[1], GORT_READABLE, gort_nanotime() + 5 * MS), GORT_ETIMEOUT);
	gort_waitgroup_wait(&wg);
	/* the connections stay open, idle */
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_net idle_conns|after_io");
	if (strcmp(argv[1], "idle_conns") == 0) {
		gort_conn *a, *b, *u;
		test_pair(&a, &b);
		test_listen(NULL);
		CHECK_OK(gort_listen_packet("udp", "127.0.0.1:0", &u));
		block_main();
	}
	CHECK(strcmp(argv[1], "after_io") == 0, "unknown mode %s", argv[1]);
	after_io();
	block_main();
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
