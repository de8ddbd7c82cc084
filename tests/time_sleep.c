/*
 * time_sleep - gort_sleep as Go's time.Sleep:
 *
 *   clock        gort_nanotime never goes backwards, on one goroutine and
 *                across goroutines that hand each other its readings
 *   lower_bound  gort_sleep(d) for d from 1 ns to 3 ms: at least d passes
 *                on gort_nanotime before it returns
 *   nonpositive  gort_sleep(0), gort_sleep(-1) and gort_sleep(INT64_MIN)
 *                return at once; at GOMAXPROCS=1, without even yielding (Go's
 *                Sleep returns before touching the scheduler when d <= 0):
 *                a runnable goroutine does not get to run meanwhile (unless
 *                main ran 10 ms, long enough to be asked to yield)
 *   many         10,000 goroutines each sleep their own duration (1..20 ms,
 *                drawn from splitmix64): all finish, each after at least its
 *                duration
 *   repeated     100 goroutines each sleep 20 times (0..500 µs)
 */
#define _GNU_SOURCE
#include "time_util.h"

/* ---- clock --------------------------------------------------------------------- */

static gort_chan *clock_ch, *clock_back; /* static: the pong may still be in recv at exit */

static void clock_pong(void *arg)
{
	int64_t t;
	while (gort_chan_recv(clock_ch, &t)) {
		int64_t now = gort_nanotime();
		CHECK(now >= t, "gort_nanotime went back by %lld ns across goroutines", (long long)(t - now));
		gort_chan_send(arg, &now);
	}
}

static void test_clock(void)
{
	int64_t prev = gort_nanotime();
	for (int i = 0; i < 100000; i++) {
		int64_t now = gort_nanotime();
		CHECK(now >= prev, "gort_nanotime went back by %lld ns", (long long)(prev - now));
		prev = now;
	}
	clock_ch = gort_chan_make(sizeof(int64_t), 0);
	clock_back = gort_chan_make(sizeof(int64_t), 0);
	gort_go(clock_pong, clock_back);
	for (int i = 0; i < 1000; i++) {
		int64_t t = gort_nanotime(), u;
		gort_chan_send(clock_ch, &t);
		gort_chan_recv(clock_back, &u);
		int64_t now = gort_nanotime();
		CHECK(u >= t && now >= u, "gort_nanotime went back across goroutines: %lld, %lld, %lld",
		      (long long)t, (long long)u, (long long)now);
	}
	gort_chan_close(clock_ch);
}

/* ---- lower_bound ----------------------------------------------------------------- */

static void test_lower_bound(void)
{
	static const int64_t ds[] = {1, 999, GORT_MICROSECOND, 50 * GORT_MICROSECOND, GORT_MILLISECOND,
	                             3 * GORT_MILLISECOND};
	for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
		for (int rep = 0; rep < 3; rep++) {
			int64_t t0 = gort_nanotime();
			gort_sleep(ds[i]);
			CHECK_AFTER(gort_nanotime(), t0, ds[i], "gort_sleep(%lld)", (long long)ds[i]);
		}
	}
}

/* ---- nonpositive ------------------------------------------------------------------- */

static atomic_int other_ran;

static void set_flag(void *arg)
{
	atomic_store(&other_ran, 1);
}

/*
 * One try: spawn a goroutine that sets the flag, then sleep(d <= 0) 4,000
 * times.  At GOMAXPROCS=1 the goroutine runs only if main gives up the
 * processor: those sleeps must not, but sysmon's preemption request may
 * (main's time slice began before this try, by however long the machine
 * kept the thread from running).  Returns whether the flag stayed clear.
 */
static bool nonpositive_try(void)
{
	atomic_store(&other_ran, 0);
	gort_go(set_flag, NULL);
	for (int i = 0; i < 1000; i++) {
		gort_sleep(0);
		gort_sleep(-1);
		gort_sleep(-GORT_SECOND);
		gort_sleep(INT64_MIN);
	}
	bool stayed = atomic_load(&other_ran) == 0;
	while (atomic_load(&other_ran) == 0)
		gort_gosched();
	return stayed;
}

/* A sleep that yielded would set the flag in every try; a preemption on a
 * loaded machine, in a few at most. */
static void test_nonpositive(void)
{
	if (gort_gomaxprocs(0) != 1) {
		nonpositive_try(); /* returns at once, and the goroutine ends */
		return;
	}
	int tries = 0;
	while (tries < 20 && !nonpositive_try())
		tries++;
	CHECK(tries < 20, "gort_sleep(d <= 0) yielded the processor in %d tries of 20", tries);
}

/* ---- many ------------------------------------------------------------------------ */

#define MANY 10000

static int64_t many_slept[MANY], many_want[MANY];
static gort_waitgroup many_wg;

static void many_sleeper(void *arg)
{
	int i = (int)(intptr_t)arg;
	int64_t t0 = gort_nanotime();
	gort_sleep(many_want[i]);
	many_slept[i] = gort_nanotime() - t0;
	gort_waitgroup_done(&many_wg);
}

static void test_many(void)
{
	uint64_t rng = 1;
	for (int i = 0; i < MANY; i++) {
		many_want[i] = test_rand_range(&rng, GORT_MILLISECOND, 20 * GORT_MILLISECOND);
		many_slept[i] = -1;
	}
	gort_waitgroup_add(&many_wg, MANY);
	for (int i = 0; i < MANY; i++)
		gort_go(many_sleeper, (void *)(intptr_t)i);
	gort_waitgroup_wait(&many_wg);
	for (int i = 0; i < MANY; i++)
		CHECK(many_slept[i] >= many_want[i], "goroutine %d slept %lld ns of %lld", i,
		      (long long)many_slept[i], (long long)many_want[i]);
}

/* ---- repeated ------------------------------------------------------------------------ */

#define REP_G 100
#define REP_K 20

static gort_waitgroup rep_wg;
static atomic_long rep_bad;

static void rep_sleeper(void *arg)
{
	uint64_t rng = (uint64_t)(intptr_t)arg;
	for (int k = 0; k < REP_K; k++) {
		int64_t d = test_rand_range(&rng, 0, 500 * GORT_MICROSECOND);
		int64_t t0 = gort_nanotime();
		gort_sleep(d);
		if (gort_nanotime() - t0 < d)
			atomic_fetch_add(&rep_bad, 1);
	}
	gort_waitgroup_done(&rep_wg);
}

static void test_repeated(void)
{
	gort_waitgroup_add(&rep_wg, REP_G);
	for (int i = 0; i < REP_G; i++)
		gort_go(rep_sleeper, (void *)(intptr_t)(i + 1));
	gort_waitgroup_wait(&rep_wg);
	CHECK(atomic_load(&rep_bad) == 0, "%ld sleeps returned early", atomic_load(&rep_bad));
}

static int test_main(int argc, char **argv)
{
	test_clock();
	test_lower_bound();
	test_nonpositive();
	test_many();
	test_repeated();
	return test_pass("time_sleep");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
