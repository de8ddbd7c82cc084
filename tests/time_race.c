/*
 * time_race - Stop and Reset racing a timer's firing and its receivers.
 *
 * WORKERS goroutines run TRIALS trials each; every trial makes a timer of
 * 0..100 µs (0 for a quarter of them) and races it, after a random delay
 * (none, a few gort_gosched, a spin, or a gort_sleep of 0..150 µs).  Go 1.23's rule, which the header
 * promises: Stop (or Reset) returns true exactly when the value it stops was
 * not - and will never be - received; once it returns, no value from before
 * it can be received.  So in every trial the counts must add up exactly,
 * and after the trial, past every deadline, the channel holds nothing.
 *
 *   self        no other receiver: got = tryrecv; Stop must return !got
 *   stop        a receiver goroutine selects on the timer's channel and a
 *               quit channel; the worker Stops, then closes quit: exactly
 *               one of "Stop returned true" and "the receiver got a value"
 *   reset_self  got = tryrecv; Reset(d2) must return !got; the next value
 *               comes >= d2 after the Reset (no stale value); then Stop is
 *               false
 *   reset       with a receiver: Reset(d2) -> r1, delay, Stop -> r2, close
 *               quit: the receiver got (!r1) + (!r2) values; if r1, every
 *               value it got is from after the Reset (>= Reset + d2); if it
 *               got two, the second one is
 *
 *   afterfunc   Stop races an AfterFunc: if it returns false, f runs (once);
 *               if true, f never runs
 *   ticker      Stop races a ticker of 50..150 µs and its receiver: no tick is
 *               left in the channel once Stop has returned; ticks arrive in
 *               order, tick k >= k periods after the start
 *
 * The tallies (who won each race) are printed, not checked: which side wins
 * is up to the machine.
 */
#define _GNU_SOURCE
#include <string.h>

#include "time_util.h"

#define WORKERS 16
#define TRIALS 500
#define US GORT_MICROSECOND

#define KINDS 6
static atomic_long tally[KINDS][2]; /* [kind][timer fired first?] */
static const char *const kind_name[KINDS] = {"self", "stop", "reset_self", "reset", "afterfunc", "ticker"};

struct receiver {
	gort_timer *t;
	gort_chan *quit;
	gort_chan *done;
	int n;
	int64_t v[4];
	bool late;     /* a value was still in the channel when quit came */
	int64_t late_v;
};

static void receiver(void *arg)
{
	struct receiver *r = arg;
	for (;;) {
		int64_t v;
		bool ok;
		int i = GORT_SELECT(GORT_CASE_RECV(gort_timer_c(r->t), &v, &ok), GORT_CASE_RECV(r->quit, NULL, NULL));
		if (i == 1) {
			/* quit is closed only after Stop returned: nothing may be left. */
			r->late = gort_chan_tryrecv(gort_timer_c(r->t), &r->late_v, NULL);
			break;
		}
		CHECK(ok, "a timer's channel was closed");
		if (r->n < 4)
			r->v[r->n] = v;
		r->n++;
	}
	bool done = true;
	gort_chan_send(r->done, &done);
}

static void af_fire(void *arg)
{
	int64_t g = gort_goid();
	gort_chan_send(arg, &g);
}

static void delay(uint64_t *rng)
{
	switch (test_rand(rng) % 4) {
	case 0:
		break;
	case 1:
		for (int i = (int)test_rand_range(rng, 1, 3); i > 0; i--)
			gort_gosched();
		break;
	case 2: {
		volatile int sink = 0;
		for (int i = (int)test_rand_range(rng, 0, 20000); i > 0; i--)
			sink += i;
		break;
	}
	default:
		gort_sleep(test_rand_range(rng, 0, 150 * US));
	}
}

/* check_drained: past the last deadline, nothing arrived after the final
 * Stop (which returned stop_result; -1: not recorded). */
static void check_drained(gort_timer *t, int64_t last_deadline, const char *kind, int trial, int stop_result)
{
	test_sleep_until(last_deadline + 50 * US);
	int64_t v;
	CHECK(!gort_chan_tryrecv(gort_timer_c(t), &v, NULL),
	      "%s trial %d: a value (%lld ns after the last deadline) arrived after Stop returned %d", kind, trial,
	      (long long)(v - last_deadline), stop_result);
	CHECK(!gort_timer_stop(t), "%s trial %d: a second Stop returned true", kind, trial);
}

static void trial(uint64_t *rng, int n, gort_chan *done)
{
	int kind = (int)(test_rand(rng) % KINDS);
	/* A quarter of the timers are due at once, so that the timer often wins. */
	int64_t d = test_rand(rng) % 4 == 0 ? 0 : test_rand_range(rng, 0, 100 * US);
	int64_t d2 = test_rand(rng) % 4 == 0 ? 0 : test_rand_range(rng, 0, 100 * US);
	int64_t t0 = gort_nanotime();
	gort_timer *t = kind < 4 ? gort_timer_new(d) : NULL; /* kinds 4 and 5 make their own */
	int64_t v;
	struct receiver r = {.t = t, .quit = NULL, .done = done, .n = 0};

	switch (kind) {
	case 0: { /* self */
		delay(rng);
		bool got = gort_chan_tryrecv(gort_timer_c(t), &v, NULL);
		if (got)
			CHECK_AFTER(v, t0, d, "self trial %d: the value", n);
		bool stopped = gort_timer_stop(t);
		CHECK(stopped == !got, "self trial %d: received %d, then Stop returned %d", n, got, stopped);
		atomic_fetch_add(&tally[kind][got], 1);
		check_drained(t, t0 + d, "self", n, stopped);
		break;
	}
	case 1: { /* stop */
		r.quit = gort_chan_make(0, 0);
		gort_go(receiver, &r);
		delay(rng);
		bool stopped = gort_timer_stop(t);
		gort_chan_close(r.quit);
		gort_chan_recv(done, NULL);
		CHECK(!r.late, "stop trial %d: Stop returned %d, yet a value (+%lld ns) was in the channel after it "
		      "(receiver got %d before)", n, stopped, (long long)(r.late_v - t0), r.n);
		CHECK(r.n <= 1, "stop trial %d: %d values from a one-shot timer", n, r.n);
		CHECK(stopped == (r.n == 0), "stop trial %d: Stop returned %d, the receiver got %d values", n, stopped,
		      r.n);
		if (r.n == 1)
			CHECK_AFTER(r.v[0], t0, d, "stop trial %d: the value", n);
		atomic_fetch_add(&tally[kind][!stopped], 1);
		check_drained(t, t0 + d, "stop", n, stopped);
		gort_chan_free(r.quit);
		break;
	}
	case 2: { /* reset_self */
		delay(rng);
		bool got = gort_chan_tryrecv(gort_timer_c(t), &v, NULL);
		int64_t tr = gort_nanotime();
		bool active = gort_timer_reset(t, d2);
		CHECK(active == !got, "reset_self trial %d: received %d, then Reset returned %d", n, got, active);
		v = test_recv_time(gort_timer_c(t), "the value after Reset");
		CHECK_AFTER(v, tr, d2, "reset_self trial %d: the value after Reset (received first: %d)", n, got);
		CHECK(!gort_timer_stop(t), "reset_self trial %d: Stop after the value was received returned true", n);
		atomic_fetch_add(&tally[kind][got], 1);
		check_drained(t, tr + d2, "reset_self", n, 0);
		break;
	}
	case 4: { /* afterfunc */
		gort_chan *ran = gort_chan_make(sizeof(int64_t), 2);
		gort_timer *af = gort_afterfunc(d, af_fire, ran);
		delay(rng);
		bool stopped = gort_timer_stop(af);
		if (!stopped) /* f has been started: it must run (10 s: a lost f is the likely failure) */
			test_recv_time_within(ran, 10, "the run of an AfterFunc whose Stop returned false");
		test_sleep_until(t0 + d + 200 * US);
		for (int i = 0; i < 10; i++)
			gort_gosched();
		CHECK(!gort_chan_tryrecv(ran, &v, NULL), "afterfunc trial %d: Stop returned %d, and f ran %s", n,
		      stopped, stopped ? "anyway" : "twice");
		CHECK(!gort_timer_stop(af), "afterfunc trial %d: a second Stop returned true", n);
		atomic_fetch_add(&tally[kind][!stopped], 1);
		gort_timer_free(af);
		gort_chan_free(ran);
		break;
	}
	case 5: { /* ticker */
		/* Periods of 50 µs and up: a ticker faster than a scheduling round
		 * is time_starve's subject, not this test's. */
		int64_t p = 50 * US + d;
		gort_timer *tk = gort_ticker_new(p);
		r.t = tk;
		r.quit = gort_chan_make(0, 0);
		gort_go(receiver, &r);
		delay(rng);
		gort_timer_stop(tk);
		gort_chan_close(r.quit);
		gort_chan_recv(done, NULL);
		CHECK(!r.late, "ticker trial %d: a tick (+%lld ns) was in the channel after Stop returned (%d before)", n,
		      (long long)(r.late_v - t0), r.n);
		for (int i = 0; i < r.n && i < 4; i++) {
			CHECK(i == 0 || r.v[i] > r.v[i - 1], "ticker trial %d (period %lld ns): tick %d (+%lld ns) is not "
			      "after tick %d (+%lld ns): ticks delivered out of order", n, (long long)p, i + 1,
			      (long long)(r.v[i] - t0), i, (long long)(r.v[i - 1] - t0));
			CHECK_AFTER(r.v[i], t0, (i + 1) * p, "ticker trial %d (period %lld ns): tick %d", n, (long long)p,
			            i + 1);
		}
		atomic_fetch_add(&tally[kind][r.n > 0], 1);
		check_drained(tk, gort_nanotime(), "ticker", n, -1);
		gort_timer_free(tk);
		gort_chan_free(r.quit);
		break;
	}
	default: { /* reset */
		r.quit = gort_chan_make(0, 0);
		gort_go(receiver, &r);
		delay(rng);
		int64_t tr = gort_nanotime();
		bool r1 = gort_timer_reset(t, d2);
		delay(rng);
		bool r2 = gort_timer_stop(t);
		gort_chan_close(r.quit);
		gort_chan_recv(done, NULL);
		CHECK(!r.late, "reset trial %d (d %lld, d2 %lld ns): Reset returned %d, Stop %d, yet a value (+%lld ns "
		      "after the Reset) was in the channel after them (the receiver got %d before)", n, (long long)d,
		      (long long)d2, r1, r2, (long long)(r.late_v - tr), r.n);
		int want = !r1 + !r2;
		CHECK(r.n == want, "reset trial %d (d %lld, d2 %lld ns): Reset returned %d, Stop %d, the receiver got %d "
		      "values, want %d", n, (long long)d, (long long)d2, r1, r2, r.n, want);
		if (r1) {
			for (int i = 0; i < r.n; i++)
				CHECK_AFTER(r.v[i], tr, d2, "reset trial %d: value %d after a Reset that returned true", n, i);
		} else {
			CHECK_AFTER(r.v[0], t0, d, "reset trial %d: the first value", n);
			if (r.n == 2)
				CHECK_AFTER(r.v[1], tr, d2, "reset trial %d: the value after Reset", n);
		}
		atomic_fetch_add(&tally[kind][!r1], 1);
		check_drained(t, (t0 + d > tr + d2 ? t0 + d : tr + d2), "reset", n, r2);
		gort_chan_free(r.quit);
		break;
	}
	}
	gort_timer_free(t); /* NULL is fine */
}

static gort_waitgroup wg;

static void worker(void *arg)
{
	uint64_t rng = (uint64_t)(intptr_t)arg * 7919;
	gort_chan *done = gort_chan_make(sizeof(bool), 0);
	for (int n = 0; n < TRIALS; n++)
		trial(&rng, n, done);
	gort_chan_free(done);
	gort_waitgroup_done(&wg);
}

static int test_main(int argc, char **argv)
{
	gort_waitgroup_add(&wg, WORKERS);
	for (int i = 0; i < WORKERS; i++)
		gort_go(worker, (void *)(intptr_t)(i + 1));
	gort_waitgroup_wait(&wg);
	long total = 0;
	for (int k = 0; k < KINDS; k++) {
		printf("%-10s stop/reset first %5ld, timer fired and was received first %5ld\n", kind_name[k],
		       atomic_load(&tally[k][0]), atomic_load(&tally[k][1]));
		total += atomic_load(&tally[k][0]) + atomic_load(&tally[k][1]);
	}
	CHECK(total == (long)WORKERS * TRIALS, "%ld trials counted of %d", total, WORKERS * TRIALS);
	return test_pass("time_race");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
