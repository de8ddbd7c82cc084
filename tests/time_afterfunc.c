/*
 * time_afterfunc - gort_afterfunc as Go's time.AfterFunc:
 *
 *   once        f runs once, after >= d, in its own goroutine (its goid is
 *               not the caller's); gort_timer_c is NULL; Stop afterwards
 *               returns false; nothing runs again
 *   reset       Reset after f ran returns false and runs f again, in a new
 *               goroutine, >= d after the Reset; Reset of a pending
 *               (1 hour) AfterFunc returns true and f runs once
 *   stop        Stop before it fires returns true and f never runs (checked
 *               well past the deadline); a second Stop returns false; Reset
 *               then runs it
 *   free        gort_timer_free of a pending AfterFunc: f never runs
 *   zero        d = 0 and d < 0 run f promptly
 *   blocking    an f that blocks (on a channel another, later f sends to)
 *               holds up neither the timers nor the other f
 *   self        f re-arms its own timer with Reset (false each time: it
 *               has fired) until it has run 3 times
 *   many        1,000 AfterFuncs (0..10 ms): each f runs exactly once, after
 *               its deadline, each in a goroutine of its own (distinct goids)
 */
#define _GNU_SOURCE
#include <string.h>

#include "time_util.h"

#define MS GORT_MILLISECOND

struct record {
	atomic_int runs;
	int64_t goid[4];
	int64_t at[4];
	gort_chan *done; /* int64_t: the run's goid */
};

static void record_run(void *arg)
{
	struct record *r = arg;
	int64_t g = gort_goid(), at = gort_nanotime();
	int n = atomic_fetch_add(&r->runs, 1);
	if (n < 4) {
		r->goid[n] = g;
		r->at[n] = at;
	}
	gort_chan_send(r->done, &g);
}

static void wait_run(struct record *r, const char *what)
{
	test_recv_time(r->done, what);
}

static void test_once(void)
{
	struct record r = {.done = gort_chan_make(sizeof(int64_t), 4)};
	int64_t d = 5 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *t = gort_afterfunc(d, record_run, &r);
	CHECK(gort_timer_c(t) == NULL, "an AfterFunc timer has a channel");
	wait_run(&r, "the AfterFunc");
	CHECK(r.goid[0] != gort_goid() && r.goid[0] > 0, "f ran as goroutine %lld; the caller is %lld",
	      (long long)r.goid[0], (long long)gort_goid());
	CHECK_AFTER(r.at[0], t0, d, "f's run");
	gort_sleep(2 * d);
	CHECK(atomic_load(&r.runs) == 1, "f ran %d times", atomic_load(&r.runs));
	CHECK(!gort_timer_stop(t), "Stop after f ran returned true");
	gort_sleep(d);
	CHECK(atomic_load(&r.runs) == 1, "f ran %d times", atomic_load(&r.runs));

	/* Reset after it ran: runs again, in a new goroutine. */
	int64_t tr = gort_nanotime();
	CHECK(!gort_timer_reset(t, d), "Reset after f ran returned true");
	wait_run(&r, "the AfterFunc after Reset");
	CHECK(atomic_load(&r.runs) == 2, "f ran %d times", atomic_load(&r.runs));
	CHECK_AFTER(r.at[1], tr, d, "f's run after Reset");
	CHECK(r.goid[1] != r.goid[0] && r.goid[1] != gort_goid(), "the second run reused goroutine %lld",
	      (long long)r.goid[1]);
	gort_timer_free(t);

	/* Reset of a pending one. */
	struct record r2 = {.done = r.done};
	t = gort_afterfunc(3600 * GORT_SECOND, record_run, &r2);
	tr = gort_nanotime();
	CHECK(gort_timer_reset(t, 2 * MS), "Reset of a pending AfterFunc returned false");
	wait_run(&r2, "the AfterFunc after Reset of a pending one");
	CHECK_AFTER(r2.at[0], tr, 2 * MS, "f's run after Reset of a pending one");
	gort_sleep(4 * MS);
	CHECK(atomic_load(&r2.runs) == 1, "f ran %d times", atomic_load(&r2.runs));
	gort_timer_free(t);
	gort_chan_free(r.done);
}

static void test_stop(void)
{
	struct record r = {.done = gort_chan_make(sizeof(int64_t), 4)};
	int64_t d = 10 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *t = gort_afterfunc(d, record_run, &r);
	CHECK(gort_timer_stop(t), "Stop of a pending AfterFunc returned false");
	test_sleep_until(t0 + d + 10 * MS);
	CHECK(atomic_load(&r.runs) == 0, "a stopped AfterFunc ran");
	CHECK(!gort_timer_stop(t), "a second Stop returned true");
	int64_t tr = gort_nanotime();
	CHECK(!gort_timer_reset(t, MS), "Reset of a stopped AfterFunc returned true");
	wait_run(&r, "the AfterFunc after Stop and Reset");
	CHECK_AFTER(r.at[0], tr, MS, "f's run after Stop and Reset");
	gort_timer_free(t);

	/* Free of a pending one. */
	struct record r2 = {.done = r.done};
	t0 = gort_nanotime();
	gort_timer_free(gort_afterfunc(d, record_run, &r2));
	test_sleep_until(t0 + d + 10 * MS);
	CHECK(atomic_load(&r2.runs) == 0, "a freed AfterFunc ran");
	CHECK(atomic_load(&r.runs) == 1, "f ran %d times", atomic_load(&r.runs));
	gort_chan_free(r.done);
}

static void test_zero(void)
{
	struct record r = {.done = gort_chan_make(sizeof(int64_t), 4)};
	int64_t ds[] = {0, -1, INT64_MIN};
	gort_timer *t[3];
	for (int i = 0; i < 3; i++)
		t[i] = gort_afterfunc(ds[i], record_run, &r);
	for (int i = 0; i < 3; i++)
		wait_run(&r, "an AfterFunc with d <= 0");
	CHECK(atomic_load(&r.runs) == 3, "f ran %d times", atomic_load(&r.runs));
	for (int i = 0; i < 3; i++) {
		CHECK(!gort_timer_stop(t[i]), "Stop after f ran returned true");
		gort_timer_free(t[i]);
	}
	gort_chan_free(r.done);
}

/* blocking: f1 fires first and waits for f2, which fires later. */
static gort_chan *handoff, *blocking_done;

static void f_wait(void *arg)
{
	int64_t v;
	gort_chan_recv(handoff, &v);
	gort_chan_send(blocking_done, &v);
}

static void f_give(void *arg)
{
	int64_t v = 42;
	gort_chan_send(handoff, &v);
}

static void test_blocking(void)
{
	handoff = gort_chan_make(sizeof(int64_t), 0);
	blocking_done = gort_chan_make(sizeof(int64_t), 0);
	gort_timer *t1 = gort_afterfunc(MS, f_wait, NULL);
	gort_timer *t2 = gort_afterfunc(5 * MS, f_give, NULL);
	CHECK(test_recv_time(blocking_done, "the blocked AfterFunc") == 42, "wrong value handed over");
	gort_timer_free(t1);
	gort_timer_free(t2);
}

/* self: f re-arms itself. */
struct self {
	gort_timer *t;
	int runs;
	bool reset_true;
	gort_chan *done;
};

static void f_self(void *arg)
{
	struct self *s = arg;
	if (++s->runs < 3) {
		if (gort_timer_reset(s->t, MS))
			s->reset_true = true;
		return;
	}
	int64_t v = s->runs;
	gort_chan_send(s->done, &v);
}

static void test_self(void)
{
	struct self s = {.done = gort_chan_make(sizeof(int64_t), 1)};
	/* s.t is set before f can run: f's first run is >= 1 hour away until Reset. */
	s.t = gort_afterfunc(3600 * GORT_SECOND, f_self, &s);
	gort_timer_reset(s.t, MS);
	CHECK(test_recv_time(s.done, "a self-re-arming AfterFunc") == 3, "wrong run count");
	CHECK(!s.reset_true, "Reset from inside f of its own (fired) timer returned true");
	gort_sleep(3 * MS);
	CHECK(s.runs == 3, "f ran %d times", s.runs);
	gort_timer_free(s.t);
	gort_chan_free(s.done);
}

#define MANY 1000

static atomic_int many_runs[MANY];
static int64_t many_goid[MANY], many_at[MANY], many_deadline[MANY];
static gort_waitgroup many_wg;

static void f_many(void *arg)
{
	int i = (int)(intptr_t)arg;
	many_at[i] = gort_nanotime();
	many_goid[i] = gort_goid();
	atomic_fetch_add(&many_runs[i], 1);
	gort_waitgroup_done(&many_wg);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static void test_many(void)
{
	static gort_timer *t[MANY];
	uint64_t rng = 5;
	gort_waitgroup_add(&many_wg, MANY);
	for (int i = 0; i < MANY; i++) {
		int64_t d = test_rand_range(&rng, 0, 10 * MS);
		many_deadline[i] = gort_nanotime() + d;
		t[i] = gort_afterfunc(d, f_many, (void *)(intptr_t)i);
	}
	gort_waitgroup_wait(&many_wg);
	gort_sleep(2 * MS);
	static int64_t goids[MANY];
	for (int i = 0; i < MANY; i++) {
		CHECK(atomic_load(&many_runs[i]) == 1, "AfterFunc %d ran %d times", i, atomic_load(&many_runs[i]));
		CHECK_AFTER(many_at[i], many_deadline[i], 0, "AfterFunc %d", i);
		CHECK(many_goid[i] != gort_goid(), "AfterFunc %d ran on the caller", i);
		goids[i] = many_goid[i];
		gort_timer_free(t[i]);
	}
	qsort(goids, MANY, sizeof goids[0], cmp_i64);
	for (int i = 1; i < MANY; i++)
		CHECK(goids[i] != goids[i - 1], "two AfterFuncs ran as goroutine %lld", (long long)goids[i]);
}

static int test_main(int argc, char **argv)
{
	test_once();
	test_stop();
	test_zero();
	test_blocking();
	test_self();
	test_many();
	return test_pass("time_afterfunc");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
