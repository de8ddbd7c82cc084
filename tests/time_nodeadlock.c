/*
 * time_nodeadlock - the deadlock detector stays silent while a timer is
 * pending: every goroutine may be blocked, yet one will be woken.  Each case
 * leaves every goroutine parked until a timer fires; the test passes by
 * finishing (exit 0) instead of dying with "all goroutines are asleep".
 *
 *   main_sleeps      main sleeps with no other goroutine
 *   recv_sleeper     main receives from a channel that goroutine 2 sends to
 *                    after gort_sleep(50 ms)
 *   timer_chan       main receives from a timer's channel (30 ms)
 *   select_timer     main selects on a channel nobody uses and a timer's
 *   afterfunc_wg     main waits on a WaitGroup an AfterFunc (30 ms) Dones
 *   ticker_chain     goroutine 2 takes 3 ticks, then sends to main
 *   all_sleep        main and 10 goroutines all sleep at once (10..30 ms)
 */
#define _GNU_SOURCE
#include "time_util.h"

#define MS GORT_MILLISECOND

static void sleep_then_send(void *arg)
{
	gort_sleep(50 * MS);
	int64_t v = 7;
	gort_chan_send(arg, &v);
}

static void wg_done(void *arg)
{
	gort_waitgroup_done(arg);
}

static void ticks_then_send(void *arg)
{
	gort_timer *tk = gort_ticker_new(5 * MS);
	for (int i = 0; i < 3; i++)
		gort_chan_recv(gort_timer_c(tk), NULL);
	gort_timer_free(tk);
	int64_t v = 3;
	gort_chan_send(arg, &v);
}

static gort_waitgroup all_wg;

static void all_sleeper(void *arg)
{
	gort_sleep((int64_t)(intptr_t)arg * MS);
	gort_waitgroup_done(&all_wg);
}

static int test_main(int argc, char **argv)
{
	/* main_sleeps */
	int64_t t0 = gort_nanotime();
	gort_sleep(20 * MS);
	CHECK_AFTER(gort_nanotime(), t0, 20 * MS, "main's sleep");

	/* recv_sleeper: plain gort_chan_recv, no watchdog timer to keep things alive */
	gort_chan *c = gort_chan_make(sizeof(int64_t), 0);
	gort_go(sleep_then_send, c);
	int64_t v = 0;
	CHECK(gort_chan_recv(c, &v) && v == 7, "wrong value from the sleeper");

	/* timer_chan */
	t0 = gort_nanotime();
	gort_timer *t = gort_timer_new(30 * MS);
	CHECK(gort_chan_recv(gort_timer_c(t), &v), "the timer's channel was closed");
	CHECK_AFTER(v, t0, 30 * MS, "the timer's value");
	gort_timer_free(t);

	/* select_timer */
	gort_chan *never = gort_chan_make(sizeof(int64_t), 0);
	t = gort_timer_new(10 * MS);
	int i = GORT_SELECT(GORT_CASE_RECV(never, &v, NULL), GORT_CASE_RECV(gort_timer_c(t), &v, NULL));
	CHECK(i == 1, "select chose case %d", i);
	gort_timer_free(t);

	/* afterfunc_wg */
	gort_waitgroup wg = GORT_WAITGROUP_INIT;
	gort_waitgroup_add(&wg, 1);
	t = gort_afterfunc(30 * MS, wg_done, &wg);
	gort_waitgroup_wait(&wg);
	gort_timer_free(t);

	/* ticker_chain */
	gort_go(ticks_then_send, c);
	CHECK(gort_chan_recv(c, &v) && v == 3, "wrong value from the ticker goroutine");

	/* all_sleep */
	gort_waitgroup_add(&all_wg, 10);
	for (int k = 0; k < 10; k++)
		gort_go(all_sleeper, (void *)(intptr_t)(10 + 2 * k));
	gort_sleep(15 * MS);
	gort_waitgroup_wait(&all_wg);

	gort_chan_free(c);
	gort_chan_free(never);
	return test_pass("time_nodeadlock");
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
