/*
 * tick_test - Go 1.19's time/tick_test.go, ported: gort_ticker_new,
 * gort_ticker_reset, gort_timer_stop as time.Ticker.
 *
 * Ported, same names:
 *   TestTicker                   5 ticks of 20 ms, Reset to 40 ms, 5 more:
 *                                no faster than 300 ms; then Stop, and no
 *                                tick arrives after it
 *   TestTeardown                 3 times: a Ticker's first tick, then Stop
 *                                (Go's -short Delta, 20 ms)
 *   TestNewTickerLtZeroDuration  NewTicker(-1) panics
 *   TestTickerResetLtZeroDuration Ticker.Reset(0) panics
 *
 * Not ported:
 *   TestTickerStopWithDirectInitialization: a Ticker made as a literal,
 *     &Ticker{C: c}, without NewTicker; a gort_timer exists only as
 *     gort_ticker_new makes it (an opaque pointer).
 *   TestTick: gort has no time.Tick (whose ticker C could never free).
 *   BenchmarkTicker, BenchmarkTickerReset, BenchmarkTickerResetNaive:
 *     benchmarks (testing.B).
 */
#define _GNU_SOURCE
#include <string.h>

#include "../time_util.h"

#define MS GORT_MILLISECOND

/* ---- TestTicker ------------------------------------------------------------------------------ */

/*
 * Go allows the ticks 30% either side of their time, and retries once with
 * 1 s ticks (12 s) if they miss.  The upper side is a bound on the machine's
 * load: dropped, and with it the retry.  The lower side is exact when the
 * clock is read before NewTicker (Go reads it just after): the i-th tick
 * received was sent at least i periods after the ticker started, ticks
 * being dropped, never sent early, and Reset (Go 1.23) leaves no stale tick
 * behind, so 5 ticks of d then 5 of 2d take at least 15 d - Go's target
 * itself, which is checked here without the 30% slack.
 */
static void TestTicker(void)
{
	const int count = 10;
	const int64_t delta = 20 * MS;
	int64_t t0 = gort_nanotime();
	gort_timer *ticker = gort_ticker_new(delta);
	for (int i = 0; i < count / 2; i++)
		test_recv_time(gort_timer_c(ticker), "a tick");
	gort_ticker_reset(ticker, delta * 2);
	for (int i = count / 2; i < count; i++)
		test_recv_time(gort_timer_c(ticker), "a tick after Reset");
	gort_timer_stop(ticker);
	int64_t t1 = gort_nanotime();
	int64_t dt = t1 - t0;
	int64_t target = 3 * delta * (count / 2);
	CHECK(dt >= target, "%d %lld ticks then %d %lld ticks took %lld, expected >= %lld",
	      count / 2, (long long)delta, count / 2, (long long)(delta * 2), (long long)dt,
	      (long long)target);
	/* Now test that the ticker stopped. */
	gort_sleep(2 * delta);
	CHECK(!gort_chan_tryrecv(gort_timer_c(ticker), NULL, NULL), "Ticker did not shut down");
	gort_timer_free(ticker);
}

/* ---- TestTeardown ---------------------------------------------------------------------------- */

/* Test that a bug tearing down a ticker has been fixed. This routine should not deadlock. */
static void TestTeardown(void)
{
	int64_t Delta = 20 * MS; /* Go's -short Delta (100 ms otherwise) */
	for (int i = 0; i < 3; i++) {
		gort_timer *ticker = gort_ticker_new(Delta);
		test_recv_time(gort_timer_c(ticker), "the first tick");
		gort_timer_stop(ticker);
		gort_timer_free(ticker);
	}
}

/* ---- TestNewTickerLtZeroDuration, TestTickerResetLtZeroDuration ------------------------------ */


static void new_ticker_negative(test_caught *got)
{
	GORT_FRAME(return);
	gort_defer(test_catch_typed, got);
	gort_ticker_new(-1);
}

static void TestNewTickerLtZeroDuration(void)
{
	test_caught got = {NULL, NULL};
	new_ticker_negative(&got);
	CHECK(got.value != NULL, "NewTicker(-1) should have panicked");
	/* Not in Go's test: the value is Go's, errors.New("non-positive
	 * interval for NewTicker"). */
	CHECK(got.type == &gort_error_type &&
	          strcmp(got.value, "non-positive interval for NewTicker") == 0,
	      "NewTicker(-1) panicked with %s (type %s)", got.value,
	      got.type ? got.type->name : "none");
}

static void ticker_reset_zero(test_caught *got, gort_timer *tk)
{
	GORT_FRAME(return);
	gort_defer(test_catch_typed, got);
	gort_ticker_reset(tk, 0);
}

static void TestTickerResetLtZeroDuration(void)
{
	test_caught got = {NULL, NULL};
	gort_timer *tk = gort_ticker_new(GORT_SECOND);
	ticker_reset_zero(&got, tk);
	CHECK(got.value != NULL, "Ticker.Reset(0) should have panicked");
	/* Not in Go's test: the value is Go's string. */
	CHECK(got.type == &gort_string_type &&
	          strcmp(got.value, "non-positive interval for Ticker.Reset") == 0,
	      "Ticker.Reset(0) panicked with %s (type %s)", got.value,
	      got.type ? got.type->name : "none");
	gort_timer_free(tk);
}

static int test_main(int argc, char **argv)
{
	TestTicker();
	TestTeardown();
	TestNewTickerLtZeroDuration();
	TestTickerResetLtZeroDuration();
	return test_pass("tick_test");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
