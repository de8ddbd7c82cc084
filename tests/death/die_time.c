/*
 * die_time - time programs that must die, exit status 2.
 *
 * Deadlocks: timers keep the detector quiet only while they are pending
 * (time_nodeadlock checks that side); once none is, a program where every
 * goroutine is blocked must still die with "fatal error: all goroutines are
 * asleep - deadlock!":
 *   after_sleep      main sleeps 10 ms, then receives from a channel nobody
 *                    sends on
 *   after_sleepers   20 goroutines sleep 1..20 ms and exit; main is already
 *                    blocked receiving: once the last one is gone, deadlock
 *                    (and only goroutine 1 is listed)
 *   sleeper_blocked  goroutine 2 sleeps 10 ms, then blocks receiving; main
 *                    waits on a WaitGroup: both are listed
 *   stopped_timer    main stops a 20 ms timer, then receives from its channel
 *   fired_timer      main receives a 1 ms timer's value, then receives again
 *   stopped_ticker   main takes one tick of a 5 ms ticker, stops it, then
 *                    receives again
 *   afterfunc_blocked an AfterFunc's goroutine blocks receiving from a nil
 *                    channel; main waits on a WaitGroup: both are listed
 *
 * Panics ("panic: <message>", blank line, the panicking goroutine):
 *   ticker_zero, ticker_negative            gort_ticker_new(0), (-1 s)
 *   ticker_reset_zero, ticker_reset_negative gort_ticker_reset(t, 0), (-1)
 *
 * Use of a freed timer ("fatal error: gort: use of a freed timer"):
 *   free_twice       gort_timer_free twice (it used to spin for ever)
 *   stop_freed, reset_freed, c_freed   Stop, Reset, C of a freed Timer
 *   ticker_reset_freed                 Ticker.Reset of a freed Ticker
 *   afterfunc_stop_freed               Stop of a freed AfterFunc timer
 */
#define _GNU_SOURCE
#include <string.h>

#include "../harness.h"

#define MS GORT_MILLISECOND

static gort_waitgroup forever = GORT_WAITGROUP_INIT;

/* block_main parks main for good on a WaitGroup nobody Dones. */
static GORT_NORETURN void block_main(void)
{
	gort_waitgroup_add(&forever, 1);
	gort_waitgroup_wait(&forever);
	fprintf(stderr, "die_time: main woke up\n");
	exit(1);
}

static void sleep_and_exit(void *arg)
{
	gort_sleep((int64_t)(intptr_t)arg * MS);
}

static void sleep_and_block(void *arg)
{
	gort_sleep(10 * MS);
	gort_chan_recv(arg, NULL);
}

static void block_nil(void *arg)
{
	gort_chan_recv(NULL, NULL);
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_time MODE");
	const char *mode = argv[1];
	int64_t v;
	gort_timer *t;

	if (strcmp(mode, "after_sleep") == 0) {
		gort_sleep(10 * MS);
		gort_chan_recv(gort_chan_make(sizeof(int64_t), 0), &v);
	} else if (strcmp(mode, "after_sleepers") == 0) {
		for (int i = 1; i <= 20; i++)
			gort_go(sleep_and_exit, (void *)(intptr_t)i);
		gort_chan_recv(gort_chan_make(sizeof(int64_t), 0), &v);
	} else if (strcmp(mode, "sleeper_blocked") == 0) {
		CHECK(gort_go(sleep_and_block, gort_chan_make(sizeof(int64_t), 0)) == 2, "the sleeper is goroutine 2");
		block_main();
	} else if (strcmp(mode, "stopped_timer") == 0) {
		t = gort_timer_new(20 * MS);
		CHECK(gort_timer_stop(t), "Stop of a pending timer returned false");
		gort_chan_recv(gort_timer_c(t), &v);
	} else if (strcmp(mode, "fired_timer") == 0) {
		t = gort_timer_new(MS);
		gort_chan_recv(gort_timer_c(t), &v);
		gort_chan_recv(gort_timer_c(t), &v);
	} else if (strcmp(mode, "stopped_ticker") == 0) {
		t = gort_ticker_new(5 * MS);
		gort_chan_recv(gort_timer_c(t), &v);
		gort_timer_stop(t);
		gort_chan_recv(gort_timer_c(t), &v);
	} else if (strcmp(mode, "afterfunc_blocked") == 0) {
		gort_afterfunc(MS, block_nil, NULL);
		block_main();
	} else if (strcmp(mode, "ticker_zero") == 0) {
		gort_ticker_new(0);
	} else if (strcmp(mode, "ticker_negative") == 0) {
		gort_ticker_new(-GORT_SECOND);
	} else if (strcmp(mode, "ticker_reset_zero") == 0) {
		gort_ticker_reset(gort_ticker_new(GORT_SECOND), 0);
	} else if (strcmp(mode, "ticker_reset_negative") == 0) {
		gort_ticker_reset(gort_ticker_new(GORT_SECOND), -1);
	} else if (strcmp(mode, "free_twice") == 0) {
		gort_timer *t = gort_timer_new(GORT_SECOND);
		gort_timer_free(t);
		gort_timer_free(t);
	} else if (strcmp(mode, "stop_freed") == 0) {
		gort_timer *t = gort_timer_new(GORT_SECOND);
		gort_timer_free(t);
		gort_timer_stop(t);
	} else if (strcmp(mode, "reset_freed") == 0) {
		gort_timer *t = gort_timer_new(GORT_SECOND);
		gort_timer_free(t);
		gort_timer_reset(t, MS);
	} else if (strcmp(mode, "c_freed") == 0) {
		gort_timer *t = gort_timer_new(GORT_SECOND);
		gort_timer_free(t);
		gort_timer_c(t);
	} else if (strcmp(mode, "ticker_reset_freed") == 0) {
		gort_timer *t = gort_ticker_new(GORT_SECOND);
		gort_timer_free(t);
		gort_ticker_reset(t, MS);
	} else if (strcmp(mode, "afterfunc_stop_freed") == 0) {
		gort_timer *t = gort_afterfunc(GORT_SECOND, block_nil, NULL);
		gort_timer_free(t);
		gort_timer_stop(t);
	} else {
		CHECK(0, "unknown mode %s", mode);
	}
	for (int i = 0; i < 100; i++)
		gort_gosched();
	fprintf(stderr, "die_time %s: still alive\n", mode);
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
