/*
 * time_timer - gort_timer_new, _stop, _reset, _free as Go 1.23's time.Timer
 * (the header promises 1.23's rule: once Stop or Reset returns, no value
 * sent before it can be received):
 *
 *   fire            the value arrives on gort_timer_c after >= d, and is a
 *                   gort_nanotime() reading >= creation + d, <= receipt;
 *                   exactly one value; Stop afterwards returns false
 *   stop_before     Stop before firing returns true; nothing is received,
 *                   even after waiting past the deadline; a second Stop
 *                   returns false
 *   stop_unreceived the timer fired but its value was not received: Stop
 *                   returns true and no (stale) value is left to receive
 *   reset_unreceived the same for Reset(d2): true, no stale value, and the
 *                   next value arrives >= d2 after the Reset
 *   reset_active    Reset of a pending (1 hour) timer: true; fires >= d2
 *                   after the Reset; Reset after the value was received:
 *                   false, fires again; Reset after Stop: false, fires again
 *   zero            gort_timer_new(d) for d = 0, -1, -1 s, INT64_MIN fires
 *                   promptly, with a value >= creation (the clock when it
 *                   fired); Reset(t, 0) too
 *   free            gort_timer_free of a pending, a fired-unreceived, a
 *                   stopped and a received timer (ASan checks the runtime
 *                   touches none of them after)
 *   many            1,000 timers (0..20 ms, shuffled) created by one
 *                   goroutine, received by 10 others: each value >= its
 *                   deadline, exactly one value each
 */
#define _GNU_SOURCE
#include "time_util.h"

#define MS GORT_MILLISECOND

static void check_empty(gort_timer *t, const char *what)
{
	int64_t v = 0;
	bool ok = true;
	CHECK(!gort_chan_tryrecv(gort_timer_c(t), &v, &ok), "%s: received a value (%lld, ok %d)", what,
	      (long long)v, ok);
}

static void test_fire(void)
{
	for (int64_t d = MS; d <= 4 * MS; d *= 2) {
		int64_t t0 = gort_nanotime();
		gort_timer *t = gort_timer_new(d);
		CHECK(gort_timer_c(t) != NULL, "a timer has a channel");
		int64_t v = test_recv_time(gort_timer_c(t), "the timer's value");
		int64_t t1 = gort_nanotime();
		CHECK_AFTER(t1, t0, d, "received a timer of %lld ns", (long long)d);
		CHECK_AFTER(v, t0, d, "the value of a timer of %lld ns", (long long)d);
		CHECK(v <= t1, "the value %lld is after its receipt %lld", (long long)v, (long long)t1);
		check_empty(t, "a fired and received timer, at once");
		gort_sleep(2 * d);
		check_empty(t, "a fired and received timer, later");
		CHECK(!gort_timer_stop(t), "Stop after the value was received returned true");
		CHECK(!gort_timer_stop(t), "a second Stop returned true");
		gort_timer_free(t);
	}
}

static void test_stop_before(void)
{
	int64_t d = 20 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *t = gort_timer_new(d);
	CHECK(gort_timer_stop(t), "Stop of a pending timer returned false");
	check_empty(t, "a stopped timer, at once");
	test_sleep_until(t0 + d + 5 * MS);
	check_empty(t, "a stopped timer, after its deadline");
	CHECK(!gort_timer_stop(t), "a second Stop returned true");
	gort_timer_free(t);
}

static void test_stop_unreceived(void)
{
	for (int rep = 0; rep < 3; rep++) {
		int64_t d = rep * MS; /* 0, 1, 2 ms */
		int64_t t0 = gort_nanotime();
		gort_timer *t = gort_timer_new(d);
		test_sleep_until(t0 + d + 3 * MS); /* it has fired, or is about to: Stop is true either way */
		CHECK(gort_timer_stop(t), "Stop of a fired but unreceived timer (%lld ns) returned false",
		      (long long)d);
		check_empty(t, "a stopped, fired timer, at once");
		gort_sleep(3 * MS);
		check_empty(t, "a stopped, fired timer, later");
		CHECK(!gort_timer_stop(t), "a second Stop returned true");
		gort_timer_free(t);
	}
}

static void test_reset_unreceived(void)
{
	for (int rep = 0; rep < 3; rep++) {
		int64_t d = rep * MS, d2 = 10 * MS;
		int64_t t0 = gort_nanotime();
		gort_timer *t = gort_timer_new(d);
		test_sleep_until(t0 + d + 3 * MS);
		int64_t tr = gort_nanotime();
		CHECK(gort_timer_reset(t, d2), "Reset of a fired but unreceived timer returned false (Go 1.23: true)");
		check_empty(t, "a reset timer, at once: a stale value");
		int64_t v = test_recv_time(gort_timer_c(t), "the value after Reset");
		int64_t t1 = gort_nanotime();
		CHECK_AFTER(t1, tr, d2, "received after Reset(%lld)", (long long)d2);
		CHECK_AFTER(v, tr, d2, "the value after Reset(%lld)", (long long)d2);
		check_empty(t, "a reset timer after its one value");
		CHECK(!gort_timer_stop(t), "Stop after the value was received returned true");
		gort_timer_free(t);
	}
}

static void test_reset_active(void)
{
	gort_timer *t = gort_timer_new(3600 * GORT_SECOND);
	int64_t d2 = 5 * MS;
	int64_t tr = gort_nanotime();
	CHECK(gort_timer_reset(t, d2), "Reset of a pending timer returned false");
	int64_t v = test_recv_time(gort_timer_c(t), "the value after Reset of a pending timer");
	CHECK_AFTER(gort_nanotime(), tr, d2, "received after Reset");
	CHECK_AFTER(v, tr, d2, "the value after Reset");

	/* Reset after the value was received re-arms it. */
	tr = gort_nanotime();
	CHECK(!gort_timer_reset(t, d2), "Reset of a received timer returned true");
	v = test_recv_time(gort_timer_c(t), "the value after a second Reset");
	CHECK_AFTER(v, tr, d2, "the value after the second Reset");
	check_empty(t, "after the second value");

	/* Reset after Stop re-arms it too. */
	gort_timer_free(t);
	t = gort_timer_new(3600 * GORT_SECOND);
	CHECK(gort_timer_stop(t), "Stop of a pending timer returned false");
	tr = gort_nanotime();
	CHECK(!gort_timer_reset(t, d2), "Reset of a stopped timer returned true");
	v = test_recv_time(gort_timer_c(t), "the value after Reset of a stopped timer");
	CHECK_AFTER(v, tr, d2, "the value after Reset of a stopped timer");

	/* Reset twice in a row: only the second deadline counts, one value. */
	tr = gort_nanotime();
	CHECK(!gort_timer_reset(t, MS), "Reset of a received timer returned true");
	CHECK(gort_timer_reset(t, 2 * d2), "Reset of a pending timer returned false");
	v = test_recv_time(gort_timer_c(t), "the value after two Resets");
	CHECK_AFTER(v, tr, 2 * d2, "the value after two Resets");
	gort_sleep(2 * MS);
	check_empty(t, "after two Resets and one value");
	gort_timer_free(t);
}

static void test_zero(void)
{
	int64_t ds[] = {0, -1, -GORT_SECOND, INT64_MIN};
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		int64_t t0 = gort_nanotime();
		gort_timer *t = gort_timer_new(ds[i]);
		int64_t v = test_recv_time(gort_timer_c(t), "the value of a timer of d <= 0");
		CHECK(v >= t0, "the value of gort_timer_new(%lld) is %lld ns before its creation", (long long)ds[i],
		      (long long)(t0 - v));
		CHECK(v <= gort_nanotime(), "the value is after its receipt");
		CHECK(!gort_timer_stop(t), "Stop after the value was received returned true");
		CHECK(!gort_timer_reset(t, 0), "Reset of a received timer returned true");
		v = test_recv_time(gort_timer_c(t), "the value after Reset(0)");
		check_empty(t, "after Reset(0) and its value");
		gort_timer_free(t);
	}
}

static void test_free(void)
{
	gort_timer_free(gort_timer_new(20 * MS)); /* pending */
	gort_timer *t = gort_timer_new(0);
	gort_sleep(2 * MS);
	gort_timer_free(t); /* fired, maybe unreceived */
	t = gort_timer_new(20 * MS);
	gort_timer_stop(t);
	gort_timer_free(t); /* stopped */
	t = gort_timer_new(MS);
	test_recv_time(gort_timer_c(t), "a timer's value");
	gort_timer_free(t); /* received */
	for (int i = 0; i < 100; i++)
		gort_timer_free(gort_timer_new(i * GORT_MICROSECOND)); /* racing their firing */
	gort_sleep(25 * MS); /* past every deadline above: ASan sees any late touch */
}

#define MANY 1000
#define RECEIVERS 10

static gort_timer *many_t[MANY];
static int64_t many_deadline[MANY];
static gort_waitgroup many_wg;

static void many_receiver(void *arg)
{
	int r = (int)(intptr_t)arg;
	for (int i = r; i < MANY; i += RECEIVERS) {
		int64_t v = test_recv_time(gort_timer_c(many_t[i]), "one of many timers");
		int64_t now = gort_nanotime();
		CHECK_AFTER(v, many_deadline[i], 0, "timer %d's value", i);
		CHECK_AFTER(now, many_deadline[i], 0, "timer %d's receipt", i);
	}
	gort_waitgroup_done(&many_wg);
}

static void test_many(void)
{
	uint64_t rng = 3;
	for (int i = 0; i < MANY; i++) {
		int64_t d = test_rand_range(&rng, 0, 20 * MS);
		many_deadline[i] = gort_nanotime() + d;
		many_t[i] = gort_timer_new(d);
	}
	gort_waitgroup_add(&many_wg, RECEIVERS);
	for (int r = 0; r < RECEIVERS; r++)
		gort_go(many_receiver, (void *)(intptr_t)r);
	gort_waitgroup_wait(&many_wg);
	gort_sleep(MS);
	for (int i = 0; i < MANY; i++) {
		check_empty(many_t[i], "a timer after its one value");
		CHECK(!gort_timer_stop(many_t[i]), "Stop of received timer %d returned true", i);
		gort_timer_free(many_t[i]);
	}
}

static int test_main(int argc, char **argv)
{
	test_fire();
	test_stop_before();
	test_stop_unreceived();
	test_reset_unreceived();
	test_reset_active();
	test_zero();
	test_free();
	test_many();
	return test_pass("time_timer");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
