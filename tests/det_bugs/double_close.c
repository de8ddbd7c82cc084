/*
 * double_close.c - a double close under a race.
 *
 * Two goroutines may each decide to shut down: each checks a flag, logs,
 * sets the flag and closes the channel.  Both past the check close twice:
 * Go's panic "close of closed channel" (exit 2).  Fix: sync.Once, or the
 * check and the set under one mutex.
 */
#include "bug.h"

static bool closed;
static gort_chan *done, *logc;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static void shutdown(intptr_t who)
{
	if (!closed) {                        /* BUG: check ... */
		int w = (int)who;
		gort_chan_send(logc, &w);     /* ... a scheduling point ... */
		closed = true;                /* ... then act */
		gort_chan_close(done);
	}
	gort_waitgroup_done(&wg);
}

static void body(void)
{
	done = gort_chan_make(0, 0);
	logc = gort_chan_make(sizeof(int), 2);
	gort_waitgroup_add(&wg, 2);
	gort_go_int(shutdown, 1);
	gort_go_int(shutdown, 2);
	gort_waitgroup_wait(&wg);
}

BUG_MAIN(body)
