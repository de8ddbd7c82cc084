/*
 * time_ticker - gort_ticker_new, gort_ticker_reset, gort_timer_stop on a
 * ticker, as Go 1.23's time.Ticker.
 *
 * A ticker started at t0 with period d has at most k ticks due by t0 + k*d,
 * and a slow receiver only loses ticks, so the k-th tick received - its
 * value (the clock when it fired) and the moment it is received - is never
 * before t0 + k*d.  That is checked for every tick below, and gives the
 * bound "at most window/d ticks in a window"; values strictly increase.
 *
 *   ticks       5 ticks of a 3 ms ticker
 *   slow        a receiver that sleeps 10 periods before looking finds at
 *               most one buffered tick (plus those that fire while it
 *               looks): Go drops ticks for slow receivers
 *   reset       Reset from 3 ms to 15 ms: every later tick k is
 *               >= Reset + k*15 ms (no stale tick from the old period);
 *               Reset of a 1-hour ticker to 2 ms: it ticks (or the
 *               watchdog fails the test)
 *   stop        after Stop returns, no tick is received (at once, and
 *               after 5 periods); Reset after Stop starts it again; a
 *               ticker stopped before its first tick never ticks
 *   many        20 goroutines with their own tickers (1..5 ms), 5 ticks each
 *   order       200 tickers of 1..50 µs, 5 ticks each: in order, none early
 *               (two Ms firing consecutive ticks of one ticker must not
 *               deliver them swapped)
 */
#define _GNU_SOURCE
#include "time_util.h"

#define MS GORT_MILLISECOND

/* recv_ticks receives n ticks from tk, started (or reset) at t0 with period
 * d, the k-th overall tick being tick first+k; checks each. */
static int64_t recv_ticks(gort_timer *tk, int64_t t0, int64_t d, int first, int n, int64_t prev)
{
	for (int k = first; k < first + n; k++) {
		int64_t v = test_recv_time(gort_timer_c(tk), "a tick");
		int64_t now = gort_nanotime();
		CHECK(v > prev, "tick %d of a %lld ns ticker (+%lld ns) is not after the previous one (+%lld ns): "
		      "ticks delivered out of order", k, (long long)d, (long long)(v - t0),
		      (long long)(prev == INT64_MIN ? 0 : prev - t0));
		CHECK_AFTER(v, t0, k * d, "the value of tick %d of a %lld ns ticker", k, (long long)d);
		CHECK_AFTER(now, t0, k * d, "the receipt of tick %d of a %lld ns ticker", k, (long long)d);
		CHECK(v <= now, "tick %d's value is after its receipt", k);
		prev = v;
	}
	return prev;
}

static void check_no_tick(gort_timer *tk, const char *what)
{
	int64_t v;
	CHECK(!gort_chan_tryrecv(gort_timer_c(tk), &v, NULL), "%s: received a tick (%lld)", what, (long long)v);
}

static void test_ticks(void)
{
	int64_t d = 3 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *tk = gort_ticker_new(d);
	CHECK(gort_timer_c(tk) != NULL, "a ticker has a channel");
	recv_ticks(tk, t0, d, 1, 5, INT64_MIN);
	gort_timer_free(tk);
}

static void test_slow(void)
{
	int64_t d = 5 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *tk = gort_ticker_new(d);
	test_sleep_until(t0 + 10 * d + MS);
	int64_t s = gort_nanotime();
	int got = 0;
	for (int i = 0; i < 5; i++) {
		int64_t v;
		if (gort_chan_tryrecv(gort_timer_c(tk), &v, NULL)) {
			got++;
			CHECK_AFTER(v, t0, got * d, "buffered tick %d", got);
		}
	}
	int64_t e = gort_nanotime() - s;
	/* At most one tick waits in the channel; more can only have fired during the loop. */
	CHECK(got <= 2 + e / d, "after 10 periods unreceived, %d ticks were waiting (the loop took %lld ns)", got,
	      (long long)e);
	printf("slow receiver: %d ticks waiting after 10 periods\n", got);
	/* The ticker keeps going with the receiver. */
	int64_t prev = INT64_MIN;
	for (int k = 0; k < 3; k++) {
		int64_t v = test_recv_time(gort_timer_c(tk), "a tick after the slow start");
		CHECK(v > prev, "tick values do not increase");
		prev = v;
	}
	gort_timer_free(tk);
}

static void test_reset(void)
{
	int64_t d = 3 * MS, d2 = 15 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *tk = gort_ticker_new(d);
	int64_t prev = recv_ticks(tk, t0, d, 1, 2, INT64_MIN);
	int64_t tr = gort_nanotime();
	gort_ticker_reset(tk, d2);
	recv_ticks(tk, tr, d2, 1, 3, prev);
	gort_timer_free(tk);

	/* From a period it would never reach to a short one. */
	tk = gort_ticker_new(3600 * GORT_SECOND);
	gort_sleep(MS);
	tr = gort_nanotime();
	gort_ticker_reset(tk, 2 * MS);
	recv_ticks(tk, tr, 2 * MS, 1, 3, INT64_MIN);
	gort_timer_free(tk);
}

static void test_stop(void)
{
	int64_t d = 2 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *tk = gort_ticker_new(d);
	recv_ticks(tk, t0, d, 1, 1, INT64_MIN);
	test_sleep_until(gort_nanotime() + 2 * d); /* a tick is probably waiting: Stop must drop it */
	gort_timer_stop(tk);
	check_no_tick(tk, "at once after Stop");
	gort_sleep(5 * d);
	check_no_tick(tk, "5 periods after Stop");

	int64_t tr = gort_nanotime();
	gort_ticker_reset(tk, d);
	recv_ticks(tk, tr, d, 1, 2, INT64_MIN);
	gort_timer_stop(tk);
	gort_sleep(3 * d);
	check_no_tick(tk, "after the second Stop");
	gort_timer_free(tk);

	tk = gort_ticker_new(5 * MS);
	gort_timer_stop(tk);
	gort_sleep(15 * MS);
	check_no_tick(tk, "a ticker stopped before its first tick");
	gort_timer_free(tk);
}

/* order: many short tickers, so that at GOMAXPROCS=2 two Ms fire
 * consecutive ticks of one ticker at nearly the same time. */
static void test_order(void)
{
	for (int rep = 0; rep < 200; rep++) {
		int64_t d = (1 + rep % 50) * GORT_MICROSECOND;
		int64_t t0 = gort_nanotime();
		gort_timer *tk = gort_ticker_new(d);
		recv_ticks(tk, t0, d, 1, 5, INT64_MIN);
		gort_timer_free(tk);
	}
}

#define MANY 20

static gort_waitgroup many_wg;

static void many_ticker(void *arg)
{
	int64_t d = (1 + (intptr_t)arg % 5) * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *tk = gort_ticker_new(d);
	recv_ticks(tk, t0, d, 1, 5, INT64_MIN);
	gort_timer_stop(tk);
	gort_timer_free(tk);
	gort_waitgroup_done(&many_wg);
}

static void test_many(void)
{
	gort_waitgroup_add(&many_wg, MANY);
	for (int i = 0; i < MANY; i++)
		gort_go(many_ticker, (void *)(intptr_t)i);
	gort_waitgroup_wait(&many_wg);
}

static int test_main(int argc, char **argv)
{
	test_ticks();
	test_slow();
	test_reset();
	test_stop();
	test_many();
	test_order();
	return test_pass("time_ticker");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
