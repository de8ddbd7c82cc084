/*
 * sync_waitgroup - gort_waitgroup as Go's sync.WaitGroup (waitgroup_test.go):
 *
 *   zero        Wait on a zero counter (fresh, and after use) returns at once
 *   go_test     Go's TestWaitGroup: 16 goroutines Done wg1 and Wait on wg2;
 *               main Waits on wg1, then releases them one Done at a time;
 *               repeated 8 times with the same two WaitGroups
 *   rounds      10 rounds on one WaitGroup: Add(n) after the previous Wait
 *               returned, n workers, 4 goroutines Waiting with main; every
 *               waiter sees all the work of the round when it returns
 *   deltas      Add with deltas > 1 and negative deltas
 */
#define _GNU_SOURCE
#include "harness.h"

static gort_waitgroup joiner;

/* ---- zero ------------------------------------------------------------------- */

static void test_zero(void)
{
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_wait(&wg);
	gort_waitgroup_wait(&wg);
	gort_waitgroup_add(&wg, 1);
	gort_waitgroup_done(&wg);
	gort_waitgroup_wait(&wg);
	gort_waitgroup_add(&wg, 3);
	gort_waitgroup_add(&wg, -3);
	gort_waitgroup_wait(&wg);
	CHECK(__atomic_load_n(&wg.state, __ATOMIC_RELAXED) == 0, "an idle WaitGroup has state %llx",
	      (unsigned long long)wg.state);
}

/* ---- go_test ---------------------------------------------------------------- */

#define N 16

static gort_waitgroup wg1, wg2;
static atomic_long exited;

static void go_test_worker(void *arg)
{
	gort_waitgroup_done(&wg1);
	gort_waitgroup_wait(&wg2);
	atomic_fetch_add(&exited, 1);
	gort_waitgroup_done(&joiner);
}

static void test_go_test(void)
{
	for (int rep = 0; rep < 8; rep++) {
		atomic_store(&exited, 0);
		gort_waitgroup_add(&wg1, N);
		gort_waitgroup_add(&wg2, N);
		gort_waitgroup_add(&joiner, N);
		for (int i = 0; i < N; i++)
			gort_go(go_test_worker, NULL);
		gort_waitgroup_wait(&wg1);
		for (int i = 0; i < N; i++) {
			for (int k = 0; k < 10; k++)
				gort_gosched();
			CHECK(atomic_load(&exited) == 0, "rep %d: a goroutine passed wg2.Wait with %d Done of %d",
			      rep, i, N);
			gort_waitgroup_done(&wg2);
		}
		gort_waitgroup_wait(&joiner);
		CHECK(atomic_load(&exited) == N, "rep %d: %ld goroutines passed wg2.Wait, want %d", rep,
		      atomic_load(&exited), N);
	}
}

/* ---- rounds ----------------------------------------------------------------- */

#define ROUNDS 10
#define WORKERS 20
#define WAITERS 4

static gort_waitgroup wg;
static atomic_long work, waiter_bad;
static long round_want;

static void round_worker(void *arg)
{
	for (int i = 0; i < 3; i++)
		gort_gosched();
	atomic_fetch_add(&work, 1);
	gort_waitgroup_done(&wg);
}

static void round_waiter(void *arg)
{
	long want = (long)(intptr_t)arg;
	gort_waitgroup_wait(&wg);
	if (atomic_load(&work) != want)
		atomic_fetch_add(&waiter_bad, 1);
	gort_waitgroup_done(&joiner);
}

static void test_rounds(void)
{
	for (int r = 1; r <= ROUNDS; r++) {
		round_want = (long)r * WORKERS;
		gort_waitgroup_add(&wg, WORKERS); /* Add after the last Wait returned: reuse */
		gort_waitgroup_add(&joiner, WAITERS);
		for (int i = 0; i < WAITERS; i++)
			gort_go(round_waiter, (void *)(intptr_t)round_want);
		for (int i = 0; i < WORKERS; i++)
			gort_go(round_worker, NULL);
		gort_waitgroup_wait(&wg);
		CHECK(atomic_load(&work) == round_want, "round %d: Wait returned with %ld of %ld done", r,
		      atomic_load(&work), round_want);
		gort_waitgroup_wait(&joiner);
		CHECK(atomic_load(&waiter_bad) == 0, "round %d: %ld waiters returned early", r,
		      atomic_load(&waiter_bad));
	}
	gort_waitgroup_wait(&wg); /* zero again: returns at once */
}

/* ---- deltas ----------------------------------------------------------------- */

static void done_twice(void *arg)
{
	gort_waitgroup_done(&wg);
	gort_gosched();
	gort_waitgroup_done(&wg);
	atomic_fetch_add(&work, 2);
}

static void test_deltas(void)
{
	atomic_store(&work, 0);
	gort_waitgroup_add(&wg, 10);
	gort_waitgroup_add(&wg, -2);
	for (int i = 0; i < 4; i++)
		gort_go(done_twice, NULL);
	gort_waitgroup_wait(&wg);
	/* All 8 Dones happened; the goroutines may not have added to work yet,
	 * but must have passed their second Done. */
	gort_waitgroup_add(&wg, 5);
	gort_waitgroup_add(&wg, -5);
	gort_waitgroup_wait(&wg);
	CHECK(__atomic_load_n(&wg.state, __ATOMIC_RELAXED) == 0, "state %llx after the counter returned to 0",
	      (unsigned long long)wg.state);
}

static int test_main(int argc, char **argv)
{
	test_zero();
	test_go_test();
	test_rounds();
	test_deltas();
	return test_pass("sync_waitgroup");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
