/*
 * net_reuse.c - descriptors closed while the poller still holds their
 * events, and their pollDescs reused at once.
 *
 * Each worker, over and over: a socket pair; a reader goroutine reads one
 * side to EOF while the worker writes a few bytes to the other and closes
 * it at once, so that an event (data, hang-up) is queued for the reader's
 * descriptor; then the reader's side is closed, and the next pair reuses
 * its pollDesc.  Meanwhile other Ms poll: one of them may have taken that
 * event from the kernel before the close and be about to apply it.  An
 * event applied to the freed pollDesc made the next pollalloc die with
 * "descriptor still has a waiter"; one applied to its next user would wake
 * a goroutine that waits for something else.  Every reader must get
 * exactly the bytes written, then EOF, and every round must finish.
 *
 * The same churn keeps goroutines coming and going between I/O waits and
 * the run queues, with the one M at GOMAXPROCS=1 going idle often: the
 * deadlock detector must never fire (it once found a goroutine that sysmon
 * had just taken from the poller "runnable" with every M idle).
 */
#include <sys/socket.h>
#include <unistd.h>

#include "net_util.h"

enum { WORKERS = 4, ROUNDS = 2000 };

static atomic_long rounds_done;

typedef struct worker_args {
	int id;
	gort_waitgroup *wg;
} worker_args;

static void worker(void *arg)
{
	worker_args *a = arg;
	int id = a->id;
	gort_chan *done = gort_chan_make(sizeof(long), 1);
	for (int i = 0; i < ROUNDS; i++) {
		int sv[2];
		CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0, "socketpair: %s",
		      strerror(errno));
		gort_conn *w, *r;
		CHECK_OK(gort_conn_from_fd(sv[0], &w));
		CHECK_OK(gort_conn_from_fd(sv[1], &r));
		gort_go_with(test_read_to_end, test_reader_args, .c = r, .done = done);
		if (i % 2 == 0)
			gort_gosched(); /* half the time the reader parks first */
		long n = 1 + (id + i) % 7;
		test_write_full(w, "abcdefg", (size_t)n);
		CHECK_OK(gort_conn_close(w));
		long got;
		CHECK(gort_chan_recv(done, &got), "reader result");
		CHECK(got == n, "worker %d round %d: reader got %ld (%s), want %ld bytes then EOF", id, i,
		      got, got < 0 ? gort_strerror(got) : "bytes", n);
		CHECK_OK(gort_conn_close(r));
		atomic_fetch_add(&rounds_done, 1);
	}
	gort_chan_free(done);
	gort_waitgroup_done(a->wg);
}

static int test_main(int argc, char **argv)
{
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	for (int i = 0; i < WORKERS; i++) {
		gort_waitgroup_add(&wg, 1);
		gort_go_with(worker, worker_args, .id = i, .wg = &wg);
	}
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&rounds_done) == WORKERS * ROUNDS, "%ld rounds of %d",
	      atomic_load(&rounds_done), WORKERS * ROUNDS);
	return test_pass("net_reuse");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
