/*
 * net_eof.c - the end of a stream is never slept through.
 *
 * A reader parks; the peer writes a few bytes and closes its side at once,
 * so that the data and the FIN are both queued - and their one epoll edge
 * taken by the parked reader - before the reader runs.  Its read then
 * returns the data and consumes the FIN in one short read, and no edge is
 * left to come.  The next read must still return 0 (EOF): a read that
 * parked on "nothing arrived since a short read" would sleep forever here
 * (and the test would hit its timeout).  The same for an error (RST) queued
 * behind data.  Repeated, at GOMAXPROCS=1 and 2.
 */
#include <sys/socket.h>

#include "net_util.h"

enum { ROUNDS = 200 };

static long run_round(bool reset)
{
	gort_conn *w, *r;
	test_pair(&w, &r);
	gort_chan *done = gort_chan_make(sizeof(long), 1);
	gort_go_with(test_read_to_end, test_reader_args, .c = r, .done = done);
	gort_gosched(); /* let the reader park first (on one P it runs now) */
	test_write_full(w, "hello", 5);
	if (reset) {
		/* SO_LINGER 0: close sends RST, not FIN */
		struct linger lg = {1, 0};
		setsockopt(gort_conn_fd(w), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		CHECK_OK(gort_conn_close(w));
	} else {
		CHECK_OK(gort_conn_close_write(w));
	}
	long result;
	CHECK(gort_chan_recv(done, &result), "reader result");
	gort_chan_free(done);
	if (!reset)
		CHECK_OK(gort_conn_close(w));
	CHECK_OK(gort_conn_close(r));
	return result;
}

static int test_main(int argc, char **argv)
{
	for (int i = 0; i < ROUNDS; i++) {
		long got = run_round(false);
		CHECK(got == 5, "round %d: FIN after data: reader got %ld (%s)", i, got,
		      got < 0 ? gort_strerror(got) : "bytes");
	}
	for (int i = 0; i < ROUNDS; i++) {
		long got = run_round(true);
		/* The data may or may not be read before the RST discards it. */
		CHECK(got == 5 || got == -ECONNRESET, "round %d: RST after data: reader got %ld (%s)", i,
		      got, got < 0 ? gort_strerror(got) : "bytes");
	}
	return test_pass("net_eof");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
