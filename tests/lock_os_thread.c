/*
 * lock_os_thread - proves gort_lock_os_thread wires a goroutine to its
 * thread, both ways, while other goroutines keep every P busy:
 *   - the locked goroutine yields thousands of times and its gettid()
 *     never changes;
 *   - no other goroutine ever runs on that thread while it is locked (they
 *     all record gettid() and compare it with the locked thread's id);
 *   - locks nest: lock twice, unlock once, and it is still locked;
 *   - an unlock without a lock does nothing (the count does not go negative).
 * CTest runs it at GOMAXPROCS=2.
 */
#define _GNU_SOURCE
#include "harness.h"

#define BUSY 8
#define YIELDS 2000

static atomic_int locked_tid;     /* the locked goroutine's thread, 0 when unlocked */
static atomic_int locked_done;    /* the locked goroutine has unlocked for good */
static atomic_long intruders;     /* other goroutines seen on the locked thread */
static atomic_long seen_elsewhere; /* other goroutines seen running while it was locked */
static atomic_long done;

/* yield_on: yields n times; the goroutine must stay on thread tid. */
static void yield_on(int tid, int n, const char *phase)
{
	for (int i = 0; i < n; i++) {
		gort_gosched();
		int now = test_gettid();
		CHECK(now == tid, "%s: locked goroutine moved from thread %d to %d after %d yields", phase,
		      tid, now, i + 1);
	}
}

static void locked(void *arg)
{
	gort_unlock_os_thread(); /* not locked: a no-op */
	gort_lock_os_thread();
	int tid = test_gettid();
	atomic_store(&locked_tid, tid);
	yield_on(tid, YIELDS, "locked once");

	gort_lock_os_thread();
	gort_unlock_os_thread(); /* one lock still held */
	yield_on(tid, YIELDS, "locked twice, unlocked once");

	/* Stop claiming the thread before letting it go. */
	atomic_store(&locked_tid, 0);
	gort_unlock_os_thread();
	atomic_store(&locked_done, 1);
	test_done(&done);
}

static void busy(void *arg)
{
	while (!atomic_load(&locked_done)) {
		/* No gort call between these two reads: we cannot have moved. */
		int me = test_gettid();
		int lt = atomic_load(&locked_tid);
		if (lt != 0) {
			if (me == lt)
				atomic_fetch_add(&intruders, 1);
			else
				atomic_fetch_add(&seen_elsewhere, 1);
		}
		gort_gosched();
	}
	test_done(&done);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_gomaxprocs(0) == 2, "CTest runs this at GOMAXPROCS=2, got %d", gort_gomaxprocs(0));
	for (int i = 0; i < BUSY; i++)
		gort_go(busy, NULL);
	gort_go(locked, NULL);
	test_wait(&done, BUSY + 1, "the goroutines");

	CHECK(atomic_load(&intruders) == 0,
	      "%ld times another goroutine ran on the locked goroutine's thread", atomic_load(&intruders));
	CHECK(atomic_load(&seen_elsewhere) > 0,
	      "the other goroutines never ran while the goroutine was locked: nothing was tested");
	return test_pass("lock_os_thread");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
