/*
 * cond_test - Go 1.19's sync/cond_test.go, ported: gort_cond as sync.Cond.
 *
 * Ported, same names:
 *   TestCondSignal            two waiters; each Signal wakes exactly one
 *   TestCondSignalGenerations 100 waiters, each signalled as soon as it
 *                             waits: they wake in the order they waited
 *   TestCondBroadcast         200 waiters, 200 rounds: each Broadcast wakes
 *                             every one of them exactly once, and none is
 *                             awake before it
 *   TestRace                  three goroutines hand x from 1 to 2 to 3 under
 *                             the cond's lock: each Wait returns to the
 *                             value the signaller left
 *   TestCondSignalStealing    1000 times: a Broadcast racing a new waiter
 *                             still wakes the waiter that was there first
 *                             (Go gives it 2 s; here 10 s, as a watchdog
 *                             on a loaded machine, not a speed check)
 *   TestCondCopy              Signal on a copy of a used cond panics "sync.Cond
 *                             is copied", a string (Go copies with reflect
 *                             to hide the copy from vet; C just copies)
 *
 * Not ported:
 *   BenchmarkCond1, BenchmarkCond2, BenchmarkCond4, BenchmarkCond8,
 *   BenchmarkCond16, BenchmarkCond32: benchmarks (testing.B).
 */
#define _GNU_SOURCE
#include <string.h>

#include "harness.h"

static bool yes = true;

/* ---- TestCondSignal -------------------------------------------------------------------------- */

typedef struct signal_args {
	gort_mutex *m;
	gort_cond *c;
	gort_chan *running, *awake;
	gort_waitgroup *wg; /* C's addition: m and c live in the test's frame */
	int i;
} signal_args;

static void signal_waiter(void *arg)
{
	signal_args *a = arg;
	gort_mutex_lock(a->m);
	gort_chan_send(a->running, &yes);
	gort_cond_wait(a->c);
	gort_chan_send(a->awake, &yes);
	gort_mutex_unlock(a->m);
	gort_waitgroup_done(a->wg);
}

static void TestCondSignal(void)
{
	gort_mutex m = GORT_MUTEX_INIT;
	gort_cond c = GORT_COND_INIT(&m);
	int n = 2;
	gort_chan *running = gort_chan_make(sizeof(bool), (size_t)n);
	gort_chan *awake = gort_chan_make(sizeof(bool), (size_t)n);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, n);
	for (int i = 0; i < n; i++)
		gort_go_with(signal_waiter, signal_args, &m, &c, running, awake, &wg, 0);
	for (int i = 0; i < n; i++)
		gort_chan_recv(running, NULL); /* Wait for everyone to run. */
	while (n > 0) {
		CHECK(!gort_chan_tryrecv(awake, NULL, NULL), "goroutine not asleep");
		gort_mutex_lock(&m);
		gort_cond_signal(&c);
		gort_mutex_unlock(&m);
		gort_chan_recv(awake, NULL); /* Will deadlock if no goroutine wakes up */
		CHECK(!gort_chan_tryrecv(awake, NULL, NULL), "too many goroutines awake");
		n--;
	}
	gort_cond_signal(&c);
	gort_waitgroup_wait(&wg);
	gort_chan_free(running);
	gort_chan_free(awake);
}

/* ---- TestCondSignalGenerations --------------------------------------------------------------- */

static void generation_waiter(void *arg)
{
	signal_args *a = arg;
	gort_mutex_lock(a->m);
	gort_chan_send(a->running, &yes);
	gort_cond_wait(a->c);
	gort_chan_send(a->awake, &a->i);
	gort_mutex_unlock(a->m);
	gort_waitgroup_done(a->wg);
}

static void TestCondSignalGenerations(void)
{
	gort_mutex m = GORT_MUTEX_INIT;
	gort_cond c = GORT_COND_INIT(&m);
	int n = 100;
	gort_chan *running = gort_chan_make(sizeof(bool), (size_t)n);
	gort_chan *awake = gort_chan_make(sizeof(int), (size_t)n);
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, n);
	for (int i = 0; i < n; i++) {
		gort_go_with(generation_waiter, signal_args, &m, &c, running, awake, &wg, i);
		if (i > 0) {
			int a;
			gort_chan_recv(awake, &a);
			CHECK(a == i - 1, "wrong goroutine woke up: want %d, got %d", i - 1, a);
		}
		gort_chan_recv(running, NULL);
		gort_mutex_lock(&m);
		gort_cond_signal(&c);
		gort_mutex_unlock(&m);
	}
	gort_waitgroup_wait(&wg); /* the last one, signalled above, too */
	gort_chan_free(running);
	gort_chan_free(awake);
}

/* ---- TestCondBroadcast ----------------------------------------------------------------------- */

typedef struct broadcast_args {
	gort_mutex *m;
	gort_cond *c;
	gort_chan *running, *awake;
	bool *exit;
	gort_waitgroup *wg;
	int g;
} broadcast_args;

static void broadcast_waiter(void *arg)
{
	broadcast_args *a = arg;
	gort_mutex_lock(a->m);
	while (!*a->exit) {
		gort_chan_send(a->running, &a->g);
		gort_cond_wait(a->c);
		gort_chan_send(a->awake, &a->g);
	}
	gort_mutex_unlock(a->m);
	gort_waitgroup_done(a->wg);
}

static void TestCondBroadcast(void)
{
	gort_mutex m = GORT_MUTEX_INIT;
	gort_cond c = GORT_COND_INIT(&m);
	enum { n = 200 };
	gort_chan *running = gort_chan_make(sizeof(int), n);
	gort_chan *awake = gort_chan_make(sizeof(int), n);
	bool exit_ = false; /* Go: exit */
	gort_waitgroup wg = GORT_WAITGROUP_INIT; /* C's addition: join before freeing */
	gort_waitgroup_add(&wg, n);
	for (int i = 0; i < n; i++)
		gort_go_with(broadcast_waiter, broadcast_args, &m, &c, running, awake, &exit_, &wg,
		             i);
	for (int i = 0; i < n; i++) {
		for (int j = 0; j < n; j++)
			gort_chan_recv(running, NULL); /* Will deadlock unless n are running. */
		if (i == n - 1) {
			gort_mutex_lock(&m);
			exit_ = true;
			gort_mutex_unlock(&m);
		}
		CHECK(!gort_chan_tryrecv(awake, NULL, NULL), "goroutine not asleep");
		gort_mutex_lock(&m);
		gort_cond_broadcast(&c);
		gort_mutex_unlock(&m);
		bool seen[n] = {false};
		for (int j = 0; j < n; j++) {
			int g;
			gort_chan_recv(awake, &g);
			CHECK(!seen[g], "goroutine woke up twice");
			seen[g] = true;
		}
	}
	CHECK(!gort_chan_tryrecv(running, NULL, NULL), "goroutine did not exit");
	gort_cond_broadcast(&c);
	gort_waitgroup_wait(&wg);
	gort_chan_free(running);
	gort_chan_free(awake);
}

/* ---- TestRace -------------------------------------------------------------------------------- */

typedef struct race_args {
	gort_cond *c;
	int *x;
	gort_chan *done;
} race_args;

static void race_first(void *arg)
{
	race_args *a = arg;
	gort_mutex_lock(a->c->L);
	*a->x = 1;
	gort_cond_wait(a->c);
	CHECK(*a->x == 2, "want 2");
	*a->x = 3;
	gort_cond_signal(a->c);
	gort_mutex_unlock(a->c->L);
	gort_chan_send(a->done, &yes);
}

static void race_second(void *arg)
{
	race_args *a = arg;
	gort_mutex_lock(a->c->L);
	for (;;) {
		if (*a->x == 1) {
			*a->x = 2;
			gort_cond_signal(a->c);
			break;
		}
		gort_mutex_unlock(a->c->L);
		gort_gosched();
		gort_mutex_lock(a->c->L);
	}
	gort_mutex_unlock(a->c->L);
	gort_chan_send(a->done, &yes);
}

static void race_third(void *arg)
{
	race_args *a = arg;
	gort_mutex_lock(a->c->L);
	for (;;) {
		if (*a->x == 2) {
			gort_cond_wait(a->c);
			CHECK(*a->x == 3, "want 3");
			break;
		}
		if (*a->x == 3)
			break;
		gort_mutex_unlock(a->c->L);
		gort_gosched();
		gort_mutex_lock(a->c->L);
	}
	gort_mutex_unlock(a->c->L);
	gort_chan_send(a->done, &yes);
}

static void TestRace(void)
{
	int x = 0;
	gort_mutex mu = GORT_MUTEX_INIT;
	gort_cond c = GORT_COND_INIT(&mu);
	gort_chan *done = gort_chan_make(sizeof(bool), 0);
	race_args a = {&c, &x, done};
	gort_go_args(race_first, &a, sizeof a);
	gort_go_args(race_second, &a, sizeof a);
	gort_go_args(race_third, &a, sizeof a);
	gort_chan_recv(done, NULL);
	gort_chan_recv(done, NULL);
	gort_chan_recv(done, NULL);
	gort_chan_free(done);
}

/* ---- TestCondSignalStealing ------------------------------------------------------------------ */

/* One iteration's shared state: Go's closures capture these locals. */
typedef struct stealing {
	gort_mutex m;
	gort_cond cond;
	gort_chan *ch; /* chan struct{} */
	bool done;
	gort_waitgroup wg; /* C's addition: join before the next iteration reuses this */
} stealing;

static void stealing_first_waiter(void *arg)
{
	stealing *s = arg;
	gort_mutex_lock(&s->m);
	gort_chan_send(s->ch, NULL);
	gort_cond_wait(&s->cond);
	gort_mutex_unlock(&s->m);
	gort_chan_send(s->ch, NULL);
	gort_waitgroup_done(&s->wg);
}

static void stealing_broadcaster(void *arg)
{
	stealing *s = arg;
	gort_cond_broadcast(&s->cond);
	gort_waitgroup_done(&s->wg);
}

static void stealing_second_waiter(void *arg)
{
	stealing *s = arg;
	gort_mutex_lock(&s->m);
	while (!s->done)
		gort_cond_wait(&s->cond);
	gort_mutex_unlock(&s->m);
	gort_waitgroup_done(&s->wg);
}

static void TestCondSignalStealing(void)
{
	static stealing s;
	for (int iters = 0; iters < 1000; iters++) {
		s = (stealing){.m = GORT_MUTEX_INIT, .cond = GORT_COND_INIT(&s.m)};
		s.ch = gort_chan_make(0, 0);
		gort_waitgroup_add(&s.wg, 3);

		/* Start a waiter. */
		gort_go(stealing_first_waiter, &s);
		gort_chan_recv(s.ch, NULL);
		gort_mutex_lock(&s.m);
		gort_mutex_unlock(&s.m);

		/* We know that the waiter is in the cond.Wait() call because we
		 * synchronized with it, then acquired/released the mutex it was
		 * holding when we synchronized.
		 *
		 * Start two goroutines that will race: one will broadcast on
		 * the cond var, the other will wait on it.
		 *
		 * The new waiter may or may not get notified, but the first one
		 * has to be notified. */
		gort_go(stealing_broadcaster, &s);
		gort_go(stealing_second_waiter, &s);

		/* Check that the first waiter does get signaled. */
		gort_timer *after = gort_timer_new(10 * GORT_SECOND);
		int i = GORT_SELECT(GORT_CASE_RECV(s.ch, NULL, NULL),
		                    GORT_CASE_RECV(gort_timer_c(after), NULL, NULL));
		CHECK(i == 0, "First waiter didn't get broadcast.");
		gort_timer_free(after);

		/* Release the second waiter in case it didn't get the broadcast. */
		gort_mutex_lock(&s.m);
		s.done = true;
		gort_mutex_unlock(&s.m);
		gort_cond_broadcast(&s.cond);

		gort_waitgroup_wait(&s.wg);
		gort_chan_free(s.ch);
	}
}

/* ---- TestCondCopy ---------------------------------------------------------------------------- */


static void cond_copy(test_caught *got)
{
	GORT_FRAME(return);
	gort_defer(test_catch_typed, got);
	static gort_mutex mu = GORT_MUTEX_INIT;
	gort_cond c = GORT_COND_INIT(&mu);
	gort_cond_signal(&c);
	gort_cond c2 = c; /* c2 := c */
	gort_cond_signal(&c2);
}

static void TestCondCopy(void)
{
	test_caught got = {NULL, NULL};
	cond_copy(&got);
	CHECK(got.value != NULL && got.type == &gort_string_type &&
	          strcmp(got.value, "sync.Cond is copied") == 0,
	      "got %s (type %s), expect sync.Cond is copied", got.value ? got.value : "nil",
	      got.type ? got.type->name : "none");
}

static int test_main(int argc, char **argv)
{
	TestCondSignal();
	TestCondSignalGenerations();
	TestCondBroadcast();
	TestRace();
	TestCondSignalStealing();
	TestCondCopy();
	return test_pass("cond_test");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
