/*
 * sync_once_cond - gort_once and gort_cond as Go's sync.Once and sync.Cond
 * (once_test.go, cond_test.go):
 *
 *   once         100 goroutines call gort_once_do at once; fn yields several
 *                times mid-way so the others pile up behind it.  fn runs
 *                exactly once, and every caller, on return, sees all of its
 *                effect; later calls do not run fn.
 *   once_panic   fn panics: the panic reaches the caller (recovered there),
 *                and the Once counts as done - a later call returns at once
 *                without calling fn, and does not block (TestOncePanic).
 *   broadcast    50 goroutines wait on a cond; one broadcast wakes all 50.
 *                A goroutine that starts waiting after the broadcast is not
 *                woken by it.
 *   signal       20 goroutines wait; each signal wakes exactly one of them
 *                (the count rises by one and stays there while main yields),
 *                in the order they started waiting, as Go's notify list
 *                does (TestCondSignalGenerations).
 *   no_waiters   signal and broadcast with nobody waiting do nothing, and
 *                do not wake a later waiter.
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

static gort_waitgroup wg;

/* ---- once ------------------------------------------------------------------- */

#define CALLERS 100

static gort_once once = GORT_ONCE_INIT;
static atomic_long runs, saw_partial;
static long effect_a, effect_b; /* written by fn, plain */

static void once_fn(void *arg)
{
	atomic_fetch_add(&runs, 1);
	effect_a = (long)(intptr_t)arg;
	for (int i = 0; i < 20; i++)
		gort_gosched();
	effect_b = effect_a * 2;
}

static void once_caller(void *arg)
{
	gort_once_do(&once, once_fn, arg);
	if (effect_a == 0 || effect_b != effect_a * 2)
		atomic_fetch_add(&saw_partial, 1);
	gort_waitgroup_done(&wg);
}

static void test_once(void)
{
	gort_waitgroup_add(&wg, CALLERS);
	for (long i = 1; i <= CALLERS; i++)
		gort_go(once_caller, (void *)(intptr_t)i);
	gort_waitgroup_wait(&wg);
	CHECK(atomic_load(&runs) == 1, "fn ran %ld times", atomic_load(&runs));
	CHECK(atomic_load(&saw_partial) == 0, "%ld callers returned before fn's effect was complete",
	      atomic_load(&saw_partial));
	long a = effect_a;
	gort_once_do(&once, once_fn, (void *)(intptr_t)12345);
	CHECK(atomic_load(&runs) == 1 && effect_a == a, "a later call ran fn again");

	gort_once fresh = GORT_ONCE_INIT;
	gort_once_do(&fresh, once_fn, (void *)(intptr_t)7);
	CHECK(atomic_load(&runs) == 2 && effect_b == 14, "a second gort_once runs its fn once");
}

/* ---- once_panic ---------------------------------------------------------------- */

static gort_once panicky = GORT_ONCE_INIT;
static atomic_long panicky_runs;

static void panicking_fn(void *arg)
{
	atomic_fetch_add(&panicky_runs, 1);
	gort_panic("failed");
}

static void catch_into(void *msgp)
{
	*(const char **)msgp = gort_recover();
}

/* Returns what the Once's panic was recovered as (NULL: no panic). */
static const char *do_recovering(gort_once *o)
{
	const char *msg = NULL;
	GORT_FRAME(return msg);
	gort_defer(catch_into, &msg);
	gort_once_do(o, panicking_fn, NULL);
	return NULL;
}

static void test_once_panic(void)
{
	const char *msg = do_recovering(&panicky);
	CHECK(msg != NULL && strcmp(msg, "failed") == 0, "Once.Do did not panic with fn's value: %s",
	      msg ? msg : "(no panic)");
	msg = do_recovering(&panicky); /* would block on the Once's mutex, or run fn again */
	CHECK(msg == NULL, "the second Do panicked: %s", msg);
	CHECK(atomic_load(&panicky_runs) == 1, "fn ran %ld times", atomic_load(&panicky_runs));
}

/* ---- cond ------------------------------------------------------------------- */

static gort_mutex L = GORT_MUTEX_INIT;
static gort_cond cond = GORT_COND_INIT(&L);
static int waiting;    /* guarded by L: goroutines that entered wait */
static int woken;      /* guarded by L */
static int wake_order[64];

static void waiter(void *arg)
{
	gort_mutex_lock(&L);
	int ticket = waiting++;
	gort_cond_wait(&cond);
	wake_order[woken++] = ticket;
	gort_mutex_unlock(&L);
	gort_waitgroup_done(&wg);
}

/* wait_for_waiters returns, holding L, once n goroutines have entered
 * gort_cond_wait (each counts itself under L before it waits, and wait
 * queues it before it lets go of L). */
static void wait_for_waiters(int n)
{
	double start = test_seconds();
	for (unsigned long i = 0;; i++) {
		gort_mutex_lock(&L);
		if (waiting >= n)
			return;
		gort_mutex_unlock(&L);
		if ((i & 1023) == 1023)
			CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS, "watchdog: waiters");
		gort_gosched();
	}
}

static int woken_now(void)
{
	gort_mutex_lock(&L);
	int n = woken;
	gort_mutex_unlock(&L);
	return n;
}

static void wait_woken(int n)
{
	double start = test_seconds();
	for (unsigned long i = 0; woken_now() < n; i++) {
		if ((i & 1023) == 1023)
			CHECK(test_seconds() - start < TEST_WATCHDOG_SECONDS, "watchdog: woken %d of %d",
			      woken_now(), n);
		gort_gosched();
	}
}

static void reset(void)
{
	gort_mutex_lock(&L);
	waiting = woken = 0;
	gort_mutex_unlock(&L);
}

#define BROADCAST_WAITERS 50

static void test_broadcast(void)
{
	reset();
	gort_waitgroup_add(&wg, BROADCAST_WAITERS);
	for (int i = 0; i < BROADCAST_WAITERS; i++)
		gort_go(waiter, NULL);
	wait_for_waiters(BROADCAST_WAITERS);
	gort_cond_broadcast(&cond); /* with L held, as Go allows */
	gort_mutex_unlock(&L);
	gort_waitgroup_wait(&wg);
	CHECK(woken_now() == BROADCAST_WAITERS, "broadcast woke %d of %d", woken_now(),
	      BROADCAST_WAITERS);

	/* A waiter that arrives after the broadcast waits for the next one. */
	gort_waitgroup_add(&wg, 1);
	gort_go(waiter, NULL);
	wait_for_waiters(BROADCAST_WAITERS + 1);
	gort_mutex_unlock(&L);
	for (int i = 0; i < 100; i++)
		gort_gosched();
	CHECK(woken_now() == BROADCAST_WAITERS, "an old broadcast woke a new waiter");
	gort_cond_broadcast(&cond);
	gort_waitgroup_wait(&wg);
	CHECK(woken_now() == BROADCAST_WAITERS + 1, "the second broadcast woke %d",
	      woken_now() - BROADCAST_WAITERS);
}

#define SIGNAL_WAITERS 20

static void test_signal(void)
{
	reset();
	gort_waitgroup_add(&wg, SIGNAL_WAITERS);
	for (int i = 0; i < SIGNAL_WAITERS; i++)
		gort_go(waiter, NULL);
	wait_for_waiters(SIGNAL_WAITERS);
	gort_mutex_unlock(&L);
	for (int i = 1; i <= SIGNAL_WAITERS; i++) {
		gort_cond_signal(&cond);
		wait_woken(i);
		for (int k = 0; k < 50; k++)
			gort_gosched();
		CHECK(woken_now() == i, "signal %d woke %d goroutines in all", i, woken_now());
		gort_mutex_lock(&L);
		CHECK(wake_order[i - 1] == i - 1, "signal %d woke the waiter that came %d-th", i,
		      wake_order[i - 1] + 1);
		gort_mutex_unlock(&L);
	}
	gort_waitgroup_wait(&wg);
}

static void test_no_waiters(void)
{
	reset();
	gort_cond_signal(&cond);
	gort_cond_broadcast(&cond);
	gort_cond_signal(&cond);
	gort_waitgroup_add(&wg, 1);
	gort_go(waiter, NULL);
	wait_for_waiters(1);
	gort_mutex_unlock(&L);
	for (int i = 0; i < 100; i++)
		gort_gosched();
	CHECK(woken_now() == 0, "a signal sent before anyone waited woke a later waiter");
	gort_cond_signal(&cond);
	gort_waitgroup_wait(&wg);
	CHECK(woken_now() == 1, "woken %d", woken_now());
}

static int test_main(int argc, char **argv)
{
	test_once();
	test_once_panic();
	test_broadcast();
	test_signal();
	test_no_waiters();
	return test_pass("sync_once_cond");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
