/*
 * die_life - stale handles of channels and timers, used after 10,000 other
 * objects of their kind were made and freed (issue 17, item 1): a fatal
 * error naming the kind, exit status 2, never a fault - and never an
 * operation on whatever object took the slot since.
 *
 * "fatal error: gort: use of a freed channel":
 *   chan_send, chan_recv, chan_trysend, chan_poll, chan_close, chan_len,
 *   chan_select, chan_free      that operation on a channel freed before
 *                               10,000 others were made and freed
 *   chan_reused                 a send on a freed channel whose slot now
 *                               holds a live channel (which must not get
 *                               the value)
 *   gcchan_send, gcchan_free    a collectable channel (gort_chan_make_gc)
 *                               freed all the same, then used
 * "fatal error: gort: use of a freed timer":
 *   timer_stop, timer_reset, timer_c, timer_free, timer_stop_wait
 *                               on a timer freed before 10,000 others
 *   afterfunc_self_free         an AfterFunc that freed itself, stopped
 *                               by the program after 10,000 others
 *   gctimer_stop                a collectable timer freed, then stopped
 * "fatal error: gort: not a channel (a corrupted or uninitialized
 * gort_chan pointer)":
 *   chan_corrupt                a handle with its generation bits changed
 */
#define _GNU_SOURCE
#include <string.h>

#include "../harness.h"

enum { OTHERS = 10000 };

static gort_chan *stale_chan(void)
{
	gort_chan *c = gort_chan_make(sizeof(int), 1);
	gort_chan_free(c);
	for (int i = 0; i < OTHERS; i++)
		gort_chan_free(gort_chan_make(sizeof(int), i % 3));
	return c;
}

static gort_timer *stale_timer(void)
{
	gort_timer *t = gort_timer_new(GORT_SECOND);
	gort_timer_free(t);
	for (int i = 0; i < OTHERS; i++)
		gort_timer_free(i % 2 ? gort_timer_new(GORT_SECOND) : gort_ticker_new(GORT_SECOND));
	return t;
}

static void free_self(void *arg)
{
	gort_timer_free(*(gort_timer **)arg);
	gort_chan_close(*(gort_chan **)((gort_timer **)arg + 1));
}

static int test_main(int argc, char **argv)
{
	CHECK(argc == 2, "usage: die_life MODE");
	const char *mode = argv[1];
	int v = 1;

	if (strcmp(mode, "chan_send") == 0) {
		gort_chan_send(stale_chan(), &v);
	} else if (strcmp(mode, "chan_recv") == 0) {
		gort_chan_recv(stale_chan(), &v);
	} else if (strcmp(mode, "chan_trysend") == 0) {
		gort_chan_trysend(stale_chan(), &v);
	} else if (strcmp(mode, "chan_poll") == 0) {
		gort_chan_poll(stale_chan(), &v);
	} else if (strcmp(mode, "chan_close") == 0) {
		gort_chan_close(stale_chan());
	} else if (strcmp(mode, "chan_len") == 0) {
		gort_chan_len(stale_chan());
	} else if (strcmp(mode, "chan_select") == 0) {
		gort_chan *live = gort_chan_make(sizeof(int), 1);
		GORT_SELECT(GORT_CASE_RECV(live, &v, NULL), GORT_CASE_SEND(stale_chan(), &v));
	} else if (strcmp(mode, "chan_free") == 0) {
		gort_chan_free(stale_chan());
	} else if (strcmp(mode, "chan_reused") == 0) {
		gort_chan *c = stale_chan();
		gort_chan *live[64];
		for (int i = 0; i < 64; i++) /* one of them most likely in c's slot */
			live[i] = gort_chan_make(sizeof(int), 1);
		gort_chan_send(c, &v);
		for (int i = 0; i < 64; i++)
			CHECK(gort_chan_len(live[i]) == 0, "a stale handle's send reached a live channel");
	} else if (strcmp(mode, "gcchan_send") == 0) { /* a collectable channel, freed all the same */
		gort_chan *c = gort_chan_make_gc(sizeof(int), 1);
		gort_chan_free(c);
		gort_chan_send(c, &v);
	} else if (strcmp(mode, "gcchan_free") == 0) {
		gort_chan *c = gort_chan_make_gc(sizeof(int), 1);
		gort_chan_free(c);
		gort_chan_free(c);
	} else if (strcmp(mode, "gctimer_stop") == 0) {
		gort_timer *t = gort_timer_new_gc(GORT_SECOND);
		gort_timer_free(t);
		gort_timer_stop(t);
	} else if (strcmp(mode, "chan_corrupt") == 0) {
		gort_chan *c = gort_chan_make(sizeof(int), 1);
		gort_chan_send((gort_chan *)((uintptr_t)c ^ 1), &v);
	} else if (strcmp(mode, "timer_stop") == 0) {
		gort_timer_stop(stale_timer());
	} else if (strcmp(mode, "timer_reset") == 0) {
		gort_timer_reset(stale_timer(), GORT_SECOND);
	} else if (strcmp(mode, "timer_c") == 0) {
		gort_timer_c(stale_timer());
	} else if (strcmp(mode, "timer_free") == 0) {
		gort_timer_free(stale_timer());
	} else if (strcmp(mode, "timer_stop_wait") == 0) {
		gort_timer_stop_wait(stale_timer());
	} else if (strcmp(mode, "afterfunc_self_free") == 0) {
		struct {
			gort_timer *t;
			gort_chan *done;
		} a = {.done = gort_chan_make(0, 0)};
		a.t = gort_afterfunc(GORT_SECOND, free_self, &a);
		gort_timer_reset(a.t, GORT_MILLISECOND); /* a.t is set before it can fire */
		gort_chan_recv(a.done, NULL);
		for (int i = 0; i < 100; i++)
			gort_gosched(); /* the function's goroutine returns */
		for (int i = 0; i < OTHERS; i++)
			gort_timer_free(gort_afterfunc(GORT_SECOND, free_self, NULL));
		gort_timer_stop(a.t);
	} else {
		CHECK(0, "unknown mode %s", mode);
	}
	fprintf(stderr, "die_life %s: still alive\n", mode);
	return 1;
}

int main(int argc, char **argv)
{
	gort_main(test_main, argc, argv);
}
