/*
 * preempt.c - sysmon preemption on one P.
 *
 * With GOMAXPROCS=1, a goroutine that spins calling gort_preempt_point()
 * (or doing channel operations that never block) must not starve the
 * others: sysmon asks it to yield after a 10 ms time slice, and it does at
 * its next preemption point.  Without preemption each spinner below would
 * loop forever and the test would hit its CTest timeout; with it, the
 * sleeper and the ticker run and release the spinners.  No timing is
 * asserted: only that everything finishes.
 */
#include "harness.h"

static atomic_bool slept, ticked;
static gort_waitgroup wg;

/* spins until a sleeping goroutine has woken: needs preemption on one P */
static void spin_points(void *arg)
{
	while (!atomic_load(&slept))
		gort_preempt_point();
	gort_waitgroup_done(&wg);
}

static void sleeper(void *arg)
{
	gort_sleep(GORT_MILLISECOND);
	atomic_store(&slept, true);
	gort_waitgroup_done(&wg);
}

/* spins doing non-blocking channel operations (runtime calls) */
static void spin_chan(void *arg)
{
	gort_chan *c = gort_chan_make(sizeof(int), 1);
	int v = 0;
	while (!atomic_load(&ticked)) {
		gort_chan_send(c, &v);
		gort_chan_recv(c, &v);
	}
	gort_chan_free(c);
	gort_waitgroup_done(&wg);
}

static void ticker(void *arg)
{
	gort_timer *t = gort_ticker_new(2 * GORT_MILLISECOND);
	int64_t when;
	for (int i = 0; i < 3; i++)
		gort_chan_recv(gort_timer_c(t), &when);
	gort_timer_free(t);
	atomic_store(&ticked, true);
	gort_waitgroup_done(&wg);
}

static int test_main(int argc, char **argv)
{
	CHECK(gort_gomaxprocs(0) == 1, "run with GOMAXPROCS=1");
	gort_waitgroup_add(&wg, 2);
	gort_go(spin_points, NULL);
	gort_go(sleeper, NULL);
	gort_waitgroup_wait(&wg);

	gort_waitgroup_add(&wg, 2);
	gort_go(spin_chan, NULL);
	gort_go(ticker, NULL);
	gort_waitgroup_wait(&wg);
	return test_pass("preempt");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
