/*
 * waitgroup_test - Go 1.19's sync/waitgroup_test.go, ported: gort_waitgroup
 * as sync.WaitGroup.
 *
 * Ported, same names:
 *   TestWaitGroup       two WaitGroups as a barrier, 8 times over the same
 *                       pair: none of 16 goroutines gets past wg2.Wait
 *                       before the 16th Done, and all of them do after it
 *   TestWaitGroupMisuse Add(1), Done, Done panics "sync: negative WaitGroup
 *                       counter", recoverably; the value is that string
 *                       (gort_string_type, as Go's is a plain string)
 *   TestWaitGroupRace   1000 times: Wait returns only after both goroutines'
 *                       increments (no spurious wake-up)
 *   TestWaitGroupAlign  a WaitGroup after a byte in a struct works
 *
 * Not ported:
 *   BenchmarkWaitGroupUncontended, BenchmarkWaitGroupAddDone,
 *   BenchmarkWaitGroupAddDoneWork, BenchmarkWaitGroupWait,
 *   BenchmarkWaitGroupWaitWork, BenchmarkWaitGroupActuallyWait:
 *   benchmarks (testing.B).
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

/* ---- TestWaitGroup --------------------------------------------------------------------------- */

typedef struct barrier_args {
	gort_waitgroup *wg1, *wg2;
	gort_chan *exited;
} barrier_args;

static void barrier_member(void *arg)
{
	barrier_args *a = arg;
	gort_waitgroup_done(a->wg1);
	gort_waitgroup_wait(a->wg2);
	bool v = true;
	gort_chan_send(a->exited, &v);
}

static void testWaitGroup(gort_waitgroup *wg1, gort_waitgroup *wg2)
{
	int n = 16;
	gort_waitgroup_add(wg1, n);
	gort_waitgroup_add(wg2, n);
	gort_chan *exited = gort_chan_make(sizeof(bool), (size_t)n);
	for (int i = 0; i != n; i++)
		gort_go_with(barrier_member, barrier_args, wg1, wg2, exited);
	gort_waitgroup_wait(wg1);
	for (int i = 0; i != n; i++) {
		CHECK(!gort_chan_tryrecv(exited, NULL, NULL), "WaitGroup released group too soon");
		gort_waitgroup_done(wg2);
	}
	for (int i = 0; i != n; i++)
		gort_chan_recv(exited, NULL); /* Will block if barrier fails to unlock someone. */
	gort_chan_free(exited);
}

static void TestWaitGroup(void)
{
	gort_waitgroup wg1 = GORT_WAITGROUP_INIT, wg2 = GORT_WAITGROUP_INIT;
	/* Run the same test a few times to ensure barrier is in a proper state. */
	for (int i = 0; i != 8; i++)
		testWaitGroup(&wg1, &wg2);
}

/* ---- TestWaitGroupMisuse --------------------------------------------------------------------- */


static void misuse(test_caught *c)
{
	GORT_FRAME(return);
	gort_defer(test_catch_typed, c);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 1);
	gort_waitgroup_done(&wg);
	gort_waitgroup_done(&wg);
	CHECK(0, "Should panic");
}

static void TestWaitGroupMisuse(void)
{
	test_caught c = {NULL, NULL};
	misuse(&c);
	CHECK(c.value != NULL && c.type == &gort_string_type &&
	          strcmp(c.value, "sync: negative WaitGroup counter") == 0,
	      "Unexpected panic: %s (type %s)", c.value ? c.value : "nil",
	      c.type ? c.type->name : "none");
}

/* ---- TestWaitGroupRace ----------------------------------------------------------------------- */

typedef struct race_args {
	gort_waitgroup *wg;
	atomic_int *n;
} race_args;

static void race_member(void *arg)
{
	race_args *a = arg;
	atomic_fetch_add(a->n, 1);
	gort_waitgroup_done(a->wg);
}

static void TestWaitGroupRace(void)
{
	for (int i = 0; i < 1000; i++) {
		gort_waitgroup wg = GORT_WAITGROUP_INIT;
		atomic_int n = 0;
		/* spawn goroutine 1 */
		gort_waitgroup_add(&wg, 1);
		gort_go_with(race_member, race_args, &wg, &n);
		/* spawn goroutine 2 */
		gort_waitgroup_add(&wg, 1);
		gort_go_with(race_member, race_args, &wg, &n);
		/* Wait for goroutine 1 and 2 */
		gort_waitgroup_wait(&wg);
		CHECK(atomic_load(&n) == 2, "Spurious wakeup from Wait");
	}
}

/* ---- TestWaitGroupAlign ---------------------------------------------------------------------- */

typedef struct X {
	char x;
	gort_waitgroup wg;
} X;

static void align_done(void *arg)
{
	X *x = arg;
	gort_waitgroup_done(&x->wg);
}

static void TestWaitGroupAlign(void)
{
	X x = {0};
	gort_waitgroup_add(&x.wg, 1);
	gort_go(align_done, &x);
	gort_waitgroup_wait(&x.wg);
}

static int test_main(int argc, char **argv)
{
	TestWaitGroup();
	TestWaitGroupMisuse();
	TestWaitGroupRace();
	TestWaitGroupAlign();
	return test_pass("waitgroup_test");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
