/*
 * numgoroutine - proves gort_numgoroutine counts the goroutines that exist:
 * 1 at start (main); K+1 with K goroutines parked for good in gort_block;
 * still K+1 after 50 more have come and gone.  Main then returns while the
 * K are parked, and the process exits normally (status 0), as in Go.
 */
#define _GNU_SOURCE
#include "harness.h"

#define K 100
#define J 50

static atomic_long started, finished;

static void parked(void *arg)
{
	test_done(&started);
	gort_block();
}

static void brief(void *arg)
{
	test_done(&finished);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_numgoroutine() == 1, "at start: gort_numgoroutine()=%d", gort_numgoroutine());

	for (int i = 0; i < K; i++)
		gort_go(parked, NULL);
	test_wait(&started, K, "the goroutines to start");
	for (int i = 0; i < 10; i++) /* let the last ones reach gort_block */
		gort_gosched();
	CHECK(gort_numgoroutine() == K + 1, "with %d parked: gort_numgoroutine()=%d", K,
	      gort_numgoroutine());

	for (int i = 0; i < J; i++)
		gort_go(brief, NULL);
	test_wait(&finished, J, "the short-lived goroutines");
	/* Each counts itself just before returning: wait for the last exits. */
	for (long i = 0; gort_numgoroutine() != K + 1; i++) {
		CHECK(i < 10000000, "after %d came and went: gort_numgoroutine()=%d, want %d", J,
		      gort_numgoroutine(), K + 1);
		gort_gosched();
	}
	return test_pass("numgoroutine");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
