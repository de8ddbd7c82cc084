/*
 * lost_wakeup.c - check-then-wait without the lock.
 *
 * The waiter checks `ready` before taking the lock; the signaller may set
 * it and signal in between, before the waiter waits: the signal finds no
 * one, and the waiter sleeps for good - Go's "all goroutines are asleep -
 * deadlock!" (exit 2).  Fix: check `ready` under the lock, in a loop.
 */
#include "bug.h"

static gort_mutex mu = GORT_MUTEX_INIT;
static gort_cond cond = GORT_COND_INIT(&mu);
static int ready;
static gort_waitgroup wg = GORT_WAITGROUP_INIT;

static void waiter(void *arg)
{
	if (!ready) {                /* BUG: read without mu */
		gort_mutex_lock(&mu); /* the signal may come before this */
		gort_cond_wait(&cond);
		gort_mutex_unlock(&mu);
	}
	gort_waitgroup_done(&wg);
}

static void signaller(void *arg)
{
	gort_mutex_lock(&mu);
	ready = 1;
	gort_cond_signal(&cond);
	gort_mutex_unlock(&mu);
	gort_waitgroup_done(&wg);
}

static void body(void)
{
	gort_waitgroup_add(&wg, 2);
	gort_go(waiter, NULL);
	gort_go(signaller, NULL);
	gort_waitgroup_wait(&wg);
}

BUG_MAIN(body)
