/*
 * counter_rmw.c - an unprotected read-modify-write around a gort call.
 *
 * Each worker reads the counter, logs the value on a buffered channel (a
 * gort call: another goroutine may run there), and writes back the value
 * plus one.  Two workers between the read and the write lose an update.
 * Fix: hold a mutex across the three steps (or use an atomic add and log
 * after).
 */
#include "bug.h"

enum { WORKERS = 2, ROUNDS = 3 };

static int counter;
static gort_chan *logc;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static void worker(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
		int v = counter;           /* BUG: read ... */
		gort_chan_send(logc, &v);  /* ... a scheduling point ... */
		counter = v + 1;           /* ... write: an update may be lost */
	}
	gort_waitgroup_done(&wg);
}

static void body(void)
{
	logc = gort_chan_make(sizeof(int), WORKERS * ROUNDS);
	gort_waitgroup_add(&wg, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, NULL);
	gort_waitgroup_wait(&wg);
	if (counter != WORKERS * ROUNDS) {
		char msg[64];
		snprintf(msg, sizeof msg, "lost update: counter %d, want %d", counter, WORKERS * ROUNDS);
		found(msg);
	}
}

BUG_MAIN(body)
