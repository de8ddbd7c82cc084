/*
 * time_gomaxprocs - timers survive changes of GOMAXPROCS (run with
 * GOMAXPROCS=2).  A P's timers live in its heap; when gort_gomaxprocs
 * removes the P, its timers must move to a P that remains, as Go's
 * procresize moves them, and still fire on time (never early).
 *
 *   shrink   400 goroutines, spread over both Ps, each arm a sleep, a timer
 *            and an AfterFunc (20..60 ms); once all are armed, GOMAXPROCS
 *            goes from 2 to 1: every sleep returns, every timer's value
 *            arrives, every AfterFunc runs, none before its deadline
 *   toggle   100 goroutines sleep 0..2 ms in a loop (20 times each) while
 *            main flips GOMAXPROCS between 1 and 2 every millisecond or so
 *   grow     timers armed at GOMAXPROCS=1 fire after growing to 2
 */
#define _GNU_SOURCE
#include "time_util.h"

#define MS GORT_MILLISECOND

/* ---- shrink ------------------------------------------------------------------- */

#define SHRINK_G 400

static atomic_long armed, afterfunc_bad;
static gort_waitgroup shrink_wg, afterfunc_wg;
static int64_t af_deadline[SHRINK_G];
static gort_timer *shrink_af[SHRINK_G];

static void af_run(void *arg)
{
	int i = (int)(intptr_t)arg;
	if (gort_nanotime() < af_deadline[i])
		atomic_fetch_add(&afterfunc_bad, 1);
	gort_waitgroup_done(&afterfunc_wg);
}

static void shrink_worker(void *arg)
{
	int i = (int)(intptr_t)arg;
	uint64_t rng = (uint64_t)i + 100;
	for (int k = 0; k < 3; k++)
		gort_gosched(); /* let the other P steal some of us */
	int64_t ds = test_rand_range(&rng, 20 * MS, 60 * MS);
	int64_t dt = test_rand_range(&rng, 20 * MS, 60 * MS);
	int64_t da = test_rand_range(&rng, 20 * MS, 60 * MS);
	int64_t t0 = gort_nanotime();
	gort_timer *t = gort_timer_new(dt);
	af_deadline[i] = gort_nanotime() + da;
	shrink_af[i] = gort_afterfunc(da, af_run, (void *)(intptr_t)i); /* main frees it */
	test_done(&armed);
	gort_sleep(ds);
	CHECK_AFTER(gort_nanotime(), t0, ds, "goroutine %d's sleep", i);
	int64_t v = test_recv_time(gort_timer_c(t), "a timer armed before GOMAXPROCS shrank");
	CHECK_AFTER(v, t0, dt, "goroutine %d's timer", i);
	gort_timer_free(t);
	gort_waitgroup_done(&shrink_wg);
}

static void test_shrink(void)
{
	CHECK(gort_gomaxprocs(0) == 2, "run with GOMAXPROCS=2");
	atomic_store(&armed, 0);
	gort_waitgroup_add(&shrink_wg, SHRINK_G);
	gort_waitgroup_add(&afterfunc_wg, SHRINK_G);
	for (int i = 0; i < SHRINK_G; i++)
		gort_go(shrink_worker, (void *)(intptr_t)i);
	test_wait(&armed, SHRINK_G, "every goroutine to arm its timers");
	CHECK(gort_gomaxprocs(1) == 2, "GOMAXPROCS was not 2");
	gort_waitgroup_wait(&shrink_wg);
	gort_waitgroup_wait(&afterfunc_wg);
	CHECK(atomic_load(&afterfunc_bad) == 0, "%ld AfterFuncs ran early", atomic_load(&afterfunc_bad));
	for (int i = 0; i < SHRINK_G; i++)
		gort_timer_free(shrink_af[i]);
	CHECK(gort_gomaxprocs(2) == 1, "GOMAXPROCS was not 1");
}

/* ---- toggle -------------------------------------------------------------------- */

#define TOGGLE_G 100

static gort_waitgroup toggle_wg;
static atomic_long toggle_bad, toggle_left;

static void toggle_worker(void *arg)
{
	uint64_t rng = (uint64_t)(intptr_t)arg;
	for (int k = 0; k < 20; k++) {
		int64_t d = test_rand_range(&rng, 0, 2 * MS);
		int64_t t0 = gort_nanotime();
		gort_sleep(d);
		if (gort_nanotime() - t0 < d)
			atomic_fetch_add(&toggle_bad, 1);
	}
	atomic_fetch_sub(&toggle_left, 1);
	gort_waitgroup_done(&toggle_wg);
}

static void test_toggle(void)
{
	atomic_store(&toggle_left, TOGGLE_G);
	gort_waitgroup_add(&toggle_wg, TOGGLE_G);
	for (int i = 0; i < TOGGLE_G; i++)
		gort_go(toggle_worker, (void *)(intptr_t)(i + 1));
	for (int n = 0; atomic_load(&toggle_left) > 0 && n < 200; n++) {
		gort_gomaxprocs(n % 2 == 0 ? 1 : 2);
		gort_sleep(MS);
	}
	gort_gomaxprocs(2);
	gort_waitgroup_wait(&toggle_wg);
	CHECK(atomic_load(&toggle_bad) == 0, "%ld sleeps returned early", atomic_load(&toggle_bad));
}

/* ---- grow ----------------------------------------------------------------------- */

static void test_grow(void)
{
	gort_gomaxprocs(1);
	gort_timer *t[50];
	int64_t t0 = gort_nanotime();
	for (int i = 0; i < 50; i++)
		t[i] = gort_timer_new((i % 10 + 1) * MS);
	CHECK(gort_gomaxprocs(2) == 1, "GOMAXPROCS was not 1");
	for (int i = 0; i < 50; i++) {
		int64_t v = test_recv_time(gort_timer_c(t[i]), "a timer armed before GOMAXPROCS grew");
		CHECK_AFTER(v, t0, (i % 10 + 1) * MS, "timer %d", i);
		gort_timer_free(t[i]);
	}
}

static int test_main(int argc, char **argv)
{
	test_shrink();
	test_toggle();
	test_grow();
	return test_pass("time_gomaxprocs");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
