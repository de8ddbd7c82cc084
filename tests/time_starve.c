/*
 * time_starve - a ticker faster than the scheduler must not starve the run
 * queue.
 *
 * A goroutine R loops receiving from a ticker whose period (1 ns, 1 µs) is
 * shorter than one round of the scheduler.  Every round the ticker is due,
 * fires, hands its value to R parked in its select and readies R into the
 * P's runnext; if R then always runs next, every other runnable goroutine -
 * here the worker that wants to Stop the ticker, parked by gort_gosched -
 * waits forever.  Go runs this program to the end: the ping-pong keeps
 * inheriting one time slice (runnext), and sysmon preempts it.  (Go 1.19
 * on 2 CPUs: about 1 s at GOMAXPROCS=1, at most 0.6 s between two trials;
 * under 0.2 s at GOMAXPROCS=2.)
 *
 * WORKERS workers x TRIALS trials: new ticker, spawn R, gort_gosched 1..3
 * times, Stop, close quit, join R.  A starved program cannot fire its own
 * timers for a watchdog, so an OS thread is the watchdog: no trial finished
 * in STARVE_WATCHDOG_SECONDS fails the test with what was starved.
 */
#define _GNU_SOURCE
#include <pthread.h>

#include "time_util.h"

#define WORKERS 2
#define TRIALS 5
#define STARVE_WATCHDOG_SECONDS 10

static atomic_long progress; /* trials finished */

struct rx {
	gort_timer *tk;
	gort_chan *quit, *done;
};

static void receiver(void *arg)
{
	struct rx *r = arg;
	long n = 0;
	for (;;) {
		int64_t v;
		if (GORT_SELECT(GORT_CASE_RECV(gort_timer_c(r->tk), &v, NULL), GORT_CASE_RECV(r->quit, NULL, NULL)) == 1)
			break;
		n++;
	}
	gort_chan_send(r->done, &n);
}

static gort_waitgroup wg;

static void worker(void *arg)
{
	for (int trial = 0; trial < TRIALS; trial++) {
		int64_t period = trial % 2 == 0 ? 1 : GORT_MICROSECOND;
		struct rx r = {gort_ticker_new(period), gort_chan_make(0, 0), gort_chan_make(sizeof(long), 0)};
		gort_go(receiver, &r);
		for (int i = 0; i <= trial % 3; i++)
			gort_gosched();
		gort_timer_stop(r.tk);
		gort_chan_close(r.quit);
		long n;
		gort_chan_recv(r.done, &n);
		gort_timer_free(r.tk);
		gort_chan_free(r.quit);
		gort_chan_free(r.done);
		atomic_fetch_add(&progress, 1);
	}
	gort_waitgroup_done(&wg);
}

static void *watchdog(void *arg)
{
	long last = 0;
	for (;;) {
		sleep(STARVE_WATCHDOG_SECONDS);
		long now = atomic_load(&progress);
		if (now == last) {
			fprintf(stderr, "time_starve: no trial finished for %d s (%ld of %d done): a goroutine "
			                "receiving from a 1 ns or 1 us ticker keeps the P, and the worker that "
			                "would Stop it never runs again\n",
			        STARVE_WATCHDOG_SECONDS, now, WORKERS * TRIALS);
			_exit(1);
		}
		last = now;
	}
	return NULL;
}

static int test_main(int argc, char **argv)
{
	pthread_t th;
	CHECK(pthread_create(&th, NULL, watchdog, NULL) == 0, "pthread_create");
	gort_waitgroup_add(&wg, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, NULL);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&progress) == WORKERS * TRIALS, "%ld trials of %d", atomic_load(&progress),
	      WORKERS * TRIALS);
	return test_pass("time_starve");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
