/*
 * spread - proves that at GOMAXPROCS=2 (set by CTest) goroutines run on more
 * than one OS thread (M).  No timing: a few goroutines keep yielding and
 * recording gettid() until two distinct thread ids have been seen, and fail
 * if that has not happened within a very large number of yields.
 */
#define _GNU_SOURCE
#include "harness.h"

#define WORKERS 4
#define MAX_YIELDS 10000000L /* per goroutine */

static atomic_int first_tid;  /* the first thread id any goroutine saw */
static atomic_int second_tid; /* a different one, once seen */
static atomic_long capped;    /* goroutines that gave up */
static atomic_long done;

static void worker(void *arg)
{
	for (long i = 0; atomic_load(&second_tid) == 0; i++) {
		if (i == MAX_YIELDS) {
			atomic_fetch_add(&capped, 1);
			break;
		}
		int tid = test_gettid(), expected = 0;
		if (!atomic_compare_exchange_strong(&first_tid, &expected, tid) && expected != tid)
			atomic_store(&second_tid, tid);
		gort_gosched();
	}
	test_done(&done);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_gomaxprocs(0) == 2, "CTest runs this at GOMAXPROCS=2, got %d", gort_gomaxprocs(0));
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, NULL);
	test_wait(&done, WORKERS, "the workers");
	CHECK(atomic_load(&capped) == 0 && atomic_load(&second_tid) != 0,
	      "after %ld yields each, every goroutine had run on thread %d only", MAX_YIELDS,
	      atomic_load(&first_tid));
	printf("goroutines ran on threads %d and %d (at least)\n", atomic_load(&first_tid),
	       atomic_load(&second_tid));
	return test_pass("spread");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
