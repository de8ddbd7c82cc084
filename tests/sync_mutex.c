/*
 * sync_mutex - gort_mutex as Go's sync.Mutex (mutex_test.go):
 *
 *   counter     16 goroutines add to a plain counter 20,000 times each under
 *               the mutex (half lock, half spin on trylock): the count is exact
 *   trylock     trylock on an unlocked mutex succeeds, on a locked one fails
 *               (from the holder and from another goroutine); a mutex locked
 *               by one goroutine may be unlocked by another, as in Go
 *   handoff     starvation mode step by step, on one P so that nothing runs
 *               until this goroutine yields.  Go's rule: a waiter woken after
 *               waiting more than 1 ms that finds the mutex taken again
 *               switches it to starvation mode (state bit mutexStarving = 4);
 *               Unlock then hands the mutex to the waiter, which gets it
 *               before a newcomer - in normal mode the running newcomer wins.
 *               Checked: the bit is clear until the starved waiter has run,
 *               set after, and the waiter locks before our next Lock; the
 *               last waiter leaves starvation mode (state 0 at the end).
 *   wake_unit   on one P: Unlock, with a waiter queued, wakes it and hands
 *               it the semaphore's unit (its ticket, sema.c), so none is left
 *               in the semaphore for a goroutine that comes first - which
 *               would leave the woken waiter to park again when it runs (Go
 *               leaves the unit there); the running goroutine still takes
 *               the mutex first (normal mode), the waiter right after.
 *   starvation  two "hog" goroutines keep re-taking the mutex and hold it for
 *               ~2 ms each time (a busy loop: starvation is about wall time)
 *               while a third goroutine waits for it: in every try the waiter
 *               must get the mutex before the hogs give up (after 250 rounds
 *               each, 500 ms).  Whether anyone samples the starving bit while
 *               it is set depends on how the OS schedules the threads, so it is
 *               only reported (handoff checks the bit).  Needs GOMAXPROCS >= 2:
 *               without preemption a hog on the only P never lets the waiter run.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

/* Go's mutex state bits (sync/mutex.go). */
enum { mutexLocked = 1, mutexWoken = 2, mutexStarving = 4, mutexWaiterShift = 3 };

static gort_waitgroup wg;

static int32_t mutex_state(gort_mutex *m)
{
	return __atomic_load_n(&m->state, __ATOMIC_RELAXED);
}

/* ---- counter ---------------------------------------------------------------- */

#define WORKERS 16
#define ITERS 20000

static gort_mutex mu = GORT_MUTEX_INIT;
static long counter; /* guarded by mu; deliberately not atomic */
static atomic_long in_critical, overlap;

static void worker(void *arg)
{
	bool use_try = (intptr_t)arg % 2 == 1;
	for (int i = 0; i < ITERS; i++) {
		if (use_try) {
			while (!gort_mutex_trylock(&mu))
				gort_gosched();
		} else {
			gort_mutex_lock(&mu);
		}
		if (atomic_fetch_add(&in_critical, 1) != 0)
			atomic_fetch_add(&overlap, 1);
		counter++;
		if (i % 256 == 0)
			gort_gosched(); /* sometimes yield while holding it */
		atomic_fetch_sub(&in_critical, 1);
		gort_mutex_unlock(&mu);
	}
	gort_waitgroup_done(&wg);
}

static void test_counter(void)
{
	gort_waitgroup_add(&wg, WORKERS);
	for (long i = 0; i < WORKERS; i++)
		gort_go(worker, (void *)(intptr_t)i);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&overlap) == 0, "%ld times two goroutines were inside the mutex at once",
	      atomic_load(&overlap));
	gort_mutex_lock(&mu);
	CHECK(counter == (long)WORKERS * ITERS, "counter %ld, want %ld", counter, (long)WORKERS * ITERS);
	gort_mutex_unlock(&mu);
	CHECK(mutex_state(&mu) == 0, "an idle mutex has state %d, want 0", mutex_state(&mu));
}

/* ---- trylock ---------------------------------------------------------------- */

static gort_mutex tm = GORT_MUTEX_INIT;
static atomic_int other_try;

static void try_from_other(void *arg)
{
	atomic_store(&other_try, gort_mutex_trylock(&tm) ? 1 : 0);
	gort_waitgroup_done(&wg);
}

static void unlock_from_other(void *arg)
{
	gort_mutex_unlock(&tm);
	gort_waitgroup_done(&wg);
}

static void test_trylock(void)
{
	CHECK(gort_mutex_trylock(&tm), "trylock of an unlocked mutex");
	CHECK(!gort_mutex_trylock(&tm), "trylock of a mutex this goroutine holds");
	gort_waitgroup_add(&wg, 1);
	gort_go(try_from_other, NULL);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&other_try) == 0, "trylock from another goroutine of a held mutex");
	gort_mutex_unlock(&tm);
	CHECK(gort_mutex_trylock(&tm), "trylock after unlock");
	gort_mutex_unlock(&tm);

	/* Locked here, unlocked there: allowed, as in Go. */
	gort_mutex_lock(&tm);
	gort_waitgroup_add(&wg, 1);
	gort_go(unlock_from_other, NULL);
	gort_waitgroup_wait(&wg);
	CHECK(gort_mutex_trylock(&tm), "trylock after another goroutine unlocked it");
	gort_mutex_unlock(&tm);
	gort_mutex m2 = GORT_MUTEX_INIT;
	gort_mutex_lock(&m2);
	gort_mutex_unlock(&m2);
	CHECK(mutex_state(&m2) == 0, "lock+unlock left state %d", mutex_state(&m2));
}

/* ---- handoff ---------------------------------------------------------------- */

static gort_mutex hm = GORT_MUTEX_INIT;
static char order[3]; /* who locked hm first after the starving Unlock: "WM" */
static int norder;

/* waiter locks the mutex arg, notes 'W' in order, and unlocks it. */
static void waiter(void *arg)
{
	gort_mutex *m = arg;
	gort_mutex_lock(m);
	order[norder++] = 'W';
	gort_mutex_unlock(m);
	gort_waitgroup_done(&wg);
}

/* yield_until lets other goroutines run until state has bits (at most 1,000
 * yields: the global queue may come first now and then). */
static bool yield_until(gort_mutex *m, int32_t bits, int32_t waiters)
{
	for (int i = 0; i < 1000; i++) {
		int32_t st = mutex_state(m);
		if ((st & bits) == bits && st >> mutexWaiterShift == waiters)
			return true;
		gort_gosched();
	}
	return false;
}

/* queue_waiter: at GOMAXPROCS=1, lock m and start a waiter that queues
 * on it; returns the GOMAXPROCS to restore. */
static int queue_waiter(gort_mutex *m)
{
	int procs = gort_gomaxprocs(1);
	norder = 0;
	gort_mutex_lock(m);
	gort_waitgroup_add(&wg, 1);
	gort_go(waiter, m);
	CHECK(yield_until(m, mutexLocked, 1), "the waiter never queued: state %d", mutex_state(m));
	return procs;
}

static void test_handoff(void)
{
	int procs = queue_waiter(&hm);
	gort_sleep(2 * GORT_MILLISECOND); /* it has now waited over 1 ms */

	/* Normal mode: Unlock wakes the waiter, but we run on and take the
	 * mutex back before it can run. */
	gort_mutex_unlock(&hm);
	CHECK(gort_mutex_trylock(&hm), "the woken waiter took the mutex before we ran again");
	CHECK(!(mutex_state(&hm) & mutexStarving), "starving before the starved waiter ran");

	/* It runs: woken, it finds the mutex taken after waiting over 1 ms. */
	CHECK(yield_until(&hm, mutexLocked | mutexStarving, 1),
	      "the starved waiter did not switch the mutex to starvation mode: state %d",
	      mutex_state(&hm));

	/* Starvation mode: Unlock hands the mutex to the waiter. */
	gort_mutex_unlock(&hm);
	gort_mutex_lock(&hm);
	order[norder++] = 'M';
	gort_mutex_unlock(&hm);
	gort_waitgroup_wait(&wg);
	CHECK(norder == 2 && order[0] == 'W' && order[1] == 'M',
	      "after the starving Unlock, %.2s locked in that order: no handoff", order);
	CHECK(mutex_state(&hm) == 0, "state %d after the last waiter left", mutex_state(&hm));
	gort_gomaxprocs(procs);
}

/* ---- wake_unit -------------------------------------------------------------- */

static gort_mutex wm = GORT_MUTEX_INIT;

static void test_wake_unit(void)
{
	int procs = queue_waiter(&wm);

	/* Unlock wakes it (no waiter counted now, the woken bit set) with the
	 * unit it was woken for; it cannot run before we yield. */
	gort_mutex_unlock(&wm);
	CHECK(mutex_state(&wm) == mutexWoken, "state %d after waking the waiter", mutex_state(&wm));
	uint32_t units = __atomic_load_n(&wm.sema, __ATOMIC_RELAXED);
	CHECK(units == 0, "the woken waiter's unit was left in the semaphore (%u units)", units);

	/* Normal mode: we take the mutex first; the waiter gets it once we wait. */
	gort_mutex_lock(&wm);
	order[norder++] = 'M';
	gort_mutex_unlock(&wm);
	gort_waitgroup_wait(&wg);
	CHECK(norder == 2 && order[0] == 'M' && order[1] == 'W', "locked in the order %.2s, want MW", order);
	CHECK(mutex_state(&wm) == 0 && __atomic_load_n(&wm.sema, __ATOMIC_RELAXED) == 0,
	      "state %d, %u units after the waiter left", mutex_state(&wm), wm.sema);
	gort_gomaxprocs(procs);
}

/* ---- starvation ------------------------------------------------------------- */

#define TRIES 20 /* under heavy machine load a try can pass without starving */
#define HOG_ROUNDS 250
#define HOLD_SECONDS 0.002

static gort_mutex sm = GORT_MUTEX_INIT;
static atomic_bool waiter_got;
static atomic_long starving_seen, hog_gaveup, hog_rounds;

static void sample(void)
{
	if (mutex_state(&sm) & mutexStarving)
		atomic_fetch_add(&starving_seen, 1);
}

static void hog(void *arg)
{
	int round = 0;
	for (; round < HOG_ROUNDS && !atomic_load(&waiter_got); round++) {
		gort_mutex_lock(&sm);
		double end = test_seconds() + HOLD_SECONDS;
		while (test_seconds() < end)
			sample();
		gort_mutex_unlock(&sm);
		atomic_fetch_add(&hog_rounds, 1);
	}
	if (round == HOG_ROUNDS && !atomic_load(&waiter_got))
		atomic_fetch_add(&hog_gaveup, 1);
	gort_waitgroup_done(&wg);
}

static void starved(void *arg)
{
	gort_mutex_lock(&sm);
	sample();
	atomic_store(&waiter_got, true);
	gort_mutex_unlock(&sm);
	gort_waitgroup_done(&wg);
}

static void test_starvation(void)
{
	long observed_in = 0;
	for (int t = 0; t < TRIES; t++) {
		atomic_store(&waiter_got, false);
		atomic_store(&starving_seen, 0);
		atomic_store(&hog_gaveup, 0);
		atomic_store(&hog_rounds, 0);
		gort_waitgroup_add(&wg, 3);
		gort_go(hog, NULL);
		gort_go(hog, NULL);
		/* The waiter comes once the hogs are at it (else it would find
		 * the mutex free and never wait). */
		test_wait(&hog_rounds, 2, "the hogs to start");
		gort_go(starved, NULL);
		gort_waitgroup_wait(&wg);
		CHECK(atomic_load(&waiter_got), "try %d: the waiter never got the mutex", t);
		CHECK(atomic_load(&hog_gaveup) == 0,
		      "try %d: the hogs kept the mutex for %d rounds (%.0f ms) before the waiter got it: "
		      "no starvation mode (bit seen %ld times)",
		      t, HOG_ROUNDS, HOG_ROUNDS * HOLD_SECONDS * 1000, atomic_load(&starving_seen));
		if (atomic_load(&starving_seen) > 0)
			observed_in++;
		CHECK(mutex_state(&sm) == 0, "try %d: state %d after everyone left", t, mutex_state(&sm));
	}
	printf("starvation: mutexStarving sampled in %ld of %d tries\n", observed_in, TRIES);
}

static int test_main(int argc, char **argv)
{
	test_trylock();
	test_counter();
	test_handoff();
	test_wake_unit();
	if (gort_gomaxprocs(0) >= 2)
		test_starvation();
	return test_pass("sync_mutex");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
