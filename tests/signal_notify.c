/*
 * signal_notify - signals as channels (src/sigqueue.c, Go's os/signal).
 *
 *   counted   SIGUSR1 raised N times, each received on the channel before
 *             the next: exactly N deliveries, and the handler the program
 *             installed before gort_signal_notify ran N times too (chained)
 *   drops     a channel of capacity 1 that nobody reads, and a big one, both
 *             asking for SIGUSR2, raised 3 times (each seen on the big one):
 *             the small one holds 1, the other 2 were dropped, as in Go
 *   process   SIGUSR1 sent to the process with kill() (any thread may take
 *             it), one in flight at a time: all received, all chained
 *   stop      after gort_signal_stop, the channel gets nothing more, while
 *             another channel asking for the same signal still does
 *   reset     gort_signal_reset: the program's own handler back alone
 *   ignore    gort_signal_ignore: SIG_IGN, gort_signal_ignored says so
 *   shutdown  SIGTERM from another thread wakes a select on the channel:
 *             the clean-shutdown pattern
 *
 *   signal_notify main    all of it under gort_main
 *   signal_notify start   the same embedded: plain main, gort_start
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <string.h>

#include "harness.h"

enum { N = 200, THREADS = 4, PER_THREAD = 25 };

static atomic_long own_handler_calls;

static void own_handler(int sig)
{
	atomic_fetch_add(&own_handler_calls, 1);
}

static int recv_sig(gort_chan *c)
{
	int sig = 0;
	CHECK(gort_chan_recv(c, &sig), "channel closed");
	return sig;
}

static void counted(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = own_handler;
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction");

	gort_chan *c = gort_chan_make(sizeof(int), 1);
	gort_signal_notify(c, (int[]){SIGUSR1}, 1);
	for (int i = 0; i < N; i++) {
		raise(SIGUSR1);
		CHECK(recv_sig(c) == SIGUSR1, "round %d: another signal", i);
	}
	int extra;
	CHECK(!gort_chan_tryrecv(c, &extra, NULL), "a delivery more than the %d raised", N);
	CHECK(atomic_load(&own_handler_calls) == N, "the program's handler ran %ld times, want %d",
	      atomic_load(&own_handler_calls), N);

	/* threads: the same, sent by threads gort did not create */
	gort_signal_stop(c);
	gort_chan *big = gort_chan_make(sizeof(int), THREADS * PER_THREAD);
	gort_signal_notify(big, (int[]){SIGUSR1}, 1);
	long before = atomic_load(&own_handler_calls);
	for (int i = 0; i < THREADS * PER_THREAD; i++) {
		kill(getpid(), SIGUSR1);
		CHECK(recv_sig(big) == SIGUSR1, "kill %d", i);
	}
	/* kill()'s signal may be handled on another thread, whose chained
	 * call of our handler may still be under way when the channel has it */
	for (int i = 0; i < 10000 && atomic_load(&own_handler_calls) - before < THREADS * PER_THREAD; i++)
		gort_sleep(GORT_MILLISECOND);
	CHECK(atomic_load(&own_handler_calls) - before == THREADS * PER_THREAD, "chained %ld times",
	      atomic_load(&own_handler_calls) - before);

	/* stop: c, stopped above, got nothing meanwhile */
	CHECK(!gort_chan_tryrecv(c, &extra, NULL), "a stopped channel received a signal");

	/* reset: the program's handler alone again */
	gort_signal_reset((int[]){SIGUSR1}, 1);
	before = atomic_load(&own_handler_calls);
	raise(SIGUSR1);
	CHECK(atomic_load(&own_handler_calls) == before + 1, "the program's handler is not back");
	gort_sleep(10 * GORT_MILLISECOND);
	CHECK(!gort_chan_tryrecv(big, &extra, NULL), "a signal delivered after gort_signal_reset");
	gort_chan_free(c);
	gort_chan_free(big);
}

static void drops(void)
{
	gort_chan *small = gort_chan_make(sizeof(int), 1);
	gort_chan *big = gort_chan_make(sizeof(int), 16);
	gort_signal_notify(small, (int[]){SIGUSR2}, 1);
	gort_signal_notify(big, (int[]){SIGUSR2, SIGUSR2}, 2); /* twice: once */
	for (int i = 0; i < 3; i++) {
		raise(SIGUSR2);
		CHECK(recv_sig(big) == SIGUSR2, "round %d", i);
	}
	int extra;
	CHECK(!gort_chan_tryrecv(big, &extra, NULL), "asked twice, delivered twice");
	CHECK(gort_chan_len(small) == 1, "the full channel holds %d signals, want 1", gort_chan_len(small));

	/* ignore */
	gort_signal_ignore((int[]){SIGUSR2}, 1);
	CHECK(gort_signal_ignored(SIGUSR2), "SIGUSR2 not ignored");
	raise(SIGUSR2); /* would kill us if not ignored */
	gort_sleep(10 * GORT_MILLISECOND);
	CHECK(!gort_chan_tryrecv(big, &extra, NULL), "an ignored signal was delivered");
	gort_signal_reset((int[]){SIGUSR2}, 1);
	CHECK(!gort_signal_ignored(SIGUSR2), "SIGUSR2 still ignored after reset");
	gort_signal_stop(small);
	gort_signal_stop(big);
	gort_chan_free(small);
	gort_chan_free(big);
}

static void *terminator(void *arg)
{
	gort_sleep(5 * GORT_MILLISECOND); /* a foreign thread's call */
	kill(getpid(), SIGTERM);
	return NULL;
}

static void shutdown_on_term(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 1);
	gort_chan *never = gort_chan_make(sizeof(int), 0);
	gort_signal_notify(c, (int[]){SIGINT, SIGTERM}, 2);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, terminator, NULL) == 0, "pthread_create");
	int sig = 0, v;
	switch (GORT_SELECT(GORT_CASE_RECV(c, &sig, NULL), GORT_CASE_RECV(never, &v, NULL))) {
	case 0:
		CHECK(sig == SIGTERM, "got signal %d", sig);
		break;
	default:
		CHECK(0, "select woke without the signal");
	}
	gort_entersyscall();
	pthread_join(t, NULL);
	gort_exitsyscall();
	gort_signal_reset((int[]){SIGINT, SIGTERM}, 2);
	gort_signal_stop(c);
	gort_chan_free(c);
	gort_chan_free(never);
}

static void run(void)
{
	counted();
	drops();
	shutdown_on_term();
}

static int test_main(int argc, char **argv)
{
	run();
	return test_pass("signal_notify main");
}

int main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: signal_notify main|start");
	if (strcmp(argv[1], "start") == 0) {
		gort_start();
		run();
		return test_pass("signal_notify start");
	}
	gort_main(test_main, argc, argv);
}
