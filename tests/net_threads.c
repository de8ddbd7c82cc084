/*
 * net_threads - goroutines blocked in I/O cost no threads.
 *
 * 2,000 goroutines each block reading an idle loopback connection (and 500
 * more in gort_fd_wait on idle pipes); while they are all parked, the
 * process has fewer than 20 threads (GOMAXPROCS=2: the Ms that run Ps,
 * sysmon, and a few spare Ms - nowhere near one per waiter).  Then the peer
 * of every connection writes that reader's own id and every pipe gets a
 * byte: every waiter wakes exactly once with its own data.
 */
#define _GNU_SOURCE
#include <fcntl.h>

#include "net_util.h"

enum { READERS = 2000, FDWAITERS = 500, MAX_THREADS = 20 };

static int readers = READERS;
static atomic_long started, woke;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

typedef struct rargs {
	gort_conn *c;
	int id;
} rargs;

static void reader(void *arg)
{
	rargs *a = arg;
	test_done(&started);
	int got = -1;
	test_read_full(a->c, &got, sizeof got);
	CHECK(got == a->id, "reader %d got id %d", a->id, got);
	CHECK_OK(gort_conn_close(a->c));
	atomic_fetch_add(&woke, 1);
	gort_waitgroup_done(&wg);
}

static void fdwaiter(void *arg)
{
	int fd = (int)(intptr_t)arg;
	test_done(&started);
	CHECK_ERR(gort_fd_wait(fd, GORT_READABLE, 0), GORT_READABLE);
	char c;
	CHECK(read(fd, &c, 1) == 1 && c == '!', "pipe read");
	atomic_fetch_add(&woke, 1);
	gort_waitgroup_done(&wg);
}

static int test_main(int argc, char **argv)
{
	long want = 2 * READERS + 2 * FDWAITERS + 100;
	long limit = test_nofile(want);
	if (limit < want) {
		readers = (int)(limit - 2 * FDWAITERS - 100) / 2;
		printf("net_threads: RLIMIT_NOFILE is %ld: %d readers instead of %d\n", limit, readers, READERS);
	}
	CHECK(readers >= 100, "too few descriptors (%ld) for the test", limit);
	int threads0 = test_threads();

	int port;
	gort_conn *ln = test_listen(&port);
	char addr[64];
	test_addr(addr, sizeof addr, port);
	gort_conn **peers = calloc((size_t)readers, sizeof *peers);
	int (*pipes)[2] = calloc(FDWAITERS, sizeof *pipes);
	CHECK(peers != NULL && pipes != NULL, "calloc");
	gort_waitgroup_add(&wg, readers + FDWAITERS);
	for (int i = 0; i < readers; i++) {
		gort_conn *c;
		CHECK_OK(gort_dial("tcp", addr, &peers[i]));
		CHECK_OK(gort_accept(ln, &c));
		gort_go_with(reader, rargs, .c = c, .id = i);
	}
	for (int i = 0; i < FDWAITERS; i++) {
		CHECK(pipe2(pipes[i], O_CLOEXEC | O_NONBLOCK) == 0, "pipe");
		gort_go(fdwaiter, (void *)(intptr_t)pipes[i][0]);
	}
	test_wait(&started, readers + FDWAITERS, "the waiters to start");
	gort_sleep(50 * MS); /* let them all park (the count below holds either way) */
	CHECK(atomic_load(&woke) == 0, "%ld waiters woke with nothing to read", atomic_load(&woke));
	CHECK(gort_numgoroutine() >= readers + FDWAITERS + 1, "%d goroutines", gort_numgoroutine());
	int threads = test_threads();
	CHECK(threads < MAX_THREADS, "%d threads with %d goroutines in I/O wait (%d at the start)", threads,
	      readers + FDWAITERS, threads0);

	for (int i = 0; i < readers; i++)
		test_write_full(peers[i], &i, sizeof i);
	for (int i = 0; i < FDWAITERS; i++)
		CHECK(write(pipes[i][1], "!", 1) == 1, "pipe write");
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&woke) == readers + FDWAITERS, "%ld of %d woke", atomic_load(&woke), readers + FDWAITERS);
	threads = test_threads();
	CHECK(threads < MAX_THREADS, "%d threads after the wake-up", threads);
	for (int i = 0; i < readers; i++)
		CHECK_OK(gort_conn_close(peers[i]));
	for (int i = 0; i < FDWAITERS; i++) {
		close(pipes[i][0]);
		close(pipes[i][1]);
	}
	CHECK_OK(gort_conn_close(ln));
	free(peers);
	free(pipes);
	return test_pass("net_threads");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
